/**
 * net/ipv6/ip6_output.c's ip6_forward() and route.c's ip6_pkt_drop(): what happens to an
 * IPv6 packet that came in for another host. Only net.ipv6.conf.all.forwarding makes a
 * router (off: InAddrErrors). Hop limit 1 dies with Time Exceeded; a packet leaving by
 * the device it came in on tells its sender of a better first hop (a Redirect, at most
 * one a second per destination and per source); one above the out device's MTU gets
 * Packet Too Big (IPv6 routers never fragment); the rest leave with the hop limit one
 * less, counted as OutForwDatagrams. A packet with no route, or on a reject route, gets
 * Destination Unreachable (No Route / Administratively Prohibited), router or not.
 */
import { NET_RX } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import { kfreeSkb, PACKET, type SkBuff, skbCow } from '../core/skbuff.js';
import { inetGetpeerV6, inetPeerXrlimAllow } from '../ipv4/inetpeer.js';
import type { Net } from '../net/net.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { Ipv6Header } from '../wire/ipv6.js';
import { ipv6AddrAny, ipv6AddrLoopback, ipv6AddrMulticast } from './addr.js';
import { ipv6ForwardingAll } from './devconf.js';
import { icmpv6Send } from './icmp.js';
import { ndiscRedirectInit, ndiscSendRedirect } from './ndisc-redirect.js';
import { IPV6_MIN_MTU, ip6RouteHandlers, type Rt6Info } from './route.js';

const isLinkLocal = (a: Uint8Array): boolean => a[0] === 0xfe && ((a[1] as number) & 0xc0) === 0x80;

/** ip6_forward(). */
export function ip6Forward(skb: SkBuff): number {
  const inDev = skb.dev as NetDevice;
  const net = inDev.net as Net;
  const mib = net.ipv6.mib.ip6;
  const rt = skb.dst as Rt6Info;
  if (!ipv6ForwardingAll(net)) return error(net, skb);
  if (skb.pktType !== PACKET.HOST) return drop(skb);
  let h = new Ipv6Header(skb.head, skb.networkHeader);
  if (h.hopLimit <= 1) {
    icmpv6Send(skb, ICMPV6.TIME_EXCEED, ICMPV6.EXC_HOPLIMIT, 0);
    mib.InHdrErrors++;
    return drop(skb);
  }
  const outDev = rt.dev;
  if (outDev === inDev) {
    // In and out by the same link: the sender could reach the next hop itself. Limited
    // per destination here, per sender in ndisc_send_redirect.
    const target = rt.gateway ?? h.dst.slice();
    if (inetPeerXrlimAllow(inetGetpeerV6(net, h.dst), 1e9, net.kernel.clock.now())) ndiscSendRedirect(skb, target);
  } else {
    // "This check is security critical": such sources never leave their link.
    const src = h.src;
    if (ipv6AddrAny(src) || ipv6AddrMulticast(src) || ipv6AddrLoopback(src)) return error(net, skb);
    if (isLinkLocal(src)) {
      icmpv6Send(skb, ICMPV6.DEST_UNREACH, ICMPV6.NOT_NEIGHBOUR, 0);
      return error(net, skb);
    }
  }
  mib.OutForwDatagrams++;
  // ip6_dst_mtu_maybe_forward(): the out device's MTU, never a learned PMTU.
  const mtu = Math.max(outDev.mtu, IPV6_MIN_MTU);
  if (skb.len > mtu && !skb.ignoreDf && skb.gsoSize === 0) {
    skb.dev = outDev;
    icmpv6Send(skb, ICMPV6.PKT_TOOBIG, 0, mtu);
    mib.InTooBigErrors++;
    mib.FragFails++;
    return drop(skb);
  }
  skbCow(skb);
  h = new Ipv6Header(skb.head, skb.networkHeader);
  h.hopLimit = h.hopLimit - 1;
  skb.tstamp = 0;
  return rt.output(skb);
}

function error(net: Net, skb: SkBuff): number {
  net.ipv6.mib.ip6.InAddrErrors++;
  return drop(skb);
}

function drop(skb: SkBuff): number {
  kfreeSkb(skb);
  return NET_RX.DROP;
}

/** ip6_pkt_drop(): the input of the null entry and reject routes; a packet to :: is an address error. */
export function ip6PktDrop(skb: SkBuff, code: number): number {
  const net = (skb.dev as NetDevice).net as Net;
  const h = new Ipv6Header(skb.head, skb.networkHeader);
  if (ipv6AddrAny(h.dst)) net.ipv6.mib.ip6.InAddrErrors++;
  else net.ipv6.mib.ip6.InNoRoutes++;
  icmpv6Send(skb, ICMPV6.DEST_UNREACH, code, 0);
  return drop(skb);
}

export function ip6ForwardInit(): void {
  ndiscRedirectInit();
  ip6RouteHandlers.forward = ip6Forward;
  ip6RouteHandlers.drop = ip6PktDrop;
}
