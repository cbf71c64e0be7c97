/**
 * The real reference: runs commands inside a fresh Linux network namespace
 * (`ip netns add`), so a test can put lonet's output beside Linux's. Returns
 * undefined where that is impossible (not root, no iproute2, no netns support),
 * and the caller then skips its comparison.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

let available: boolean | undefined;

export function linuxNetnsAvailable(): boolean {
  if (available !== undefined) return available;
  const name = `lonet-probe-${randomBytes(4).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    available = true;
  } catch {
    available = false;
  }
  return available;
}

export interface LinuxResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs each command line (split on spaces) in one fresh namespace; `setup` lines run
 * first and their output is discarded. The namespace is removed afterwards.
 * Returns the result of each command in `commands`, or undefined if unavailable.
 */
export function inLinuxNetns(setup: string[], commands: string[]): LinuxResult[] | undefined {
  if (!linuxNetnsAvailable()) return undefined;
  const name = `lonet-ref-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
  try {
    const run = (line: string): LinuxResult => {
      const argv = line.split(' ').filter((w) => w.length > 0);
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    for (const line of setup) run(line);
    return commands.map(run);
  } finally {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/** Whether a binary is on PATH. */
export function haveBinary(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}
