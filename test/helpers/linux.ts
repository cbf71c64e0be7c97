/**
 * The real reference: runs commands inside a fresh Linux network namespace
 * (`ip netns add`), so a test can put lonet's output beside Linux's. Returns
 * undefined where that is impossible (not root, no iproute2, no netns support),
 * and the caller then skips its comparison.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * A Python program that holds sockets open in the real namespace while a test's commands
 * run. Waits for a state, never for a time: the setup line it returns starts the program
 * and returns once the program says its sockets are made and, with `tcp`, once no TCP
 * socket is still between states (handshakes and FINs finish in the real kernel's softirq,
 * which a loaded machine may run late). The program keeps its sockets until `release()`.
 */
export function pythonHolder(program: string, opts: { tcp?: boolean } = {}): { setup: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-holder-'));
  const ready = join(dir, 'ready');
  const done = join(dir, 'done');
  writeFileSync(
    join(dir, 'holder.py'),
    `${program}
import os as _os, time as _time
open(${JSON.stringify(ready)}, 'w').close()
for _ in range(6000):
    if _os.path.exists(${JSON.stringify(done)}): break
    _time.sleep(0.05)
`,
  );
  const settle = opts.tcp
    ? `i=0; while ss -tanH state syn-sent state syn-recv state fin-wait-1 state fin-wait-2 state last-ack state closing | grep -q .; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done\n`
    : '';
  writeFileSync(
    join(dir, 'run.sh'),
    `python3 ${dir}/holder.py </dev/null >/dev/null 2>&1 &
i=0; until [ -e ${ready} ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done
${settle}`,
  );
  return { setup: `sh ${dir}/run.sh`, release: () => writeFileSync(done, '') };
}
