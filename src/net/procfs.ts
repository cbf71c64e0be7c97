/**
 * The slice of procfs lonet has: /proc/net/* files that layers register (as
 * proc_create_net does), and /proc/sys/* backed by the sysctl table. Reading
 * always renders the live state.
 */

import { devSeqShow, softnetSeqShow } from '../core/net-procfs.js';
import { E } from '../include/errno.js';
import type { SysctlEntry } from '../kernel/sysctl.js';
import type { Net } from './net.js';

export type ProcShow = (net: Net) => string;

const procNet = new Map<string, ProcShow>([
  ['dev', devSeqShow],
  ['softnet_stat', (net) => softnetSeqShow(net.kernel)],
]);

/** proc_create_net(): a file under /proc/net. */
export function registerProcNet(name: string, show: ProcShow): void {
  procNet.set(name, show);
}

/**
 * Directories whose entries depend on the namespace's devices (register_net_sysctl for
 * net.ipv4.conf.DEV, net.ipv6.conf.DEV): listed afresh from the live devices on each read.
 */
const sysctlDirs = new Map<string, (net: Net) => SysctlEntry[]>();

/** A per-namespace directory of sysctls under `prefix` (ending in a dot). */
export function registerSysctlDir(prefix: string, entries: (net: Net) => SysctlEntry[]): void {
  sysctlDirs.set(prefix, entries);
}

/** The sysctl entry a namespace can see under this name: global ones only in init_net. */
export function sysctlLookup(net: Net, name: string): SysctlEntry | undefined {
  const e = net.kernel.sysctls.get(name);
  if (e === undefined) {
    for (const [prefix, entries] of sysctlDirs) {
      if (name.startsWith(prefix)) return entries(net).find((d) => d.name === name);
    }
    return undefined;
  }
  if (!e.perNet && !net.isInitNet) return undefined;
  return e;
}

/** Every sysctl this namespace can see, sorted by name as `sysctl -a` lists them. */
export function sysctlVisible(net: Net): SysctlEntry[] {
  const out = [...net.kernel.sysctls.values()].filter((e) => e.perNet || net.isInitNet);
  for (const entries of sysctlDirs.values()) out.push(...entries(net));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function normalize(path: string): string {
  return `/${path
    .split('/')
    .filter((p) => p.length > 0 && p !== '.')
    .join('/')}`;
}

/** Reads a proc file: its text, or -ENOENT / -EISDIR. */
export function procRead(net: Net, path: string): string | number {
  const p = normalize(path);
  if (p.startsWith('/proc/net/')) {
    const show = procNet.get(p.slice('/proc/net/'.length));
    return show === undefined ? -E.ENOENT : show(net);
  }
  if (p.startsWith('/proc/sys/')) {
    const name = p.slice('/proc/sys/'.length).replace(/\//g, '.');
    const e = sysctlLookup(net, name);
    if (e !== undefined) return `${e.read(net.kernel, net)}\n`;
    const isDir = sysctlVisible(net).some((s) => s.name.startsWith(`${name}.`));
    return isDir ? -E.EISDIR : -E.ENOENT;
  }
  if (p === '/proc' || p === '/proc/net' || p === '/proc/sys') return -E.EISDIR;
  return -E.ENOENT;
}

/** Writes a proc file (only sysctls are writable). 0 or -errno. */
export function procWrite(net: Net, path: string, text: string): number {
  const p = normalize(path);
  if (!p.startsWith('/proc/sys/')) return procRead(net, p) === -E.ENOENT ? -E.ENOENT : -E.EACCES;
  const e = sysctlLookup(net, p.slice('/proc/sys/'.length).replace(/\//g, '.'));
  return e === undefined ? -E.ENOENT : e.write(net.kernel, net, text);
}
