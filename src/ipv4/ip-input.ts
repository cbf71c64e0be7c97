/**
 * net/ipv4/ip_input.c: the ETH_P_IP packet handler. ip_rcv checks the header and
 * counts what it drops where Linux counts it (InHdrErrors, InCsumErrors,
 * InTruncatedPkts); ip_rcv_finish uses the route lo kept on the packet, or looks one
 * up for packets that arrive without; ip_local_deliver reassembles fragments and
 * hands the payload to raw sockets and the protocol handler.
 */

import { devAddPack } from '../core/dev.js';
import { NET_RX } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import {
  ipHdr,
  kfreeSkb,
  PACKET,
  pskbMayPull,
  pskbTrim,
  type SkBuff,
  skbPull,
  skbResetNetworkHeader,
} from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { ICMP } from '../wire/icmp.js';
import { IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { RTN } from './fib.js';
import { icmpSend } from './icmp.js';
import { inetProtocol } from './protocol.js';
import { rawLocalDeliver } from './raw.js';
import { ipRouteInput, Rtable } from './route.js';
import { ipRouteHandlers } from './route-handlers.js';

/** ip_rcv() + ip_rcv_core(). */
export function ipRcv(skb: SkBuff, dev: NetDevice, _pt: PacketType, _orig: NetDevice): number {
  dev.kernel.trace.ipRcv++;
  const net = dev.net;
  if (net === null) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const mib = net.ipv4.mib;
  // A frame for another host (not possible on lo) is dropped before IP counts it.
  if (skb.pktType === PACKET.OTHERHOST) {
    dev.coreStats.rxOtherhostDropped++;
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  mib.ip.InReceives++;
  mib.ipExt.InOctets += skb.len;
  if (!pskbMayPull(skb, IPV4_HEADER_LEN)) return inhdrError(net, skb);
  let iph = ipHdr(skb, skb.data);
  if (iph.ihl < 5 || iph.version !== 4) return inhdrError(net, skb);
  // IPSTATS_MIB_NOECTPKTS + the ECN field: InNoECTPkts, InECT1Pkts, InECT0Pkts, InCEPkts.
  const segs = skb.gsoSegs > 1 ? skb.gsoSegs : 1;
  mib.ipExt[ECN_MIB[iph.tos & 3] as 'InNoECTPkts'] += segs;
  const ihlBytes = iph.headerLen;
  if (!pskbMayPull(skb, ihlBytes)) return inhdrError(net, skb);
  iph = ipHdr(skb, skb.data);
  if (!iph.verifyChecksum()) {
    mib.ipExt.InCsumErrors++;
    return inhdrError(net, skb);
  }
  const len = iph.totalLength;
  if (skb.len < len) {
    mib.ipExt.InTruncatedPkts++;
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  if (len < ihlBytes) return inhdrError(net, skb);
  pskbTrim(skb, len);
  skbResetNetworkHeader(skb);
  skb.transportHeader = skb.data + ihlBytes;
  return ipRcvFinish(net, skb);
}

const ECN_MIB = ['InNoECTPkts', 'InECT1Pkts', 'InECT0Pkts', 'InCEPkts'] as const;

function inhdrError(net: Net, skb: SkBuff): number {
  net.ipv4.mib.ip.InHdrErrors++;
  kfreeSkb(skb);
  return NET_RX.DROP;
}

/** ip_rcv_finish(): the route lo kept says where the packet goes; others are looked up. */
function ipRcvFinish(net: Net, skb: SkBuff): number {
  if (skb.dst === null) {
    const err = ipRouteInput(net, skb);
    if (err !== 0) {
      if (err === -E.EXDEV) net.ipv4.mib.rpFilter++;
      kfreeSkb(skb);
      return NET_RX.DROP;
    }
  }
  if (ipHdr(skb).ihl > 5 && ipRcvOptions(net, skb)) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const dst = skb.dst as NonNullable<SkBuff['dst']>;
  if (dst instanceof Rtable) {
    // IPSTATS_MIB_INMCAST / INBCAST, whether the route came with the packet or was looked up.
    if (dst.rtType === RTN.MULTICAST) {
      net.ipv4.mib.ipExt.InMcastPkts++;
      net.ipv4.mib.ipExt.InMcastOctets += skb.len;
    } else if (dst.rtType === RTN.BROADCAST) {
      net.ipv4.mib.ipExt.InBcastPkts++;
      net.ipv4.mib.ipExt.InBcastOctets += skb.len;
    }
  }
  return dst.input(skb);
}

/** IPOPT_* option types (include/uapi/linux/ip.h). */
const IPOPT = { END: 0, NOOP: 1, RR: 7, TIMESTAMP: 0x44, LSRR: 0x83, SSRR: 0x89, RA: 0x94 } as const;

/**
 * ip_rcv_options() + __ip_options_compile(): a malformed option is InHdrErrors and an
 * ICMP parameter problem pointing at it; a source-routed packet is dropped (silently,
 * as Linux does while accept_source_route is 0). Returns true to drop.
 */
function ipRcvOptions(net: Net, skb: SkBuff): boolean {
  const base = skb.networkHeader;
  const b = skb.head;
  const end = base + ipHdr(skb).headerLen;
  let ptr = -1;
  let rr = false;
  let ts = false;
  let srr = false;
  for (let i = base + IPV4_HEADER_LEN; i < end; ) {
    const type = b[i] as number;
    if (type === IPOPT.END) break;
    if (type === IPOPT.NOOP) {
      i++;
      continue;
    }
    const l = end - i;
    if (l < 2) {
      ptr = i;
      break;
    }
    const optlen = b[i + 1] as number;
    if (optlen < 2 || optlen > l) {
      ptr = i;
      break;
    }
    const p2 = b[i + 2] as number;
    switch (type) {
      case IPOPT.SSRR:
      case IPOPT.LSRR:
        if (optlen < 3) ptr = i + 1;
        else if (p2 < 4) ptr = i + 2;
        else if (srr) ptr = i;
        srr = true;
        break;
      case IPOPT.RR:
        if (rr) ptr = i;
        else if (optlen < 3) ptr = i + 1;
        else if (p2 < 4) ptr = i + 2;
        else if (p2 <= optlen && p2 + 3 > optlen) ptr = i + 2;
        rr = true;
        break;
      case IPOPT.TIMESTAMP: {
        if (ts) ptr = i;
        else if (optlen < 4) ptr = i + 1;
        else if (p2 < 5) ptr = i + 2;
        else if (p2 <= optlen) {
          const flag = (b[i + 3] as number) & 0xf;
          if (flag === 0 && p2 + 3 > optlen) ptr = i + 2;
          else if ((flag === 1 || flag === 3) && p2 + 7 > optlen) ptr = i + 2;
        } else if (((b[i + 3] as number) & 0xf) !== 3 && (b[i + 3] as number) >> 4 === 15) ptr = i + 3;
        ts = true;
        break;
      }
      case IPOPT.RA:
        if (optlen < 4) ptr = i + 1;
        break;
      default:
        break;
    }
    if (ptr >= 0) break;
    i += optlen;
  }
  if (ptr >= 0) {
    net.ipv4.mib.ip.InHdrErrors++;
    icmpSend(skb, ICMP.PARAMETERPROB, 0, ((ptr - base) << 24) >>> 0);
    return true;
  }
  return srr;
}

/**
 * ip_local_deliver(): whole datagrams go up; fragments wait for the rest
 * (ipDefragHandler, ip_fragment.c's job).
 */
export function ipLocalDeliver(skb: SkBuff): number {
  const net = (skb.dev as NetDevice).net as Net;
  const iph = ipHdr(skb);
  if (iph.mf || iph.fragOffset !== 0) {
    const whole = ipDefragHandler.defrag(net, skb);
    if (whole === null) return NET_RX.SUCCESS;
    skb = whole;
  }
  return ipLocalDeliverFinish(net, skb);
}

/** ip_local_deliver_finish() + ip_protocol_deliver_rcu(). */
function ipLocalDeliverFinish(net: Net, skb: SkBuff): number {
  net.kernel.trace.deliver++;
  const iph = ipHdr(skb);
  const protocol = iph.protocol;
  skbPull(skb, skb.transportHeader - skb.data);
  const raw = rawLocalDeliver(net, skb, protocol);
  const prot = inetProtocol(net.kernel, protocol);
  const mib = net.ipv4.mib;
  if (prot !== undefined) {
    mib.ip.InDelivers++;
    prot.handler(skb);
    return NET_RX.SUCCESS;
  }
  if (!raw) {
    mib.ip.InUnknownProtos++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP.PROT_UNREACH, 0);
  } else {
    mib.ip.InDelivers++;
  }
  kfreeSkb(skb);
  return NET_RX.SUCCESS;
}

/** Reassembly lives in ip-fragment.ts; it installs itself here. */
export const ipDefragHandler: { defrag(net: Net, skb: SkBuff): SkBuff | null } = {
  defrag(net, skb) {
    net.ipv4.mib.ip.ReasmFails++;
    kfreeSkb(skb);
    return null;
  },
};

const ipPacketType: PacketType = { type: ETH_P.IP, dev: null, func: ipRcv };

/** inet_init's dev_add_pack(&ip_packet_type). */
export function ipInputInit(kernel: Kernel): void {
  devAddPack(kernel, ipPacketType);
  ipRouteHandlers.localDeliver = ipLocalDeliver;
}
