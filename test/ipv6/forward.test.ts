import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lonetLines } from '../helpers/linux-world.js';
import { compareWorlds, ROUTED6 } from '../helpers/world-compare.js';

const SNMP6 =
  'ip netns exec r nstat -asz Ip6InHdrErrors Ip6InTooBigErrors Ip6InAddrErrors Ip6OutForwDatagrams Ip6FragFails';

test('IPv6 routed: forwarding off drops (InAddrErrors); on forwards with hop limit - 1 through the gateway; Time Exceeded, No Route, Address Unreachable, Administratively Prohibited', async () => {
  const n = lonetLines(ROUTED6).length;
  const { mine } = await compareWorlds([
    ...ROUTED6,
    'ip netns exec c ping -c1 -W1 2001:db8:2::2',
    'ip netns exec r sysctl -w net.ipv6.conf.all.forwarding=1',
    'ip netns exec r sysctl net.ipv6.conf.r0.forwarding net.ipv6.conf.default.forwarding',
    'ip netns exec c ping -c2 -W1 2001:db8:2::2',
    'ip netns exec c ping -c1 -W1 -t1 2001:db8:2::2',
    'ip netns exec c ping -c1 -W1 -t2 2001:db8:2::2',
    'ip netns exec c ping -c1 -W1 2001:db8:3::1',
    'ip netns exec c ping -c1 -W5 2001:db8:2::9',
    'ip -n r -6 route add unreachable 2001:db8:9::/64',
    'ip netns exec c ping -c1 -W1 2001:db8:9::1',
    'ip -n r -6 route add prohibit 2001:db8:8::/64',
    'ip netns exec c ping -c1 -W1 2001:db8:8::1',
    'ip -n c -6 neigh show 2001:db8:1::1',
    'ip -n r -6 neigh show 2001:db8:2::9',
    SNMP6,
  ]);
  assert.match(mine[n]?.stdout ?? '', /1 packets transmitted, 0 received, 100% packet loss/);
  assert.match(mine[n + 3]?.stdout ?? '', /^64 bytes from 2001:db8:2::2: icmp_seq=1 ttl=63 /m);
  assert.match(mine[n + 4]?.stdout ?? '', /^From 2001:db8:1::1 icmp_seq=1 Time exceeded: Hop limit$/m);
  assert.match(mine[n + 5]?.stdout ?? '', /^64 bytes from 2001:db8:2::2: icmp_seq=1 ttl=63 /m);
  assert.match(mine[n + 6]?.stdout ?? '', /^From 2001:db8:1::1 icmp_seq=1 Destination unreachable: No route$/m);
  assert.match(
    mine[n + 7]?.stdout ?? '',
    /^From 2001:db8:1::1 icmp_seq=1 Destination unreachable: Address unreachable$/m,
  );
  assert.match(mine[n + 11]?.stdout ?? '', /Destination unreachable: Administratively prohibited$/m);
  // The client resolved its gateway, not the far destination.
  assert.match(mine[n + 12]?.stdout ?? '', /^2001:db8:1::1 dev c0 lladdr 02:00:00:00:01:01 REACHABLE/);
});

test('IPv6 Packet Too Big: the router answers with its out MTU, the sender learns it (ip -6 route get shows expires and mtu) and fragments from then on', async () => {
  const n = lonetLines(ROUTED6).length;
  const { mine } = await compareWorlds([
    ...ROUTED6,
    'ip netns exec r sysctl -qw net.ipv6.conf.all.forwarding=1',
    'ip -n r link set r1 mtu 1400',
    'ip -n s link set s0 mtu 1400',
    'ip netns exec c ping -c1 -W1 -s 1400 2001:db8:2::2',
    'ip -n c -6 route get 2001:db8:2::2',
    'ip -n c -j -6 route get 2001:db8:2::2',
    'ip -n c -6 route get 2001:db8:1::1',
    'ip netns exec c ping -c1 -W1 -s 1400 2001:db8:2::2',
    SNMP6,
    'ip netns exec c nstat -asz Ip6FragOKs Ip6FragCreates',
  ]);
  assert.match(mine[n + 3]?.stdout ?? '', /^From 2001:db8:1::1 icmp_seq=1 Packet too big: mtu=1400$/m);
  assert.match(mine[n + 4]?.stdout ?? '', / expires \d+sec mtu 1400 pref medium/);
  assert.match(mine[n + 7]?.stdout ?? '', /^1408 bytes from 2001:db8:2::2: icmp_seq=1 ttl=63 /m);
});
