/**
 * UDP for IPv4 and IPv6 (net/ipv4/udp.c, net/ipv6/udp.c), one port space for both, as
 * in Linux: an IPv6 socket that is not v6only also receives IPv4 (as ::ffff:a.b.c.d).
 *
 * Send: autobind to an ephemeral port from net.ipv4.ip_local_port_range, route (a
 * connected socket keeps its route), copy the payload once into the skb (as
 * ip_append_data does), charge it to the send buffer until lo orphans it, and leave
 * the checksum CHECKSUM_PARTIAL — the pseudo-header sum only, as lo's HW_CSUM lets
 * Linux do. Receive: partial checksums are trusted, anything else is verified; the
 * best-matching socket gets it, or ICMP port unreachable goes back; a full receive
 * buffer drops and counts RcvbufErrors and InErrors. Counters are /proc/net/snmp's
 * Udp row and snmp6's Udp6 lines.
 */

import { DatagramQueue } from '../core/datagram.js';
import {
  allocSkb,
  CHECKSUM,
  ipHdr,
  kfreeSkb,
  pskbMayPull,
  pskbTrim,
  type SkBuff,
  skbChecksum,
  skbCopyBits,
  skbPut,
} from '../core/skbuff.js';
import { datagramTruesize, Sock } from '../core/sock.js';
import { E } from '../include/errno.js';
import { type Flowi4, flowi4, RTN } from '../ipv4/fib.js';
import { inetAddrType } from '../ipv4/fib-frontend.js';
import { icmpSend } from '../ipv4/icmp.js';
import { type IpMcSocklist, ipMcDropSocket, ipMcSfAllow } from '../ipv4/igmp.js';
import { IPV4_MAX_HEADROOM, ipSendSkbDgram } from '../ipv4/ip-output.js';
import { inet6AddProtocol, inetAddProtocol } from '../ipv4/protocol.js';
import { ipRouteOutputKey, ipv4IsMulticast, RouteCache, RTCF, type Rtable } from '../ipv4/route.js';
import { IN6ADDR_ANY, ipv6AddrAny, ipv6AddrEqual, ipv6AddrMulticast } from '../ipv6/addr.js';
import { icmpv6Send } from '../ipv6/icmp.js';
import { IPV6_MAX_HEADROOM, ip6XmitDgram } from '../ipv6/ip6-output.js';
import { type Ipv6McSocklist, ipv6SockMcClose } from '../ipv6/mcast.js';
import { fib6Lookup, ip6RouteOutput } from '../ipv6/route.js';
import type { Kernel } from '../kernel/kernel.js';
import { getRandomU16, getRandomU32Below } from '../kernel/random.js';
import type { Net } from '../net/net.js';
import { csumFold, csumPseudo, csumTcpudpNofold } from '../wire/checksum.js';
import { ICMP } from '../wire/icmp.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { IPPROTO, Ipv4Header } from '../wire/ipv4.js';
import { Ipv6Header } from '../wire/ipv6.js';
import { UdpHeader } from '../wire/udp.js';

export const UDP_HEADER_LEN = 8;
const PAGE_SIZE = 4096;
/** The largest payloads: 65535 less the IP and UDP headers (IPv6's header is not in its length). */
export const UDP_MAX_PAYLOAD_V4 = 0xffff - 20 - UDP_HEADER_LEN;
export const UDP_MAX_PAYLOAD_V6 = 0xffff - UDP_HEADER_LEN;

/** An address as the socket layer keeps it: 16 bytes, IPv4 as ::ffff:a.b.c.d. */
export type In6Addr = Uint8Array;

export function v4Mapped(addr: number): In6Addr {
  const a = new Uint8Array(16);
  a[10] = 0xff;
  a[11] = 0xff;
  a[12] = addr >>> 24;
  a[13] = (addr >>> 16) & 255;
  a[14] = (addr >>> 8) & 255;
  a[15] = addr & 255;
  return a;
}

export function isV4Mapped(a: In6Addr): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

export function mappedV4(a: In6Addr): number {
  return (((a[12] as number) << 24) | ((a[13] as number) << 16) | ((a[14] as number) << 8) | (a[15] as number)) >>> 0;
}

/** A received datagram, as recvmsg returns it. */
export interface UdpDatagram {
  data: Uint8Array;
  /** The sender, v4-mapped when it came over IPv4. */
  address: In6Addr;
  port: number;
  /** 4 if it arrived over IPv4. */
  family: 4 | 6;
}

interface UdpTable {
  byPort: Map<number, Set<UdpSock>>;
}

const tables = new WeakMap<Net, UdpTable>();

/** The namespace udpTable() last answered for: a socket's packets keep asking for the same one. */
let lastNet: Net | null = null;
let lastTable: UdpTable | null = null;

function udpTable(net: Net): UdpTable {
  if (net === lastNet && lastTable !== null) return lastTable;
  let t = tables.get(net);
  if (t === undefined) {
    t = { byPort: new Map() };
    tables.set(net, t);
  }
  lastNet = net;
  lastTable = t;
  return t;
}

/** Sockets bound in a namespace, for ss and /proc/net/udp. */
export function udpSockets(net: Net): UdpSock[] {
  const out: UdpSock[] = [];
  for (const set of udpTable(net).byPort.values()) out.push(...set);
  return out;
}

/** A bound inet socket as the bind rules see it (UDP and TCP alike). */
export interface InetBinding {
  readonly family: 4 | 6;
  readonly localAddr: In6Addr;
  readonly v6only: boolean;
}

/** What part of the address space a bound socket covers, per family. */
export function covers(sk: InetBinding): { v4: 'any' | number | null; v6: 'any' | In6Addr | null } {
  const a = sk.localAddr;
  if (sk.family === 4) return { v4: ipv6AddrAny(a) || mappedV4(a) === 0 ? 'any' : mappedV4(a), v6: null };
  if (ipv6AddrAny(a)) return { v4: sk.v6only ? null : 'any', v6: 'any' };
  if (isV4Mapped(a)) return { v4: mappedV4(a) === 0 ? 'any' : mappedV4(a), v6: null };
  return { v4: null, v6: a };
}

/** inet_rcv_saddr_equal() with wildcards: do two bindings overlap? */
export function bindingsOverlap(a: InetBinding, b: InetBinding): boolean {
  const ca = covers(a);
  const cb = covers(b);
  if (ca.v4 !== null && cb.v4 !== null && (ca.v4 === 'any' || cb.v4 === 'any' || ca.v4 === cb.v4)) return true;
  if (ca.v6 !== null && cb.v6 !== null) {
    if (ca.v6 === 'any' || cb.v6 === 'any') return true;
    return ipv6AddrEqual(ca.v6, cb.v6);
  }
  return false;
}

const uid = 0;

export class UdpSock extends Sock {
  /** IPV6_V6ONLY (net.ipv6.bindv6only by default); meaningless for IPv4 sockets. */
  v6only: boolean;
  reuseAddr = false;
  reusePort = false;
  /** SO_BROADCAST. */
  broadcast = false;
  /** IP_TTL / IPV6_UNICAST_HOPS; -1 for the default. */
  ttl = -1;
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (inet->mc_ttl): 1 unless set. */
  mcTtl = 1;
  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (inet->mc_loop). */
  mcLoop = true;
  /** IP_MULTICAST_IF's source address (inet->mc_addr), host order; 0 for the route's choice. */
  mcAddr = 0;
  /** IPV6_MULTICAST_IF's interface (np->mcast_oif). */
  mcOif = 0;
  /** inet->mc_list: IPv4 group memberships, newest first. */
  mcList: IpMcSocklist[] = [];
  /** np->ipv6_mc_list: IPv6 group memberships, newest first. */
  mc6List: Ipv6McSocklist[] = [];

  /**
   * setsockopt(IP_MULTICAST_IF, in_addr): 0.0.0.0 clears it; any other address must be one
   * of this host's (ip_dev_find), else EADDRNOTAVAIL.
   */
  setMulticastIf4(addr: number): number {
    if (addr !== 0 && inetAddrType(this.net, addr) !== RTN.LOCAL) return -E.EADDRNOTAVAIL;
    this.mcAddr = addr;
    return 0;
  }

  /** setsockopt(IPV6_MULTICAST_IF, ifindex): 0 or an existing device, else ENODEV. */
  setMulticastIf6(ifindex: number): number {
    if (ifindex !== 0 && this.net.devGetByIndex(ifindex) === undefined) return -E.ENODEV;
    this.mcOif = ifindex;
    return 0;
  }
  localAddr: In6Addr = new Uint8Array(16);
  localPort = 0;
  remoteAddr: In6Addr = new Uint8Array(16);
  remotePort = 0;
  /** The owner's uid, for SO_REUSEPORT groups (everyone is uid 0 here). */
  readonly uid = uid;
  readonly queue: DatagramQueue<UdpDatagram>;
  readonly #route = new RouteCache();
  /** inet->inet_id: the IP id counter of a connected socket. */
  readonly #inetId = { next: getRandomU16() };
  #closed = false;

  constructor(
    net: Net,
    readonly family: 4 | 6,
  ) {
    super(net);
    this.v6only = family === 6 && net.ipv6.sysctl.bindv6only !== 0;
    this.queue = new DatagramQueue(this.rcvbuf, (rmem, rcvbuf, size) => rmem + size > rcvbuf && rmem > 0);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bound(): boolean {
    return this.localPort !== 0;
  }

  get connected(): boolean {
    return this.remotePort !== 0;
  }

  override setRcvbuf(val: number): void {
    super.setRcvbuf(val);
    this.queue.rcvbuf = this.rcvbuf;
  }

  /**
   * inet_bind / inet6_bind + udp_v4_get_port: a local address of this namespace (or
   * any), a free port (0: an ephemeral one). -EADDRNOTAVAIL, -EADDRINUSE, -EINVAL.
   */
  bind(addr: In6Addr, port: number): number {
    if (this.#closed) return -E.EBADF;
    if (this.bound) return -E.EINVAL;
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) return -E.EINVAL;
    if (this.family === 4 || isV4Mapped(addr)) {
      if (this.family === 6 && this.v6only) return -E.EINVAL;
      const a = mappedV4(addr);
      const t = inetAddrType(this.net, a);
      // A 0.0.0.0, local, broadcast or multicast address binds; others are not this host's.
      if (a !== 0 && t !== RTN.LOCAL && t !== RTN.BROADCAST && t !== RTN.MULTICAST) return -E.EADDRNOTAVAIL;
    } else if (!ipv6AddrAny(addr) && !ipv6AddrMulticast(addr)) {
      const r = fib6Lookup(this.net, addr, 0);
      if (r === undefined || r.type !== RTN.LOCAL) return -E.EADDRNOTAVAIL;
    }
    this.localAddr = addr.slice();
    const err = this.getPort(port);
    // inet_bind(): an address or port the user chose stays through a disconnect (sk_userlocks).
    if (err === 0) {
      this.bindAddrLock = !ipv6AddrAny(addr) && !(isV4Mapped(addr) && mappedV4(addr) === 0);
      this.bindPortLock = port !== 0;
    }
    return err;
  }

  /** SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK. */
  bindAddrLock = false;
  bindPortLock = false;

  /** udp_lib_get_port(): the requested port if free, else a free ephemeral one from a random start. */
  getPort(port: number): number {
    const t = udpTable(this.net);
    const free = (p: number) => {
      for (const other of t.byPort.get(p) ?? []) {
        if (other === this) continue;
        const shared =
          (this.reuseAddr && other.reuseAddr) || (this.reusePort && other.reusePort && this.uid === other.uid);
        if (!shared && bindingsOverlap(this, other)) return false;
      }
      return true;
    };
    if (port === 0) {
      const [low, high] = this.net.ipv4.ipLocalPortRange;
      const span = high - low + 1;
      const start = getRandomU32Below(span);
      for (let i = 0; i < span; i++) {
        const p = low + ((start + i) % span);
        if (free(p)) {
          port = p;
          break;
        }
      }
      if (port === 0) return -E.EAGAIN;
    } else if (!free(port)) {
      this.localAddr = new Uint8Array(16);
      return -E.EADDRINUSE;
    }
    this.localPort = port;
    let set = t.byPort.get(port);
    if (set === undefined) {
      set = new Set();
      t.byPort.set(port, set);
    }
    set.add(this);
    return 0;
  }

  /** ip4_datagram_connect / ip6_datagram_connect: route now, remember the peer. */
  connect(addr: In6Addr, port: number): number {
    if (this.#closed) return -E.EBADF;
    if (port === 0) return -E.EINVAL;
    const v4 = this.family === 4 || isV4Mapped(addr);
    if (v4 && this.family === 6 && this.v6only) return -E.ENETUNREACH;
    const route = this.#routeTo(addr);
    if (typeof route === 'number') return route;
    if (!this.bound) {
      const err = this.getPort(0);
      if (err < 0) return err;
    }
    // The local address stays as bound; an unbound socket now reports the route's source.
    if (ipv6AddrAny(this.localAddr) || (isV4Mapped(this.localAddr) && mappedV4(this.localAddr) === 0)) {
      this.srcAddr = route.saddr;
    }
    this.remoteAddr = addr.slice();
    this.remotePort = port;
    this.#route.reset();
    return 0;
  }

  /** The source address a connected socket uses (inet_saddr) when bound to any. */
  srcAddr: In6Addr | null = null;

  /** udp_disconnect(): forget the peer (and a source that only the connect chose). */
  disconnect(): number {
    this.remoteAddr = new Uint8Array(16);
    this.remotePort = 0;
    this.srcAddr = null;
    this.#route.reset();
    // __udp_disconnect(): an autobound port is given back; the next send picks a new one.
    if (!this.bindAddrLock) this.localAddr = new Uint8Array(16);
    if (!this.bindPortLock && this.bound) {
      const t = udpTable(this.net);
      const set = t.byPort.get(this.localPort);
      set?.delete(this);
      if (set !== undefined && set.size === 0) t.byPort.delete(this.localPort);
      this.localPort = 0;
    }
    return 0;
  }

  /** Route to `addr`: the source address chosen, or -errno. */
  /** The IPv4 route for `fl4` to `addr`: the socket's cached one when connected to it (sk_dst), else a lookup. */
  #output4(addr: In6Addr, fl4: Flowi4): Rtable | number {
    if (this.connected && ipv6AddrEqual(addr, this.remoteAddr)) return this.#route.get(this.net, fl4);
    return ipRouteOutputKey(this.net, fl4);
  }

  #routeTo(addr: In6Addr): { saddr: In6Addr; rt4?: Rtable } | number {
    if (this.family === 4 || isV4Mapped(addr)) {
      const local = mappedV4(this.localAddr);
      const fl4 = flowi4({ daddr: mappedV4(addr), saddr: local, proto: IPPROTO.UDP });
      const rt = this.#output4(addr, fl4);
      if (typeof rt === 'number') return rt;
      return { saddr: v4Mapped(fl4.saddr), rt4: rt };
    }
    const fl6 = { daddr: addr.slice(), saddr: this.localAddr.slice(), oif: 0, proto: IPPROTO.UDP };
    const rt = ip6RouteOutput(this.net, fl6);
    if (typeof rt === 'number') return rt;
    return { saddr: fl6.saddr };
  }

  /**
   * udp_sendmsg / udpv6_sendmsg: `addr`/`port` for sendto, or null on a connected
   * socket. Returns the bytes sent or -errno (a pending ICMP error comes first).
   */
  sendto(payload: Uint8Array, addr: In6Addr | null, port: number): number {
    // A system call: process context on this socket's CPU, softirqs at its end.
    return this.net.kernel.runOn(this.cpu, () => this.#sendmsg(payload, addr, port));
  }

  #sendmsg(payload: Uint8Array, addr: In6Addr | null, port: number): number {
    if (this.#closed) return -E.EBADF;
    const net = this.net;
    const pending = this.takeError();
    if (pending !== 0) return pending;
    if (addr === null) {
      if (!this.connected) return -E.EDESTADDRREQ;
      addr = this.remoteAddr;
      port = this.remotePort;
    } else if (port === 0 || port > 0xffff) {
      return -E.EINVAL;
    }
    const v4 = this.family === 4 || isV4Mapped(addr);
    if (v4 && this.family === 6 && this.v6only) return -E.ENETUNREACH;
    if (payload.byteLength > (v4 ? UDP_MAX_PAYLOAD_V4 : UDP_MAX_PAYLOAD_V6)) return -E.EMSGSIZE;
    if (this.sndbufFull()) {
      (v4 ? net.ipv4.mib.udp : net.ipv6.mib.udp6).SndbufErrors++;
      return -E.EAGAIN;
    }
    if (!this.bound) {
      const err = this.getPort(0);
      if (err < 0) return err;
    }
    if (v4) {
      const err = this.#sendmsg4(payload, addr, port);
      if (err !== undefined) return err;
    } else {
      const err = this.#sendmsg6(payload, addr, port);
      if (err !== undefined) return err;
    }
    return payload.byteLength;
  }

  /** The IPv4 half of udp_sendmsg: the route (the socket's cached one when connected), the skb, ip_send_skb. */
  #sendmsg4(payload: Uint8Array, addr: In6Addr, port: number): number | undefined {
    const net = this.net;
    const daddr = mappedV4(addr);
    // To a group: IP_MULTICAST_IF's address is the source when the socket has none, and
    // the route is never the connected one's (udp_sendmsg's connected = 0).
    const mc = ipv4IsMulticast(daddr);
    const fl4 = flowi4({ daddr, saddr: mappedV4(this.localAddr) || (mc ? this.mcAddr : 0), proto: IPPROTO.UDP });
    const rt = mc ? ipRouteOutputKey(net, fl4) : this.#output4(addr, fl4);
    if (typeof rt === 'number') return rt;
    const saddr = fl4.saddr;
    const len = UDP_HEADER_LEN + payload.byteLength;
    const skb = allocSkb(len, IPV4_MAX_HEADROOM);
    const at = skbPut(skb, len);
    skb.truesize = datagramTruesize(payload.byteLength, 20);
    const b = skb.head;
    b.set(payload, at + UDP_HEADER_LEN);
    // struct udphdr, then the pseudo-header sum only (lo has NETIF_F_HW_CSUM): udp_set_csum's CHECKSUM_PARTIAL.
    const sport = this.localPort;
    const check = csumFold(csumTcpudpNofold(saddr, daddr, len, IPPROTO.UDP)) ^ 0xffff;
    b[at] = sport >>> 8;
    b[at + 1] = sport & 0xff;
    b[at + 2] = port >>> 8;
    b[at + 3] = port & 0xff;
    b[at + 4] = len >>> 8;
    b[at + 5] = len & 0xff;
    b[at + 6] = check >>> 8;
    b[at + 7] = check & 0xff;
    skb.ipSummed = CHECKSUM.PARTIAL;
    skb.csumStart = at;
    skb.csumOffset = 6;
    this.skbSetOwnerW(skb);
    if (rt.rtFlags & RTCF.BROADCAST && !this.broadcast) {
      kfreeSkb(skb);
      return -E.EACCES;
    }
    // The flow as the packet goes out: the destination asked for, the source the route chose.
    fl4.daddr = daddr;
    const err = ipSendSkbDgram(net, skb, fl4, rt, {
      protocol: IPPROTO.UDP,
      // A multicast route's packets leave with mc_ttl (ip_make_skb), others with IP_TTL.
      ttl: rt.rtType === RTN.MULTICAST ? this.mcTtl : this.ttl >= 0 ? this.ttl : net.ipv4.sysctl.ip_default_ttl,
      tos: 0,
      // PMTU discovery "want": DF while it fits, advisory (ignore_df).
      df: len + 20 <= rt.mtu,
      ignoreDf: true,
      inetId: this.connected ? this.#inetId : null,
    });
    return this.#sendResult(net.ipv4.mib.udp, err, payload.byteLength);
  }

  #sendmsg6(payload: Uint8Array, addr: In6Addr, port: number): number | undefined {
    const net = this.net;
    const route = this.#routeTo(addr);
    if (typeof route === 'number') return route;
    const saddr = route.saddr;
    const len = UDP_HEADER_LEN + payload.byteLength;
    const skb = allocSkb(len, IPV6_MAX_HEADROOM);
    const at = skbPut(skb, len);
    skb.truesize = datagramTruesize(payload.byteLength, 40);
    skb.head.set(payload, at + UDP_HEADER_LEN);
    const uh = new UdpHeader(skb.head, at);
    uh.srcPort = this.localPort;
    uh.dstPort = port;
    uh.length = len;
    // lo has NETIF_F_HW_CSUM: leave only the pseudo-header sum for the "device".
    uh.fillChecksumPartial({ src: saddr, dst: addr });
    skb.ipSummed = CHECKSUM.PARTIAL;
    skb.csumStart = at;
    skb.csumOffset = 6;
    this.skbSetOwnerW(skb);
    const rt = ip6RouteOutput(net, { daddr: addr.slice(), saddr: saddr.slice(), oif: 0, proto: IPPROTO.UDP });
    if (typeof rt === 'number') {
      kfreeSkb(skb);
      return rt;
    }
    const err = ip6XmitDgram(net, skb, saddr, addr, rt, {
      nexthdr: IPPROTO.UDP,
      hopLimit: this.ttl >= 0 ? this.ttl : net.ipv6.sysctl.hop_limit,
      tclass: 0,
      flowKey: (this.localPort << 16) | port,
    });
    return this.#sendResult(net.ipv6.mib.udp6, err, payload.byteLength);
  }

  /** What the device's answer means to the sender; undefined for sent (OutDatagrams counted). */
  #sendResult(mib: { SndbufErrors: number; OutDatagrams: number }, err: number, bytes: number): number | undefined {
    // A congested queue (NET_XMIT_CN) is not an error to the sender (net_xmit_errno); a
    // dropped one (-ENOBUFS) is SndbufErrors and still success without IP_RECVERR.
    if (err === -E.ENOBUFS) {
      mib.SndbufErrors++;
      return bytes;
    }
    if (err < 0) {
      mib.SndbufErrors += err === -E.EAGAIN ? 1 : 0;
      return err;
    }
    mib.OutDatagrams++;
    return undefined;
  }

  /** udp_recvmsg(): the next datagram, counted in InDatagrams as it is read. */
  recv(): UdpDatagram | null {
    const before = this.queue.rmemAlloc;
    const d = this.queue.shift();
    if (d !== null) {
      (d.family === 4 ? this.net.ipv4.mib.udp : this.net.ipv6.mib.udp6).InDatagrams++;
      // udp_rmem_release(partial): whole pages go back, at most one stays charged.
      this.forwardAlloc += before - this.queue.rmemAlloc;
      this.forwardAlloc -= (this.forwardAlloc - 1) & ~(PAGE_SIZE - 1);
    }
    return d;
  }

  /** The address getsockname() reports. */
  get sockname(): { addr: In6Addr; port: number } {
    return { addr: this.srcAddr ?? this.localAddr, port: this.localPort };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // inet_release(): memberships go with the socket.
    ipMcDropSocket(this);
    if (this.family === 6) ipv6SockMcClose(this);
    const set = udpTable(this.net).byPort.get(this.localPort);
    set?.delete(this);
    if (set !== undefined && set.size === 0) udpTable(this.net).byPort.delete(this.localPort);
    this.queue.close();
  }
}

/**
 * compute_score() for an IPv4 packet, addresses as numbers: -1 when the socket does not take
 * it, else more for a family match (2 for AF_INET), a bound address (+4) and a connected peer (+8).
 */
function computeScore4(sk: UdpSock, saddr: number, sport: number, daddr: number): number {
  if (sk.closed) return -1;
  const a = sk.localAddr;
  // covers().v4: the bound address, 0 for any; a v6 socket bound to a v6 address (or v6only) has none.
  let local: number;
  if (sk.family === 4) local = mappedV4(a);
  else if (ipv6AddrAny(a)) {
    if (sk.v6only) return -1;
    local = 0;
  } else if (isV4Mapped(a)) local = mappedV4(a);
  else return -1;
  let score = sk.family === 4 ? 2 : 1;
  if (local !== 0) {
    if (local !== daddr) return -1;
    score += 4;
  }
  if (sk.connected) {
    const r = sk.remoteAddr;
    if (!isV4Mapped(r) || mappedV4(r) !== saddr || sk.remotePort !== sport) return -1;
    score += 8;
  }
  return score;
}

/** compute_score() for an IPv6 packet. */
function computeScore6(sk: UdpSock, saddr: In6Addr, sport: number, daddr: In6Addr): number {
  if (sk.closed) return -1;
  const c = covers(sk).v6;
  if (c === null) return -1;
  let score = sk.family === 4 ? 2 : 1;
  if (c !== 'any') {
    if (!ipv6AddrEqual(c, daddr)) return -1;
    score += 4;
  }
  if (sk.connected) {
    if (!ipv6AddrEqual(sk.remoteAddr, saddr) || sk.remotePort !== sport) return -1;
    score += 8;
  }
  return score;
}

/**
 * The best socket in `set` by `score`; a SO_REUSEPORT group picks one by a hash of the
 * source (`hashAddr`, the 16-byte form, and sport). Makes no array.
 */
function udpSelect<A>(
  set: Set<UdpSock>,
  score: (sk: UdpSock, saddr: A, sport: number, daddr: A) => number,
  saddr: A,
  sport: number,
  daddr: A,
  hashAddr: In6Addr,
): UdpSock | undefined {
  let best: UdpSock | undefined;
  let bestScore = -1;
  let ties = 0;
  let allReuse = true;
  for (const sk of set) {
    const s = score(sk, saddr, sport, daddr);
    if (s < 0 || s < bestScore) continue;
    if (s > bestScore) {
      best = sk;
      bestScore = s;
      ties = 0;
      allReuse = true;
    }
    ties++;
    if (!sk.reusePort) allReuse = false;
  }
  if (ties > 1 && allReuse) {
    let h = sport;
    for (const b of hashAddr) h = Math.imul(h ^ b, 0x01000193);
    let pick = (h >>> 0) % ties;
    for (const sk of set) {
      if (score(sk, saddr, sport, daddr) !== bestScore) continue;
      if (pick-- === 0) return sk;
    }
  }
  return best;
}

/** __udp4_lib_lookup / __udp6_lib_lookup for addresses in their 16-byte form. */
function udpLookup(
  net: Net,
  family: 4 | 6,
  saddr: In6Addr,
  sport: number,
  daddr: In6Addr,
  dport: number,
): UdpSock | undefined {
  const set = udpTable(net).byPort.get(dport);
  if (set === undefined) return undefined;
  if (family === 4) return udpSelect(set, computeScore4, mappedV4(saddr), sport, mappedV4(daddr), saddr);
  return udpSelect(set, computeScore6, saddr, sport, daddr, saddr);
}

/** Checksum check: a partial (lo) or already-verified checksum is trusted; zero means none on IPv4 only. */
function udpChecksumOk(skb: SkBuff, uh: UdpHeader, family: 4 | 6, src: In6Addr, dst: In6Addr): boolean {
  if (skb.ipSummed === CHECKSUM.PARTIAL || skb.ipSummed === CHECKSUM.UNNECESSARY) return true;
  if (uh.checksum === 0) return family === 4;
  const len = uh.length;
  const pseudo =
    family === 4
      ? csumPseudo({ src: mappedV4(src), dst: mappedV4(dst) }, len, IPPROTO.UDP)
      : csumPseudo({ src, dst }, len, IPPROTO.UDP);
  return csumFold(skbChecksum(skb, 0, len, pseudo)) === 0;
}

/** The last IPv4 source seen, mapped: consecutive datagrams from one peer share it (nobody writes to it). */
let lastSaddr4 = -1;
let lastSaddr6: In6Addr = new Uint8Array(16);

function v4MappedShared(addr: number): In6Addr {
  if (addr !== lastSaddr4) {
    lastSaddr6 = v4Mapped(addr);
    lastSaddr4 = addr;
  }
  return lastSaddr6;
}

/** __udp4_lib_rcv / __udp6_lib_rcv. */
function udpRcv(skb: SkBuff, family: 4 | 6): number {
  if (family === 4) return udp4Rcv(skb);
  const net = skb.dev?.net;
  if (net === null || net === undefined) {
    kfreeSkb(skb);
    return 0;
  }
  const mib = net.ipv6.mib.udp6;
  if (!pskbMayPull(skb, UDP_HEADER_LEN)) {
    mib.InErrors++;
    kfreeSkb(skb);
    return 0;
  }
  const uh = new UdpHeader(skb.head, skb.data);
  const ulen = uh.length;
  if (ulen > skb.len || ulen < UDP_HEADER_LEN) {
    mib.InErrors++;
    kfreeSkb(skb);
    return 0;
  }
  pskbTrim(skb, ulen);
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  const saddr = ip6.src.slice();
  const daddr = ip6.dst.slice();
  if (!udpChecksumOk(skb, uh, family, saddr, daddr)) {
    mib.InCsumErrors++;
    mib.InErrors++;
    kfreeSkb(skb);
    return 0;
  }
  const sport = uh.srcPort;
  const dport = uh.dstPort;
  const sk = udpLookup(net, family, saddr, sport, daddr, dport);
  if (sk === undefined) {
    mib.NoPorts++;
    icmpv6Send(skb, ICMPV6.DEST_UNREACH, ICMPV6.PORT_UNREACH, 0);
    kfreeSkb(skb);
    return 0;
  }
  udpQueueRcv(sk, skb, saddr, sport, family);
  return 0;
}

/** __udp4_lib_rcv(): the header read in place, addresses as numbers until a socket takes the datagram. */
function udp4Rcv(skb: SkBuff): number {
  const net = skb.dev?.net;
  if (net === null || net === undefined) {
    kfreeSkb(skb);
    return 0;
  }
  const mib = net.ipv4.mib.udp;
  if (!pskbMayPull(skb, UDP_HEADER_LEN)) {
    mib.InErrors++;
    kfreeSkb(skb);
    return 0;
  }
  const b = skb.head;
  const at = skb.data;
  const ulen = ((b[at + 4] as number) << 8) | (b[at + 5] as number);
  if (ulen > skb.len || ulen < UDP_HEADER_LEN) {
    mib.InErrors++;
    kfreeSkb(skb);
    return 0;
  }
  pskbTrim(skb, ulen);
  const iph = ipHdr(skb);
  const saddr = iph.src;
  const daddr = iph.dst;
  if (skb.ipSummed !== CHECKSUM.PARTIAL && skb.ipSummed !== CHECKSUM.UNNECESSARY) {
    if (!udpChecksumOk(skb, new UdpHeader(b, at), 4, v4Mapped(saddr), v4Mapped(daddr))) {
      mib.InCsumErrors++;
      mib.InErrors++;
      kfreeSkb(skb);
      return 0;
    }
  }
  const sport = ((b[at] as number) << 8) | (b[at + 1] as number);
  const dport = ((b[at + 2] as number) << 8) | (b[at + 3] as number);
  const rt = skb.dst as { rtFlags?: number } | null;
  if (rt?.rtFlags !== undefined && rt.rtFlags & (RTCF.BROADCAST | RTCF.MULTICAST)) {
    return udpMcastDeliver(net, skb, saddr, sport, daddr, dport);
  }
  const saddr6 = v4MappedShared(saddr);
  const set = udpTable(net).byPort.get(dport);
  const sk = set === undefined ? undefined : udpSelect(set, computeScore4, saddr, sport, daddr, saddr6);
  if (sk === undefined) {
    mib.NoPorts++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP.PORT_UNREACH, 0);
    kfreeSkb(skb);
    return 0;
  }
  udpQueueRcv(sk, skb, saddr6, sport, 4);
  return 0;
}

/** __udp_enqueue_schedule_skb(): queue the payload, or count the drop. */
function udpQueueRcv(sk: UdpSock, skb: SkBuff, saddr: In6Addr, sport: number, family: 4 | 6): void {
  const len = skb.len - UDP_HEADER_LEN;
  // The payload is handed over where it lies; lo delivered the sender's copy, nobody else holds it.
  const data =
    UDP_HEADER_LEN + len <= skb.headlen
      ? skb.head.subarray(skb.data + UDP_HEADER_LEN, skb.data + UDP_HEADER_LEN + len)
      : skbCopyBits(skb, UDP_HEADER_LEN, len);
  const truesize = skb.truesize;
  const rmem = sk.queue.rmemAlloc;
  const ok = sk.queue.push({ data, address: saddr, port: sport, family }, truesize);
  kfreeSkb(skb);
  // udp_rmem_schedule(): charge whole pages when what is charged ahead does not cover it.
  if (sk.queue.rmemAlloc > rmem) {
    if (truesize > sk.forwardAlloc) sk.forwardAlloc += Math.ceil(truesize / PAGE_SIZE) * PAGE_SIZE;
    sk.forwardAlloc -= truesize;
  }
  if (!ok) {
    const mib = family === 4 ? sk.net.ipv4.mib.udp : sk.net.ipv6.mib.udp6;
    mib.RcvbufErrors++;
    mib.InErrors++;
    return;
  }
  sk.dataReady();
}

/**
 * __udp4_lib_mcast_deliver(): a copy for every socket the broadcast or multicast is for
 * (__udp_is_mcast_sock: the address match, then the socket's group filter).
 */
function udpMcastDeliver(net: Net, skb: SkBuff, saddr: number, sport: number, daddr: number, dport: number): number {
  let any = false;
  const dif = skb.dev?.ifindex ?? 0;
  const from = v4Mapped(saddr);
  for (const sk of udpTable(net).byPort.get(dport) ?? []) {
    if (computeScore4(sk, saddr, sport, daddr) < 0) continue;
    if (!ipMcSfAllow(sk, daddr, saddr, dif)) continue;
    any = true;
    udpQueueRcv(sk, skb.clone(), from, sport, 4);
  }
  if (!any) net.ipv4.mib.udp.IgnoredMulti++;
  kfreeSkb(skb);
  return 0;
}

/**
 * __udp4_lib_err / __udp6_lib_err: an ICMP error about a datagram we sent. Only a
 * connected socket hears of it (port unreachable → ECONNREFUSED), as without
 * IP_RECVERR Linux reports nothing to unconnected ones.
 */
function udpErr(net: Net, family: 4 | 6, quoted: Uint8Array, errno: number): void {
  let saddr: In6Addr;
  let daddr: In6Addr;
  let off: number;
  if (family === 4) {
    const iph = new Ipv4Header(quoted, 0);
    saddr = v4Mapped(iph.src);
    daddr = v4Mapped(iph.dst);
    off = iph.headerLen;
  } else {
    const ip6 = new Ipv6Header(quoted, 0);
    saddr = ip6.src.slice();
    daddr = ip6.dst.slice();
    off = 40;
  }
  if (quoted.byteLength < off + UDP_HEADER_LEN) return;
  const uh = new UdpHeader(quoted, off);
  // Look up as if the quoted datagram were coming back: its destination is the peer.
  const sk = udpLookup(net, family, daddr, uh.dstPort, saddr, uh.srcPort);
  if (sk === undefined || !sk.connected) return;
  sk.reportError(errno);
}

export function udpInit(kernel: Kernel): void {
  inetAddProtocol(kernel, IPPROTO.UDP, {
    handler: (skb) => udpRcv(skb, 4),
    errHandler: (skb, type, code) => {
      const net = skb.dev?.net;
      if (net === null || net === undefined) return;
      if (type === ICMP.DEST_UNREACH && code === ICMP.PORT_UNREACH)
        udpErr(net, 4, skb.toBytes().subarray(8), E.ECONNREFUSED);
    },
  });
  inet6AddProtocol(kernel, IPPROTO.UDP, {
    handler: (skb) => udpRcv(skb, 6),
    errHandler: (skb, type, code) => {
      const net = skb.dev?.net;
      if (net === null || net === undefined) return;
      if (type === ICMPV6.DEST_UNREACH && code === ICMPV6.PORT_UNREACH)
        udpErr(net, 6, skb.toBytes().subarray(8), E.ECONNREFUSED);
    },
  });
}

export { IN6ADDR_ANY };
