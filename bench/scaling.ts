/**
 * How lonet's costs grow: namespaces created per second, and the cost of one packet (udp-64b's
 * delivered datagrams, inverted) as sockets, routes and namespaces pile up beside it, and with
 * a packet tap attached elsewhere, nowhere, or on the very lo the packets cross.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Namespace } from '../src/api/namespace.js';
import { Kernel } from '../src/kernel/kernel.js';

export interface ScaleRow {
  name: string;
  unit: string;
  value: number;
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

/** Median of `reps` runs (after one warm-up) of udpRate, as nanoseconds per packet. */
async function nsPerPacket(ns: Namespace, ms: number, reps: number): Promise<number> {
  await udpRate(ns, ms / 2);
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(1e9 / (await udpRate(ns, ms)));
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] as number;
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
    const held: { close(): void }[] = [];
    for (const n of steps) {
      o.progress(`ns/packet with ${n} sockets`);
      while (held.length < n) {
        const s = ns.dgram.createSocket('udp4');
        s.bind(0, '127.0.0.1');
        held.push(s);
      }
      await sleep(0);
      rows.push({
        name: `udp packet, ${n} other sockets`,
        unit: 'ns/packet',
        value: await nsPerPacket(ns, o.ms, o.reps),
      });
    }
    for (const s of held) s.close();
  }

  // Per-packet cost as routes are added to the main table.
  {
    const ns = new Namespace();
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
      rows.push({ name: `udp packet, ${n} routes`, unit: 'ns/packet', value: await nsPerPacket(ns, o.ms, o.reps) });
    }
  }

  // Per-packet cost as other namespaces share the kernel.
  {
    const kernel = new Kernel();
    const ns = new Namespace({ kernel });
    const others: Namespace[] = [];
    const nsSteps = o.smoke ? [0, 10] : [0, 100, 1000, 10000];
    for (const n of nsSteps) {
      o.progress(`ns/packet with ${n} other namespaces`);
      while (others.length < n) others.push(new Namespace({ kernel }));
      rows.push({
        name: `udp packet, ${n} other namespaces`,
        unit: 'ns/packet',
        value: await nsPerPacket(ns, o.ms, o.reps),
      });
    }
    for (const x of others) x.destroy();
  }

  // Taps: none anywhere, one on another namespace's lo, one on this lo (what a capture costs).
  {
    const kernel = new Kernel();
    const ns = new Namespace({ kernel });
    const other = new Namespace({ kernel });
    o.progress('ns/packet, no tap');
    rows.push({ name: 'udp packet, no tap', unit: 'ns/packet', value: await nsPerPacket(ns, o.ms, o.reps) });
    o.progress('ns/packet, tap elsewhere');
    const elsewhere = other.capture({ device: 'lo' });
    const drainOther = (async () => {
      for await (const _ of elsewhere) void _;
    })();
    rows.push({
      name: 'udp packet, tap on another namespace',
      unit: 'ns/packet',
      value: await nsPerPacket(ns, o.ms, o.reps),
    });
    elsewhere.close();
    await drainOther;
    o.progress('ns/packet, no tap again');
    rows.push({ name: 'udp packet, tap closed', unit: 'ns/packet', value: await nsPerPacket(ns, o.ms, o.reps) });
    o.progress('ns/packet, tap on this lo');
    const here = ns.capture({ device: 'lo' });
    let seen = 0;
    const drainHere = (async () => {
      for await (const _ of here) seen++;
    })();
    rows.push({
      name: 'udp packet, tap on this lo (all seen)',
      unit: 'ns/packet',
      value: await nsPerPacket(ns, o.ms, o.reps),
    });
    here.close();
    await drainHere;
    if (seen === 0) throw new Error('the tap on lo saw no packets');
  }
  return rows;
}
