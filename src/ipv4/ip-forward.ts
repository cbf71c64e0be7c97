/**
 * net/ipv4/ip_forward.c and route.c's ip_error(): what happens to a packet that came in
 * for another host. With forwarding on, the route input made for it (ip_mkroute_input)
 * sends it here: TTL 1 dies with Time Exceeded, a DF packet above the out device's MTU
 * gets Frag Needed with that MTU, the rest leave with the TTL one less, counted as
 * ForwDatagrams. A packet with no way out takes the RTN_UNREACHABLE route whose input
 * is ip_error: with forwarding off it is only counted, with it on the sender hears
 * Net/Host Unreachable (or Packet Filtered), at most 5 at once and then one a second
 * per source (ip_rt_error_burst, ip_rt_error_cost).
 */
import { NET_RX } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import { ipHdr, kfreeSkb, PACKET, type SkBuff, skbCow } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { ICMP } from '../wire/icmp.js';
import { inDevForward, inDevTxRedirects } from './devconf.js';
import { inDevGet } from './devinet.js';
import { icmpSend } from './icmp.js';
import { inetGetpeerV4 } from './inetpeer.js';
import { RTCF, type Rtable } from './route.js';
import { ipRouteHandlers } from './route-handlers.js';

/** ip_exceeds_mtu(): only a DF packet the sender did not mark as fragmentable counts. */
function ipExceedsMtu(skb: SkBuff, mtu: number): boolean {
  if (skb.len <= mtu) return false;
  if (!ipHdr(skb).df) return false;
  if (skb.ignoreDf) return false;
  return skb.gsoSize === 0;
}

/** ip_forward(). */
export function ipForward(skb: SkBuff): number {
  const net = (skb.dev as NetDevice).net as Net;
  if (skb.pktType !== PACKET.HOST) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  if (ipHdr(skb).ttl <= 1) {
    // "Tell the sender its packet died."
    net.ipv4.mib.ip.InHdrErrors++;
    icmpSend(skb, ICMP.TIME_EXCEEDED, ICMP.EXC_TTL, 0);
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const rt = skb.dst as Rtable;
  // 6.18 counts the datagram as forwarded once its TTL is good, before the MTU check
  // (a Frag Needed drop is both ForwDatagrams and FragFails, as the real kernel shows).
  net.ipv4.mib.ip.ForwDatagrams++;
  // ip_dst_mtu_maybe_forward(forwarding): the route's MTU metric or the device's, never a learned PMTU.
  const mtu = Math.min(rt.dev.mtu, 0xffff);
  if (ipExceedsMtu(skb, mtu)) {
    net.ipv4.mib.ip.FragFails++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP.FRAG_NEEDED, mtu);
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  skbCow(skb);
  ipDecreaseTtl(skb);
  // "We now generate an ICMP HOST REDIRECT giving the route we calculated." (Linux spares
  // source-routed packets; lonet accepts no source route options.)
  if (rt.rtFlags & RTCF.DOREDIRECT) ipRtSendRedirect(net, skb, rt);
  return ipForwardFinish(net, skb);
}

/** ip_decrease_ttl(): one less, the checksum mended incrementally (RFC 1624) as Linux does. */
function ipDecreaseTtl(skb: SkBuff): void {
  const b = skb.head;
  const at = skb.networkHeader;
  b[at + 8] = (b[at + 8] as number) - 1;
  let check = (((b[at + 10] as number) << 8) | (b[at + 11] as number)) + 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  b[at + 10] = check >>> 8;
  b[at + 11] = check;
}

/** ip_forward_finish(): dst_output. */
function ipForwardFinish(_net: Net, skb: SkBuff): number {
  skb.tstamp = 0;
  return (skb.dst as Rtable).output(skb);
}

/** ip_rt_redirect_number, ip_rt_redirect_load (HZ/50) and ip_rt_redirect_silence ((HZ/50) << 10). */
const IP_RT_REDIRECT_NUMBER = 9;
const IP_RT_REDIRECT_LOAD = 20e6;
const IP_RT_REDIRECT_SILENCE = IP_RT_REDIRECT_LOAD * 1024;

/**
 * ip_rt_send_redirect(): a Host Redirect to the sender, naming the next hop. Per sender,
 * with exponential backoff (20 ms << redirects sent), silent after 9 until the sender has
 * been quiet for ~20 s; the sender's inet_peer is the one ip_error draws on.
 */
function ipRtSendRedirect(net: Net, skb: SkBuff, rt: Rtable): void {
  const inDev = inDevGet(rt.dev);
  if (inDev === null || !inDevTxRedirects(inDev)) return;
  const iph = ipHdr(skb);
  const peer = inetGetpeerV4(net, iph.src);
  const now = net.kernel.clock.now();
  if (now > peer.last + IP_RT_REDIRECT_SILENCE) {
    peer.tokens = 0;
    peer.nRedirects = 0;
  }
  if (peer.nRedirects >= IP_RT_REDIRECT_NUMBER) {
    peer.last = now;
    return;
  }
  if (peer.nRedirects === 0 || now > peer.last + IP_RT_REDIRECT_LOAD * 2 ** peer.nRedirects) {
    icmpSend(skb, ICMP.REDIRECT, ICMP.REDIR_HOST, rt.rtGateway !== 0 ? rt.rtGateway : iph.dst);
    peer.last = now;
    peer.nRedirects++;
  }
}

/** ip_rt_error_cost (HZ) and ip_rt_error_burst (5 * HZ), in nanoseconds. */
const IP_RT_ERROR_COST = 1e9;
const IP_RT_ERROR_BURST = 5e9;

/** ip_error(): the input of a route to nowhere. */
export function ipError(skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const inDev = inDevGet(dev);
  const rt = skb.dst as Rtable;
  const net = rt.dev.net as Net;
  if (inDev === null) {
    kfreeSkb(skb);
    return 0;
  }
  const mib = net.ipv4.mib;
  if (!inDevForward(inDev)) {
    if (rt.dstError === E.EHOSTUNREACH) mib.ip.InAddrErrors++;
    else if (rt.dstError === E.ENETUNREACH) mib.ipExt.InNoRoutes++;
    kfreeSkb(skb);
    return 0;
  }
  let code: number;
  switch (rt.dstError) {
    case E.EHOSTUNREACH:
      code = ICMP.HOST_UNREACH;
      break;
    case E.ENETUNREACH:
      code = ICMP.NET_UNREACH;
      mib.ipExt.InNoRoutes++;
      break;
    case E.EACCES:
      code = ICMP.PKT_FILTERED;
      break;
    default:
      kfreeSkb(skb);
      return 0;
  }
  const now = net.kernel.clock.now();
  // The sender's inet_peer: the same tokens icmp_send's per-host limit then draws on.
  const peer = inetGetpeerV4(net, ipHdr(skb).src);
  peer.tokens = Math.min(IP_RT_ERROR_BURST, peer.tokens + (now - peer.last));
  peer.last = now;
  let send = true;
  if (peer.tokens >= IP_RT_ERROR_COST) peer.tokens -= IP_RT_ERROR_COST;
  else send = false;
  if (send) icmpSend(skb, ICMP.DEST_UNREACH, code, 0);
  kfreeSkb(skb);
  return 0;
}

/** The inputs route.ts gives forwarded and unroutable packets (no import cycle). */
export function ipForwardInit(): void {
  ipRouteHandlers.forward = ipForward;
  ipRouteHandlers.error = ipError;
}
