/**
 * tc(8) from iproute2, the qdisc part: `tc [-s] qdisc { add | change | replace | link |
 * del | show }`, with pfifo, bfifo, pfifo_head_drop, noqueue, tbf and netem. Parsing,
 * messages and exit codes are iproute2's (parse errors 1, kernel errors 2, "Command
 * line is not complete" 255); the kernel side is sched/sch-api.ts. Netem's options
 * and output follow iproute2 ≥ 6.6, which knows `seed` (6.1 does not).
 */

import type { ExtAck, NetDevice } from '../core/netdevice.js';
import { E, strerror } from '../include/errno.js';
import { NLM_F, type QdiscSpec, qdiscRoot, tcDeleteQdisc, tcModifyQdisc } from '../sched/sch-api.js';
import type { FifoQdisc } from '../sched/sch-fifo.js';
import { type Qdisc, TC_H } from '../sched/sch-generic.js';
import { type NetemConfig, NetemQdisc } from '../sched/sch-netem.js';
import { type TbfConfig, TbfQdisc } from '../sched/sch-tbf.js';
import type { CommandContext } from './command.js';

const TC_USAGE = `Usage:\ttc [ OPTIONS ] OBJECT { COMMAND | help }
\ttc [-force] -batch filename
where  OBJECT := { qdisc | class | filter | chain |
\t\t    action | monitor | exec }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[aw] |
\t\t    -o[neline] | -j[son] | -p[retty] | -c[olor]
\t\t    -b[atch] [filename] | -n[etns] name | -N[umeric] |
\t\t     -nm | -nam[es] | { -cf | -conf } path
\t\t     -br[ief] }
`;

const QDISC_USAGE = `Usage: tc qdisc [ add | del | replace | change | show ] dev STRING
       [ handle QHANDLE ] [ root | ingress | clsact | parent CLASSID ]
       [ estimator INTERVAL TIME_CONSTANT ]
       [ stab [ help | STAB_OPTIONS] ]
       [ ingress_block BLOCK_INDEX ] [ egress_block BLOCK_INDEX ]
       [ [ QDISC_KIND ] [ help | OPTIONS ] ]

       tc qdisc { show | list } [ dev STRING ] [ QDISC_ID ] [ invisible ]
Where:
QDISC_KIND := { [p|b]fifo | tbf | prio | cbq | red | etc. }
OPTIONS := ... try tc qdisc add <desired QDISC_KIND> help
STAB_OPTIONS := ... try tc qdisc add stab help
QDISC_ID := { root | ingress | handle QHANDLE | parent CLASSID }
`;

const FIFO_USAGE = 'Usage: ... <[p|b]fifo | pfifo_head_drop> [ limit NUMBER ]\n';

const NETEM_USAGE = `Usage: ... netem [ limit PACKETS ]
                 [ delay TIME [ JITTER [CORRELATION]]]
                 [ distribution {uniform|normal|pareto|paretonormal} ]
                 [ corrupt PERCENT [CORRELATION]]
                 [ duplicate PERCENT [CORRELATION]]
                 [ loss random PERCENT [CORRELATION]]
                 [ loss state P13 [P31 [P32 [P23 P14]]]
                 [ loss gemodel PERCENT [R [1-H [1-K]]]
                 [ seed SEED 
]                 [ ecn ]
                 [ reorder PERCENT [CORRELATION] [ gap DISTANCE ]]
                 [ rate RATE [PACKETOVERHEAD] [CELLSIZE] [CELLOVERHEAD]]
                 [ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]]
                 [ slot distribution {uniform|normal|pareto|paretonormal|custom}
                   DELAY JITTER [packets MAX_PACKETS] [bytes MAX_BYTES]]
`;

/** exit(-1) from deep inside the parser, as iproute2's NEXT_ARG and invarg do. */
class TcExit extends Error {
  constructor(readonly code: number) {
    super(`tc exit ${code}`);
  }
}

/** iproute2's matches(): `prefix` is a non-empty prefix of `word`. */
function matches(prefix: string, word: string): boolean {
  return prefix.length > 0 && word.startsWith(prefix);
}

/** strtod(): the longest leading number, and what follows it. */
function strtod(s: string): { value: number; rest: string } | null {
  const m = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s);
  if (m === null) return null;
  return { value: Number.parseFloat(m[0]), rest: s.slice(m[0].length) };
}

const UINT32_MAX = 0xffffffff;
/** psched: 64 ns ticks, 15.625 per microsecond (/proc/net/psched 000003e8 00000040 000f4240). */
const TICK_IN_USEC = 1000 / 64;

/** get_time(): microseconds, with s/ms/us suffixes. */
function getTime(str: string): number | null {
  const r = strtod(str);
  if (r === null) return null;
  let t = r.value;
  const p = r.rest.toLowerCase();
  if (p === '') return Math.trunc(t) >>> 0;
  if (p === 's' || p === 'sec' || p === 'secs') t *= 1e6;
  else if (p === 'ms' || p === 'msec' || p === 'msecs') t *= 1e3;
  else if (p !== 'us' && p !== 'usec' && p !== 'usecs') return null;
  return Math.trunc(t) >>> 0;
}

/** get_time64(): nanoseconds, with s/ms/us/ns suffixes. */
function getTime64(str: string): number | null {
  const r = strtod(str);
  if (r === null) return null;
  let t = r.value;
  const p = r.rest.toLowerCase();
  if (p === 's' || p === 'sec' || p === 'secs') t *= 1e9;
  else if (p === 'ms' || p === 'msec' || p === 'msecs') t *= 1e6;
  else if (p === 'us' || p === 'usec' || p === 'usecs') t *= 1e3;
  else if (p !== '' && p !== 'ns' && p !== 'nsec' && p !== 'nsecs') return null;
  return Math.trunc(t);
}

/** print_time64(). */
function sprintTime64(ns: number): string {
  if (ns >= 1e9) return `${fmt3g(ns / 1e9)}s`;
  if (ns >= 1e6) return `${fmt3g(ns / 1e6)}ms`;
  if (ns >= 1e3) return `${fmt3g(ns / 1e3)}us`;
  return `${ns}ns`;
}

/** get_size(): bytes, with k/m/g (and kbit/mbit/gbit) suffixes. */
function getSize(str: string): number | null {
  const r = strtod(str);
  if (r === null) return null;
  let sz = r.value;
  const p = r.rest.toLowerCase();
  if (p === 'kb' || p === 'k') sz *= 1024;
  else if (p === 'gb' || p === 'g') sz *= 1024 * 1024 * 1024;
  else if (p === 'gbit') sz *= (1024 * 1024 * 1024) / 8;
  else if (p === 'mb' || p === 'm') sz *= 1024 * 1024;
  else if (p === 'mbit') sz *= (1024 * 1024) / 8;
  else if (p === 'kbit') sz *= 1024 / 8;
  else if (p !== '' && p !== 'b') return null;
  return Math.trunc(sz) >>> 0;
}

/** parse_percent(): '30' or '30%' → 0.3; out of [0, 1] or trailing junk → null. */
function parsePercent(str: string): number | null {
  const r = strtod(str);
  if (r === null) return null;
  const v = r.value / 100;
  if (v > 1 || v < 0) return null;
  if (r.rest !== '' && r.rest !== '%') return null;
  return v;
}

/** set_percent(): rint(fraction × UINT32_MAX). */
function setPercent(v: number): number {
  return Math.round(v * UINT32_MAX);
}

/** get_percent(). */
function getPercent(str: string): number | null {
  const v = parsePercent(str);
  return v === null ? null : setPercent(v);
}

const RATE_SUFFIXES: [string, number][] = [
  ['bit', 1],
  ['kibit', 1024],
  ['kbit', 1000],
  ['mibit', 1024 * 1024],
  ['mbit', 1e6],
  ['gibit', 1024 ** 3],
  ['gbit', 1e9],
  ['tibit', 1024 ** 4],
  ['tbit', 1e12],
  ['bps', 8],
  ['kibps', 8 * 1024],
  ['kbps', 8000],
  ['mibps', 8 * 1024 * 1024],
  ['mbps', 8e6],
  ['gibps', 8 * 1024 ** 3],
  ['gbps', 8e9],
  ['tibps', 8 * 1024 ** 4],
  ['tbps', 8e12],
];

/** get_rate64(): bits per second with suffixes, returned as bytes per second. */
function getRate64(str: string): number | null {
  const r = strtod(str);
  if (r === null) return null;
  let bps = r.value;
  if (r.rest !== '') {
    const s = RATE_SUFFIXES.find(([name]) => name === r.rest.toLowerCase());
    if (s === undefined) return null;
    bps *= s[1];
  }
  return Math.trunc(bps / 8);
}

/** C's %g: six significant digits, trailing zeros dropped. */
function fmtG(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** C's %.3g for print_time. */
function fmt3g(x: number): string {
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const s = x.toFixed(Math.max(0, 2 - exp));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** print_time(): microseconds as tc shows them. */
function sprintTime(us: number): string {
  if (us >= 1e6) return `${fmt3g(us / 1e6)}s`;
  if (us >= 1e3) return `${fmt3g(us / 1e3)}ms`;
  return `${us >>> 0}us`;
}

/** sprint_ticks(): tc_core_tick2time, then print_time. */
function sprintTicks(ticks: number): string {
  return sprintTime(Math.trunc(ticks / TICK_IN_USEC));
}

/** print_size(). */
function sprintSize(sz: number): string {
  if (sz >= 1024 * 1024 && Math.abs(1024 * 1024 * Math.round(sz / (1024 * 1024)) - sz) < 1024)
    return `${fmtG(Math.round(sz / (1024 * 1024)))}Mb`;
  if (sz >= 1024 && Math.abs(1024 * Math.round(sz / 1024) - sz) < 16) return `${fmtG(Math.round(sz / 1024))}Kb`;
  return `${sz >>> 0}b`;
}

/** print_rate(): bytes per second as bits with K/M/G/T. */
function sprintRate(bytesPerSec: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let rate = BigInt(bytesPerSec) * 8n;
  let i = 0;
  for (; i < units.length - 1; i++) {
    if (rate < 1000n) break;
    if (rate % 1000n !== 0n && rate < 1000n * 1000n) break;
    rate /= 1000n;
  }
  return `${rate}${units[i]}bit`;
}

const pct = (per: number): string => `${fmtG((100 * per) / UINT32_MAX)}%`;

/** netem_print_opt(). */
function netemPrintOpt(q: NetemQdisc): string {
  const d = q.dump();
  let s = `limit ${d.limit | 0}`;
  if (d.latencyTicks) {
    s += ` delay ${sprintTicks(d.latencyTicks)}`;
    if (d.jitterTicks) s += `  ${sprintTicks(d.jitterTicks)}`;
    if (d.jitterTicks && d.corr.delay) s += ` ${pct(d.corr.delay)}`;
  }
  if (d.loss) {
    s += ` loss ${pct(d.loss)}`;
    if (d.corr.loss) s += ` ${pct(d.corr.loss)}`;
  }
  const m = d.lossModel;
  if (m?.kind === 'gi')
    s += ` loss state p13 ${pct(m.p13)} p31 ${pct(m.p31)} p32 ${pct(m.p32)} p23 ${pct(m.p23)} p14 ${pct(m.p14)}`;
  if (m?.kind === 'ge') s += ` loss gemodel p ${pct(m.p)} r ${pct(m.r)} 1-h ${pct(UINT32_MAX - m.h)} 1-k ${pct(m.k1)}`;
  if (d.duplicate) {
    s += ` duplicate ${pct(d.duplicate)}`;
    if (d.corr.dup) s += ` ${pct(d.corr.dup)}`;
  }
  if (d.reorder.probability) {
    s += ` reorder ${pct(d.reorder.probability)}`;
    if (d.reorder.correlation) s += ` ${pct(d.reorder.correlation)}`;
  }
  if (d.corrupt.probability) {
    s += ` corrupt ${pct(d.corrupt.probability)}`;
    if (d.corrupt.correlation) s += ` ${pct(d.corrupt.correlation)}`;
  }
  s += ` seed ${d.seed}`;
  if (d.rate.rate) {
    s += ` rate ${sprintRate(d.rate.rate)}`;
    if (d.rate.packetOverhead) s += ` packetoverhead ${d.rate.packetOverhead}`;
    if (d.rate.cellSize) s += ` cellsize ${d.rate.cellSize}`;
    if (d.rate.cellOverhead) s += ` celloverhead ${d.rate.cellOverhead}`;
  }
  if (d.slot !== null) {
    s += ` slot ${sprintTime64(d.slot.minDelayNs)} ${sprintTime64(d.slot.maxDelayNs)}`;
    if (d.slot.maxPackets) s += ` packets ${d.slot.maxPackets}`;
    if (d.slot.maxBytes) s += ` bytes ${d.slot.maxBytes}`;
  }
  if (d.ecn) s += ' ecn ';
  if (d.gap) s += ` gap ${d.gap}`;
  return s;
}

/**
 * The root's refcount: a qdisc a user grafted is held by every TX queue
 * (dev_graft_qdisc for each of num_tx_queues) plus the device; the default one by one.
 */
function rootRefcnt(dev: NetDevice, q: Qdisc | null): number {
  return q !== null && q.handle !== 0 ? 1 + dev.numTxQueues : 2;
}

/** One qdisc as print_qdisc() writes it. */
function printQdisc(dev: NetDevice, kind: string, q: Qdisc | null, filtered: boolean, stats: boolean): string {
  const handle = q === null ? 0 : q.handle;
  let s = `qdisc ${kind} ${(handle >>> 16).toString(16)}: `;
  if (!filtered) s += `dev ${dev.name} `;
  s += `root refcnt ${rootRefcnt(dev, q)} `;
  if (q instanceof NetemQdisc) s += netemPrintOpt(q);
  else if (q instanceof TbfQdisc) s += tbfPrintOpt(q);
  else if (q !== null && (q.id === 'pfifo' || q.id === 'pfifo_head_drop')) s += `limit ${(q as FifoQdisc).limit}p`;
  else if (q !== null && q.id === 'bfifo') s += `limit ${sprintSize((q as FifoQdisc).limit)}`;
  s += '\n';
  if (stats) {
    const b = q?.bstats ?? { bytes: 0, packets: 0 };
    const qs = q?.qstats ?? { qlen: 0, backlog: 0, drops: 0, requeues: 0, overlimits: 0 };
    s += ` Sent ${b.bytes} bytes ${b.packets >>> 0} pkt (dropped ${qs.drops}, overlimits ${qs.overlimits} requeues ${qs.requeues}) \n`;
    s += ` backlog ${sprintSize(qs.backlog)} ${qs.qlen}p requeues ${qs.requeues}\n`;
  }
  return s;
}

/** netem_print_opt() in JSON context: seconds and fractions, every key present. */
function netemJsonOpt(q: NetemQdisc): string {
  const d = q.dump();
  const frac = (per: number) => fmtG(per / UINT32_MAX);
  const sec = (ticks: number) => fmtG(Math.trunc(ticks / TICK_IN_USEC) / 1e6);
  const parts = [`"limit":${d.limit}`];
  if (d.latencyTicks)
    parts.push(
      `"delay":{"delay":${sec(d.latencyTicks)},"jitter":${sec(d.jitterTicks)},"correlation":${frac(d.corr.delay)}}`,
    );
  if (d.loss) parts.push(`"loss-random":{"loss":${frac(d.loss)},"correlation":${frac(d.corr.loss)}}`);
  const m = d.lossModel;
  if (m?.kind === 'gi')
    parts.push(
      `"loss-state":{"p13":${frac(m.p13)},"p31":${frac(m.p31)},"p32":${frac(m.p32)},"p23":${frac(m.p23)},"p14":${frac(m.p14)}}`,
    );
  if (m?.kind === 'ge')
    parts.push(
      `"loss-gemodel":{"p":${frac(m.p)},"r":${frac(m.r)},"1-h":${frac(UINT32_MAX - m.h)},"1-k":${frac(m.k1)}}`,
    );
  if (d.duplicate) parts.push(`"duplicate":{"duplicate":${frac(d.duplicate)},"correlation":${frac(d.corr.dup)}}`);
  if (d.reorder.probability)
    parts.push(`"reorder":{"reorder":${frac(d.reorder.probability)},"correlation":${frac(d.reorder.correlation)}}`);
  if (d.corrupt.probability)
    parts.push(`"corrupt":{"corrupt":${frac(d.corrupt.probability)},"correlation":${frac(d.corrupt.correlation)}}`);
  parts.push(`"seed":${d.seed}`);
  if (d.rate.rate)
    parts.push(
      `"rate":{"rate":${d.rate.rate},"packetoverhead":${d.rate.packetOverhead},"cellsize":${d.rate.cellSize},"celloverhead":${d.rate.cellOverhead}}`,
    );
  if (d.slot !== null)
    parts.push(
      `"slot":{"min-delay":${fmtG(d.slot.minDelayNs / 1e9)},"max-delay":${fmtG(d.slot.maxDelayNs / 1e9)},"packets":${d.slot.maxPackets},"bytes":${d.slot.maxBytes}}`,
    );
  parts.push(`"ecn":${d.ecn ? 'true' : 'false'}`, `"gap":${d.gap}`);
  return `{${parts.join(',')}}`;
}

/** print_qdisc() in JSON context (tc -j). */
function jsonQdisc(dev: NetDevice, kind: string, q: Qdisc | null, filtered: boolean, stats: boolean): string {
  const handle = q === null ? 0 : q.handle;
  let s = `{"kind":${JSON.stringify(kind)},"handle":"${(handle >>> 16).toString(16)}:",`;
  if (!filtered) s += `"dev":${JSON.stringify(dev.name)},`;
  s += `"root":true,"refcnt":${rootRefcnt(dev, q)},"options":`;
  if (q instanceof NetemQdisc) s += netemJsonOpt(q);
  else if (q !== null && q.id !== 'noqueue') s += `{"limit":${(q as FifoQdisc).limit}}`;
  else s += '{}';
  if (stats) {
    const b = q?.bstats ?? { bytes: 0, packets: 0 };
    const qs = q?.qstats ?? { qlen: 0, backlog: 0, drops: 0, requeues: 0, overlimits: 0 };
    s += `,"bytes":${b.bytes},"packets":${b.packets},"drops":${qs.drops},"overlimits":${qs.overlimits},"requeues":${qs.requeues},"backlog":${qs.backlog},"qlen":${qs.qlen}`;
  }
  return `${s}}`;
}

interface TcState {
  ctx: CommandContext;
  stats: boolean;
  json: boolean;
}

function incomplete(ctx: CommandContext): never {
  ctx.stderr.write('Command line is not complete. Try option "help"\n');
  throw new TcExit(255);
}

/** get_qdisc_handle(): hex major, optional colon; "none" is 0. */
function getQdiscHandle(str: string): number | null {
  if (str === 'none') return 0;
  // strtoul(str, 16) then ':' or the end; whatever follows the colon is ignored.
  const m = /^(?:0[xX])?([0-9a-fA-F]+)(?::.*)?$/.exec(str);
  if (m === null) return null;
  const maj = Number.parseInt(m[1] as string, 16);
  if (maj >= 1 << 16) return null;
  return (maj << 16) >>> 0;
}

/** fifo_parse_opt(). */
function fifoParse(ctx: CommandContext, kind: string, args: string[]): { limit?: number } | null {
  const out: { limit?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'limit') {
      const v = args[++i];
      if (v === undefined) incomplete(ctx);
      const sz = getSize(v);
      if (sz === null) {
        ctx.stderr.write(`${kind}: Illegal value for "limit": "${v}"\n`);
        return null;
      }
      out.limit = sz;
    } else if (a === 'help') {
      ctx.stderr.write(FIFO_USAGE);
      return null;
    } else {
      ctx.stderr.write(`${kind}: unknown parameter "${a}"\n${FIFO_USAGE}`);
      return null;
    }
  }
  return out;
}

/** netem_parse_opt(). */
function netemParse(ctx: CommandContext, argv: string[]): NetemConfig | null {
  const illegal = (what: string): null => {
    ctx.stderr.write(`Illegal "${what}"\n`);
    return null;
  };
  const cfg: NetemConfig = { limit: 1000, latencyNs: 0, jitterNs: 0, loss: 0, gap: 0, duplicate: 0 };
  const cor = { delay: 0, loss: 0, dup: 0 };
  let corPresent = false;
  let latencyTicks = 0;
  let jitterTicks = 0;
  let reorder: { probability: number; correlation: number } | undefined;
  let corrupt: { probability: number; correlation: number } | undefined;
  let i = 0;
  const next = (): string => {
    const v = argv[++i];
    if (v === undefined) incomplete(ctx);
    return v;
  };
  const nextIsNumber = (): boolean => /^[0-9]/.test(argv[i + 1] ?? '');
  const nextIsSigned = (): boolean => /^[0-9-]/.test(argv[i + 1] ?? '');
  const getTicks = (s: string): number | null => {
    const t = getTime(s);
    if (t === null) return null;
    if (t * TICK_IN_USEC > UINT32_MAX) {
      ctx.stderr.write(`Illegal ${t} time (too large)\n`);
      return null;
    }
    return Math.trunc(t * TICK_IN_USEC) >>> 0;
  };
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (matches(a, 'limit')) {
      const v = getSize(next());
      if (v === null) return illegal('limit');
      cfg.limit = v;
    } else if (matches(a, 'latency') || matches(a, 'delay')) {
      const t = getTicks(next());
      if (t === null) return illegal('latency');
      latencyTicks = t;
      if (nextIsNumber()) {
        const j = getTicks(next());
        if (j === null) return illegal('latency');
        jitterTicks = j;
        if (nextIsNumber()) {
          corPresent = true;
          const c = getPercent(next());
          if (c === null) return illegal('latency');
          cor.delay = c;
        }
      }
    } else if (matches(a, 'loss') || matches(a, 'drop')) {
      if (cfg.loss > 0 || cfg.lossModel !== undefined) return illegal('duplicate loss argument\n');
      let v = next();
      if (v === 'state') {
        // 4-state model: P13 [P31 [P32 [P23 P14]]], defaults 1−p13, 0, 1, 0.
        const p13 = parsePercent(next());
        if (p13 === null) return illegal('loss p13');
        const gi = {
          kind: 'gi' as const,
          p13: setPercent(p13),
          p31: setPercent(1 - p13),
          p32: 0,
          p23: UINT32_MAX,
          p14: 0,
        };
        cfg.lossModel = gi;
        for (const key of ['p31', 'p32', 'p23', 'p14'] as const) {
          if (!nextIsNumber()) break;
          const x = getPercent(next());
          if (x === null) return illegal(`loss ${key}`);
          gi[key] = x;
        }
        continue;
      }
      if (v === 'gemodel') {
        // Gilbert-Elliott: PERCENT [R [1-H [1-K]]], defaults 1−p, 1−h = 1 (h = 0), 1−k = 0.
        const pp = parsePercent(next());
        if (pp === null) return illegal('loss gemodel p');
        const ge = { kind: 'ge' as const, p: setPercent(pp), r: setPercent(1 - pp), h: 0, k1: 0 };
        cfg.lossModel = ge;
        if (nextIsNumber()) {
          const x = getPercent(next());
          if (x === null) return illegal('loss gemodel r');
          ge.r = x;
          if (nextIsNumber()) {
            const h = getPercent(next());
            if (h === null) return illegal('loss gemodel h');
            // The option is 1−h; the kernel wants h.
            ge.h = UINT32_MAX - h;
            if (nextIsNumber()) {
              const k = getPercent(next());
              if (k === null) return illegal('loss gemodel k');
              ge.k1 = k;
            }
          }
        }
        continue;
      }
      if (!/^[0-9]/.test(v)) {
        if (v !== 'random') {
          ctx.stderr.write(`Unknown loss parameter: ${v}\n`);
          return null;
        }
        v = next();
      }
      const p = getPercent(v);
      if (p === null) return illegal('loss percent');
      cfg.loss = p;
      if (nextIsNumber()) {
        corPresent = true;
        const c = getPercent(next());
        if (c === null) return illegal('loss correlation');
        cor.loss = c;
      }
    } else if (matches(a, 'seed')) {
      const v = next();
      if (!/^[0-9]+$/.test(v) || BigInt(v) > 0xffffffffffffffffn) return illegal('seed');
      cfg.seed = BigInt(v);
    } else if (matches(a, 'ecn')) {
      cfg.ecn = 1;
    } else if (matches(a, 'reorder')) {
      const p = getPercent(next());
      if (p === null) return illegal('reorder');
      reorder = { probability: p, correlation: 0 };
      if (nextIsNumber()) {
        corPresent = true;
        const c = getPercent(next());
        if (c === null) return illegal('reorder');
        reorder.correlation = c;
      }
    } else if (matches(a, 'corrupt')) {
      const p = getPercent(next());
      if (p === null) return illegal('corrupt');
      corrupt = { probability: p, correlation: 0 };
      if (nextIsNumber()) {
        corPresent = true;
        const c = getPercent(next());
        if (c === null) return illegal('corrupt');
        corrupt.correlation = c;
      }
    } else if (matches(a, 'gap')) {
      const v = next();
      if (!/^(0|[1-9][0-9]*|0[xX][0-9a-fA-F]+|0[0-7]+)$/.test(v) || Number(v) > UINT32_MAX) return illegal('gap');
      cfg.gap = Number(v);
    } else if (matches(a, 'duplicate')) {
      const p = getPercent(next());
      if (p === null) return illegal('duplicate');
      cfg.duplicate = p;
      if (nextIsNumber()) {
        const c = getPercent(next());
        if (c === null) return illegal('duplicate');
        cor.dup = c;
      }
    } else if (matches(a, 'distribution')) {
      // The tables live in /usr/lib/tc/*.dist, which lonet does not have.
      const t = next();
      ctx.stderr.write(`No distribution data for ${t} (/usr/lib/tc//${t}.dist: No such file or directory)\n`);
      return null;
    } else if (matches(a, 'slot')) {
      if (!nextIsNumber()) {
        const v = next();
        if (v === 'distribution') {
          const t = next();
          ctx.stderr.write(`No distribution data for ${t} (/usr/lib/tc//${t}.dist: No such file or directory)\n`);
        } else ctx.stderr.write(`Unknown slot parameter: ${v}\n`);
        return null;
      }
      const min = getTime64(next());
      if (min === null) return illegal('slot min_delay');
      const slot = { minDelayNs: min, maxDelayNs: min, maxPackets: 0, maxBytes: 0 };
      if (nextIsNumber()) {
        const max = getTime64(next());
        if (max === null || max < min) return illegal('slot max_delay');
        slot.maxDelayNs = max;
      }
      if (i + 1 < argv.length && matches(argv[i + 1] as string, 'packets')) {
        i++;
        const v = argv[i + 1];
        if (v === undefined || !/^-?[0-9]+$/.test(v)) return illegal('slot packets');
        slot.maxPackets = Number(v);
        i++;
      }
      if (i + 1 < argv.length && matches(argv[i + 1] as string, 'bytes')) {
        i++;
        const v = argv[i + 1];
        const b = v === undefined ? null : getSize(v);
        if (b === null) return illegal('slot bytes');
        slot.maxBytes = b | 0;
        i++;
      }
      cfg.slot = slot;
    } else if (matches(a, 'rate')) {
      const r = getRate64(next());
      if (r === null) return illegal('rate');
      cfg.rate = { rate: r, packetOverhead: 0, cellSize: 0, cellOverhead: 0 };
      const int = (s: string): number | null => (/^-?[0-9]+$/.test(s) ? Number(s) : null);
      if (nextIsSigned()) {
        const v = int(next());
        if (v === null) return illegal('rate');
        cfg.rate.packetOverhead = v;
      }
      if (nextIsNumber()) {
        const v = int(next());
        if (v === null) return illegal('rate');
        cfg.rate.cellSize = v;
      }
      if (nextIsSigned()) {
        const v = int(next());
        if (v === null) return illegal('rate');
        cfg.rate.cellOverhead = v;
      }
    } else {
      if (a !== 'help') ctx.stderr.write(`What is "${a}"?\n`);
      ctx.stderr.write(NETEM_USAGE);
      return null;
    }
  }
  if (reorder?.probability) {
    if (latencyTicks === 0) {
      ctx.stderr.write(`reordering not possible without specifying some delay\n${NETEM_USAGE}`);
      return null;
    }
    if (cfg.gap === 0) cfg.gap = 1;
  } else if (cfg.gap > 0) {
    ctx.stderr.write(`gap specified without reorder probability\n${NETEM_USAGE}`);
    return null;
  }
  if (cfg.ecn && cfg.loss <= 0 && cfg.lossModel === undefined) {
    ctx.stderr.write(`ecn requested without loss model\n${NETEM_USAGE}`);
    return null;
  }
  // PSCHED_TICKS2NS: the kernel keeps 64 ns ticks as nanoseconds.
  cfg.latencyNs = latencyTicks * 64;
  cfg.jitterNs = jitterTicks * 64;
  if (corPresent) cfg.corr = cor;
  if (reorder !== undefined) cfg.reorder = reorder;
  if (corrupt !== undefined) cfg.corrupt = corrupt;
  return cfg;
}

const TBF_USAGE = `Usage: ... tbf limit BYTES burst BYTES[/BYTES] rate KBPS [ mtu BYTES[/BYTES] ]
	[ peakrate KBPS ] [ latency TIME ] [ overhead BYTES ] [ linklayer TYPE ]
`;

/**
 * tbf_parse_opt() (q_tbf.c), without peakrate/mtu/overhead: rate, burst (buffer,
 * maxburst) and exactly one of limit or latency; the kernel gets the bucket as the
 * time `rate` takes to send it (tc_calc_xmittime, in 64 ns ticks).
 */
function tbfParse(ctx: CommandContext, argv: string[]): TbfConfig | null {
  let limit = 0;
  let latency = 0;
  let buffer = 0;
  let rate = 0;
  const explain1 = (arg: string, val: string): null => {
    ctx.stderr.write(`tbf: illegal value for "${arg}": "${val}"\n`);
    return null;
  };
  const fail = (msg: string): null => {
    ctx.stderr.write(`tbf: ${msg}\n`);
    return null;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = (): string => argv[++i] ?? incomplete(ctx);
    if (matches(a, 'limit')) {
      const v = next();
      if (limit) return fail('duplicate "limit" specification');
      if (latency) return fail('specifying both "latency" and "limit" is not allowed');
      const n = getSize(v);
      if (n === null) return explain1('limit', v);
      limit = n;
    } else if (matches(a, 'latency')) {
      const v = next();
      if (latency) return fail('duplicate "latency" specification');
      if (limit) return fail('specifying both "limit" and "/latency" is not allowed');
      const n = getTime(v);
      if (n === null) return explain1('latency', v);
      latency = n;
    } else if (matches(a, 'burst') || a === 'buffer' || a === 'maxburst') {
      const v = next();
      if (buffer) return fail('duplicate "buffer/burst/maxburst" specification');
      const n = getSize(v);
      if (n === null) return explain1(a, v);
      buffer = n;
    } else if (a === 'rate') {
      const v = next();
      if (rate) return fail('duplicate "rate" specification');
      const n = getRate64(v);
      if (n === null) return explain1('rate', v);
      rate = n;
    } else if (a === 'help') {
      ctx.stderr.write(TBF_USAGE);
      return null;
    } else {
      ctx.stderr.write(`tbf: unknown parameter "${a}"\n${TBF_USAGE}`);
      return null;
    }
  }
  let bad = false;
  if (rate === 0) {
    ctx.stderr.write('tbf: the "rate" parameter is mandatory.\n');
    bad = true;
  }
  if (!buffer) {
    ctx.stderr.write('tbf: the "burst" parameter is mandatory.\n');
    bad = true;
  }
  if (!limit && !latency) {
    ctx.stderr.write('tbf: either "limit" or "latency" is required.\n');
    bad = true;
  }
  if (bad) {
    ctx.stderr.write(TBF_USAGE);
    return null;
  }
  // opt.limit = rate × latency + buffer; opt.buffer = tc_calc_xmittime(rate, buffer).
  if (limit === 0) limit = Math.trunc((rate * latency) / 1e6 + buffer) >>> 0;
  const ticks = Math.trunc(1e6 * (buffer / rate) * TICK_IN_USEC) >>> 0;
  return { rate, bufferNs: ticks * 64, limit };
}

/** tbf_print_opt(): rate, the bucket back in bytes (tc_calc_xmitsize), and the latency it makes. */
function tbfPrintOpt(q: TbfQdisc): string {
  const ticks = q.bufferNs / 64;
  const tick2time = ticks / TICK_IN_USEC;
  const buffer = Math.trunc((q.rate * tick2time) / 1e6);
  let s = `rate ${sprintRate(q.rate)} burst ${sprintSize(buffer)} `;
  const latency = 1e6 * (q.limit / q.rate) - tick2time;
  if (latency >= 0) s += `lat ${sprintTime(Math.trunc(latency))} `;
  else s += `limit ${sprintSize(q.limit)} `;
  return s;
}

/** tc_qdisc_modify(). */
function qdiscModify(st: TcState, cmd: 'add' | 'change' | 'replace' | 'link' | 'delete', argv: string[]): number {
  const { ctx } = st;
  const flags = {
    add: NLM_F.EXCL | NLM_F.CREATE,
    change: 0,
    replace: NLM_F.CREATE | NLM_F.REPLACE,
    link: NLM_F.REPLACE,
    delete: 0,
  }[cmd];
  let d: string | undefined;
  let handle = 0;
  let parent = 0;
  let kind: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === 'dev') {
      const v = argv[++i];
      if (v === undefined) incomplete(ctx);
      if (d !== undefined) {
        ctx.stderr.write(`Error: duplicate "dev": "${v}" is the second value.\n`);
        return 255;
      }
      d = v;
    } else if (a === 'handle') {
      if (handle) {
        ctx.stderr.write(`Error: duplicate "handle": "${argv[i + 1] ?? ''}" is the second value.\n`);
        return 255;
      }
      const v = argv[++i];
      if (v === undefined) incomplete(ctx);
      const h = getQdiscHandle(v);
      if (h === null) {
        ctx.stderr.write(`Error: argument "${v}" is wrong: invalid qdisc ID\n`);
        return 255;
      }
      handle = h;
    } else if (a === 'root') {
      if (parent) {
        ctx.stderr.write('Error: "root" is duplicate parent ID\n');
        return 255;
      }
      parent = TC_H.ROOT;
    } else if (matches(a, 'help')) {
      ctx.stderr.write(QDISC_USAGE);
      return 255;
    } else {
      kind = a;
      i++;
      break;
    }
  }
  const rest = argv.slice(i);
  let spec: QdiscSpec | null = null;
  if (kind !== undefined) {
    if (kind === 'netem') {
      const cfg = netemParse(ctx, rest);
      if (cfg === null) return 1;
      spec = { kind, options: cfg };
    } else if (kind === 'tbf') {
      const cfg = tbfParse(ctx, rest);
      if (cfg === null) return 1;
      spec = { kind, options: cfg };
    } else if (kind === 'pfifo' || kind === 'bfifo' || kind === 'pfifo_head_drop') {
      const o = fifoParse(ctx, kind, rest);
      if (o === null) return 1;
      spec = { kind, options: o };
    } else {
      // parse_nofopt(): kinds without options take none.
      if (rest.length > 0) {
        ctx.stderr.write(`Unknown qdisc "${kind}", hence option "${rest[0]}" is unparsable\n`);
        return 1;
      }
      spec = { kind, options: undefined };
    }
  }
  let dev: NetDevice | undefined;
  if (d !== undefined) {
    dev = ctx.net.devGetByName(d);
    if (dev === undefined) {
      ctx.stderr.write(`Cannot find device "${d}"\n`);
      return 1;
    }
  }
  const extack: ExtAck = {};
  let err: number;
  // __dev_get_by_index(0) finds nothing: ENODEV.
  if (dev === undefined) err = -E.ENODEV;
  else if (cmd === 'delete') err = tcDeleteQdisc(dev, { flags, parent, handle, spec }, extack);
  else err = tcModifyQdisc(dev, { flags, parent, handle, spec }, extack);
  if (err < 0) {
    if (extack.msg !== undefined) ctx.stderr.write(`Error: ${extack.msg}.\n`);
    else ctx.stderr.write(`RTNETLINK answers: ${strerror(-err)}\n`);
    return 2;
  }
  return 0;
}

/** tc_qdisc_list(). */
function qdiscList(st: TcState, argv: string[]): number {
  const { ctx } = st;
  let d: string | undefined;
  let handle: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === 'dev') {
      const v = argv[++i];
      if (v === undefined) incomplete(ctx);
      if (d !== undefined) {
        ctx.stderr.write(`Error: duplicate "dev": "${v}" is the second value.\n`);
        return 255;
      }
      d = v;
    } else if (a === 'root' || a === 'invisible') {
      // Every qdisc lonet has is a root.
    } else if (a === 'handle') {
      const v = argv[++i];
      if (v === undefined) incomplete(ctx);
      const h = getQdiscHandle(v);
      if (h === null) {
        ctx.stderr.write(`Error: argument "${v}" is wrong: invalid qdisc ID\n`);
        return 255;
      }
      handle = h;
    } else if (matches(a, 'help')) {
      ctx.stderr.write(QDISC_USAGE);
      return 255;
    } else {
      ctx.stderr.write(`What is "${a}"? Try "tc qdisc help".\n`);
      return 255;
    }
  }
  let devs = ctx.net.devices;
  if (d !== undefined) {
    const dev = ctx.net.devGetByName(d);
    if (dev === undefined) {
      ctx.stderr.write(`Cannot find device "${d}"\n`);
      return 1;
    }
    devs = [dev];
  }
  const out: string[] = [];
  for (const dev of devs) {
    const q = qdiscRoot(dev);
    // noop_qdisc is built in: dumps skip it.
    if (q === null && dev.qdisc === 'noop') continue;
    if (handle !== undefined && (q?.handle ?? 0) !== handle) continue;
    const print = st.json ? jsonQdisc : printQdisc;
    out.push(print(dev, q?.id ?? dev.qdisc, q, d !== undefined, st.stats));
  }
  ctx.stdout.write(st.json ? `[${out.join(',')}]\n` : out.join(''));
  return 0;
}

function doQdisc(st: TcState, argv: string[]): number {
  const cmd = argv[0];
  if (cmd === undefined) return qdiscList(st, []);
  const rest = argv.slice(1);
  if (matches(cmd, 'add')) return qdiscModify(st, 'add', rest);
  if (matches(cmd, 'change')) return qdiscModify(st, 'change', rest);
  if (matches(cmd, 'replace')) return qdiscModify(st, 'replace', rest);
  if (matches(cmd, 'link')) return qdiscModify(st, 'link', rest);
  if (matches(cmd, 'delete')) return qdiscModify(st, 'delete', rest);
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return qdiscList(st, rest);
  if (matches(cmd, 'help')) {
    st.ctx.stderr.write(QDISC_USAGE);
    return 0;
  }
  st.ctx.stderr.write(`Command "${cmd}" is unknown, try "tc qdisc help".\n`);
  return 255;
}

export function tc(ctx: CommandContext): number {
  const argv = ctx.argv.slice(1);
  const st: TcState = { ctx, stats: false, json: false };
  try {
    while (argv.length > 0 && (argv[0] as string).startsWith('-')) {
      const opt = (argv[0] as string).replace(/^--/, '-');
      if (matches(opt, '-stats') || matches(opt, '-statistics')) st.stats = true;
      else if (matches(opt, '-json')) st.json = true;
      else if (matches(opt, '-details') || matches(opt, '-raw') || matches(opt, '-pretty') || matches(opt, '-iec')) {
        // No effect on the qdiscs lonet has.
      } else if (matches(opt, '-Version')) {
        ctx.stdout.write('tc utility, iproute2-6.1.0\n');
        return 0;
      } else if (matches(opt, '-help')) {
        ctx.stderr.write(TC_USAGE);
        return 0;
      } else {
        ctx.stderr.write(`Option "${argv[0]}" is unknown, try "tc -help".\n`);
        return 255;
      }
      argv.shift();
    }
    const obj = argv[0];
    if (obj === undefined) {
      ctx.stderr.write(TC_USAGE);
      return 0;
    }
    if (matches(obj, 'qdisc')) return doQdisc(st, argv.slice(1));
    if (matches(obj, 'help')) {
      ctx.stderr.write(TC_USAGE);
      return 0;
    }
    ctx.stderr.write(`Object "${obj}" is unknown, try "tc help".\n`);
    return 255;
  } catch (e) {
    if (e instanceof TcExit) return e.code;
    throw e;
  }
}
