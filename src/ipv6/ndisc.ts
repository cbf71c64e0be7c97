/**
 * net/ipv6/ndisc.c: IPv6 neighbour discovery on Ethernet-like devices. nd_tbl's
 * constructor maps multicast next hops to 33:33:… and leaves unicast ones to resolve;
 * ndisc_solicit sends a Neighbour Solicitation (to the solicited-node group, or unicast
 * once the entry was valid) with our link-layer address; a solicitation for one of our
 * addresses is answered with a Neighbour Advertisement (solicited, override, router when
 * forwarding) and teaches us the asker; an advertisement completes the entry. DAD's
 * probes (from ::, with a nonce) are sent here for addrconf-dad.ts.
 */
import { devQueueXmit } from '../core/dev.js';
import { IFF } from '../core/if.js';
import {
  NEIGH_UPDATE_F,
  type Neighbour,
  type NeighOps,
  NeighTable,
  NUD,
  neighOutput,
  neighUpdate,
} from '../core/neighbour.js';
import type { NetDevice } from '../core/netdevice.js';
import { allocSkb, kfreeSkb, type SkBuff, skbPush, skbPut, skbResetNetworkHeader } from '../core/skbuff.js';
import { ETH_P } from '../include/if-ether.js';
import { IFA_F } from '../ipv4/devinet.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { ICMPV6, Icmpv6Header } from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, Ipv6Header, NEXTHDR } from '../wire/ipv6.js';
import { ipv6AddrAny, ipv6AddrEqual, ipv6AddrMulticast } from './addr.js';
import { type Inet6Ifaddr, in6DevGet } from './addrconf.js';
import { icmpv6OutCount, icmpv6Send } from './icmp.js';
import { ipv6DevGetSaddr } from './route.js';

/** ND option types (RFC 4861 §4.6, RFC 7527 nonce). */
export const ND_OPT = { SOURCE_LL_ADDR: 1, TARGET_LL_ADDR: 2, REDIRECT_HDR: 4, NONCE: 14 } as const;

/** ff02::1, all nodes. */
export const IN6ADDR_LINKLOCAL_ALLNODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
/** ff02::2, all routers. */
export const IN6ADDR_LINKLOCAL_ALLROUTERS = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

/** addrconf_addr_solict_mult(): ff02::1:ffXX:XXXX from the address's last 24 bits. */
export function addrconfAddrSolictMult(addr: Uint8Array): Uint8Array {
  const m = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0);
  m.set(addr.subarray(13, 16), 13);
  return m;
}

/** ipv6_eth_mc_map(): 33:33 and the group's last 32 bits. */
export function ipv6EthMcMap(addr: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, addr[12] as number, addr[13] as number, addr[14] as number, addr[15] as number);
}

/** ndisc_constructor(): which next hops need resolving at all. */
function ndiscConstructor(n: Neighbour): void {
  const dev = n.dev;
  if (dev.headerOps === null) {
    n.nudState = NUD.NOARP;
    return;
  }
  if (ipv6AddrMulticast(n.key) && dev.addrLen === 6) {
    n.nudState = NUD.NOARP;
    n.ha = ipv6EthMcMap(n.key);
  } else if (dev.flags & (IFF.NOARP | IFF.LOOPBACK)) {
    n.nudState = NUD.NOARP;
    n.ha = dev.devAddr.slice(0, dev.addrLen);
  }
}

/** ipv6_get_ifaddr(): our address `addr` on `dev`, tentative or not. */
function ipv6GetIfaddr(dev: NetDevice, addr: Uint8Array): Inet6Ifaddr | undefined {
  return in6DevGet(dev)?.addrList.find((a) => ipv6AddrEqual(a.addr, addr));
}

/** A link-layer address option: type, length in 8-byte units, the MAC, padding. */
export function llOption(type: number, dev: NetDevice): Uint8Array {
  const o = new Uint8Array(8);
  o[0] = type;
  o[1] = 1;
  o.set(dev.devAddr.subarray(0, 6), 2);
  return o;
}

/**
 * ndisc_send_skb(): an ND message from `saddr` to `daddr` on `dev`, hop limit 255,
 * through the neighbour entry of the destination (NOARP for multicast ones). MLD sends
 * its messages the same way (igmp6_send/mld_sendpack): hop limit 1 behind a hop-by-hop
 * header carrying the router alert.
 */
export function ndiscSend(
  dev: NetDevice,
  saddr: Uint8Array,
  daddr: Uint8Array,
  type: number,
  rest: number,
  body: Uint8Array,
  hbh: Uint8Array | null = null,
): void {
  const net = dev.net as Net | null;
  if (net === null) return;
  const len = 8 + body.length;
  const skb = allocSkb(len, 16 + IPV6_HEADER_LEN + (hbh?.length ?? 0));
  const at = skbPut(skb, len);
  const h = new Icmpv6Header(skb.head, at, len);
  h.type = type;
  h.code = 0;
  h.rest = rest;
  skb.head.set(body, at + 8);
  h.fillChecksum(saddr, daddr);
  skb.transportHeader = at;
  if (hbh !== null) skb.head.set(hbh, skbPush(skb, hbh.length));
  const ip = skbPush(skb, IPV6_HEADER_LEN);
  skbResetNetworkHeader(skb);
  const ip6 = new Ipv6Header(skb.head, ip);
  ip6.version = 6;
  ip6.trafficClass = 0;
  ip6.flowLabel = 0;
  ip6.payloadLength = len + (hbh?.length ?? 0);
  ip6.nextHeader = hbh === null ? NEXTHDR.ICMP : NEXTHDR.HOP;
  ip6.hopLimit = hbh === null ? 255 : 1;
  ip6.src = saddr;
  ip6.dst = daddr;
  skb.dev = dev;
  skb.protocol = ETH_P.IPV6;
  const mib = net.ipv6.mib;
  mib.ip6.OutRequests++;
  mib.ip6.OutOctets += skb.len;
  if (ipv6AddrMulticast(daddr)) mib.ip6.OutMcastPkts++;
  icmpv6OutCount(net, type);
  const n = net.ipv6.ndTbl.lookupOrCreate(daddr.slice(), dev);
  neighOutput(n, skb, ETH_P.IPV6, devQueueXmit);
}

/**
 * ndisc_send_ns(): who has `target`? From :: (DAD, with a nonce and no link-layer
 * option) or from one of our addresses (with it).
 */
export function ndiscSendNs(
  dev: NetDevice,
  target: Uint8Array,
  daddr: Uint8Array,
  saddr: Uint8Array,
  nonce: Uint8Array | null,
): void {
  const opts: Uint8Array[] = [target];
  if (!ipv6AddrAny(saddr)) opts.push(llOption(ND_OPT.SOURCE_LL_ADDR, dev));
  if (nonce !== null) {
    const o = new Uint8Array(8);
    o[0] = ND_OPT.NONCE;
    o[1] = 1;
    o.set(nonce.subarray(0, 6), 2);
    opts.push(o);
  }
  ndiscSend(dev, saddr, daddr, ICMPV6.NDISC_NEIGHBOUR_SOLICITATION, 0, concat(opts));
}

/** ndisc_send_na(): `solicitedAddr` is ours; flags router, solicited, override; the target option if asked. */
function ndiscSendNa(
  dev: NetDevice,
  daddr: Uint8Array,
  solicitedAddr: Uint8Array,
  router: boolean,
  solicited: boolean,
  override: boolean,
  incOpt: boolean,
): void {
  const flags = (router ? 0x80000000 : 0) | (solicited ? 0x40000000 : 0) | (override ? 0x20000000 : 0);
  const opts: Uint8Array[] = [solicitedAddr];
  if (incOpt) opts.push(llOption(ND_OPT.TARGET_LL_ADDR, dev));
  ndiscSend(dev, solicitedAddr, daddr, ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT, flags >>> 0, concat(opts));
}

/** ndisc_send_rs(): a router solicitation with our link-layer address. */
export function ndiscSendRs(dev: NetDevice, saddr: Uint8Array, daddr: Uint8Array): void {
  ndiscSend(
    dev,
    saddr,
    daddr,
    ICMPV6.NDISC_ROUTER_SOLICITATION,
    0,
    ipv6AddrAny(saddr) ? new Uint8Array(0) : llOption(ND_OPT.SOURCE_LL_ADDR, dev),
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * ndisc_solicit(): the source is the waiting packet's when it is ours, else the best for
 * the target; unicast to the known address for the first ucast_solicit probes of a
 * stale entry, otherwise to the target's solicited-node group.
 */
function ndiscSolicit(n: Neighbour, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev.net as Net;
  const target = n.key;
  let saddr: Uint8Array | null = null;
  if (skb !== null) {
    const src = new Ipv6Header(skb.head, skb.networkHeader).src;
    const ifa = ipv6GetIfaddr(dev, src);
    if (ifa !== undefined && !(ifa.flags & IFA_F.TENTATIVE)) saddr = src.slice();
  }
  if (saddr === null) {
    const s = ipv6DevGetSaddr(net, target, dev);
    if (typeof s === 'number') return;
    saddr = s.slice();
  }
  const p = n.tbl.parms(dev);
  const probes = n.probes - p.ucast_probes;
  if (probes < 0) ndiscSendNs(dev, target, target, saddr, null);
  else if (probes - p.app_probes >= 0) ndiscSendNs(dev, target, addrconfAddrSolictMult(target), saddr, null);
}

/** ndisc_error_report(): ICMPv6 address unreachable to the sender of what waited. */
function ndiscErrorReport(_n: Neighbour, skb: SkBuff): void {
  icmpv6Send(skb, ICMPV6.DEST_UNREACH, ICMPV6.ADDR_UNREACH, 0);
  kfreeSkb(skb);
}

export const ndiscOps: NeighOps = { construct: ndiscConstructor, solicit: ndiscSolicit, errorReport: ndiscErrorReport };

/** A fresh nd_tbl for a namespace. */
export function ndTblNew(kernel: Kernel): NeighTable {
  const tbl = new NeighTable('inet6', kernel);
  tbl.ops = ndiscOps;
  return tbl;
}

/** What DAD hears: another node uses or probes for our tentative address. */
export const ndiscDadHooks: {
  failure(ifa: Inet6Ifaddr, dev: NetDevice): void;
  /** Whether `nonce` is the one our own probe for `ifa` carried (a looped-back probe). */
  ownNonce(ifa: Inet6Ifaddr, nonce: Uint8Array | null): boolean;
} = { failure: () => {}, ownNonce: () => false };

/** The ND options after `from`, by type (the first of each). */
export function ndiscParseOptions(b: Uint8Array, from: number): Map<number, Uint8Array> | null {
  const out = new Map<number, Uint8Array>();
  let at = from;
  while (at + 2 <= b.length) {
    const len = (b[at + 1] as number) * 8;
    if (len === 0 || at + len > b.length) return null;
    const type = b[at] as number;
    if (!out.has(type)) out.set(type, b.subarray(at + 2, at + len));
    at += len;
  }
  return out;
}

/** ndisc_recv_ns(). */
function ndiscRecvNs(dev: NetDevice, ip6: Ipv6Header, msg: Uint8Array): void {
  if (msg.length < 24) return;
  const saddr = ip6.src.slice();
  const daddr = ip6.dst.slice();
  const target = msg.slice(8, 24);
  if (ipv6AddrMulticast(target)) return;
  const dad = ipv6AddrAny(saddr);
  // RFC 2461 7.1.1: a DAD probe goes to the solicited-node group only.
  if (dad && !ipv6AddrEqual(daddr, addrconfAddrSolictMult(target))) return;
  const opts = ndiscParseOptions(msg, 24);
  if (opts === null) return;
  const sll = opts.get(ND_OPT.SOURCE_LL_ADDR);
  const lladdr = sll !== undefined && sll.length >= dev.addrLen ? sll.slice(0, dev.addrLen) : null;
  if (dad && lladdr !== null) return;
  const nonce = opts.get(ND_OPT.NONCE) ?? null;
  const ifa = ipv6GetIfaddr(dev, target);
  if (ifa === undefined) return;
  if (ifa.flags & IFA_F.TENTATIVE) {
    // Someone else probes for the address we are probing for: DAD failed (unless it is our own probe).
    if (dad && !ndiscDadHooks.ownNonce(ifa, nonce)) ndiscDadHooks.failure(ifa, dev);
    return;
  }
  // ndisc_recv_ns(): the router flag is the device's forwarding setting (idev->cnf.forwarding).
  const net = dev.net as Net;
  const router = in6DevGet(dev)?.cnf.data.forwarding === 1;
  if (dad) {
    ndiscSendNa(dev, IN6ADDR_LINKLOCAL_ALLNODES, target, router, false, true, true);
    return;
  }
  const inc = ipv6AddrMulticast(daddr);
  if (lladdr !== null || dev.addrLen === 0) {
    const n = net.ipv6.ndTbl.lookupOrCreate(saddr, dev);
    neighUpdate(n, lladdr, NUD.STALE, NEIGH_UPDATE_F.WEAK_OVERRIDE | NEIGH_UPDATE_F.OVERRIDE);
  }
  ndiscSendNa(dev, saddr, target, router, true, true, inc);
}

/** ndisc_recv_na(). */
function ndiscRecvNa(dev: NetDevice, ip6: Ipv6Header, msg: Uint8Array, rest: number): void {
  if (msg.length < 24) return;
  const target = msg.slice(8, 24);
  if (ipv6AddrMulticast(target)) return;
  const solicited = (rest & 0x40000000) !== 0;
  const override = (rest & 0x20000000) !== 0;
  const router = (rest & 0x80000000) !== 0;
  if (ipv6AddrMulticast(ip6.dst) && solicited) return;
  const opts = ndiscParseOptions(msg, 24);
  if (opts === null) return;
  const tll = opts.get(ND_OPT.TARGET_LL_ADDR);
  const lladdr = tll !== undefined && tll.length >= dev.addrLen ? tll.slice(0, dev.addrLen) : null;
  const ifa = ipv6GetIfaddr(dev, target);
  if (ifa !== undefined) {
    // Someone claims our address: if it is still tentative, DAD failed.
    if (ifa.flags & IFA_F.TENTATIVE) ndiscDadHooks.failure(ifa, dev);
    return;
  }
  const net = dev.net as Net;
  const n = net.ipv6.ndTbl.lookup(target, dev);
  if (n === undefined) return;
  neighUpdate(
    n,
    lladdr,
    solicited ? NUD.REACHABLE : NUD.STALE,
    NEIGH_UPDATE_F.WEAK_OVERRIDE |
      (override ? NEIGH_UPDATE_F.OVERRIDE : 0) |
      NEIGH_UPDATE_F.OVERRIDE_ISROUTER |
      (router ? NEIGH_UPDATE_F.ISROUTER : 0),
  );
}

/**
 * ndisc_rcv(): only messages that cannot have been forwarded (hop limit 255, code 0)
 * are believed. The skb's data is at the ICMPv6 header.
 */
export function ndiscRcv(skb: SkBuff): void {
  const dev = skb.dev as NetDevice;
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  if (ip6.hopLimit !== 255) return;
  const msg = skb.toBytes();
  const h = new Icmpv6Header(msg, 0, msg.length);
  if (h.code !== 0) return;
  if (h.type === ICMPV6.NDISC_NEIGHBOUR_SOLICITATION) ndiscRecvNs(dev, ip6, msg);
  else if (h.type === ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT) ndiscRecvNa(dev, ip6, msg, h.rest);
  else if (h.type === ICMPV6.NDISC_REDIRECT) ndiscRedirectHook.rcv(dev, ip6, msg);
}

/** ndisc_redirect_rcv(), which ndisc-redirect.ts installs. */
export const ndiscRedirectHook: { rcv(dev: NetDevice, ip6: Ipv6Header, msg: Uint8Array): void } = { rcv: () => {} };
