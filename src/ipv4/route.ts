/**
 * net/ipv4/route.c: turning a flow into a route (struct rtable, a dst_entry). Output
 * lookups follow ip_route_output_key_hash_rcu: no destination means this host via lo;
 * a RTN_LOCAL answer — any address of this namespace, on any device — goes out
 * through lo; errors are the FIB's (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL).
 * Routes carry the generation they were made in, so a socket's cached route is
 * checked with one comparison and looked up again only after a change.
 */
import type { DstEntry } from '../core/dst.js';
import { IFF, LOOPBACK_IFINDEX } from '../core/if.js';
import { NUD_VALID, neighEventSend } from '../core/neighbour.js';
import type { NetDevice } from '../core/netdevice.js';
import { ipHdr, kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { inDevAndconf, inDevForward, inDevOrconf, inDevRpfilter, inDevTxRedirects } from './devconf.js';
import { type InDevice, inDevGet, RT_SCOPE } from './devinet.js';
import { type FibResult, type Flowi4, flowi4, RTN } from './fib.js';
import { fibLookup, inetAddrType } from './fib-frontend.js';
import { ipCheckMc } from './igmp.js';
import { type DstFn, ipRouteHandlers } from './route-handlers.js';

/** RTCF_* route flags. */
export const RTCF = {
  NOTIFY: 0x00010000,
  REDIRECTED: 0x00040000,
  DOREDIRECT: 0x01000000,
  DIRECTSRC: 0x04000000,
  BROADCAST: 0x10000000,
  MULTICAST: 0x20000000,
  LOCAL: 0x80000000,
} as const;

const INADDR_LOOPBACK = 0x7f000001;

export const ipv4IsLoopback = (a: number) => a >>> 24 === 127;
export const ipv4IsMulticast = (a: number) => a >>> 28 === 0xe;
export const ipv4IsLbcast = (a: number) => a === 0xffffffff;
export const ipv4IsZeronet = (a: number) => a >>> 24 === 0;

/** struct rtable. */
export class Rtable implements DstEntry {
  rtIif = 0;
  rtGateway = 0;
  /** Learned path MTU (0 = the device's). */
  rtPmtu = 0;
  /** dst.input of an input route that is not for this host: ip_forward or ip_error. */
  dstInput: DstFn | null = null;
  /** dst.error (a positive errno) of an RTN_UNREACHABLE input route. */
  dstError = 0;
  /** dst.expires of a learned PMTU, in clock nanoseconds (0 = none). */
  expires = 0;
  /** RTAX_LOCK's MTU bit: a PMTU below min_pmtu was clamped and no later report may lower it. */
  mtuLocked = false;
  readonly #net: Net;
  readonly #genid: number;

  constructor(
    net: Net,
    public dev: NetDevice,
    public rtType: number,
    public rtFlags: number,
  ) {
    this.#net = net;
    this.#genid = net.ipv4.rtGenid;
  }

  input(skb: SkBuff): number {
    if (this.dstInput !== null) return this.dstInput(skb);
    if (this.rtFlags & RTCF.LOCAL) return ipRouteHandlers.localDeliver(skb);
    // A group nobody here joined, looped back by lo: dst_discard.
    if (this.rtFlags & RTCF.MULTICAST) {
      kfreeSkb(skb);
      return 0;
    }
    return ipRouteHandlers.output(skb);
  }

  output(skb: SkBuff): number {
    return ipRouteHandlers.output(skb);
  }

  /** ipv4_dst_check(): still of the current generation. */
  check(): boolean {
    return this.#genid === this.#net.ipv4.rtGenid && this.#net.alive;
  }

  /** ipv4_mtu(): the learned PMTU while it has not expired, else the device MTU; never above IP_MAX_MTU. */
  get mtu(): number {
    if (this.rtPmtu > 0 && this.#net.kernel.clock.now() < this.expires) return Math.min(this.rtPmtu, 0xffff);
    return Math.min(this.dev.mtu, 0xffff);
  }
}

/** inet_select_addr(): a primary address of the device within `scope`. */
export function inetSelectAddr(dev: NetDevice, dst: number, scope: number): number {
  const inDev = inDevGet(dev);
  let fallback = 0;
  for (const ifa of inDev?.ifaList ?? []) {
    if (ifa.flags & 0x01 || ifa.scope > scope) continue;
    if (dst === 0 || ((ifa.address ^ dst) & ifa.mask) === 0) return ifa.local;
    if (fallback === 0) fallback = ifa.local;
  }
  if (fallback !== 0) return fallback;
  // Any device's address will do, as Linux falls back to the others.
  for (const d of dev.net?.devices ?? []) {
    for (const ifa of inDevGet(d)?.ifaList ?? []) if (!(ifa.flags & 0x01) && ifa.scope <= scope) return ifa.local;
  }
  return 0;
}

/**
 * ip_route_output_key(): fills in fl4.saddr (and daddr when it was 0) and returns the
 * route, or -errno.
 */
export function ipRouteOutputKey(net: Net, fl4: Flowi4): Rtable | number {
  let devOut: NetDevice | undefined;
  let type: number = RTN.UNICAST;
  let flags = 0;
  let res: FibResult | number | undefined;
  fl4.iif = LOOPBACK_IFINDEX;
  fl4.scope = fl4.scope || RT_SCOPE.UNIVERSE;

  if (fl4.saddr !== 0) {
    if (ipv4IsMulticast(fl4.saddr) || ipv4IsLbcast(fl4.saddr) || ipv4IsZeronet(fl4.saddr)) return -E.EINVAL;
    if (inetAddrType(net, fl4.saddr) !== RTN.LOCAL) return -E.ENETUNREACH;
    // A multicast or limited broadcast from a chosen source (IP_MULTICAST_IF) leaves by the
    // device that owns the source, whatever the routes say.
    if (fl4.oif === 0 && (ipv4IsMulticast(fl4.daddr) || ipv4IsLbcast(fl4.daddr))) {
      const dev = net.devices.find((d) => inDevGet(d)?.ifaList.some((ifa) => ifa.local === fl4.saddr));
      if (dev === undefined) return -E.ENETUNREACH;
      fl4.oif = dev.ifindex;
      return mkrouteOutput(net, fl4, dev, RTN.UNICAST, 0, undefined);
    }
  }
  if (fl4.oif !== 0) {
    devOut = net.devGetByIndex(fl4.oif);
    if (devOut === undefined) return -E.ENODEV;
    if (!(devOut.flags & IFF.UP) || inDevGet(devOut) === null) return -E.ENETUNREACH;
    if (fl4.saddr === 0 && fl4.daddr === 0) fl4.saddr = inetSelectAddr(devOut, 0, RT_SCOPE.HOST);
  }
  if (fl4.daddr === 0) {
    fl4.daddr = fl4.saddr;
    if (fl4.daddr === 0) {
      fl4.daddr = INADDR_LOOPBACK;
      fl4.saddr = INADDR_LOOPBACK;
    }
    devOut = net.loopbackDev ?? undefined;
    if (devOut === undefined) return -E.ENODEV;
    fl4.oif = LOOPBACK_IFINDEX;
    type = RTN.LOCAL;
    flags |= RTCF.LOCAL;
  } else {
    res = fibLookup(net, fl4);
    if (typeof res === 'number') {
      if (fl4.oif !== 0 && devOut !== undefined) {
        // "Apparently, routing tables are wrong": assume the destination is on link.
        if (fl4.saddr === 0) fl4.saddr = inetSelectAddr(devOut, 0, RT_SCOPE.LINK);
        type = RTN.UNICAST;
      } else {
        return res;
      }
    } else if (res.type === RTN.LOCAL) {
      if (fl4.saddr === 0) fl4.saddr = res.fa.prefsrc !== 0 ? res.fa.prefsrc : fl4.daddr;
      devOut = net.loopbackDev ?? undefined;
      if (devOut === undefined) return -E.ENODEV;
      fl4.oif = devOut.ifindex;
      type = RTN.LOCAL;
      flags |= RTCF.LOCAL;
    } else {
      devOut = res.fa.dev ?? undefined;
      if (devOut === undefined) return -E.ENETUNREACH;
      type = res.type;
      if (fl4.saddr === 0)
        fl4.saddr = res.fa.prefsrc !== 0 ? res.fa.prefsrc : inetSelectAddr(devOut, res.fa.gateway, res.scope);
    }
  }
  return mkrouteOutput(net, fl4, devOut as NetDevice, type, flags, typeof res === 'object' ? res : undefined);
}

/** __mkroute_output(). */
function mkrouteOutput(
  net: Net,
  fl4: Flowi4,
  devOut: NetDevice,
  type: number,
  flags: number,
  res: FibResult | undefined,
): Rtable | number {
  if (inDevGet(devOut) === null) return -E.EINVAL;
  // route_localnet is 0: a 127/8 source may not leave through a real device.
  if (ipv4IsLoopback(fl4.saddr) && !(devOut.flags & IFF.LOOPBACK)) return -E.EINVAL;
  if (ipv4IsLbcast(fl4.daddr)) type = RTN.BROADCAST;
  else if (ipv4IsMulticast(fl4.daddr)) type = RTN.MULTICAST;
  else if (ipv4IsZeronet(fl4.daddr)) return -E.EINVAL;
  if (devOut.flags & IFF.LOOPBACK) flags |= RTCF.LOCAL;
  if (type === RTN.BROADCAST) flags |= RTCF.BROADCAST | RTCF.LOCAL;
  else if (type === RTN.MULTICAST) {
    // Local delivery only when this device has joined the group (for this source).
    flags |= RTCF.MULTICAST | RTCF.LOCAL;
    if (!ipCheckMc(inDevGet(devOut) as InDevice, fl4.daddr, fl4.saddr, fl4.proto)) flags &= ~RTCF.LOCAL;
  }
  const rt = new Rtable(net, devOut, type, flags);
  // lonet has no per-nexthop route cache (sockets cache theirs), so every route built counts.
  const st = rtCacheStat(net.kernel);
  if (type === RTN.MULTICAST) st.outSlowMc++;
  st.outSlowTot++;
  rt.rtIif = res?.fa.dev?.ifindex ?? 0;
  rt.rtGateway = res?.fa.gateway ?? 0;
  if (res !== undefined) rtBindException(net, rt, fl4.daddr);
  return rt;
}

/** struct fib_nh_exception: what was learned about one destination (keyed by it, per namespace). */
interface FibNhException {
  pmtu: number;
  locked: boolean;
  /** fnhe_gw: the first hop a redirect named (0 = none). */
  gw: number;
  expires: number;
}
const exceptions = new WeakMap<Net, Map<number, FibNhException>>();

/** net.ipv4.route.mtu_expires (600 s) and min_pmtu (552), Linux's defaults. */
const IP_RT_MTU_EXPIRES = 600e9;
const IP_RT_MIN_PMTU = 512 + 20 + 20;

/** rt_bind_exception(): a route to a destination with a live exception carries its PMTU; an expired one goes. */
function rtBindException(net: Net, rt: Rtable, daddr: number): void {
  const map = exceptions.get(net);
  const fnhe = map?.get(daddr);
  if (fnhe === undefined) return;
  if (net.kernel.clock.now() >= fnhe.expires) {
    map?.delete(daddr);
    return;
  }
  // fill_route_from_fnhe().
  rt.rtPmtu = fnhe.pmtu;
  rt.mtuLocked = fnhe.locked;
  rt.expires = fnhe.expires;
  if (fnhe.gw !== 0) {
    rt.rtFlags |= RTCF.REDIRECTED;
    rt.rtGateway = fnhe.gw;
  }
}

/** update_or_create_fnhe(): what was learned, merged into the destination's exception. */
function updateOrCreateFnhe(net: Net, daddr: number, gw: number, pmtu: number, lock: boolean, expires: number): void {
  let map = exceptions.get(net);
  if (map === undefined) {
    map = new Map();
    exceptions.set(net, map);
  }
  const old = map.get(daddr);
  const live = old !== undefined && net.kernel.clock.now() < old.expires;
  const fnhe: FibNhException = live ? old : { pmtu: 0, locked: false, gw: 0, expires: 0 };
  if (gw !== 0) fnhe.gw = gw;
  if (pmtu !== 0) {
    fnhe.pmtu = pmtu;
    fnhe.locked = lock;
  }
  fnhe.expires = expires;
  map.set(daddr, fnhe);
  net.ipv4.rtGenid++;
}

/** ip_rt_gc_timeout: a redirect is remembered for 300 s. */
const IP_RT_GC_TIMEOUT = 300e9;

/**
 * ipv4_redirect() + __ip_do_redirect(): an ICMP Redirect (in `icmp`, its sender `from`)
 * about a packet from `saddr` to `daddr`. Taken only from the current first hop, for a
 * unicast new one on a shared medium (or on-link, and a default gateway with
 * secure_redirects, when shared_media is off), while the device accepts redirects. The
 * new hop must already be a valid neighbour; otherwise it is only resolved (a later
 * redirect is then taken). Remembered for ip_rt_gc_timeout.
 */
export function ipv4Redirect(
  net: Net,
  dev: NetDevice,
  from: number,
  code: number,
  newGw: number,
  daddr: number,
  saddr: number,
): void {
  if ((code & 7) > 3) return;
  const rt = ipRouteOutputKey(net, flowi4({ daddr, saddr }));
  if (typeof rt === 'number' || rt.rtGateway !== from) return;
  const inDev = inDevGet(dev);
  if (inDev === null) return;
  const rxRedirects = inDevForward(inDev)
    ? inDevAndconf(inDev, 'accept_redirects')
    : inDevOrconf(inDev, 'accept_redirects');
  if (newGw === from || !rxRedirects || ipv4IsMulticast(newGw) || ipv4IsLbcast(newGw) || ipv4IsZeronet(newGw)) return;
  if (!inDevOrconf(inDev, 'shared_media')) {
    if (!inetAddrOnlink(inDev, newGw, from)) return;
    if (inDevOrconf(inDev, 'secure_redirects') && !ipFibIsDefaultGw(net, newGw, dev)) return;
  } else if (inetAddrType(net, newGw) !== RTN.UNICAST) return;
  const n = net.ipv4.arpTbl.lookupOrCreate4(newGw, rt.dev);
  if (!(n.nudState & NUD_VALID)) {
    neighEventSend(n, null);
    return;
  }
  const res = fibLookup(net, flowi4({ daddr, saddr }));
  if (typeof res !== 'number')
    updateOrCreateFnhe(net, daddr, newGw, 0, false, net.kernel.clock.now() + IP_RT_GC_TIMEOUT);
}

/** inet_addr_onlink(): `a` (and `b`, when given) on a subnet of this device. */
export function inetAddrOnlink(inDev: InDevice, a: number, b: number): boolean {
  return inDev.ifaList.some((ifa) => inetIfaMatch(ifa, a) && (b === 0 || inetIfaMatch(ifa, b)));
}

function inetIfaMatch(ifa: { address: number; mask: number }, addr: number): boolean {
  return ((ifa.address ^ addr) & ifa.mask) === 0;
}

/** !ip_fib_check_default(): is `gw` the gateway of a default route through `dev`? */
function ipFibIsDefaultGw(net: Net, gw: number, dev: NetDevice): boolean {
  const res = fibLookup(net, flowi4({ daddr: 0 }));
  return typeof res !== 'number' && res.fa.dev === dev && res.fa.gateway === gw;
}

/**
 * ipv4_update_pmtu() + __ip_rt_update_pmtu(): a Frag Needed for a packet from `saddr` to
 * `daddr` says the path takes `mtu`. Only a lower MTU is learned; below min_pmtu the
 * route gets min_pmtu, locked (DF no longer set). The exception expires after
 * mtu_expires; cached routes are looked up again (rt_genid) so sockets see it at once.
 */
export function ipv4UpdatePmtu(net: Net, daddr: number, saddr: number, mtu: number): void {
  const rt = ipRouteOutputKey(net, flowi4({ daddr, saddr }));
  if (typeof rt === 'number' || rt.mtuLocked) return;
  const old = rt.mtu;
  if (old < mtu) return;
  let lock = false;
  if (mtu < IP_RT_MIN_PMTU) {
    lock = true;
    mtu = Math.min(old, IP_RT_MIN_PMTU);
  }
  const now = net.kernel.clock.now();
  if (rt.rtPmtu === mtu && !lock && now < rt.expires - IP_RT_MTU_EXPIRES / 2) return;
  updateOrCreateFnhe(net, daddr, 0, mtu, lock, now + IP_RT_MTU_EXPIRES);
}

/** A socket's cached route (sk_dst_cache): reused while valid and for the same flow. */
export class RouteCache {
  #rt: Rtable | null = null;
  #daddr = -1;
  #saddr = -1;
  #oif = -1;
  /** What the lookup chose, handed back on a hit. */
  #outDaddr = 0;
  #outSaddr = 0;

  /** __sk_dst_check + ip_route_output: on a hit, a few comparisons and no table search. */
  get(net: Net, fl4: Flowi4): Rtable | number {
    const rt = this.#rt;
    if (rt !== null && this.#daddr === fl4.daddr && this.#saddr === fl4.saddr && this.#oif === fl4.oif && rt.check()) {
      fl4.daddr = this.#outDaddr;
      fl4.saddr = this.#outSaddr;
      return rt;
    }
    const key = { daddr: fl4.daddr, saddr: fl4.saddr, oif: fl4.oif };
    const r = ipRouteOutputKey(net, fl4);
    if (typeof r === 'number') {
      this.#rt = null;
      return r;
    }
    this.#rt = r;
    this.#daddr = key.daddr;
    this.#saddr = key.saddr;
    this.#oif = key.oif;
    this.#outDaddr = fl4.daddr;
    this.#outSaddr = fl4.saddr;
    return r;
  }

  reset(): void {
    this.#rt = null;
  }
}

/**
 * struct rt_cache_stat, per CPU and for the whole machine (Linux keeps it per CPU, not per
 * namespace): /proc/net/stat/rt_cache. Since the route cache went away (3.6) the hit,
 * gc and hlist columns are always 0 in Linux too.
 */
export interface RtCacheStat {
  inSlowTot: number;
  inSlowMc: number;
  inNoRoute: number;
  inBrd: number;
  inMartianDst: number;
  inMartianSrc: number;
  outSlowTot: number;
  outSlowMc: number;
}

const rtCacheStats = new WeakMap<Kernel, RtCacheStat[]>();

/** RT_CACHE_STAT_INC's target: this CPU's counters. */
function rtCacheStat(kernel: Kernel): RtCacheStat {
  let all = rtCacheStats.get(kernel);
  if (all === undefined) {
    all = kernel.cpus.map(() => ({
      inSlowTot: 0,
      inSlowMc: 0,
      inNoRoute: 0,
      inBrd: 0,
      inMartianDst: 0,
      inMartianSrc: 0,
      outSlowTot: 0,
      outSlowMc: 0,
    }));
    rtCacheStats.set(kernel, all);
  }
  return all[kernel.curCpu] as RtCacheStat;
}

const RT_CACHE_COLUMNS = [
  'entries',
  'in_hit',
  'in_slow_tot',
  'in_slow_mc',
  'in_no_route',
  'in_brd',
  'in_martian_dst',
  'in_martian_src',
  'out_hit',
  'out_slow_tot',
  'out_slow_mc',
  'gc_total',
  'gc_ignored',
  'gc_goal_miss',
  'gc_dst_overflow',
  'in_hlist_search',
  'out_hlist_search',
] as const;

/** rt_cpu_seq_show(): a header, then one row per CPU, each value under its column. */
function rtCpuSeqShow(net: Net): string {
  const kernel = net.kernel;
  rtCacheStat(kernel);
  const row = (cells: string[]) =>
    cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(Math.max(8, RT_CACHE_COLUMNS[i]?.length ?? 0)) : c)).join(' ');
  const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  let out = `${row([...RT_CACHE_COLUMNS])}\n`;
  for (const st of rtCacheStats.get(kernel) ?? []) {
    // entries (dst_entries_get_slow) is not kept: a route here is a collected object with no
    // release point, and counting them with a FinalizationRegistry costs a cell per route.
    const v = [0, 0, st.inSlowTot, st.inSlowMc, st.inNoRoute, st.inBrd, st.inMartianDst, st.inMartianSrc];
    v.push(0, st.outSlowTot, st.outSlowMc, 0, 0, 0, 0, 0, 0);
    out += `${row(v.map(hex8))}\n`;
  }
  return out;
}
registerProcNet('stat/rt_cache', rtCpuSeqShow);

/**
 * fib_validate_source(): may a packet from `src` arrive on `dev`? 0 (or 1: the source is
 * on a directly connected network, which only redirects care about), -EINVAL for a
 * martian, -EXDEV when rp_filter refuses it. With rp_filter off the quick check refuses
 * only a source that is one of this namespace's own addresses (the same host arriving
 * from outside; accept_local allows it). Otherwise, or once local routes or rules were
 * customised, __fib_validate_source looks `src` up as a destination.
 */
function fibValidateSource(
  net: Net,
  skb: SkBuff,
  src: number,
  dst: number,
  oif: number,
  dev: NetDevice,
  inDev: InDevice,
): number {
  const rpf = inDevRpfilter(inDev);
  if (rpf === 0 && (dev.ifindex !== oif || !inDevTxRedirects(inDev))) {
    if (inDevOrconf(inDev, 'accept_local')) return 0;
    if (!net.ipv4.fibHasCustomLocalRoutes && !net.ipv4.fibHasCustomRules) {
      return inetLookupIfaddr(net, src) ? -E.EINVAL : 0;
    }
  }
  return fibValidateSourceFull(net, skb, src, dst, oif, dev, rpf, inDev);
}

/** __fib_validate_source(): strict (1) wants the route back to `src` through `dev`; loose (2) any route. */
function fibValidateSourceFull(
  net: Net,
  skb: SkBuff,
  src: number,
  dst: number,
  oif: number,
  dev: NetDevice,
  rpf: number,
  inDev: InDevice,
): number {
  const acceptLocal = inDevOrconf(inDev, 'accept_local');
  const fl4 = flowi4({
    daddr: src,
    saddr: dst,
    iif: oif !== 0 ? oif : LOOPBACK_IFINDEX,
    mark: inDevOrconf(inDev, 'src_valid_mark') ? skb.mark : 0,
  });
  const res = fibLookup(net, fl4);
  // last_resort: no route back is fine unless rp_filter is on.
  if (typeof res === 'number') return rpf !== 0 ? -E.EXDEV : 0;
  if (res.type !== RTN.UNICAST && (res.type !== RTN.LOCAL || !acceptLocal)) return -E.EINVAL;
  const devMatch = res.fa.dev === dev || (res.type === RTN.LOCAL && dev === net.loopbackDev);
  if (devMatch) return res.fa.nhScope >= RT_SCOPE.HOST ? 1 : 0;
  if (inDev.ifaList.length === 0) return rpf !== 0 ? -E.EXDEV : 0;
  if (rpf === 1) return -E.EXDEV;
  fl4.oif = dev.ifindex;
  const res2 = fibLookup(net, fl4);
  return typeof res2 !== 'number' && res2.type === RTN.UNICAST && res2.fa.nhScope >= RT_SCOPE.HOST ? 1 : 0;
}

/** inet_lookup_ifaddr_rcu(): is `addr` an address of some device of this namespace? */
function inetLookupIfaddr(net: Net, addr: number): boolean {
  for (const dev of net.devices) {
    const inDev = inDevGet(dev);
    if (inDev?.ifaList.some((ifa) => ifa.local === addr)) return true;
  }
  return false;
}

/**
 * ip_route_input_noref() for a packet that arrived without a route. Packets lo carries
 * for this host keep the sender's route and never come here (ip_rcv_finish_core only
 * looks up a packet with no valid dst), so everything here came from outside the stack:
 * an AF_PACKET socket, a tap, another device. On lo as anywhere else, a 127/8 destination
 * or source (route_localnet 0), a zero or multicast source, and a source that is our own
 * address are martians: dropped with in_martian_dst / in_martian_src and no SNMP counter.
 * A multicast group the device has not joined is dropped without a count. A local or
 * broadcast destination is delivered. Anything else is forwarded when the device
 * forwards (ip_mkroute_input); otherwise, or with no route, it gets the RTN_UNREACHABLE
 * route whose input is ip_error.
 */
export function ipRouteInput(net: Net, skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const iph = ipHdr(skb);
  const saddr = iph.src;
  const daddr = iph.dst;
  const inDev = inDevGet(dev);
  if (inDev === null) return -E.EINVAL;
  const routeLocalnet = inDevOrconf(inDev, 'route_localnet');
  const st = rtCacheStat(net.kernel);
  if (ipv4IsMulticast(daddr)) {
    // ip_route_input_rcu(): only a joined group gets a route (ip_route_input_mc).
    if (!ipCheckMc(inDev, daddr, saddr, iph.protocol)) return -E.EINVAL;
    const err = ipMcValidateSource(net, skb, daddr, saddr, inDev);
    if (err < 0) return err;
    st.inSlowMc++;
    return inputRoute(net, skb, dev, RTN.MULTICAST, RTCF.MULTICAST | RTCF.LOCAL);
  }
  // ip_handle_martian_source(); an rp_filter refusal keeps its -EXDEV for ip_rcv_finish to count.
  const martianSource = (err = -E.EINVAL) => {
    st.inMartianSrc++;
    return err === -E.EXDEV ? err : -E.EINVAL;
  };
  const martianDestination = () => {
    st.inMartianDst++;
    return -E.EINVAL;
  };
  const brdInput = () => {
    if (!ipv4IsZeronet(saddr)) {
      const err = fibValidateSource(net, skb, saddr, 0, 0, dev, inDev);
      if (err < 0) return martianSource(err);
    }
    st.inBrd++;
    st.inSlowTot++;
    return inputRoute(net, skb, dev, RTN.BROADCAST, RTCF.BROADCAST | RTCF.LOCAL);
  };
  if (ipv4IsMulticast(saddr) || ipv4IsLbcast(saddr)) return martianSource();
  if (ipv4IsLbcast(daddr) || (saddr === 0 && daddr === 0)) return brdInput();
  if (ipv4IsZeronet(saddr)) return martianSource();
  if (ipv4IsZeronet(daddr)) return martianDestination();
  if (ipv4IsLoopback(daddr)) {
    if (!routeLocalnet) return martianDestination();
  } else if (ipv4IsLoopback(saddr)) {
    if (!routeLocalnet) return martianSource();
  }
  const res = fibLookup(net, {
    daddr,
    saddr,
    oif: 0,
    iif: dev.ifindex,
    tos: 0,
    scope: RT_SCOPE.UNIVERSE,
    mark: skb.mark,
    proto: 0,
  });
  const forward = inDevForward(inDev);
  let err: number;
  if (typeof res === 'number') {
    err = forward ? res : -E.EHOSTUNREACH;
  } else if (res.type === RTN.BROADCAST) {
    return brdInput();
  } else if (res.type === RTN.LOCAL) {
    const v = fibValidateSource(net, skb, saddr, daddr, 0, dev, inDev);
    if (v < 0) return martianSource(v);
    st.inSlowTot++;
    return inputRoute(net, skb, dev, RTN.LOCAL, RTCF.LOCAL);
  } else if (!forward) {
    err = -E.EHOSTUNREACH;
  } else if (res.type !== RTN.UNICAST) {
    return martianDestination();
  } else {
    return mkrouteInput(net, skb, res, dev, inDev, saddr, daddr, martianSource);
  }
  // no_route: an RTN_UNREACHABLE route whose input is ip_error(), which counts and answers.
  st.inNoRoute++;
  st.inSlowTot++;
  const rt = new Rtable(net, dev, RTN.UNREACHABLE, 0);
  rt.rtIif = dev.ifindex;
  rt.dstInput = ipRouteHandlers.error;
  rt.dstError = -err;
  skb.dst = rt;
  return 0;
}

/**
 * __mkroute_input(): a route whose input is ip_forward, out through the FIB's next hop,
 * once the source passes fib_validate_source for the device it came in on.
 */
function mkrouteInput(
  net: Net,
  skb: SkBuff,
  res: FibResult,
  dev: NetDevice,
  inDev: InDevice,
  saddr: number,
  daddr: number,
  martianSource: (err: number) => number,
): number {
  const outDev = res.fa.dev;
  if (outDev === null || inDevGet(outDev) === null) return -E.EINVAL;
  const err = fibValidateSource(net, skb, saddr, daddr, outDev.ifindex, dev, inDev);
  if (err < 0) return martianSource(err);
  let flags = 0;
  // Out by the link it came in on, from a directly connected sender: tell it of a better
  // first hop (IPSKB_DOREDIRECT), if it could reach that hop itself.
  const outInDev = inDevGet(outDev) as InDevice;
  if (outDev === dev && err > 0 && inDevTxRedirects(outInDev)) {
    if (inDevOrconf(outInDev, 'shared_media') || inetAddrOnlink(outInDev, saddr, res.fa.gateway)) {
      flags |= RTCF.DOREDIRECT;
    }
  }
  const rt = new Rtable(net, outDev, res.type, flags);
  rt.rtIif = dev.ifindex;
  rt.rtGateway = res.fa.gateway;
  rt.dstInput = ipRouteHandlers.forward;
  rtCacheStat(net.kernel).inSlowTot++;
  skb.dst = rt;
  return 0;
}

/** ip_mc_validate_source(). */
function ipMcValidateSource(net: Net, skb: SkBuff, daddr: number, saddr: number, inDev: InDevice): number {
  if (ipv4IsLoopback(saddr) && !inDevOrconf(inDev, 'route_localnet')) return -E.EINVAL;
  if (ipv4IsMulticast(saddr) || ipv4IsLbcast(saddr)) return -E.EINVAL;
  if (ipv4IsZeronet(saddr)) {
    // Only link-local groups (224.0.0.0/24) and IGMP take a zero source.
    const localMulticast = daddr >>> 8 === 0xe00000;
    return localMulticast || ipHdr(skb).protocol === IPPROTO_IGMP ? 0 : -E.EINVAL;
  }
  return fibValidateSource(net, skb, saddr, 0, 0, skb.dev as NetDevice, inDev);
}

const IPPROTO_IGMP = 2;

/** rt_dst_alloc() for input: a route whose input is ip_local_deliver. */
function inputRoute(net: Net, skb: SkBuff, dev: NetDevice, type: number, flags: number): number {
  const rt = new Rtable(net, dev, type, flags);
  rt.rtIif = dev.ifindex;
  skb.dst = rt;
  return 0;
}

/**
 * The route a packet to `daddr` carries when this host sends it to itself: lo keeps the
 * sender's dst (loopback_xmit), so ip_rcv_finish delivers it without ip_route_input and
 * no martian check sees it. This is how a frame written by the host itself arrives on lo
 * (a raw IP_HDRINCL socket routes by the destination, not the header's source). null
 * when the host would not deliver a packet to `daddr` to itself (no local or broadcast
 * route): such a frame can only arrive from outside, as an AF_PACKET socket sends it.
 */
export function ipRouteToSelf(net: Net, daddr: number): Rtable | null {
  if (daddr === 0) return null;
  const rt = ipRouteOutputKey(net, {
    daddr,
    saddr: 0,
    oif: 0,
    iif: 0,
    tos: 0,
    scope: RT_SCOPE.UNIVERSE,
    mark: 0,
    proto: 0,
  });
  if (typeof rt === 'number' || !(rt.rtFlags & RTCF.LOCAL)) return null;
  return rt;
}
