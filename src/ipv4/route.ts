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
import type { NetDevice } from '../core/netdevice.js';
import { ipHdr, type SkBuff } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { inDevGet, RT_SCOPE } from './devinet.js';
import { type FibResult, type Flowi4, RTN } from './fib.js';
import { fibLookup, inetAddrType } from './fib-frontend.js';

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

/** The handlers a route needs; ip-input and ip-output register them (no import cycle). */
export const ipRouteHandlers: { localDeliver: (skb: SkBuff) => number; output: (skb: SkBuff) => number } = {
  localDeliver: () => {
    throw new Error('ipv4 input not initialised');
  },
  output: () => {
    throw new Error('ipv4 output not initialised');
  },
};

/** struct rtable. */
export class Rtable implements DstEntry {
  rtIif = 0;
  rtGateway = 0;
  /** Learned path MTU (0 = the device's). */
  rtPmtu = 0;
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
    if (this.rtFlags & RTCF.LOCAL) return ipRouteHandlers.localDeliver(skb);
    return ipRouteHandlers.output(skb);
  }

  output(skb: SkBuff): number {
    return ipRouteHandlers.output(skb);
  }

  /** ipv4_dst_check(): still of the current generation. */
  check(): boolean {
    return this.#genid === this.#net.ipv4.rtGenid && this.#net.alive;
  }

  /** ipv4_mtu(): the learned PMTU or the device MTU, never above IP_MAX_MTU. */
  get mtu(): number {
    return Math.min(this.rtPmtu > 0 ? this.rtPmtu : this.dev.mtu, 0xffff);
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
  const rt = new Rtable(net, devOut, type, flags);
  rt.rtIif = res?.fa.dev?.ifindex ?? 0;
  rt.rtGateway = res?.fa.gateway ?? 0;
  return rt;
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
 * ip_route_input_noref() for a packet that arrived without a route (lo keeps the
 * sender's): martians are dropped; a local or broadcast destination is delivered
 * here; anything else would need forwarding, which is off, and counts InAddrErrors.
 */
export function ipRouteInput(net: Net, skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const iph = ipHdr(skb);
  const saddr = iph.src;
  const daddr = iph.dst;
  if (inDevGet(dev) === null) return -E.EINVAL;
  const local = (type: number, flags: number) => {
    skb.dst = new Rtable(net, dev, type, flags | RTCF.LOCAL);
    return 0;
  };
  if (ipv4IsMulticast(saddr) || ipv4IsLbcast(saddr)) return -E.EINVAL;
  if (ipv4IsLbcast(daddr) || (saddr === 0 && daddr === 0)) return local(RTN.BROADCAST, RTCF.BROADCAST);
  if (ipv4IsZeronet(saddr) || ipv4IsZeronet(daddr)) return -E.EINVAL;
  // route_localnet = 0: 127/8 seen on a device that is not loopback is a martian.
  if (!(dev.flags & IFF.LOOPBACK) && (ipv4IsLoopback(daddr) || ipv4IsLoopback(saddr))) return -E.EINVAL;
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
  if (typeof res !== 'number') {
    if (res.type === RTN.BROADCAST) return local(RTN.BROADCAST, RTCF.BROADCAST);
    if (res.type === RTN.LOCAL) return local(RTN.LOCAL, 0);
  }
  // ip_error() with forwarding off.
  net.ipv4.mib.ip.InAddrErrors++;
  return -E.EHOSTUNREACH;
}
