/**
 * net/ipv4/ip_output.c: put the IP header on a packet and send it down its route.
 * ip_local_out → dst_output (ip_output) → ip_finish_output (fragment if it does not
 * fit the route MTU and is not GSO) → ip_finish_output2 → the neighbour (lo's NOARP
 * entry) builds the Ethernet header → dev_queue_xmit.
 */
import { devQueueXmit, netXmitErrno } from '../core/dev.js';
import { neighOutput } from '../core/neighbour.js';
import { ipHdr, type SkBuff, skbPush, skbResetNetworkHeader } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import type { Net } from '../net/net.js';
import { IP_DF, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import type { Flowi4 } from './fib.js';
import { ipSelectIdentHashed } from './ip-ident.js';
import type { Rtable } from './route.js';
import { ipRouteHandlers } from './route-handlers.js';

/** Headroom a locally built IPv4 packet needs: Ethernet (rounded up) plus the largest IP header. */
export const IPV4_MAX_HEADROOM = 16 + 60;

/** What a sender decides about the header (the socket's options, in Linux). */
export interface IpHeaderOpts {
  protocol: number;
  ttl: number;
  tos: number;
  /** IP_DF: set unless the sender's PMTU discovery mode says otherwise. */
  df: boolean;
  /**
   * skb->ignore_df (ip_sk_ignore_df): true for the default PMTU mode "want", so DF is
   * advisory and the packet still gets a real id; false for "do", where DF packets get 0.
   */
  ignoreDf: boolean;
  /** A connected socket's own id counter (inet->inet_id); null for none. */
  inetId: { next: number } | null;
}

/**
 * __ip_make_skb / ip_build_and_send_pkt: push a 20-byte header in front of the
 * transport data at skb.data, fill it in and send the packet along `rt`.
 */
export function ipSendSkb(net: Net, skb: SkBuff, fl4: Flowi4, rt: Rtable, opts: IpHeaderOpts): number {
  skb.transportHeader = skb.data;
  const at = skbPush(skb, IPV4_HEADER_LEN);
  skbResetNetworkHeader(skb);
  // struct iphdr written in place (version 4, ihl 5; the checksum is ip_send_check's).
  const b = skb.head;
  const tot = skb.len;
  const saddr = fl4.saddr;
  const daddr = fl4.daddr;
  b[at] = 0x45;
  b[at + 1] = opts.tos;
  b[at + 2] = tot >>> 8;
  b[at + 3] = tot;
  b[at + 6] = opts.df ? IP_DF >>> 8 : 0;
  b[at + 7] = 0;
  b[at + 8] = opts.ttl;
  b[at + 9] = opts.protocol;
  b[at + 12] = saddr >>> 24;
  b[at + 13] = saddr >>> 16;
  b[at + 14] = saddr >>> 8;
  b[at + 15] = saddr;
  b[at + 16] = daddr >>> 24;
  b[at + 17] = daddr >>> 16;
  b[at + 18] = daddr >>> 8;
  b[at + 19] = daddr;
  const id = ipSelectIdent(net, opts, daddr >>> 0, saddr >>> 0, b[at + 9] as number);
  b[at + 4] = id >>> 8;
  b[at + 5] = id;
  skb.dst = rt;
  skb.protocol = ETH_P.IP;
  skb.ignoreDf = opts.ignoreDf;
  return ipLocalOut(net, skb);
}

/**
 * ip_send_skb(): the datagram senders' way out (UDP, raw, ping, ICMP replies). A qdisc
 * that drops the packet (NET_XMIT_DROP) is -ENOBUFS to them (net_xmit_errno) and an
 * OutDiscards; congestion (NET_XMIT_CN) is success. TCP's ip_queue_xmit keeps the code.
 */
export function ipSendSkbDgram(net: Net, skb: SkBuff, fl4: Flowi4, rt: Rtable, opts: IpHeaderOpts): number {
  const rc = ipSendSkb(net, skb, fl4, rt, opts);
  if (rc <= 0) return rc;
  const err = netXmitErrno(rc);
  if (err !== 0) net.ipv4.mib.ip.OutDiscards++;
  return err;
}

/** ip_select_ident_segs(), for the header's daddr, saddr and protocol. */
function ipSelectIdent(net: Net, opts: IpHeaderOpts, daddr: number, saddr: number, protocol: number): number {
  if (opts.inetId !== null) return opts.inetId.next++ & 0xffff;
  if (opts.df && !opts.ignoreDf) return 0;
  return ipSelectIdentHashed(net, daddr, saddr, protocol);
}

/** __ip_local_out + dst_output: the header checksum, then the route's output. */
export function ipLocalOut(net: Net, skb: SkBuff): number {
  // Counted here, not in ip_output, so forwarded packets are not OutRequests (6.3 on).
  net.ipv4.mib.ip.OutRequests++;
  const iph = ipHdr(skb);
  iph.totalLength = skb.len;
  iph.fillChecksum();
  const dst = skb.dst;
  if (dst === null) return -1;
  return dst.output(skb);
}

/** ip_output(): count its bytes, point it at the route's device; ip_forward comes here too. */
export function ipOutput(skb: SkBuff): number {
  const rt = skb.dst as Rtable;
  const net = rt.dev.net as Net;
  net.ipv4.mib.ipExt.OutOctets += skb.len;
  skb.dev = rt.dev;
  skb.protocol = ETH_P.IP;
  return ipFinishOutput(net, skb, rt);
}

/** ip_finish_output(): packets within the MTU (or GSO ones) go straight out. */
function ipFinishOutput(net: Net, skb: SkBuff, rt: Rtable): number {
  const mtu = rt.mtu;
  if (skb.gsoSize === 0 && skb.len > mtu) return ipFragmentHandler.fragment(net, skb, mtu, ipFinishOutput2);
  return ipFinishOutput2(net, skb);
}

/** ip_finish_output2(): the neighbour entry adds the link header and hands it to the device. */
export function ipFinishOutput2(net: Net, skb: SkBuff): number {
  const rt = skb.dst as Rtable;
  const dev = rt.dev;
  net.ipv4.mib.ip.OutTransmits++;
  const iph = ipHdr(skb);
  const nexthop = rt.rtGateway !== 0 ? rt.rtGateway : iph.dst;
  const neigh = net.ipv4.arpTbl.lookupOrCreate4(nexthop, dev);
  return neighOutput(neigh, skb, ETH_P.IP, devQueueXmit);
}

/**
 * Fragmentation lives in ip-fragment.ts; until a packet needs it, an oversized
 * non-GSO packet is refused as ip_fragment does with DF set: FragFails, EMSGSIZE.
 */
export const ipFragmentHandler: {
  fragment(net: Net, skb: SkBuff, mtu: number, output: (net: Net, skb: SkBuff) => number): number;
} = {
  fragment(net, _skb, _mtu, _output) {
    net.ipv4.mib.ip.FragFails++;
    return -E.EMSGSIZE;
  },
};

ipRouteHandlers.output = ipOutput;
