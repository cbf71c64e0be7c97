/**
 * The forwarding tests' side of linux-world.ts: the same script in a booted lonet
 * namespace and in a private Linux world, compared after normalising what varies from run
 * to run (ping's times, route cache expiry seconds).
 */
import { Namespace } from '../../src/api/namespace.js';
import type { ToolResult } from '../../src/tools/command.js';
import { compareWorlds as compareLines, eachStream } from './linux-world.js';

export function normaliseText(s: string): string {
  return s
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/= [\d./]+ ms/g, '= T ms')
    .replace(/expires \d+sec/g, 'expires Nsec')
    .replace(/"expires":\d+/g, '"expires":N');
}

/** The script on both sides; lines in `notCompared` are run but not compared. Returns lonet's results. */
export async function compareWorlds(
  lines: string[],
  notCompared: ReadonlySet<number> = new Set(),
): Promise<{ mine: ToolResult[] }> {
  const ns = new Namespace();
  return { mine: await compareLines(lines, (l) => ns.exec(l), eachStream(normaliseText), notCompared) };
}
