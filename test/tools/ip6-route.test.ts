import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string) => ({ code: 2, stdout: '', stderr });

test('ip -6 route shows the live IPv6 FIB: ::1 in local, prefix routes in main (Linux 6.18)', async () => {
  const ns = new Namespace();
  assert.deepEqual(
    await ns.exec('ip -6 route show table all'),
    ok('local ::1 dev lo table local proto kernel metric 0 pref medium\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route get ::1'),
    ok('local ::1 from :: dev lo table local proto kernel src ::1 metric 0 pref medium\n'),
  );
  assert.equal((await ns.exec('ip addr add 2001:db8::1/64 dev lo')).code, 0);
  assert.deepEqual(await ns.exec('ip -6 route'), ok('2001:db8::/64 dev lo proto kernel metric 256 pref medium\n'));
  assert.deepEqual(
    await ns.exec('ip route show table all'),
    ok(
      'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
        'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
        'broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 \n' +
        '2001:db8::/64 dev lo proto kernel metric 256 pref medium\n' +
        'local ::1 dev lo table local proto kernel metric 0 pref medium\n' +
        'local 2001:db8::1 dev lo table local proto kernel metric 0 pref medium\n',
    ),
  );
  assert.deepEqual(
    await ns.exec('ip -6 -j route get ::1'),
    ok(
      '[{"type":"local","dst":"::1","from":"::","dev":"lo","table":"local","protocol":"kernel","prefsrc":"::1","metric":0,"flags":[],"pref":"medium"}]\n',
    ),
  );
});

test('ip -6 route add/del check what ip6_route_add checks, with its messages', async () => {
  const ns = new Namespace();
  await ns.exec('ip addr add 2001:db8::1/64 dev lo');
  assert.deepEqual(await ns.exec('ip -6 route add 2001:db8:1::/48 dev lo'), ok(''));
  assert.deepEqual(await ns.exec('ip -6 route add 2001:db8:1::1/48 dev lo'), fail('RTNETLINK answers: File exists\n'));
  assert.deepEqual(await ns.exec('ip -6 route add 2001:db8:2::/129 dev lo'), {
    code: 1,
    stdout: '',
    stderr: 'Error: inet6 prefix is expected rather than "2001:db8:2::/129".\n',
  });
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:3::/64 via 2001:db8::2'),
    fail('RTNETLINK answers: No route to host\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:a::/64 via fe80::1'),
    fail('Error: Egress device not specified.\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:a::/64 via fe80::1 dev lo'),
    fail('Error: Egress device can not be loopback device for this route.\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:20::/64 via 2001:db8::1 dev lo'),
    fail('Error: Gateway can not be a local address.\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:20::/64 via ff02::1'),
    fail('Error: Invalid gateway address.\n'),
  );
  assert.deepEqual(await ns.exec('ip -6 route add 2001:db8:b::/64'), fail('RTNETLINK answers: No such device\n'));
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:f::/64 dev lo src 2001:db8::99'),
    fail('Error: Invalid source address.\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route change 2001:db8:21::/64 dev lo metric 7'),
    fail('Error: Can not replace route - no match found.\n'),
  );
  for (const c of [
    'ip -6 route add unreachable 2001:db8:5::/64',
    'ip -6 route add prohibit 2001:db8:7::/64',
    'ip -6 route add default dev lo',
    'ip -6 route add 2001:db8:c::/64 dev lo table 100',
    'ip -6 route add 2001:db8:e::/64 dev lo src 2001:db8::1',
  ])
    assert.deepEqual(await ns.exec(c), ok(''), c);
  assert.deepEqual(
    await ns.exec('ip -6 route show table all'),
    ok(
      '2001:db8:c::/64 dev lo table 100 metric 1024 pref medium\n' +
        '2001:db8::/64 dev lo proto kernel metric 256 pref medium\n' +
        '2001:db8:1::/48 dev lo metric 1024 pref medium\n' +
        'unreachable 2001:db8:5::/64 dev lo metric 1024 pref medium\n' +
        'prohibit 2001:db8:7::/64 dev lo metric 1024 pref medium\n' +
        '2001:db8:e::/64 dev lo src 2001:db8::1 metric 1024 pref medium\n' +
        'default dev lo metric 1024 pref medium\n' +
        'local ::1 dev lo table local proto kernel metric 0 pref medium\n' +
        'local 2001:db8::1 dev lo table local proto kernel metric 0 pref medium\n',
    ),
  );
  assert.deepEqual(await ns.exec('ip -6 route get 2001:db8:5::1'), fail('RTNETLINK answers: No route to host\n'));
  assert.deepEqual(await ns.exec('ip -6 route get 2001:db8:7::1'), fail('RTNETLINK answers: Permission denied\n'));
  assert.deepEqual(
    await ns.exec('ip -6 route get 2001:db8:e::1'),
    ok('2001:db8:e::1 from :: dev lo src 2001:db8::1 metric 1024 pref medium\n'),
  );
  assert.deepEqual(await ns.exec('ip -6 route del 2001:db8:1::/48'), ok(''));
  assert.deepEqual(await ns.exec('ip -6 route del 2001:db8:1::/48'), fail('RTNETLINK answers: No such process\n'));
  assert.deepEqual(
    await ns.exec('ip -6 route del 2001:db8:4::/64 table 77'),
    fail('Error: FIB table does not exist.\n'),
  );
  assert.deepEqual(
    await ns.exec('ip -6 route show table 77'),
    fail('Error: ipv6: FIB table does not exist.\nDump terminated\n'),
  );
  assert.deepEqual(await ns.exec('ip -6 route flush table main'), ok(''));
  assert.deepEqual(await ns.exec('ip -6 route'), ok(''));
});

test('IPv6 route changes bump net.ipv6.genid; lo down refuses new routes', async () => {
  const ns = new Namespace();
  const before = ns.ipv6.genid;
  await ns.exec('ip -6 route add unreachable 2001:db8:5::/64');
  assert.ok(ns.ipv6.genid > before);
  await ns.exec('ip link set lo down');
  assert.deepEqual(
    await ns.exec('ip -6 route add 2001:db8:30::/64 dev lo'),
    fail('Error: Nexthop device is not up.\n'),
  );
  assert.deepEqual(await ns.exec('ip -6 route get ::1'), fail('RTNETLINK answers: Network is unreachable\n'));
});

test('ip -6 neigh lists, adds and deletes nd_tbl entries; ip neigh lists IPv4 first', async () => {
  const ns = new Namespace();
  await ns.exec('ping -c1 -q 127.0.0.1');
  // What ip6_finish_output2 does when a packet to ::1 leaves through lo.
  const lo = ns.loopbackDev;
  assert.ok(lo !== null);
  ns.ipv6.ndTbl.lookupOrCreate(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), lo);
  assert.deepEqual(await ns.exec('ip -6 neigh show nud all'), ok('::1 dev lo lladdr 00:00:00:00:00:00 NOARP \n'));
  assert.deepEqual(
    await ns.exec('ip neigh show nud all'),
    ok('0.0.0.0 dev lo lladdr 00:00:00:00:00:00 NOARP \n::1 dev lo lladdr 00:00:00:00:00:00 NOARP \n'),
  );
  assert.deepEqual(await ns.exec('ip -6 neigh add 2001:db8::7 lladdr 00:11:22:33:44:55 dev lo'), ok(''));
  assert.deepEqual(await ns.exec('ip -6 neigh'), ok('2001:db8::7 dev lo lladdr 00:11:22:33:44:55 PERMANENT \n'));
  assert.deepEqual(await ns.exec('ip -6 neigh del ::1 dev lo'), ok(''));
  assert.deepEqual(await ns.exec('ip -6 neigh del ::1 dev lo'), fail('RTNETLINK answers: No such file or directory\n'));
});
