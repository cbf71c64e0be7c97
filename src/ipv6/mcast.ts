/**
 * net/ipv6/mcast.c's group membership: a device's multicast list (idev->mc_list: the
 * all-nodes groups ff01::1 and ff02::1 every IPv6 device joins when it gets its inet6_dev,
 * the solicited-node groups of its addresses, then what sockets join), a socket's
 * memberships (IPV6_ADD_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP and their drops), and
 * /proc/net/igmp6, which `ip maddr` reads.
 *
 * MLDv2 unsolicited reports (RFC 3810 §6.1), as Linux sends them on an up device: a group
 * joined gets mld_qrv "change to exclude" records, the first two jiffies later and the
 * rest a random time below mldv2_unsolicited_report_interval apart (mld_ifc_work); a
 * group left gets as many "change to include" records; once the first link-local is
 * usable every group is reported again from it (ipv6_mc_dad_complete), the reports sent
 * before having come from ::. Reports go to ff02::16 with hop limit 1 and a router alert.
 *
 * Not here: queries (lonet has no MLD querier to answer), MLDv1, per-source device
 * filters in reports (a source-specific join is reported as a plain join), and MLD on lo
 * (Linux sends reports there too; lonet's lo tests see none).
 */

import { IFF } from '../core/if.js';
import { E } from '../include/errno.js';
import { IFA_F } from '../ipv4/devinet.js';
import type { Timer } from '../kernel/clock.js';
import { getRandomU32 } from '../kernel/random.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { ipv6AddrEqual, ipv6AddrMulticast } from './addr.js';
import { type Inet6Dev, IPV6_ADDR_SCOPE, in6DevGet } from './addrconf.js';
import { addrconfAddrSolictMult, ndiscSend } from './ndisc.js';
import { fib6Lookup } from './route.js';

/** mca_flags (include/net/if_inet6.h). */
const MAF = { LOADED: 0x04, NOREPORT: 0x08 } as const;
const MCAST_EXCLUDE = 0;
const MCAST_INCLUDE = 1;
/** net.ipv6.mld_max_msf at its default. */
const MLD_MAX_MSF = 64;

/** struct ifmcaddr6: a group on a device. */
export interface Ifmcaddr6 {
  addr: Uint8Array;
  users: number;
  flags: number;
  /** mca_crcount: change records still to send. */
  crcount: number;
}

/** struct ipv6_mc_socklist: one membership of a socket. */
export interface Ipv6McSocklist {
  addr: Uint8Array;
  ifindex: number;
  sfmode: number;
  sflist: Uint8Array[] | null;
}

/** What a socket needs for memberships: its namespace and np->ipv6_mc_list. */
export interface Inet6McSock {
  readonly net: Net;
  mc6List: Ipv6McSocklist[];
}

const ALL_NODES_IF = Uint8Array.of(0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_LL = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

const mcLists = new WeakMap<Inet6Dev, Ifmcaddr6[]>();

/** ICMPv6 type of an MLDv2 report; record types (RFC 3810 §5.2.12). */
const ICMPV6_MLD2_REPORT = 143;
const MLD2_CHANGE_TO_INCLUDE = 3;
const MLD2_CHANGE_TO_EXCLUDE = 4;
/** net.ipv6.mld_qrv at its default (sysctl_mld_qrv). */
const MLD_QRV_DEFAULT = 2;
/** ff02::16, all MLDv2-capable routers. */
const MLD2_ALL_MCR = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16);
/** mld_newpack()'s hop-by-hop header: next header ICMPv6, router alert 0 (MLD), PadN. */
const MLD_HBH = Uint8Array.of(58, 0, 5, 2, 0, 0, 1, 0);

/** The MLD state of an inet6_dev: mc_qrv, mc_ifc_count/work, mc_dad_count/work, mc_tomb. */
interface MldState {
  qrv: number;
  ifcCount: number;
  ifcTimer: Timer | null;
  dadCount: number;
  dadTimer: Timer | null;
  /** Groups left whose "change to include" records are still due. */
  tomb: { addr: Uint8Array; crcount: number }[];
}

const mldStates = new WeakMap<Inet6Dev, MldState>();

function mldState(idev: Inet6Dev): MldState {
  let st = mldStates.get(idev);
  if (st === undefined) {
    st = { qrv: MLD_QRV_DEFAULT, ifcCount: 0, ifcTimer: null, dadCount: 0, dadTimer: null, tomb: [] };
    mldStates.set(idev, st);
  }
  return st;
}

/** Devices MLD speaks on: up, multicast-capable, not lo (see the header). */
function mldActive(idev: Inet6Dev): boolean {
  const dev = idev.dev;
  return (dev.flags & IFF.UP) !== 0 && (dev.flags & IFF.LOOPBACK) === 0 && dev.net !== null;
}

/** unsolicited_report_interval() for MLDv2, in ms (at least one jiffy). */
function unsolicitedReportInterval(idev: Inet6Dev): number {
  return Math.max(1, idev.cnf.data.mldv2_unsolicited_report_interval as number);
}

/** mod_delayed_work() on the kernel clock: `random % delay + 2` jiffies (1 ms each here). */
function mldStartWork(idev: Inet6Dev, delayMs: number, old: Timer | null, fn: () => void): Timer {
  old?.cancel();
  const kernel = idev.dev.kernel;
  const t = kernel.clock.setTimer(((getRandomU32() % delayMs) + 2) * 1e6, () => {
    if (!mldActive(idev)) return;
    kernel.runOn(kernel.curCpu, fn);
  });
  t.unref();
  return t;
}

/**
 * mld_newpack() + add_grec() + mld_sendpack(): one report with these records, from the
 * device's usable link-local (ipv6_get_lladdr without tentative ones), else from ::.
 */
function mldSendpack(idev: Inet6Dev, records: { type: number; addr: Uint8Array }[]): void {
  if (records.length === 0 || !mldActive(idev)) return;
  const ll = idev.addrList.find(
    (a) => a.scope === IPV6_ADDR_SCOPE.LINKLOCAL && !(a.flags & (IFA_F.TENTATIVE | IFA_F.DADFAILED)),
  );
  const body = new Uint8Array(records.length * 20);
  records.forEach((r, i) => {
    body[i * 20] = r.type;
    body.set(r.addr, i * 20 + 4);
  });
  ndiscSend(idev.dev, ll?.addr ?? new Uint8Array(16), MLD2_ALL_MCR, ICMPV6_MLD2_REPORT, records.length, body, MLD_HBH);
}

/** mld_send_cr(): records of groups left, then of groups whose filter mode changed. */
function mldSendCr(idev: Inet6Dev): void {
  const st = mldState(idev);
  const records: { type: number; addr: Uint8Array }[] = [];
  for (const t of st.tomb) {
    if (t.crcount > 0) {
      records.push({ type: MLD2_CHANGE_TO_INCLUDE, addr: t.addr });
      t.crcount--;
    }
  }
  st.tomb = st.tomb.filter((t) => t.crcount > 0);
  for (const mc of ipv6McList(idev)) {
    if (mc.flags & MAF.NOREPORT || mc.crcount === 0) continue;
    records.push({ type: MLD2_CHANGE_TO_EXCLUDE, addr: mc.addr });
    mc.crcount--;
  }
  mldSendpack(idev, records);
}

/** mld_ifc_event(): qrv rounds of change reports, the first at once. */
function mldIfcEvent(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.ifcCount = st.qrv;
  st.ifcTimer = mldStartWork(idev, 1, st.ifcTimer, () => mldIfcWork(idev));
}

/** mld_ifc_work(). */
function mldIfcWork(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.ifcTimer = null;
  mldSendCr(idev);
  if (st.ifcCount > 0 && --st.ifcCount > 0)
    st.ifcTimer = mldStartWork(idev, unsolicitedReportInterval(idev), null, () => mldIfcWork(idev));
}

/** igmp6_group_added(): a reportable group on an up device is announced. */
function igmp6GroupAdded(idev: Inet6Dev, mc: Ifmcaddr6): void {
  if (mcScope(mc.addr) < SCOPE_LINKLOCAL || mc.flags & MAF.NOREPORT || !mldActive(idev)) return;
  mc.crcount = mldState(idev).qrv;
  mldIfcEvent(idev);
}

/** igmp6_group_dropped() → igmp6_leave_group(): the group goes on the tomb list. */
function igmp6GroupDropped(idev: Inet6Dev, mc: Ifmcaddr6): void {
  if (mcScope(mc.addr) < SCOPE_LINKLOCAL || mc.flags & MAF.NOREPORT || !mldActive(idev)) return;
  const st = mldState(idev);
  st.tomb = st.tomb.filter((t) => !ipv6AddrEqual(t.addr, mc.addr));
  st.tomb.unshift({ addr: mc.addr, crcount: st.qrv });
  mldIfcEvent(idev);
}

/** mld_send_initial_cr(): every reportable group, whatever its count. */
function mldSendInitialCr(idev: Inet6Dev): void {
  mldSendpack(
    idev,
    ipv6McList(idev)
      .filter((mc) => !(mc.flags & MAF.NOREPORT))
      .map((mc) => ({ type: MLD2_CHANGE_TO_EXCLUDE, addr: mc.addr })),
  );
}

/** ipv6_mc_dad_complete(): the device's only link-local is usable: report again from it. */
export function ipv6McDadComplete(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.dadCount = st.qrv;
  if (st.dadCount === 0 || !mldActive(idev)) return;
  mldSendInitialCr(idev);
  if (--st.dadCount > 0)
    st.dadTimer = mldStartWork(idev, unsolicitedReportInterval(idev), st.dadTimer, () => mldDadWork(idev));
}

/** mld_dad_work(). */
function mldDadWork(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.dadTimer = null;
  mldSendInitialCr(idev);
  if (st.dadCount > 0 && --st.dadCount > 0)
    st.dadTimer = mldStartWork(idev, unsolicitedReportInterval(idev), null, () => mldDadWork(idev));
}

/** ipv6_mc_up(): on an up device (and on every `ip -6 addr add`, via ipv6_find_idev) all groups are reported. */
export function ipv6McUp(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.qrv = MLD_QRV_DEFAULT;
  for (const mc of ipv6McList(idev)) {
    st.tomb = st.tomb.filter((t) => !ipv6AddrEqual(t.addr, mc.addr));
    igmp6GroupAdded(idev, mc);
  }
}

/**
 * ipv6_mc_down(): the works stop. Linux also files every group on the tomb list, which a
 * later ipv6_mc_up() mostly takes off again; lonet forgets them.
 */
export function ipv6McDown(idev: Inet6Dev): void {
  const st = mldState(idev);
  st.ifcTimer?.cancel();
  st.dadTimer?.cancel();
  st.ifcTimer = st.dadTimer = null;
  st.ifcCount = st.dadCount = 0;
  st.tomb = [];
}

/** addrconf_join_solict(): an address's solicited-node group (not on lo or NOARP devices). */
export function addrconfJoinSolict(idev: Inet6Dev, addr: Uint8Array): void {
  if (idev.dev.flags & (IFF.LOOPBACK | IFF.NOARP)) return;
  ipv6DevMcInc(idev, addrconfAddrSolictMult(addr));
}

/** addrconf_leave_solict(). */
export function addrconfLeaveSolict(idev: Inet6Dev, addr: Uint8Array): void {
  if (idev.dev.flags & (IFF.LOOPBACK | IFF.NOARP)) return;
  ipv6DevMcDec(idev, addrconfAddrSolictMult(addr));
}

/** IPV6_ADDR_MC_SCOPE(). */
const mcScope = (a: Uint8Array) => (a[1] as number) & 0x0f;
const SCOPE_LINKLOCAL = 2;

/**
 * idev->mc_list, newest first. ipv6_add_dev() joins ff01::1 then ff02::1 when the device
 * gets its inet6_dev; the list is made, with them, the first time anyone looks.
 */
export function ipv6McList(idev: Inet6Dev): Ifmcaddr6[] {
  let list = mcLists.get(idev);
  if (list === undefined) {
    list = [];
    mcLists.set(idev, list);
    ipv6DevMcInc(idev, ALL_NODES_IF);
    ipv6DevMcInc(idev, ALL_NODES_LL);
  }
  return list;
}

/** __ipv6_dev_mc_inc(): one more user of a group on the device, new groups first. */
function ipv6DevMcInc(idev: Inet6Dev, addr: Uint8Array): void {
  const list = ipv6McList(idev);
  const found = list.find((m) => ipv6AddrEqual(m.addr, addr));
  if (found !== undefined) {
    found.users++;
    return;
  }
  // mld_add_delrec / igmp6_group_added: the all-nodes group and groups narrower than a
  // link are never reported; the others are "loaded" into the device's filter.
  const noreport = ipv6AddrEqual(addr, ALL_NODES_LL) || mcScope(addr) < SCOPE_LINKLOCAL;
  const flags = (noreport ? MAF.NOREPORT : 0) | (mcScope(addr) < SCOPE_LINKLOCAL ? 0 : MAF.LOADED);
  const mc: Ifmcaddr6 = { addr: addr.slice(), users: 1, flags, crcount: 0 };
  list.unshift(mc);
  // mld_del_delrec(): a group rejoined before its leave was all sent is no longer left.
  const st = mldStates.get(idev);
  if (st !== undefined) st.tomb = st.tomb.filter((t) => !ipv6AddrEqual(t.addr, addr));
  igmp6GroupAdded(idev, mc);
}

/** __ipv6_dev_mc_dec(). */
function ipv6DevMcDec(idev: Inet6Dev, addr: Uint8Array): void {
  const list = ipv6McList(idev);
  const i = list.findIndex((m) => ipv6AddrEqual(m.addr, addr));
  if (i < 0) return;
  const mc = list[i] as Ifmcaddr6;
  if (--mc.users > 0) return;
  list.splice(i, 1);
  igmp6GroupDropped(idev, mc);
}

/** The device of a membership: the index given, else the one the route to the group uses. */
function mcFindDev(net: Net, group: Uint8Array, ifindex: number): Inet6Dev | null {
  const dev = ifindex === 0 ? fib6Lookup(net, group, 0)?.dev : net.devGetByIndex(ifindex);
  return dev === undefined ? null : in6DevGet(dev);
}

/** __ipv6_sock_mc_join(). */
function join(sk: Inet6McSock, ifindex: number, group: Uint8Array, mode: number): number {
  if (!ipv6AddrMulticast(group)) return -E.EINVAL;
  if (sk.mc6List.some((m) => (ifindex === 0 || m.ifindex === ifindex) && ipv6AddrEqual(m.addr, group)))
    return -E.EADDRINUSE;
  const dev = ifindex === 0 ? fib6Lookup(sk.net, group, 0)?.dev : sk.net.devGetByIndex(ifindex);
  if (dev === undefined) return -E.ENODEV;
  const idev = in6DevGet(dev);
  if (idev === null) return -E.EINVAL;
  ipv6DevMcInc(idev, group);
  sk.mc6List.unshift({ addr: group.slice(), ifindex: dev.ifindex, sfmode: mode, sflist: null });
  return 0;
}

/** IPV6_ADD_MEMBERSHIP (IPV6_JOIN_GROUP). */
export function ipv6SockMcJoin(sk: Inet6McSock, ifindex: number, group: Uint8Array): number {
  return join(sk, ifindex, group, MCAST_EXCLUDE);
}

/** IPV6_DROP_MEMBERSHIP: index 0 matches a membership on any device. */
export function ipv6SockMcDrop(sk: Inet6McSock, ifindex: number, group: Uint8Array): number {
  if (!ipv6AddrMulticast(group)) return -E.EINVAL;
  const i = sk.mc6List.findIndex((m) => (ifindex === 0 || m.ifindex === ifindex) && ipv6AddrEqual(m.addr, group));
  if (i < 0) return -E.EADDRNOTAVAIL;
  const [m] = sk.mc6List.splice(i, 1) as [Ipv6McSocklist];
  const dev = sk.net.devGetByIndex(m.ifindex);
  const idev = dev === undefined ? null : in6DevGet(dev);
  if (idev !== null) ipv6DevMcDec(idev, m.addr);
  return 0;
}

/**
 * MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP (ip6_mc_source in INCLUDE mode): a
 * join first when adding (a prior join is fine); dropping the last source leaves.
 */
export function ipv6McSourceMembership(
  sk: Inet6McSock,
  add: boolean,
  ifindex: number,
  group: Uint8Array,
  source: Uint8Array,
): number {
  if (add) {
    const err = join(sk, ifindex, group, MCAST_INCLUDE);
    if (err !== 0 && err !== -E.EADDRINUSE) return err;
  }
  if (!ipv6AddrMulticast(group)) return -E.EINVAL;
  if (mcFindDev(sk.net, group, ifindex) === null) return -E.ENODEV;
  const pmc = sk.mc6List.find((m) => (ifindex === 0 || m.ifindex === ifindex) && ipv6AddrEqual(m.addr, group));
  if (pmc === undefined) return -E.EINVAL;
  if (pmc.sflist !== null && pmc.sflist.length > 0) {
    if (pmc.sfmode !== MCAST_INCLUDE) return -E.EINVAL;
  } else pmc.sfmode = MCAST_INCLUDE;
  const at = pmc.sflist?.findIndex((s) => ipv6AddrEqual(s, source)) ?? -1;
  if (!add) {
    if (pmc.sflist === null || at < 0) return -E.EADDRNOTAVAIL;
    if (pmc.sflist.length === 1) return ipv6SockMcDrop(sk, ifindex, group);
    pmc.sflist.splice(at, 1);
    return 0;
  }
  if (pmc.sflist !== null && pmc.sflist.length >= MLD_MAX_MSF) return -E.ENOBUFS;
  if (at >= 0) return -E.EADDRNOTAVAIL;
  pmc.sflist = [...(pmc.sflist ?? []), source.slice()];
  return 0;
}

/** ipv6_sock_mc_close(). */
export function ipv6SockMcClose(sk: Inet6McSock): void {
  for (const m of sk.mc6List.splice(0)) {
    const dev = sk.net.devGetByIndex(m.ifindex);
    const idev = dev === undefined ? null : in6DevGet(dev);
    if (idev !== null) ipv6DevMcDec(idev, m.addr);
  }
}

/** igmp6_mc_seq_show(): no group's timer runs, as no MLD is sent. */
function igmp6McSeqShow(net: Net): string {
  let out = '';
  for (const dev of net.devices) {
    const idev = in6DevGet(dev);
    if (idev === null) continue;
    for (const mc of ipv6McList(idev)) {
      const hex = Array.from(mc.addr, (b) => b.toString(16).padStart(2, '0')).join('');
      const flags = mc.flags.toString(16).toUpperCase().padStart(8, '0');
      out += `${String(dev.ifindex).padEnd(4)} ${dev.name.padEnd(15)} ${hex} ${String(mc.users).padStart(5)} ${flags} 0\n`;
    }
  }
  return out;
}

registerProcNet('igmp6', igmp6McSeqShow);
