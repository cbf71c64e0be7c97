/**
 * net/ipv6/icmp.c: echo replies, errors (with Linux's limits: never about an error
 * or a multicast, the global ICMP budget shared with IPv4, no per-host limit on
 * loopback) and the Icmp6 counters of /proc/net/snmp6.
 */
import type { NetDevice } from '../core/netdevice.js';
import { allocSkb, kfreeSkb, pskbMayPull, type SkBuff, skbChecksum, skbCopyBits, skbPut } from '../core/skbuff.js';
import { RTN } from '../ipv4/fib.js';
import { icmpGlobalAllow } from '../ipv4/icmp.js';
import { pingRcv } from '../ipv4/ping.js';
import { inet6AddProtocol, inet6Protocol } from '../ipv4/protocol.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { csumFold, csumIpv6Nofold } from '../wire/checksum.js';
import { ICMPV6, ICMPV6_HEADER_LEN, Icmpv6Header } from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, Ipv6Header, ipv6SkipExthdr, NEXTHDR } from '../wire/ipv6.js';
import { ipv6AddrAny, ipv6AddrMulticast } from './addr.js';
import { IPV6_MAX_HEADROOM, ip6XmitDgram } from './ip6-output.js';
import { fib6Lookup, ip6RouteOutput, ip6UpdatePmtu, type Rt6Info } from './route.js';

/** The per-type names of /proc/net/snmp6's Icmp6 In/Out columns (icmp6type2name). */
export const ICMP6_TYPE_NAMES: readonly (readonly [number, string])[] = [
  [ICMPV6.DEST_UNREACH, 'DestUnreachs'],
  [ICMPV6.PKT_TOOBIG, 'PktTooBigs'],
  [ICMPV6.TIME_EXCEED, 'TimeExcds'],
  [ICMPV6.PARAMPROB, 'ParmProblems'],
  [ICMPV6.ECHO_REQUEST, 'Echos'],
  [ICMPV6.ECHO_REPLY, 'EchoReplies'],
  [ICMPV6.MGM_QUERY, 'GroupMembQueries'],
  [ICMPV6.MGM_REPORT, 'GroupMembResponses'],
  [ICMPV6.MGM_REDUCTION, 'GroupMembReductions'],
  [ICMPV6.NDISC_ROUTER_SOLICITATION, 'RouterSolicits'],
  [ICMPV6.NDISC_ROUTER_ADVERTISEMENT, 'RouterAdvertisements'],
  [ICMPV6.NDISC_NEIGHBOUR_SOLICITATION, 'NeighborSolicits'],
  [ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT, 'NeighborAdvertisements'],
  [ICMPV6.NDISC_REDIRECT, 'Redirects'],
  [ICMPV6.MLD2_REPORT, 'MLDv2Reports'],
];

/** icmp6_out_count + ICMP6_INC_STATS(OUTMSGS). */
export function icmpv6OutCount(net: Net, type: number): void {
  const mib = net.ipv6.mib;
  mib.icmp6.OutMsgs++;
  mib.icmp6MsgOut[type] = (mib.icmp6MsgOut[type] as number) + 1;
}

/** Sends `type/code/rest + body` from saddr to daddr with a full checksum. */
function icmpv6Push(
  net: Net,
  saddr: Uint8Array,
  daddr: Uint8Array,
  rt: Rt6Info,
  type: number,
  code: number,
  rest: number,
  body: Uint8Array,
): void {
  const len = ICMPV6_HEADER_LEN + body.byteLength;
  const skb = allocSkb(len, IPV6_MAX_HEADROOM);
  const at = skbPut(skb, len);
  const h = new Icmpv6Header(skb.head, at, len);
  h.type = type;
  h.code = code;
  h.rest = rest;
  skb.head.set(body, at + ICMPV6_HEADER_LEN);
  h.fillChecksum(saddr, daddr);
  icmpv6OutCount(net, type);
  ip6XmitDgram(net, skb, saddr, daddr, rt, {
    nexthdr: NEXTHDR.ICMP,
    hopLimit: net.ipv6.sysctl.hop_limit,
    tclass: 0,
    flowKey: (type << 8) | code,
  });
}

/** icmpv6_echo_reply(): from the address the request was sent to, same id, sequence and data. */
function icmpv6EchoReply(net: Net, skb: SkBuff, ip6: Ipv6Header): void {
  if (net.ipv6.sysctl.echo_ignore_all) return;
  const msg = new Icmpv6Header(skb.toBytes(), 0, skb.len);
  const daddr = ip6.src.slice();
  let saddr = ip6.dst.slice();
  if (ipv6AddrMulticast(saddr)) saddr = new Uint8Array(16);
  const fl6 = { daddr, saddr, oif: 0, proto: NEXTHDR.ICMP };
  const rt = ip6RouteOutput(net, fl6);
  if (typeof rt === 'number') return;
  icmpv6Push(net, fl6.saddr, daddr, rt, ICMPV6.ECHO_REPLY, 0, msg.rest, msg.data);
}

/** ndisc_rcv(), which ndisc.ts installs (it sends through this file, so it cannot be imported here). */
export const icmpv6Ndisc: { rcv(skb: SkBuff): void } = { rcv: () => {} };

/** icmpv6_rcv(). */
export function icmpv6Rcv(skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const net = dev.net as Net;
  const mib = net.ipv6.mib;
  mib.icmp6.InMsgs++;
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  if (!pskbMayPull(skb, ICMPV6_HEADER_LEN)) return inError(net, skb);
  const sum = skbChecksum(skb, 0, skb.len, csumIpv6Nofold(ip6.src, ip6.dst, skb.len, NEXTHDR.ICMP));
  if (csumFold(sum) !== 0) {
    mib.icmp6.InCsumErrors++;
    return inError(net, skb);
  }
  const type = skb.head[skb.data] as number;
  mib.icmp6MsgIn[type] = (mib.icmp6MsgIn[type] as number) + 1;
  if (type === ICMPV6.ECHO_REQUEST) icmpv6EchoReply(net, skb, ip6);
  else if (type === ICMPV6.ECHO_REPLY) pingRcv(net, skb, 6);
  else if (type < 128) {
    if (type === ICMPV6.PKT_TOOBIG) icmpv6PktTooBig(net, skb);
    icmpv6Notify(net, skb, type);
  } else if (type >= ICMPV6.NDISC_ROUTER_SOLICITATION && type <= ICMPV6.NDISC_REDIRECT) icmpv6Ndisc.rcv(skb);
  kfreeSkb(skb);
  return 0;
}

/**
 * Path MTU discovery: Linux's protocols call ip6_update_pmtu from their err_handler with
 * the MTU the message carries; lonet learns it here for all of them.
 */
function icmpv6PktTooBig(net: Net, skb: SkBuff): void {
  const bytes = skbCopyBits(skb, 0, Math.min(skb.len, ICMPV6_HEADER_LEN + IPV6_HEADER_LEN));
  if (bytes.byteLength < ICMPV6_HEADER_LEN + IPV6_HEADER_LEN) return;
  const h = new Icmpv6Header(bytes, 0, bytes.byteLength);
  const inner = new Ipv6Header(bytes, ICMPV6_HEADER_LEN);
  ip6UpdatePmtu(net, inner.dst.slice(), inner.src.slice(), h.rest >>> 0);
}

/** icmpv6_notify(): the upper-layer protocol of the quoted packet hears about the error. */
function icmpv6Notify(net: Net, skb: SkBuff, type: number): void {
  const bytes = skb.toBytes();
  if (bytes.byteLength < ICMPV6_HEADER_LEN + IPV6_HEADER_LEN + 8) return;
  const inner = new Ipv6Header(bytes, ICMPV6_HEADER_LEN);
  const upper = ipv6SkipExthdr(bytes, ICMPV6_HEADER_LEN + IPV6_HEADER_LEN, inner.nextHeader);
  if (typeof upper === 'string' || upper.fragOffset !== 0) return;
  inet6Protocol(net.kernel, upper.nextHeader)?.errHandler?.(skb, type, bytes[1] as number, 0);
}

function inError(net: Net, skb: SkBuff): number {
  net.ipv6.mib.icmp6.InErrors++;
  kfreeSkb(skb);
  return 0;
}

/**
 * icmp6_send(): report a problem with `skbIn` to its sender. Never about an ICMPv6
 * error or a packet to or from multicast/unspecified; the quote fills up to the IPv6
 * minimum MTU (1280).
 */
export function icmpv6Send(skbIn: SkBuff, type: number, code: number, info: number): void {
  const net = skbIn.dev?.net;
  if (net === null || net === undefined) return;
  const ip6 = new Ipv6Header(skbIn.head, skbIn.networkHeader);
  const saddrIn = ip6.src.slice();
  const daddrIn = ip6.dst.slice();
  if (ipv6AddrAny(saddrIn) || ipv6AddrMulticast(saddrIn)) return;
  if (
    ipv6AddrMulticast(daddrIn) &&
    type !== ICMPV6.PKT_TOOBIG &&
    !(type === ICMPV6.PARAMPROB && code === ICMPV6.UNK_OPTION)
  )
    return;
  if (ip6.nextHeader === NEXTHDR.ICMP) {
    const t = skbIn.head[skbIn.transportHeader];
    if (t === undefined || t < 128) return;
  }
  // icmpv6_global_allow(): errors spend the namespace's ICMP budget (no per-host limit on lo).
  if (type < 128 && type !== ICMPV6.PKT_TOOBIG && !icmpGlobalAllow(net)) return;
  // Reply from the address the offending packet was sent to, if it is ours.
  const local = fib6Lookup(net, daddrIn, 0);
  const saddr = local !== undefined && local.type === RTN.LOCAL ? daddrIn : new Uint8Array(16);
  const fl6 = { daddr: saddrIn, saddr, oif: 0, proto: NEXTHDR.ICMP };
  const rt = ip6RouteOutput(net, fl6);
  if (typeof rt === 'number') return;
  const from = skbIn.networkHeader - skbIn.data;
  const room = 1280 - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
  const quote = skbCopyBits(skbIn, from, Math.min(skbIn.len - from, room));
  icmpv6Push(net, fl6.saddr, saddrIn, rt, type, code, info, quote);
}

export function icmpv6Init(kernel: Kernel): void {
  inet6AddProtocol(kernel, NEXTHDR.ICMP, { handler: icmpv6Rcv });
}
