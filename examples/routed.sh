# client c — router r — server s (fixed MACs; ARP finds the neighbours).
ip netns add c
ip netns add r
ip netns add s
ip -n c link add c0 address 02:00:00:00:01:02 type veth peer name r0 address 02:00:00:00:01:01 netns r
ip -n s link add s0 address 02:00:00:00:02:02 type veth peer name r1 address 02:00:00:00:02:01 netns r
ip -n c addr add 10.0.1.2/24 dev c0
ip -n r addr add 10.0.1.1/24 dev r0
ip -n r addr add 10.0.2.1/24 dev r1
ip -n s addr add 10.0.2.2/24 dev s0
ip -n c link set c0 up
ip -n r link set r0 up
ip -n r link set r1 up
ip -n s link set s0 up
ip -n c route add default via 10.0.1.1
ip -n s route add default via 10.0.2.1
ip netns exec c ping -c1 -W1 10.0.2.2
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec c ping -c2 10.0.2.2
ip netns exec c ping -c1 -t1 10.0.2.2
ip netns exec c ping -c1 10.0.3.1
ip -n r link set r1 mtu 1400
ip netns exec c ping -c1 -M do -s 1400 10.0.2.2
ip -n c route get 10.0.2.2
ip netns exec c ping -c1 -M do -s 1400 10.0.2.2
