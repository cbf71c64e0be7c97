/**
 * net/ipv4/igmp.c's group membership: a device's multicast list (in_device->mc_list, with
 * its source filter), a socket's memberships (inet->mc_list: IP_ADD_MEMBERSHIP,
 * IP_ADD_SOURCE_MEMBERSHIP and their drops), the check input routing makes
 * (ip_check_mc_rcu), the one UDP delivery makes (ip_mc_sf_allow), and /proc/net/igmp and
 * /proc/net/mcfilter, which `ip maddr` reads.
 *
 * IGMPv3 unsolicited reports (RFC 3376 §5.1) as Linux sends them on an up device: a group
 * joined gets igmp_qrv "change to exclude" records, the first two jiffies later, the rest
 * a random time below igmpv3_unsolicited_report_interval apart (igmp_ifc_timer); a group
 * left gets as many "change to include" records. They go to 224.0.0.22 with TTL 1, TOS
 * 0xc0, DF and a router alert option. 224.0.0.1 is never reported.
 *
 * Not here: queries (no querier to answer), IGMPv1/v2 (force_igmp_version), per-source
 * records (a source-specific join is reported as a plain join), and IGMP on lo (Linux
 * reports there too; lonet's lo tests see none).
 */

import { IFF, NETDEV } from '../core/if.js';
import { type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { allocSkb, skbPush, skbPut, skbResetNetworkHeader } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';
import { getRandomU32 } from '../kernel/random.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { csumFold, csumPartial } from '../wire/checksum.js';
import { type InDevice, inDevGet } from './devinet.js';
import { flowi4, RTN } from './fib.js';
import { inetAddrType } from './fib-frontend.js';
import { ipLocalOut } from './ip-output.js';
import { ipRouteOutputKey, ipv4IsMulticast } from './route.js';

/** MCAST_INCLUDE / MCAST_EXCLUDE: a filter mode, also the index of its count. */
export const MCAST = { EXCLUDE: 0, INCLUDE: 1 } as const;
type Mode = (typeof MCAST)[keyof typeof MCAST];

/** The group every IPv4 device joins when it comes up (ip_mc_up: IGMP_ALL_HOSTS). */
export const IGMP_ALL_HOSTS = 0xe0000001;
/** net.ipv4.igmp_max_memberships and igmp_max_msf at their defaults. */
const IGMP_MAX_MEMBERSHIPS = 20;
const IGMP_MAX_MSF = 10;
const IPPROTO_IGMP = 2;

/** struct ip_sf_list: how many include- and exclude-mode listeners name this source. */
interface IpSfList {
  count: [exclude: number, include: number];
}

/** struct ip_mc_list: a group on a device. */
export interface IpMcList {
  multiaddr: number;
  users: number;
  /** sfcount[MCAST_EXCLUDE] / [MCAST_INCLUDE]: listeners in each mode. */
  sfcount: [exclude: number, include: number];
  /** The sources some listener named, in the order they were first named. */
  sources: Map<number, IpSfList>;
  /** crcount: change records still to send. */
  crcount: number;
}

/** struct ip_mreqn as the kernel keeps it: the group, the address asked for, the device found. */
export interface IpMreqn {
  multiaddr: number;
  address: number;
  ifindex: number;
}

/** struct ip_mc_socklist: one membership of a socket. */
export interface IpMcSocklist {
  multi: IpMreqn;
  sfmode: Mode;
  /** The socket's source list (sorted, as ip_mc_source keeps it), null until one is named. */
  sflist: number[] | null;
}

/** What a socket needs for memberships: its namespace and inet->mc_list. */
export interface InetMcSock {
  readonly net: Net;
  mcList: IpMcSocklist[];
}

const mcLists = new WeakMap<InDevice, IpMcList[]>();

/** IGMPv3 report type, record types, 224.0.0.22 and net.ipv4.igmp_qrv's default. */
const IGMPV3_HOST_MEMBERSHIP_REPORT = 0x22;
const IGMPV3_CHANGE_TO_INCLUDE = 3;
const IGMPV3_CHANGE_TO_EXCLUDE = 4;
const IGMPV3_ALL_MCR = 0xe0000016;
const IGMP_QRV_DEFAULT = 2;

/** in_device's IGMP state: mr_ifc_count and its timer, mc_tomb. */
interface IgmpState {
  ifcCount: number;
  ifcTimer: Timer | null;
  tomb: { multiaddr: number; crcount: number }[];
}

const igmpStates = new WeakMap<InDevice, IgmpState>();

function igmpState(inDev: InDevice): IgmpState {
  let st = igmpStates.get(inDev);
  if (st === undefined) {
    st = { ifcCount: 0, ifcTimer: null, tomb: [] };
    igmpStates.set(inDev, st);
  }
  return st;
}

/** Devices IGMP speaks on: up, not lo (see the header). */
function igmpActive(inDev: InDevice): boolean {
  const dev = inDev.dev;
  return (dev.flags & IFF.UP) !== 0 && (dev.flags & IFF.LOOPBACK) === 0 && dev.net !== null;
}

/** igmpv3_newpack() + add_grec() + igmpv3_sendpack(): one report with these records. */
function igmpv3Sendpack(inDev: InDevice, records: { type: number; multiaddr: number }[]): void {
  if (records.length === 0 || !igmpActive(inDev)) return;
  const dev = inDev.dev;
  const net = dev.net as Net;
  const rt = ipRouteOutputKey(net, flowi4({ daddr: IGMPV3_ALL_MCR, oif: dev.ifindex, proto: IPPROTO_IGMP }));
  if (typeof rt === 'number') return;
  const saddr = inDev.ifaList[0]?.local ?? 0;
  const len = 8 + records.length * 8;
  const skb = allocSkb(len, 16 + 24);
  const at = skbPut(skb, len);
  const b = skb.head;
  b[at] = IGMPV3_HOST_MEMBERSHIP_REPORT;
  b[at + 6] = records.length >>> 8;
  b[at + 7] = records.length;
  records.forEach((r, i) => {
    const g = at + 8 + i * 8;
    b[g] = r.type;
    new DataView(b.buffer, b.byteOffset).setUint32(g + 4, r.multiaddr >>> 0);
  });
  const csum = csumFold(csumPartial(b, at, len));
  b[at + 2] = csum >>> 8;
  b[at + 3] = csum;
  skb.transportHeader = at;
  // struct iphdr with the router alert option: ihl 6, TOS 0xc0, DF, id 0, TTL 1.
  const ip = skbPush(skb, 24);
  skbResetNetworkHeader(skb);
  b.fill(0, ip, ip + 24);
  b[ip] = 0x46;
  b[ip + 1] = 0xc0;
  b[ip + 6] = 0x40;
  b[ip + 8] = 1;
  b[ip + 9] = IPPROTO_IGMP;
  const v = new DataView(b.buffer, b.byteOffset);
  v.setUint32(ip + 12, saddr >>> 0);
  v.setUint32(ip + 16, IGMPV3_ALL_MCR);
  v.setUint32(ip + 20, 0x94040000);
  skb.dst = rt;
  skb.protocol = ETH_P.IP;
  ipLocalOut(net, skb);
}

/** igmpv3_send_cr(): records of groups left, then of groups just joined. */
function igmpv3SendCr(inDev: InDevice): void {
  const st = igmpState(inDev);
  const records: { type: number; multiaddr: number }[] = [];
  for (const t of st.tomb) {
    if (t.crcount > 0) {
      records.push({ type: IGMPV3_CHANGE_TO_INCLUDE, multiaddr: t.multiaddr });
      t.crcount--;
    }
  }
  st.tomb = st.tomb.filter((t) => t.crcount > 0);
  for (const im of ipMcList(inDev)) {
    if (im.crcount === 0) continue;
    records.push({ type: IGMPV3_CHANGE_TO_EXCLUDE, multiaddr: im.multiaddr });
    im.crcount--;
  }
  igmpv3Sendpack(inDev, records);
}

/** igmp_ifc_start_timer(): `random % delay + 2` jiffies (1 ms each here). */
function igmpIfcStartTimer(inDev: InDevice, delayMs: number): void {
  const st = igmpState(inDev);
  st.ifcTimer?.cancel();
  const kernel = inDev.dev.kernel;
  st.ifcTimer = kernel.clock.setTimer(((getRandomU32() % delayMs) + 2) * 1e6, () => {
    st.ifcTimer = null;
    if (!igmpActive(inDev)) return;
    kernel.runOn(kernel.curCpu, () => {
      igmpv3SendCr(inDev);
      const interval = Math.max(1, inDev.cnf.data.igmpv3_unsolicited_report_interval as number);
      if (st.ifcCount > 0 && --st.ifcCount > 0) igmpIfcStartTimer(inDev, interval);
    });
  });
  st.ifcTimer.unref();
}

/** igmp_ifc_event(). */
function igmpIfcEvent(inDev: InDevice): void {
  igmpState(inDev).ifcCount = IGMP_QRV_DEFAULT;
  igmpIfcStartTimer(inDev, 1);
}

/** igmp_group_added(): a group other than all-hosts is announced. */
function igmpGroupAdded(inDev: InDevice, im: IpMcList): void {
  if (im.multiaddr === IGMP_ALL_HOSTS || !igmpActive(inDev)) return;
  const st = igmpState(inDev);
  st.tomb = st.tomb.filter((t) => t.multiaddr !== im.multiaddr);
  im.crcount = IGMP_QRV_DEFAULT;
  igmpIfcEvent(inDev);
}

/** igmp_group_dropped() → igmpv3_add_delrec(): the group's leave is due. */
function igmpGroupDropped(inDev: InDevice, im: IpMcList): void {
  if (im.multiaddr === IGMP_ALL_HOSTS || !igmpActive(inDev)) return;
  const st = igmpState(inDev);
  st.tomb = st.tomb.filter((t) => t.multiaddr !== im.multiaddr);
  st.tomb.unshift({ multiaddr: im.multiaddr, crcount: IGMP_QRV_DEFAULT });
  igmpIfcEvent(inDev);
}

/** in_dev->mc_list, newest first. */
export function ipMcList(inDev: InDevice): IpMcList[] {
  let list = mcLists.get(inDev);
  if (list === undefined) {
    list = [];
    mcLists.set(inDev, list);
  }
  return list;
}

function findGroup(inDev: InDevice, addr: number): IpMcList | undefined {
  return ipMcList(inDev).find((im) => im.multiaddr === addr);
}

/** ip_mc_add_src() / ip_mc_del_src(): count a listener's mode and sources on the device. */
function mcAddSrc(im: IpMcList, mode: Mode, sources: readonly number[], delta: 1 | -1): void {
  if (sources.length === 0) im.sfcount[mode] += delta;
  for (const s of sources) {
    let psf = im.sources.get(s);
    if (psf === undefined) {
      psf = { count: [0, 0] };
      im.sources.set(s, psf);
    }
    psf.count[mode] += delta;
    if (psf.count[0] === 0 && psf.count[1] === 0) im.sources.delete(s);
  }
}

/** ____ip_mc_inc_group(): one more user of a group on the device, new groups first. */
export function ipMcIncGroup(inDev: InDevice, addr: number, mode: Mode = MCAST.EXCLUDE): void {
  const im = findGroup(inDev, addr);
  if (im !== undefined) {
    im.users++;
    mcAddSrc(im, mode, [], 1);
    return;
  }
  const fresh: IpMcList = { multiaddr: addr, users: 1, sfcount: [0, 0], sources: new Map(), crcount: 0 };
  fresh.sfcount[mode] = 1;
  ipMcList(inDev).unshift(fresh);
  igmpGroupAdded(inDev, fresh);
}

/** __ip_mc_dec_group(): a user fewer; the group goes with its last one. */
export function ipMcDecGroup(inDev: InDevice, addr: number): void {
  const list = ipMcList(inDev);
  const i = list.findIndex((im) => im.multiaddr === addr);
  if (i < 0) return;
  const im = list[i] as IpMcList;
  if (--im.users > 0) return;
  list.splice(i, 1);
  igmpGroupDropped(inDev, im);
}

/**
 * ip_check_mc_rcu(): is this device listening to `group` from `src`? IGMP itself always
 * is; otherwise an include-mode listener must name the source, or some exclude-mode
 * listener must not exclude it.
 */
export function ipCheckMc(inDev: InDevice, group: number, src: number, proto: number): boolean {
  const im = findGroup(inDev, group);
  if (im === undefined) return false;
  if (proto === IPPROTO_IGMP || im.sources.size === 0) return true;
  const psf = im.sources.get(src);
  if (psf === undefined) return im.sfcount[MCAST.EXCLUDE] !== 0;
  return psf.count[MCAST.INCLUDE] !== 0 || psf.count[MCAST.EXCLUDE] !== im.sfcount[MCAST.EXCLUDE];
}

/**
 * ip_mc_find_dev(): the device a membership is on: the index given, else the device owning
 * the interface address, else the one the route to the group leaves by. Fills in ifindex.
 */
function ipMcFindDev(net: Net, imr: IpMreqn): InDevice | null {
  if (imr.ifindex !== 0) {
    const dev = net.devGetByIndex(imr.ifindex);
    return dev === undefined ? null : inDevGet(dev);
  }
  let dev: NetDevice | undefined;
  if (imr.address !== 0) {
    if (inetAddrType(net, imr.address) !== RTN.LOCAL) return null;
    dev = net.devices.find((d) => inDevGet(d)?.ifaList.some((ifa) => ifa.local === imr.address));
    if (dev === undefined) return null;
  } else {
    const rt = ipRouteOutputKey(net, flowi4({ daddr: imr.multiaddr }));
    if (typeof rt === 'number') return null;
    dev = rt.dev;
  }
  imr.ifindex = dev.ifindex;
  return inDevGet(dev);
}

/** __ip_mc_join_group(): IP_ADD_MEMBERSHIP (mode EXCLUDE) or the join of a source membership. */
function joinGroup(sk: InetMcSock, group: number, address: number, mode: Mode): number {
  if (!ipv4IsMulticast(group)) return -E.EINVAL;
  const imr: IpMreqn = { multiaddr: group, address, ifindex: 0 };
  const inDev = ipMcFindDev(sk.net, imr);
  if (inDev === null) return -E.ENODEV;
  if (sk.mcList.some((i) => i.multi.multiaddr === group && i.multi.ifindex === imr.ifindex)) return -E.EADDRINUSE;
  if (sk.mcList.length >= IGMP_MAX_MEMBERSHIPS) return -E.ENOBUFS;
  sk.mcList.unshift({ multi: imr, sfmode: mode, sflist: null });
  ipMcIncGroup(inDev, group, mode);
  return 0;
}

/** IP_ADD_MEMBERSHIP with a struct ip_mreq: group, interface address (0 for the route's device). */
export function ipMcJoinGroup(sk: InetMcSock, group: number, address: number): number {
  return joinGroup(sk, group, address, MCAST.EXCLUDE);
}

/** ip_mc_leave_src(): the socket's share of the device's filter goes. */
function ipMcLeaveSrc(iml: IpMcSocklist, inDev: InDevice | null): void {
  if (inDev === null) return;
  const im = findGroup(inDev, iml.multi.multiaddr);
  if (im !== undefined) mcAddSrc(im, iml.sfmode, iml.sflist ?? [], -1);
}

/** ip_mc_leave_group(): IP_DROP_MEMBERSHIP. */
export function ipMcLeaveGroup(sk: InetMcSock, group: number, address: number, ifindex = 0): number {
  const imr: IpMreqn = { multiaddr: group, address, ifindex };
  const inDev = ipMcFindDev(sk.net, imr);
  if (imr.ifindex === 0 && address === 0 && inDev === null) return -E.ENODEV;
  const i = sk.mcList.findIndex(
    (iml) =>
      iml.multi.multiaddr === group &&
      (imr.ifindex !== 0 ? iml.multi.ifindex === imr.ifindex : address === 0 || iml.multi.address === address),
  );
  if (i < 0) return -E.EADDRNOTAVAIL;
  const [iml] = sk.mcList.splice(i, 1) as [IpMcSocklist];
  ipMcLeaveSrc(iml, inDev);
  if (inDev !== null) ipMcDecGroup(inDev, group);
  return 0;
}

/**
 * IP_ADD_SOURCE_MEMBERSHIP / IP_DROP_SOURCE_MEMBERSHIP (ip_mc_source in INCLUDE mode): a
 * join first when adding (a prior join of the group is fine, and turns an empty filter
 * into INCLUDE); dropping the last source leaves the group.
 */
export function ipMcSourceMembership(sk: InetMcSock, add: boolean, group: number, address: number, source: number) {
  if (add) {
    const err = joinGroup(sk, group, address, MCAST.INCLUDE);
    if (err !== 0 && err !== -E.EADDRINUSE) return err;
  }
  if (!ipv4IsMulticast(group)) return -E.EINVAL;
  const imr: IpMreqn = { multiaddr: group, address, ifindex: 0 };
  const inDev = ipMcFindDev(sk.net, imr);
  if (inDev === null) return -E.ENODEV;
  const pmc = sk.mcList.find((p) => p.multi.multiaddr === group && p.multi.ifindex === imr.ifindex);
  if (pmc === undefined) return -E.EINVAL;
  const im = findGroup(inDev, group) as IpMcList;
  if (pmc.sflist !== null && pmc.sflist.length > 0) {
    if (pmc.sfmode !== MCAST.INCLUDE) return -E.EINVAL;
  } else if (pmc.sfmode !== MCAST.INCLUDE) {
    // An empty filter may switch modes.
    mcAddSrc(im, MCAST.INCLUDE, [], 1);
    mcAddSrc(im, pmc.sfmode, [], -1);
    pmc.sfmode = MCAST.INCLUDE;
  }
  const psl = pmc.sflist;
  if (!add) {
    const i = psl === null ? -1 : psl.indexOf(source);
    if (psl === null || i < 0) return -E.EADDRNOTAVAIL;
    // (INCLUDE, empty) is a leave.
    if (psl.length === 1) return ipMcLeaveGroup(sk, group, address);
    mcAddSrc(im, MCAST.INCLUDE, [source], -1);
    psl.splice(i, 1);
    return 0;
  }
  if (psl !== null && psl.length >= IGMP_MAX_MSF) return -E.ENOBUFS;
  const list = psl ?? [];
  if (list.includes(source)) return -E.EADDRNOTAVAIL;
  list.push(source);
  list.sort((a, b) => a - b);
  pmc.sflist = list;
  mcAddSrc(im, MCAST.INCLUDE, [source], 1);
  return 0;
}

/** ip_mc_drop_socket(): a closing socket leaves every group. */
export function ipMcDropSocket(sk: InetMcSock): void {
  for (const iml of sk.mcList.splice(0)) {
    const dev = sk.net.devGetByIndex(iml.multi.ifindex);
    const inDev = dev === undefined ? null : inDevGet(dev);
    ipMcLeaveSrc(iml, inDev);
    if (inDev !== null) ipMcDecGroup(inDev, iml.multi.multiaddr);
  }
}

/**
 * ip_mc_sf_allow(): may this socket have a datagram to `group` from `src` that came in on
 * `dif`? Its own membership's filter decides; without one, IP_MULTICAST_ALL (on by
 * default) lets it hear any group its device joined.
 */
export function ipMcSfAllow(sk: InetMcSock, group: number, src: number, dif: number): boolean {
  if (!ipv4IsMulticast(group)) return true;
  const pmc = sk.mcList.find((p) => p.multi.multiaddr === group && p.multi.ifindex === dif);
  if (pmc === undefined) return true;
  const listed = pmc.sflist?.includes(src) ?? false;
  return pmc.sfmode === MCAST.INCLUDE ? listed : !listed;
}

/** ip_mc_up() / ip_mc_down(): an up device is in the all-hosts group. */
function igmpNetdevEvent(event: number, dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (inDev === null) return;
  if (event === NETDEV.UP) {
    // ip_mc_up(): the groups joined while down are announced now.
    for (const im of ipMcList(inDev)) igmpGroupAdded(inDev, im);
    ipMcIncGroup(inDev, IGMP_ALL_HOSTS);
  } else if (event === NETDEV.DOWN) {
    ipMcDecGroup(inDev, IGMP_ALL_HOSTS);
    const st = igmpState(inDev);
    st.ifcTimer?.cancel();
    st.ifcTimer = null;
    st.ifcCount = 0;
    st.tomb = [];
  }
}

/** The u32 as /proc prints a __be32 with %08X on a little-endian machine. */
function procBe32(addr: number): string {
  const swapped = ((addr & 0xff) << 24) | ((addr & 0xff00) << 8) | ((addr >>> 8) & 0xff00) | (addr >>> 24);
  return (swapped >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** igmp_mc_seq_show(). */
function igmpMcSeqShow(net: Net): string {
  let out = 'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n';
  for (const dev of net.devices) {
    const inDev = inDevGet(dev);
    if (inDev === null) continue;
    const list = ipMcList(inDev);
    if (list.length === 0) continue;
    out += `${dev.ifindex}\t${dev.name.padEnd(10)}: ${String(list.length).padStart(5)} ${'V3'.padStart(7)}\n`;
    for (const im of list) out += `\t\t\t\t${procBe32(im.multiaddr)} ${String(im.users).padStart(5)} 0:00000000\t\t0\n`;
  }
  return out;
}

/** igmp_mcf_seq_show(). */
function igmpMcfSeqShow(net: Net): string {
  let out = 'Idx Device        MCA        SRC    INC    EXC\n';
  const hex = (a: number) => `0x${(a >>> 0).toString(16).padStart(8, '0')}`;
  for (const dev of net.devices) {
    const inDev = inDevGet(dev);
    if (inDev === null) continue;
    for (const im of ipMcList(inDev)) {
      for (const [src, psf] of im.sources) {
        out += `${String(dev.ifindex).padStart(3)} ${dev.name.slice(0, 6).padStart(6)} ${hex(im.multiaddr)} ${hex(src)}`;
        out += ` ${String(psf.count[MCAST.INCLUDE]).padStart(6)} ${String(psf.count[MCAST.EXCLUDE]).padStart(6)}\n`;
      }
    }
  }
  return out;
}

export function igmpInit(kernel: Kernel): void {
  registerNetdeviceNotifier(kernel, igmpNetdevEvent);
}

registerProcNet('igmp', igmpMcSeqShow);
registerProcNet('mcfilter', igmpMcfSeqShow);
