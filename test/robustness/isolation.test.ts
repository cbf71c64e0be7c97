/**
 * Namespaces on one kernel share its CPUs, backlogs and global sysctls, nothing else:
 * sockets, ports, addresses, routes, per-namespace sysctls, captures and device counters
 * stay in their namespace, and reaching across fails the way it fails on Linux.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { devGetStats } from '../../src/core/netdevice.js';
import { E } from '../../src/include/errno.js';
import { Kernel } from '../../src/init.js';
import { procRead } from '../../src/net/procfs.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { snmp } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';

const LO4 = v4Mapped(0x7f000001);

function pair(): [Namespace, Namespace, Kernel] {
  const kernel = new Kernel({ cpus: 2 });
  return [new Namespace({ kernel }), new Namespace({ kernel }), kernel];
}

test("a UDP socket in one namespace is out of another's reach: NoPorts and ECONNREFUSED there, nothing arrives here", async () => {
  const [a, b] = pair();
  const srvA = new UdpSock(a, 4);
  assert.equal(srvA.bind(LO4, 5000), 0);
  const srvB = new UdpSock(b, 4);
  assert.equal(srvB.bind(LO4, 5001), 0);
  assert.equal(new UdpSock(b, 4).bind(LO4, 5000), 0, 'port 5000 is free in B: each namespace has its own port space');
  srvA.close();
  const a2 = new UdpSock(a, 4);
  assert.equal(a2.bind(LO4, 5000), 0);
  const lone = new UdpSock(b, 4);
  assert.equal(lone.connect(LO4, 4999), 0);
  assert.equal(lone.sendto(new Uint8Array(4), null, 0), 4);
  await b.kernel.settle();
  assert.equal(lone.sendto(new Uint8Array(4), null, 0), -E.ECONNREFUSED, "B's own stack answers: port unreachable");
  // 127.0.0.1:5000 from B is B's 5000, not A's: A's socket sees nothing, A's counters stay still.
  const toA = new UdpSock(b, 4);
  assert.equal(toA.sendto(new Uint8Array(7), LO4, 5000), 7);
  await b.kernel.settle();
  assert.equal(a2.recv(), null);
  assert.deepEqual([snmp(a, 'Udp').InDatagrams, snmp(a, 'Udp').NoPorts, snmp(a, 'Ip').InReceives], [0, 0, 0]);
  assert.equal(devGetStats(a.lo).rxPackets, 0, "A's lo carried nothing");
  assert.ok((snmp(b, 'Udp').NoPorts ?? 0) >= 1);
});

test('ping from one namespace to an address only another has: Network is unreachable, exit 2, as Linux says', async (t) => {
  const [a, b] = pair();
  assert.equal((await a.exec('ip addr add 10.1.1.1/32 dev lo')).code, 0);
  const here = await a.exec('ping -c 1 -W 1 10.1.1.1');
  assert.equal(here.code, 0, 'A answers its own address');
  const there = await b.exec('ping -c 1 -W 1 10.1.1.1');
  assert.deepEqual([there.code, there.stdout, there.stderr], [2, '', 'ping: connect: Network is unreachable\n']);
  const linux = inLinuxNetns(['ip link set lo up'], ['ping -c 1 -W 1 10.1.1.1']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual([there.code, there.stdout, there.stderr], [linux[0]?.code, linux[0]?.stdout, linux[0]?.stderr]);
});

test('routes and per-namespace sysctls stay in their namespace; the global net.core ones exist only in the first', async (t) => {
  const [a, b] = pair();
  assert.equal((await a.exec('ip route add blackhole 10.9.9.0/24')).code, 0);
  assert.match((await a.exec('ip route show')).stdout, /blackhole 10\.9\.9\.0\/24/);
  assert.doesNotMatch((await b.exec('ip route show')).stdout, /10\.9\.9/);
  assert.equal((await a.exec('sysctl -w net.ipv4.icmp_echo_ignore_all=1')).code, 0);
  assert.equal((await a.exec('ping -c 1 -W 1 127.0.0.1')).code, 1, 'A ignores echo now');
  assert.equal((await b.exec('ping -c 1 -W 1 127.0.0.1')).code, 0, 'B still answers');
  assert.equal((await b.exec('sysctl -n net.ipv4.icmp_echo_ignore_all')).stdout, '0\n');
  const global = await b.exec('sysctl net.core.netdev_max_backlog');
  const perNet = await b.exec('sysctl net.core.somaxconn');
  assert.equal((await a.exec('sysctl -n net.core.netdev_max_backlog')).stdout, '1000\n', 'the first namespace sees it');
  const linux = inLinuxNetns(
    ['ip link set lo up'],
    ['sysctl net.core.netdev_max_backlog', 'sysctl net.core.somaxconn'],
  );
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(
    [global.code, global.stderr, perNet.stdout],
    [linux[0]?.code, linux[0]?.stderr, linux[1]?.stdout],
    'a child namespace has no net.core.netdev_max_backlog, but its own somaxconn',
  );
});

test("a capture on one namespace's lo sees none of another's packets; softnet_stat is the host's, the same in both", async () => {
  const [a, b, kernel] = pair();
  const cap = a.capture({ device: 'lo' });
  assert.equal((await b.exec('ping -c 2 -i 0.2 127.0.0.1')).code, 0);
  assert.equal((await a.exec('ping -c 1 127.0.0.1')).code, 0);
  await kernel.settle();
  cap.close();
  const seen = [];
  for await (const p of cap) seen.push(p);
  // A's one echo and its reply, as tcpdump -i lo shows them: nothing of B's two pings.
  assert.equal(seen.length, 2);
  assert.ok(seen.every((p) => p.ifindex === a.lo.ifindex && p.device === 'lo'));
  assert.equal(procRead(a, '/proc/net/softnet_stat'), procRead(b, '/proc/net/softnet_stat'));
  assert.deepEqual([devGetStats(a.lo).rxPackets, devGetStats(b.lo).rxPackets], [2, 4]);
});
