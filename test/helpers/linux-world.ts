/**
 * A private Linux world for multi-namespace scripts: one `unshare --net --mount` with a
 * tmpfs on /run/netns, so `ip netns add` and veth pairs never touch the host's
 * namespaces. Each line runs in sh; its stdout, stderr and status come back in order.
 *
 * A line starting with `#until ` is a condition polled (every 20 ms, up to 10 s) before
 * the next line runs: Linux frees a deleted namespace from a workqueue a moment later,
 * and a test waits for that state rather than for a time. lonet needs no such wait.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxResult } from './linux.js';

let available: boolean | undefined;

export function linuxWorldAvailable(): boolean {
  if (available !== undefined) return available;
  const r = spawnSync(
    'unshare',
    ['--net', '--mount', 'sh', '-c', 'mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns && ip netns add probe'],
    {
      stdio: 'ignore',
    },
  );
  available = r.status === 0;
  return available;
}

/** The lines a lonet namespace runs too: the `#until` waits left out. */
export function lonetLines(lines: string[]): string[] {
  return lines.filter((l) => !l.startsWith('#until '));
}

export function inLinuxWorld(lines: string[]): LinuxResult[] | undefined {
  if (!linuxWorldAvailable()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'lonet-world-'));
  try {
    let script = 'set +e\nmkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns || exit 99\nip link set lo up\n';
    let n = 0;
    for (const line of lines) {
      if (line.startsWith('#until ')) {
        script += `i=0; until ${line.slice(7)}; do i=$((i+1)); [ $i -gt 500 ] && break; sleep 0.02; done\n`;
        continue;
      }
      writeFileSync(join(dir, `${n}.sh`), `${line}\n`);
      script += `sh ${dir}/${n}.sh >${dir}/${n}.out 2>${dir}/${n}.err; echo $? >${dir}/${n}.rc\n`;
      n++;
    }
    const r = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`linux world failed: ${r.status} ${r.stderr}`);
    return Array.from({ length: n }, (_, i) => ({
      code: Number(readFileSync(join(dir, `${i}.rc`), 'utf8')),
      stdout: readFileSync(join(dir, `${i}.out`), 'utf8'),
      stderr: readFileSync(join(dir, `${i}.err`), 'utf8'),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a script line gave: exit code and output (ToolResult's shape, LinuxResult's too). */
export interface LineResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A normaliser of text made one of whole results: the same rewrite on stdout and stderr. */
export const eachStream =
  (f: (s: string) => string) =>
  (r: LineResult): LineResult => ({ code: r.code, stdout: f(r.stdout), stderr: f(r.stderr) });

/**
 * The same lines in a booted lonet namespace (lo up) and, when available, in a private
 * Linux world, compared line by line after `normalise`; lines in `notCompared` (indexes
 * among the lines lonet runs) are only run. Returns lonet's results.
 */
export async function compareWorlds(
  lines: string[],
  exec: (line: string) => Promise<LineResult>,
  normalise: (r: LineResult) => LineResult,
  notCompared: ReadonlySet<number> = new Set(),
): Promise<LineResult[]> {
  const mine: LineResult[] = [];
  for (const line of lonetLines(lines)) mine.push(await exec(line));
  const linux = inLinuxWorld(lines);
  const shown = lonetLines(lines);
  if (linux !== undefined) {
    for (const [i, want] of linux.entries()) {
      if (notCompared.has(i)) continue;
      deepStrictEqual(normalise(mine[i] as LineResult), normalise(want), `line ${i}: ${shown[i]}`);
    }
  }
  return mine;
}
