/**
 * The real tcpdump and tshark, run on files, for tests that put lonet's captures and
 * printer beside them. Each returns undefined where the tool is missing (the caller
 * skips, and .ci/run installs both).
 */
import { spawnSync } from 'node:child_process';

export interface RealResult {
  code: number;
  stdout: string;
  stderr: string;
}

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

export const HAVE_TCPDUMP = has('tcpdump');
export const HAVE_TSHARK = has('tshark');

function run(tool: string, args: readonly string[]): RealResult {
  // Times print in UTC on both sides: the tests set process.env.TZ the same way.
  const r = spawnSync(tool, args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function realTcpdump(args: readonly string[]): RealResult {
  return run('tcpdump', args);
}

export function realTshark(args: readonly string[]): RealResult {
  return run('tshark', args);
}
