# The same three hosts over IPv6: client c 2001:db8:1::2 — router r — server s 2001:db8:2::2.
ip netns add c
ip netns add r
ip netns add s
ip -n c link add c0 address 02:00:00:00:01:02 type veth peer name r0 address 02:00:00:00:01:01 netns r
ip -n s link add s0 address 02:00:00:00:02:02 type veth peer name r1 address 02:00:00:00:02:01 netns r
ip -n c addr add 2001:db8:1::2/64 dev c0 nodad
ip -n r addr add 2001:db8:1::1/64 dev r0 nodad
ip -n r addr add 2001:db8:2::1/64 dev r1 nodad
ip -n s addr add 2001:db8:2::2/64 dev s0 nodad
ip -n c link set c0 up
ip -n r link set r0 up
ip -n r link set r1 up
ip -n s link set s0 up
ip -n c -6 route add default via 2001:db8:1::1
ip -n s -6 route add default via 2001:db8:2::1
ip netns exec r sysctl -w net.ipv6.conf.all.forwarding=1
ip netns exec c ping -c2 2001:db8:2::2
ip netns exec c ping -c1 -t1 2001:db8:2::2
ip netns exec c ping -c1 2001:db8:3::1
ip netns exec c ping -c1 -W5 2001:db8:2::9
ip -n r link set r1 mtu 1400
ip netns exec c ping -c1 -s 1400 2001:db8:2::2
ip -n c -6 route get 2001:db8:2::2
ip netns exec c ping -c1 fe80::ff:fe00:101%c0
