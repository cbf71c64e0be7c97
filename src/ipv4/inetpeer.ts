/**
 * net/ipv4/inetpeer.c, the part rate limits use: one struct inet_peer per remote
 * address and namespace, whose rate_tokens/rate_last are shared by ip_error's
 * unreachables and icmp_send's per-host limit (a burst of Time Exceeded eats into the
 * Host Unreachables the same host may get). A new peer's rate_last is a minute ago.
 */
import type { Net } from '../net/net.js';

export interface InetPeer {
  /** rate_tokens, in clock nanoseconds of credit. */
  tokens: number;
  /** rate_last, clock nanoseconds. */
  last: number;
  /** n_redirects: redirects sent since the last quiet spell. */
  nRedirects: number;
}

/** net->ipv4.peers (number keys) and net->ipv6.peers (string keys). */
const peers = new WeakMap<Net, Map<number | string, InetPeer>>();

/** inet_getpeer_v4(): the peer for `addr`, made on first use. */
export function inetGetpeerV4(net: Net, addr: number): InetPeer {
  return inetGetpeer(net, addr);
}

/** inet_getpeer_v6(): the peer for an IPv6 address. */
export function inetGetpeerV6(net: Net, addr: Uint8Array): InetPeer {
  let key = '';
  for (const b of addr) key += b.toString(16).padStart(2, '0');
  return inetGetpeer(net, key);
}

function inetGetpeer(net: Net, addr: number | string): InetPeer {
  let map = peers.get(net);
  if (map === undefined) {
    map = new Map();
    peers.set(net, map);
  }
  let p = map.get(addr);
  if (p === undefined) {
    p = { tokens: 0, last: net.kernel.clock.now() - 60e9, nRedirects: 0 };
    map.set(addr, p);
  }
  return p;
}

/** XRLIM_BURST_FACTOR: inet_peer_xrlim_allow lets six messages through at once. */
const XRLIM_BURST_FACTOR = 6;

/** inet_peer_xrlim_allow(): one message per `timeout` ns, bursts of six. */
export function inetPeerXrlimAllow(peer: InetPeer, timeout: number, now: number): boolean {
  let token = Math.min(peer.tokens + (now - peer.last), XRLIM_BURST_FACTOR * timeout);
  peer.last = now;
  let rc = false;
  if (token >= timeout) {
    token -= timeout;
    rc = true;
  }
  peer.tokens = token;
  return rc;
}
