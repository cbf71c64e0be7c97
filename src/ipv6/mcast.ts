/**
 * net/ipv6/mcast.c's group membership: a device's multicast list (idev->mc_list: the
 * all-nodes groups ff01::1 and ff02::1 every IPv6 device joins when it gets its inet6_dev,
 * then what sockets join), a socket's memberships (IPV6_ADD_MEMBERSHIP,
 * MCAST_JOIN_SOURCE_GROUP and their drops), and /proc/net/igmp6, which `ip maddr` reads.
 *
 * Not here: MLD (Linux sends MLDv2 reports to ff02::16, even on lo) and delivery to a
 * group, which needs a route to it (a lo-only Linux namespace has none: ENETUNREACH).
 */

import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { ipv6AddrEqual, ipv6AddrMulticast } from './addr.js';
import { type Inet6Dev, in6DevGet } from './addrconf.js';
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
  const mc = list.find((m) => ipv6AddrEqual(m.addr, addr));
  if (mc !== undefined) {
    mc.users++;
    return;
  }
  // mld_add_delrec / igmp6_group_added: the all-nodes group and groups narrower than a
  // link are never reported; the others are "loaded" into the device's filter.
  const noreport = ipv6AddrEqual(addr, ALL_NODES_LL) || mcScope(addr) < SCOPE_LINKLOCAL;
  const flags = (noreport ? MAF.NOREPORT : 0) | (mcScope(addr) < SCOPE_LINKLOCAL ? 0 : MAF.LOADED);
  list.unshift({ addr: addr.slice(), users: 1, flags });
}

/** __ipv6_dev_mc_dec(). */
function ipv6DevMcDec(idev: Inet6Dev, addr: Uint8Array): void {
  const list = ipv6McList(idev);
  const i = list.findIndex((m) => ipv6AddrEqual(m.addr, addr));
  if (i >= 0 && --(list[i] as Ifmcaddr6).users === 0) list.splice(i, 1);
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
