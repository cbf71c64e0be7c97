/**
 * net/ipv6/ip6_output.c: ip6_xmit puts the 40-byte header on (hop limit, an automatic
 * flow label as net.ipv6.auto_flowlabels asks), ip6_output counts and sends through the
 * route, ip6_finish_output2 lets the neighbour entry (NOARP on lo) add the link header.
 */
import { devQueueXmit, netXmitErrno } from '../core/dev.js';
import { neighOutput } from '../core/neighbour.js';
import { type SkBuff, skbPush, skbResetNetworkHeader } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import type { Net } from '../net/net.js';
import { IPV6_HEADER_LEN, Ipv6Header } from '../wire/ipv6.js';
import { ip6Fragment } from './reassembly.js';
import { ip6RouteHandlers, type Rt6Info } from './route.js';

/** Headroom a locally built IPv6 packet needs: Ethernet (rounded up) plus the IPv6 header. */
export const IPV6_MAX_HEADROOM = 16 + IPV6_HEADER_LEN;

export interface Ip6HeaderOpts {
  nexthdr: number;
  hopLimit: number;
  tclass: number;
  /** Upper-layer values the automatic flow label hashes (ports, or ICMP type/code). */
  flowKey: number;
}

const flowKeys = new WeakMap<Net, number>();

/**
 * ip6_make_flowlabel(): a 20-bit label hashed from the flow, under a per-namespace
 * random key, so packets of one flow share a label and the label reveals nothing.
 */
function ip6MakeFlowlabel(net: Net, src: Uint8Array, dst: Uint8Array, nexthdr: number, key: number): number {
  if (net.ipv6.sysctl.auto_flowlabels === 0) return 0;
  let seed = flowKeys.get(net);
  if (seed === undefined) {
    seed = crypto.getRandomValues(new Uint32Array(1))[0] as number;
    flowKeys.set(net, seed);
  }
  let h = seed ^ nexthdr ^ Math.imul(key, 0x9e3779b1);
  for (let i = 0; i < 16; i += 4) {
    h = Math.imul(
      h ^
        (((src[i] as number) << 24) |
          ((src[i + 1] as number) << 16) |
          ((src[i + 2] as number) << 8) |
          (src[i + 3] as number)),
      0x85ebca6b,
    );
    h = Math.imul(
      h ^
        (((dst[i] as number) << 24) |
          ((dst[i + 1] as number) << 16) |
          ((dst[i + 2] as number) << 8) |
          (dst[i + 3] as number)),
      0xc2b2ae35,
    );
    h ^= h >>> 15;
  }
  return (h >>> 0) & 0xfffff;
}

/** ip6_xmit(): push and fill the header in front of the transport data, then send. */
export function ip6Xmit(
  net: Net,
  skb: SkBuff,
  saddr: Uint8Array,
  daddr: Uint8Array,
  rt: Rt6Info,
  opts: Ip6HeaderOpts,
): number {
  skb.transportHeader = skb.data;
  const payloadLen = skb.len;
  if (payloadLen > 0xffff) return -E.EMSGSIZE;
  const at = skbPush(skb, IPV6_HEADER_LEN);
  skbResetNetworkHeader(skb);
  const h = new Ipv6Header(skb.head, at);
  h.version = 6;
  h.trafficClass = opts.tclass;
  h.flowLabel = ip6MakeFlowlabel(net, saddr, daddr, opts.nexthdr, opts.flowKey);
  h.payloadLength = payloadLen;
  h.nextHeader = opts.nexthdr;
  h.hopLimit = opts.hopLimit;
  h.src = saddr;
  h.dst = daddr;
  skb.dst = rt;
  skb.protocol = ETH_P.IPV6;
  skb.ignoreDf = true;
  // Locally built datagrams are OutRequests (ip6_xmit / ip6_local_out); forwarded ones are not.
  const mib = net.ipv6.mib.ip6;
  mib.OutRequests++;
  mib.OutOctets += skb.len;
  return rt.output(skb);
}

/**
 * ip6_send_skb(): the datagram senders' way out (UDP, raw, ping, ICMPv6). A qdisc drop
 * (NET_XMIT_DROP) is -ENOBUFS (net_xmit_errno) and an OutDiscards; congestion is success.
 */
export function ip6XmitDgram(
  net: Net,
  skb: SkBuff,
  saddr: Uint8Array,
  daddr: Uint8Array,
  rt: Rt6Info,
  opts: Ip6HeaderOpts,
): number {
  const rc = ip6Xmit(net, skb, saddr, daddr, rt, opts);
  if (rc <= 0) return rc;
  const err = netXmitErrno(rc);
  if (err !== 0) net.ipv6.mib.ip6.OutDiscards++;
  return err;
}

/** ip6_output() + ip6_finish_output(). */
export function ip6Output(skb: SkBuff): number {
  const rt = skb.dst as Rt6Info;
  const net = rt.dev.net as Net;
  skb.dev = rt.dev;
  skb.protocol = ETH_P.IPV6;
  // Only the source fragments IPv6; PMTU mode "want" (ignore_df) lets it.
  if (skb.len > rt.mtu && skb.gsoSize === 0) return ip6Fragment(net, skb, rt.mtu, ip6FinishOutput2);
  return ip6FinishOutput2(net, skb);
}

/**
 * ip6_finish_output2(): the neighbour entry of the next hop, rt6_nexthop(): the route's
 * gateway when it has one, else the destination itself (one entry per address on lo).
 */
function ip6FinishOutput2(net: Net, skb: SkBuff): number {
  const rt = skb.dst as Rt6Info;
  net.ipv6.mib.ip6.OutTransmits++;
  const nexthop = rt.gateway ?? new Ipv6Header(skb.head, skb.networkHeader).dst.slice();
  const neigh = net.ipv6.ndTbl.lookupOrCreate(nexthop, rt.dev);
  return neighOutput(neigh, skb, ETH_P.IPV6, devQueueXmit);
}

ip6RouteHandlers.output = ip6Output;
