/**
 * net/ipv4/raw.c: raw IPv4 sockets. A raw socket for a protocol gets a copy of every
 * packet of that protocol delivered to this namespace (IP header included), before
 * the protocol's own handler runs; it sends payloads to which IP adds the header.
 * iputils ping uses one for ICMP when ping sockets are not allowed (the default
 * net.ipv4.ping_group_range "1 0").
 */

import { DatagramQueue } from '../core/datagram.js';
import { allocSkb, kfreeSkb, pskbMayPull, type SkBuff, skbCopyDatagram, skbPut } from '../core/skbuff.js';
import { datagramTruesize } from '../core/sock.js';
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { IPPROTO, Ipv4Header } from '../wire/ipv4.js';
import { flowi4 } from './fib.js';
import { icmpOutCount } from './icmp.js';
import { IPV4_MAX_HEADROOM, ipSendSkbDgram } from './ip-output.js';
import { ipRouteOutputKey, RTCF } from './route.js';

/** A datagram a raw socket received: the IP packet and when it arrived (ns, CLOCK_REALTIME). */
export interface RawDatagram {
  data: Uint8Array;
  tstamp: number;
}

const tables = new WeakMap<Net, Set<RawSock>>();

function rawTable(net: Net): Set<RawSock> {
  let t = tables.get(net);
  if (t === undefined) {
    t = new Set();
    tables.set(net, t);
  }
  return t;
}

export class RawSock {
  /** inet_rcv_saddr: bound local address, 0 for any. */
  boundAddr = 0;
  /** inet_daddr: connected peer, 0 for none. */
  peerAddr = 0;
  /** IP_TTL; -1 means net.ipv4.ip_default_ttl. */
  ttl = -1;
  tos = 0;
  /** ICMP_FILTER: a bit per ICMP type to drop. */
  icmpFilter = 0;
  /** SO_BROADCAST. */
  broadcast = false;
  /** IP_MTU_DISCOVER: IP_PMTUDISC_DONT 0, WANT 1 (the default), DO 2, PROBE 3. */
  pmtudisc = 1;
  /** The receive queue, bounded by SO_RCVBUF (net.core.rmem_default to start). */
  readonly queue: DatagramQueue<RawDatagram>;

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

  /** raw_sendmsg() without IP_HDRINCL: returns bytes sent or -errno. */
  sendto(daddr: number, payload: Uint8Array): number {
    if (this.queue.closed) return -E.EBADF;
    const net = this.net;
    const fl4 = flowi4({ daddr: daddr || this.peerAddr, saddr: this.boundAddr, tos: this.tos, proto: this.protocol });
    if (fl4.daddr === 0) return -E.EDESTADDRREQ;
    const rt = ipRouteOutputKey(net, fl4);
    if (typeof rt === 'number') return rt;
    if (rt.rtFlags & RTCF.BROADCAST && !this.broadcast) return -E.EACCES;
    if (payload.byteLength + 20 > 0xffff) return -E.EMSGSIZE;
    // __ip_append_data(): with DO or PROBE a datagram above the MTU (the device's for PROBE,
    // ip_sk_use_pmtu) is a local error; iputils reads the MTU from the error queue.
    const pmtudisc = this.pmtudisc;
    if (pmtudisc >= 2 && payload.byteLength + 20 > (pmtudisc === 3 ? Math.min(rt.dev.mtu, 0xffff) : rt.mtu))
      return -E.EMSGSIZE;
    const skb = allocSkb(payload.byteLength, IPV4_MAX_HEADROOM);
    // ip_append_data's allocation: what a receiver's queue is charged (832 for an echo).
    skb.truesize = datagramTruesize(payload.byteLength, 20, 0);
    skb.head.set(payload, skbPut(skb, payload.byteLength));
    if (this.protocol === IPPROTO.ICMP && payload.byteLength >= 1) icmpOutCount(net, payload[0] as number);
    const ttl = this.ttl >= 0 ? this.ttl : net.ipv4.sysctl.ip_default_ttl;
    // __ip_make_skb(): DF always with DO and PROBE; with "want" while the packet fits a route
    // whose MTU is not locked, and then advisory (ip_sk_ignore_df).
    const df = pmtudisc >= 2 || (pmtudisc === 1 && payload.byteLength + 20 <= rt.mtu && !rt.mtuLocked);
    const err = ipSendSkbDgram(net, skb, fl4, rt, {
      protocol: this.protocol,
      ttl,
      tos: this.tos,
      df,
      ignoreDf: pmtudisc < 2,
      inetId: null,
    });
    return err < 0 ? err : payload.byteLength;
  }

  /** raw_rcv + sock_queue_rcv_skb: queue a copy, or drop it if the buffer is full. */
  enqueue(skb: SkBuff): void {
    this.#queueCopy(skb);
    kfreeSkb(skb);
  }

  /**
   * raw_rcv's copy, read from the packet itself: what enqueue(skb.clone()) queues, without
   * the clone (which nobody else would see, and whose release does nothing).
   */
  #queueCopy(skb: SkBuff): void {
    const tstamp = skb.tstamp || this.net.kernel.clock.realtime();
    this.queue.push({ data: datagramBytes(skb), tstamp }, skb.truesize);
  }

  /** raw_local_deliver's hand-off: a copy of `skb` for this socket; `skb` stays the caller's. */
  deliverCopy(skb: SkBuff): void {
    this.#queueCopy(skb);
  }

  /** recvmsg() without waiting: the next datagram, or null. */
  recv(): RawDatagram | null {
    return this.queue.shift();
  }

  /** recvmsg() that waits; resolves null if `signal` aborts or the socket closes. */
  recvAsync(signal?: AbortSignal): Promise<RawDatagram | null> {
    return this.queue.wait(signal);
  }

  close(): void {
    if (this.queue.closed) return;
    rawTable(this.net).delete(this);
    this.queue.close();
  }
}

/** What recvmsg on a raw socket returns: the IP header and everything after it. */
function datagramBytes(skb: SkBuff): Uint8Array {
  return skbCopyDatagram(skb, skb.networkHeader - skb.data, skb.len + (skb.data - skb.networkHeader));
}

/**
 * raw_local_deliver() / raw_v4_input(): a copy to every raw socket of this protocol
 * whose bound and connected addresses fit; ICMP_FILTER applies to ICMP.
 * True when at least one socket took a copy.
 */
export function rawLocalDeliver(net: Net, skb: SkBuff, protocol: number): boolean {
  const socks = tables.get(net);
  if (socks === undefined || socks.size === 0) return false;
  const iph = new Ipv4Header(skb.head, skb.networkHeader);
  let delivered = false;
  for (const sk of socks) {
    if (sk.protocol !== protocol) continue;
    if (sk.peerAddr !== 0 && sk.peerAddr !== iph.src) continue;
    if (sk.boundAddr !== 0 && sk.boundAddr !== iph.dst) continue;
    delivered = true;
    if (protocol === IPPROTO.ICMP && pskbMayPull(skb, 1)) {
      const type = skb.head[skb.data] as number;
      if (type < 32 && sk.icmpFilter & (1 << type)) continue;
    }
    sk.deliverCopy(skb);
  }
  return delivered;
}
