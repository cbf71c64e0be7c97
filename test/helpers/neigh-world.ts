/**
 * What the neighbour tests (ARP, ND) share: the normalisation of times, ICMP ids and
 * `ip -s neigh` ages; a script run on lonet's virtual clock and in a Linux world, compared;
 * and a tcpdump running in the background of a Linux world while steps run.
 */
import { unlinkSync } from 'node:fs';
import { compareWorlds, eachStream, inLinuxWorld, type LineResult } from './linux-world.js';
import { virtualNs } from './virtual-shell.js';

export function normaliseNeigh(s: string): string {
  return s
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/= [\d./]+ ms/g, '= T ms')
    .replace(/id \d+/g, 'id I')
    .replace(/used \d+\/\d+\/\d+/g, 'used U/C/U');
}

/** The lines on a virtual-clock lonet and in a Linux world, compared; lonet's results after `skip` lines. */
export async function compareVirtual(lines: string[], skip = 0): Promise<LineResult[]> {
  const { run } = virtualNs();
  const r = await compareWorlds(lines, run, eachStream(normaliseNeigh));
  return r.slice(skip);
}

/**
 * In a Linux world: `pre`, then `tcpdump` in the background (once it listens), then
 * `steps` (where `@OUT` names tcpdump's output file, for steps that wait on it); what
 * tcpdump printed once it has `count` lines. Undefined without a Linux world.
 */
export function linuxCapture(pre: string[], tcpdump: string, steps: string[], count: number): string | undefined {
  const out = `/tmp/lonet-neigh-td-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const r = inLinuxWorld([
      ...pre,
      `${tcpdump} >${out} 2>${out}.err &`,
      `#until grep -q listening ${out}.err`,
      ...steps.map((step) => step.replaceAll('@OUT', out)),
      `#until [ $(wc -l < ${out}) -ge ${count} ]`,
      `cat ${out}`,
    ]);
    return r?.[r.length - 1]?.stdout;
  } finally {
    for (const f of [out, `${out}.err`]) {
      try {
        unlinkSync(f);
      } catch {}
    }
  }
}
