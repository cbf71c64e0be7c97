/**
 * net/core/neighbour.c: neighbour entries map a next hop to a link-layer address, and the
 * NUD state machine keeps them honest. A protocol (arp.ts, ndisc.ts) gives its table a
 * constructor, which decides whether an entry needs resolving at all (lo, NOARP devices,
 * broadcast and multicast keys do not), and a solicit op that sends the probe. Packets
 * sent while an entry resolves wait on its queue (unres_qlen_bytes); when it fails they
 * go back to the protocol's error_report (ICMP host unreachable to the sender).
 *
 * Times are kernel-clock nanoseconds; neighbour timers run as softirq work, never keep a
 * process alive, and move with the virtual clock.
 */

import { E } from '../include/errno.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';
import { getRandomU32 } from '../kernel/random.js';
import { parseProcInt, type SysctlEntry } from '../kernel/sysctl.js';
import { devQueueXmit } from './dev.js';
import { IFF } from './if.js';
import type { NetDevice } from './netdevice.js';
import { kfreeSkb, type SkBuff } from './skbuff.js';

/** The key arp_tbl folds loopback entries to (never handed out: entries copy their key). */
const ZERO4 = new Uint8Array(4);

/** NUD_* states. */
export const NUD = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
  NONE: 0x00,
} as const;

export const NUD_IN_TIMER = NUD.INCOMPLETE | NUD.REACHABLE | NUD.DELAY | NUD.PROBE;
export const NUD_VALID = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE | NUD.PROBE | NUD.STALE | NUD.DELAY;
export const NUD_CONNECTED = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE;

/** NTF_* flags of an entry (ndm_flags). */
export const NTF = { USE: 0x01, SELF: 0x02, MASTER: 0x04, PROXY: 0x08, EXT_LEARNED: 0x10, ROUTER: 0x80 } as const;

/** NEIGH_UPDATE_F_* for neighUpdate(). */
export const NEIGH_UPDATE_F = {
  OVERRIDE: 1 << 0,
  WEAK_OVERRIDE: 1 << 1,
  OVERRIDE_ISROUTER: 1 << 2,
  USE: 1 << 3,
  EXT_LEARNED: 1 << 4,
  ISROUTER: 1 << 30,
  ADMIN: 1 << 31,
} as const;

const NS_PER_MS = 1e6;
const HZ_NS = 1e9;

/**
 * struct neigh_parms (NEIGH_VAR_*): per device and per table, what `sysctl
 * net.ipv4.neigh.DEV.*` shows. Times in milliseconds, as the *_ms sysctls are.
 */
export interface NeighParms {
  mcast_probes: number;
  ucast_probes: number;
  app_probes: number;
  mcast_reprobes: number;
  retrans_time: number;
  base_reachable_time: number;
  delay_probe_time: number;
  interval_probe_time_ms: number;
  gc_staletime: number;
  queue_len_bytes: number;
  proxy_qlen: number;
  anycast_delay: number;
  proxy_delay: number;
  locktime: number;
  /** neigh_rand_reach_time(base_reachable_time): re-drawn when the base changes. */
  reachable_time: number;
}

/** tbl->parms defaults for arp_tbl and nd_tbl (ND has no locktime). */
export function neighParmsDefaults(family: 'inet' | 'inet6'): NeighParms {
  const base = 30000;
  return {
    mcast_probes: 3,
    ucast_probes: 3,
    app_probes: 0,
    mcast_reprobes: 0,
    retrans_time: 1000,
    base_reachable_time: base,
    delay_probe_time: 5000,
    interval_probe_time_ms: 5000,
    gc_staletime: 60000,
    queue_len_bytes: 212992,
    proxy_qlen: 64,
    anycast_delay: 1000,
    proxy_delay: 800,
    locktime: family === 'inet' ? 1000 : 0,
    reachable_time: neighRandReachTime(base),
  };
}

/** neigh_rand_reach_time(): uniform in [base/2, 3·base/2), as RFC 4861 asks. */
export function neighRandReachTime(base: number): number {
  return base === 0 ? 0 : (getRandomU32() % base) + (base >>> 1);
}

/** What the protocol gives the table (struct neigh_ops plus tbl->constructor). */
export interface NeighOps {
  /** arp_constructor / ndisc_constructor: NOARP or not, and the address if known. */
  construct(n: Neighbour): void;
  /** Send a probe; `skb` is the newest queued packet, if any (its source address is used). */
  solicit(n: Neighbour, skb: SkBuff | null): void;
  /** A packet that waited for an entry that failed. */
  errorReport(n: Neighbour, skb: SkBuff): void;
}

/** No resolution at all: every entry NOARP with the device's own address (lo's way). */
const noarpOps: NeighOps = {
  construct(n) {
    n.nudState = NUD.NOARP;
    n.ha = n.dev.devAddr.slice(0, n.dev.addrLen);
  },
  solicit() {},
  errorReport(_n, skb) {
    kfreeSkb(skb);
  },
};

export interface Neighbour {
  /** The key: 4 bytes for IPv4, 16 for IPv6. */
  readonly key: Uint8Array;
  readonly dev: NetDevice;
  readonly tbl: NeighTable;
  /** Link-layer address (neigh->ha); neigh_update() replaces it. */
  ha: Uint8Array;
  nudState: number;
  /** NTF_ROUTER and friends. */
  flags: number;
  /** When a packet last asked for it (neigh_event_send), confirmed reachable, changed state. */
  used: number;
  confirmed: number;
  updated: number;
  /** Probes sent (neigh->probes): what `ip -s neigh` shows. */
  probes: number;
  /** neigh->hh.hh_len: once a header has been built the connected fast path applies. */
  hhLen: boolean;
  /** Packets waiting for resolution (arp_queue) and their truesize. */
  arpQueue: SkBuff[];
  arpQueueLenBytes: number;
  timer: Timer | null;
  dead: boolean;
}

/** struct neigh_statistics, what /proc/net/stat/arp_cache counts. */
export interface NeighStatistics {
  allocs: number;
  destroys: number;
  lookups: number;
  hits: number;
  resFailed: number;
  rcvProbesMcast: number;
  rcvProbesUcast: number;
  unresDiscards: number;
}

/** A neighbour table (arp_tbl, nd_tbl): entries of one namespace, per family. */
export class NeighTable {
  readonly #entries = new Map<string, Neighbour>();
  /** Per-device parms (neigh_parms_alloc at NETDEV_REGISTER copies the table's default). */
  readonly #parms = new Map<NetDevice, NeighParms>();
  /** Which of a device's parms were written (p->data_state): those no longer follow the default. */
  readonly #written = new Map<NetDevice, Set<string>>();
  /** net.ipv4.neigh.default: what new devices copy. */
  readonly defaultParms: NeighParms;
  readonly stats: NeighStatistics = {
    allocs: 0,
    destroys: 0,
    lookups: 0,
    hits: 0,
    resFailed: 0,
    rcvProbesMcast: 0,
    rcvProbesUcast: 0,
    unresDiscards: 0,
  };
  ops: NeighOps = noarpOps;

  constructor(
    readonly family: 'inet' | 'inet6',
    readonly kernel: Kernel | null = null,
  ) {
    this.defaultParms = neighParmsDefaults(family);
  }

  /** The entry lookupOrCreate4 last answered, for which device and address (folded or not). */
  #last: Neighbour | null = null;
  #lastDev: NetDevice | null = null;
  #lastAddr = 0;
  #lastFold = false;

  /** Entries in creation order, as `ip neigh` lists them. */
  get entries(): Neighbour[] {
    return [...this.#entries.values()];
  }

  /** neigh_get_dev_parms_rcu(): this device's parms, made from the default on first use. */
  parms(dev: NetDevice): NeighParms {
    let p = this.#parms.get(dev);
    if (p === undefined) {
      p = { ...this.defaultParms, reachable_time: neighRandReachTime(this.defaultParms.base_reachable_time) };
      this.#parms.set(dev, p);
    }
    return p;
  }

  /** The key an entry is stored under: arp_tbl folds a loopback or point-to-point device's keys to 0.0.0.0. */
  #id(key: Uint8Array, dev: NetDevice): { k: Uint8Array; id: string } {
    const k = this.family === 'inet' && dev.flags & (IFF.LOOPBACK | IFF.POINTOPOINT) ? ZERO4 : key;
    // Every packet out asks: spell the common 4-byte key without join()'s array walk.
    const id = k.byteLength === 4 ? `${dev.ifindex}/${k[0]}.${k[1]}.${k[2]}.${k[3]}` : `${dev.ifindex}/${k.join('.')}`;
    return { k, id };
  }

  /** neigh_lookup(): the entry for this key on this device, if any. */
  lookup(key: Uint8Array, dev: NetDevice): Neighbour | undefined {
    this.stats.lookups++;
    const n = this.#entries.get(this.#id(key, dev).id);
    if (n !== undefined) this.stats.hits++;
    return n;
  }

  /** __neigh_lookup(…, creat=1) / neigh_create(): the entry, made by the protocol's constructor if new. */
  lookupOrCreate(key: Uint8Array, dev: NetDevice): Neighbour {
    const { k, id } = this.#id(key, dev);
    let n = this.#entries.get(id);
    if (n === undefined) {
      const now = this.#now(dev);
      const parms = this.parms(dev);
      n = {
        key: k.slice(),
        dev,
        tbl: this,
        ha: new Uint8Array(dev.addrLen),
        nudState: NUD.NONE,
        flags: 0,
        used: now,
        updated: now,
        // neigh_alloc(): "confirmed" long ago, so nothing counts as a recent confirmation.
        confirmed: now - 2 * parms.base_reachable_time * NS_PER_MS,
        probes: 0,
        hhLen: false,
        arpQueue: [],
        arpQueueLenBytes: 0,
        timer: null,
        dead: false,
      };
      this.ops.construct(n);
      this.stats.allocs++;
      this.#entries.set(id, n);
    }
    return n;
  }

  /**
   * lookupOrCreate() for an IPv4 next hop given as a number (__ipv4_neigh_lookup_noref): the
   * entry of the last call is answered again while it is still in the table, without a key.
   */
  lookupOrCreate4(addr: number, dev: NetDevice): Neighbour {
    const fold = this.family === 'inet' && (dev.flags & (IFF.LOOPBACK | IFF.POINTOPOINT)) !== 0;
    const last = this.#last;
    if (last !== null && this.#lastDev === dev && this.#lastFold === fold && (fold || this.#lastAddr === addr)) {
      return last;
    }
    const key = Uint8Array.of(addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255);
    const n = this.lookupOrCreate(key, dev);
    this.#last = n;
    this.#lastDev = dev;
    this.#lastAddr = addr;
    this.#lastFold = fold;
    return n;
  }

  #now(dev: NetDevice): number {
    return (this.kernel ?? dev.kernel).clock.now();
  }

  /**
   * A plain replacement of address and state, kept for callers that set an entry outright
   * (lo's tests): the admin form of neighUpdate().
   */
  update(n: Neighbour, lladdr: Uint8Array | null, state: number): void {
    neighUpdate(n, lladdr, state, NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.ADMIN);
  }

  /** neigh_remove_one(): the entry goes; false if it was not in this table. */
  delete(n: Neighbour): boolean {
    const id = this.#id(n.key, n.dev).id;
    if (this.#entries.get(id) !== n) return false;
    this.#entries.delete(id);
    if (this.#last === n) this.#last = null;
    neighKill(n);
    this.stats.destroys++;
    return true;
  }

  /**
   * neigh_flush_dev(): entries of a device that goes away or down are flushed; with
   * skipPerm (carrier loss, neigh_carrier_down) PERMANENT ones stay.
   */
  flushDev(dev: NetDevice, skipPerm = false): void {
    for (const n of [...this.#entries.values()]) {
      if (n.dev !== dev) continue;
      if (skipPerm && n.nudState & NUD.PERMANENT) continue;
      this.delete(n);
    }
    if (this.#last !== null && this.#last.dev === dev) this.#last = null;
  }

  /** Forgets a device's parms (NETDEV_UNREGISTER: neigh_parms_release). */
  releaseParms(dev: NetDevice): void {
    this.#parms.delete(dev);
    this.#written.delete(dev);
  }

  /**
   * neigh_proc_update(): a parm written through sysctl. On a device it stops following
   * the default; on the default it is copied to every device that did not set its own
   * (neigh_copy_dflt_parms). A new base reachable time draws a new reachable time.
   */
  setParm(dev: NetDevice | null, key: keyof NeighParms, value: number): void {
    const apply = (p: NeighParms) => {
      p[key] = value;
      if (key === 'base_reachable_time') p.reachable_time = neighRandReachTime(value);
    };
    if (dev !== null) {
      apply(this.parms(dev));
      let w = this.#written.get(dev);
      if (w === undefined) {
        w = new Set();
        this.#written.set(dev, w);
      }
      w.add(key);
      return;
    }
    apply(this.defaultParms);
    for (const [d, p] of this.#parms) if (!this.#written.get(d)?.has(key)) apply(p);
  }
}

/** The entry is out of the table: timers stop, waiting packets are freed. */
function neighKill(n: Neighbour): void {
  n.dead = true;
  neighDelTimer(n);
  for (const skb of n.arpQueue) kfreeSkb(skb);
  n.arpQueue = [];
  n.arpQueueLenBytes = 0;
}

function clockOf(n: Neighbour) {
  return n.dev.kernel.clock;
}

function neighDelTimer(n: Neighbour): void {
  if (n.timer !== null) {
    n.timer.cancel();
    n.timer = null;
  }
}

/** neigh_add_timer() / mod_timer(): one pending expiry per entry, at absolute time `when`. */
function neighAddTimer(n: Neighbour, when: number): void {
  neighDelTimer(n);
  const clock = clockOf(n);
  const t = clock.setTimer(Math.max(0, when - clock.now()), () => {
    if (n.timer !== t) return;
    n.timer = null;
    if (n.dead || !n.dev.net?.alive) return;
    // Timers are softirq work: what they send runs its softirqs before returning.
    const kernel = n.dev.kernel;
    kernel.runOn(kernel.curCpu, () => neighTimerHandler(n));
  });
  t.unref();
  n.timer = t;
}

/** neigh_max_probes(): unicast + app + (multicast, or the re-probes once in PROBE). */
function neighMaxProbes(n: Neighbour): number {
  const p = n.tbl.parms(n.dev);
  return p.ucast_probes + p.app_probes + (n.nudState & NUD.PROBE ? p.mcast_reprobes : p.mcast_probes);
}

/** neigh_probe(): solicit with the newest waiting packet, and count the probe. */
function neighProbe(n: Neighbour): void {
  const skb = n.arpQueue.length > 0 ? (n.arpQueue[n.arpQueue.length - 1] as SkBuff) : null;
  n.tbl.ops.solicit(n, skb);
  n.probes++;
}

/** neigh_invalidate(): resolution failed; every waiting packet goes to error_report. */
function neighInvalidate(n: Neighbour): void {
  n.tbl.stats.resFailed++;
  const queue = n.arpQueue;
  n.arpQueue = [];
  n.arpQueueLenBytes = 0;
  for (const skb of queue) {
    if (n.nudState === NUD.FAILED) n.tbl.ops.errorReport(n, skb);
    else kfreeSkb(skb);
  }
}

/** neigh_timer_handler(): the NUD state machine's clock-driven half. */
function neighTimerHandler(n: Neighbour): void {
  const p = n.tbl.parms(n.dev);
  const state = n.nudState;
  const now = clockOf(n).now();
  let next = now + HZ_NS;
  if (!(state & NUD_IN_TIMER)) return;
  const retrans = Math.max(p.retrans_time, 10) * NS_PER_MS;
  if (state & NUD.REACHABLE) {
    if (now <= n.confirmed + p.reachable_time * NS_PER_MS) {
      next = n.confirmed + p.reachable_time * NS_PER_MS;
    } else if (now <= n.used + p.delay_probe_time * NS_PER_MS) {
      n.nudState = NUD.DELAY;
      n.updated = now;
      next = now + p.delay_probe_time * NS_PER_MS;
    } else {
      n.nudState = NUD.STALE;
      n.updated = now;
    }
  } else if (state & NUD.DELAY) {
    if (now <= n.confirmed + p.delay_probe_time * NS_PER_MS) {
      n.nudState = NUD.REACHABLE;
      n.updated = now;
      next = n.confirmed + p.reachable_time * NS_PER_MS;
    } else {
      n.nudState = NUD.PROBE;
      n.updated = now;
      n.probes = 0;
      next = now + retrans;
    }
  } else {
    next = now + retrans;
  }
  if (n.nudState & (NUD.INCOMPLETE | NUD.PROBE) && n.probes >= neighMaxProbes(n)) {
    n.nudState = NUD.FAILED;
    n.updated = now;
    neighInvalidate(n);
    return;
  }
  if (n.nudState & NUD_IN_TIMER) neighAddTimer(n, Math.max(next, now + 10 * NS_PER_MS));
  if (n.nudState & (NUD.INCOMPLETE | NUD.PROBE)) neighProbe(n);
}

/**
 * __neigh_event_send(): a packet wants this entry. An unresolved one starts resolving
 * (INCOMPLETE, first probe now) and the packet waits; a STALE one goes to DELAY and the
 * packet leaves at once. 1 means queued (or dropped), 0 means send now.
 */
export function neighEventSend(n: Neighbour, skb: SkBuff | null): number {
  const now = clockOf(n).now();
  n.used = now;
  if (n.nudState & (NUD_CONNECTED | NUD.DELAY | NUD.PROBE)) return 0;
  if (n.dead) {
    if (skb !== null) kfreeSkb(skb);
    return 1;
  }
  const p = n.tbl.parms(n.dev);
  let immediateProbe = false;
  if (!(n.nudState & (NUD.STALE | NUD.INCOMPLETE))) {
    if (p.mcast_probes + p.app_probes > 0) {
      n.probes = p.ucast_probes;
      n.nudState = NUD.INCOMPLETE;
      n.updated = now;
      immediateProbe = true;
      neighAddTimer(n, now + Math.max(p.retrans_time, 10) * NS_PER_MS);
    } else {
      n.nudState = NUD.FAILED;
      n.updated = now;
      if (skb !== null) kfreeSkb(skb);
      return 1;
    }
  } else if (n.nudState & NUD.STALE) {
    n.nudState = NUD.DELAY;
    n.updated = now;
    neighAddTimer(n, now + p.delay_probe_time * NS_PER_MS);
  }
  let rc = 0;
  if (n.nudState === NUD.INCOMPLETE) {
    if (skb !== null) {
      // The oldest waiting packets make room (unres_qlen_bytes).
      while (n.arpQueueLenBytes + skb.truesize > p.queue_len_bytes && n.arpQueue.length > 0) {
        const old = n.arpQueue.shift() as SkBuff;
        n.arpQueueLenBytes -= old.truesize;
        n.tbl.stats.unresDiscards++;
        kfreeSkb(old);
      }
      n.arpQueue.push(skb);
      n.arpQueueLenBytes += skb.truesize;
    }
    rc = 1;
  }
  if (immediateProbe) neighProbe(n);
  return rc;
}

/**
 * __neigh_update(): what a received ARP/NA (or `ip neigh`) says about an entry. Without
 * ADMIN, NOARP and PERMANENT entries are left alone; an entry becoming valid sends what
 * waited on it. 0 or -errno.
 */
export function neighUpdate(n: Neighbour, lladdrIn: Uint8Array | null, newState: number, flags: number): number {
  const old = n.nudState;
  const dev = n.dev;
  const now = clockOf(n).now();
  if (!(flags & NEIGH_UPDATE_F.ADMIN) && old & (NUD.NOARP | NUD.PERMANENT)) return -E.EPERM;
  if (n.dead) return -E.ENOENT;
  if (flags & NEIGH_UPDATE_F.ADMIN && flags & NEIGH_UPDATE_F.EXT_LEARNED) n.flags |= NTF.EXT_LEARNED;
  let newS = newState;
  if (!(newS & NUD_VALID)) {
    neighDelTimer(n);
    n.nudState = newS;
    if (old & (NUD.INCOMPLETE | NUD.PROBE) && newS & NUD.FAILED) neighInvalidate(n);
    return 0;
  }
  let lladdr: Uint8Array;
  let same = false;
  if (dev.addrLen === 0) {
    lladdr = n.ha;
    same = true;
  } else if (lladdrIn !== null) {
    lladdr = lladdrIn.subarray(0, dev.addrLen);
    if (old & NUD_VALID && equalBytes(lladdr, n.ha)) same = true;
  } else {
    if (!(old & NUD_VALID)) return -E.EINVAL;
    lladdr = n.ha;
    same = true;
  }
  if (newS & NUD_CONNECTED) n.confirmed = now;
  let updateIsrouter = (flags & NEIGH_UPDATE_F.OVERRIDE_ISROUTER) !== 0;
  if (old & NUD_VALID) {
    if (!same && !(flags & NEIGH_UPDATE_F.OVERRIDE)) {
      updateIsrouter = false;
      if (flags & NEIGH_UPDATE_F.WEAK_OVERRIDE && old & NUD_CONNECTED) {
        lladdr = n.ha;
        same = true;
        newS = NUD.STALE;
      } else return 0;
    } else if (same && newS === NUD.STALE && !(flags & NEIGH_UPDATE_F.ADMIN)) {
      newS = old;
    }
  }
  if (newS !== old || !same) n.updated = now;
  if (newS !== old) {
    neighDelTimer(n);
    if (newS & NUD.PROBE) n.probes = 0;
    if (newS & NUD_IN_TIMER) {
      neighAddTimer(n, now + (newS & NUD.REACHABLE ? n.tbl.parms(dev).reachable_time * NS_PER_MS : 0));
    }
    n.nudState = newS;
  }
  if (!same) {
    const ha = new Uint8Array(dev.addrLen);
    ha.set(lladdr.subarray(0, ha.length));
    n.ha = ha;
    if (!(newS & NUD_CONNECTED)) n.confirmed = now - 2 * n.tbl.parms(dev).base_reachable_time * NS_PER_MS;
  }
  if (updateIsrouter) {
    n.flags = flags & NEIGH_UPDATE_F.ISROUTER ? n.flags | NTF.ROUTER : n.flags & ~NTF.ROUTER;
  }
  if (newS === old) return 0;
  if (!(old & NUD_VALID)) {
    // What waited goes out now, through the entry's (now connected) output.
    while (n.nudState & NUD_VALID && n.arpQueue.length > 0) {
      const skb = n.arpQueue.shift() as SkBuff;
      n.arpQueueLenBytes -= skb.truesize;
      neighOutput(n, skb, skb.protocol, devQueueXmit);
    }
    for (const skb of n.arpQueue) kfreeSkb(skb);
    n.arpQueue = [];
    n.arpQueueLenBytes = 0;
  }
  return 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * neigh_event_ns() (__neigh_lookup + neigh_update STALE with override): a solicitation
 * from `lladdr` for us tells us where its sender is.
 */
export function neighEventNs(tbl: NeighTable, lladdr: Uint8Array, key: Uint8Array, dev: NetDevice): Neighbour {
  const n = tbl.lookupOrCreate(key, dev);
  neighUpdate(n, lladdr, NUD.STALE, NEIGH_UPDATE_F.OVERRIDE);
  return n;
}

/**
 * neigh_output(): a connected entry whose header was built before sends at once
 * (neigh_hh_output, which does not touch `used`); otherwise neigh_resolve_output asks
 * the state machine first and the packet may wait. 0 when sent or queued.
 */
export function neighOutput(n: Neighbour, skb: SkBuff, protocol: number, xmit: (skb: SkBuff) => number): number {
  if (!(n.hhLen && n.nudState & NUD_CONNECTED) && neighEventSend(n, skb) !== 0) return 0;
  const dev = n.dev;
  const hdr = dev.headerOps;
  if (hdr !== null && hdr.create(skb, dev, protocol, n.ha, null, skb.len) < 0) {
    kfreeSkb(skb);
    return -22;
  }
  n.hhLen = true;
  return xmit(skb);
}

/** `ip -s neigh`'s used/confirmed/updated: whole seconds since each (USER_HZ ticks / HZ). */
export function neighAges(n: Neighbour): { used: number; confirmed: number; updated: number } {
  const now = clockOf(n).now();
  const s = (t: number) => Math.floor(Math.floor((now - t) / 1e7) / 100);
  return { used: s(n.used), confirmed: s(n.confirmed), updated: s(n.updated) };
}

/** ndm_refcnt as iproute2 shows it ("ref N"): the holds beyond the table's, here its pending timer. */
export function neighRefcnt(n: Neighbour): number {
  return n.timer !== null ? 1 : 0;
}

/** SKB_TRUESIZE(ETH_FRAME_LEN): what one queued frame costs; unres_qlen counts in these. */
const UNRES_FRAME_TRUESIZE = 1514 + 576;

/**
 * neigh_sysctl_register()'s table for one device (or the default, dev null), named
 * `${prefix}.NAME` (net.ipv4.neigh.veth0). Each converts between the sysctl's unit
 * (ms, USER_HZ ticks, seconds, frames) and the parms' milliseconds and bytes. The
 * deprecated base_reachable_time and retrans_time are left out, as sysctl -a leaves them.
 */
export function neighSysctlEntries(
  tbl: NeighTable,
  dev: NetDevice | null,
  prefix: string,
  perNet = true,
): SysctlEntry[] {
  const parms = () => (dev === null ? tbl.defaultParms : tbl.parms(dev));
  const entry = (
    name: string,
    key: keyof NeighParms,
    toUser: (v: number) => number,
    fromUser: (v: number) => number,
  ) => ({
    name: `${prefix}.${name}`,
    perNet,
    read: () => String(toUser(parms()[key])),
    write: (_k: unknown, _n: unknown, text: string) => {
      const v = parseProcInt(text);
      if (v === undefined || v < 0) return -E.EINVAL;
      tbl.setParm(dev, key, fromUser(v));
      return 0;
    },
  });
  const same = (v: number) => v;
  const userHz = [(v: number) => Math.floor(v / 10), (v: number) => v * 10] as const;
  const secs = [(v: number) => Math.floor(v / 1000), (v: number) => v * 1000] as const;
  return [
    entry('anycast_delay', 'anycast_delay', ...userHz),
    entry('app_solicit', 'app_probes', same, same),
    entry('base_reachable_time_ms', 'base_reachable_time', same, same),
    entry('delay_first_probe_time', 'delay_probe_time', ...secs),
    entry('gc_stale_time', 'gc_staletime', ...secs),
    entry('interval_probe_time_ms', 'interval_probe_time_ms', same, same),
    entry('locktime', 'locktime', ...userHz),
    entry('mcast_resolicit', 'mcast_reprobes', same, same),
    entry('mcast_solicit', 'mcast_probes', same, same),
    entry('proxy_delay', 'proxy_delay', ...userHz),
    entry('proxy_qlen', 'proxy_qlen', same, same),
    entry('retrans_time_ms', 'retrans_time', same, same),
    entry('ucast_solicit', 'ucast_probes', same, same),
    entry(
      'unres_qlen',
      'queue_len_bytes',
      (v) => Math.floor(v / UNRES_FRAME_TRUESIZE),
      (v) => v * UNRES_FRAME_TRUESIZE,
    ),
    entry('unres_qlen_bytes', 'queue_len_bytes', same, same),
  ];
}

/** What `ip neigh add|change|replace` asks (RTM_NEWNEIGH): the netlink flags and ndm_*. */
export interface NeighAddRequest {
  lladdr: Uint8Array | null;
  state: number;
  /** NTF_* from ndm_flags (ROUTER, EXT_LEARNED, USE). */
  ntf: number;
  create: boolean;
  excl: boolean;
  replace: boolean;
}

/**
 * neigh_add(): make or change an entry as an administrator. An existing entry with EXCL
 * is EEXIST; a missing one without CREATE is ENOENT; without REPLACE the address and
 * router flag are not overridden. Returns 0 or -errno, with iproute2's extack text.
 */
export function neighAdd(
  tbl: NeighTable,
  dst: Uint8Array,
  dev: NetDevice,
  req: NeighAddRequest,
  extack: { msg?: string },
): number {
  if (req.lladdr !== null && req.lladdr.length < dev.addrLen) {
    extack.msg = 'Invalid link address';
    return -E.EINVAL;
  }
  let flags = NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.OVERRIDE_ISROUTER;
  let n = tbl.lookup(dst, dev);
  if (n === undefined) {
    if (!req.create) return -E.ENOENT;
    n = tbl.lookupOrCreate(dst, dev);
  } else {
    if (req.excl) return -E.EEXIST;
    if (!req.replace) flags &= ~(NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.OVERRIDE_ISROUTER);
  }
  if (req.ntf & NTF.EXT_LEARNED) flags |= NEIGH_UPDATE_F.EXT_LEARNED;
  if (req.ntf & NTF.ROUTER) flags |= NEIGH_UPDATE_F.ISROUTER;
  if (req.ntf & NTF.USE) {
    neighEventSend(n, null);
    return 0;
  }
  if (req.state & NUD_VALID && req.lladdr === null && dev.addrLen > 0 && !(n.nudState & NUD_VALID)) {
    extack.msg = 'No link layer address given';
    return -E.EINVAL;
  }
  return neighUpdate(n, req.lladdr, req.state, flags);
}

/** neigh_delete(): the entry is failed (waiting packets bounce) and removed; ENOENT if absent. */
export function neighDelete(tbl: NeighTable, n: Neighbour | undefined): number {
  if (n === undefined) return -E.ENOENT;
  neighUpdate(n, null, NUD.FAILED, NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.ADMIN);
  tbl.delete(n);
  return 0;
}
