/**
 * Issue "IPv4 and IPv6 on lo", must show: what lonet prints for routes, rules, pings,
 * the lo:1 alias, `ip route get` and down/up is what Linux prints, from live state —
 * checked against spec §3–§5 and, where this machine can, a real namespace run through
 * the same commands.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inLinuxNetns } from '../helpers/linux.js';
import { untimed, virtualNs } from '../helpers/virtual-shell.js';

test('ip route show table local and ip rule, as spec §3', async () => {
  const { run } = virtualNs();
  assert.equal(
    (await run('ip route show table local')).stdout,
    'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 \n' +
      'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 \n' +
      'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 \n',
  );
  assert.equal(
    (await run('ip rule')).stdout,
    '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n',
  );
  assert.equal((await run('ip -6 rule')).stdout, '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
});

test('ping -c 3 127.0.0.1, ping -c 1 127.1.2.3, ping -6 -c 1 ::1: every 127/8 address answers', async () => {
  const { run } = virtualNs();
  const three = await run('ping -c 3 127.0.0.1');
  assert.equal(three.code, 0);
  assert.equal(
    untimed(three.stdout),
    `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=T ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=T ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=T ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time Tms
rtt min/avg/max/mdev = T/T/T/T ms
`,
  );
  const other = await run('ping -c 1 127.1.2.3');
  assert.match(other.stdout, /^64 bytes from 127\.1\.2\.3: icmp_seq=1 ttl=64 time=/m);
  const six = await run('ping -6 -c 1 ::1');
  assert.match(six.stdout, /^PING ::1\(::1\) 56 data bytes\n64 bytes from ::1: icmp_seq=1 ttl=64 time=/);
});

test('ip -s link show lo after two pings: 4 packets, 336 bytes each way', async () => {
  const { run } = virtualNs();
  await run('ping -c 2 -q 127.0.0.1');
  const out = (await run('ip -s link show lo')).stdout;
  assert.equal(out.split('\n').filter((l) => l === '           336       4      0       0       0       0 ').length, 2);
});

test('the lo:1 alias: ip addr, its local route, ifconfig lo:1', async () => {
  const { run } = virtualNs();
  assert.equal((await run('ip addr add 127.168.1.1/8 dev lo label lo:1')).code, 0);
  assert.match((await run('ip addr show lo')).stdout, /\n {4}inet 127\.168\.1\.1\/8 scope host secondary lo:1\n/);
  assert.match(
    (await run('ip route show table local')).stdout,
    /\nlocal 127\.168\.1\.1 dev lo proto kernel scope host src 127\.0\.0\.1 \n/,
  );
  assert.equal(
    (await run('ifconfig lo:1')).stdout,
    'lo:1: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 127.168.1.1  netmask 255.0.0.0\n        loop  txqueuelen 1000  (Local Loopback)\n\n',
  );
});

test('ip route get 127.9.9.9: local, through lo', async () => {
  const { run } = virtualNs();
  assert.deepEqual(await run('ip route get 127.9.9.9'), {
    code: 0,
    stdout: 'local 127.9.9.9 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n',
    stderr: '',
  });
});

test('down and up: IPv4 and local routes stay, broadcast and IPv6 go; ping loses everything; up restores', async () => {
  const { run } = virtualNs();
  await run('ip link set lo down');
  const ping = await run('ping -c 1 127.0.0.1');
  assert.equal(ping.code, 1);
  assert.match(ping.stdout, /\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n/);
  assert.equal((await run('ip route show table local')).stdout.includes('broadcast'), false);
  assert.match((await run('ip addr show lo')).stdout, /inet 127\.0\.0\.1\/8 scope host lo/);
  assert.equal((await run('ip -6 addr show lo')).stdout, '');
  assert.match(
    (await run('ip -s link show lo')).stdout,
    /TX: {2}bytes packets errors dropped carrier collsns {11}\n {13}0 {7}0 {6}0 {7}1 /,
  );
  await run('ip link set lo up');
  assert.match((await run('ip route show table local')).stdout, /broadcast 127\.255\.255\.255/);
  assert.match((await run('ip -6 addr show lo')).stdout, /inet6 ::1\/128 scope host/);
  assert.equal((await run('ping -c 1 127.0.0.1')).code, 0);
});

test('the same session, side by side with a real Linux namespace', async (t) => {
  const commands = [
    'ip route show table local',
    'ip rule',
    'ip route get 127.9.9.9',
    'ip addr add 127.168.1.1/8 dev lo label lo:1',
    'ip addr show lo',
    'ip route show table local',
    'ifconfig lo:1',
    'ip link set lo down',
    'ip route show table local',
    'ip addr show lo',
    'ip link set lo up',
    'ip -6 route show table local',
  ];
  const linux = inLinuxNetns(['ip link set lo up'], commands);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const { run } = virtualNs();
  for (const [i, c] of commands.entries()) assert.deepEqual(await run(c), linux[i], c);
});
