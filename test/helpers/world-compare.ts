/**
 * The same script in a booted lonet namespace and in a private Linux world
 * (linux-world.ts), compared line by line after normalising what varies from run to run:
 * ping's times, route cache expiry seconds.
 */
import assert from 'node:assert/strict';
import { Namespace } from '../../src/api/namespace.js';
import type { ToolResult } from '../../src/tools/command.js';
import { inLinuxWorld, lonetLines } from './linux-world.js';

/** Runs the lines in a booted lonet namespace (lo up), one result per line. */
export async function inLonet(lines: string[], ns: Namespace = new Namespace()): Promise<ToolResult[]> {
  const out: ToolResult[] = [];
  for (const line of lonetLines(lines)) out.push(await ns.exec(line));
  return out;
}

export function normaliseText(s: string): string {
  return s
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/= [\d./]+ ms/g, '= T ms')
    .replace(/expires \d+sec/g, 'expires Nsec')
    .replace(/"expires":\d+/g, '"expires":N');
}

export function normalise(r: ToolResult): ToolResult {
  return { code: r.code, stdout: normaliseText(r.stdout), stderr: normaliseText(r.stderr) };
}

/**
 * The same script on both sides; lines in `notCompared` are run but not compared. Returns
 * lonet's results and Linux's (undefined when no private Linux world can be made here).
 */
export async function compareWorlds(
  lines: string[],
  notCompared: ReadonlySet<number> = new Set(),
): Promise<{ mine: ToolResult[]; linux: ToolResult[] | undefined }> {
  const mine = await inLonet(lines);
  const linux = inLinuxWorld(lines);
  const shown = lonetLines(lines);
  if (linux !== undefined) {
    for (const [i, want] of linux.entries()) {
      if (notCompared.has(i)) continue;
      assert.deepEqual(normalise(mine[i] as ToolResult), normalise(want), `line ${i}: ${shown[i]}`);
    }
  }
  return { mine, linux };
}
