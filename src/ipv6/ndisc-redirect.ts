/**
 * ndisc.c's redirects and route.c's rt6_do_redirect(). A router forwarding a packet out
 * the link it came in on tells the sender of a better first hop (its link-local target,
 * or the destination itself when that is on-link), from its own link-local address, with
 * the target's link-layer address when known and as much of the packet as fits in 1280
 * bytes; at most one a second per sender. A host believes a redirect only from the
 * router its route to that destination goes through, while it does not forward and
 * accepts redirects: the target becomes a STALE neighbour (a router unless on-link) and
 * the destination gets a cached route through it.
 */
import { NEIGH_UPDATE_F, NUD, NUD_VALID, neighUpdate } from '../core/neighbour.js';
import type { NetDevice } from '../core/netdevice.js';
import { type SkBuff, skbCopyBits } from '../core/skbuff.js';
import { IFA_F } from '../ipv4/devinet.js';
import { inetGetpeerV6, inetPeerXrlimAllow } from '../ipv4/inetpeer.js';
import type { Net } from '../net/net.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, Ipv6Header, NEXTHDR } from '../wire/ipv6.js';
import { ipv6AddrEqual, ipv6AddrMulticast } from './addr.js';
import { in6DevGet } from './addrconf.js';
import { ND_OPT, ndiscParseOptions, ndiscRedirectHook, ndiscSend } from './ndisc.js';
import { fib6Lookup, IPV6_MIN_MTU, ip6RouteOutput, rt6InsertRedirect } from './route.js';

const isLinkLocal = (a: Uint8Array): boolean => a[0] === 0xfe && ((a[1] as number) & 0xc0) === 0x80;

/** ndisc_send_redirect(): `skb` is being forwarded out the device it came in on, toward `target`. */
export function ndiscSendRedirect(skb: SkBuff, target: Uint8Array): void {
  const dev = skb.dev as NetDevice;
  const net = dev.net as Net;
  const ll = in6DevGet(dev)?.addrList.find((a) => isLinkLocal(a.addr) && !(a.flags & IFA_F.TENTATIVE));
  if (ll === undefined) return;
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  const dest = ip6.dst.slice();
  const src = ip6.src.slice();
  // "Redirect: target address is not link-local unicast".
  if (!ipv6AddrEqual(dest, target) && !isLinkLocal(target)) return;
  // The sender must be a neighbour itself.
  const rt = ip6RouteOutput(net, { daddr: src, saddr: ll.addr.slice(), oif: dev.ifindex, proto: NEXTHDR.ICMP });
  if (typeof rt === 'number' || rt.gateway !== null) return;
  if (!inetPeerXrlimAllow(inetGetpeerV6(net, src), 1e9, net.kernel.clock.now())) return;
  const parts: Uint8Array[] = [target, dest];
  const n = net.ipv6.ndTbl.lookupOrCreate(target.slice(), dev);
  if (n.nudState & NUD_VALID) {
    const o = new Uint8Array(8);
    o[0] = ND_OPT.TARGET_LL_ADDR;
    o[1] = 1;
    o.set(n.ha.subarray(0, 6), 2);
    parts.push(o);
  }
  // The redirected header option: as much of the packet as fits the minimum MTU, in 8s.
  const netoff = skb.networkHeader - skb.data;
  const rdLen = Math.min(IPV6_MIN_MTU - IPV6_HEADER_LEN - 40, skb.len - netoff + 8) & ~7;
  const rh = new Uint8Array(rdLen);
  rh[0] = ND_OPT.REDIRECT_HDR;
  rh[1] = rdLen >> 3;
  rh.set(skbCopyBits(skb, netoff, rdLen - 8), 8);
  parts.push(rh);
  const body = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  ndiscSend(dev, ll.addr, src, ICMPV6.NDISC_REDIRECT, 0, body);
}

/** ndisc_redirect_rcv() → ip6_redirect() → rt6_do_redirect(). `msg` starts at the ICMPv6 header. */
function ndiscRedirectRcv(dev: NetDevice, ip6: Ipv6Header, msg: Uint8Array): void {
  if (!isLinkLocal(ip6.src) || msg.length < 40) return;
  const target = msg.slice(8, 24);
  const dest = msg.slice(24, 40);
  const opts = ndiscParseOptions(msg, 40);
  if (opts === null) return;
  const net = dev.net as Net;
  // ip6_redirect(): the route for the quoted packet's destination (ip6_redirect_no_header:
  // the message's) must go through the sender of the redirect, on this device.
  const rh = opts.get(ND_OPT.REDIRECT_HDR);
  const quoted = rh !== undefined && rh.length >= 6 + IPV6_HEADER_LEN ? new Ipv6Header(rh, 6).dst.slice() : dest;
  const f6i = fib6Lookup(net, quoted, dev.ifindex);
  if (f6i?.gateway === undefined || f6i.dev !== dev || !ipv6AddrEqual(f6i.gateway, ip6.src)) return;
  if (ipv6AddrMulticast(dest)) return;
  const onLink = ipv6AddrEqual(dest, target);
  if (!onLink && !isLinkLocal(target)) return;
  const cnf = in6DevGet(dev)?.cnf.data;
  if (cnf === undefined || cnf.forwarding || !cnf.accept_redirects) return;
  const tll = opts.get(ND_OPT.TARGET_LL_ADDR);
  const lladdr = tll !== undefined && tll.length >= dev.addrLen ? tll.slice(0, dev.addrLen) : null;
  const n = net.ipv6.ndTbl.lookupOrCreate(target, dev);
  neighUpdate(
    n,
    lladdr,
    NUD.STALE,
    NEIGH_UPDATE_F.WEAK_OVERRIDE |
      NEIGH_UPDATE_F.OVERRIDE |
      (onLink ? 0 : NEIGH_UPDATE_F.OVERRIDE_ISROUTER | NEIGH_UPDATE_F.ISROUTER),
  );
  rt6InsertRedirect(net, dest, onLink ? null : target);
}

export function ndiscRedirectInit(): void {
  ndiscRedirectHook.rcv = ndiscRedirectRcv;
}
