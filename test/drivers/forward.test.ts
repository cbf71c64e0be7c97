import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds, ROUTED } from '../helpers/world-compare.js';

test('a new device in a new namespace gets net.ipv4.conf.DEV and net.ipv6.conf.DEV with Linux defaults; ip_forward sets every device', async () => {
  // sysctl -a on Linux also complains on stderr about the keys it cannot read (stable_secret).
  const { mine } = await compareWorlds([
    'ip netns add b',
    'ip -n b link add veth0 type veth peer name veth1',
    "ip netns exec b sysctl -a -r '^net\\.ipv[46]\\.conf\\.(veth0|lo|all|default)\\.'",
    'ip netns exec b sysctl -w net.ipv4.ip_forward=1',
    'ip netns exec b sysctl net.ipv4.conf.veth0.forwarding net.ipv4.conf.lo.forwarding net.ipv4.conf.default.forwarding net.ipv4.conf.all.accept_redirects',
    'ip netns exec b sysctl -w net.ipv4.conf.default.rp_filter=2',
    'ip netns exec b sysctl net.ipv4.conf.veth1.rp_filter net.ipv4.conf.all.rp_filter',
    'ip netns exec b sysctl -w net.ipv6.conf.all.forwarding=1',
    'ip netns exec b sysctl net.ipv6.conf.veth0.forwarding net.ipv6.conf.default.forwarding net.ipv6.conf.lo.mtu',
    'ip netns exec b cat /proc/net/snmp',
  ]);
  assert.match(mine[2]?.stdout ?? '', /^net\.ipv4\.conf\.veth0\.rp_filter = 0$/m);
  assert.match(mine[2]?.stdout ?? '', /^net\.ipv6\.conf\.lo\.accept_dad = -1$/m);
  assert.equal(mine[6]?.stdout, 'net.ipv4.conf.veth1.rp_filter = 2\nnet.ipv4.conf.all.rp_filter = 0\n');
  assert.match(mine[9]?.stdout ?? '', /^Ip: 1 64 /m);
});

test('routed: forwarding off drops (InAddrErrors), on forwards with TTL-1; TTL 1 is Time Exceeded; no route and unreachable routes answer; counters as Linux counts', async () => {
  const n = ROUTED.length;
  const { mine } = await compareWorlds([
    ...ROUTED,
    'ip netns exec c ping -c1 -W1 10.0.2.2',
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
    'ip netns exec c ping -c2 -i0.2 -W1 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -t1 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -t2 10.0.2.2',
    'ip netns exec c ping -c1 -W1 10.0.3.1',
    'ip -n r route add unreachable 10.0.9.0/24',
    'ip netns exec c ping -c1 -W1 10.0.9.1',
    'ip netns exec r cat /proc/net/snmp',
    'ip netns exec c cat /proc/net/snmp',
    'ip netns exec s cat /proc/net/snmp',
  ]);
  assert.match(mine[n]?.stdout ?? '', /1 packets transmitted, 0 received, 100% packet loss/);
  assert.match(mine[n + 2]?.stdout ?? '', /^64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63 /m);
  assert.match(mine[n + 3]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Time to live exceeded$/m);
  assert.match(mine[n + 4]?.stdout ?? '', /^64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63 /m);
  assert.match(mine[n + 5]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Destination Net Unreachable$/m);
  assert.match(mine[n + 7]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Destination Host Unreachable$/m);
  // Router: 1 refused while not forwarding, 6 forwarded, 1 TTL expiry (InHdrErrors), 3 ICMP errors sent.
  assert.match(mine[n + 8]?.stdout ?? '', /^Ip: 1 64 10 1 1 6 0 0 0 3 /m);
});

test("ICMP rate limits: ip_error's and icmp_send's per-host limits share the sender's inet_peer; prohibit is Packet filtered", async () => {
  const n = ROUTED.length;
  const { mine } = await compareWorlds([
    ...ROUTED,
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
    'ip -n r route add prohibit 10.0.8.0/24',
    'ip netns exec c ping -c1 -W1 10.0.8.1',
    // One message per 10 s per host: the peer ip_error just drew on (capped at 5 s) has too little left.
    'ip netns exec r sysctl -w net.ipv4.icmp_ratelimit=10000',
    'ip -n r route add unreachable 10.0.9.0/24',
    'ip netns exec c ping -c1 -W1 10.0.9.1',
    'ip netns exec r sysctl -w net.ipv4.icmp_ratemask=0',
    'ip netns exec c ping -c1 -W1 10.0.9.1',
    'ip netns exec r cat /proc/net/snmp',
  ]);
  assert.match(mine[n + 2]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Packet filtered$/m);
  assert.match(mine[n + 5]?.stdout ?? '', /1 packets transmitted, 0 received, 100% packet loss/);
  assert.match(mine[n + 7]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Destination Host Unreachable$/m);
  // OutMsgs 2, OutRateLimitHost 1.
  assert.match(mine[n + 8]?.stdout ?? '', /^Icmp: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 1 2 /m);
});

test('path MTU: Frag Needed from the router, the route cache learns mtu and expires, ping -M do is a local error, -M dont is fragmented on the way', async () => {
  const n = ROUTED.length;
  const { mine } = await compareWorlds([
    ...ROUTED,
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
    'ip -n r link set r1 mtu 1400',
    'ip -n s link set s0 mtu 1400',
    'ip -n c route get 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -M do -s 1400 10.0.2.2',
    'ip -n c route get 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -M do -s 1400 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -M do -s 1372 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -M dont -s 1400 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -s 1400 10.0.2.2',
    'ip netns exec r cat /proc/net/snmp',
    'ip netns exec c cat /proc/net/snmp',
  ]);
  assert.equal(mine[n + 3]?.stdout, '10.0.2.2 via 10.0.1.1 dev c0 src 10.0.1.2 uid 0 \n    cache \n');
  assert.match(mine[n + 4]?.stdout ?? '', /^From 10\.0\.1\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1400\)$/m);
  assert.match(mine[n + 5]?.stdout ?? '', /^ {4}cache expires (599|600)sec mtu 1400 $/m);
  assert.equal(mine[n + 6]?.stderr, 'ping: local error: message too long, mtu=1400\n');
  assert.match(mine[n + 7]?.stdout ?? '', /^1380 bytes from 10\.0\.2\.2/m);
  assert.match(mine[n + 8]?.stdout ?? '', /^1408 bytes from 10\.0\.2\.2/m);
  // "want" (the default) sends without DF above the learned PMTU: the client fragments it.
  assert.match(mine[n + 9]?.stdout ?? '', /^1408 bytes from 10\.0\.2\.2/m);
});

test('rp_filter strict drops a spoofed source, loose only one with no route back; accept_local lets our own address in; IPReversePathFilter counts', async () => {
  const n = ROUTED.length;
  const { mine } = await compareWorlds([
    ...ROUTED,
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
    'ip -n c addr add 10.0.2.99/32 dev c0',
    'ip -n c addr add 192.0.2.1/32 dev c0',
    'ip -n c addr add 10.0.2.1/32 dev c0',
    'ip -n r route add 192.0.2.0/24 via 10.0.2.2',
    // Where r's answers to the spoofed 10.0.2.99 go (s drops them): no ARP needed on either side.
    'ip -n r neigh add 10.0.2.99 lladdr 02:00:00:00:02:02 dev r1 nud permanent',
    'ip netns exec c ping -c1 -W1 -I 10.0.2.99 10.0.1.1',
    'ip netns exec r sysctl -w net.ipv4.conf.r0.rp_filter=1',
    'ip netns exec c ping -c1 -W1 -I 10.0.2.99 10.0.1.1',
    'ip netns exec c ping -c1 -W1 -I 10.0.2.99 10.0.2.2',
    'ip netns exec r sysctl -w net.ipv4.conf.all.rp_filter=2',
    'ip netns exec r sysctl -w net.ipv4.conf.r0.rp_filter=0',
    'ip netns exec c ping -c1 -W1 -I 192.0.2.1 10.0.1.1',
    'ip -n r route del 192.0.2.0/24',
    'ip netns exec c ping -c1 -W1 -I 192.0.2.1 10.0.1.1',
    'ip netns exec c ping -c1 -W1 -I 10.0.2.1 10.0.1.1',
    'ip netns exec r sysctl -w net.ipv4.conf.r0.accept_local=1',
    'ip netns exec c ping -c1 -W1 -I 10.0.2.1 10.0.1.1',
    'ip netns exec r cat /proc/net/snmp',
    'ip netns exec r cat /proc/net/netstat',
  ]);
  const stats = mine[n + 19]?.stdout ?? '';
  const [names, values] = stats.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const col = (names ?? '').split(' ').indexOf('IPReversePathFilter');
  assert.equal((values ?? '').split(' ')[col], '3');
  // Strict: the echo with 10.0.2.99 (routed back through r1) is not answered; before, it was.
  assert.match(mine[n + 6]?.stdout ?? '', /1 packets transmitted, 0 received/);
  assert.match(mine[n + 18]?.stdout ?? '', /^Ip: 1 64 /m);
});

test('an MTU mismatch on the receiving veth drops and counts: rx_dropped there, tx_dropped on the sender, ENOBUFS to ping (which tries once more)', async () => {
  // No IPv6 on the new devices, so Linux's ND and MLD packets stay out of the link counters.
  const noIpv6 = ['c', 'r', 's'].map((ns) => `ip netns exec ${ns} sysctl -qw net.ipv6.conf.default.disable_ipv6=1`);
  const n = ROUTED.length + 3;
  const { mine } = await compareWorlds([
    ...ROUTED.slice(0, 3),
    ...noIpv6,
    ...ROUTED.slice(3),
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
    'ip -n r link set r0 mtu 1400',
    'ip netns exec c ping -c1 -W1 -s 1400 10.0.2.2',
    'ip netns exec c ping -c1 -W1 -s 1372 10.0.2.2',
    'ip -n r -s link show r0',
    'ip -n c -s link show c0',
    'ip netns exec r cat /proc/net/dev',
    'ip netns exec c cat /proc/net/snmp',
  ]);
  assert.equal(mine[n + 2]?.stderr, 'ping: sendmsg: No buffer space available\n');
  assert.match(
    mine[n + 4]?.stdout ?? '',
    /RX: {2}bytes packets errors dropped {2}missed {3}mcast {11}\n {10}1414 {7}1 {6}0 {7}2 /,
  );
});

test('promote_secondaries: off, deleting a primary takes its secondaries and their routes; on, the first secondary becomes primary and the routes follow it', async () => {
  const { mine } = await compareWorlds([
    'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02',
    'ip link set veth0 up',
    'ip link set veth1 up',
    'ip addr add 10.0.0.1/24 dev veth0',
    'ip addr add 10.0.0.2/24 dev veth0',
    'ip addr add 10.0.0.3/24 dev veth0',
    'ip addr add 10.9.0.1/24 dev veth0',
    'ip addr del 10.0.0.1/24 dev veth0',
    'ip -4 addr show dev veth0',
    'ip route show table local',
    'ip addr add 10.0.0.1/24 dev veth0',
    'ip addr add 10.0.0.2/24 dev veth0',
    'sysctl -w net.ipv4.conf.veth0.promote_secondaries=1',
    'ip addr add 10.0.0.4/24 dev veth0',
    'ip addr del 10.0.0.1/24 dev veth0',
    'ip -4 addr show dev veth0',
    'ip -4 route show table all type unicast',
    'ip route show table local',
    'ip addr del 10.0.0.2/24 dev veth0',
    'ip -4 addr show dev veth0',
    'ip route show table local',
    'ip route',
  ]);
  assert.match(mine[15]?.stdout ?? '', /inet 10\.0\.0\.2\/24 scope global veth0\n/);
  assert.match(mine[15]?.stdout ?? '', /inet 10\.0\.0\.4\/24 scope global secondary veth0\n/);
  assert.match(mine[21]?.stdout ?? '', /^10\.0\.0\.0\/24 dev veth0 proto kernel scope link src 10\.0\.0\.4 $/m);
});

test('ping -I dev and -I addr across a veth; -b warns as iputils does (its probe connect() is EACCES without SO_BROADCAST)', async () => {
  const { mine } = await compareWorlds([
    'ip netns add a',
    'ip netns add b',
    'ip -n a link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
    'ip -n a addr add 192.0.2.1/24 dev veth0',
    'ip -n b addr add 192.0.2.2/24 dev veth1',
    'ip -n a link set veth0 up',
    'ip -n b link set veth1 up',
    'ip -n a neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent',
    'ip -n b neigh add 192.0.2.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent',
    'ip netns exec a ping -c1 -W1 -I veth0 192.0.2.2',
    'ip netns exec a ping -c1 -W1 -I 192.0.2.1 192.0.2.2',
    'ip netns exec a ping -c1 -W1 -I nosuch 192.0.2.2',
    'ip netns exec a ping -c1 -W1 -I 192.0.2.9 192.0.2.2',
    'ip netns exec a ping -c1 -W1 192.0.2.255',
    'ip netns exec a ping -c1 -W1 -b 192.0.2.255',
  ]);
  assert.equal(mine[14]?.stderr, 'WARNING: pinging broadcast address\n');
  assert.match(mine[9]?.stdout ?? '', /^PING 192\.0\.2\.2 \(192\.0\.2\.2\) from 192\.0\.2\.1 veth0: 56\(84\)/);
  assert.match(mine[9]?.stdout ?? '', /^64 bytes from 192\.0\.2\.2: icmp_seq=1 ttl=64 /m);
  assert.match(mine[13]?.stderr ?? '', /Do you want to ping broadcast\? Then -b/);
});
