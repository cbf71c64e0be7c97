import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds } from '../helpers/world-compare.js';

/**
 * Two hosts on a veth with fixed MACs, so their link-locals are fe80::ff:fe00:1 and
 * fe80::ff:fe00:2; no DAD, so they are usable at once on both sides.
 */
const PAIR = [
  'ip netns add a',
  'ip netns add b',
  'ip netns exec a sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'ip netns exec b sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'ip -n a link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip -n a link set lo up',
  'ip -n b link set lo up',
  'ip -n a link set veth0 up',
  'ip -n b link set veth1 up',
];

test('ping a link-local with %dev, %ifindex, without scope, with -I; replies name their device; a scope that is no device is an unknown name', async () => {
  const n = PAIR.length;
  const { mine } = await compareWorlds([
    ...PAIR,
    'ip netns exec a ping -c1 fe80::ff:fe00:2%veth0',
    'ip netns exec a ping -c1 fe80::ff:fe00:2%2',
    'ip netns exec a ping -c1 fe80::ff:fe00:2',
    'ip netns exec a ping -c1 -I veth0 fe80::ff:fe00:2',
    'ip netns exec a ping6 -c1 fe80::ff:fe00:1%veth0',
    'ip netns exec a ping -c1 fe80::ff:fe00:2%nosuch',
    'ip netns exec b ping -c1 -W1 fe80::ff:fe00:9%veth1',
    'ip -n a -6 route get fe80::ff:fe00:2 oif veth0',
    'ip -n a -6 neigh show dev veth0',
  ]);
  assert.match(mine[n]?.stdout ?? '', /^PING fe80::ff:fe00:2%veth0\(fe80::ff:fe00:2%veth0\) 56 data bytes$/m);
  assert.match(mine[n]?.stdout ?? '', /^64 bytes from fe80::ff:fe00:2%veth0: icmp_seq=1 ttl=64 /m);
  assert.match(mine[n + 1]?.stdout ?? '', /^PING fe80::ff:fe00:2%2\(fe80::ff:fe00:2%veth0\)/);
  assert.equal(mine[n + 3]?.stderr, 'ping: Warning: source address might be selected on device other than: veth0\n');
  assert.equal(mine[n + 5]?.stderr, 'ping: fe80::ff:fe00:2%nosuch: Name or service not known\n');
  assert.equal(mine[n + 5]?.code, 2);
});
