import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import { VirtualClock } from '../../src/kernel/clock.js';
import { inLinuxNetns } from '../helpers/linux.js';

const HEADER = '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n';
const LINK = '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
const FOREVER = '       valid_lft forever preferred_lft forever\n';
const LO4 = `    inet 127.0.0.1/8 scope host lo\n${FOREVER}`;
const LO6 = `    inet6 ::1/128 scope host \n${FOREVER}`;

/** Runs the same lines in lonet (a booted host unless `bare`) and in a fresh Linux namespace, and compares all. */
async function sameAsLinux(t: { skip(msg?: string): void }, setup: string[], commands: string[], bare = false) {
  const real = inLinuxNetns(bare ? setup : ['ip link set lo up', ...setup], commands);
  if (real === undefined) {
    t.skip('no Linux network namespaces here');
    return;
  }
  const ns = new Namespace(bare ? { bare: true } : {});
  for (const line of setup) await ns.exec(line);
  for (const [i, line] of commands.entries()) {
    assert.deepEqual(await ns.exec(line), real[i], line);
  }
}

test('ip addr show lo on a booted host is spec §4, byte for byte', async () => {
  const ns = new Namespace();
  const want = HEADER + LINK + LO4 + LO6;
  for (const line of ['ip addr show lo', 'ip a', 'ip address list', 'ip addr lst dev lo', 'ip a s lo']) {
    assert.deepEqual(await ns.exec(line), { code: 0, stdout: want, stderr: '' }, line);
  }
});

test('a bare namespace lists lo down with no addresses; -4 and -6 list nothing', async () => {
  const ns = new Namespace({ bare: true });
  const down = '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000\n';
  assert.equal((await ns.exec('ip addr')).stdout, down + LINK);
  assert.equal((await ns.exec('ip -4 addr')).stdout, '');
  assert.equal((await ns.exec('ip -6 addr')).stdout, '');
  assert.equal(
    (await ns.exec('ip -j addr')).stdout,
    '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"qdisc":"noop","operstate":"DOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[]}]\n',
  );
});

test('an alias in 127/8 is scope host, secondary, labelled; ifconfig lo:1 shows it', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('ip addr add 127.168.1.1/8 dev lo label lo:1'), { code: 0, stdout: '', stderr: '' });
  const r = await ns.exec('ip addr show lo');
  assert.equal(r.stdout, `${HEADER}${LINK}${LO4}    inet 127.168.1.1/8 scope host secondary lo:1\n${FOREVER}${LO6}`);
  assert.equal(
    (await ns.exec('ifconfig lo:1')).stdout,
    'lo:1: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n' +
      '        inet 127.168.1.1  netmask 255.0.0.0\n' +
      '        loop  txqueuelen 1000  (Local Loopback)\n\n',
  );
  assert.equal(
    (await ns.exec('ip -br addr')).stdout,
    'lo               UNKNOWN        127.0.0.1/8 127.168.1.1/8 ::1/128 \n',
  );
  assert.equal(
    (await ns.exec('ip -o -4 addr show label lo:*')).stdout,
    '1: lo    inet 127.168.1.1/8 scope host secondary lo:1\\       valid_lft forever preferred_lft forever\n',
  );
});

test('errors: the kernel extack messages of Linux 6.18 and iproute2 6.1 own checks, with their exit codes', async () => {
  const ns = new Namespace();
  const cases: [string, number, string][] = [
    ['ip addr add 127.0.0.1/8 dev lo', 2, 'Error: ipv4: Address already assigned.\n'],
    ['ip addr del 127.9.9.9/8 dev lo', 2, 'Error: ipv4: Address not found.\n'],
    ['ip addr add ::1/128 dev lo', 2, 'Error: ipv6: address already assigned.\n'],
    ['ip addr del ::9/128 dev lo', 2, 'Error: ipv6: address not found.\n'],
    ['ip addr add x dev lo', 1, 'Error: any valid prefix is expected rather than "x".\n'],
    ['ip addr add 1.2.3.4/33 dev lo', 1, 'Error: any valid prefix is expected rather than "1.2.3.4/33".\n'],
    ['ip -6 addr add 1.2.3.4/8 dev lo', 1, 'Error: inet6 prefix is expected rather than "1.2.3.4/8".\n'],
    ['ip addr add 10.0.0.1/24', 1, 'Not enough information: "dev" argument is required.\n'],
    ['ip addr add 10.0.0.1/24 dev nosuch', 1, 'Cannot find device "nosuch"\n'],
    ['ip addr add 10.0.0.1/24 dev lo scope bogus', 255, 'Error: argument "bogus" is wrong: invalid scope value.\n'],
    ['ip addr add 10.0.0.1/24 dev lo label abcdefghijklmnopq', 2, 'Error: Attribute failed policy validation.\n'],
    ['ip addr add dev lo', 2, 'RTNETLINK answers: Operation not supported\n'],
    ['ip addr add 1.2.3.4/8 lo', 255, 'Error: either "local" is duplicate, or "lo" is a garbage.\n'],
    ['ip addr frob', 255, 'Command "frob" is unknown, try "ip address help".\n'],
    ['ip addr flush', 1, 'Flush requires arguments.\n'],
    ['ip addr show nosuch', 1, 'Device "nosuch" does not exist.\n'],
  ];
  for (const [line, code, stderr] of cases) assert.deepEqual(await ns.exec(line), { code, stdout: '', stderr }, line);
  // A second address in 10.0.0.0/24 must share the primary's scope.
  await ns.exec('ip addr add 10.0.0.1/24 dev lo');
  assert.deepEqual(await ns.exec('ip addr add 10.0.0.2/24 dev lo scope link'), {
    code: 2,
    stdout: '',
    stderr: 'Error: ipv4: Invalid scope value.\n',
  });
});

test('IPv4 primaries are ordered by scope, secondaries appended; deleting a primary takes its secondaries', async () => {
  const ns = new Namespace();
  for (const line of [
    'ip addr add 10.0.0.1/24 dev lo',
    'ip addr add 10.0.0.2/24 dev lo broadcast +',
    'ip addr add 10.0.2.2/16 dev lo scope link',
    'ip addr add 10.0.3.2/24 dev lo scope site label lo:site',
  ]) {
    assert.equal((await ns.exec(line)).code, 0, line);
  }
  const brief = (await ns.exec('ip -br -4 addr')).stdout;
  assert.equal(brief, 'lo               UNKNOWN        127.0.0.1/8 10.0.2.2/16 10.0.3.2/24 10.0.0.1/24 10.0.0.2/24 \n');
  assert.match((await ns.exec('ip addr')).stdout, /inet 10\.0\.0\.2\/24 brd 10\.0\.0\.255 scope global secondary lo\n/);
  await ns.exec('ip addr del 10.0.0.1/24 dev lo');
  assert.equal(
    (await ns.exec('ip -br -4 addr')).stdout,
    'lo               UNKNOWN        127.0.0.1/8 10.0.2.2/16 10.0.3.2/24 \n',
  );
});

test('down keeps IPv4 and drops IPv6; MTU < 1280 drops IPv6, MTU < 68 drops IPv4; up brings lo back', async () => {
  const ns = new Namespace();
  await ns.exec('ip link set lo down');
  const down = '1: lo: <LOOPBACK> mtu 65536 qdisc noqueue state DOWN group default qlen 1000\n';
  assert.equal((await ns.exec('ip addr')).stdout, down + LINK + LO4);
  await ns.exec('ip link set lo up');
  assert.equal((await ns.exec('ip addr')).stdout, HEADER + LINK + LO4 + LO6);
  await ns.exec('ip link set lo mtu 1000');
  assert.equal((await ns.exec('ip -6 addr')).stdout, '');
  assert.match((await ns.exec('ip -4 addr')).stdout, /inet 127\.0\.0\.1\/8/);
  await ns.exec('ip link set lo mtu 60');
  assert.equal((await ns.exec('ip -j -4 addr')).stdout, '[]\n');
  assert.deepEqual(await ns.exec('ip addr add 1.1.1.1/8 dev lo'), {
    code: 2,
    stdout: '',
    stderr: 'RTNETLINK answers: No buffer space available\n',
  });
  await ns.exec('ip link set lo mtu 65536');
  await ns.exec('ip link set lo down');
  await ns.exec('ip link set lo up');
  assert.equal((await ns.exec('ip addr')).stdout, HEADER + LINK + LO4 + LO6);
});

test('IPv6 addresses on lo: never tentative, scope from the address, listed widest scope and newest first', async () => {
  const ns = new Namespace();
  for (const line of [
    'ip addr add ::2/128 dev lo',
    'ip addr add 2001:db8::1/64 dev lo',
    'ip addr add fe80::5/64 dev lo',
    'ip addr add 2001:db8::9/64 dev lo nodad',
  ]) {
    assert.equal((await ns.exec(line)).code, 0, line);
  }
  assert.equal(
    (await ns.exec('ip -6 addr')).stdout,
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN qlen 1000\n' +
      `    inet6 2001:db8::9/64 scope global nodad \n${FOREVER}` +
      `    inet6 2001:db8::1/64 scope global \n${FOREVER}` +
      `    inet6 ::2/128 scope global \n${FOREVER}` +
      `    inet6 fe80::5/64 scope link \n${FOREVER}` +
      LO6,
  );
  const proc = (await ns.exec('cat /proc/net/if_inet6')).stdout.split('\n').filter((l) => l !== '');
  assert.deepEqual(proc.sort(), [
    '00000000000000000000000000000001 01 80 10 80       lo',
    '00000000000000000000000000000002 01 80 80 80       lo',
    '20010db8000000000000000000000001 01 40 00 80       lo',
    '20010db8000000000000000000000009 01 40 00 82       lo',
    'fe800000000000000000000000000005 01 40 20 80       lo',
  ]);
});

test('lifetimes count down on the kernel clock: deprecated at preferred_lft, gone at valid_lft', async () => {
  const clock = new VirtualClock();
  const ns = new Namespace({ kernel: new Kernel({ clock }) });
  await ns.exec('ip addr add 10.0.5.2/24 dev lo valid_lft 100 preferred_lft 50');
  await ns.exec('ip addr add 2001:db8::a/64 dev lo valid_lft 100 preferred_lft 50');
  clock.advance(30e9);
  let out = (await ns.exec('ip addr')).stdout;
  assert.match(out, /inet 10\.0\.5\.2\/24 scope global dynamic lo\n {7}valid_lft 70sec preferred_lft 20sec\n/);
  assert.match(out, /inet6 2001:db8::a\/64 scope global dynamic \n {7}valid_lft 70sec preferred_lft 20sec\n/);
  clock.advance(30e9);
  out = (await ns.exec('ip addr')).stdout;
  assert.match(
    out,
    /inet 10\.0\.5\.2\/24 scope global deprecated dynamic lo\n {7}valid_lft 40sec preferred_lft 0sec\n/,
  );
  assert.match(out, /inet6 2001:db8::a\/64 scope global deprecated dynamic \n/);
  clock.advance(40e9);
  out = (await ns.exec('ip addr')).stdout;
  assert.doesNotMatch(out, /10\.0\.5\.2|2001:db8::a/);
});

test('flush deletes what the filter selects, round by round, quietly unless -s', async () => {
  const ns = new Namespace();
  await ns.exec('ip addr add 127.1.1.1/8 dev lo');
  assert.deepEqual(await ns.exec('ip -s addr flush dev lo'), {
    code: 0,
    stdout: '\n*** Round 1, deleting 3 addresses ***\n*** Flush is complete after 1 round ***\n',
    stderr: '',
  });
  assert.equal((await ns.exec('ip addr')).stdout, HEADER + LINK);
  assert.deepEqual(await ns.exec('ip -s addr flush dev lo'), { code: 0, stdout: 'Nothing to flush.\n', stderr: '' });
});

test('same as Linux: show in every output mode after adding aliases, peers, broadcasts and flags', async (t) => {
  await sameAsLinux(
    t,
    [
      'ip addr add 127.168.1.1/8 dev lo label lo:1',
      'ip addr add 127.5.5.5/8 dev lo label foo',
      'ip addr add 10.0.0.1/24 dev lo',
      'ip addr add 10.0.0.2/24 dev lo broadcast +',
      'ip addr add 10.0.1.2/24 dev lo broadcast -',
      'ip addr add 10.0.2.2/16 dev lo brd 10.0.255.254 scope link',
      'ip addr add 10.0.4.2/24 dev lo scope 17',
      'ip addr add 10.0.6.2 peer 10.0.6.1/32 dev lo',
      'ip addr add 10.0.7.2/24 dev lo noprefixroute metric 5',
      'ip addr add 2001:db8::1/64 dev lo',
      'ip addr add 2001:db8::e peer 2001:db8::f dev lo',
      'ip addr add ff02::5/128 dev lo autojoin',
    ],
    [
      'ip addr',
      'ip -j addr',
      'ip -j -p addr show scope link',
      'ip -o addr',
      'ip -br addr',
      'ip -4 addr',
      'ip -6 addr',
      'ip -6 -j addr',
      'ip -d addr',
      'ip addr show label lo*',
      'ip -j addr show label lo*',
      'ip addr show secondary',
      'ip addr show primary',
      'ip addr show to 10.0.0.0/16',
      'ip -br -0 addr',
      'ip addr add 1.2.3.4/8 dev lo nodad',
      'ip addr del 127.168.1.1 dev lo',
      'ip -s -s addr flush scope global',
      'ip addr',
    ],
  );
});

test('same as Linux: a bare namespace, addresses added while down, then up, down and MTU changes', async (t) => {
  await sameAsLinux(
    t,
    [],
    [
      'ip addr',
      'ip addr add ::2/128 dev lo',
      'ip addr add 127.1.1.1/8 dev lo',
      'ip addr',
      'cat /proc/net/if_inet6',
      'ip link set lo up',
      'ip addr',
      'ip link set lo down',
      'ip -j addr',
      'ip link set lo up',
      'ip link set lo mtu 1000',
      'ip addr',
      'ip link set lo mtu 60',
      'ip addr',
      'ip addr add 1.1.1.1/8 dev lo',
      'ip link set lo mtu 1500',
      'ip addr add 1.1.1.1/8 dev lo',
      'ip addr',
    ],
    true,
  );
});
