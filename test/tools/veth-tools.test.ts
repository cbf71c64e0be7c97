import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { compareWorlds, inLinuxWorld, type LineResult } from '../helpers/linux-world.js';

/** Ping times and qdisc handles (Linux numbers them from a counter its other tests moved on) vary. */
function normalise(r: LineResult): LineResult {
  const n = (s: string) =>
    s
      .replace(/time=[\d.]+ ms/g, 'time=T ms')
      .replace(/time \d+ms/g, 'time Tms')
      .replace(/= [\d./]+ ms/g, '= T ms')
      .replace(/qdisc (\w+) [0-9a-f]+: root/g, 'qdisc $1 H: root');
  return { code: r.code, stdout: n(r.stdout), stderr: n(r.stderr) };
}

/**
 * Two namespaces on a veth with static neighbours. Linux's IPv6 is turned off first
 * (lines 0-1 and 3-4, which lonet does not have as sysctls and only runs): otherwise
 * its ND and MLD packets land in the counters, and lonet sends none yet.
 */
const TWO_HOSTS = [
  'sysctl -qw net.ipv6.conf.all.disable_ipv6=1',
  'sysctl -qw net.ipv6.conf.default.disable_ipv6=1',
  'ip netns add b',
  'ip netns exec b sysctl -qw net.ipv6.conf.all.disable_ipv6=1',
  'ip netns exec b sysctl -qw net.ipv6.conf.default.disable_ipv6=1',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02',
  'ip link set veth1 netns b',
  'ip addr add 10.0.0.1/24 dev veth0',
  'ip -n b addr add 10.0.0.2/24 dev veth1',
  'ip link set veth0 up',
  'ip -n b link set veth1 up',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent',
  'ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent',
];
const SYSCTL_LINES = new Set([0, 1, 3, 4]);

async function compare(lines: string[], notCompared: ReadonlySet<number> = new Set()): Promise<LineResult[]> {
  const ns = new Namespace();
  return compareWorlds(lines, (l) => ns.exec(l), normalise, new Set([...SYSCTL_LINES, ...notCompared]));
}

test('veth counters as Linux counts them: ifconfig, /proc/net/dev, ip -s -s link (L2 bytes, both ends)', async () => {
  const r = await compare([
    ...TWO_HOSTS,
    'ping -c2 -i0.2 -W1 10.0.0.2',
    'ifconfig veth0',
    'cat /proc/net/dev',
    'ip -s -s link show veth0',
    'ip -n b -s link show veth1',
    'ip netns exec b ifconfig veth1',
  ]);
  assert.match(r[14]?.stdout ?? '', /RX packets 2 {2}bytes 196 \(196\.0 B\)/);
  assert.match(r[15]?.stdout ?? '', /^ veth0: {5}196 {7}2 /m);
});

test('tc on veth: noqueue by default, pfifo grafted on every TX queue, its counters, deleting it, a downed link drops', async () => {
  const r = await compare([
    ...TWO_HOSTS,
    'tc qdisc show dev veth0',
    'tc qdisc add dev veth0 root pfifo limit 10',
    'tc qdisc show dev veth0',
    'ping -c2 -i0.2 -W1 10.0.0.2',
    'tc -s qdisc show dev veth0',
    'tc qdisc del dev veth0 root',
    'tc qdisc show dev veth0',
    'ip -n b link set veth1 down',
    'ping -c1 -W1 10.0.0.2',
    'ip link show veth0',
  ]);
  assert.equal(r[13]?.stdout, 'qdisc noqueue 0: root refcnt 2 \n');
  // Two TX queues (one per CPU here) and the device each hold the grafted root.
  assert.match(r[15]?.stdout ?? '', /^qdisc pfifo 8001: root refcnt 3 limit 10p\n$/);
  assert.match(r[17]?.stdout ?? '', /Sent 196 bytes 2 pkt/);
  assert.equal(r[21]?.code, 1);
});

test('a partition is netem loss 100% on one end (lonet only: this kernel has no sch_netem)', async () => {
  const ns = new Namespace();
  for (const l of TWO_HOSTS.filter((_, i) => !SYSCTL_LINES.has(i))) assert.equal((await ns.exec(l)).code, 0, l);
  assert.equal((await ns.exec('tc qdisc add dev veth0 root netem loss 100%')).code, 0);
  const cut = await ns.exec('ping -c2 -i0.2 -W1 10.0.0.2');
  assert.equal(cut.code, 1);
  assert.match(cut.stdout, /2 packets transmitted, 0 received, 100% packet loss/);
  assert.match((await ns.exec('tc -s qdisc show dev veth0')).stdout, /dropped 2,/);
  await ns.exec('tc qdisc del dev veth0 root');
  assert.match((await ns.exec('ping -c1 -W1 10.0.0.2')).stdout, /1 received/);
});

/** tcpdump's lines with times and the echo id (a process id on Linux) made comparable. */
function normaliseCapture(s: string): string {
  return s.replace(/^\d\d:\d\d:\d\d\.\d{6} /gm, 'T ').replace(/, id \d+,/g, ', id I,');
}

test('tcpdump -i veth0 -e: link-level headers of what crosses the cable, as real tcpdump prints them', async () => {
  const filter = 'tcpdump -i veth0 -c 2 -n -e icmp';
  const linux = inLinuxWorld([
    ...TWO_HOSTS,
    // Started in the background; the ping waits for the state "listening", not for a time.
    `${filter} >/tmp/lonet-td.out 2>/tmp/lonet-td.err & until grep -q listening /tmp/lonet-td.err 2>/dev/null; do sleep 0.02; done; ping -c1 -W1 10.0.0.2 >/dev/null; wait; cat /tmp/lonet-td.out /tmp/lonet-td.err; rm -f /tmp/lonet-td.*`,
  ]);
  const ns = new Namespace();
  for (const l of TWO_HOSTS.filter((_, i) => !SYSCTL_LINES.has(i))) await ns.exec(l);
  const capture = ns.exec(filter);
  // Wait for the capture's socket to be bound to veth0 (a state).
  const veth0 = ns.devGetByName('veth0');
  while ((veth0?.ptypeAll.length ?? 0) === 0) await new Promise((r) => setImmediate(r));
  assert.equal((await ns.exec('ping -c1 -W1 10.0.0.2')).code, 0);
  const mine = await capture;
  assert.equal(mine.code, 0);
  const text = normaliseCapture(mine.stdout + mine.stderr);
  assert.match(
    text,
    /^T 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 \(0x0800\), length 98: 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id I, seq 1, length 64\n/,
  );
  const last = linux?.at(-1);
  if (last !== undefined) assert.equal(text, normaliseCapture(last.stdout));
});
