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

/** Tables one namespace registered for itself (register_net_sysctl of per-device tables). */
const netSysctls = new WeakMap<Net, Map<string, SysctlEntry>>();

/** register_net_sysctl(): an entry only this namespace sees (net.ipv4.neigh.veth0.*). */
export function registerNetSysctl(net: Net, entry: SysctlEntry): void {
  let m = netSysctls.get(net);
  if (m === undefined) {
    m = new Map();
    netSysctls.set(net, m);
  }
  m.set(entry.name, entry);
}

/** unregister_net_sysctl_table(): every entry of this namespace under `prefix.`. */
export function unregisterNetSysctls(net: Net, prefix: string): void {
  const m = netSysctls.get(net);
  if (m === undefined) return;
  for (const name of [...m.keys()]) if (name.startsWith(`${prefix}.`)) m.delete(name);
}

/** The sysctl entry a namespace can see under this name: global ones only in init_net. */
export function sysctlLookup(net: Net, name: string): SysctlEntry | undefined {
  const e = net.kernel.sysctls.get(name) ?? netSysctls.get(net)?.get(name);
  if (e === undefined || (!e.perNet && !net.isInitNet)) return undefined;
  return e;
}

/** Every sysctl this namespace can see, sorted by name as `sysctl -a` lists them. */
export function sysctlVisible(net: Net): SysctlEntry[] {
  return [...net.kernel.sysctls.values(), ...(netSysctls.get(net)?.values() ?? [])]
    .filter((e) => e.perNet || net.isInitNet)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
