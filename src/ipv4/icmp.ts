/**
 * net/ipv4/icmp.c: answering echo requests, reporting errors (destination
 * unreachable and friends) with Linux's rate limits, and counting every ICMP message
 * in and out. Echo replies go to raw sockets (ping) through ip_local_deliver.
 */
import { IFF } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import {
  allocSkb,
  ipHdr,
  kfreeSkb,
  pskbMayPull,
  type SkBuff,
  skbChecksum,
  skbCopyBits,
  skbCopyBitsInto,
  skbPut,
} from '../core/skbuff.js';
import { datagramTruesize } from '../core/sock.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { csumFold, csumPartial } from '../wire/checksum.js';
import { ICMP, ICMP_HEADER_LEN, IcmpHeader } from '../wire/icmp.js';
import { IPPROTO, Ipv4Header } from '../wire/ipv4.js';
import { flowi4, RTN } from './fib.js';
import { inetAddrType } from './fib-frontend.js';
import { inetGetpeerV4, inetPeerXrlimAllow } from './inetpeer.js';
import { IPV4_MAX_HEADROOM, ipSendSkbDgram } from './ip-output.js';
import { pingRcv } from './ping.js';
import { inetAddProtocol, inetProtocol } from './protocol.js';
import {
  ipRouteOutputKey,
  ipv4IsLbcast,
  ipv4IsMulticast,
  ipv4IsZeronet,
  ipv4Redirect,
  ipv4UpdatePmtu,
  RTCF,
  type Rtable,
} from './route.js';

/** The icmpmibmap: which In/Out column of the Icmp row each type feeds. */
export const ICMP_MIB_MAP: readonly (readonly [number, string])[] = [
  [ICMP.DEST_UNREACH, 'DestUnreachs'],
  [ICMP.TIME_EXCEEDED, 'TimeExcds'],
  [ICMP.PARAMETERPROB, 'ParmProbs'],
  [ICMP.SOURCE_QUENCH, 'SrcQuenchs'],
  [ICMP.REDIRECT, 'Redirects'],
  [ICMP.ECHO, 'Echos'],
  [ICMP.ECHOREPLY, 'EchoReps'],
  [ICMP.TIMESTAMP, 'Timestamps'],
  [ICMP.TIMESTAMPREPLY, 'TimestampReps'],
  [ICMP.ADDRESS, 'AddrMasks'],
  [ICMP.ADDRESSREPLY, 'AddrMaskReps'],
];

/** icmp_out_count(): OutMsgs and the per-type IcmpMsg counter. */
export function icmpOutCount(net: Net, type: number): void {
  net.ipv4.mib.icmp.OutMsgs++;
  const out = net.ipv4.mib.icmpMsgOut;
  out[type] = (out[type] as number) + 1;
}

/** icmp_global_allow(): a token bucket of icmp_msgs_burst, refilled at icmp_msgs_per_sec. */
interface GlobalCredit {
  credit: number;
  stamp: number;
}
const globalCredit = new WeakMap<Net, GlobalCredit>();

/** The namespace's ICMP budget, which ICMPv6 errors draw on too (icmp_global_allow). */
export function icmpGlobalAllow(net: Net): boolean {
  const sys = net.ipv4.sysctl;
  const now = net.kernel.clock.now();
  let g = globalCredit.get(net);
  if (g === undefined) {
    g = { credit: sys.icmp_msgs_burst, stamp: now };
    globalCredit.set(net, g);
  }
  const elapsedMs = (now - g.stamp) / 1e6;
  if (elapsedMs >= 1) {
    g.credit = Math.min(sys.icmp_msgs_burst, g.credit + Math.floor((elapsedMs * sys.icmp_msgs_per_sec) / 1000));
    g.stamp = now;
  }
  if (g.credit > 0) {
    g.credit--;
    return true;
  }
  return false;
}

/**
 * icmpv4_global_allow() + icmpv4_xrlim_allow(): types outside icmp_ratemask, and
 * "fragmentation needed", are never limited; the per-destination limit does not
 * apply on loopback devices.
 */
function icmpAllow(net: Net, type: number, code: number): boolean {
  if (type > ICMP.NR_ICMP_TYPES) return true;
  if (type === ICMP.DEST_UNREACH && code === ICMP.FRAG_NEEDED) return true;
  if (!((1 << type) & net.ipv4.sysctl.icmp_ratemask)) return true;
  if (!icmpGlobalAllow(net)) {
    net.ipv4.mib.icmp.OutRateLimitGlobal++;
    return false;
  }
  return true;
}

/**
 * icmpv4_xrlim_allow() + inet_peer_xrlim_allow(): per destination, one message every
 * icmp_ratelimit ms with a burst of six, for the types icmp_ratemask limits; never
 * through a loopback device.
 */
function icmpv4XrlimAllow(net: Net, rt: Rtable, daddr: number, type: number, code: number): boolean {
  if (type > ICMP.NR_ICMP_TYPES || (type === ICMP.DEST_UNREACH && code === ICMP.FRAG_NEEDED)) return true;
  if (!((1 << type) & net.ipv4.sysctl.icmp_ratemask)) return true;
  if (rt.dev.flags & IFF.LOOPBACK) return true;
  const timeout = net.ipv4.sysctl.icmp_ratelimit * 1e6;
  const rc = inetPeerXrlimAllow(inetGetpeerV4(net, daddr), timeout, net.kernel.clock.now());
  if (!rc) net.ipv4.mib.icmp.OutRateLimitHost++;
  return rc;
}

/** Builds and sends one ICMP message (icmp_push_reply): header + `body`, checksum in full. */
function icmpPushReply(
  net: Net,
  type: number,
  code: number,
  rest: number,
  body: Uint8Array,
  fl4: ReturnType<typeof flowi4>,
  rt: Rtable,
  tos: number,
): void {
  const skb = icmpAllocReply(body.byteLength);
  skb.head.set(body, skb.data + ICMP_HEADER_LEN);
  icmpSendReply(net, skb, type, code, rest, fl4, rt, tos);
}

/** The skb of a reply with `bodyLen` bytes after its header, put and charged as ip_append_data does. */
function icmpAllocReply(bodyLen: number): SkBuff {
  const skb = allocSkb(ICMP_HEADER_LEN + bodyLen, IPV4_MAX_HEADROOM);
  // icmp_push_reply() builds it with ip_append_data: the same truesize as a datagram.
  skb.truesize = datagramTruesize(ICMP_HEADER_LEN + bodyLen, 20, 0);
  skbPut(skb, ICMP_HEADER_LEN + bodyLen);
  return skb;
}

/** The rest of icmp_push_reply for a reply whose body is in place: struct icmphdr, the checksum, out. */
function icmpSendReply(
  net: Net,
  skb: SkBuff,
  type: number,
  code: number,
  rest: number,
  fl4: ReturnType<typeof flowi4>,
  rt: Rtable,
  tos: number,
): void {
  const b = skb.head;
  const at = skb.data;
  b[at] = type;
  b[at + 1] = code;
  b[at + 2] = 0;
  b[at + 3] = 0;
  b[at + 4] = rest >>> 24;
  b[at + 5] = rest >>> 16;
  b[at + 6] = rest >>> 8;
  b[at + 7] = rest;
  const check = csumFold(csumPartial(b, at, skb.len));
  b[at + 2] = check >>> 8;
  b[at + 3] = check;
  icmpOutCount(net, type);
  // The ICMP socket does not do PMTU discovery: no DF, so ids come from the hashed generator.
  ipSendSkbDgram(net, skb, fl4, rt, {
    protocol: IPPROTO.ICMP,
    ttl: net.ipv4.sysctl.ip_default_ttl,
    tos,
    df: false,
    ignoreDf: true,
    inetId: null,
  });
}

/** icmp_reply() for an echo request: same id, sequence and data, from the address it was sent to. */
function icmpEcho(net: Net, skb: SkBuff, iph: Ipv4Header): void {
  if (net.ipv4.sysctl.icmp_echo_ignore_all) return;
  const len = skb.len;
  // icmp_rcv pulled the header: un.echo (id and sequence) is linear.
  const b = skb.head;
  const at = skb.data;
  const rest =
    (((b[at + 4] as number) << 24) |
      ((b[at + 5] as number) << 16) |
      ((b[at + 6] as number) << 8) |
      (b[at + 7] as number)) >>>
    0;
  const fl4 = flowi4({ daddr: iph.src, saddr: iph.dst, tos: iph.tos & 0x1e, proto: IPPROTO.ICMP });
  // A reply to a broadcast request comes from our own address, not the broadcast one.
  if (inetAddrType(net, fl4.saddr) !== RTN.LOCAL) fl4.saddr = 0;
  const rt = ipRouteOutputKey(net, fl4);
  if (typeof rt === 'number') return;
  // The echo data goes from the request straight into the reply.
  const reply = icmpAllocReply(len - ICMP_HEADER_LEN);
  skbCopyBitsInto(skb, ICMP_HEADER_LEN, reply.head, reply.data + ICMP_HEADER_LEN, len - ICMP_HEADER_LEN);
  icmpSendReply(net, reply, ICMP.ECHOREPLY, 0, rest, fl4, rt, iph.tos);
}

/**
 * icmp_rcv(): count, verify the checksum (lo sends ICMP with full checksums), and act
 * on the type. Raw sockets have already had their copy.
 */
export function icmpRcv(skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const net = dev.net as Net;
  const mib = net.ipv4.mib;
  mib.icmp.InMsgs++;
  if (!pskbMayPull(skb, ICMP_HEADER_LEN)) return icmpError(net, skb);
  if (csumFold(skbChecksum(skb, 0, skb.len)) !== 0) {
    mib.icmp.InCsumErrors++;
    return icmpError(net, skb);
  }
  const type = skb.head[skb.data] as number;
  mib.icmpMsgIn[type] = (mib.icmpMsgIn[type] as number) + 1;
  if (type > ICMP.NR_ICMP_TYPES) return icmpError(net, skb);
  const iph = ipHdr(skb);
  const rt = skb.dst as Rtable | null;
  if (rt !== null && rt.rtFlags & RTCF.BROADCAST) {
    // Echo to a broadcast address is ignored by default (icmp_echo_ignore_broadcasts).
    if ((type === ICMP.ECHO || type === ICMP.TIMESTAMP) && net.ipv4.sysctl.icmp_echo_ignore_broadcasts) {
      kfreeSkb(skb);
      return 0;
    }
  }
  if (type === ICMP.ECHO) icmpEcho(net, skb, iph);
  else if (type === ICMP.ECHOREPLY) pingRcv(net, skb, 4);
  else if (
    type === ICMP.DEST_UNREACH ||
    type === ICMP.TIME_EXCEEDED ||
    type === ICMP.PARAMETERPROB ||
    type === ICMP.SOURCE_QUENCH
  ) {
    icmpUnreach(net, skb);
  } else if (type === ICMP.REDIRECT) icmpRedirect(net, skb);
  kfreeSkb(skb);
  return 0;
}

function icmpError(net: Net, skb: SkBuff): number {
  net.ipv4.mib.icmp.InErrors++;
  kfreeSkb(skb);
  return 0;
}

/** icmp_unreach(): tell the protocol whose packet it was (its err_handler). */
function icmpUnreach(net: Net, skb: SkBuff): void {
  const bytes = skb.toBytes();
  if (bytes.byteLength < ICMP_HEADER_LEN + 20 + 8) {
    net.ipv4.mib.icmp.InErrors++;
    return;
  }
  const inner = new Ipv4Header(bytes, ICMP_HEADER_LEN);
  if (inner.checkHeader() !== undefined) {
    net.ipv4.mib.icmp.InErrors++;
    return;
  }
  const h = new IcmpHeader(bytes, 0, bytes.byteLength);
  // Path MTU discovery: Linux's protocols call ipv4_sk_update_pmtu from their err_handler
  // with the MTU icmp_unreach read (ip_no_pmtu_disc 0); lonet learns it here for all of them.
  if (h.type === ICMP.DEST_UNREACH && h.code === ICMP.FRAG_NEEDED && net.ipv4.sysctl.ip_no_pmtu_disc === 0) {
    ipv4UpdatePmtu(net, inner.dst, inner.src, h.rest & 0xffff);
  }
  // icmp_socket_deliver(): the protocol of the quoted datagram hears about it.
  inetProtocol(net.kernel, inner.protocol)?.errHandler?.(skb, h.type, h.code, h.rest);
}

/**
 * icmp_redirect() → icmp_err → ipv4_redirect(): a better first hop for the quoted
 * packet's destination (route.ts decides whether to believe it).
 */
function icmpRedirect(net: Net, skb: SkBuff): void {
  const bytes = skb.toBytes();
  if (bytes.byteLength < ICMP_HEADER_LEN + 20) {
    net.ipv4.mib.icmp.InErrors++;
    return;
  }
  const inner = new Ipv4Header(bytes, ICMP_HEADER_LEN);
  if (bytes.byteLength < ICMP_HEADER_LEN + inner.ihl * 4 + 8) return;
  const h = new IcmpHeader(bytes, 0, bytes.byteLength);
  ipv4Redirect(net, skb.dev as NetDevice, ipHdr(skb).src, h.code, h.rest >>> 0, inner.dst, inner.src);
}

/**
 * __icmp_send(): report a problem with `skbIn` (data at the transport header, its IP
 * header at networkHeader) to its sender. Never about an ICMP error, a fragment
 * other than the first, or a broadcast/multicast; rate limited as Linux limits it.
 */
export function icmpSend(skbIn: SkBuff, type: number, code: number, info: number): void {
  const dev = skbIn.dev;
  const net = dev?.net;
  if (dev === null || net === null || net === undefined) return;
  const iph = ipHdr(skbIn);
  const rt = skbIn.dst as Rtable | null;
  if (rt === null || rt.rtFlags & (RTCF.BROADCAST | RTCF.MULTICAST)) return;
  if (iph.fragOffset !== 0) return;
  if (ipv4IsZeronet(iph.src) || ipv4IsMulticast(iph.src) || ipv4IsLbcast(iph.src)) return;
  if (iph.protocol === IPPROTO.ICMP) {
    // Never an error about an error.
    const t = skbIn.head[skbIn.transportHeader];
    if (t === undefined || t > ICMP.NR_ICMP_TYPES || [3, 4, 5, 11, 12].includes(t)) return;
  }
  if (!icmpAllow(net, type, code)) return;
  const fl4 = flowi4({ daddr: iph.src, saddr: 0, tos: iph.tos & 0x1e, proto: IPPROTO.ICMP });
  if (inetAddrType(net, iph.dst) === RTN.LOCAL) fl4.saddr = iph.dst;
  const out = ipRouteOutputKey(net, fl4);
  if (typeof out === 'number') return;
  if (!icmpv4XrlimAllow(net, out, fl4.daddr, type, code)) return;
  // The quote: the offending IP header and as much of its payload as fits in 576 bytes.
  const room = 576 - 20 - ICMP_HEADER_LEN;
  const from = skbIn.networkHeader - skbIn.data;
  const quote = skbCopyBits(skbIn, from, Math.min(iph.totalLength, room, skbIn.len - from));
  icmpPushReply(net, type, code, info, quote, fl4, out, (iph.tos & 0x1e) | 0xc0);
}

/** inet_init's inet_add_protocol(&icmp_protocol, IPPROTO_ICMP). */
export function icmpInit(kernel: Kernel): void {
  inetAddProtocol(kernel, IPPROTO.ICMP, { handler: icmpRcv });
}
