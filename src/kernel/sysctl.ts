/**
 * The sysctl table (/proc/sys). Each entry reads and writes a field of a plain
 * object the stack uses directly, so the hot path reads `kernel.core.netdev_max_backlog`
 * with no lookup. Global entries live on the Kernel and, as in Linux, are visible only
 * from the initial namespace; per-namespace entries live on each Net.
 */
import { E } from '../include/errno.js';
import type { Kernel } from './kernel.js';

/**
 * struct net as the sysctl table sees it. Empty here, so the kernel names no higher
 * layer; net/net.ts merges Net into it (module augmentation).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by net/net.ts
export interface Net {}

export interface SysctlEntry {
  /** Dotted name: net.core.somaxconn */
  readonly name: string;
  /** Global entries exist only in init_net; per-net ones in every namespace. */
  readonly perNet: boolean;
  read(kernel: Kernel, net: Net): string;
  /** Parses and stores; 0 or -errno (EINVAL for anything proc_dointvec would refuse). */
  write(kernel: Kernel, net: Net, text: string): number;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * proc_dointvec's parser: optional sign, then a number in C's base 0 (strtoul_lenient:
 * 0x… hex, a leading 0 octal, else decimal), surrounding whitespace.
 */
export function parseProcInt(text: string): number | undefined {
  const m = /^\s*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)\s*$/.exec(text);
  if (m === null) return undefined;
  const digits = m[2] as string;
  const mag = /^0[xX]/.test(digits)
    ? Number(digits)
    : digits.length > 1 && digits[0] === '0'
      ? Number.parseInt(digits, 8)
      : Number(digits);
  const v = m[1] === '-' ? -mag : mag;
  return v < INT_MIN || v > INT_MAX ? undefined : v;
}

export interface IntSysctlOptions {
  min?: number | ((k: Kernel) => number);
  max?: number;
  /** An extra check (e.g. power of two); false → EINVAL. */
  valid?: (v: number) => boolean;
}

/** A proc_dointvec_minmax entry backed by `holder(kernel, net)[key]`. */
export function intSysctl<T extends Record<string, unknown>>(
  name: string,
  perNet: boolean,
  holder: (kernel: Kernel, net: Net) => T,
  key: keyof T & string,
  opts: IntSysctlOptions = {},
): SysctlEntry {
  return {
    name,
    perNet,
    read: (k, n) => String(holder(k, n)[key]),
    write: (k, n, text) => {
      const v = parseProcInt(text);
      if (v === undefined) return -E.EINVAL;
      const min = typeof opts.min === 'function' ? opts.min(k) : opts.min;
      if (min !== undefined && v < min) return -E.EINVAL;
      if (opts.max !== undefined && v > opts.max) return -E.EINVAL;
      if (opts.valid !== undefined && !opts.valid(v)) return -E.EINVAL;
      (holder(k, n) as Record<string, unknown>)[key] = v;
      return 0;
    },
  };
}

/** /proc/sys/net/core/somaxconn → net.core.somaxconn; both spellings are accepted. */
export function sysctlNameFromPath(path: string): string {
  return path.replace(/^\/?proc\/sys\//, '').replace(/\//g, '.');
}
