# Two namespaces joined by a veth pair; ARP finds the neighbours.
ip netns add a
ip netns add b
ip -n a link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b
ip -n a addr add 192.0.2.1/24 dev veth0
ip -n b addr add 192.0.2.2/24 dev veth1
ip -n a link set veth0 up
ip -n b link set veth1 up
ip -n a -br addr
ip netns exec a ping -c2 192.0.2.2
ip -n a neigh
ip -n b neigh
ip -n b -s link show veth1
