/**
 * How lonet's costs grow: namespaces created per second, and the cost of one packet (udp-64b's
 * delivered datagrams, inverted) as sockets, routes and namespaces pile up beside it, and with
 * a packet tap attached elsewhere, nowhere, or on the very lo the packets cross.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Namespace } from '../src/api/namespace.js';
import { Kernel } from '../src/init.js';

export interface ScaleRow {
  name: string;
  unit: string;
  value: number;
  /** The same measure, alternating with it, on a namespace with nothing added (per-packet rows). */
  baseline?: number;
}

/** Datagrams delivered per second through one namespace's lo, sender and receiver in-process. */
async function udpRate(ns: Namespace, ms: number): Promise<number> {
  const rx = ns.dgram.createSocket('udp4');
  const tx = ns.dgram.createSocket('udp4');
  let n = 0;
  rx.on('message', () => n++);
  rx.bind(0, '127.0.0.1');
  await once(rx, 'listening');
  const port = rx.address().port;
  const payload = Buffer.alloc(64);
  let stop = false;
  let inflight = 0;
  const go = () => {
    if (stop) return;
    inflight = 32;
    for (let i = 0; i < 32; i++)
      tx.send(payload, port, '127.0.0.1', () => {
        if (--inflight === 0) setImmediate(go);
      });
  };
  go();
  await sleep(Math.min(20, ms / 4));
  const c0 = n;
  const t0 = performance.now();
  await sleep(ms);
  const got = n - c0;
  const secs = (performance.now() - t0) / 1000;
  stop = true;
  tx.close();
  rx.close();
  return got / secs;
}

/**
 * Nanoseconds per packet through `ns`, and through `base` (a namespace with nothing added) in
 * alternating runs, medians of `reps` each after a warm-up: the ratio of the two is what the
 * growth costs, whatever else the machine is doing meanwhile.
 */
async function nsPerPacket(ns: Namespace, base: Namespace, ms: number, reps: number): Promise<[number, number]> {
  await udpRate(ns, ms / 2);
  await udpRate(base, ms / 2);
  const xs: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < reps; i++) {
    xs.push(1e9 / (await udpRate(ns, ms)));
    bs.push(1e9 / (await udpRate(base, ms)));
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1] as number;
  return [med(xs), med(bs)];
}

export interface ScaleOpts {
  ms: number;
  reps: number;
  smoke: boolean;
  quick: boolean;
  progress: (what: string) => void;
}

export async function scaling(o: ScaleOpts): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  // The first row must not pay for V8's warm-up of the UDP path.
  o.progress('warm-up');
  await udpRate(new Namespace(), o.smoke ? o.ms : 1000);

  // Namespaces created per second (each boots its lo with 127.0.0.1/8 and ::1 up).
  {
    o.progress('namespaces/s');
    const kernel = new Kernel();
    new Namespace({ kernel });
    const n = o.smoke ? 50 : o.quick ? 5000 : 20000;
    for (let i = 0; i < Math.min(200, n); i++) new Namespace({ kernel }).destroy(); // warm-up
    const made: Namespace[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) made.push(new Namespace({ kernel }));
    const secs = (performance.now() - t0) / 1000;
    rows.push({ name: `namespaces created (${n})`, unit: 'per s', value: n / secs });
    for (const ns of made) ns.destroy();
  }

  const steps = o.smoke ? [0, 10] : o.quick ? [0, 1000, 10000] : [0, 1000, 10000, 50000];

  // Per-packet cost as other sockets are bound in the same namespace.
  {
    const ns = new Namespace();
    const base = new Namespace();
    const held: { close(): void }[] = [];
    for (const n of steps) {
      o.progress(`ns/packet with ${n} sockets`);
      while (held.length < n) {
        const s = ns.dgram.createSocket('udp4');
        s.bind(0, '127.0.0.1');
        held.push(s);
      }
      await sleep(0);
      const [value, baseline] = await nsPerPacket(ns, base, o.ms, o.reps);
      rows.push({ name: `udp packet, ${n} other sockets`, unit: 'ns/packet', value, baseline });
    }
    for (const s of held) s.close();
  }

  // Per-packet cost as routes are added to the main table.
  {
    const ns = new Namespace();
    const base = new Namespace();
    let have = 0;
    for (const n of steps) {
      o.progress(`ns/packet with ${n} routes`);
      while (have < n) {
        const lines: string[] = [];
        for (let i = 0; i < 500 && have < n; i++, have++)
          lines.push(`ip route add 10.${(have >> 16) & 255}.${(have >> 8) & 255}.${have & 255}/32 dev lo`);
        const r = await ns.exec(lines.join('; '));
        if (r.code !== 0) throw new Error(`ip route add failed: ${r.stderr}`);
      }
      const [value, baseline] = await nsPerPacket(ns, base, o.ms, o.reps);
      rows.push({ name: `udp packet, ${n} routes`, unit: 'ns/packet', value, baseline });
    }
  }

  // Per-packet cost as other namespaces share the kernel.
  {
    const kernel = new Kernel();
    const ns = new Namespace({ kernel });
    const base = new Namespace();
    const others: Namespace[] = [];
    const nsSteps = o.smoke ? [0, 10] : [0, 100, 1000, 10000];
    for (const n of nsSteps) {
      o.progress(`ns/packet with ${n} other namespaces`);
      while (others.length < n) others.push(new Namespace({ kernel }));
      const [value, baseline] = await nsPerPacket(ns, base, o.ms, o.reps);
      rows.push({ name: `udp packet, ${n} other namespaces`, unit: 'ns/packet', value, baseline });
    }
    for (const x of others) x.destroy();
  }

  // Taps: none anywhere, one on another namespace's lo, one on this lo (what a capture costs).
  // The three alternate, repetition by repetition, so the machine's load weighs on all alike.
  {
    const kernel = new Kernel();
    const ns = new Namespace({ kernel });
    const other = new Namespace({ kernel });
    const conds = [
      { name: 'udp packet, no tap', on: null as Namespace | null, xs: [] as number[], seen: 0 },
      { name: 'udp packet, tap on another namespace', on: other, xs: [] as number[], seen: 0 },
      { name: 'udp packet, tap on this lo', on: ns, xs: [] as number[], seen: 0 },
    ];
    await udpRate(ns, o.ms);
    for (let i = 0; i < Math.max(3, o.reps); i++) {
      // Each repetition starts with the next condition, so none always follows another.
      for (let j = 0; j < conds.length; j++) {
        const c = conds[(i + j) % conds.length] as (typeof conds)[number];
        o.progress(`${c.name} ${i + 1}`);
        const cap = c.on?.capture({ device: 'lo' });
        const drain = (async () => {
          if (cap !== undefined) for await (const _ of cap) c.seen++;
        })();
        c.xs.push(1e9 / (await udpRate(ns, o.ms)));
        cap?.close();
        await drain;
      }
    }
    const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1] as number;
    const none = med(conds[0]?.xs ?? []);
    for (const c of conds) rows.push({ name: c.name, unit: 'ns/packet', value: med(c.xs), baseline: none });
    // The tap elsewhere saw none of these packets; the one on this lo saw them.
    if ((conds[1]?.seen ?? 1) !== 0) throw new Error("a tap on another namespace saw this one's packets");
    if ((conds[2]?.seen ?? 0) === 0) throw new Error('the tap on lo saw no packets');
  }
  return rows;
}
