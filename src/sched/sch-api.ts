/**
 * net/sched/sch_api.c: creating, changing, grafting and deleting qdiscs
 * (tc_modify_qdisc, tc_get_qdisc for RTM_DELQDISC, qdisc_graft, qdisc_alloc_handle),
 * with the kernel's checks in its order and its extack messages — and the typed
 * library face over the same calls: qdiscReplace(dev, netem({ … })).
 */

import { IFF } from '../core/if.js';
import { devActivate, type ExtAck, type NetDevice } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { type FifoKind, FifoQdisc } from './sch-fifo.js';
import { NoqueueQdisc, type Qdisc, TC_H, tcHMin } from './sch-generic.js';
import { type NetemConfig, NetemQdisc } from './sch-netem.js';
import { type TbfConfig, TbfQdisc } from './sch-tbf.js';

/** The options of one qdisc kind, as a netlink TCA_KIND + TCA_OPTIONS would carry them. */
export type QdiscSpec =
  | { kind: 'netem'; options: NetemConfig }
  | { kind: 'tbf'; options: TbfConfig }
  | { kind: FifoKind; options: { limit?: number } }
  | { kind: 'noqueue'; options: Record<string, never> }
  | { kind: string; options: unknown };

/** The kinds lonet has (register_qdisc). */
export const QDISC_KINDS = ['pfifo', 'bfifo', 'pfifo_head_drop', 'netem', 'tbf', 'noqueue'] as const;

/** nlmsg flags tc sends: add = CREATE|EXCL, change = 0, replace = CREATE|REPLACE. */
export const NLM_F = { REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;

/** The root qdisc users attached (dev->qdisc when its handle is not 0), or null. */
export function qdiscRoot(dev: NetDevice): Qdisc | null {
  return (dev.qdiscSched as Qdisc | null) ?? null;
}

/** qdisc_lookup(): only roots exist in lonet. */
function qdiscLookup(dev: NetDevice, handle: number): Qdisc | null {
  const q = qdiscRoot(dev);
  return q !== null && q.handle === handle ? q : null;
}

/** qdisc_alloc_handle(): one counter for the whole kernel, 8001: first. */
const autohandles = new WeakMap<Kernel, number>();
function qdiscAllocHandle(dev: NetDevice): number {
  let h = autohandles.get(dev.kernel) ?? 0x80000000;
  for (let i = 0x8000; i > 0; i--) {
    h = (h + 0x10000) >>> 0;
    if (h === 0xffff0000) h = 0x80000000;
    if (qdiscLookup(dev, h) === null) {
      autohandles.set(dev.kernel, h);
      return h;
    }
  }
  autohandles.set(dev.kernel, h);
  return 0;
}

/** qdisc_create(): find the kind, take a handle, run its init with the options. */
function qdiscCreate(dev: NetDevice, handle: number, spec: QdiscSpec, extack: ExtAck): Qdisc | number {
  if (!(QDISC_KINDS as readonly string[]).includes(spec.kind)) {
    extack.msg = 'Specified qdisc kind is unknown';
    return -E.ENOENT;
  }
  if (handle === 0) {
    handle = qdiscAllocHandle(dev);
    if (handle === 0) {
      extack.msg = 'Maximum number of qdisc handles was exceeded';
      return -E.ENOSPC;
    }
  }
  switch (spec.kind) {
    case 'netem':
      if (spec.options === undefined || spec.options === null) return -E.EINVAL;
      return new NetemQdisc(dev, handle, spec.options as NetemConfig);
    case 'tbf':
      // tbf_change(): TCA_TBF_PARMS is required.
      if (spec.options === undefined || spec.options === null) return -E.EINVAL;
      return new TbfQdisc(dev, handle, spec.options as TbfConfig);
    case 'noqueue':
      return new NoqueueQdisc(dev, handle);
    default:
      return new FifoQdisc(dev, handle, spec.kind as FifoKind, (spec.options as { limit?: number } | undefined)?.limit);
  }
}

/** qdisc_change(). */
function qdiscChange(q: Qdisc, spec: QdiscSpec | null): number {
  if (spec === null || spec.options === undefined) return 0;
  if (q instanceof NetemQdisc) q.change(spec.options as NetemConfig);
  else if (q instanceof TbfQdisc) q.change(spec.options as TbfConfig);
  else if (q instanceof FifoQdisc) {
    const limit = (spec.options as { limit?: number }).limit;
    if (limit !== undefined) q.change(limit);
  }
  return 0;
}

/**
 * qdisc_graft() at the root: deactivate, swap dev->qdisc (nothing means noop), destroy
 * the old one (its queue is dropped), activate again if the device is up — which
 * attaches the default (noqueue on lo) when the root was deleted.
 */
function qdiscGraftRoot(dev: NetDevice, q: Qdisc | null): void {
  const up = (dev.flags & IFF.UP) !== 0;
  if (up) dev.txqQdisc = 'noop';
  const old = qdiscRoot(dev);
  dev.qdiscSched = q;
  dev.qdisc = q?.id ?? 'noop';
  old?.destroy();
  if (up) devActivate(dev);
}

export interface TcRequest {
  /** NLM_F_* flags. */
  flags: number;
  /** tcm_parent: TC_H.ROOT, or 0 when only a handle was given. */
  parent: number;
  /** tcm_handle (major in the high 16 bits). */
  handle: number;
  /** TCA_KIND and TCA_OPTIONS; null when tc sent no kind. */
  spec: QdiscSpec | null;
}

/** tc_modify_qdisc() for roots (lonet has no classful parents). Returns 0 or -errno. */
export function tcModifyQdisc(dev: NetDevice, req: TcRequest, extack: ExtAck = {}): number {
  const { flags, parent: clid, handle } = req;
  const kind = req.spec?.kind;
  let q: Qdisc | null = null;
  let target: 'change' | 'create' | 'create2' | 'graft' = 'change';
  if (clid !== 0) {
    if (clid !== TC_H.ROOT) {
      extack.msg = 'Failed to find specified qdisc';
      return -E.ENOENT;
    }
    q = qdiscRoot(dev);
    if (q === null || !q.handle || q.handle !== handle) {
      if (handle) {
        if (q !== null && !(flags & NLM_F.REPLACE)) {
          extack.msg = 'NLM_F_REPLACE needed to override';
          return -E.EEXIST;
        }
        if (tcHMin(handle)) {
          extack.msg = 'Invalid minor handle';
          return -E.EINVAL;
        }
        q = qdiscLookup(dev, handle);
        if (q === null) target = 'create';
        else {
          if (flags & NLM_F.EXCL) {
            extack.msg = 'Exclusivity flag on, cannot override';
            return -E.EEXIST;
          }
          if (kind !== undefined && kind !== q.id) {
            extack.msg = 'Invalid qdisc name: must match existing qdisc';
            return -E.EINVAL;
          }
          target = 'graft';
        }
      } else if (q === null) {
        target = 'create';
      } else if (kind !== undefined && kind !== q.id) {
        const createOrReplace = flags & NLM_F.CREATE && flags & NLM_F.REPLACE;
        const createExclusive = flags & NLM_F.CREATE && flags & NLM_F.EXCL;
        const change = !(flags & (NLM_F.CREATE | NLM_F.REPLACE | NLM_F.EXCL));
        if (createOrReplace || createExclusive) target = 'create';
        else if (change) target = 'create2';
      }
    }
  } else {
    if (!handle) {
      extack.msg = 'Handle cannot be zero';
      return -E.EINVAL;
    }
    q = qdiscLookup(dev, handle);
  }

  if (target === 'change') {
    if (q === null) {
      extack.msg = 'Specified qdisc not found';
      return -E.ENOENT;
    }
    if (flags & NLM_F.EXCL) {
      extack.msg = 'Exclusivity flag on, cannot modify';
      return -E.EEXIST;
    }
    if (kind !== undefined && kind !== q.id) {
      extack.msg = 'Invalid qdisc name: must match existing qdisc';
      return -E.EINVAL;
    }
    return qdiscChange(q, req.spec);
  }
  if (target === 'create' && !(flags & NLM_F.CREATE)) {
    extack.msg = 'Qdisc not found. To create specify NLM_F_CREATE flag';
    return -E.ENOENT;
  }
  if (target !== 'graft') {
    if (req.spec === null) {
      extack.msg = 'Specified qdisc kind is unknown';
      return -E.ENOENT;
    }
    const created = qdiscCreate(dev, handle, req.spec, extack);
    if (typeof created === 'number') return created;
    q = created;
  }
  qdiscGraftRoot(dev, q);
  return 0;
}

/** tc_get_qdisc() for RTM_DELQDISC. */
export function tcDeleteQdisc(dev: NetDevice, req: TcRequest, extack: ExtAck = {}): number {
  const { parent: clid, handle } = req;
  let q: Qdisc | null;
  let isDefault = false;
  if (clid !== 0) {
    if (clid !== TC_H.ROOT) {
      extack.msg = 'Failed to find qdisc with specified classid';
      return -E.ENOENT;
    }
    q = qdiscRoot(dev);
    // The default root (noqueue, noop) has handle 0.
    const qHandle = q?.handle ?? 0;
    isDefault = q === null;
    if (handle && qHandle !== handle) {
      extack.msg = 'Invalid handle';
      return -E.EINVAL;
    }
    const qKind = q?.id ?? dev.qdisc;
    if (req.spec !== null && req.spec.kind !== qKind) {
      extack.msg = 'Invalid qdisc name: must match existing qdisc';
      return -E.EINVAL;
    }
  } else {
    q = qdiscLookup(dev, handle);
    if (q === null) {
      extack.msg = 'Failed to find qdisc with specified handle';
      return -E.ENOENT;
    }
    if (req.spec !== null && req.spec.kind !== q.id) {
      extack.msg = 'Invalid qdisc name: must match existing qdisc';
      return -E.EINVAL;
    }
    extack.msg = 'Classid cannot be zero';
    return -E.EINVAL;
  }
  if (isDefault) {
    extack.msg = 'Cannot delete qdisc with handle of zero';
    return -E.ENOENT;
  }
  qdiscGraftRoot(dev, null);
  return 0;
}

// ---- The library's face -----------------------------------------------------------

/** Percent (0–100) as netem's u32 probability: rint(p / 100 × UINT32_MAX), as tc sets it. */
export function percentToU32(p: number, what: string): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 100))
    throw new RangeError(`${what} must be a percentage from 0 to 100, got ${p}`);
  return Math.round((p / 100) * 0xffffffff);
}

export interface NetemOptions {
  /** Packets the qdisc holds before dropping (default 1000). */
  limit?: number;
  delayNs?: number;
  jitterNs?: number;
  delayCorrelationPercent?: number;
  lossPercent?: number;
  lossCorrelationPercent?: number;
  duplicatePercent?: number;
  duplicateCorrelationPercent?: number;
  /** Send this share of packets at once (needs a delay to mean anything). */
  reorderPercent?: number;
  reorderCorrelationPercent?: number;
  /** Reorder only every gap-th packet (default 1 when reorderPercent is set). */
  gap?: number;
  corruptPercent?: number;
  corruptCorrelationPercent?: number;
  /** Link rate in bits per second (netem keeps bytes per second). */
  rateBitsPerSecond?: number;
  packetOverhead?: number;
  cellSize?: number;
  cellOverhead?: number;
  /** The PRNG seed: the same seed gives the same losses, duplicates and reorders. */
  seed?: bigint | number;
  /** `loss state`: the 4-state Markov model's transition percentages (defaults as tc's). */
  lossState?: { p13: number; p31?: number; p32?: number; p23?: number; p14?: number };
  /** `loss gemodel`: Gilbert-Elliott, p and r transitions, 1−h and 1−k loss percentages. */
  lossGemodel?: { p: number; r?: number; oneMinusH?: number; oneMinusK?: number };
  /** `slot`: release packets in bursts, a slot every minDelayNs–maxDelayNs, capped in packets/bytes. */
  slot?: { minDelayNs: number; maxDelayNs?: number; packets?: number; bytes?: number };
}

/** A netem spec for qdiscReplace(). */
export function netem(opts: NetemOptions = {}): QdiscSpec {
  const ns = (v: number | undefined, what: string): number => {
    if (v === undefined) return 0;
    if (!Number.isFinite(v) || v < 0)
      throw new RangeError(`${what} must be a non-negative number of nanoseconds, got ${v}`);
    return Math.floor(v);
  };
  const pct = (v: number | undefined, what: string): number => (v === undefined ? 0 : percentToU32(v, what));
  const reorder = pct(opts.reorderPercent, 'reorderPercent');
  const cfg: NetemConfig = {
    limit: opts.limit ?? 1000,
    latencyNs: ns(opts.delayNs, 'delayNs'),
    jitterNs: ns(opts.jitterNs, 'jitterNs'),
    loss: pct(opts.lossPercent, 'lossPercent'),
    gap: opts.gap ?? (reorder ? 1 : 0),
    duplicate: pct(opts.duplicatePercent, 'duplicatePercent'),
    corr: {
      delay: pct(opts.delayCorrelationPercent, 'delayCorrelationPercent'),
      loss: pct(opts.lossCorrelationPercent, 'lossCorrelationPercent'),
      dup: pct(opts.duplicateCorrelationPercent, 'duplicateCorrelationPercent'),
    },
    reorder: { probability: reorder, correlation: pct(opts.reorderCorrelationPercent, 'reorderCorrelationPercent') },
    corrupt: {
      probability: pct(opts.corruptPercent, 'corruptPercent'),
      correlation: pct(opts.corruptCorrelationPercent, 'corruptCorrelationPercent'),
    },
  };
  if (!Number.isInteger(cfg.limit) || cfg.limit < 0 || cfg.limit > 0xffffffff)
    throw new RangeError(`limit must be a u32, got ${cfg.limit}`);
  if (opts.rateBitsPerSecond !== undefined) {
    cfg.rate = {
      rate: Math.floor(opts.rateBitsPerSecond / 8),
      packetOverhead: opts.packetOverhead ?? 0,
      cellSize: opts.cellSize ?? 0,
      cellOverhead: opts.cellOverhead ?? 0,
    };
  }
  if (opts.seed !== undefined) cfg.seed = BigInt(opts.seed);
  const gi = opts.lossState;
  if (gi !== undefined) {
    cfg.lossModel = {
      kind: 'gi',
      p13: pct(gi.p13, 'lossState.p13'),
      p31: pct(gi.p31 ?? 100 - gi.p13, 'lossState.p31'),
      p32: pct(gi.p32, 'lossState.p32'),
      p23: pct(gi.p23 ?? 100, 'lossState.p23'),
      p14: pct(gi.p14, 'lossState.p14'),
    };
  }
  const ge = opts.lossGemodel;
  if (ge !== undefined) {
    cfg.lossModel = {
      kind: 'ge',
      p: pct(ge.p, 'lossGemodel.p'),
      r: pct(ge.r ?? 100 - ge.p, 'lossGemodel.r'),
      h: 0xffffffff - pct(ge.oneMinusH ?? 100, 'lossGemodel.oneMinusH'),
      k1: pct(ge.oneMinusK, 'lossGemodel.oneMinusK'),
    };
  }
  if (opts.slot !== undefined) {
    const min = ns(opts.slot.minDelayNs, 'slot.minDelayNs');
    const max = opts.slot.maxDelayNs === undefined ? min : ns(opts.slot.maxDelayNs, 'slot.maxDelayNs');
    if (max < min) throw new RangeError('slot.maxDelayNs must not be below slot.minDelayNs');
    cfg.slot = { minDelayNs: min, maxDelayNs: max, maxPackets: opts.slot.packets ?? 0, maxBytes: opts.slot.bytes ?? 0 };
  }
  return { kind: 'netem', options: cfg };
}

export function pfifo(opts: { limit?: number } = {}): QdiscSpec {
  return { kind: 'pfifo', options: opts };
}

export function bfifo(opts: { limit?: number } = {}): QdiscSpec {
  return { kind: 'bfifo', options: opts };
}

/** Errors from the qdisc calls carry Node's errno code and the kernel's message. */
function qdiscError(err: number, extack: ExtAck, syscall: string): Error {
  const e = new Error(extack.msg ?? `${syscall} failed`) as Error & { errno: number; code: string; syscall: string };
  e.errno = err;
  e.code = Object.entries(E).find(([, v]) => v === -err)?.[0] ?? 'EINVAL';
  e.syscall = syscall;
  return e;
}

/** `tc qdisc replace dev DEV root KIND …`: attach (or change) the root qdisc; returns it. */
export function qdiscReplace(dev: NetDevice, spec: QdiscSpec): Qdisc {
  const extack: ExtAck = {};
  const err = tcModifyQdisc(dev, { flags: NLM_F.CREATE | NLM_F.REPLACE, parent: TC_H.ROOT, handle: 0, spec }, extack);
  if (err < 0) throw qdiscError(err, extack, 'qdiscReplace');
  return qdiscRoot(dev) as Qdisc;
}

/** `tc qdisc del dev DEV root`: back to the default (noqueue on lo). */
export function qdiscDelete(dev: NetDevice): void {
  const extack: ExtAck = {};
  const err = tcDeleteQdisc(dev, { flags: 0, parent: TC_H.ROOT, handle: 0, spec: null }, extack);
  if (err < 0) throw qdiscError(err, extack, 'qdiscDelete');
}
