/**
 * net/bridge/br_fdb.c: the forwarding database. Source addresses are learned per
 * port as frames arrive; an entry not refreshed within ageing_time (300 s) expires,
 * and the garbage collector, a delayed work re-armed for the next expiry, removes it.
 * The bridge's and its ports' own addresses are local entries that never age.
 */

import type { FdbDumpEntry, NetDevice } from '../../core/netdevice.js';
import { NLM_F, NTF } from '../../core/rtnetlink.js';
import { E } from '../../include/errno.js';
import {
  BR_FDB,
  BR_STATE,
  type FdbEntry,
  isValidEtherAddr,
  macKey,
  type NetBridge,
  type NetBridgePort,
  NS_PER_CLOCK_T,
} from './br-private.js';

/** hold_time(): ageing_time (forward_delay while the topology changes, which needs STP). */
function holdTime(br: NetBridge): number {
  return br.topologyChange ? br.forwardDelay : br.ageingTime;
}

/** has_expired(): a dynamic entry not refreshed for hold_time. */
export function hasExpired(br: NetBridge, f: FdbEntry): boolean {
  return !(f.flags & BR_FDB.STATIC) && f.updated + holdTime(br) <= br.dev.kernel.clock.now();
}

export function brFdbFind(br: NetBridge, addr: Uint8Array): FdbEntry | null {
  return br.fdb.get(macKey(addr)) ?? null;
}

/** fdb_create(): hashed, and first on fdb_list. */
function fdbCreate(br: NetBridge, source: NetBridgePort | null, addr: Uint8Array, flags: number): FdbEntry {
  const now = br.dev.kernel.clock.now();
  const f: FdbEntry = { addr: addr.slice(0, 6), dst: source, flags, updated: now, used: now };
  br.fdb.set(macKey(addr), f);
  br.fdbList.unshift(f);
  return f;
}

function fdbDelete(br: NetBridge, f: FdbEntry): void {
  br.fdb.delete(macKey(f.addr));
  const i = br.fdbList.indexOf(f);
  if (i >= 0) br.fdbList.splice(i, 1);
}

/**
 * fdb_delete_local(): a local entry moves to another port (or the bridge itself) with
 * the same address instead of going.
 */
function fdbDeleteLocal(br: NetBridge, p: NetBridgePort | null, f: FdbEntry): void {
  for (const op of br.ports) {
    if (op !== p && macKey(op.dev.devAddr) === macKey(f.addr)) {
      f.dst = op;
      f.flags &= ~BR_FDB.ADDED_BY_USER;
      return;
    }
  }
  if (p !== null && macKey(br.dev.devAddr) === macKey(f.addr)) {
    f.dst = null;
    f.flags &= ~BR_FDB.ADDED_BY_USER;
    return;
  }
  fdbDelete(br, f);
}

/** fdb_add_local() / br_fdb_add_local(): a permanent entry for an address of ours. */
export function brFdbAddLocal(br: NetBridge, source: NetBridgePort | null, addr: Uint8Array): number {
  if (!isValidEtherAddr(addr)) return -E.EINVAL;
  const f = brFdbFind(br, addr);
  if (f !== null) {
    // Several ports may share an address: the first keeps the entry.
    if (f.flags & BR_FDB.LOCAL) return 0;
    br.dev.kernel.printk(
      'warn',
      `${br.dev.name}: adding interface ${source?.dev.name ?? br.dev.name} with same address as a received packet (addr:${macKey(addr)}, vlan:0)`,
    );
    fdbDelete(br, f);
  }
  fdbCreate(br, source, addr, BR_FDB.LOCAL | BR_FDB.STATIC);
  return 0;
}

/** br_fdb_changeaddr(): a port's address changed; its local entry follows. */
export function brFdbChangeaddr(p: NetBridgePort, newaddr: Uint8Array): void {
  const br = p.br;
  for (const f of [...br.fdbList]) {
    if (f.dst === p && f.flags & BR_FDB.LOCAL && !(f.flags & BR_FDB.ADDED_BY_USER)) {
      fdbDeleteLocal(br, p, f);
      break;
    }
  }
  brFdbAddLocal(br, p, newaddr);
}

/** br_fdb_change_mac_address(): the bridge's own address, held by no port, moves. */
export function brFdbChangeMacAddress(br: NetBridge, newaddr: Uint8Array): void {
  const f = brFdbFind(br, br.dev.devAddr);
  if (f !== null && f.flags & BR_FDB.LOCAL && f.dst === null && !(f.flags & BR_FDB.ADDED_BY_USER))
    fdbDeleteLocal(br, null, f);
  brFdbAddLocal(br, null, newaddr);
}

/**
 * br_fdb_update(): learn (or refresh, or move) the source of a frame that came in on
 * `source`. A frame carrying one of our own addresses as its source is only logged.
 */
export function brFdbUpdate(br: NetBridge, source: NetBridgePort, addr: Uint8Array): void {
  if (holdTime(br) === 0) return;
  const f = brFdbFind(br, addr);
  if (f === null) {
    fdbCreate(br, source, addr, 0);
    return;
  }
  if (f.flags & BR_FDB.LOCAL) {
    if (br.dev.kernel.netRatelimit())
      br.dev.kernel.printk(
        'warn',
        `${br.dev.name}: received packet on ${source.dev.name} with own address as source address (addr:${macKey(addr)}, vlan:0)`,
      );
    return;
  }
  f.updated = br.dev.kernel.clock.now();
  if (f.dst !== source && !(f.flags & BR_FDB.STICKY)) f.dst = source;
}

/**
 * br_fdb_delete_by_port(): a port leaving (do_all) takes every entry pointing at it;
 * a port going down takes only the dynamic ones. Local entries move if they can.
 */
export function brFdbDeleteByPort(br: NetBridge, p: NetBridgePort | null, doAll: boolean): void {
  for (const f of [...br.fdbList]) {
    if (f.dst !== p) continue;
    if (!doAll && f.flags & BR_FDB.STATIC) continue;
    if (f.flags & BR_FDB.LOCAL) fdbDeleteLocal(br, p, f);
    else fdbDelete(br, f);
  }
}

/**
 * br_fdb_cleanup() (gc_work): drop what expired, and run again when the next entry
 * will, or after hold_time when none will; never sooner than 10 ms apart.
 */
export function brFdbCleanup(br: NetBridge): void {
  const clock = br.dev.kernel.clock;
  const now = clock.now();
  const delay = holdTime(br);
  let workDelay = delay;
  for (const f of [...br.fdbList]) {
    if (f.flags & BR_FDB.STATIC) continue;
    const thisTimer = f.updated + delay;
    if (thisTimer > now) workDelay = Math.min(workDelay, thisTimer - now);
    else fdbDelete(br, f);
  }
  brGcSchedule(br, Math.max(workDelay, 10e6));
}

/** mod_delayed_work(&br->gc_work, delay). The timer never keeps a process alive. */
export function brGcSchedule(br: NetBridge, delayNs: number): void {
  br.gcTimer?.cancel();
  const clock = br.dev.kernel.clock;
  br.gcExpires = clock.now() + delayNs;
  br.gcTimer = clock.setTimer(delayNs, () => {
    br.gcTimer = null;
    brFdbCleanup(br);
  });
  br.gcTimer.unref();
}

/** cancel_delayed_work_sync(&br->gc_work). */
export function brGcCancel(br: NetBridge): void {
  br.gcTimer?.cancel();
  br.gcTimer = null;
  br.gcExpires = 0;
}

/** NUD state an entry reports (fdb_to_nud). */
export const NUD = { REACHABLE: 0x02, STALE: 0x04, NOARP: 0x40, PERMANENT: 0x80 } as const;

/**
 * br_fdb_add() → fdb_add_entry(): a user's entry for `addr` on port `source` (null: the
 * bridge itself, which takes permanent ones only). NUD_PERMANENT makes it local (frames
 * to it are ours) and static, NUD_NOARP static, anything else dynamic, which a port
 * that cannot learn refuses (EPERM). EXCL refuses an existing entry; without CREATE a
 * missing one is ENOENT; otherwise the entry moves to `source`.
 */
export function brFdbAdd(
  br: NetBridge,
  source: NetBridgePort | null,
  addr: Uint8Array,
  state: number,
  sticky: boolean,
  nlFlags: number,
): number {
  const kernel = br.dev.kernel;
  if (!(state & (NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE))) {
    kernel.printk('info', `bridge: RTM_NEWNEIGH with invalid state 0x${state.toString(16)}`);
    return -E.EINVAL;
  }
  if (addr.every((b) => b === 0)) {
    kernel.printk('info', 'bridge: RTM_NEWNEIGH with invalid ether address');
    return -E.EINVAL;
  }
  if (
    source !== null &&
    !(state & (NUD.PERMANENT | NUD.NOARP)) &&
    source.state !== BR_STATE.LEARNING &&
    source.state !== BR_STATE.FORWARDING
  )
    return -E.EPERM;
  if (source === null && !(state & NUD.PERMANENT)) {
    kernel.printk('info', `bridge: RTM_NEWNEIGH ${br.dev.name} without NUD_PERMANENT`);
    return -E.EINVAL;
  }
  // Sticky entries never roam: a local one cannot be sticky, nor one of the bridge's own.
  if (sticky && (state & NUD.PERMANENT || source === null)) return -E.EINVAL;
  let f = brFdbFind(br, addr);
  let modified = false;
  if (f === null) {
    if (!(nlFlags & NLM_F.CREATE)) return -E.ENOENT;
    f = fdbCreate(br, source, addr, 0);
    modified = true;
  } else {
    if (nlFlags & NLM_F.EXCL) return -E.EEXIST;
    if (f.dst !== source) {
      f.dst = source;
      modified = true;
    }
  }
  if (fdbToNud(br, f) !== state) {
    if (state & NUD.PERMANENT) f.flags |= BR_FDB.LOCAL | BR_FDB.STATIC;
    else if (state & NUD.NOARP) f.flags = (f.flags & ~BR_FDB.LOCAL) | BR_FDB.STATIC;
    else f.flags &= ~(BR_FDB.LOCAL | BR_FDB.STATIC);
    modified = true;
  }
  if (sticky !== ((f.flags & BR_FDB.STICKY) !== 0)) {
    f.flags ^= BR_FDB.STICKY;
    modified = true;
  }
  f.flags |= BR_FDB.ADDED_BY_USER;
  const now = kernel.clock.now();
  f.used = now;
  if (modified) f.updated = now;
  return 0;
}

/** br_fdb_delete() → fdb_delete_by_addr_and_port(): the entry must be on that port (or the bridge). */
export function brFdbDelete(br: NetBridge, p: NetBridgePort | null, addr: Uint8Array): number {
  const f = brFdbFind(br, addr);
  if (f === null || f.dst !== p) return -E.ENOENT;
  fdbDelete(br, f);
  return 0;
}

export function fdbToNud(br: NetBridge, f: FdbEntry): number {
  if (f.flags & BR_FDB.LOCAL) return NUD.PERMANENT;
  if (f.flags & BR_FDB.STATIC) return NUD.NOARP;
  if (hasExpired(br, f)) return NUD.STALE;
  return NUD.REACHABLE;
}

/**
 * br_fdb_dump(): with filterDev a port, that port's entries; with null, the entries
 * no port holds (the bridge's own address). The default dump of the bridge's unicast
 * and multicast address lists ("self" entries) has nothing to show: lonet keeps no
 * per-device multicast lists.
 */
export function brFdbDump(br: NetBridge, filterDev: NetDevice | null): FdbDumpEntry[] {
  const now = br.dev.kernel.clock.now();
  const out: FdbDumpEntry[] = [];
  for (const f of br.fdbList) {
    if (filterDev !== null ? f.dst?.dev !== filterDev : f.dst !== null) continue;
    out.push({
      lladdr: f.addr,
      ifindex: f.dst !== null ? f.dst.dev.ifindex : br.dev.ifindex,
      state: fdbToNud(br, f),
      flags: f.flags & BR_FDB.STICKY ? NTF.STICKY : 0,
      master: br.dev.ifindex,
      used: Math.floor((now - f.used) / NS_PER_CLOCK_T),
      updated: Math.floor((now - f.updated) / NS_PER_CLOCK_T),
    });
  }
  return out;
}
