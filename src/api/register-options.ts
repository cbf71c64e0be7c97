/**
 * lonet/register's options, from the environment (so they reach `node --test`'s and
 * vitest's child processes as they are):
 *   LONET_NETEM="delay 5ms loss 1%"   a netem qdisc on every namespace's lo (tc's syntax)
 *   LONET_CLOCK=virtual               namespaces run on a virtual clock (ns.kernel.virtualClock)
 *   LONET_PCAP=FILE                   the default namespace's lo captured, written at exit
 *   LONET_STRICT=1 | report           a host TCP/UDP socket throws where it is opened (1),
 *                                     or is reported at exit with the first one's stack
 */
import { writeFileSync } from 'node:fs';
import { PcapWriter } from '../capture/pcap.js';
import { Kernel } from '../init.js';
import { Capture } from '../tools/command.js';
import { tc } from '../tools/tc.js';
import { Namespace } from './namespace.js';
import type { StrictMode } from './strict.js';

export interface RegisterOptions {
  netem?: string;
  clock?: 'real' | 'virtual';
  pcap?: string;
  strict?: StrictMode;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RegisterOptions {
  const o: RegisterOptions = {};
  if (env.LONET_NETEM) o.netem = env.LONET_NETEM;
  if (env.LONET_CLOCK) {
    if (env.LONET_CLOCK !== 'real' && env.LONET_CLOCK !== 'virtual')
      throw new Error(`LONET_CLOCK must be 'real' or 'virtual', not '${env.LONET_CLOCK}'`);
    o.clock = env.LONET_CLOCK;
  }
  if (env.LONET_PCAP) o.pcap = env.LONET_PCAP;
  const s = env.LONET_STRICT;
  if (s !== undefined && s !== '' && s !== '0') o.strict = s === 'report' ? 'report' : 'throw';
  return o;
}

/** `tc qdisc replace dev lo root netem …`, as the shell would run it. */
export function applyNetem(ns: Namespace, spec: string): void {
  const stderr = new Capture();
  const argv = ['tc', 'qdisc', 'replace', 'dev', 'lo', 'root', 'netem', ...spec.trim().split(/\s+/)];
  const code = tc({ argv, net: ns, stdout: new Capture(), stderr, signal: new AbortController().signal });
  if (code !== 0) throw new Error(`LONET_NETEM="${spec}": ${stderr.text.trim()}`);
}

/** A fresh namespace as the options ask (the default one, or a test's). */
export function makeNamespace(opts: RegisterOptions): Namespace {
  const ns = new Namespace({ kernel: new Kernel({ clock: opts.clock ?? 'real' }) });
  if (opts.netem !== undefined) applyNetem(ns, opts.netem);
  return ns;
}

/** Captures ns's lo from now on and writes the pcap file when the process exits. */
export function pcapAtExit(ns: Namespace, file: string): void {
  const cap = ns.capture({ bufferSize: 2 ** 31 }).unref();
  process.on('exit', () => {
    const w = new PcapWriter({ linktype: cap.linktype, snaplen: cap.snaplen });
    const chunks: Uint8Array[] = [w.fileHeader()];
    for (let p = cap.read(); p !== undefined; p = cap.read())
      chunks.push(
        w.record({ tsSec: Math.floor(p.tsNs / 1e9), tsNsec: p.tsNs % 1e9, origLen: p.origLen, data: p.data }),
      );
    writeFileSync(file, Buffer.concat(chunks));
  });
}
