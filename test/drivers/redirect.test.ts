import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds, SEGMENT, SEGMENT6 } from '../helpers/world-compare.js';

test('ICMP redirect: a router forwarding out the link a packet came in on names the better hop; the host takes it once that hop is a known neighbour (ip route get: cache <redirected>)', async () => {
  const n = SEGMENT.length;
  const { mine } = await compareWorlds(
    [
      ...SEGMENT,
      'ip netns exec c ping -c1 -W1 10.0.2.2',
      'ip -n c route get 10.0.2.2',
      'ip -n c neigh show 10.0.1.3',
      // r's next redirect to c may go only after ip_rt_redirect_load << 1 (40 ms): wait past it.
      'sleep 0.1',
      'ip netns exec c ping -c1 -W1 10.0.2.2',
      'ip -n c route get 10.0.2.2',
      'ip -n c -j route get 10.0.2.2',
      'ip netns exec c ping -c1 -W1 10.0.2.2',
      'ip netns exec r nstat -asz IcmpOutRedirects IcmpMsgOutType5',
      'ip netns exec c nstat -asz IcmpInRedirects IcmpMsgInType5',
      'ip netns exec r sysctl net.ipv4.conf.br0.send_redirects net.ipv4.conf.all.accept_redirects net.ipv4.conf.br0.secure_redirects net.ipv4.conf.br0.shared_media',
    ],
    // The third ping is lonet's alone: on a loaded machine real Linux was seen to draw one
    // more redirect there (c's route already showed cache <redirected>), a race Linux does
    // not rule out; its counters below are not compared for the same reason.
    new Set([n + 7, n + 8, n + 9]),
  );
  assert.match(mine[n]?.stdout ?? '', /^From 10\.0\.1\.1: icmp_seq=1 Redirect Host\(New nexthop: 10\.0\.1\.3\)$/m);
  assert.match(
    mine[n + 5]?.stdout ?? '',
    /^10\.0\.2\.2 via 10\.0\.1\.3 dev c0 src 10\.0\.1\.2 uid 0 \n {4}cache <redirected> expires \d+sec \n$/,
  );
  assert.doesNotMatch(mine[n + 7]?.stdout ?? '', /Redirect/);
  assert.match(mine[n + 8]?.stdout ?? '', /IcmpOutRedirects +2 /);
});

test('ICMP redirects: send_redirects 0 on the router, accept_redirects 0 on the host', async () => {
  const n = SEGMENT.length;
  const { mine } = await compareWorlds([
    ...SEGMENT,
    'ip netns exec c sysctl -qw net.ipv4.conf.c0.accept_redirects=0 net.ipv4.conf.all.accept_redirects=0',
    'ip netns exec c ping -c2 -W1 10.0.2.2',
    'ip -n c route get 10.0.2.2',
    'ip netns exec r sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.br0.send_redirects=0',
    'ip netns exec c ping -c1 -W1 10.0.2.2',
    'ip netns exec r nstat -asz IcmpOutRedirects',
  ]);
  assert.match(mine[n + 1]?.stdout ?? '', /Redirect Host/);
  assert.match(mine[n + 2]?.stdout ?? '', /^10\.0\.2\.2 via 10\.0\.1\.1 dev c0/);
  assert.doesNotMatch(mine[n + 4]?.stdout ?? '', /Redirect/);
});

test('IPv6 redirect: the router sends one from its link-local naming the next hop (with its MAC), the host routes through it; accept_redirects 0 ignores it', async () => {
  // r knows q's MAC (Linux learns it from q's router solicitations), so the redirect carries it.
  const n = SEGMENT6.length + 1;
  const { mine } = await compareWorlds([
    ...SEGMENT6,
    'ip -n r neigh add fe80::ff:fe00:103 lladdr 02:00:00:00:01:03 dev br0 nud permanent',
    'ip netns exec c ping -c1 -W1 2001:db8:2::2',
    'ip -n c -6 route get 2001:db8:2::2',
    'ip -n c -6 neigh show fe80::ff:fe00:101',
    'ip netns exec c ping -c1 -W1 2001:db8:2::2',
    'ip netns exec r nstat -asz Icmp6OutRedirects Icmp6OutType137',
    'ip netns exec c nstat -asz Icmp6InRedirects',
    'ip netns exec c sysctl -qw net.ipv6.conf.c0.accept_redirects=0',
    'ip netns exec c ping -c1 -W1 2001:db8:2::3',
    'ip -n c -6 route get 2001:db8:2::3',
  ]);
  assert.match(mine[n + 1]?.stdout ?? '', /^2001:db8:2::2 from :: via fe80::ff:fe00:103 dev c0 /);
  // A forwarding router's advertisements carry the router flag.
  assert.match(mine[n + 2]?.stdout ?? '', /^fe80::ff:fe00:101 dev c0 lladdr 02:00:00:00:01:01 router REACHABLE/);
  assert.match(mine[n + 8]?.stdout ?? '', /^2001:db8:2::3 from :: via fe80::ff:fe00:101 dev c0 /);
});
