import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
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
 * Two namespaces on a veth with static neighbours, IPv6 off on both (lines 0-1 and 3-4),
 * so that ND and MLD packets stay out of the counters on either side.
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

async function compare(lines: string[], notCompared: ReadonlySet<number> = new Set()): Promise<LineResult[]> {
  const ns = new Namespace();
  return compareWorlds(lines, (l) => ns.exec(l), normalise, notCompared);
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

test('tbf on veth: rate, burst and latency as tc prints them, its counters, iproute2 complaints', async () => {
  const r = await compare([
    ...TWO_HOSTS,
    'tc qdisc add dev veth0 root tbf rate 1mbit burst 32kbit latency 400ms',
    'tc qdisc show dev veth0',
    'tc qdisc change dev veth0 root tbf rate 10mbit burst 10kb limit 30000',
    'tc qdisc show dev veth0',
    'tc qdisc replace dev veth0 root tbf rate 256kbit buffer 1600 limit 3000',
    'ping -c2 -i0.2 -W1 10.0.0.2',
    'tc -s qdisc show dev veth0',
    'tc qdisc add dev veth1 root tbf rate 1mbit',
    'tc qdisc add dev veth1 root tbf rate 1mbit burst 10k limit 1 latency 1',
    'tc qdisc add dev veth1 root tbf rate 1mbit burst 1k latency 1 limit 5',
    'tc qdisc add dev veth1 root tbf rate 1mbit burst 1k burst 2k',
    'tc qdisc add dev veth1 root tbf rate x burst 1k latency 1',
    'tc qdisc add dev veth1 root tbf rate 1mbit burst 10k foo 1',
  ]);
  assert.match(r[14]?.stdout ?? '', /^qdisc tbf 8001: root refcnt 3 rate 1Mbit burst 4Kb lat 400ms \n$/);
  assert.match(r[19]?.stdout ?? '', /rate 256Kbit burst 1600b lat 43\.8ms \n Sent 196 bytes 2 pkt /);
});

test('tbf shapes on the kernel clock: a full bucket passes one 1042-byte frame, then one per 8.336 ms at 1 Mbit/s', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  for (const l of TWO_HOSTS) assert.equal((await ns.exec(l)).code, 0, l);
  // A 1600-byte bucket (12.8 ms at 125000 B/s) and room for everything.
  assert.equal((await ns.exec('tc qdisc add dev veth0 root tbf rate 1mbit buffer 1600 limit 100000')).code, 0);
  const sock = ns.dgram.createSocket('udp4');
  const sends = Array.from(
    { length: 10 },
    () => new Promise((resolve) => sock.send(new Uint8Array(1000), 9, '10.0.0.2', resolve)),
  );
  await Promise.all(sends);
  await kernel.settle();
  const sent = async () => {
    const m = /Sent (\d+) bytes (\d+) pkt .*\n backlog \d+b (\d+)p/.exec(
      (await ns.exec('tc -s qdisc show dev veth0')).stdout,
    );
    return [Number(m?.[2]), Number(m?.[3])];
  };
  assert.deepEqual(await sent(), [1, 9], 'the bucket held one frame (8.336 ms of tokens), 4.464 ms left');
  // Frame k leaves once 4.464 ms + t covers (k - 1) × 8.336 ms.
  kernel.virtualClock.advance(3.872e6 - 1);
  assert.deepEqual(await sent(), [1, 9]);
  kernel.virtualClock.advance(1);
  assert.deepEqual(await sent(), [2, 8]);
  // At 53.872 ms the 7th frame has left; the 8th is due at 7 × 8.336 − 4.464 = 53.888 ms.
  kernel.virtualClock.advance(50e6);
  assert.deepEqual(await sent(), [7, 3]);
  kernel.virtualClock.advance(16e3);
  assert.deepEqual(await sent(), [8, 2]);
  sock.close();
});

test('a partition is netem loss 100% on one end (lonet only: this kernel has no sch_netem)', async () => {
  const ns = new Namespace();
  for (const l of TWO_HOSTS) assert.equal((await ns.exec(l)).code, 0, l);
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
  for (const l of TWO_HOSTS) await ns.exec(l);
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

test('ethtool -k on veth: VETH_FEATURES with tunnel segmentation and S-VLAN, GRO off by default, nocache-copy changeable', async () => {
  const r = await compare([...TWO_HOSTS, 'ethtool -k veth0', 'ip netns exec b ethtool -k veth1', 'ethtool -k lo']);
  assert.match(r[13]?.stdout ?? '', /^generic-receive-offload: off$/m);
  assert.match(r[13]?.stdout ?? '', /^tx-udp_tnl-segmentation: on$/m);
});
