/**
 * net/ipv4/ping.c: ping sockets (socket(AF_INET[6], SOCK_DGRAM, IPPROTO_ICMP[V6])), the
 * unprivileged way to ping. Each socket owns an ICMP identifier, as a UDP socket owns
 * a port: the kernel writes it into every echo request sent and hands the socket only
 * the replies that carry it. Creation is allowed only to groups in
 * net.ipv4.ping_group_range, whose default "1 0" allows nobody (not even root; that is
 * why iputils falls back to a raw socket).
 */

import { DatagramQueue } from '../core/datagram.js';
import { allocSkb, kfreeSkb, type SkBuff, skbCopyBits, skbPut } from '../core/skbuff.js';
import { datagramTruesize } from '../core/sock.js';
import { E } from '../include/errno.js';
import { ipv6AddrAny } from '../ipv6/addr.js';
import { icmpv6OutCount } from '../ipv6/icmp.js';
import { IPV6_MAX_HEADROOM, ip6XmitDgram } from '../ipv6/ip6-output.js';
import { ip6RouteOutput } from '../ipv6/route.js';
import type { Net } from '../net/net.js';
import { ICMP, IcmpHeader } from '../wire/icmp.js';
import { ICMPV6, Icmpv6Header } from '../wire/icmpv6.js';
import { IPPROTO, Ipv4Header } from '../wire/ipv4.js';
import { Ipv6Header, NEXTHDR } from '../wire/ipv6.js';
import { flowi4 } from './fib.js';
import { icmpOutCount } from './icmp.js';
import { IPV4_MAX_HEADROOM, ipSendSkbDgram } from './ip-output.js';
import { ipRouteOutputKey, RTCF } from './route.js';

export interface PingDatagram {
  /** The ICMP message, from its type byte on. */
  data: Uint8Array;
  /** Sender: a u32 for IPv4, 16 bytes for IPv6. */
  from: number | Uint8Array;
  ttl: number;
  tstamp: number;
}

interface PingTable {
  v4: Map<number, PingSock>;
  v6: Map<number, PingSock>;
}

const tables = new WeakMap<Net, PingTable>();

function table(net: Net): PingTable {
  let t = tables.get(net);
  if (t === undefined) {
    t = { v4: new Map(), v6: new Map() };
    tables.set(net, t);
  }
  return t;
}

/** ping_group_range: which group ids may open ping sockets. */
export function pingGroupAllowed(net: Net, gid: number): boolean {
  const [lo, hi] = net.ipv4.pingGroupRange;
  return gid >= lo && gid <= hi;
}

export class PingSock {
  /** The ICMP identifier this socket owns (inet_num); 0 until bound. */
  ident = 0;
  ttl = -1;
  /** The receive queue, bounded by SO_RCVBUF (net.core.rmem_default to start). */
  readonly queue: DatagramQueue<PingDatagram>;

  private constructor(
    readonly net: Net,
    readonly family: 4 | 6,
  ) {
    this.queue = new DatagramQueue(net.core.rmem_default);
  }

  /** ping_init_sock(): EACCES unless `gid` is within net.ipv4.ping_group_range. */
  static create(net: Net, family: 4 | 6, gid = 0): PingSock | number {
    if (!pingGroupAllowed(net, gid)) return -E.EACCES;
    return new PingSock(net, family);
  }

  /** ping_get_port(): a free identifier (the given one, or the next free from a random start). */
  bind(ident = 0): number {
    if (this.ident !== 0) return -E.EINVAL;
    const socks = this.family === 4 ? table(this.net).v4 : table(this.net).v6;
    if (ident === 0) {
      let candidate = (crypto.getRandomValues(new Uint16Array(1))[0] as number) || 1;
      for (let i = 0; i < 0xffff && socks.has(candidate); i++) candidate = (candidate % 0xffff) + 1;
      if (socks.has(candidate)) return -E.EAGAIN;
      ident = candidate;
    } else if (socks.has(ident)) {
      return -E.EADDRINUSE;
    }
    this.ident = ident;
    socks.set(ident, this);
    return 0;
  }

  /**
   * ping_v4_sendmsg / ping_v6_sendmsg: `msg` must be an echo request; the kernel sets
   * its identifier to the socket's and computes the checksum. Returns bytes or -errno.
   */
  sendto(daddr: number | Uint8Array, msg: Uint8Array): number {
    if (this.queue.closed) return -E.EBADF;
    if (msg.byteLength < 8 || msg.byteLength > 0xffff - 48) return msg.byteLength < 8 ? -E.EINVAL : -E.EMSGSIZE;
    const want = this.family === 4 ? ICMP.ECHO : ICMPV6.ECHO_REQUEST;
    if (msg[0] !== want || msg[1] !== 0) return -E.EINVAL;
    if (this.ident === 0) {
      const err = this.bind();
      if (err < 0) return err;
    }
    const net = this.net;
    if (this.family === 4) {
      if (typeof daddr !== 'number') return -E.EAFNOSUPPORT;
      const fl4 = flowi4({ daddr, proto: IPPROTO.ICMP });
      const rt = ipRouteOutputKey(net, fl4);
      if (typeof rt === 'number') return rt;
      if (rt.rtFlags & RTCF.BROADCAST) return -E.EACCES;
      const skb = allocSkb(msg.byteLength, IPV4_MAX_HEADROOM);
      skb.truesize = datagramTruesize(msg.byteLength, 20, 0);
      const at = skbPut(skb, msg.byteLength);
      skb.head.set(msg, at);
      const h = new IcmpHeader(skb.head, at, msg.byteLength);
      h.id = this.ident;
      h.fillChecksum();
      icmpOutCount(net, ICMP.ECHO);
      const ttl = this.ttl >= 0 ? this.ttl : net.ipv4.sysctl.ip_default_ttl;
      const err = ipSendSkbDgram(net, skb, fl4, rt, {
        protocol: IPPROTO.ICMP,
        ttl,
        tos: 0,
        df: msg.byteLength + 20 <= rt.mtu,
        ignoreDf: true,
        inetId: null,
      });
      return err < 0 ? err : msg.byteLength;
    }
    if (typeof daddr === 'number' || ipv6AddrAny(daddr)) return -E.EINVAL;
    const fl6 = { daddr: daddr.slice(), saddr: new Uint8Array(16), oif: 0, proto: NEXTHDR.ICMP };
    const rt = ip6RouteOutput(net, fl6);
    if (typeof rt === 'number') return rt;
    const skb = allocSkb(msg.byteLength, IPV6_MAX_HEADROOM);
    skb.truesize = datagramTruesize(msg.byteLength, 40, 0);
    const at = skbPut(skb, msg.byteLength);
    skb.head.set(msg, at);
    const h = new Icmpv6Header(skb.head, at, msg.byteLength);
    h.id = this.ident;
    h.fillChecksum(fl6.saddr, fl6.daddr);
    icmpv6OutCount(net, ICMPV6.ECHO_REQUEST);
    const err = ip6XmitDgram(net, skb, fl6.saddr, fl6.daddr, rt, {
      nexthdr: NEXTHDR.ICMP,
      hopLimit: this.ttl >= 0 ? this.ttl : net.ipv6.sysctl.hop_limit,
      tclass: 0,
      flowKey: ICMPV6.ECHO_REQUEST << 8,
    });
    return err < 0 ? err : msg.byteLength;
  }

  /** ping_queue_rcv_skb(). */
  enqueue(skb: SkBuff): void {
    const bytes = skbCopyBits(skb, 0, skb.len);
    let from: number | Uint8Array;
    let ttl: number;
    if (this.family === 4) {
      const iph = new Ipv4Header(skb.head, skb.networkHeader);
      from = iph.src;
      ttl = iph.ttl;
    } else {
      const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
      from = ip6.src.slice();
      ttl = ip6.hopLimit;
    }
    this.queue.push({ data: bytes, from, ttl, tstamp: skb.tstamp || this.net.kernel.clock.realtime() }, skb.truesize);
    kfreeSkb(skb);
  }

  recv(): PingDatagram | null {
    return this.queue.shift();
  }

  recvAsync(signal?: AbortSignal): Promise<PingDatagram | null> {
    return this.queue.wait(signal);
  }

  close(): void {
    if (this.queue.closed) return;
    const socks = this.family === 4 ? table(this.net).v4 : table(this.net).v6;
    if (socks.get(this.ident) === this) socks.delete(this.ident);
    this.queue.close();
  }
}

/**
 * ping_rcv(): an echo reply goes to the ping socket owning its identifier. True if one
 * took it. `skb.data` is at the ICMP header.
 */
export function pingRcv(net: Net, skb: SkBuff, family: 4 | 6): boolean {
  const t = tables.get(net);
  if (t === undefined) return false;
  const socks = family === 4 ? t.v4 : t.v6;
  if (socks.size === 0 || skb.len < 8) return false;
  const ident = ((skb.head[skb.data + 4] as number) << 8) | (skb.head[skb.data + 5] as number);
  const sk = socks.get(ident);
  if (sk === undefined) return false;
  sk.enqueue(skb.clone());
  return true;
}
