/**
 * net/ipv4/devinet.c: a device's IPv4 addresses (struct in_device, struct in_ifaddr)
 * and how they follow the device: lo gets 127.0.0.1/8 when it comes up; going down
 * keeps addresses; an MTU below 68 destroys IPv4 on the device, and raising it again
 * brings back an empty in_device that the next up fills.
 */

import { IFF, NETDEV } from '../core/if.js';
import { type ExtAck, type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { NLM_F } from '../net/netlink.js';
import { type Ipv4Devconf, inDevOrconf, ipv4DevconfForDev } from './devconf.js';

/** rtm_scope values (include/uapi/linux/rtnetlink.h). */
export const RT_SCOPE = {
  UNIVERSE: 0,
  SITE: 200,
  LINK: 253,
  HOST: 254,
  NOWHERE: 255,
} as const;

/** IFA_F_* address flags (include/uapi/linux/if_addr.h). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

export const INFINITY_LIFE_TIME = 0xffffffff;
/** Flags that mean nothing for IPv4 and are cleared from its addresses (IPV6ONLY_FLAGS). */
const IPV6ONLY_FLAGS =
  IFA_F.NODAD |
  IFA_F.OPTIMISTIC |
  IFA_F.DADFAILED |
  IFA_F.HOMEADDRESS |
  IFA_F.TENTATIVE |
  IFA_F.MANAGETEMPADDR |
  IFA_F.STABLE_PRIVACY;
const INADDR_LOOPBACK = 0x7f000001;
/** The least MTU IPv4 works over (inetdev_valid_mtu). */
export const IPV4_MIN_MTU = 68;

/** struct in_ifaddr. Addresses are u32 in host order. */
export interface InIfaddr {
  local: number;
  address: number;
  prefixlen: number;
  mask: number;
  broadcast: number;
  scope: number;
  flags: number;
  label: string;
  validLft: number;
  preferredLft: number;
  /** IFA_RT_PRIORITY: the metric of the prefix route; 0 when not given. */
  rtPriority?: number;
  /** ifa_tstamp: when the lifetimes were last set, in clock nanoseconds. */
  tstamp?: number;
}

/** struct in_device. */
export interface InDevice {
  dev: NetDevice;
  /** Primary addresses before secondaries, in insertion order, as Linux keeps them. */
  ifaList: InIfaddr[];
  /** net.ipv4.conf.DEV.* (in_device->cnf). */
  cnf: Ipv4Devconf;
}

export function inDevGet(dev: NetDevice): InDevice | null {
  return dev.ipPtr as InDevice | null;
}

/** inet_make_mask(). */
export function inetMakeMask(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (~0 << (32 - prefixlen)) >>> 0;
}

/** Dotted quad of a host-order u32. */
export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

function inetdevInit(dev: NetDevice): InDevice {
  const inDev: InDevice = { dev, ifaList: [], cnf: ipv4DevconfForDev(dev.net as Net, dev) };
  dev.ipPtr = inDev;
  return inDev;
}

function inetdevDestroy(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (inDev === null) return;
  // inetdev_destroy(): every address is deleted, with its notifications, before the device forgets IPv4.
  while (inDev.ifaList.length > 0) inetDelIfa(inDev, inDev.ifaList[0] as InIfaddr);
  dev.ipPtr = null;
}

/**
 * __inet_insert_ifa(): a second address in an existing subnet becomes secondary
 * (and must share the primary's scope); the same address twice is refused (EEXIST),
 * which is why lo's 127.0.0.1 is not doubled by down/up. A primary goes after the
 * last primary of the same or a wider scope, a secondary at the end. 0 or -errno.
 */
export function inetInsertIfaExt(inDev: InDevice, ifa: InIfaddr, extack: ExtAck = {}): number {
  // An address of 0.0.0.0 is accepted and dropped, as the kernel does.
  if (ifa.local === 0) return 0;
  ifa.flags &= ~(IFA_F.SECONDARY | IPV6ONLY_FLAGS);
  let lastPrimary = 0;
  for (const [i, other] of inDev.ifaList.entries()) {
    if (!(other.flags & IFA_F.SECONDARY) && ifa.scope <= other.scope) lastPrimary = i + 1;
    if (other.mask === ifa.mask && ((other.address ^ ifa.address) & ifa.mask) === 0) {
      if (other.local === ifa.local) {
        extack.msg ??= 'ipv4: Address already assigned';
        return -E.EEXIST;
      }
      if (other.scope !== ifa.scope) {
        extack.msg = 'ipv4: Invalid scope value';
        return -E.EINVAL;
      }
      ifa.flags |= IFA_F.SECONDARY;
    }
  }
  inDev.ifaList.splice(ifa.flags & IFA_F.SECONDARY ? inDev.ifaList.length : lastPrimary, 0, ifa);
  ifa.tstamp ??= inDev.dev.kernel.clock.now();
  scheduleLifetime(inDev, ifa);
  notifyInetaddr(inDev, NETDEV.UP, ifa);
  return 0;
}

/** inet_insert_ifa() for callers that only need to know whether it went in. */
export function inetInsertIfa(inDev: InDevice, ifa: InIfaddr): boolean {
  return inetInsertIfaExt(inDev, ifa) === 0;
}

export type InetaddrNotifier = (event: number, ifa: InIfaddr, inDev: InDevice) => void;

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** inetaddr_chain: told NETDEV_UP when an address is added, NETDEV_DOWN when removed. */
    inetaddrChain: InetaddrNotifier[];
  }
}

function notifyInetaddr(inDev: InDevice, event: number, ifa: InIfaddr): void {
  for (const fn of inDev.dev.kernel.inetaddrChain) fn(event, ifa, inDev);
}

/**
 * __inet_del_ifa(): with promote_secondaries off (the default), deleting a primary
 * address takes the secondaries of its subnet with it; with it on, the first of them
 * becomes the primary (and goes after the last primary) and the others stay, their
 * routes made again for the new primary.
 */
export function inetDelIfa(inDev: InDevice, ifa: InIfaddr): void {
  const i = inDev.ifaList.indexOf(ifa);
  if (i < 0) return;
  const sameSubnet = (o: InIfaddr) =>
    o.flags & IFA_F.SECONDARY && o.mask === ifa.mask && ((o.address ^ ifa.address) & ifa.mask) === 0;
  const promote =
    !(ifa.flags & IFA_F.SECONDARY) && inDevOrconf(inDev, 'promote_secondaries')
      ? inDev.ifaList.find(sameSubnet)
      : undefined;
  const secondaries = ifa.flags & IFA_F.SECONDARY ? [] : inDev.ifaList.filter(sameSubnet);
  // The subnet's secondaries go (or lose their routes, before a promotion) while the primary
  // is still listed, so the routes they had through it are the ones taken away.
  for (const o of secondaries) {
    inDev.ifaList = inDev.ifaList.filter((x) => x !== o);
    if (promote === undefined) cancelLifetime(o);
    notifyInetaddr(inDev, NETDEV.DOWN, o);
  }
  inDev.ifaList = inDev.ifaList.filter((x) => x !== ifa);
  cancelLifetime(ifa);
  notifyInetaddr(inDev, NETDEV.DOWN, ifa);
  if (promote === undefined) return;
  promote.flags &= ~IFA_F.SECONDARY;
  const firstSecondary = inDev.ifaList.findIndex((o) => o.flags & IFA_F.SECONDARY);
  inDev.ifaList.splice(firstSecondary < 0 ? inDev.ifaList.length : firstSecondary, 0, promote);
  notifyInetaddr(inDev, NETDEV.UP, promote);
  for (const o of secondaries) {
    if (o === promote) continue;
    inDev.ifaList.push(o);
    notifyInetaddr(inDev, NETDEV.UP, o);
  }
}

function inetdevEvent(event: number, dev: NetDevice): void {
  let inDev = inDevGet(dev);
  if (inDev === null) {
    if (event === NETDEV.REGISTER || (event === NETDEV.CHANGEMTU && dev.mtu >= IPV4_MIN_MTU)) inetdevInit(dev);
    return;
  }
  switch (event) {
    case NETDEV.UP:
      if (dev.mtu < IPV4_MIN_MTU) break;
      if (dev.flags & IFF.LOOPBACK) {
        inDev ??= inetdevInit(dev);
        inetInsertIfa(inDev, {
          local: INADDR_LOOPBACK,
          address: INADDR_LOOPBACK,
          prefixlen: 8,
          mask: inetMakeMask(8),
          broadcast: 0,
          scope: RT_SCOPE.HOST,
          flags: IFA_F.PERMANENT,
          label: dev.name,
          validLft: INFINITY_LIFE_TIME,
          preferredLft: INFINITY_LIFE_TIME,
        });
      }
      break;
    case NETDEV.CHANGEMTU:
      // Not enough MTU for IPv4: it goes from the device, addresses and all.
      if (dev.mtu < IPV4_MIN_MTU) inetdevDestroy(dev);
      break;
    case NETDEV.CHANGENAME:
      // Labels follow the device name; an alias keeps its ":suffix".
      for (const ifa of inDev.ifaList) {
        const colon = ifa.label.indexOf(':');
        ifa.label = colon < 0 ? dev.name : dev.name + ifa.label.slice(colon);
      }
      break;
    case NETDEV.UNREGISTER:
      inetdevDestroy(dev);
      break;
  }
}

// ---------------------------------------------------------------------------------
// Lifetimes (set_ifa_lifetime, check_lifetime) and what rtnetlink asks (inet_rtm_*).

/** check_lifetime's work, one timer per address with finite lifetimes. */
const lifetimeTimers = new WeakMap<InIfaddr, Timer>();

function cancelLifetime(ifa: InIfaddr): void {
  lifetimeTimers.get(ifa)?.cancel();
  lifetimeTimers.delete(ifa);
}

/**
 * check_lifetime(): a non-permanent address turns deprecated when its preferred
 * lifetime runs out and is deleted when its valid lifetime does.
 */
function scheduleLifetime(inDev: InDevice, ifa: InIfaddr): void {
  cancelLifetime(ifa);
  if (ifa.flags & IFA_F.PERMANENT) return;
  const clock = inDev.dev.kernel.clock;
  const age = clock.now() - (ifa.tstamp ?? 0);
  const validNs = ifa.validLft === INFINITY_LIFE_TIME ? Number.POSITIVE_INFINITY : ifa.validLft * 1e9;
  const deprecate = ifa.preferredLft !== INFINITY_LIFE_TIME && !(ifa.flags & IFA_F.DEPRECATED);
  const at = deprecate ? Math.min(ifa.preferredLft * 1e9, validNs) : validNs;
  if (!Number.isFinite(at)) return;
  const timer = clock.setTimer(Math.max(0, at - age), () => {
    lifetimeTimers.delete(ifa);
    if (!inDev.ifaList.includes(ifa)) return;
    if (clock.now() - (ifa.tstamp ?? 0) >= validNs) inetDelIfa(inDev, ifa);
    else {
      ifa.flags |= IFA_F.DEPRECATED;
      scheduleLifetime(inDev, ifa);
    }
  });
  // Like the kernel's workqueue, an address's lifetime never keeps a process alive.
  timer.unref();
  lifetimeTimers.set(ifa, timer);
}

/** set_ifa_lifetime(): infinite valid means permanent; a preferred lifetime of 0 means deprecated. */
export function setIfaLifetime(ifa: InIfaddr, valid: number, preferred: number, now: number): void {
  let flags = ifa.flags & ~(IFA_F.PERMANENT | IFA_F.DEPRECATED);
  if (valid === INFINITY_LIFE_TIME) flags |= IFA_F.PERMANENT;
  if (preferred === 0) flags |= IFA_F.DEPRECATED;
  ifa.validLft = valid;
  ifa.preferredLft = preferred;
  ifa.flags = flags;
  ifa.tstamp = now;
}

/** The lifetimes inet_fill_ifaddr() reports (IFA_CACHEINFO): what is left of them now. */
export function inetIfaCacheinfo(ifa: InIfaddr, now: number): { valid: number; preferred: number } {
  if (ifa.flags & IFA_F.PERMANENT) return { valid: INFINITY_LIFE_TIME, preferred: INFINITY_LIFE_TIME };
  let { validLft: valid, preferredLft: preferred } = ifa;
  if (preferred !== INFINITY_LIFE_TIME) {
    const tval = Math.floor((now - (ifa.tstamp ?? now)) / 1e9);
    preferred = Math.max(0, preferred - tval);
    if (valid !== INFINITY_LIFE_TIME) valid = Math.max(0, valid - tval);
  }
  return { valid, preferred };
}

/** An RTM_NEWADDR/RTM_DELADDR request: struct ifaddrmsg and the IFA_* attributes given. */
export interface IfaddrRequest {
  ifindex: number;
  prefixlen: number;
  flags: number;
  scope: number;
  /** NLM_F_* of the request. */
  nlFlags: number;
  local?: Uint8Array;
  address?: Uint8Array;
  broadcast?: Uint8Array;
  label?: string;
  rtPriority?: number;
  cacheinfo?: { valid: number; preferred: number };
}

const be32 = (b: Uint8Array): number =>
  (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;

/** ifa_ipv4_policy: IFA_LOCAL/ADDRESS/BROADCAST are u32s, IFA_LABEL a string of at most 15 bytes. */
function ifaIpv4Policy(req: IfaddrRequest, extack: ExtAck): number {
  const bad = [req.local, req.address, req.broadcast].some((a) => a !== undefined && a.length < 4);
  if (bad || (req.label !== undefined && new TextEncoder().encode(req.label).length > 15)) {
    extack.msg = 'Attribute failed policy validation';
    return -E.EINVAL;
  }
  return 0;
}

/** inet_rtm_newaddr(): add an address, or with NLM_F_REPLACE renew an existing one's lifetimes and metric. */
export function inetRtmNewaddr(net: Net, req: IfaddrRequest, extack: ExtAck): number {
  let err = ifaIpv4Policy(req, extack);
  if (err !== 0) return err;
  // rtm_to_ifaddr()
  if (req.prefixlen > 32) {
    extack.msg = 'ipv4: Invalid prefix length';
    return -E.EINVAL;
  }
  if (req.local === undefined) {
    extack.msg = 'ipv4: Local address is not supplied';
    return -E.EINVAL;
  }
  const dev = net.devGetByIndex(req.ifindex);
  if (dev === undefined) {
    extack.msg = 'ipv4: Device not found';
    return -E.ENODEV;
  }
  const inDev = inDevGet(dev);
  if (inDev === null) return -E.ENOBUFS;
  const mask = inetMakeMask(req.prefixlen);
  const ifa: InIfaddr = {
    local: be32(req.local),
    address: be32(req.address ?? req.local),
    prefixlen: req.prefixlen,
    mask,
    broadcast: req.broadcast !== undefined ? be32(req.broadcast) : 0,
    scope: req.scope,
    flags: req.flags,
    label: req.label ?? dev.name,
    validLft: INFINITY_LIFE_TIME,
    preferredLft: INFINITY_LIFE_TIME,
  };
  if (req.rtPriority !== undefined) ifa.rtPriority = req.rtPriority;
  const ci = req.cacheinfo ?? { valid: INFINITY_LIFE_TIME, preferred: INFINITY_LIFE_TIME };
  if (req.cacheinfo !== undefined && (ci.valid === 0 || ci.preferred > ci.valid)) {
    extack.msg = 'ipv4: address lifetime invalid';
    return -E.EINVAL;
  }
  // find_matching_ifa()
  const existing = inDev.ifaList.find(
    (o) => o.mask === mask && ((o.address ^ ifa.address) & mask) === 0 && o.local === ifa.local,
  );
  const now = dev.kernel.clock.now();
  if (existing === undefined) {
    setIfaLifetime(ifa, ci.valid, ci.preferred, now);
    err = inetInsertIfaExt(inDev, ifa, extack);
    return err;
  }
  if (req.nlFlags & NLM_F.EXCL || !(req.nlFlags & NLM_F.REPLACE)) {
    extack.msg = 'ipv4: Address already assigned';
    return -E.EEXIST;
  }
  // A replace keeps the label, scope and broadcast; it renews the lifetimes and the metric.
  if (ifa.rtPriority !== undefined) existing.rtPriority = ifa.rtPriority;
  else delete existing.rtPriority;
  setIfaLifetime(existing, ci.valid, ci.preferred, now);
  scheduleLifetime(inDev, existing);
  return 0;
}

/** inet_rtm_deladdr(): the first address matching every attribute given goes (with its secondaries, if primary). */
export function inetRtmDeladdr(net: Net, req: IfaddrRequest, extack: ExtAck): number {
  const err = ifaIpv4Policy(req, extack);
  if (err !== 0) return err;
  const dev = net.devGetByIndex(req.ifindex);
  const inDev = dev !== undefined ? inDevGet(dev) : null;
  if (inDev === null) {
    extack.msg = 'ipv4: Device not found';
    return -E.ENODEV;
  }
  const local = req.local !== undefined ? be32(req.local) : undefined;
  const address = req.address !== undefined ? be32(req.address) : undefined;
  const ifa = inDev.ifaList.find(
    (i) =>
      (local === undefined || i.local === local) &&
      (req.label === undefined || i.label === req.label) &&
      (address === undefined || (i.prefixlen === req.prefixlen && ((address ^ i.address) & i.mask) === 0)),
  );
  if (ifa === undefined) {
    extack.msg = 'ipv4: Address not found';
    return -E.EADDRNOTAVAIL;
  }
  inetDelIfa(inDev, ifa);
  return 0;
}

/** devinet_init(): follow every device's events. */
export function devinetInit(kernel: Kernel): void {
  kernel.inetaddrChain = [];
  registerNetdeviceNotifier(kernel, inetdevEvent);
}
