/**
 * The files a namespace's shell can name: /proc (procfs.ts) and the namespace's own
 * /etc/hosts and /etc/resolv.conf, read by `cat` and written by `>` and `>>`.
 */
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { procRead, procWrite } from '../net/procfs.js';
import { etcOf } from './resolver.js';

function etcFile(net: Net, path: string): { text: string } | null {
  const p = path.replace(/\/+/g, '/');
  if (p === '/etc/hosts') return etcOf(net).hosts;
  if (p === '/etc/resolv.conf') return etcOf(net).resolvConf;
  return null;
}

/** The file's text, or -errno. */
export function fileRead(net: Net, path: string): string | number {
  return etcFile(net, path)?.text ?? procRead(net, path);
}

/** Writes (or appends to) a file: 0 or -errno. */
export function fileWrite(net: Net, path: string, text: string, append: boolean): number {
  const f = etcFile(net, path);
  if (f !== null) {
    f.text = append ? f.text + text : text;
    return 0;
  }
  if (path.startsWith('/proc/')) return procWrite(net, path, text);
  if (path.startsWith('/etc/')) return -E.EACCES;
  return -E.ENOENT;
}
