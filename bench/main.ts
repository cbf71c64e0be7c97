/**
 * `npm run bench`: every scenario over lonet and over Node's node:net / node:dgram /
 * node:http / node:https / node:http2 on the kernel's 127.0.0.1, in the same process run: a warm-up, several
 * repetitions, the median, and the ratio lonet/kernel. A third side, `pipe`, runs the same
 * scenario over in-memory pipes with no stack at all (bench/pipe.ts): the most any
 * in-process stack could reach through Node's streams and event loop, so `ceiling`
 * (pipe/kernel) bounds every ratio. Then idle connections' heap, and the scaling table.
 *
 *   npm run bench [-- --quick] [-- --smoke] [-- --json FILE] [-- --only tcp-rr,https-rr,h2-rr,idle-conns,scaling]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { type ScaleRow, scaling } from './scaling.js';
import {
  idleConns,
  KERNEL_IDLE_MAX,
  kernelStack,
  lonetStack,
  pipeStack,
  type RunOpts,
  removeBenchCerts,
  type Scenario,
  scenarios,
} from './scenarios.js';
import { fmt, percent, table, times } from './table.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    'no-scaling': { type: 'boolean', default: false },
    'no-idle': { type: 'boolean', default: false },
  },
});

const smoke = values.smoke === true;
const quick = values.quick === true;
const ms = smoke ? 30 : quick ? 400 : 1500;
const reps = smoke ? 1 : quick ? 3 : 5;
const only = values.only?.split(',');

export interface Row {
  name: string;
  unit: string;
  lonet: number | null;
  kernel: number | null;
  ratio: number | null;
  /** The same scenario with no stack (bench/pipe.ts), and pipe/kernel: the best ratio possible. */
  pipe?: number | null;
  ceiling?: number | null;
  /** lonet/pipe: how much of that ceiling lonet keeps (the stack's own cost). */
  share?: number | null;
}

// On a terminal, one status line rewritten in place; otherwise a line per step.
const tty = process.stderr.isTTY === true;
const progress = (s: string) => process.stderr.write(tty ? `\r\x1b[K  ${s}` : `  ${s}\n`);
const done = () => {
  if (tty) process.stderr.write('\r\x1b[K');
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Both sides warm up, then their repetitions alternate (lonet, kernel, lonet, …) so that
 * whatever else the machine is doing weighs on both alike.
 */
async function measure(
  sc: Scenario,
  o: RunOpts,
): Promise<{ lonet: number | null; kernel: number | null; pipe: number | null }> {
  const sides = [
    { side: 'lonet', stack: lonetStack(), xs: [] as number[], ok: true },
    { side: 'kernel', stack: kernelStack, xs: [] as number[], ok: true },
    { side: 'pipe', stack: pipeStack, xs: [] as number[], ok: true },
  ];
  for (const s of sides) {
    progress(`${sc.name} ${s.side}: warm-up`);
    // The warm-up lets V8 optimise the whole path (lonet's http-rr needs ~2,000 requests to settle).
    s.ok = (await sc.run(s.stack, { ...o, ms: o.smoke ? o.ms : Math.max(1000, o.ms) })) !== null;
  }
  for (let i = 0; i < reps; i++) {
    for (const s of sides) {
      if (!s.ok) continue;
      progress(`${sc.name} ${s.side}: ${i + 1}/${reps}`);
      const v = await sc.run(s.stack, o);
      if (v === null) s.ok = false;
      else s.xs.push(v);
    }
  }
  sides[0]?.stack.ns?.destroy();
  const [l, k, p] = sides.map((s) => (s.ok ? median(s.xs) : null));
  return { lonet: l ?? null, kernel: k ?? null, pipe: p ?? null };
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `lonet bench (${smoke ? 'smoke' : quick ? 'quick' : 'full'}: median of ${reps} × ${ms} ms after a ${smoke ? ms : Math.max(1000, ms)} ms warm-up) — ` +
      `Node ${process.version}, ${os.type()} ${os.release()}, ${os.cpus().length} × ${cpu}`,
  );
  // Which code ran: the commit, and whether the working tree differed from it.
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { encoding: 'utf8' });
    console.log(`lonet at ${rev}${dirty.trim() === '' ? '' : ' with uncommitted changes under src/'}`);
  } catch {}
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(`load average at start: ${load()}`);
  const t0 = performance.now();
  const o: RunOpts = { ms, smoke, quick };
  const rows: Row[] = [];
  for (const sc of scenarios) {
    if (only !== undefined && !only.includes(sc.name)) continue;
    const { lonet, kernel, pipe } = await measure(sc, o);
    rows.push({
      name: sc.name,
      unit: sc.unit,
      lonet,
      kernel,
      ratio: lonet !== null && kernel !== null ? lonet / kernel : null,
      pipe,
      ceiling: pipe !== null && kernel !== null ? pipe / kernel : null,
      share: lonet !== null && pipe !== null ? lonet / pipe : null,
    });
  }
  removeBenchCerts();
  if (!values['no-idle'] && (only === undefined || only.includes('idle-conns'))) {
    for (const n of smoke ? [200] : [10_000, 100_000]) {
      const label = n >= 1000 ? `${n / 1000}k` : String(n);
      const show = (side: string) => (d: number) => progress(`idle-conns ${label} ${side}: ${d}`);
      const ls = lonetStack();
      const lonet = await idleConns(ls, n, show('lonet'));
      ls.ns?.destroy();
      const kn = Math.min(n, KERNEL_IDLE_MAX);
      const kernel = await idleConns(kernelStack, kn, show(`kernel (${kn})`));
      rows.push({
        name: `idle-conns ${label}`,
        unit: kn === n ? 'heap B/conn' : `heap B/conn (kernel at ${kn / 1000}k)`,
        lonet,
        kernel,
        ratio: lonet / kernel,
      });
    }
  }
  done();

  if (rows.length > 0) console.log();
  if (rows.length > 0)
    console.log(
      table(
        ['scenario', 'unit', 'lonet', 'kernel', 'ratio', 'pipe (no stack)', 'ceiling', 'lonet/pipe'],
        rows.map((r) => [
          r.name,
          r.unit,
          fmt(r.lonet),
          fmt(r.kernel),
          times(r.ratio),
          r.pipe === undefined ? '' : fmt(r.pipe),
          r.ceiling === undefined ? '' : times(r.ceiling),
          r.share === undefined ? '' : percent(r.share),
        ]),
      ),
    );
  const idle = rows.find((r) => r.name === 'idle-conns 100k');
  if (idle?.lonet != null)
    console.log(`\n100k idle connections over lonet: ${((idle.lonet * 100_000) / 2 ** 20).toFixed(0)} MiB of heap`);

  let scale: ScaleRow[] = [];
  if (!values['no-scaling'] && (only === undefined || only.includes('scaling'))) {
    scale = await scaling({
      ms: smoke ? 30 : quick ? 250 : 1000,
      reps: smoke ? 1 : Math.max(5, reps),
      smoke,
      quick,
      progress,
    });
    done();
    console.log();
    console.log(
      table(
        ['lonet scaling', 'unit', 'value', 'baseline', 'vs baseline'],
        scale.map((r) => [
          r.name,
          r.unit,
          fmt(r.value),
          fmt(r.baseline ?? null),
          r.baseline === undefined ? '' : `${(r.value / r.baseline).toFixed(2)}×`,
        ]),
      ),
    );
  }
  console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end: ${load()})`);

  if (values.json !== undefined) {
    writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
    if (scale.length > 0) {
      const scaleFile = values.json.replace(/(\.json)?$/, '.scaling.json');
      writeFileSync(scaleFile, `${JSON.stringify(scale, null, 2)}\n`);
    }
  }
  process.exit(0);
}

await main();
