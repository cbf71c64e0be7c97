/**
 * net/ipv6/ip6_input.c: the ETH_P_IPV6 handler. ipv6_rcv checks the header and counts
 * drops in Ip6 counters; the route lo kept says "local"; ip6_input walks the extension
 * headers and hands the payload to raw sockets and the upper-layer protocol; an unknown
 * next header gets ICMPv6 parameter problem, as Linux sends it.
 */
import { devAddPack } from '../core/dev.js';
import { NET_RX } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import {
  kfreeSkb,
  PACKET,
  pskbMayPull,
  pskbTrim,
  type SkBuff,
  skbPull,
  skbResetNetworkHeader,
} from '../core/skbuff.js';
import { ETH_P } from '../include/if-ether.js';
import { inet6Protocol } from '../ipv4/protocol.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, Ipv6Header, ipv6SkipExthdr, NEXTHDR } from '../wire/ipv6.js';
import { icmpv6Send } from './icmp.js';
import { raw6LocalDeliver } from './raw.js';
import { ipv6FragRcv } from './reassembly.js';
import { ip6RouteHandlers, ip6RouteInput } from './route.js';

/** ipv6_rcv() + ip6_rcv_core(). */
export function ipv6Rcv(skb: SkBuff, dev: NetDevice, _pt: PacketType, _orig: NetDevice): number {
  dev.kernel.trace.ipRcv++;
  const net = dev.net;
  if (net === null || skb.pktType === PACKET.OTHERHOST) {
    // A frame for another host is dropped before IPv6 counts it, in rx_otherhost_dropped (as IPv4).
    if (net !== null) dev.coreStats.rxOtherhostDropped++;
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const mib = net.ipv6.mib.ip6;
  mib.InReceives++;
  mib.InOctets += skb.len;
  if (!pskbMayPull(skb, IPV6_HEADER_LEN)) return drop(net, skb, 'InHdrErrors');
  const h = new Ipv6Header(skb.head, skb.data);
  if (h.version !== 6) return drop(net, skb, 'InHdrErrors');
  mib[(['InNoECTPkts', 'InECT1Pkts', 'InECT0Pkts', 'InCEPkts'] as const)[h.trafficClass & 3] as 'InNoECTPkts']++;
  const pkt = IPV6_HEADER_LEN + h.payloadLength;
  if (pkt > skb.len) return drop(net, skb, 'InTruncatedPkts');
  pskbTrim(skb, pkt);
  skbResetNetworkHeader(skb);
  skb.transportHeader = skb.data + IPV6_HEADER_LEN;
  if (skb.dst === null && ip6RouteInput(net, skb, h.dst.slice()) !== 0) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  return (skb.dst as NonNullable<SkBuff['dst']>).input(skb);
}

function drop(net: Net, skb: SkBuff, counter: 'InHdrErrors' | 'InTruncatedPkts' | 'InDiscards'): number {
  net.ipv6.mib.ip6[counter]++;
  kfreeSkb(skb);
  return NET_RX.DROP;
}

/** ip6_input() + ip6_protocol_deliver_rcu(). */
export function ip6Input(skb: SkBuff): number {
  const net = (skb.dev as NetDevice).net as Net;
  const mib = net.ipv6.mib.ip6;
  const h = new Ipv6Header(skb.head, skb.networkHeader);
  const end = skb.networkHeader + IPV6_HEADER_LEN + h.payloadLength;
  // Extension headers must be in the linear part to be walked (a reassembled packet's
  // payload stays in fragments: only its first bytes are pulled).
  if (!pskbMayPull(skb, Math.min(skb.len, skb.networkHeader - skb.data + IPV6_HEADER_LEN + 512))) {
    return drop(net, skb, 'InHdrErrors');
  }
  const upper = ipv6SkipExthdr(skb.head, skb.networkHeader + IPV6_HEADER_LEN, h.nextHeader, end);
  if (typeof upper === 'string') {
    if (upper === 'no-next-header') {
      // Linux delivers it to nodata_protocol (dst_discard): counted in InDelivers, as 6.18 shows.
      mib.InDelivers++;
      kfreeSkb(skb);
      return NET_RX.SUCCESS;
    }
    return drop(net, skb, 'InHdrErrors');
  }
  if (upper.fragHeader >= 0) {
    const nhoff = skb.networkHeader + nextHeaderPointer(skb, h.nextHeader, upper.fragHeader);
    const whole = ipv6FragRcv(net, skb, upper.fragHeader, nhoff);
    if (whole === null) return NET_RX.SUCCESS;
    // Reassembled: walk it again from the top, now without the fragment header.
    if (whole !== skb) return ip6Input(whole);
  }
  skb.transportHeader = upper.offset;
  skbPull(skb, upper.offset - skb.data);
  net.kernel.trace.deliver++;
  const raw = raw6LocalDeliver(net, skb, upper.nextHeader);
  const prot = inet6Protocol(net.kernel, upper.nextHeader);
  if (prot !== undefined) {
    mib.InDelivers++;
    prot.handler(skb);
    return NET_RX.SUCCESS;
  }
  if (!raw) {
    mib.InUnknownProtos++;
    icmpv6Send(skb, ICMPV6.PARAMPROB, ICMPV6.UNK_NEXTHDR, nextHeaderPointer(skb, h.nextHeader, upper.offset));
  } else {
    mib.InDelivers++;
  }
  kfreeSkb(skb);
  return NET_RX.SUCCESS;
}

/** Where the next-header byte naming the upper layer sits, from the IPv6 header (the PARAMPROB pointer). */
function nextHeaderPointer(skb: SkBuff, first: number, upperOffset: number): number {
  const b = skb.head;
  let nhoff = skb.networkHeader + 6;
  let off = skb.networkHeader + IPV6_HEADER_LEN;
  let nexthdr = first;
  while (off < upperOffset) {
    nhoff = off;
    const len =
      nexthdr === NEXTHDR.FRAGMENT
        ? 8
        : nexthdr === NEXTHDR.AUTH
          ? ((b[off + 1] as number) + 2) << 2
          : ((b[off + 1] as number) + 1) << 3;
    nexthdr = b[off] as number;
    off += len;
  }
  return nhoff - skb.networkHeader;
}

const ipv6PacketType: PacketType = { type: ETH_P.IPV6, dev: null, func: ipv6Rcv };

export function ip6InputInit(kernel: Kernel): void {
  devAddPack(kernel, ipv6PacketType);
  ip6RouteHandlers.input = ip6Input;
}
