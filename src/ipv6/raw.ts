/**
 * net/ipv6/raw.c: raw IPv6 sockets. Unlike IPv4, what they receive starts at the
 * upper-layer header (no IPv6 header), and for ICMPv6 the kernel computes the
 * checksum of what they send (IPV6_CHECKSUM is implied at offset 2). ping -6 uses one.
 */

import { DatagramQueue } from '../core/datagram.js';
import { IFF } from '../core/if.js';
import { allocSkb, kfreeSkb, pskbMayPull, type SkBuff, skbCopyBits, skbPut } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { Icmpv6Header } from '../wire/icmpv6.js';
import { Ipv6Header, NEXTHDR } from '../wire/ipv6.js';
import { ipv6AddrAny, ipv6AddrEqual } from './addr.js';
import { icmpv6OutCount } from './icmp.js';
import { IPV6_MAX_HEADROOM, ip6XmitDgram } from './ip6-output.js';
import { fib6Lookup, ip6RouteOutput } from './route.js';

export interface Raw6Datagram {
  /** The upper-layer message (for ICMPv6: type, code, checksum, …). */
  data: Uint8Array;
  /** Source address of the packet. */
  from: Uint8Array;
  /** The IPv6 hop limit it arrived with (IPV6_RECVHOPLIMIT). */
  hopLimit: number;
  /** inet6_iif(): the device it came in on (a local packet's: the one holding its address). */
  ifindex: number;
  tstamp: number;
}

const tables = new WeakMap<Net, Set<Raw6Sock>>();

function rawTable(net: Net): Set<Raw6Sock> {
  let t = tables.get(net);
  if (t === undefined) {
    t = new Set();
    tables.set(net, t);
  }
  return t;
}

export class Raw6Sock {
  boundAddr = new Uint8Array(16);
  /** IPV6_UNICAST_HOPS; -1 means the route's (net.ipv6.conf hop_limit). */
  hopLimit = -1;
  /** SO_BINDTODEVICE's ifindex (0: none). */
  bindDevIfindex = 0;
  /** ICMP6_FILTER: a bit per ICMPv6 type to block (256 bits). */
  readonly icmp6Filter = new Uint32Array(8);
  /** The receive queue, bounded by SO_RCVBUF (net.core.rmem_default to start). */
  readonly queue: DatagramQueue<Raw6Datagram>;

  constructor(
    readonly net: Net,
    readonly protocol: number,
  ) {
    this.queue = new DatagramQueue(net.core.rmem_default);
    rawTable(net).add(this);
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  /**
   * rawv6_sendmsg(): returns bytes sent or -errno. `scopeId` is sin6_scope_id: the
   * outgoing device of a link-local destination, unless the socket is bound to one.
   */
  sendto(daddr: Uint8Array, payload: Uint8Array, scopeId = 0): number {
    if (this.queue.closed) return -E.EBADF;
    if (ipv6AddrAny(daddr)) return -E.EDESTADDRREQ;
    const net = this.net;
    const oif = this.bindDevIfindex || scopeId;
    const fl6 = { daddr: daddr.slice(), saddr: this.boundAddr.slice(), oif, proto: this.protocol };
    const rt = ip6RouteOutput(net, fl6);
    if (typeof rt === 'number') return rt;
    if (payload.byteLength + 40 > 0xffff + 40) return -E.EMSGSIZE;
    const skb = allocSkb(payload.byteLength, IPV6_MAX_HEADROOM);
    const at = skbPut(skb, payload.byteLength);
    skb.head.set(payload, at);
    let flowKey = 0;
    if (this.protocol === NEXTHDR.ICMP && payload.byteLength >= 4) {
      const h = new Icmpv6Header(skb.head, at, payload.byteLength);
      h.fillChecksum(fl6.saddr, fl6.daddr);
      icmpv6OutCount(net, h.type);
      flowKey = (h.type << 8) | h.code;
    }
    const err = ip6XmitDgram(net, skb, fl6.saddr, fl6.daddr, rt, {
      nexthdr: this.protocol,
      hopLimit: this.hopLimit >= 0 ? this.hopLimit : net.ipv6.sysctl.hop_limit,
      tclass: 0,
      flowKey,
    });
    return err < 0 ? err : payload.byteLength;
  }

  enqueue(skb: SkBuff): void {
    const tstamp = skb.tstamp || this.net.kernel.clock.realtime();
    this.queue.push(datagram(this.net, skb, tstamp), skb.truesize);
    kfreeSkb(skb);
  }

  recv(): Raw6Datagram | null {
    return this.queue.shift();
  }

  recvAsync(signal?: AbortSignal): Promise<Raw6Datagram | null> {
    return this.queue.wait(signal);
  }

  close(): void {
    if (this.queue.closed) return;
    rawTable(this.net).delete(this);
    this.queue.close();
  }
}

function datagram(net: Net, skb: SkBuff, tstamp: number): Raw6Datagram {
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  let dev = skb.dev;
  // Over lo the route's device is the one the local address lives on (ip6_dst_idev).
  if (dev !== null && dev.flags & IFF.LOOPBACK) dev = fib6Lookup(net, ip6.dst, 0)?.dev ?? dev;
  return {
    data: skbCopyBits(skb, 0, skb.len),
    from: ip6.src.slice(),
    hopLimit: ip6.hopLimit,
    ifindex: dev?.ifindex ?? 0,
    tstamp,
  };
}

/** ipv6_raw_deliver(): a copy to each raw socket of this protocol whose filters let it through. */
export function raw6LocalDeliver(net: Net, skb: SkBuff, protocol: number): boolean {
  const socks = tables.get(net);
  if (socks === undefined || socks.size === 0) return false;
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  let delivered = false;
  for (const sk of socks) {
    if (sk.protocol !== protocol) continue;
    if (!ipv6AddrAny(sk.boundAddr) && !ipv6AddrEqual(sk.boundAddr, ip6.dst)) continue;
    delivered = true;
    if (protocol === NEXTHDR.ICMP && pskbMayPull(skb, 1)) {
      const type = skb.head[skb.data] as number;
      if (((sk.icmp6Filter[type >> 5] as number) >>> (type & 31)) & 1) continue;
    }
    sk.enqueue(skb.clone());
  }
  return delivered;
}
