/**
 * The files a namespace's shell can name: /proc (procfs.ts), the namespace's own
 * /etc/hosts and /etc/resolv.conf, and files under /tmp (nstat's history, say): read by
 * `cat` and written by `>` and `>>`. Each namespace is a host of its own, /tmp included.
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

const tmpFiles = new WeakMap<Net, Map<string, string>>();

/** The namespace's /tmp, by normalized path; null for a path outside it. */
function tmpDir(net: Net, path: string): { files: Map<string, string>; path: string } | null {
  const p = path.replace(/\/+/g, '/');
  if (!p.startsWith('/tmp/') || p.length === 5) return null;
  let files = tmpFiles.get(net);
  if (files === undefined) {
    files = new Map();
    tmpFiles.set(net, files);
  }
  return { files, path: p };
}

/** The file's text, or -errno. */
export function fileRead(net: Net, path: string): string | number {
  const tmp = tmpDir(net, path);
  if (tmp !== null) return tmp.files.get(tmp.path) ?? -E.ENOENT;
  return etcFile(net, path)?.text ?? procRead(net, path);
}

/** unlink(2): 0 or -errno (only /tmp files can go). */
export function fileUnlink(net: Net, path: string): number {
  const tmp = tmpDir(net, path);
  if (tmp === null) return path.startsWith('/proc/') || path.startsWith('/etc/') ? -E.EACCES : -E.ENOENT;
  return tmp.files.delete(tmp.path) ? 0 : -E.ENOENT;
}

/** Writes (or appends to) a file: 0 or -errno. */
export function fileWrite(net: Net, path: string, text: string, append: boolean): number {
  const f = etcFile(net, path);
  if (f !== null) {
    f.text = append ? f.text + text : text;
    return 0;
  }
  const tmp = tmpDir(net, path);
  if (tmp !== null) {
    tmp.files.set(tmp.path, append ? (tmp.files.get(tmp.path) ?? '') + text : text);
    return 0;
  }
  if (path.startsWith('/proc/')) return procWrite(net, path, text);
  if (path.startsWith('/etc/')) return -E.EACCES;
  return -E.ENOENT;
}
