/**
 * nstat(8) from iproute2: the namespace's SNMP and netstat counters (/proc/net/snmp,
 * /proc/net/snmp6, /proc/net/netstat) as one `Name value rate` list. By default it
 * prints what changed since the last run and remembers the counters in its history
 * file (/tmp/.nstat.u0, in the namespace's /tmp), as iproute2's nstat does without a
 * daemon: rates are therefore always 0.0.
 */
import { fileRead, fileUnlink, fileWrite } from '../userland/files.js';
import type { CommandContext } from './command.js';
import { fnmatch } from './fnmatch.js';

interface Entry {
  id: string;
  val: bigint;
  rate: number;
}

/** Counters nstat never shows: configuration, not events. */
const USELESS = new Set([
  'IpForwarding',
  'IpDefaultTTL',
  'TcpRtoAlgorithm',
  'TcpRtoMin',
  'TcpRtoMax',
  'TcpMaxConn',
  'TcpCurrEstab',
]);

const HISTORY = '/tmp/.nstat.u0';
const U64 = 1n << 64n;

const USAGE = `Usage: nstat [OPTION] [ PATTERN [ PATTERN ] ]
   -h, --help          this message
   -a, --ignore        ignore history
   -d, --scan=SECS     sample every statistics every SECS
   -j, --json          format output in JSON
   -n, --nooutput      do history only
   -p, --pretty        pretty print
   -r, --reset         reset history
   -s, --noupdate      don't update history
   -t, --interval=SECS report average over the last SECS
   -V, --version       output version information
   -z, --zeros         show entries with zero activity
`;

const LONG: Record<string, string> = {
  help: 'h',
  ignore: 'a',
  scan: 'd',
  nooutput: 'n',
  json: 'j',
  reset: 'r',
  noupdate: 's',
  pretty: 'p',
  interval: 't',
  version: 'V',
  zeros: 'z',
};

/** %llu of a /proc value: negative numbers wrap as strtoull does. */
function parseU64(s: string): bigint | null {
  if (!/^-?\d+$/.test(s)) return null;
  const v = BigInt(s);
  return v < 0n ? (v % U64) + U64 : v % U64;
}

/**
 * load_ugly_table(): pairs of `Prefix: Name Name…` / `Prefix: value value…` lines. Names
 * are the prefix and the column joined (IpExt + InOctets); values are matched from the
 * right, so extra trailing values on the value line are skipped, as nstat does.
 */
function loadUglyTable(text: string, out: Entry[]): void {
  const lines = text.split('\n').filter((l) => l.length > 0);
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i] as string;
    const colon = head.indexOf(':');
    if (colon < 0) continue;
    const prefix = head.slice(0, colon);
    const names = head
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    const vals = (lines[i + 1] as string)
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    const skip = Math.max(0, vals.length - names.length);
    names.forEach((name, k) => {
      const v = parseU64(vals[k + skip] ?? '');
      const id = prefix + name;
      if (v !== null && !USELESS.has(id)) out.push({ id, val: v, rate: 0 });
    });
  }
}

/** load_good_table(): `Name value [rate]` lines; a `#source` line names where they came from. */
function loadGoodTable(text: string, out: Entry[]): { source: string | null; error: boolean } {
  let source: string | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      source = line.slice(1);
      continue;
    }
    const w = line.trim().split(/\s+/);
    const v = parseU64(w[1] ?? '');
    if (w[0] === undefined || v === null) return { source, error: true };
    const rate = w[2] !== undefined ? Number.parseFloat(w[2]) : 0;
    if (!USELESS.has(w[0])) out.push({ id: w[0], val: v, rate: Number.isFinite(rate) ? rate : 0 });
  }
  return { source, error: false };
}

function fmtLine(id: string, val: bigint, rate: number, tail = ''): string {
  return `${id.padEnd(32)}${String(val).padEnd(16)}${rate.toFixed(1).padStart(6)}${tail}\n`;
}

function json(pairs: [string, bigint][], pretty: boolean): string {
  if (!pretty) return `{"kernel":{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}}\n`;
  const body = pairs.map(([k, v]) => `        ${JSON.stringify(k)}: ${v}`).join(',\n');
  return `{\n    "kernel": {${pairs.length > 0 ? `\n${body}\n    ` : ''}}\n}\n`;
}

export function nstat({ argv, net, stdout, stderr }: CommandContext): number {
  const opt = new Set<string>();
  const patterns: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      patterns.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, value] = a.slice(2).split('=', 2) as [string, string | undefined];
      const hits = Object.keys(LONG).filter((k) => k.startsWith(name));
      const key = LONG[name] ?? (hits.length === 1 ? LONG[hits[0] as string] : undefined);
      if (key === undefined) {
        stderr.write(`nstat: unrecognized option '${a}'\n${USAGE}`);
        return 255;
      }
      if ((key === 'd' || key === 't') && value === undefined) i++;
      opt.add(key);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k] as string;
        if (!'h?vVzrnasd:t:jp'.includes(c) || c === ':') {
          stderr.write(`nstat: invalid option -- '${c}'\n${USAGE}`);
          return 255;
        }
        if (c === 'd' || c === 't') {
          if (k === a.length - 1) i++;
          opt.add(c);
          break;
        }
        opt.add(c);
      }
      continue;
    }
    patterns.push(a);
  }
  if (opt.has('h') || opt.has('?')) {
    stderr.write(USAGE);
    return 255;
  }
  if (opt.has('v') || opt.has('V')) {
    stdout.write('nstat utility, iproute2-6.1.0\n');
    return 0;
  }
  if (opt.has('d')) {
    // The sampling daemon forks into the background: there is no process to fork here.
    stderr.write('nstat: -d: a sampling daemon is not available in lonet\n');
    return 255;
  }
  const dumpZeros = opt.has('z');
  const ignoreHistory = opt.has('a');
  const noUpdate = opt.has('s');
  const match = (id: string) => patterns.length === 0 || patterns.some((p) => fnmatch(p, id, true));

  if (opt.has('r')) fileUnlink(net, HISTORY);
  let hist: Entry[] | null = null;
  if (!ignoreHistory || !noUpdate) {
    const text = fileRead(net, HISTORY);
    const h: Entry[] = [];
    if (typeof text === 'string' && !ignoreHistory) {
      const r = loadGoodTable(text, h);
      if (r.error) {
        stderr.write('nstat.c:135: error parsing history file\n');
        return 254;
      }
      if (r.source !== null && r.source !== 'kernel' && h.length > 0) {
        stderr.write('nstat: history is stale, ignoring it.\n');
      } else if (h.length > 0) hist = h;
    }
  }

  // The kernel's tables, in the order nstat ends up with them: snmp, snmp6, netstat.
  const kern: Entry[] = [];
  for (const [file, ugly] of [
    ['/proc/net/snmp', true],
    ['/proc/net/snmp6', false],
    ['/proc/net/netstat', true],
  ] as const) {
    const text = fileRead(net, file);
    if (typeof text !== 'string') continue;
    if (ugly) loadUglyTable(text, kern);
    else loadGoodTable(text, kern);
  }

  if (!opt.has('n')) {
    const pairs: [string, bigint][] = [];
    let text = '#kernel\n';
    let h = 0;
    for (const n of kern) {
      let val = n.val;
      let ovfl = false;
      if (!ignoreHistory && hist !== null) {
        // dump_incr_db: the history is searched from just past the last match.
        for (let k = h; k < hist.length; k++) {
          const e = hist[k] as Entry;
          if (e.id !== n.id) continue;
          if (val < e.val) {
            ovfl = true;
            val = e.val;
          }
          val -= e.val;
          h = k + 1;
          break;
        }
      }
      if (!dumpZeros && val === 0n && n.rate === 0) continue;
      if (!match(n.id)) continue;
      pairs.push([n.id, val]);
      text += fmtLine(n.id, val, n.rate, ovfl ? ' (overflow)' : '');
    }
    stdout.write(opt.has('j') ? json(pairs, opt.has('p')) : text);
  }
  if (!noUpdate) {
    // dump_kern_db(to_hist): a counter the patterns leave out keeps its old baseline.
    let text = '#kernel\n';
    let h = 0;
    for (const n of kern) {
      let val = n.val;
      if (!dumpZeros && val === 0n && n.rate === 0) continue;
      if (!match(n.id) && hist !== null) {
        for (let k = h; k < hist.length; k++) {
          const e = hist[k] as Entry;
          if (e.id !== n.id) continue;
          val = e.val;
          h = k + 1;
          break;
        }
      }
      text += fmtLine(n.id, val, n.rate);
    }
    fileWrite(net, HISTORY, text, false);
  }
  return 0;
}
