/**
 * A chain of namespaces joined by veth pairs, each a router (issue 23's scale row):
 *
 *   ns0 —veth— ns1 —veth— ns2 — … — ns(N-1)
 *
 * Link i joins ns i (10.x.y.1, its device r) and ns i+1 (10.x.y.2, its device l) in the
 * /30 at 10.0.0.0 + 4i. Every namespace forwards (net.ipv4.ip_forward=1), sends what is not
 * its own down the chain (default via the next hop) and sends what is for ns0 back up
 * (10.0.0.1/32 via the previous hop). Neighbours are learnt by ARP, as real hosts learn them:
 * the first datagram waits at each hop for its next hop's reply (unres_qlen), and the entries
 * then age through STALE, DELAY and PROBE with Linux's timers while the echoes run.
 *
 * Reports: bare namespaces made per second; namespaces wired into the chain per second
 * (veth pair, addresses, routes, sysctl, all through `ns.exec` as a user types them); heap
 * per wired namespace; and the round trip of a UDP echo from ns0 to a server k links away,
 * for k = 1, 10, 100 and 254 (TTL 255 is as far as a datagram goes), with the cost per hop
 * (the slope), which should stay flat as k grows; and, before those, the very first echo to
 * the farthest server, which resolves every hop's neighbour on its way.
 *
 *   npx tsx --expose-gc bench/chain.ts [--quick] [--n 1000] [--json FILE]
 *   npm run bench:chain
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Namespace } from '../src/api/namespace.js';
import { vethPair } from '../src/drivers/veth.js';
import { Kernel } from '../src/init.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    json: { type: 'string' },
  },
});
const N = Number(values.n ?? (values.quick ? 200 : 1000));
const ROUNDS = values.quick ? 200 : 1000;

const ip = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const linkBase = (i: number) => ((10 << 24) + i * 4) >>> 0;
const hex = (b: number) => b.toString(16).padStart(2, '0');
const mac = (j: number, side: 1 | 2) => `02:00:00:${hex(j >> 8)}:${hex(j & 255)}:0${side}`;

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function run(ns: Namespace, line: string): Promise<void> {
  const r = await ns.exec(line);
  if (r.code !== 0) throw new Error(`${line}: ${r.stderr}`);
}

/** Bare namespaces (lo up, 127.0.0.1, ::1) made per second on one kernel. */
function bareRate(n: number): number {
  const kernel = new Kernel();
  new Namespace({ kernel });
  for (let i = 0; i < 100; i++) new Namespace({ kernel }).destroy();
  const t0 = performance.now();
  const made: Namespace[] = [];
  for (let i = 0; i < n; i++) made.push(new Namespace({ kernel }));
  const secs = (performance.now() - t0) / 1000;
  for (const ns of made) ns.destroy();
  return n / secs;
}

/** Builds the chain; returns its namespaces, wiring rate and heap bytes per namespace. */
async function buildChain(n: number): Promise<{ chain: Namespace[]; perSec: number; bytesPerNs: number }> {
  const kernel = new Kernel();
  const before = heap();
  const t0 = performance.now();
  const chain: Namespace[] = [];
  for (let i = 0; i < n; i++) {
    const ns = new Namespace({ kernel, name: `n${i}` });
    chain.push(ns);
    await run(ns, 'sysctl -qw net.ipv4.ip_forward=1');
    // A datagram dies after ip_default_ttl hops (64): the longest chain a packet crosses is 255.
    await run(ns, 'sysctl -qw net.ipv4.ip_default_ttl=255');
    if (i === 0) continue;
    const prev = chain[i - 1] as Namespace;
    const base = linkBase(i - 1);
    vethPair({ net: prev, name: 'r', address: mac(i - 1, 1) }, { net: ns, name: 'l', address: mac(i, 2) });
    await run(prev, `ip addr add ${ip(base + 1)}/30 dev r`);
    await run(prev, 'ip link set r up');
    await run(prev, `ip route add default via ${ip(base + 2)}`);
    await run(ns, `ip addr add ${ip(base + 2)}/30 dev l`);
    await run(ns, 'ip link set l up');
    if (i > 1) await run(ns, `ip route add 10.0.0.1/32 via ${ip(base + 1)}`);
  }
  const perSec = n / ((performance.now() - t0) / 1000);
  const bytesPerNs = (heap() - before) / n;
  return { chain, perSec, bytesPerNs };
}

/**
 * Round trips (µs) of a 64-byte UDP echo from chain[0] to a server in chain[k]: the first
 * (with ARP on every hop not resolved yet), the median of `rounds` after 20 more, the
 * process's CPU time per round trip over those, and the time squeezes per round trip.
 */
async function echoRtt(
  chain: Namespace[],
  k: number,
  rounds: number,
): Promise<{ first: number; median: number; cpu: number; squeezes: number }> {
  const server = (chain[k] as Namespace).dgram.createSocket('udp4');
  const addr = ip(linkBase(k - 1) + 2);
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  server.bind(7, addr);
  await once(server, 'listening');
  const client = (chain[0] as Namespace).dgram.createSocket('udp4');
  client.bind(0, '10.0.0.1');
  await once(client, 'listening');
  const payload = Buffer.alloc(64);
  const rtts: number[] = [];
  let first = 0;
  // One deadline for the whole run: a timer per echo would cost more than a hop.
  const signal = AbortSignal.timeout(60_000 + rounds * 100);
  const kernel = (chain[0] as Namespace).kernel;
  const squeezes = () => kernel.cpus.reduce((sum, c) => sum + c.sd.timeSqueeze, 0);
  let cpu0 = process.cpuUsage();
  let sq0 = 0;
  for (let i = 0; i <= rounds + 20; i++) {
    if (i === 21) {
      cpu0 = process.cpuUsage();
      sq0 = squeezes();
    }
    const t0 = performance.now();
    const reply = once(client, 'message', { signal });
    client.send(payload, 7, addr);
    await reply;
    const us = (performance.now() - t0) * 1000;
    if (i === 0) first = us;
    else if (i > 20) rtts.push(us);
  }
  const used = process.cpuUsage(cpu0);
  const sq = squeezes() - sq0;
  client.close();
  server.close();
  rtts.sort((a, b) => a - b);
  const n = Math.max(rounds, 1);
  return {
    first,
    median: rtts[Math.floor(rtts.length / 2)] as number,
    cpu: (used.user + used.system) / n,
    squeezes: sq / n,
  };
}

async function main(): Promise<void> {
  const rows: { name: string; unit: string; value: number }[] = [];
  const add = (name: string, unit: string, value: number) => {
    rows.push({ name, unit, value });
    console.log(`${name.padEnd(34)} ${value.toFixed(value < 10 ? 2 : 0).padStart(10)} ${unit}`);
  };
  add(`bare namespaces made (${N})`, 'per s', bareRate(N));
  const { chain, perSec, bytesPerNs } = await buildChain(N);
  add(`chain namespaces wired (${N})`, 'per s', perSec);
  add('heap per wired namespace', 'KiB', bytesPerNs / 1024);
  const hops = [1, 10, 100, Math.min(N - 1, 254)].filter((k, i, a) => k < N && a.indexOf(k) === i);
  const last = hops[hops.length - 1] as number;
  // The chain's first datagram: every router on the way resolves its next hop by ARP.
  add(`udp echo, first one, ${last} hops (ARP)`, 'µs', (await echoRtt(chain, last, 0)).first);
  const rtt = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const k of hops) {
    const r = await echoRtt(chain, k, k > 100 ? Math.max(50, ROUNDS / 10) : ROUNDS);
    rtt.set(k, r.median);
    cpu.set(k, r.cpu);
    const s = k > 1 ? 's' : '';
    add(`udp echo rtt, ${k} hop${s}`, 'µs', r.median);
    add(`  cpu per round trip, ${k} hop${s}`, 'µs', r.cpu);
    add(`  time squeezes per round trip, ${k}`, '', r.squeezes);
  }
  // Wall-clock slopes move with the machine's load (a preempted softirq run is squeezed);
  // the CPU slopes are the stack's own cost per hop.
  const slope = (m: Map<number, number>, a: number, b: number) =>
    ((m.get(b) as number) - (m.get(a) as number)) / (b - a);
  const spans: [number, number][] = [];
  if (rtt.has(10)) spans.push([1, 10]);
  if (rtt.has(100)) spans.push([10, 100]);
  if (last > 100) spans.push([100, last]);
  for (const [a, b] of spans) add(`per hop, ${a}→${b} hops`, 'µs', slope(rtt, a, b));
  for (const [a, b] of spans) add(`per hop, ${a}→${b} hops (cpu)`, 'µs', slope(cpu, a, b));
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  process.exit(0);
}

await main();
