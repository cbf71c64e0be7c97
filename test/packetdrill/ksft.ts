/**
 * The selftests' ksft_runner.sh over lonet: every script in linux/ under ipv4 and ipv6
 * (or the one version its `--ip_version=` line names), with the runner's addresses and
 * -D values, each on a fresh virtual-clock host. `npm run packetdrill` prints one line
 * per script and version, with the first mismatch (line: expected vs got) and the
 * feature lonet lacks where that is why, then `packetdrill: P of N pass`. Real Linux
 * 6.18.44's result from linux-6.18.44-results.tsv is shown beside each.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePacketdrillArgs } from '../../src/tools/packetdrill/index.js';
import { type RunResult, runScript } from '../../src/tools/packetdrill/run.js';

export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'linux');

/** ksft_runner.sh's ip_args. */
export const KSFT_ARGS: Record<'ipv4' | 'ipv6', string[]> = {
  ipv4: [
    '--ip_version=ipv4',
    '--local_ip=192.168.0.1',
    '--gateway_ip=192.168.0.1',
    '--netmask_ip=255.255.0.0',
    '--remote_ip=192.0.2.1',
    '-D',
    'TFO_COOKIE=3021b9d889017eeb',
    '-D',
    'TFO_COOKIE_ZERO=b7c12350a90dc8f5',
    '-D',
    'CMSG_LEVEL_IP=SOL_IP',
    '-D',
    'CMSG_TYPE_RECVERR=IP_RECVERR',
  ],
  ipv6: [
    '--ip_version=ipv6',
    '--mtu=1520',
    '--local_ip=fd3d:0a0b:17d6::1',
    '--gateway_ip=fd3d:0a0b:17d6:8888::1',
    '--remote_ip=fd3d:fa7b:d17d::1',
    '-D',
    'TFO_COOKIE=c1d1e9742a47a9bc',
    '-D',
    'TFO_COOKIE_ZERO=82af1a8f9a205c34',
    '-D',
    'CMSG_LEVEL_IP=SOL_IPV6',
    '-D',
    'CMSG_TYPE_RECVERR=IPV6_RECVERR',
  ],
};

/**
 * What a script uses that lonet does not have, read from its text: the feature a
 * failure is put down to when the run itself did not name one.
 */
const NEEDS: [RegExp, string][] = [
  [/ZEROCOPY/, 'MSG_ZEROCOPY'],
  [/accecn|<[^>]*\bECN\b/i, 'AccECN'],
  [/\bmd5\b/, 'TCP MD5 signatures (RFC 2385)'],
  [/SO_TIMESTAMPING/, 'SO_TIMESTAMPING for TCP'],
  [/splice|pipe\(/, 'pipe and splice'],
  [/< icmp/, 'ICMP injection'],
];

/** What a mismatch itself shows lonet lacks: a segment of several MSS where lonet sent one MSS is TSO. */
function fromError(error: string): string | null {
  const script = /script packet: \S+ \S+ \d+:\d+\((\d+)\)/.exec(error);
  const actual = /actual packet: \S+ \S+ \d+:\d+\((\d+)\)/.exec(error);
  if (script !== null && actual !== null && Number(script[1]) > Number(actual[1]) && Number(actual[1]) > 0)
    return 'TSO/GSO: one segment of several MSS on the tun device';
  return null;
}

export interface CorpusRun {
  script: string;
  version: 'ipv4' | 'ipv6';
  result: RunResult;
  /** Real Linux's result on this script and version ('pass', 'fail(1)'), if recorded. */
  linux: string | undefined;
  /** The feature the failure is put down to, or null for a plain mismatch. */
  feature: string | null;
}

export function corpusScripts(): string[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.pkt'))
    .sort();
}

/** The versions ksft_runner.sh runs a script under. */
export function versionsOf(src: string): ('ipv4' | 'ipv6')[] {
  const named = [...src.matchAll(/^--ip_version=(\S+)/gm)].map((m) => m[1]);
  if (named.length === 1 && (named[0] === 'ipv4' || named[0] === 'ipv6')) return [named[0]];
  return ['ipv4', 'ipv6'];
}

function linuxResults(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(CORPUS, 'linux-6.18.44-results.tsv'), 'utf8').split('\n')) {
    const [s, v, r] = line.split('\t');
    if (s !== undefined && v !== undefined && r !== undefined) m.set(`${s} ${v}`, r);
  }
  return m;
}

export async function runCorpus(
  scripts = corpusScripts(),
  onRun: (r: CorpusRun) => void = () => {},
): Promise<CorpusRun[]> {
  const linux = linuxResults();
  const out: CorpusRun[] = [];
  for (const script of scripts) {
    const path = join(CORPUS, script);
    const src = readFileSync(path, 'utf8');
    for (const version of versionsOf(src)) {
      const args = parsePacketdrillArgs([...KSFT_ARGS[version], path]);
      if (typeof args === 'string') throw new Error(args);
      const result = await runScript(path, args.cfg, { write: () => {} });
      let feature = result.lacks;
      if (!result.ok && feature === null)
        feature = fromError(result.error) ?? NEEDS.find(([re]) => re.test(src))?.[1] ?? null;
      const r: CorpusRun = { script, version, result, linux: linux.get(`${script} ${version}`), feature };
      out.push(r);
      onRun(r);
    }
  }
  return out;
}

/** One line per run: `ok`/`FAIL`, script, version, Linux's result, the first mismatch. */
export function formatRun(r: CorpusRun): string {
  const head = `${r.result.ok ? 'ok  ' : 'FAIL'} ${r.script} ${r.version} (linux: ${r.linux ?? '?'})`;
  if (r.result.ok) return head;
  const first = r.result.error.split('\n');
  const detail =
    first.length > 1
      ? ` [${first
          .slice(1)
          .map((l) => l.trim())
          .join(' | ')}]`
      : '';
  return `${head}: line ${r.result.line}: ${first[0]}${detail}${r.feature !== null ? ` -- lonet lacks: ${r.feature}` : ''}`;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const scripts = only.length > 0 ? only.map((s) => s.replace(/^.*\//, '')) : corpusScripts();
  const runs = await runCorpus(scripts, (r) => process.stdout.write(`${formatRun(r)}\n`));
  const pass = runs.filter((r) => r.result.ok).length;
  const groups = new Map<string, string[]>();
  for (const r of runs) {
    if (r.result.ok) continue;
    const key = r.feature ?? 'behaviour differs from Linux (first mismatch above)';
    const list = groups.get(key) ?? [];
    list.push(`${r.script} ${r.version}`);
    groups.set(key, list);
  }
  process.stdout.write('\nfailures by what lonet lacks:\n');
  for (const [k, list] of [...groups].sort((a, b) => b[1].length - a[1].length))
    process.stdout.write(`  ${k}: ${list.length}\n`);
  const linuxPass = runs.filter((r) => r.linux === 'pass').length;
  const bothPass = runs.filter((r) => r.linux === 'pass' && r.result.ok).length;
  process.stdout.write(`\nreal Linux 6.18.44 passes ${linuxPass} of these runs; lonet passes ${bothPass} of those\n`);
  process.stdout.write(`packetdrill: ${pass} of ${runs.length} pass\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
