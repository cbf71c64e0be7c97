/**
 * net/ipv6/addrconf.c, the part that follows devices: lo gets ::1/128 when it comes up;
 * going down removes every IPv6 address; an MTU below 1280 removes them too, and they
 * come back only with the next up.
 */

import { IFF, NETDEV } from '../core/if.js';
import { type ExtAck, type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import { IFA_F, type IfaddrRequest, INFINITY_LIFE_TIME, RT_SCOPE } from '../ipv4/devinet.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { NLM_F } from '../net/netlink.js';
import { registerProcNet } from '../net/procfs.js';
import { IN6ADDR_LOOPBACK, ipv6AddrEqual } from './addr.js';
import { type Ipv6Devconf, ipv6DevconfForDev } from './devconf.js';

export const IPV6_MIN_MTU = 1280;

/** IPv6 address scopes as /proc/net/if_inet6 and ifconfig print them (IPV6_ADDR_*). */
export const IPV6_ADDR_SCOPE = {
  GLOBAL: 0x00,
  LOOPBACK: 0x10,
  LINKLOCAL: 0x20,
  SITELOCAL: 0x40,
} as const;

/** struct inet6_ifaddr. */
export interface Inet6Ifaddr {
  addr: Uint8Array;
  prefixlen: number;
  scope: number;
  flags: number;
  /** peer_addr, for a point-to-point address given with "peer". */
  peer?: Uint8Array;
  /** In seconds; absent means INFINITY_LIFE_TIME. */
  validLft?: number;
  preferredLft?: number;
  /** When the lifetimes were last set, in clock nanoseconds. */
  tstamp?: number;
  rtPriority?: number;
}

/** struct inet6_dev. */
export interface Inet6Dev {
  dev: NetDevice;
  addrList: Inet6Ifaddr[];
  /** net.ipv6.conf.DEV.* (inet6_dev->cnf). */
  cnf: Ipv6Devconf;
}

export function in6DevGet(dev: NetDevice): Inet6Dev | null {
  return dev.ip6Ptr as Inet6Dev | null;
}

const IFA_F_PERMANENT = 0x80;

function ipv6AddDev(dev: NetDevice): Inet6Dev {
  const idev: Inet6Dev = { dev, addrList: [], cnf: ipv6DevconfForDev(dev.net as Net, dev) };
  dev.ip6Ptr = idev;
  return idev;
}

export type Inet6addrNotifier = (event: number, ifa: Inet6Ifaddr, idev: Inet6Dev) => void;

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** inet6addr_chain: told NETDEV_UP when an address is added, NETDEV_DOWN when removed. */
    inet6addrChain: Inet6addrNotifier[];
  }
}

function notifyInet6addr(idev: Inet6Dev, event: number, ifa: Inet6Ifaddr): void {
  for (const fn of idev.dev.kernel.inet6addrChain) fn(event, ifa, idev);
}

/** ipv6_add_addr(): false if the device already has this address. */
export function ipv6AddAddr(idev: Inet6Dev, ifa: Inet6Ifaddr): boolean {
  if (idev.addrList.some((a) => ipv6AddrEqual(a.addr, ifa.addr))) return false;
  // ipv6_link_dev_addr(): the list is kept by source scope, widest first, newest first within a scope.
  const scope = ipv6AddrSrcScope(ifa.addr);
  const at = idev.addrList.findIndex((a) => scope >= ipv6AddrSrcScope(a.addr));
  idev.addrList.splice(at < 0 ? idev.addrList.length : at, 0, ifa);
  ifa.tstamp ??= idev.dev.kernel.clock.now();
  scheduleLifetime(idev, ifa);
  notifyInet6addr(idev, NETDEV.UP, ifa);
  return true;
}

/** ipv6_del_addr(). */
export function ipv6DelAddr(idev: Inet6Dev, ifa: Inet6Ifaddr): void {
  const i = idev.addrList.indexOf(ifa);
  if (i < 0) return;
  idev.addrList.splice(i, 1);
  cancelLifetime(ifa);
  notifyInet6addr(idev, NETDEV.DOWN, ifa);
}

/** addrconf_ifdown(): every address goes. */
function addrconfIfdown(idev: Inet6Dev): void {
  while (idev.addrList.length > 0) ipv6DelAddr(idev, idev.addrList[idev.addrList.length - 1] as Inet6Ifaddr);
}

function addrconfNotify(event: number, dev: NetDevice): void {
  let idev = in6DevGet(dev);
  switch (event) {
    case NETDEV.REGISTER:
      if (idev === null && dev.mtu >= IPV6_MIN_MTU) ipv6AddDev(dev);
      break;
    case NETDEV.UP:
      if (dev.mtu < IPV6_MIN_MTU) break;
      idev ??= ipv6AddDev(dev);
      if (dev.flags & IFF.LOOPBACK && !idev.addrList.some((a) => ipv6AddrEqual(a.addr, IN6ADDR_LOOPBACK))) {
        // init_loopback(): ::1/128, scope host.
        ipv6AddAddr(idev, {
          addr: IN6ADDR_LOOPBACK.slice(),
          prefixlen: 128,
          scope: IPV6_ADDR_SCOPE.LOOPBACK,
          flags: IFA_F_PERMANENT,
        });
      }
      break;
    case NETDEV.CHANGEMTU:
      if (idev !== null && dev.mtu < IPV6_MIN_MTU) addrconfIfdown(idev);
      break;
    case NETDEV.DOWN:
      if (idev !== null) addrconfIfdown(idev);
      break;
    case NETDEV.UNREGISTER:
      if (idev !== null) addrconfIfdown(idev);
      dev.ip6Ptr = null;
      break;
  }
}

// ---------------------------------------------------------------------------------
// Address types and scopes (net/ipv6/addrconf_core.c).

/** IPV6_ADDR_* type bits __ipv6_addr_type() returns; scope values sit in bits 16-19. */
export const IPV6_ADDR = {
  ANY: 0x0000,
  UNICAST: 0x0001,
  MULTICAST: 0x0002,
  LOOPBACK: 0x0010,
  LINKLOCAL: 0x0020,
  SITELOCAL: 0x0040,
  COMPATV4: 0x0080,
  MAPPED: 0x1000,
} as const;
const SCOPE_TYPE = (scope: number): number => scope << 16;
const SCOPE_NODELOCAL = 0x1;
const SCOPE_LINKLOCAL = 0x2;
const SCOPE_SITELOCAL = 0x5;
const SCOPE_GLOBAL = 0xe;

const word = (a: Uint8Array, i: number): number =>
  (((a[4 * i] ?? 0) << 24) | ((a[4 * i + 1] ?? 0) << 16) | ((a[4 * i + 2] ?? 0) << 8) | (a[4 * i + 3] ?? 0)) >>> 0;

/** ipv6_addr_scope2type(): a multicast scope as type bits. */
function scope2type(scope: number): number {
  if (scope === SCOPE_NODELOCAL) return SCOPE_TYPE(scope) | IPV6_ADDR.LOOPBACK;
  if (scope === SCOPE_LINKLOCAL) return SCOPE_TYPE(scope) | IPV6_ADDR.LINKLOCAL;
  if (scope === SCOPE_SITELOCAL) return SCOPE_TYPE(scope) | IPV6_ADDR.SITELOCAL;
  return SCOPE_TYPE(scope);
}

/** __ipv6_addr_type(). */
export function ipv6AddrType(a: Uint8Array): number {
  const st = word(a, 0);
  const top3 = (st & 0xe0000000) >>> 0;
  if (top3 !== 0 && top3 !== 0xe0000000) return IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_GLOBAL);
  if ((st & 0xff000000) >>> 0 === 0xff000000) return IPV6_ADDR.MULTICAST | scope2type((a[1] ?? 0) & 0x0f);
  if ((st & 0xffc00000) >>> 0 === 0xfe800000)
    return IPV6_ADDR.LINKLOCAL | IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_LINKLOCAL);
  if ((st & 0xffc00000) >>> 0 === 0xfec00000)
    return IPV6_ADDR.SITELOCAL | IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_SITELOCAL);
  if ((st & 0xfe000000) >>> 0 === 0xfc000000) return IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_GLOBAL);
  if ((word(a, 0) | word(a, 1)) === 0) {
    if (word(a, 2) === 0) {
      if (word(a, 3) === 0) return IPV6_ADDR.ANY;
      if (word(a, 3) === 1) return IPV6_ADDR.LOOPBACK | IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_LINKLOCAL);
      return IPV6_ADDR.COMPATV4 | IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_GLOBAL);
    }
    if (word(a, 2) === 0xffff) return IPV6_ADDR.MAPPED | SCOPE_TYPE(SCOPE_GLOBAL);
  }
  return IPV6_ADDR.UNICAST | SCOPE_TYPE(SCOPE_GLOBAL);
}

/** ipv6_addr_scope(): the IPV6_ADDR_SCOPE_* bits /proc/net/if_inet6 and ifconfig print (::2 is 0x80, "compat"). */
export function ipv6AddrScope(a: Uint8Array): number {
  return ipv6AddrType(a) & 0x00f0;
}

/** ipv6_addr_src_scope(): the RFC 6724 scope that orders a device's addresses. */
export function ipv6AddrSrcScope(a: Uint8Array): number {
  const t = ipv6AddrType(a);
  return t === IPV6_ADDR.ANY ? 0x10 : (t >> 16) & 0x0f;
}

/** rt_scope(): the rtm scope an address reports in RTM_NEWADDR. */
export function ipv6RtScope(scope: number): number {
  if (scope & IPV6_ADDR_SCOPE.LOOPBACK) return RT_SCOPE.HOST;
  if (scope & IPV6_ADDR_SCOPE.LINKLOCAL) return RT_SCOPE.LINK;
  if (scope & IPV6_ADDR_SCOPE.SITELOCAL) return RT_SCOPE.SITE;
  return RT_SCOPE.UNIVERSE;
}

// ---------------------------------------------------------------------------------
// Lifetimes (addrconf_verify) and what rtnetlink asks (inet6_rtm_*).

const lifetimeTimers = new WeakMap<Inet6Ifaddr, Timer>();

function cancelLifetime(ifa: Inet6Ifaddr): void {
  lifetimeTimers.get(ifa)?.cancel();
  lifetimeTimers.delete(ifa);
}

/** addrconf_verify(): deprecated when the preferred lifetime ends, deleted when the valid one does. */
function scheduleLifetime(idev: Inet6Dev, ifa: Inet6Ifaddr): void {
  cancelLifetime(ifa);
  const valid = ifa.validLft ?? INFINITY_LIFE_TIME;
  const preferred = ifa.preferredLft ?? INFINITY_LIFE_TIME;
  const validNs = valid === INFINITY_LIFE_TIME ? Number.POSITIVE_INFINITY : valid * 1e9;
  const deprecate = preferred !== INFINITY_LIFE_TIME && !(ifa.flags & IFA_F.DEPRECATED);
  const at = deprecate ? Math.min(preferred * 1e9, validNs) : validNs;
  if (!Number.isFinite(at)) return;
  const clock = idev.dev.kernel.clock;
  const timer = clock.setTimer(Math.max(0, at - (clock.now() - (ifa.tstamp ?? 0))), () => {
    lifetimeTimers.delete(ifa);
    if (!idev.addrList.includes(ifa)) return;
    if (clock.now() - (ifa.tstamp ?? 0) >= validNs) ipv6DelAddr(idev, ifa);
    else {
      ifa.flags |= IFA_F.DEPRECATED;
      scheduleLifetime(idev, ifa);
    }
  });
  timer.unref();
  lifetimeTimers.set(ifa, timer);
}

/** The lifetimes inet6_fill_ifaddr() reports: what is left of them now. */
export function inet6IfaCacheinfo(ifa: Inet6Ifaddr, now: number): { valid: number; preferred: number } {
  let valid = ifa.validLft ?? INFINITY_LIFE_TIME;
  let preferred = ifa.preferredLft ?? INFINITY_LIFE_TIME;
  if (ifa.flags & IFA_F.PERMANENT && preferred === INFINITY_LIFE_TIME) return { valid, preferred };
  if (preferred !== INFINITY_LIFE_TIME) {
    const tval = Math.floor((now - (ifa.tstamp ?? now)) / 1e9);
    preferred = Math.max(0, preferred - tval);
    if (valid !== INFINITY_LIFE_TIME) valid = Math.max(0, valid - tval);
  }
  return { valid, preferred };
}

/** Flags a user may set on an IPv6 address (inet6_rtm_newaddr ignores the rest). */
const CONFIG_FLAGS =
  IFA_F.NODAD | IFA_F.HOMEADDRESS | IFA_F.MANAGETEMPADDR | IFA_F.NOPREFIXROUTE | IFA_F.MCAUTOJOIN | IFA_F.OPTIMISTIC;

/** The lifetimes part of inet6_addr_add()/inet6_addr_modify(): permanent iff valid is infinite. */
function lifetimeFlags(valid: number, preferred: number): number {
  return (valid === INFINITY_LIFE_TIME ? IFA_F.PERMANENT : 0) | (preferred === 0 ? IFA_F.DEPRECATED : 0);
}

/** ifa_ipv6_policy: IFA_LOCAL and IFA_ADDRESS hold at least an in6_addr. */
function ifaIpv6Policy(req: IfaddrRequest, extack: ExtAck): boolean {
  if ([req.local, req.address].some((a) => a !== undefined && a.length < 16)) {
    extack.msg = 'Attribute failed policy validation';
    return false;
  }
  return true;
}

/** extract_addr(): IFA_LOCAL is the address when both are given and differ; IFA_ADDRESS is then the peer. */
function extractAddr(req: IfaddrRequest): { pfx: Uint8Array; peer: Uint8Array | undefined } | null {
  const { local, address } = req;
  if (address !== undefined && local !== undefined && !ipv6AddrEqual(address, local))
    return { pfx: local, peer: address };
  const pfx = address ?? local;
  return pfx === undefined || pfx.length !== 16 ? null : { pfx, peer: undefined };
}

/** inet6_rtm_newaddr(): inet6_addr_add(), or inet6_addr_modify() of an existing address under NLM_F_REPLACE. */
export function inet6RtmNewaddr(net: Net, req: IfaddrRequest, extack: ExtAck): number {
  if (!ifaIpv6Policy(req, extack)) return -E.EINVAL;
  const a = extractAddr(req);
  if (a === null) return -E.EINVAL;
  const dev = net.devGetByIndex(req.ifindex);
  if (dev === undefined) {
    extack.msg = 'ipv6: Unable to find the interface';
    return -E.ENODEV;
  }
  // ipv6_allow_optimistic_dad() is off by default (optimistic_dad = 0).
  const flags = req.flags & CONFIG_FLAGS & ~IFA_F.OPTIMISTIC;
  const valid = req.cacheinfo?.valid ?? INFINITY_LIFE_TIME;
  const preferred = req.cacheinfo?.preferred ?? INFINITY_LIFE_TIME;
  const idev = in6DevGet(dev) ?? (dev.mtu >= IPV6_MIN_MTU ? ipv6AddDev(dev) : null);
  if (idev === null) return -E.EINVAL;
  const existing = idev.addrList.find((i) => ipv6AddrEqual(i.addr, a.pfx));
  if (existing !== undefined) {
    if (req.nlFlags & NLM_F.EXCL || !(req.nlFlags & NLM_F.REPLACE)) {
      extack.msg = 'ipv6: address already assigned';
      return -E.EEXIST;
    }
    if (flags & IFA_F.MANAGETEMPADDR && existing.prefixlen !== 64) return -E.EINVAL;
    const keep = IFA_F.DEPRECATED | IFA_F.PERMANENT | IFA_F.NODAD | IFA_F.HOMEADDRESS;
    existing.flags &= ~(keep | IFA_F.MANAGETEMPADDR | IFA_F.NOPREFIXROUTE);
    existing.flags |= flags | lifetimeFlags(valid, preferred);
    existing.validLft = valid;
    existing.preferredLft = preferred;
    existing.tstamp = dev.kernel.clock.now();
    if (req.rtPriority) existing.rtPriority = req.rtPriority;
    scheduleLifetime(idev, existing);
    return 0;
  }
  return inet6AddrAdd(idev, req, a.pfx, a.peer, flags, extack);
}

/** inet6_addr_add() and the checks of ipv6_add_addr(). */
function inet6AddrAdd(
  idev: Inet6Dev,
  req: IfaddrRequest,
  pfx: Uint8Array,
  peer: Uint8Array | undefined,
  flags: number,
  extack: ExtAck,
): number {
  const valid = req.cacheinfo?.valid ?? INFINITY_LIFE_TIME;
  const preferred = req.cacheinfo?.preferred ?? INFINITY_LIFE_TIME;
  const fail = (err: number, msg: string): number => {
    extack.msg = `ipv6: ${msg}`;
    return err;
  };
  if (req.prefixlen > 128) return fail(-E.EINVAL, 'Invalid prefix length');
  if (valid === 0 || preferred > valid) return fail(-E.EINVAL, 'address lifetime invalid');
  if (flags & IFA_F.MANAGETEMPADDR && req.prefixlen !== 64)
    return fail(-E.EINVAL, 'address with "mngtmpaddr" flag must have a prefix length of 64');
  const type = ipv6AddrType(pfx);
  if (type === IPV6_ADDR.ANY) return fail(-E.EADDRNOTAVAIL, 'Invalid address');
  if (type & IPV6_ADDR.MULTICAST && !(flags & IFA_F.MCAUTOJOIN))
    return fail(-E.EADDRNOTAVAIL, 'Cannot assign multicast address without "IFA_F_MCAUTOJOIN" flag');
  if (!(idev.dev.flags & IFF.LOOPBACK) && type & IPV6_ADDR.LOOPBACK)
    return fail(-E.EADDRNOTAVAIL, 'Cannot assign loopback address on this device');
  const ifa: Inet6Ifaddr = {
    addr: Uint8Array.from(pfx),
    prefixlen: req.prefixlen,
    scope: ipv6AddrScope(pfx),
    // addrconf_dad_begin(): a loopback or NOARP device (tun) needs no DAD, so nothing stays tentative.
    flags:
      flags |
      lifetimeFlags(valid, preferred) |
      (flags & IFA_F.NODAD || idev.dev.flags & (IFF.LOOPBACK | IFF.NOARP) ? 0 : IFA_F.TENTATIVE),
    validLft: valid,
    preferredLft: preferred,
    tstamp: idev.dev.kernel.clock.now(),
  };
  if (peer !== undefined) ifa.peer = Uint8Array.from(peer);
  if (req.rtPriority) ifa.rtPriority = req.rtPriority;
  return ipv6AddAddr(idev, ifa) ? 0 : fail(-E.EEXIST, 'address already assigned');
}

/** inet6_rtm_deladdr() / inet6_addr_del(): address and prefix length must both match. */
export function inet6RtmDeladdr(net: Net, req: IfaddrRequest, extack: ExtAck): number {
  if (!ifaIpv6Policy(req, extack)) return -E.EINVAL;
  const a = extractAddr(req);
  if (a === null) return -E.EINVAL;
  if (req.prefixlen > 128) {
    extack.msg = 'ipv6: Invalid prefix length';
    return -E.EINVAL;
  }
  const dev = net.devGetByIndex(req.ifindex);
  if (dev === undefined) {
    extack.msg = 'ipv6: Unable to find the interface';
    return -E.ENODEV;
  }
  const idev = in6DevGet(dev);
  if (idev === null) {
    extack.msg = 'ipv6: IPv6 is disabled on this device';
    return -E.ENXIO;
  }
  const ifa = idev.addrList.find((i) => i.prefixlen === req.prefixlen && ipv6AddrEqual(i.addr, a.pfx));
  if (ifa === undefined) {
    extack.msg = 'ipv6: address not found';
    return -E.EADDRNOTAVAIL;
  }
  ipv6DelAddr(idev, ifa);
  return 0;
}

/**
 * if6_seq_show(): "%pi6 %02x %02x %02x %02x %8s", flags cut to 8 bits. Linux walks a
 * hash table salted per namespace, so its order is arbitrary; lonet lists devices in
 * ifindex order and each device's addresses in its list order.
 */
export function if6SeqShow(net: Net): string {
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
  let out = '';
  for (const dev of net.devices) {
    for (const ifa of in6DevGet(dev)?.addrList ?? []) {
      const addr = Array.from(ifa.addr, hex2).join('');
      out += `${addr} ${hex2(dev.ifindex)} ${hex2(ifa.prefixlen)} ${hex2(ifa.scope)} ${hex2(ifa.flags & 0xff)} ${dev.name.padStart(8)}\n`;
    }
  }
  return out;
}

/** addrconf_init(): follow every device's events; /proc/net/if_inet6. */
export function addrconfInit(kernel: Kernel): void {
  kernel.inet6addrChain = [];
  registerNetdeviceNotifier(kernel, addrconfNotify);
  registerProcNet('if_inet6', if6SeqShow);
}
