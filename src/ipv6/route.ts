/**
 * net/ipv6/route.c, ip6_fib.c and addrconf's route side, for what lo needs: the local
 * table holds a RTN_LOCAL /128 for every address (`local ::1 dev lo proto kernel
 * metric 0 pref medium`), main holds prefix routes (metric 256). Output lookups pick a
 * source address first (ipv6_dev_get_saddr: EADDRNOTAVAIL when there is none, as when
 * lo is down and ::1 is gone) and send anything local through lo.
 */
import type { DstEntry } from '../core/dst.js';
import { IFF, NETDEV } from '../core/if.js';
import { type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { IFA_F } from '../ipv4/devinet.js';
import { RT_TABLE, RTN, RTPROT } from '../ipv4/fib.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { ipv6AddrAny, ipv6AddrPrefix, ipv6Key, ipv6PrefixEqual } from './addr.js';
import { type Inet6Dev, type Inet6Ifaddr, in6DevGet, ipv6AddrSrcScope } from './addrconf.js';

/** One IPv6 route (struct fib6_info with its one next hop). */
export interface Fib6Info {
  dst: Uint8Array;
  dstLen: number;
  type: number;
  dev: NetDevice;
  metric: number;
  protocol: number;
  /** RA preference: 1 medium (the only one lo uses). */
  pref: number;
  table: number;
  /** The next hop's gateway (fib_nh_gw6), for routes added with `via`. */
  gateway?: Uint8Array;
  /** The preferred source (fib6_prefsrc), for routes added with `src`. */
  prefsrc?: Uint8Array;
}

/** A table: prefix length → prefix → routes, looked up longest prefix first. */
export class Fib6Table {
  readonly #byLen = new Map<number, Map<string, Fib6Info[]>>();
  #lens: number[] = [];

  constructor(readonly id: number) {}

  insert(rt: Fib6Info): number {
    let m = this.#byLen.get(rt.dstLen);
    if (m === undefined) {
      m = new Map();
      this.#byLen.set(rt.dstLen, m);
      this.#lens = [...this.#byLen.keys()].sort((a, b) => b - a);
    }
    const key = ipv6Key(rt.dst);
    const list = m.get(key) ?? [];
    if (list.some((o) => o.metric === rt.metric && o.dev === rt.dev && o.type === rt.type)) return -E.EEXIST;
    list.push(rt);
    list.sort((a, b) => a.metric - b.metric);
    m.set(key, list);
    return 0;
  }

  delete(pred: (rt: Fib6Info) => boolean): number {
    let n = 0;
    for (const [len, m] of this.#byLen) {
      for (const [key, list] of m) {
        const keep = list.filter((rt) => !pred(rt));
        n += list.length - keep.length;
        if (keep.length > 0) m.set(key, keep);
        else m.delete(key);
      }
      if (m.size === 0) {
        this.#byLen.delete(len);
        this.#lens = this.#lens.filter((l) => l !== len);
      }
    }
    return n;
  }

  /** Routes in dump order: by prefix, longer first. */
  dump(): Fib6Info[] {
    const all: Fib6Info[] = [];
    for (const m of this.#byLen.values()) for (const l of m.values()) all.push(...l);
    return all.sort((a, b) => ipv6Key(a.dst).localeCompare(ipv6Key(b.dst)) || b.dstLen - a.dstLen);
  }

  lookup(daddr: Uint8Array, oif: number): Fib6Info | undefined {
    for (const len of this.#lens) {
      const list = this.#byLen.get(len)?.get(ipv6Key(ipv6AddrPrefix(daddr, len)));
      const rt = list?.find((r) => oif === 0 || r.type === RTN.LOCAL || r.dev.ifindex === oif);
      if (rt !== undefined) return rt;
    }
    return undefined;
  }
}

/** What a route does with a packet that arrives on it (dst.input). */
export const RT6_INPUT = { LOCAL: 0, FORWARD: 1, DISCARD: 2, PROHIBIT: 3, BLACKHOLE: 4 } as const;

/** struct rt6_info: a route a packet carries. */
export class Rt6Info implements DstEntry {
  readonly #net: Net;
  readonly #genid: number;
  /** rt6i_gateway: the next hop's address when the route has one (RTF_GATEWAY), else null. */
  gateway: Uint8Array | null = null;
  /** A learned path MTU (the exception's RTAX_MTU), 0 = none; valid until `expires` (clock ns). */
  pmtu = 0;
  expires = 0;
  /** The FIB entry this copy was made from (rt->from), for `ip -6 route get`. */
  from: Fib6Info | null = null;
  /** dst.input: one of RT6_INPUT. */
  inputKind: number = RT6_INPUT.LOCAL;

  constructor(
    net: Net,
    public dev: NetDevice,
    readonly rtType: number,
    readonly local: boolean,
  ) {
    this.#net = net;
    this.#genid = net.ipv6.genid;
  }

  input(skb: SkBuff): number {
    switch (this.inputKind) {
      case RT6_INPUT.FORWARD:
        return ip6RouteHandlers.forward(skb);
      case RT6_INPUT.DISCARD:
        return ip6RouteHandlers.drop(skb, ICMPV6.NOROUTE);
      case RT6_INPUT.PROHIBIT:
        return ip6RouteHandlers.drop(skb, ICMPV6.ADM_PROHIBITED);
      case RT6_INPUT.BLACKHOLE:
        kfreeSkb(skb);
        return 0;
      default:
        return ip6RouteHandlers.input(skb);
    }
  }

  output(skb: SkBuff): number {
    return ip6RouteHandlers.output(skb);
  }

  check(): boolean {
    return this.#genid === this.#net.ipv6.genid && this.#net.alive;
  }

  get mtu(): number {
    if (this.pmtu > 0 && this.#net.kernel.clock.now() < this.expires) return this.pmtu;
    return this.dev.mtu;
  }
}

const notReady = (): number => {
  throw new Error('ipv6 not initialised');
};

/** ip6_input / ip6_output / ip6_forward / ip6_pkt_drop, installed by ip6-input.ts, ip6-output.ts and ip6-forward.ts. */
export const ip6RouteHandlers: {
  input: (skb: SkBuff) => number;
  output: (skb: SkBuff) => number;
  forward: (skb: SkBuff) => number;
  drop: (skb: SkBuff, code: number) => number;
} = { input: notReady, output: notReady, forward: notReady, drop: notReady };

export interface Flowi6 {
  daddr: Uint8Array;
  saddr: Uint8Array;
  oif: number;
  proto: number;
}

/** The route a lookup of `daddr` finds, through the rules: local (0), then main (32766). */
export function fib6Lookup(net: Net, daddr: Uint8Array, oif: number): Fib6Info | undefined {
  for (const id of [RT_TABLE.LOCAL, RT_TABLE.MAIN]) {
    const rt = net.ipv6.tables.get(id)?.lookup(daddr, oif);
    if (rt !== undefined) return rt;
  }
  return undefined;
}

/**
 * ipv6_dev_get_saddr() with RFC 6724's rules as Linux orders them, reduced to those that
 * can differ here: the destination itself (rule 1), a scope at least the destination's and
 * the smallest such (rule 2), not deprecated (3), on the outgoing device (5), the longest
 * common prefix up to the candidate's prefix length (8). Tentative addresses are never used.
 * None at all is EADDRNOTAVAIL.
 */
export function ipv6DevGetSaddr(net: Net, daddr: Uint8Array, outDev: NetDevice | null = null): Uint8Array | number {
  const dstScope = ipv6AddrSrcScope(daddr);
  let best: Uint8Array | undefined;
  let bestKey: number[] = [];
  for (const dev of net.devices) {
    for (const ifa of in6DevGet(dev)?.addrList ?? []) {
      if (ifa.flags & IFA_F.TENTATIVE) continue;
      if (ipv6PrefixEqual(ifa.addr, daddr, 128)) return ifa.addr;
      const scope = ipv6AddrSrcScope(ifa.addr);
      const key = [
        scope >= dstScope ? 0 : 1,
        scope >= dstScope ? scope : -scope,
        ifa.flags & IFA_F.DEPRECATED ? 1 : 0,
        outDev === null || dev === outDev ? 0 : 1,
        -Math.min(commonPrefixLen(ifa.addr, daddr), ifa.prefixlen),
      ];
      if (best === undefined || lexLess(key, bestKey)) {
        best = ifa.addr;
        bestKey = key;
      }
    }
  }
  return best ?? -E.EADDRNOTAVAIL;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/** ipv6_addr_diff(): the number of leading bits two addresses share. */
function commonPrefixLen(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const x = (a[i] as number) ^ (b[i] as number);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 128;
}

/**
 * ip6_dst_lookup_flow(): choose the source if none was given, then route. Local
 * destinations go through lo.
 */
export function ip6RouteOutput(net: Net, fl6: Flowi6): Rt6Info | number {
  const f6i = fib6Lookup(net, fl6.daddr, fl6.oif);
  if (ipv6AddrAny(fl6.saddr)) {
    const saddr = ipv6DevGetSaddr(net, fl6.daddr, f6i?.dev ?? null);
    if (typeof saddr === 'number') return saddr;
    fl6.saddr = saddr;
  }
  if (f6i === undefined) return -E.ENETUNREACH;
  if (f6i.type === RTN.LOCAL) {
    const lo = net.loopbackDev;
    if (lo === null) return -E.ENODEV;
    return new Rt6Info(net, lo, RTN.LOCAL, true);
  }
  const rt = new Rt6Info(net, f6i.dev, f6i.type, false);
  rt6Bind(net, rt, f6i, fl6.daddr);
  return rt;
}

/** A route copy's next hop and learned PMTU (ip6_rt_copy_init + rt6_find_cached_rt). */
function rt6Bind(net: Net, rt: Rt6Info, f6i: Fib6Info, daddr: Uint8Array): void {
  rt.from = f6i;
  rt.gateway = f6i.gateway ?? null;
  const ex = rt6FindCachedRt(net, daddr);
  if (ex === undefined) return;
  rt.pmtu = ex.pmtu;
  rt.expires = ex.expires;
  if (ex.redirect !== undefined) rt.gateway = ex.redirect;
}

/** rt6_find_cached_rt(): the live exception for `daddr`; an expired one goes. */
export function rt6FindCachedRt(net: Net, daddr: Uint8Array): Rt6Exception | undefined {
  const map = rt6Exceptions.get(net);
  const key = ipv6Key(daddr);
  const ex = map?.get(key);
  if (ex === undefined) return undefined;
  if (net.kernel.clock.now() < ex.expires) return ex;
  map?.delete(key);
  return undefined;
}

/** struct rt6_exception: a cached route for one destination (per namespace): a PMTU or a redirect. */
export interface Rt6Exception {
  /** The learned path MTU (0: none). */
  pmtu: number;
  /** dst.expires in clock ns; a redirected route does not expire (Infinity). */
  expires: number;
  /** A redirect's first hop (null: the destination is on-link); absent without a redirect. */
  redirect?: Uint8Array | null;
}

/**
 * rt6_insert_exception() of a redirected route: the destination's cached route now goes
 * through `gw` (null: straight to it), replacing any earlier one.
 */
export function rt6InsertRedirect(net: Net, daddr: Uint8Array, gw: Uint8Array | null): void {
  let map = rt6Exceptions.get(net);
  if (map === undefined) {
    map = new Map();
    rt6Exceptions.set(net, map);
  }
  map.set(ipv6Key(daddr), { pmtu: 0, expires: Number.POSITIVE_INFINITY, redirect: gw === null ? null : gw.slice() });
  net.ipv6.genid++;
}
const rt6Exceptions = new WeakMap<Net, Map<string, Rt6Exception>>();

/** net.ipv6.route.mtu_expires: 600 s. */
const IP6_RT_MTU_EXPIRES = 600e9;
/** IPV6_MIN_MTU. */
export const IPV6_MIN_MTU = 1280;

/**
 * ip6_update_pmtu() → __ip6_rt_update_pmtu(): a Packet Too Big for a packet to `daddr`
 * says the path takes `mtu` (never below 1280); only a lower MTU than the route's is
 * learned, in an exception that expires after mtu_expires. Cached routes look again.
 */
export function ip6UpdatePmtu(net: Net, daddr: Uint8Array, saddr: Uint8Array, mtu: number): void {
  const rt = ip6RouteOutput(net, { daddr: daddr.slice(), saddr: saddr.slice(), oif: 0, proto: 0 });
  if (typeof rt === 'number' || rt.local) return;
  mtu = Math.max(mtu, IPV6_MIN_MTU);
  if (mtu >= rt.mtu) return;
  let map = rt6Exceptions.get(net);
  if (map === undefined) {
    map = new Map();
    rt6Exceptions.set(net, map);
  }
  map.set(ipv6Key(daddr), { pmtu: mtu, expires: net.kernel.clock.now() + IP6_RT_MTU_EXPIRES });
  net.ipv6.genid++;
}

/**
 * ip6_route_input(): a group this device joined or a local address is delivered; a
 * unicast route forwards (ip6_forward decides whether this host does); no route is the
 * null entry (ip6_pkt_discard: No Route); reject routes answer by their type. A
 * link-local destination is only looked for on the device it came in on.
 */
export function ip6RouteInput(net: Net, skb: SkBuff, daddr: Uint8Array): number {
  const dev = skb.dev as NetDevice;
  if (daddr[0] === 0xff && ipv6ChkMcastAddr(dev, daddr)) {
    skb.dst = new Rt6Info(net, dev, RTN.MULTICAST, true);
    return 0;
  }
  const strict = daddr[0] === 0xff || (daddr[0] === 0xfe && ((daddr[1] as number) & 0xc0) === 0x80);
  const f6i = fib6Lookup(net, daddr, strict ? dev.ifindex : 0);
  if (f6i !== undefined && f6i.type === RTN.LOCAL) {
    skb.dst = new Rt6Info(net, dev, RTN.LOCAL, true);
    return 0;
  }
  if (f6i === undefined || f6i.type === RTN.THROW || f6i.type === RTN.MULTICAST) {
    const rt = new Rt6Info(net, net.loopbackDev ?? dev, RTN.UNREACHABLE, false);
    rt.inputKind = RT6_INPUT.DISCARD;
    skb.dst = rt;
    return 0;
  }
  const rt = new Rt6Info(net, f6i.dev, f6i.type, false);
  rt6Bind(net, rt, f6i, daddr);
  rt.inputKind =
    f6i.type === RTN.UNREACHABLE
      ? RT6_INPUT.DISCARD
      : f6i.type === RTN.PROHIBIT
        ? RT6_INPUT.PROHIBIT
        : f6i.type === RTN.BLACKHOLE
          ? RT6_INPUT.BLACKHOLE
          : RT6_INPUT.FORWARD;
  skb.dst = rt;
  return 0;
}

/**
 * ipv6_chk_mcast_addr(): the groups an up device is in without asking: all-nodes
 * (ff02::1, ff01::1) and the solicited-node group of each of its addresses.
 */
function ipv6ChkMcastAddr(dev: NetDevice, group: Uint8Array): boolean {
  if (!(dev.flags & IFF.UP)) return false;
  const tail = (i: number) => group[i] === 0;
  if ((group[1] === 1 || group[1] === 2) && group[15] === 1 && [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].every(tail))
    return true;
  if (group[1] !== 2 || group[11] !== 1 || group[12] !== 0xff) return false;
  return (in6DevGet(dev)?.addrList ?? []).some(
    (a) => a.addr[13] === group[13] && a.addr[14] === group[14] && a.addr[15] === group[15],
  );
}

/** addrconf's routes for an address: a local /128 in table local, a prefix route in main. */
function addrRoutes(ifa: Inet6Ifaddr, dev: NetDevice): Fib6Info[] {
  const out: Fib6Info[] = [
    {
      dst: ifa.addr.slice(),
      dstLen: 128,
      type: RTN.LOCAL,
      dev,
      metric: 0,
      protocol: RTPROT.KERNEL,
      pref: 1,
      table: RT_TABLE.LOCAL,
    },
  ];
  if (ifa.prefixlen < 128) {
    out.push({
      dst: ipv6AddrPrefix(ifa.addr, ifa.prefixlen),
      dstLen: ifa.prefixlen,
      type: RTN.UNICAST,
      dev,
      metric: 256,
      protocol: RTPROT.KERNEL,
      pref: 1,
      table: RT_TABLE.MAIN,
    });
  }
  return out;
}

export function fib6NewTable(net: Net, id: number): Fib6Table {
  let t = net.ipv6.tables.get(id);
  if (t === undefined) {
    t = new Fib6Table(id);
    net.ipv6.tables.set(id, t);
  }
  return t;
}

function inet6addrEvent(event: number, ifa: Inet6Ifaddr, idev: Inet6Dev): void {
  const net = idev.dev.net;
  if (net === null || net.ipv6 === undefined) return;
  for (const rt of addrRoutes(ifa, idev.dev)) {
    if (event === NETDEV.UP) fib6NewTable(net, rt.table).insert(rt);
    else {
      net.ipv6.tables
        .get(rt.table)
        ?.delete(
          (o) =>
            o.dev === rt.dev && o.dstLen === rt.dstLen && o.type === rt.type && ipv6PrefixEqual(o.dst, rt.dst, 128),
        );
    }
  }
  net.ipv6.genid++;
}

function rt6NetdevEvent(event: number, dev: NetDevice): void {
  const net = dev.net;
  if (net === null || net.ipv6 === undefined) return;
  if (event === NETDEV.UNREGISTER) for (const t of net.ipv6.tables.values()) t.delete((rt) => rt.dev === dev);
  if (event === NETDEV.DOWN || event === NETDEV.UNREGISTER) net.ipv6.ndTbl.flushDev(dev);
  net.ipv6.genid++;
}

export function ip6RouteInit(kernel: Kernel): void {
  kernel.inet6addrChain.push(inet6addrEvent);
  registerNetdeviceNotifier(kernel, rt6NetdevEvent);
}
