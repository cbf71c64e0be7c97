/**
 * The rtnetlink side of the IPv6 FIB: what inet6_rtm_newroute / inet6_rtm_delroute /
 * inet6_rtm_getroute (net/ipv6/route.c: rtm_to_fib6_config, ip6_route_info_create,
 * fib6_nh_init, ip6_validate_gw, ip6_route_del) and fib6_add_rt2node (ip6_fib.c) check
 * and do, with their -errno and extack messages, and the order inet6_dump_fib walks the
 * tables in. Every change bumps net.ipv6.genid so cached routes are looked up again.
 */

import { IFF } from '../core/if.js';
import type { ExtAck, NetDevice } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import { RT_TABLE, RTN, RTNH_F } from '../ipv4/fib.js';
import type { Net } from '../net/net.js';
import { NLM_F } from '../net/netlink.js';
import { ipv6AddrEqual, ipv6AddrLoopback, ipv6AddrPrefix } from './addr.js';
import { IPV6_ADDR, in6DevGet, ipv6AddrType } from './addrconf.js';
import { type Fib6Info, Fib6Table, fib6Lookup, ipv6DevGetSaddr } from './route.js';

/** IP6_RT_PRIO_USER: the metric of a route added without one. */
export const IP6_RT_PRIO_USER = 1024;

/** struct fib6_config: what an RTM_NEWROUTE / RTM_DELROUTE request for AF_INET6 carries. */
export interface Fib6Config {
  /** RTN_*. */
  type: number;
  table: number;
  dst: Uint8Array;
  dstLen: number;
  /** 0 on delete matches any. */
  protocol: number;
  /** 0 means IP6_RT_PRIO_USER on add, any on delete. */
  metric: number;
  /** Output device, 0 for none. */
  ifindex: number;
  gateway: Uint8Array | null;
  prefsrc: Uint8Array | null;
  /** RTNH_F_* (onlink). */
  flags: number;
  /** NLM_F_* of the request. */
  nlFlags: number;
}

/** Route types whose fib6_flags carry RTF_REJECT (rtm_to_fib6_config). */
function rtnIsReject6(type: number): boolean {
  return type === RTN.UNREACHABLE || type === RTN.BLACKHOLE || type === RTN.PROHIBIT || type === RTN.THROW;
}

/**
 * fib6_is_reject(): a reject type, or a "true" route through the loopback device
 * (anything but ::1, local and anycast), which Linux promotes to a reject route since
 * it would loop; its type stays RTN_UNICAST, so only next-hop checks see it.
 */
function fib6IsReject(rt: Fib6Info): boolean {
  if (rtnIsReject6(rt.type)) return true;
  return (
    (rt.dev.flags & IFF.LOOPBACK) !== 0 && !ipv6AddrLoopback(rt.dst) && rt.type !== RTN.LOCAL && rt.type !== RTN.ANYCAST
  );
}

/** fib6_prop[]: the error a lookup that lands on a route of this type answers. */
export function ip6RtTypeToError(type: number): number {
  if (type === RTN.UNREACHABLE) return -E.EHOSTUNREACH;
  if (type === RTN.PROHIBIT) return -E.EACCES;
  if (type === RTN.THROW) return -E.EAGAIN;
  if (type === RTN.BLACKHOLE || type === RTN.NAT || type === RTN.XRESOLVE) return -E.EINVAL;
  return 0;
}

/** fib6_get_table(): main and local exist from boot (fib6_tables_init), even while empty. */
export function fib6GetTable(net: Net, id: number): Fib6Table | undefined {
  const t = net.ipv6.tables.get(id);
  if (t !== undefined || (id !== RT_TABLE.MAIN && id !== RT_TABLE.LOCAL)) return t;
  return fib6NewTable(net, id);
}

/** fib6_new_table(). */
export function fib6NewTable(net: Net, id: number): Fib6Table {
  let t = net.ipv6.tables.get(id);
  if (t === undefined) {
    t = new Fib6Table(id);
    net.ipv6.tables.set(id, t);
  }
  return t;
}

/** ipv6_chk_addr(): an address of this host; with `dev`, link- and host-scope ones only count there. */
function ipv6ChkAddr(net: Net, addr: Uint8Array, dev: NetDevice | null): boolean {
  for (const d of net.devices) {
    for (const ifa of in6DevGet(d)?.addrList ?? []) {
      if (!ipv6AddrEqual(ifa.addr, addr)) continue;
      if (dev === null || d === dev || (ipv6AddrType(addr) & (IPV6_ADDR.LINKLOCAL | IPV6_ADDR.LOOPBACK)) === 0)
        return true;
    }
  }
  return false;
}

/**
 * ip6_route_check_nh(): the gateway must be reached by a directly connected route that is
 * no reject route, on the device given if one was.
 */
function ip6RouteCheckNh(net: Net, cfg: Fib6Config, gw: Uint8Array, dev: NetDevice | null): NetDevice | number {
  const inTable = net.ipv6.tables.get(cfg.table)?.lookup(gw, cfg.ifindex);
  const ok = (rt: Fib6Info | undefined): rt is Fib6Info =>
    rt !== undefined && !fib6IsReject(rt) && rt.gateway === undefined && (dev === null || rt.dev === dev);
  const res = ok(inTable) ? inTable : fib6Lookup(net, gw, cfg.ifindex);
  if (res === undefined || fib6IsReject(res) || res.gateway !== undefined) return -E.EHOSTUNREACH;
  if (dev !== null && dev !== res.dev) return -E.EHOSTUNREACH;
  return res.dev;
}

/** ip6_validate_gw(): the next hop's device, or -errno with the kernel's message. */
function ip6ValidateGw(
  net: Net,
  cfg: Fib6Config,
  gw: Uint8Array,
  dev: NetDevice | null,
  extack: ExtAck,
): NetDevice | number {
  const gwaType = ipv6AddrType(gw);
  const linkLocal = IPV6_ADDR.LINKLOCAL | IPV6_ADDR.UNICAST;
  // A global gateway may be any of the host's addresses; a link-local one only the device's.
  if (dev !== null && ipv6ChkAddr(net, gw, (gwaType & IPV6_ADDR.LINKLOCAL) !== 0 ? dev : null)) {
    extack.msg = 'Gateway can not be a local address';
    return -E.EINVAL;
  }
  let out = dev;
  if ((gwaType & linkLocal) !== linkLocal) {
    if (!(gwaType & (IPV6_ADDR.UNICAST | IPV6_ADDR.MAPPED))) {
      extack.msg = 'Invalid gateway address';
      return -E.EINVAL;
    }
    const nhDev = ip6RouteCheckNh(net, cfg, gw, dev);
    if (typeof nhDev === 'number') return nhDev;
    out = nhDev;
  }
  if (out === null) {
    extack.msg = 'Egress device not specified';
    return -E.EINVAL;
  }
  if (out.flags & IFF.LOOPBACK) {
    extack.msg = 'Egress device can not be loopback device for this route';
    return -E.EINVAL;
  }
  return out;
}

/** ip6_route_info_create() + fib6_nh_init(): the route as it will be stored, or -errno. */
function ip6RouteInfoCreate(net: Net, cfg: Fib6Config, extack: ExtAck): Fib6Info | number {
  if (cfg.type > RTN.XRESOLVE) {
    extack.msg = 'Invalid route type';
    return -E.EINVAL;
  }
  if (cfg.dstLen > 128) {
    extack.msg = 'Invalid prefix length';
    return -E.EINVAL;
  }
  // The table is made before the next hop is checked, and stays if the route is refused.
  fib6NewTable(net, cfg.table);
  let dev: NetDevice | null = null;
  if (cfg.ifindex !== 0) {
    dev = net.devGetByIndex(cfg.ifindex) ?? null;
    if (dev === null || in6DevGet(dev) === null) return -E.ENODEV;
  }
  if (cfg.flags & RTNH_F.ONLINK) {
    if (dev === null) {
      extack.msg = 'Nexthop device required for onlink';
      return -E.ENODEV;
    }
    if (!(dev.flags & IFF.UP)) {
      extack.msg = 'Nexthop device is not up';
      return -E.ENETDOWN;
    }
  }
  const rt = (d: NetDevice): Fib6Info => ({
    dst: ipv6AddrPrefix(cfg.dst, cfg.dstLen),
    dstLen: cfg.dstLen,
    type: cfg.type,
    dev: d,
    metric: cfg.metric,
    protocol: cfg.protocol,
    pref: 1,
    table: cfg.table,
    ...(cfg.gateway !== null ? { gateway: cfg.gateway.slice() } : {}),
    ...(cfg.prefsrc !== null ? { prefsrc: cfg.prefsrc.slice() } : {}),
  });
  if (rtnIsReject6(cfg.type)) {
    // Reject routes hold the loopback device whatever was asked for.
    const lo = net.loopbackDev;
    if (lo === null) return -E.ENODEV;
    return withPrefsrc(net, rt(lo), lo, extack);
  }
  if (cfg.gateway !== null) {
    const nhDev = ip6ValidateGw(net, cfg, cfg.gateway, dev, extack);
    if (typeof nhDev === 'number') return nhDev;
    dev = nhDev;
  }
  if (dev === null) return -E.ENODEV;
  if (!(dev.flags & IFF.UP)) {
    extack.msg = 'Nexthop device is not up';
    return -E.ENETDOWN;
  }
  return withPrefsrc(net, rt(dev), dev, extack);
}

/** The prefsrc check at the end of ip6_route_info_create(). */
function withPrefsrc(net: Net, rt: Fib6Info, dev: NetDevice, extack: ExtAck): Fib6Info | number {
  if (rt.prefsrc !== undefined && !ipv6ChkAddr(net, rt.prefsrc, dev)) {
    extack.msg = 'Invalid source address';
    return -E.EINVAL;
  }
  return rt;
}

/** rt6_duplicate_nexthop(): the same device and gateway. */
function rt6DuplicateNexthop(a: Fib6Info, b: Fib6Info): boolean {
  if (a.dev !== b.dev) return false;
  if (a.gateway === undefined || b.gateway === undefined) return a.gateway === b.gateway;
  return ipv6AddrEqual(a.gateway, b.gateway);
}

/** The routes stored for exactly this prefix, in the order the node keeps them. */
function fib6Locate(tb: Fib6Table, dst: Uint8Array, dstLen: number): Fib6Info[] {
  return tb.dump().filter((rt) => rt.dstLen === dstLen && ipv6AddrEqual(rt.dst, dst));
}

/**
 * fib6_add_rt2node(): among routes of the same prefix and metric, NLM_F_EXCL refuses,
 * NLM_F_REPLACE swaps the first (or, with NLM_F_CREATE, adds when there is none), and a
 * route with the same next hop is EEXIST.
 */
function fib6AddRt2node(tb: Fib6Table, rt: Fib6Info, nlFlags: number, extack: ExtAck): number {
  const same = fib6Locate(tb, rt.dst, rt.dstLen).filter((o) => o.metric === rt.metric);
  const first = same[0];
  if (first !== undefined) {
    if (nlFlags & NLM_F.EXCL) return -E.EEXIST;
    if (nlFlags & NLM_F.REPLACE) {
      tb.delete((o) => o === first);
      return tb.insert(rt);
    }
    if (same.some((o) => rt6DuplicateNexthop(o, rt))) return -E.EEXIST;
  } else if (nlFlags & NLM_F.REPLACE && !(nlFlags & NLM_F.CREATE)) {
    extack.msg = 'Can not replace route - no match found';
    return -E.ENOENT;
  }
  return tb.insert(rt);
}

/** inet6_rtm_newroute() → ip6_route_add(). */
export function inet6RtmNewroute(net: Net, cfg: Fib6Config, extack: ExtAck = {}): number {
  if (cfg.metric === 0) cfg.metric = IP6_RT_PRIO_USER;
  const rt = ip6RouteInfoCreate(net, cfg, extack);
  if (typeof rt === 'number') return rt;
  const err = fib6AddRt2node(fib6NewTable(net, cfg.table), rt, cfg.nlFlags, extack);
  if (err === 0) net.ipv6.genid++;
  return err;
}

/** inet6_rtm_delroute() → ip6_route_del(): the first route at the prefix matching what was given. */
export function inet6RtmDelroute(net: Net, cfg: Fib6Config, extack: ExtAck = {}): number {
  const tb = fib6GetTable(net, cfg.table);
  if (tb === undefined) {
    extack.msg = 'FIB table does not exist';
    return -E.ESRCH;
  }
  const victim = fib6Locate(tb, ipv6AddrPrefix(cfg.dst, cfg.dstLen), cfg.dstLen).find(
    (rt) =>
      (cfg.ifindex === 0 || rt.dev.ifindex === cfg.ifindex) &&
      (cfg.gateway === null || (rt.gateway !== undefined && ipv6AddrEqual(rt.gateway, cfg.gateway))) &&
      (cfg.metric === 0 || rt.metric === cfg.metric) &&
      (cfg.protocol === 0 || rt.protocol === cfg.protocol),
  );
  if (victim === undefined) return -E.ESRCH;
  tb.delete((rt) => rt === victim);
  net.ipv6.genid++;
  return 0;
}

/** Removes exactly these routes (what `ip -6 route flush` sends back as RTM_DELROUTE). */
export function fib6DeleteRoutes(net: Net, victims: readonly Fib6Info[]): void {
  const set = new Set(victims);
  for (const tb of net.ipv6.tables.values()) tb.delete((rt) => set.has(rt));
  if (set.size > 0) net.ipv6.genid++;
}

/**
 * The order fib6_walk() visits a table's tree in: a node's 0-branch, then its 1-branch,
 * then the node itself, so longer prefixes come before the prefix that covers them.
 */
function fib6WalkOrder(a: Fib6Info, b: Fib6Info): number {
  const n = Math.min(a.dstLen, b.dstLen);
  const pa = ipv6AddrPrefix(a.dst, n);
  const pb = ipv6AddrPrefix(b.dst, n);
  for (let i = 0; i < 16; i++) {
    const d = (pa[i] as number) - (pb[i] as number);
    if (d !== 0) return d;
  }
  return b.dstLen - a.dstLen;
}

/**
 * inet6_dump_fib(): tables by their hash bucket (id & 255), the newest first within a
 * bucket (main and local are the oldest); each table in tree-walk order.
 */
export function inet6DumpFib(net: Net, tableId = 0): Fib6Info[] {
  const ids = [...net.ipv6.tables.keys()];
  const age = (id: number) => (id === RT_TABLE.MAIN || id === RT_TABLE.LOCAL ? -1 : ids.indexOf(id));
  const order = tableId !== 0 ? [tableId] : ids.sort((a, b) => (a & 255) - (b & 255) || age(b) - age(a));
  const out: Fib6Info[] = [];
  for (const id of order) out.push(...(net.ipv6.tables.get(id)?.dump() ?? []).sort(fib6WalkOrder));
  return out;
}

/** What inet6_rtm_getroute() answers: the route and the source it would use. */
export interface Rt6GetResult {
  rt: Fib6Info;
  /** ip6_route_get_saddr(): the route's prefsrc, else the chosen source; null if none. */
  prefsrc: Uint8Array | null;
}

/**
 * inet6_rtm_getroute() for an output route: the rules' lookup (a throw route sends it on
 * to rules that find nothing here), then the route type's error, if any.
 */
export function inet6RtmGetroute(net: Net, daddr: Uint8Array, oif: number): Rt6GetResult | number {
  const rt = fib6Lookup(net, daddr, oif);
  if (rt === undefined || rt.type === RTN.THROW) return -E.ENETUNREACH;
  const err = ip6RtTypeToError(rt.type);
  if (err < 0) return err;
  if (rt.prefsrc !== undefined) return { rt, prefsrc: rt.prefsrc };
  const saddr = ipv6DevGetSaddr(net, daddr, rt.dev);
  return { rt, prefsrc: typeof saddr === 'number' ? null : saddr };
}
