/**
 * An IPv4 FIB table (net/ipv4/fib_trie.c, in spirit): routes grouped by prefix
 * length, looked up longest prefix first. Linux keeps a LC-trie; a map per prefix
 * length gives the same answers (the longest match, then aliases in order) with a
 * lookup cost that depends on how many prefix lengths are in use, not on routes.
 */

import type { NetDevice } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import { inetMakeMask } from './devinet.js';

/** Route types (RTN_*). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

export const RTN_NAMES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
] as const;

/** Routing table ids (RT_TABLE_*). */
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** Route origins (RTPROT_*). */
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4 } as const;

/** RTNH_F_* next-hop flags. */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16 } as const;

/** fib_props[type].error: what a lookup that lands on this type returns. */
const FIB_PROPS_ERROR: readonly number[] = [
  0,
  0,
  0,
  0,
  0,
  0,
  -E.EINVAL,
  -E.EHOSTUNREACH,
  -E.EACCES,
  -E.EAGAIN,
  -E.EINVAL,
  -E.EINVAL,
];

/** One route: struct fib_alias with its struct fib_info and single next hop folded in. */
export interface FibAlias {
  /** Network prefix, u32 host order, already masked. */
  dst: number;
  dstLen: number;
  tos: number;
  type: number;
  /** The route's scope (fib_info.fib_scope). */
  scope: number;
  /** Metric (fib_priority). */
  priority: number;
  protocol: number;
  /** Preferred source (fib_prefsrc), 0 if none. */
  prefsrc: number;
  /** Next hop: device and gateway (0 = directly connected). */
  dev: NetDevice | null;
  gateway: number;
  /** The next hop's scope (fib_nh_scope): RT_SCOPE_NOWHERE for host routes, which survive a device going down. */
  nhScope: number;
  nhFlags: number;
  table: number;
}

/** struct flowi4, the fields a lookup reads. */
export interface Flowi4 {
  daddr: number;
  saddr: number;
  oif: number;
  iif: number;
  tos: number;
  scope: number;
  mark: number;
  proto: number;
}

export function flowi4(init: Partial<Flowi4> = {}): Flowi4 {
  // Field by field, not a spread: every datagram sent makes one, and all flows share a shape.
  return {
    daddr: init.daddr ?? 0,
    saddr: init.saddr ?? 0,
    oif: init.oif ?? 0,
    iif: init.iif ?? 0,
    tos: init.tos ?? 0,
    scope: init.scope ?? 0,
    mark: init.mark ?? 0,
    proto: init.proto ?? 0,
  };
}

/** struct fib_result. */
export interface FibResult {
  prefix: number;
  prefixlen: number;
  type: number;
  scope: number;
  fa: FibAlias;
  table: number;
}

export class FibTable {
  /** prefix length → masked prefix → aliases, in lookup order. */
  readonly #byLen = new Map<number, Map<number, FibAlias[]>>();
  /** Prefix lengths in use, longest first. */
  #lens: number[] = [];
  /** For each of #lens, its mask and its prefix map, so a lookup makes no Map search per length. */
  #masks: number[] = [];
  #maps: Map<number, FibAlias[]>[] = [];

  constructor(readonly id: number) {}

  /** Number of routes. */
  get size(): number {
    let n = 0;
    for (const m of this.#byLen.values()) for (const l of m.values()) n += l.length;
    return n;
  }

  /**
   * fib_table_insert(): -EEXIST for an exact duplicate (same tos and metric and the same
   * info as fib_find_info() compares it), or with `exclusive` for any route of the same
   * prefix, tos and metric. `replace` swaps the first of those; otherwise the route goes
   * after them (NLM_F_APPEND, what addrconf's routes use) or with `prepend` before them.
   */
  insert(fa: FibAlias, opts: { exclusive?: boolean; replace?: boolean; prepend?: boolean } = {}): number {
    let byKey = this.#byLen.get(fa.dstLen);
    if (byKey === undefined) {
      byKey = new Map();
      this.#byLen.set(fa.dstLen, byKey);
      this.#lens = [...this.#byLen.keys()].sort((a, b) => b - a);
      this.#indexLens();
    }
    const list = byKey.get(fa.dst) ?? [];
    const same = list.filter((o) => o.tos === fa.tos && o.priority === fa.priority);
    if (opts.replace === true && same.length > 0) {
      list[list.indexOf(same[0] as FibAlias)] = fa;
      byKey.set(fa.dst, list);
      return 0;
    }
    if (same.length > 0 && opts.exclusive === true) return -E.EEXIST;
    if (same.some((o) => fibAliasSameInfo(o, fa))) return -E.EEXIST;
    // Aliases sort by tos (higher first), then metric (lower first); equal ones go
    // after the group, or before it when prepending.
    const before = (o: FibAlias) =>
      o.tos > fa.tos ||
      (o.tos === fa.tos && (o.priority < fa.priority || (o.priority === fa.priority && !opts.prepend)));
    let i = 0;
    while (i < list.length && before(list[i] as FibAlias)) i++;
    list.splice(i, 0, fa);
    byKey.set(fa.dst, list);
    return 0;
  }

  /** fib_table_delete(): the first route matching every field given; -ESRCH if none. */
  delete(match: Partial<FibAlias> & { dst: number; dstLen: number }): number {
    const list = this.#byLen.get(match.dstLen)?.get(match.dst);
    if (list === undefined) return -E.ESRCH;
    const i = list.findIndex((fa) => aliasMatches(fa, match));
    if (i < 0) return -E.ESRCH;
    list.splice(i, 1);
    this.#prune(match.dstLen, match.dst, list);
    return 0;
  }

  /** Removes every route for which `pred` holds; returns how many went. */
  flush(pred: (fa: FibAlias) => boolean): number {
    let n = 0;
    for (const [len, byKey] of this.#byLen) {
      for (const [key, list] of byKey) {
        const keep = list.filter((fa) => !pred(fa));
        n += list.length - keep.length;
        if (keep.length === list.length) continue;
        byKey.set(key, keep);
        this.#prune(len, key, keep);
      }
    }
    return n;
  }

  #indexLens(): void {
    this.#masks = this.#lens.map((l) => inetMakeMask(l));
    this.#maps = this.#lens.map((l) => this.#byLen.get(l) as Map<number, FibAlias[]>);
  }

  #prune(len: number, key: number, list: FibAlias[]): void {
    if (list.length > 0) return;
    const byKey = this.#byLen.get(len);
    byKey?.delete(key);
    if (byKey !== undefined && byKey.size === 0) {
      this.#byLen.delete(len);
      this.#lens = this.#lens.filter((l) => l !== len);
      this.#indexLens();
    }
  }

  /** Routes in dump order: by prefix, then longer prefixes first, then alias order. */
  dump(): FibAlias[] {
    const all: FibAlias[] = [];
    for (const byKey of this.#byLen.values()) for (const list of byKey.values()) all.push(...list);
    return all.sort((a, b) => a.dst - b.dst || b.dstLen - a.dstLen);
  }

  /**
   * fib_table_lookup(): the longest prefix first; within it, aliases whose tos and
   * scope fit, whose next hop is alive and on the requested output device. A
   * reject-type route answers its error; no match is -EAGAIN (try the next rule).
   */
  lookup(flp: Flowi4): FibResult | number {
    const lens = this.#lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i] as number;
      const key = (flp.daddr & (this.#masks[i] as number)) >>> 0;
      const list = (this.#maps[i] as Map<number, FibAlias[]>).get(key);
      if (list === undefined) continue;
      for (const fa of list) {
        if (fa.tos !== 0 && fa.tos !== flp.tos) continue;
        if (fa.scope < flp.scope) continue;
        const err = FIB_PROPS_ERROR[fa.type] ?? 0;
        if (err < 0) return err;
        if (fa.nhFlags & RTNH_F.DEAD) continue;
        if (flp.oif !== 0 && fa.dev !== null && fa.dev.ifindex !== flp.oif) continue;
        return { prefix: key, prefixlen: len, type: fa.type, scope: fa.scope, fa, table: this.id };
      }
    }
    return -E.EAGAIN;
  }
}

/** fib_find_info()'s notion of the same route information (type, next hop, scope, source, protocol, flags). */
export function fibAliasSameInfo(a: FibAlias, b: FibAlias): boolean {
  return (
    a.type === b.type &&
    a.dev === b.dev &&
    a.gateway === b.gateway &&
    a.scope === b.scope &&
    a.prefsrc === b.prefsrc &&
    a.protocol === b.protocol &&
    a.nhFlags === b.nhFlags
  );
}

function aliasMatches(fa: FibAlias, m: Partial<FibAlias>): boolean {
  for (const [k, v] of Object.entries(m) as [keyof FibAlias, unknown][]) {
    if (v === undefined) continue;
    if (fa[k] !== v) return false;
  }
  return true;
}
