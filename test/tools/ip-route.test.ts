import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { inLinuxNetns } from '../helpers/linux.js';

const LOCAL_TABLE =
  'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 \n' +
  'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 \n' +
  'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 \n';
const RULES = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';

test("a booted namespace's local table and rules are spec §3's, trailing spaces and all", async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('ip route show table local'), { code: 0, stdout: LOCAL_TABLE, stderr: '' });
  assert.deepEqual(await ns.exec('ip rule'), { code: 0, stdout: RULES, stderr: '' });
  assert.equal((await ns.exec('ip route')).stdout, '', 'main holds nothing');
});

test('ip route get: every 127/8 address and 0.0.0.0 are local via lo; 8.8.8.8 is unreachable', async () => {
  const ns = new Namespace();
  assert.equal(
    (await ns.exec('ip route get 127.9.9.9')).stdout,
    'local 127.9.9.9 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n',
  );
  assert.equal(
    (await ns.exec('ip route get 0.0.0.0')).stdout,
    'local 0.0.0.0 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n',
  );
  assert.equal(
    (await ns.exec('ip route get 127.0.0.1 from 127.0.0.1 mark 0x20')).stdout,
    'local 127.0.0.1 from 127.0.0.1 dev lo mark 0x20 uid 0 \n    cache <local> \n',
  );
  assert.deepEqual(await ns.exec('ip route get 8.8.8.8'), {
    code: 2,
    stdout: '',
    stderr: 'RTNETLINK answers: Network is unreachable\n',
  });
  assert.equal(
    (await ns.exec('ip -j route get 127.0.0.1')).stdout,
    '[{"type":"local","dst":"127.0.0.1","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]\n',
  );
});

test('lo down drops the broadcast route and keeps the local ones; up brings it back', async () => {
  const ns = new Namespace();
  await ns.exec('ip link set lo down');
  assert.equal(
    (await ns.exec('ip route show table local')).stdout,
    `${LOCAL_TABLE.split('\n').slice(0, 2).join('\n')}\n`,
  );
  assert.equal((await ns.exec('ip route add 10.0.0.0/8 dev lo')).stderr, 'Error: Device for nexthop is not up.\n');
  await ns.exec('ip link set lo up');
  assert.equal((await ns.exec('ip route show table local')).stdout, LOCAL_TABLE);
});

test('a bare namespace has no local table: the kernel message and exit 2; main is quietly empty', async () => {
  const ns = new Namespace({ bare: true });
  assert.deepEqual(await ns.exec('ip route show table local'), {
    code: 2,
    stdout: '',
    stderr: 'Error: ipv4: FIB table does not exist.\nDump terminated\n',
  });
  assert.deepEqual(await ns.exec('ip route'), { code: 0, stdout: '', stderr: '' });
  assert.equal((await ns.exec('ip route get 127.0.0.1')).stderr, 'RTNETLINK answers: Network is unreachable\n');
});

test('routes are added, shown, refused and deleted as Linux does, and lookups follow them', async () => {
  const ns = new Namespace();
  const ok = async (c: string) => assert.equal((await ns.exec(c)).code, 0, c);
  await ok('ip route add 10.0.0.0/8 dev lo');
  await ok('ip route add 10.0.0.0/8 dev lo metric 5');
  await ok('ip route replace 10.0.0.0/8 dev lo src 127.0.0.1');
  await ok('ip route add blackhole 1.2.3.0/24');
  await ok('ip route add 11.0.0.0/8 via 127.0.0.2');
  await ok('ip route add unreachable 15.0.0.0/8');
  await ok('ip route add prohibit 16.0.0.0/8 metric 7');
  await ok('ip route add throw 17.0.0.0/8');
  await ok('ip route add 21.0.0.0/8 dev lo proto 99');
  assert.equal(
    (await ns.exec('ip route')).stdout,
    'blackhole 1.2.3.0/24 \n' +
      '10.0.0.0/8 dev lo scope link src 127.0.0.1 \n' +
      '10.0.0.0/8 dev lo scope link metric 5 \n' +
      '11.0.0.0/8 via 127.0.0.2 dev lo \n' +
      'unreachable 15.0.0.0/8 \n' +
      'prohibit 16.0.0.0/8 metric 7 \n' +
      'throw 17.0.0.0/8 \n' +
      '21.0.0.0/8 dev lo proto openr scope link \n',
  );
  const err = async (c: string, stderr: string, code = 2) =>
    assert.deepEqual(await ns.exec(c), { code, stdout: '', stderr }, c);
  await err('ip route add 10.0.0.0/8 dev lo src 127.0.0.1', 'RTNETLINK answers: File exists\n');
  await err('ip route add 12.0.0.0/8 via 1.2.3.4', 'Error: Nexthop has invalid gateway.\n');
  await err('ip route add 13.0.0.0/8 dev lo src 1.2.3.4', 'Error: Invalid prefsrc address.\n');
  await err('ip route add 14.0.0.0/8 dev nosuch', 'Cannot find device "nosuch"\n', 1);
  await err('ip route add 10.1.0.0/8 dev lo', 'Error: Invalid prefix for given prefix length.\n');
  await err(
    'ip route add blackhole 33.0.0.0/8 dev lo',
    'Error: Gateway, device and multipath can not be specified for this route type.\n',
  );
  await err('ip route add local 34.0.0.1 dev lo scope global', 'Error: Invalid scope.\n');
  await err('ip route add 31.0.0.0/8', 'RTNETLINK answers: No such device\n');
  await err('ip route change 30.0.0.0/8 dev lo', 'RTNETLINK answers: No such file or directory\n');
  await err('ip route del 99.0.0.0/8', 'RTNETLINK answers: No such process\n');
  await err('ip route get 15.1.1.1', 'RTNETLINK answers: No route to host\n');
  await err('ip route get 16.1.1.1', 'RTNETLINK answers: Permission denied\n');
  await err('ip route get 17.1.1.1', 'RTNETLINK answers: Network is unreachable\n');
  assert.equal(
    (await ns.exec('ip route get 10.1.1.1')).stdout,
    '10.1.1.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n',
  );
  await ok('ip route del 10.0.0.0/8');
  await ok('ip route del 10.0.0.0/8 metric 5');
  await ok('ip route flush table main');
  assert.equal((await ns.exec('ip route')).stdout, '');
  assert.equal((await ns.exec('ip route get 10.1.1.1')).code, 2, 'the cached answer went with the route');
});

test('ip rule: default preferences count down, rules print as iproute2 prints them, errors', async () => {
  const ns = new Namespace();
  assert.equal((await ns.exec('ip rule add from 1.2.3.4')).code, 0);
  assert.equal(
    (await ns.exec('ip rule add not to 10.0.0.0/8 fwmark 0x10/0xff iif lo tos 0x10 pref 100 table 200')).code,
    0,
  );
  assert.equal((await ns.exec('ip rule add blackhole pref 50')).code, 0);
  assert.equal((await ns.exec('ip rule add goto 32766')).code, 0);
  assert.equal(
    (await ns.exec('ip rule')).stdout,
    '0:\tfrom all lookup local\n' +
      '49:\tfrom all goto 32766\n' +
      '50:\tfrom all blackhole\n' +
      '100:\tnot from all to 10.0.0.0/8 tos 0x10 fwmark 0x10/0xff iif lo lookup 200\n' +
      '32765:\tfrom 1.2.3.4 lookup main\n' +
      RULES.slice(RULES.indexOf('32766')),
  );
  assert.equal((await ns.exec('ip rule add goto 5 pref 20')).stderr, 'Error: Backward goto not supported.\n');
  assert.equal((await ns.exec('ip rule del pref 7777')).stderr, 'RTNETLINK answers: No such file or directory\n');
  assert.equal((await ns.exec('ip rule del')).code, 1);
  assert.equal(
    (await ns.exec('ip route get 127.0.0.1')).stdout,
    'local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0 \n    cache <local> \n',
  );
  await ns.exec('ip rule flush');
  assert.equal((await ns.exec('ip rule')).stdout, '0:\tfrom all lookup local\n');
  assert.equal((await ns.exec('ip route get 127.0.0.1')).code, 0, 'local is still consulted');
  assert.equal((await ns.exec('ip -6 rule')).stdout, '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
});

test("ip neigh: lo's folded NOARP entry shows with nud all once used, and flush leaves it", async () => {
  const ns = new Namespace();
  assert.equal((await ns.exec('ip neigh show nud all')).stdout, '');
  ns.ipv4.arpTbl.lookupOrCreate(Uint8Array.of(127, 0, 0, 1), ns.lo);
  assert.equal((await ns.exec('ip neigh')).stdout, '', 'NOARP is hidden by default');
  assert.equal((await ns.exec('ip neigh show nud all')).stdout, '0.0.0.0 dev lo lladdr 00:00:00:00:00:00 NOARP \n');
  assert.equal((await ns.exec('ip neigh flush dev lo')).code, 0);
  assert.equal(
    (await ns.exec('ip -j neigh show nud all')).stdout,
    '[{"dst":"0.0.0.0","dev":"lo","lladdr":"00:00:00:00:00:00","state":["NOARP"]}]\n',
  );
  assert.equal((await ns.exec('ip neigh flush')).stderr, 'Flush requires arguments.\n');
});

test('side by side with Linux: the same commands print the same bytes and exit codes', async (t) => {
  const setup = ['ip link set lo up'];
  const commands = [
    'ip route show table local',
    'ip route show table all',
    'ip -j route show table local',
    'ip rule',
    'ip route get 127.1.2.3',
    'ip route get 0.0.0.0',
    'ip route get 8.8.8.8',
    'ip route show table 100',
    'ip route add 10.0.0.0/8 dev lo',
    'ip route add 10.0.0.0/8 dev lo',
    'ip route add 30.0.0.0/8 dev lo',
    'ip route prepend 30.0.0.0/8 dev lo src 127.0.0.1',
    'ip route append 30.0.0.0/8 dev lo proto static',
    'ip route add blackhole 18.0.0.0/8 table 100 proto static',
    'ip route add default dev lo table 100',
    'ip route add local 19.0.0.1 dev lo',
    'ip route add 12.0.0.0/8 via 1.2.3.4',
    'ip route add 35.0.0.0/8 via 127.0.0.2 scope host',
    'ip route',
    'ip -d route',
    'ip route show table all',
    'ip route get 19.0.0.1',
    'ip route get 30.1.1.1',
    'ip route del 30.0.0.0/8',
    'ip route show dev lo',
    'ip route show root 10.0.0.0/8',
    'ip route show match 10.1.1.1',
    'ip rule add from 1.2.3.4',
    'ip rule add from 1.1.1.1 lookup main protocol static',
    'ip rule',
    'ip -j rule',
    'ip route get 127.0.0.1',
  ];
  const linux = inLinuxNetns(setup, commands);
  if (linux === undefined) return t.skip('no Linux network namespaces here');
  const ns = new Namespace();
  for (const [i, c] of commands.entries()) {
    assert.deepEqual(await ns.exec(c), linux[i], c);
  }
});

test('side by side with Linux: a bare namespace', async (t) => {
  const commands = [
    'ip route show table local',
    'ip route',
    'ip rule',
    'ip route add 10.0.0.0/8 dev lo',
    'ip route add blackhole 1.2.3.0/24',
    'ip route',
  ];
  const linux = inLinuxNetns([], commands);
  if (linux === undefined) return t.skip('no Linux network namespaces here');
  const ns = new Namespace({ bare: true });
  for (const [i, c] of commands.entries()) assert.deepEqual(await ns.exec(c), linux[i], c);
});
