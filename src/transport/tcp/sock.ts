/**
 * struct tcp_sock and the system calls on it (net/ipv4/tcp.c, inet_connection_sock.c,
 * af_inet.c): bind, listen, connect, accept, sendmsg, recvmsg, shutdown, close and the
 * socket options Node uses. The protocol itself — input, output, timers, congestion
 * control — lives beside this file and works on the fields below, named as in Linux.
 *
 * Addresses are kept as 16-byte IPv6 addresses, IPv4 ones v4-mapped, so one socket
 * table serves both families as inet_hashinfo does; `v4` says which IP a connection uses.
 */

import { E } from '../../include/errno.js';
import { TCP_STATE as TCP } from '../../include/tcp-states.js';
import { type Flowi4, flowi4, RTN } from '../../ipv4/fib.js';
import { inetAddrType } from '../../ipv4/fib-frontend.js';
import { ipRouteOutputKey, RouteCache, type Rtable } from '../../ipv4/route.js';
import { ipv6AddrAny, ipv6AddrEqual } from '../../ipv6/addr.js';
import { fib6Lookup, ip6RouteOutput, type Rt6Info } from '../../ipv6/route.js';
import { getRandomU16, getRandomU32Below } from '../../kernel/random.js';
import type { Net } from '../../net/net.js';
import { IPPROTO } from '../../wire/ipv4.js';
import { TCPHDR } from '../../wire/tcp.js';
import { bindingsOverlap, isV4Mapped, mappedV4, v4Mapped } from '../udp.js';
import { TCP_CHRONO, tcpChronoStart } from './chrono.js';
import { TCP_COLD, type TcpCold, tcpCold } from './cold.js';
import { type CongestionOps, tcpCongestion } from './cong.js';
import { tcpTxTimestamp } from './errqueue.js';
import {
  type TcpFastopen,
  TFO,
  tcpFastopenDeferConnect,
  tcpFastopenListen,
  tcpFastopenRemove,
  tfo,
} from './fastopen.js';
import type { TcpMd5Key } from './md5.js';
import { type NetnsTcp, type TcpBindOwner, tcpNet } from './netns.js';
import {
  tcpConnectInit,
  tcpCurrentMss,
  tcpPush,
  tcpSelectWindowNow,
  tcpSendAck,
  tcpSendActiveReset,
  tcpSendFin,
  tcpSlowStartAfterIdleCheck,
  tcpXmitSizeGoal,
} from './output.js';
import { secureTcpSeq, secureTcpTsOff } from './secure.js';
import { seqAfter, seqBefore, TcpSeqSpace } from './seq.js';
import { inetCskClearXmitTimers, type SkTimer, tcpResetKeepaliveTimer, tcpSetKeepalive } from './timer.js';

/** include/net/tcp_states.h: the numbers /proc/net/tcp prints in `st`. */
export { TCP };

/** include/net/tcp.h constants (times in ns). */
export const TCP_INIT_CWND = 10;
export const TCP_TIMEOUT_INIT = 1e9;
export const TCP_RTO_MIN_US = 200_000;
export const TCP_RTO_MAX = 120e9;
export const TCP_TIMEWAIT_LEN = 60e9;
export const TCP_DELACK_MIN = 40e6;
export const TCP_DELACK_MAX = 200e6;
export const TCP_ATO_MIN = 40e6;
export const TCP_MAX_QUICKACKS = 16;
export const TCP_MSS_DEFAULT = 536;
export const TCP_MIN_MSS = 88;
export const TCPOLEN_TSTAMP_ALIGNED = 12;
export const MAX_TCP_WINDOW = 65535;
export const TCP_MAX_WSCALE = 14;
/** TCP_RMEM_TO_WIN_SCALE and the initial scaling_ratio (half of the buffer is window). */
export const TCP_DEFAULT_SCALING_RATIO = 128;
/** SKB_TRUESIZE(0): what a queued segment costs beyond its payload (sk_buff + skb_shared_info). */
export const SKB_TCP_OVERHEAD = 256 + 320;

/** sacked bits of a queued segment (TCPCB_*). */
export const TCPCB = { SACKED_ACKED: 1, SACKED_RETRANS: 2, LOST: 4, EVER_RETRANS: 8 } as const;

/** tp->ecn_flags bits. */
export const TCP_ECN = { OK: 1, QUEUE_CWR: 2, DEMAND_CWR: 4, SEEN: 8 } as const;

/** The congestion states (tcp_ca_state). */
export const TCP_CA = { Open: 0, Disorder: 1, CWR: 2, Recovery: 3, Loss: 4 } as const;

/** One segment in the write queue: sequence space, flags and payload chunks (shared, not copied). */
export interface TxSeg {
  seq: number;
  end: number;
  /** TCPHDR_SYN / FIN / PSH bits the segment carries. */
  flags: number;
  data: Uint8Array[];
  len: number;
  sacked: number;
  /** When it was last sent (ns), -1 if never. */
  txTime: number;
  /** MSG_EOR ended a write here: no later data joins this segment's packet (TCP_SKB_CB(skb)->eor). */
  eor: boolean;
  /**
   * The first segment of one of Linux's skbs: sendmsg builds skbs of up to size_goal (many
   * MSS on a GSO route), a packet never spans two, and PSH marks an skb (on its last segment).
   */
  skbHead: boolean;
}

/** One out-of-order range waiting for the hole before it. */
export interface OfoSeg {
  seq: number;
  end: number;
  data: Uint8Array[];
  fin: boolean;
}

/** Timers this socket may have armed. */
export interface TcpTimers {
  /** The retransmit/probe, delayed-ACK and keepalive timers, made on first use. */
  retrans: SkTimer | null;
  delack: SkTimer | null;
  keepalive: SkTimer | null;
}

/** The all-zero address a socket starts with (:: / 0.0.0.0 unbound); shared, so never written. */
const ADDR_UNSPEC = new Uint8Array(16);

/** Interned v4-mapped addresses: connections to and from the same hosts share their bytes. */
const sharedV4 = new Map<number, Uint8Array>();
const SHARED_V4_MAX = 4096;

/**
 * The address a socket keeps: its own copy, or for IPv4 one shared by every socket with
 * that address (a socket's addresses are replaced, never written in place). 100 k
 * connections on 127.0.0.1 then hold no 100 k × 3 copies of the same 16 bytes.
 */
export function sharedAddr(a: Uint8Array): Uint8Array {
  if (!isV4Mapped(a)) return a.slice();
  const v4 = mappedV4(a);
  let s = sharedV4.get(v4);
  if (s === undefined) {
    s = a.slice();
    if (sharedV4.size < SHARED_V4_MAX) sharedV4.set(v4, s);
  }
  return s;
}

export { seqAfter, seqBefore };

export const SHUT = { RCV: 1, SEND: 2 } as const;

/** forced_push(): more than half the largest window the peer offered was written since the last PSH. */
function forcedPush(sk: TcpSock): boolean {
  return seqAfter(sk.writeSeq, (sk.pushedSeq + (sk.maxWindow >> 1)) >>> 0);
}

/** The bytes of the unsent skb at the write queue's tail (its segments back to its head). */
function tcpTailSkbLen(sk: TcpSock): number {
  let n = 0;
  for (let i = sk.wq.length - 1; i >= 0; i--) {
    const seg = sk.wq[i] as TxSeg;
    if (seg.txTime >= 0) break;
    n += seg.len;
    if (seg.skbHead) break;
  }
  return n;
}

export class TcpSock extends TcpSeqSpace {
  state: number = TCP.CLOSE;
  v6only: boolean;
  reuseAddr = false;
  reusePort = false;
  // Addresses are replaced, never written in place, so a new socket's may share the zero address.
  localAddr: Uint8Array = ADDR_UNSPEC;
  localPort = 0;
  remoteAddr: Uint8Array = ADDR_UNSPEC;
  remotePort = 0;
  /** inet_saddr: the source a connection uses when bound to any. */
  srcAddr: Uint8Array = ADDR_UNSPEC;
  /** Whether the connection runs over IPv4 (an IPv4 socket, or a v4-mapped peer). */
  v4 = true;
  readonly tn: NetnsTcp;
  readonly routeCache = new RouteCache();
  rt6: Rt6Info | null = null;
  /** inet_id: the IP id counter of this connection's DF packets. */
  readonly inetIdGen = { next: 0 };
  hashKey = '';

  // Send sequence space (iss, sndUna, sndNxt and the other 32-bit numbers: TcpSeqSpace).
  sndWnd = 0;
  maxWindow = 0;
  /** tp->md5sig_info: TCP_MD5SIG keys by peer, null while none is set. */
  md5Keys: TcpMd5Key[] | null = null;
  /** The write queue: sent-unacked (the "rtx queue") followed by not-yet-sent segments. */
  readonly wq: TxSeg[] = [];
  /** Bytes of truesize queued for sending (sk_wmem_queued). */
  wmemQueued = 0;

  // Receive sequence space (irs, rcvNxt, rcvWup, copiedSeq: TcpSeqSpace).
  rcvWnd = 0;
  rcvSsthresh = 0;
  windowClamp = 0;
  readonly rcvQueue: Uint8Array[] = [];
  rcvQueueBytes = 0;
  /**
   * tp->urg_data: 0, TCP_URG_NOTYET (the mark is announced, its byte not here yet) or
   * TCP_URG_VALID | the byte; tp->urg_seq: the urgent byte's sequence number.
   */
  urgData = 0;
  urgSeq = 0;
  /** SO_OOBINLINE (SOCK_URGINLINE): the urgent byte stays in the stream. */
  urgInline = false;
  /** sk_rmem_alloc: truesize charged for queued receive data (in and out of order). */
  rmemAlloc = 0;
  readonly ofo: OfoSeg[] = [];
  /** tp->selective_acks: the SACK blocks to report, most recently changed first (RFC 2018). */
  readonly selectiveAcks: { start: number; end: number }[] = [];
  /** The receive buffer's payload/truesize ratio, ×256 (scaling_ratio). */
  scalingRatio = TCP_DEFAULT_SCALING_RATIO;
  /** A duplicate to report in the next ACK's first SACK block (RFC 2883). */
  dsack: { start: number; end: number } | null = null;
  /** sk_shutdown: SHUT.RCV (FIN received or shut down) | SHUT.SEND. */
  shutdown = 0;
  /** SOCK_DONE (tcp_fin): the peer's FIN arrived, so reads give EOF before any later error. */
  done = false;

  // Options in use (tcp_options_received and friends).
  tstampOk = false;
  sackOk = false;
  wscaleOk = false;
  sndWscale = 0;
  rcvWscale = 0;
  tsRecentStamp = 0;
  /** mss_clamp: the peer's MSS option; mssCache: the current effective send MSS. */
  mssClamp = 536;
  /** The route MTU the MSS was last synced to (icsk_pmtu_cookie). */
  pmtuCookie = 0;
  /** The max_window the MSS was last bounded by (tcp_bound_to_half_wnd). */
  mssWindowCookie = -1;
  mssCache = 536;
  advmss = 536;
  /** tcp_header_len: 20, or 32 with timestamps. */
  tcpHeaderLen = 20;

  // Congestion control and loss recovery.
  cwnd = TCP_INIT_CWND;
  ssthresh = 0x7fffffff;
  cwndCnt = 0;
  /** Whether the last write was held back by cwnd (tcp_is_cwnd_limited), and the most packets out lately. */
  cwndLimited = false;
  maxPacketsOut = 0;
  caState: number = TCP_CA.Open;
  packetsOut = 0;
  sackedOut = 0;
  lostOut = 0;
  retransOut = 0;
  /** Reno's duplicate ACK count when the peer gives no SACK. */
  dupAcks = 0;
  priorSsthresh = 0;
  priorCwnd = 0;
  reordering: number;
  /** RACK (tp->rack): the last (re)sent segment (s)acked, its RTT, the reordering window's state. */
  readonly rack = { mstamp: -1, rttUs: 0, endSeq: 0, advanced: false, reoWndSteps: 1, reordSeen: 0 };
  /** PRR (RFC 6937): segments delivered and sent since the cwnd reduction began. */
  prrDelivered = 0;
  prrOut = 0;
  /** tp->tcp_wstamp_ns: when the last segment left (tcp_tso_should_defer's "recent write"). */
  wstampNs = 0;
  ca: CongestionOps;
  /** Per-connection state of the congestion control module (icsk_ca_priv). */
  caPriv: Record<string, number> = {};
  /** Bytes delivered and when (for ss -i: delivered, delivery_rate). */
  delivered = 0;
  totalRetrans = 0;
  retrans = 0;
  lost = 0;
  bytesSent = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  bytesRetrans = 0;
  segsOut = 0;
  segsIn = 0;
  dataSegsOut = 0;
  dataSegsIn = 0;
  lastDataSent = 0;
  lastDataRecv = 0;
  lastAckRecv = 0;

  // RTT (µs) and timers (icsk).
  srttUs = 0;
  mdevUs = 0;
  mdevMaxUs = 0;
  rttvarUs = 0;
  minRttUs = 0;
  rto = TCP_TIMEOUT_INIT;
  /**
   * tp->tcp_mstamp: the clock as read when this socket last started processing a segment
   * (tcp_mstamp_refresh), shared by everything that segment does instead of a read each.
   */
  mstamp = 0;
  /** tcp_chrono (chrono.ts): the running chronograph, since when (ns), and each one's total (ns). */
  /** SOCK_NOSPACE: a write found the send buffer full (for the sndbuf-limited chronograph). */
  nospace = false;
  chronoType = 0;
  chronoStart = 0;
  readonly chronoStat: number[] = [0, 0, 0];
  backoff = 0;
  retransmits = 0;
  probesOut = 0;
  /** icsk_probes_tstamp: when the current run of probes began (ns), 0 if none. */
  probesTstamp = 0;
  /** retrans_stamp: original send time (ns) of the first segment retransmitted in this episode. */
  retransStamp = 0;
  /** When the retransmission/probe timer fires (ns), for /proc/net/tcp's tm->when; 0 = not armed. */
  timeoutAt = 0;
  pendingTimer = 0;
  readonly timers: TcpTimers = { retrans: null, delack: null, keepalive: null };
  /** Delayed ACK state (icsk_ack). */
  ackPending = false;
  /** ICSK_ACK_NOW: the protocol wants one ACK at once (a filled hole). */
  ackNow = false;
  /** ICSK_ACK_NOMEM: data was dropped for want of buffer; the next ACK offers a zero window. */
  ackNomem = false;
  ackQuick = 0;
  ackPingpong = 0;
  ackAto = 0;
  ackLrcvtime = 0;
  rcvMss = TCP_MSS_DEFAULT;
  /** The last small segment's size (icsk_ack.last_seg_size). */
  lastSegSize = 0;
  /** Receive-buffer autotuning (rcvq_space). */
  rcvqSpace = 0;
  rcvqTime = 0;
  rcvRttUs = 0;
  rcvRttTime = 0;

  // Options set by the application.
  nodelay = false;
  cork = false;
  /** tp->ecn_flags (TCP_ECN): RFC 3168 ECN agreed in the handshake, and its CWR/ECE duties. */
  ecnFlags = 0;
  /** snd_nxt when the last ECE reduction began: one reduction per window (high_seq of CWR). */
  cwrHighSeq = -1;
  /** IP_TOS (inet->tos, the ECN bits kept clear) and IP_MTU_DISCOVER (inet->pmtudisc, IP_PMTUDISC_WANT by default). */
  tos = 0;
  pmtudisc = 1;
  /** IP_FREEBIND / IPV6_FREEBIND (INET_FLAGS_FREEBIND): bind() may name an address this host lacks. */
  freebind = false;
  /** Whether the application has closed its descriptor (an orphan lives on in the kernel). */
  orphan = false;
  /** The listener a passive child came from, until it is accepted. */
  parent: TcpSock | null = null;
  /** What few connections use (listener queues, keepalive, linger, …): shared until written (cold.ts). */
  cold: Readonly<TcpCold> = TCP_COLD;
  /** Fast Open (fastopen.ts): a listener's queue and key, a passive child's request sock. */
  fastopen: TcpFastopen | null = null;
  /** Called when the state changes (connect completes, the peer closes, reset). */
  onStateChange: (() => void) | null = null;
  /** Bytes of write queue at which the writer is told it may write again. */
  readonly inode: number;
  #kptr = '';

  /** %pK of the socket: a hashed pointer, stable for its life (what root sees with kptr_restrict 0), made when first shown. */
  get kptr(): string {
    if (this.#kptr === '')
      this.#kptr = `00000000${Math.floor(Math.random() * 0x100000000)
        .toString(16)
        .padStart(8, '0')}`;
    return this.#kptr;
  }

  constructor(
    net: Net,
    readonly family: 4 | 6,
  ) {
    super(net);
    this.tn = tcpNet(net);
    const s = this.tn.sysctl;
    this.v6only = family === 6 && net.ipv6.sysctl.bindv6only !== 0;
    this.sndbuf = s.tcp_wmem[1];
    this.rcvbuf = s.tcp_rmem[1];
    this.reordering = s.tcp_reordering;
    this.ca = tcpCongestion(s.tcp_congestion_control);
    this.inode = nextInode++;
  }

  get clock(): number {
    return this.net.kernel.clock.now();
  }

  /** tcp_time_stamp_ms + tsoffset: the TS value this socket sends. */
  tsNow(): number {
    return this.tsAt(this.clock);
  }

  /** The TS value for clock time `ns` (tcp_mstamp, say). */
  tsAt(ns: number): number {
    return (Math.floor(ns / 1e6) + this.tsOffset) >>> 0;
  }

  /** A system call: process context on this socket's CPU, softirqs run at its end. */
  syscall<T>(fn: () => T): T {
    return this.net.kernel.runOn(this.cpu, fn);
  }

  get bound(): boolean {
    return this.localPort !== 0;
  }

  /** Bytes sent but not acknowledged, plus those not sent yet (SIOCOUTQ / tx_queue). */
  get sendQueueBytes(): number {
    return (this.writeSeq - this.sndUna) >>> 0;
  }

  /** tcp_packets_in_flight(). */
  get inFlight(): number {
    return this.packetsOut - (this.sackedOut + this.lostOut) + this.retransOut;
  }

  /** sk_stream_memory_free(): room in the send buffer. */
  get writable(): boolean {
    return this.wmemQueued < this.sndbuf;
  }

  /** The 4-tuple key of ehash, as seen from this host. */
  static ehashKey(laddr: Uint8Array, lport: number, raddr: Uint8Array, rport: number): string {
    return `${addrKey(laddr)}:${lport}|${addrKey(raddr)}:${rport}`;
  }

  // ---- bind / listen / connect / accept ----

  /** inet_bind / inet6_bind: -EINVAL, -EADDRNOTAVAIL, -EADDRINUSE or 0. */
  bind(addr: Uint8Array, port: number): number {
    return this.syscall(() => {
      if (this.state !== TCP.CLOSE || this.bound) return -E.EINVAL;
      if (!Number.isInteger(port) || port < 0 || port > 0xffff) return -E.EINVAL;
      const err = checkLocalAddr(this, addr);
      if (err !== 0) return err;
      this.localAddr = sharedAddr(addr);
      const r = inetCskGetPort(this, port);
      if (r < 0) this.localAddr = ADDR_UNSPEC;
      return r;
    });
  }

  /** inet_listen(): backlog capped by net.core.somaxconn. */
  listen(backlog: number): number {
    return this.syscall(() => {
      if (this.state !== TCP.CLOSE && this.state !== TCP.LISTEN) return -E.EINVAL;
      tcpCold(this).maxAckBacklog = Math.min(Math.max(backlog | 0, 0), this.net.core.somaxconn);
      tcpFastopenListen(this, backlog | 0);
      if (this.state === TCP.LISTEN) return 0;
      if (!this.bound) {
        const r = inetCskGetPort(this, 0);
        if (r < 0) return r;
      } else if (!listenPortFree(this)) return -E.EADDRINUSE;
      this.state = TCP.LISTEN;
      let list = this.tn.lhash.get(this.localPort);
      if (list === undefined) {
        list = [];
        this.tn.lhash.set(this.localPort, list);
      }
      list.push(this);
      return 0;
    });
  }

  /** tcp_v4_connect / tcp_v6_connect, non-blocking: -EINPROGRESS once the SYN is out. */
  connect(addr: Uint8Array, port: number): number {
    return this.syscall(() => {
      if (this.state === TCP.SYN_SENT) return -E.EALREADY;
      if (this.state !== TCP.CLOSE) return this.state === TCP.LISTEN ? -E.EINVAL : -E.EISCONN;
      if (port === 0 || port > 0xffff) return -E.ECONNREFUSED;
      const v4 = this.family === 4 || isV4Mapped(addr);
      if (v4 && this.family === 6 && this.v6only) return -E.ENETUNREACH;
      this.v4 = v4;
      // No destination is this host: ip_route_output_key_hash_rcu() makes 0.0.0.0 the bound
      // address or 127.0.0.1; tcp_v6_connect() makes :: the loopback ::1.
      if (anyAddr(addr))
        addr = !v4 ? LOOPBACK6 : this.bound && !anyAddr(this.localAddr) ? this.localAddr : v4Mapped(0x7f000001);
      this.remoteAddr = sharedAddr(addr);
      this.remotePort = port;
      const src = tcpRoute(this);
      if (typeof src === 'number') {
        this.remotePort = 0;
        return src;
      }
      if (!this.bound || anyAddr(this.localAddr)) {
        if (!this.bound) this.localAddr = this.family === 4 ? sharedAddr(v4Mapped(0)) : ADDR_UNSPEC;
      }
      this.srcAddr = sharedAddr(src);
      const err = inetHashConnect(this);
      if (err < 0) {
        this.remotePort = 0;
        return err;
      }
      this.inetIdGen.next = getRandomU16();
      this.iss = secureTcpSeq(this.tn, this.srcAddr, this.localPort, this.remoteAddr, this.remotePort, this.net);
      this.tsOffset = secureTcpTsOff(this.tn, this.srcAddr, this.remoteAddr);
      this.state = TCP.SYN_SENT;
      // TCP_FASTOPEN_CONNECT with a cookie in hand: nothing is sent until the first write.
      if (this.fastopen !== null && tcpFastopenDeferConnect(this)) return 0;
      this.net.ipv4.mib.tcp.ActiveOpens++;
      tcpConnectInit(this);
      // A cookie request without data is over once its SYN is out.
      if (this.fastopen?.req?.data === null) this.fastopen.req = null;
      return -E.EINPROGRESS;
    });
  }

  /** Whether the next write opens the connection (DEFER_CONNECT after TCP_FASTOPEN_CONNECT). */
  get deferConnect(): boolean {
    return this.fastopen?.deferConnect === true;
  }

  /**
   * tcp_sendmsg_fastopen(): sendto(MSG_FASTOPEN), or the first write after a deferred
   * TCP_FASTOPEN_CONNECT, connects with as much of `data` in the SYN as a cookie allows.
   * Returns the bytes the SYN took, else -EINPROGRESS, or -errno. `data` null is a buffer
   * the kernel cannot read: the SYN then goes without data.
   */
  sendmsgFastopen(addr: Uint8Array | null, port: number, data: Uint8Array | null): number {
    return this.syscall(() => {
      if (!(this.tn.sysctl.tcp_fastopen & TFO.CLIENT_ENABLE)) return -E.EOPNOTSUPP;
      const f = tfo(this);
      if (f.req !== null) return -E.EALREADY;
      f.req = { cookie: null, data, copied: 0 };
      let err: number;
      if (f.deferConnect) {
        f.deferConnect = false;
        this.net.ipv4.mib.tcp.ActiveOpens++;
        tcpConnectInit(this);
        err = -E.EINPROGRESS;
      } else if (this.state !== TCP.CLOSE) err = this.state === TCP.SYN_SENT ? -E.EALREADY : -E.EISCONN;
      else if (addr === null) err = -E.EINVAL;
      else err = this.connect(addr, port);
      const copied = f.req?.copied ?? 0;
      f.req = null;
      return err === -E.EINPROGRESS && copied > 0 ? copied : err;
    });
  }

  /** inet_csk_accept(), non-blocking: the oldest established child, or -EAGAIN. */
  accept(): TcpSock | number {
    return this.syscall(() => {
      if (this.state !== TCP.LISTEN) return -E.EINVAL;
      const child = tcpCold(this).acceptQueue.shift();
      if (child === undefined) return -E.EAGAIN;
      child.parent = null;
      return child;
    });
  }

  // ---- data ----

  /**
   * tcp_sendmsg(): queue what fits in the send buffer and push. Returns bytes taken
   * (possibly fewer than offered), -EAGAIN when the buffer is full, -EPIPE after
   * shutdown, or the pending error. The bytes are copied once, as copy_from_user.
   * `eor` (MSG_EOR) ends a record once all of `data` is queued: nothing later is appended.
   */
  sendmsg(data: Uint8Array, more = false, eor = false): number {
    return this.syscall(() => {
      const err = this.takeError();
      if (err !== 0) return err;
      if (this.shutdown & SHUT.SEND) return -E.EPIPE;
      // A passive Fast Open child may send before the handshake's ACK (tcp_passive_fastopen).
      const passiveFastopen = this.state === TCP.SYN_RECV && this.fastopen?.rsk != null;
      if (this.state !== TCP.ESTABLISHED && this.state !== TCP.CLOSE_WAIT && !passiveFastopen) {
        if (this.state === TCP.SYN_SENT || this.state === TCP.SYN_RECV) return -E.EAGAIN;
        return -E.EPIPE;
      }
      if (data.byteLength === 0) return 0;
      let copied = 0;
      // One clock read for this call's chronograph and the push, when it needs one (-1: none yet).
      let now = -1;
      const mss = tcpCurrentMss(this);
      const sizeGoal = tcpXmitSizeGoal(this, mss);
      while (copied < data.byteLength && this.writable) {
        // An index past the end is a slow load in V8: look only when there is a tail.
        const queued = this.wq.length;
        let tail = queued > 0 ? this.wq[queued - 1] : undefined;
        // The unsent skb at the tail takes more data until it holds size_goal (tcp_skb_can_collapse_to).
        const skbLen =
          tail === undefined || tail.txTime >= 0 || tail.flags & TCPHDR.FIN || tail.eor
            ? sizeGoal
            : tcpTailSkbLen(this);
        if (tail !== undefined && skbLen < sizeGoal && copied === 0) tail.flags &= ~TCPHDR.PSH;
        if (tail === undefined || skbLen >= sizeGoal || tail.len >= mss) {
          tail = {
            seq: this.writeSeq,
            end: this.writeSeq,
            flags: 0,
            data: [],
            len: 0,
            sacked: 0,
            txTime: -1,
            eor: false,
            skbHead: skbLen >= sizeGoal,
          };
          // tcp_add_write_queue_tail(): data on an empty queue starts the busy chrono.
          if (this.wq.length === 0) {
            now = this.clock;
            tcpChronoStart(this, TCP_CHRONO.BUSY, now);
          }
          this.wq.push(tail);
          this.wmemQueued += SKB_TCP_OVERHEAD;
          // skb_entail(): a new skb after an idle spell restarts the cwnd.
          tcpSlowStartAfterIdleCheck(this);
        }
        const n = Math.min(mss - tail.len, data.byteLength - copied);
        tail.data.push(copyFromUser(data, copied, n));
        tail.len += n;
        tail.end = (tail.end + n) >>> 0;
        this.writeSeq = (this.writeSeq + n) >>> 0;
        this.wmemQueued += n;
        copied += n;
        // A full skb: forced_push() marks PSH at least every half of the largest window seen.
        if (skbLen === sizeGoal ? n >= sizeGoal : skbLen + n >= sizeGoal)
          if (forcedPush(this)) {
            tail.flags |= TCPHDR.PSH;
            this.pushedSeq = this.writeSeq;
          }
      }
      if (copied < data.byteLength) this.nospace = true;
      if (copied === 0) return -E.EAGAIN;
      // tcp_push(): the end of a write is pushed unless more follows (MSG_MORE) — or the
      // buffer ran out (wait_for_space pushes what was copied), or half a window is unpushed.
      const last = this.wq[this.wq.length - 1];
      if (eor && copied === data.byteLength && last !== undefined) last.eor = true;
      if ((!more || copied < data.byteLength || forcedPush(this)) && last !== undefined && last.txTime < 0) {
        last.flags |= TCPHDR.PSH;
        this.pushedSeq = this.writeSeq;
      }
      if (this.errq !== null) tcpTxTimestamp(this);
      tcpPush(this, more || this.cork, now);
      return copied;
    });
  }

  /**
   * tcp_recvmsg(): up to `max` bytes in order, 0 at end of stream, -EAGAIN when
   * nothing is there yet, or a pending error.
   */
  recvmsg(max = Number.POSITIVE_INFINITY): Uint8Array | number {
    return this.syscall(() => {
      // tcp_recvmsg_locked(): a read that starts at the urgent mark steps over its byte.
      if (this.urgData !== 0 && this.urgSeq === this.copiedSeq && this.rcvQueueBytes > 0 && !this.urgInline)
        tcpSkipUrgByte(this);
      if (this.rcvQueueBytes === 0) {
        if (this.state === TCP.LISTEN) return -E.ENOTCONN;
        // tcp_recvmsg_locked() checks SOCK_DONE before sk_err.
        if (this.done) return 0;
        const err = this.takeError();
        if (err !== 0) return err;
        if (this.shutdown & SHUT.RCV || this.state === TCP.CLOSE) return 0;
        return -E.EAGAIN;
      }
      // ... and one that reaches it stops there.
      const out = takeBytes(this, urgLimit(this, max));
      if (this.urgData !== 0 && seqAfter(this.copiedSeq, this.urgSeq)) this.urgData = 0;
      tcpRcvSpaceAdjust(this);
      tcpCleanupRbuf(this, out.byteLength);
      return out;
    });
  }

  /**
   * tcp_splice_read() over tcp_read_sock(): up to `max` in-order bytes, never past the
   * urgent mark (the byte there is for MSG_OOB, which splice cannot read). Nothing to take:
   * 0 at end of stream, an error, -EAGAIN to wait (or when `nonblock`), and 0 when data is
   * queued but held back by the mark, so a blocking splice does not wait forever on it
   * ("tcp: avoid infinite loop in tcp_splice_read()").
   */
  spliceRead(max: number, nonblock: boolean): Uint8Array | number {
    return this.syscall(() => {
      if (this.state === TCP.LISTEN) return -E.ENOTCONN;
      const n = urgLimit(this, max);
      if (n > 0 && this.rcvQueueBytes > 0) {
        const out = takeBytes(this, n);
        tcpRcvSpaceAdjust(this);
        tcpCleanupRbuf(this, out.byteLength);
        return out;
      }
      if (this.done) return 0;
      const err = this.takeError();
      if (err !== 0) return err;
      if (this.shutdown & SHUT.RCV) return 0;
      if (this.state === TCP.CLOSE) return -E.ENOTCONN;
      if (nonblock) return -E.EAGAIN;
      if (this.rcvQueueBytes > 0) return 0;
      return -E.EAGAIN;
    });
  }

  /** Bytes ready to read (SIOCINQ / rx_queue). */
  get readable(): number {
    return this.rcvQueueBytes;
  }

  /** Whether recvmsg() would return -EAGAIN now: nothing queued, no error, no end of stream. */
  get recvWouldBlock(): boolean {
    return (
      this.rcvQueueBytes === 0 &&
      this.err === 0 &&
      this.state !== TCP.LISTEN &&
      this.state !== TCP.CLOSE &&
      (this.shutdown & SHUT.RCV) === 0
    );
  }

  /** tcp_shutdown(SHUT_WR etc.): a FIN after the queued data. */
  shutdownCall(how: number): number {
    return this.syscall(() => {
      if (how & SHUT.RCV) this.shutdown |= SHUT.RCV;
      if (!(how & SHUT.SEND)) return 0;
      if (this.shutdown & SHUT.SEND) return 0;
      if (this.state === TCP.ESTABLISHED || this.state === TCP.CLOSE_WAIT || this.state === TCP.SYN_RECV) {
        this.shutdown |= SHUT.SEND;
        if (tcpCloseState(this)) tcpSendFin(this);
        return 0;
      }
      if (this.state === TCP.SYN_SENT || this.state === TCP.LISTEN || this.state === TCP.CLOSE) return -E.ENOTCONN;
      return 0;
    });
  }

  /**
   * tcp_close(): unread data or a zero linger abort with RST; otherwise the FIN goes
   * after the queued data and the orphan finishes the close in the kernel.
   */
  close(): void {
    this.syscall(() => {
      if (this.orphan) return;
      this.orphan = true;
      this.onDataReady = this.onError = this.onWriteSpace = this.onStateChange = null;
      this.shutdown = SHUT.RCV | SHUT.SEND;
      if (this.state === TCP.LISTEN) {
        tcpSetState(this, TCP.CLOSE);
        for (const child of tcpCold(this).acceptQueue.splice(0)) {
          child.orphan = true;
          child.parent = null;
          // A child the peer already reset is only freed.
          if (child.state === TCP.CLOSE) continue;
          tcpSendActiveReset(child);
          this.tn.ext.TCPAbortOnClose++;
          tcpDone(child);
        }
        tcpDone(this);
        return;
      }
      const unread = this.rcvQueueBytes > 0;
      this.rcvQueue.length = 0;
      this.rmemAlloc = 0;
      this.rcvQueueBytes = 0;
      if (this.state === TCP.CLOSE) {
        tcpDone(this);
      } else if (unread) {
        tcpSetState(this, TCP.CLOSE);
        tcpSendActiveReset(this);
        this.tn.ext.TCPAbortOnClose++;
        tcpDone(this);
      } else if (this.cold.linger === 0) {
        tcpSetState(this, TCP.CLOSE);
        tcpSendActiveReset(this);
        this.tn.ext.TCPAbortOnLinger++;
        tcpDone(this);
      } else if (this.state === TCP.SYN_SENT) {
        tcpSetState(this, TCP.CLOSE);
        tcpDone(this);
      } else if (tcpCloseState(this)) {
        tcpSendFin(this);
      }
    });
  }

  /** Closing with SO_LINGER 0 (Node's socket.resetAndDestroy). */
  abort(): void {
    tcpCold(this).linger = 0;
    this.close();
  }

  // ---- options ----

  setNoDelay(on: boolean): void {
    this.syscall(() => {
      this.nodelay = on;
      if (on) tcpPush(this, false);
    });
  }

  setCork(on: boolean): void {
    this.syscall(() => {
      this.cork = on;
      if (!on) tcpPush(this, false);
    });
  }

  /** SO_KEEPALIVE plus TCP_KEEPIDLE / KEEPINTVL / KEEPCNT (seconds; 0 = the sysctl). */
  setKeepAlive(on: boolean, idle = 0, intvl = 0, probes = 0): void {
    this.syscall(() => {
      if (idle > 0) tcpCold(this).keepaliveTime = idle;
      if (intvl > 0) tcpCold(this).keepaliveIntvl = intvl;
      if (probes > 0) tcpCold(this).keepaliveProbes = probes;
      tcpSetKeepalive(this, on);
    });
  }

  /** TCP_QUICKACK: leave delayed-ACK mode now. */
  setQuickAck(on: boolean): void {
    this.syscall(() => {
      if (!on) {
        this.ackPingpong = 1;
        return;
      }
      this.ackPingpong = 0;
      this.ackQuick = Math.max(this.ackQuick, TCP_MAX_QUICKACKS);
      if (this.ackPending && this.state !== TCP.LISTEN) tcpSendAck(this);
    });
  }

  override setSndbuf(val: number): void {
    super.setSndbuf(val);
    tcpCold(this).sndbufLocked = true;
  }

  override setRcvbuf(val: number): void {
    super.setRcvbuf(val);
    tcpCold(this).rcvbufLocked = true;
  }

  keepaliveTimeNs(): number {
    return (this.cold.keepaliveTime || this.tn.sysctl.tcp_keepalive_time) * 1e9;
  }

  keepaliveIntvlNs(): number {
    return (this.cold.keepaliveIntvl || this.tn.sysctl.tcp_keepalive_intvl) * 1e9;
  }

  keepaliveProbesN(): number {
    return this.cold.keepaliveProbes || this.tn.sysctl.tcp_keepalive_probes;
  }

  /** The address getsockname() reports. */
  get sockname(): { addr: Uint8Array; port: number } {
    return {
      addr: anyAddr(this.localAddr) && this.remotePort !== 0 ? this.srcAddr : this.localAddr,
      port: this.localPort,
    };
  }

  get peername(): { addr: Uint8Array; port: number } | null {
    if (this.remotePort === 0 || this.state === TCP.LISTEN) return null;
    return { addr: this.remoteAddr, port: this.remotePort };
  }
}

let nextInode = 100000;

/** A fast, stable key for an address in the socket tables. */
export function addrKey(a: Uint8Array): string {
  if (isV4Mapped(a)) return String(mappedV4(a));
  let s = '';
  for (let i = 0; i < 16; i++) s += (a[i] as number).toString(16);
  return s;
}

/** 0.0.0.0, ::ffff:0.0.0.0 or ::. */
export function anyAddr(a: Uint8Array): boolean {
  return ipv6AddrAny(a) || (isV4Mapped(a) && mappedV4(a) === 0);
}

function checkLocalAddr(sk: TcpSock, addr: Uint8Array): number {
  if (sk.family === 4 || isV4Mapped(addr)) {
    if (sk.family === 6 && sk.v6only) return -E.EINVAL;
    const a = mappedV4(addr);
    const t = inetAddrType(sk.net, a);
    // inet_addr_valid_or_nonlocal(): inet_can_nonlocal_bind() lets any address through.
    if (a !== 0 && t !== RTN.LOCAL && !sk.freebind) return -E.EADDRNOTAVAIL;
    return 0;
  }
  // inet6_bind(): ipv6_can_nonlocal_bind() skips the ipv6_chk_addr() test.
  if (!ipv6AddrAny(addr) && !sk.freebind) {
    const r = fib6Lookup(sk.net, addr, 0);
    if (r === undefined || r.type !== RTN.LOCAL) return -E.EADDRNOTAVAIL;
  }
  return 0;
}

/**
 * inet_csk_bind_conflict(): SO_REUSEADDR lets a socket share a port with others that
 * are not listening (and both asked for it); SO_REUSEPORT lets a group share it.
 */
function bindConflict(sk: TcpSock, port: number, forListen: boolean): boolean {
  for (const other of sk.tn.bhash.owners(port)) {
    if (other === sk) continue;
    if (!bindingsOverlap(sk, other)) continue;
    if (sk.reusePort && other.reusePort) continue;
    if (sk.reuseAddr && other.reuseAddr && other.state !== TCP.LISTEN && !forListen) continue;
    if (sk.reuseAddr && other.reuseAddr && forListen && other.state !== TCP.LISTEN) continue;
    return true;
  }
  return false;
}

function listenPortFree(sk: TcpSock): boolean {
  return !bindConflict(sk, sk.localPort, true);
}

function bhashAdd(sk: TcpSock, port: number): void {
  sk.localPort = port;
  sk.tn.bhash.add(port, sk);
}

/**
 * inet_csk_get_port(): a given port unless it conflicts; port 0 searches the local
 * range from a random start, odd ports first (Linux leaves even ones to connect()).
 */
function inetCskGetPort(sk: TcpSock, port: number): number {
  if (port !== 0) {
    if (bindConflict(sk, port, false)) return -E.EADDRINUSE;
    bhashAdd(sk, port);
    return 0;
  }
  const [low, high] = sk.net.ipv4.ipLocalPortRange;
  const span = high - low + 1;
  const start = getRandomU32Below(span);
  for (const parity of [1, 0]) {
    for (let i = 0; i < span; i++) {
      const p = low + ((start + i) % span);
      if ((p & 1) !== parity) continue;
      if (sk.tn.bhash.has(p)) continue;
      bhashAdd(sk, p);
      return 0;
    }
  }
  return -E.EADDRINUSE;
}

/**
 * __inet_hash_connect(): an unbound socket takes an even ephemeral port whose 4-tuple
 * is unused (a TIME_WAIT holder may be reused under tcp_tw_reuse); then it is hashed.
 */
function inetHashConnect(sk: TcpSock): number {
  const tn = sk.tn;
  if (sk.bound) {
    const key = TcpSock.ehashKey(sk.srcAddr, sk.localPort, sk.remoteAddr, sk.remotePort);
    const held = tn.ehash.get(key);
    if (held !== undefined && !twReusable(sk, held)) return -E.EADDRNOTAVAIL;
    ehashInsert(sk, key);
    return 0;
  }
  const [low, high] = sk.net.ipv4.ipLocalPortRange;
  const span = high - low + 1;
  const start = getRandomU32Below(span) & ~1;
  for (const parity of [0, 1]) {
    for (let i = 0; i < span; i++) {
      const p = low + ((start + i) % span);
      if ((p & 1) !== parity) continue;
      // A port someone bound() explicitly is theirs; ports of other connections are shared.
      if (tn.bhash.some(p, boundExplicitly)) continue;
      const key = TcpSock.ehashKey(sk.srcAddr, p, sk.remoteAddr, sk.remotePort);
      const held = tn.ehash.get(key);
      if (held !== undefined && !twReusable(sk, held)) continue;
      bhashAdd(sk, p);
      ehashInsert(sk, key);
      return 0;
    }
  }
  return -E.EADDRNOTAVAIL;
}

/** A listener's or a bound, unconnected socket's port: not shared with connect(). */
function boundExplicitly(o: TcpBindOwner): boolean {
  return o.state === TCP.LISTEN || o.remotePort === 0;
}

/** tcp_twsk_unique(): a TIME_WAIT 4-tuple can be reused by a new connect() under tcp_tw_reuse. */
function twReusable(sk: TcpSock, held: object): boolean {
  const tw = held as { isTimewait?: boolean; tsRecentStamp?: number; kill?: () => void };
  if (tw.isTimewait !== true) return false;
  const reuse = sk.tn.sysctl.tcp_tw_reuse;
  const loopback = sk.v4 ? mappedV4(sk.remoteAddr) >>> 24 === 127 : ipv6AddrEqual(sk.remoteAddr, LOOPBACK6);
  if (!(reuse === 1 || (reuse === 2 && loopback))) return false;
  if (tw.tsRecentStamp === undefined || tw.tsRecentStamp === 0) return false;
  if (sk.clock - tw.tsRecentStamp < 1e9) return false;
  tw.kill?.();
  sk.tn.ext.TWRecycled++;
  return true;
}

const LOOPBACK6 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export function ehashInsert(sk: TcpSock, key: string): void {
  sk.hashKey = key;
  sk.tn.ehash.set(key, sk);
}

/** Route to the peer: the source address, or -errno (ENETUNREACH, EADDRNOTAVAIL…). */
export function tcpRoute(sk: TcpSock): Uint8Array | number {
  if (sk.v4) {
    const fl4 = flowi4({ daddr: mappedV4(sk.remoteAddr), saddr: mappedV4(sk.localAddr), proto: IPPROTO.TCP });
    const rt = ipRouteOutputKey(sk.net, fl4);
    if (typeof rt === 'number') return rt;
    return v4Mapped(fl4.saddr);
  }
  const fl6 = { daddr: sk.remoteAddr.slice(), saddr: sk.localAddr.slice(), oif: 0, proto: IPPROTO.TCP };
  const rt = ip6RouteOutput(sk.net, fl6);
  if (typeof rt === 'number') return rt;
  sk.rt6 = rt;
  return fl6.saddr;
}

/** The cached IPv4 route of a connection (sk_dst_cache), refreshed when stale. */
export function tcpRoute4(sk: TcpSock): { rt: Rtable; saddr: number } | number {
  const rt = tcpRouteRt4(sk);
  if (typeof rt === 'number') return rt;
  return { rt, saddr: tcpFl4.saddr };
}

/**
 * The flow of the connected socket being routed (fl4 on the stack in ip_queue_xmit): one
 * object reused, read at once by whoever asked, so a segment makes none.
 */
export const tcpFl4: Flowi4 = flowi4({ proto: IPPROTO.TCP });

/**
 * __sk_dst_check() + ip_route_output_ports() for a connected socket: its route, with
 * tcpFl4 left holding the flow (saddr the source chosen), and nothing made.
 */
export function tcpRouteRt4(sk: TcpSock): Rtable | number {
  const fl4 = tcpFl4;
  fl4.daddr = mappedV4(sk.remoteAddr);
  fl4.saddr = mappedV4(sk.srcAddr);
  fl4.oif = 0;
  return sk.routeCache.get(sk.net, fl4);
}

/** The states CurrEstab counts. */
function estab(state: number): boolean {
  return state === TCP.ESTABLISHED || state === TCP.CLOSE_WAIT;
}

/** tcp_set_state(): keeps CurrEstab and the tables right. */
export function tcpSetState(sk: TcpSock, state: number): void {
  const old = sk.state;
  const mib = sk.net.ipv4.mib.tcp;
  if (estab(old) && !estab(state)) mib.CurrEstab--;
  if (!estab(old) && estab(state)) mib.CurrEstab++;
  sk.state = state;
  if (state === TCP.CLOSE) unhash(sk);
}

/** Removes a socket from every table (inet_put_port + inet_unhash). */
export function unhash(sk: TcpSock): void {
  const tn = sk.tn;
  if (sk.hashKey !== '' && tn.ehash.get(sk.hashKey) === sk) tn.ehash.delete(sk.hashKey);
  sk.hashKey = '';
  const list = tn.lhash.get(sk.localPort);
  if (list !== undefined) {
    const i = list.indexOf(sk);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) tn.lhash.delete(sk.localPort);
  }
}

/** Releases the local port (inet_put_port). */
export function putPort(sk: TcpSock): void {
  sk.tn.bhash.delete(sk.localPort, sk);
}

/** tcp_done(): the connection is gone; timers stop, tables forget it, sleepers wake. */
export function tcpDone(sk: TcpSock): void {
  if (sk.state !== TCP.CLOSE) {
    if (sk.state === TCP.SYN_SENT || sk.state === TCP.SYN_RECV) sk.net.ipv4.mib.tcp.AttemptFails++;
    tcpSetState(sk, TCP.CLOSE);
  }
  unhash(sk);
  putPort(sk);
  inetCskClearXmitTimers(sk);
  tcpResetKeepaliveTimer(sk, 0);
  sk.shutdown = SHUT.RCV | SHUT.SEND;
  for (const seg of sk.wq) sk.wmemQueued -= seg.len + SKB_TCP_OVERHEAD;
  sk.wq.length = 0;
  sk.ofo.length = 0;
  sk.selectiveAcks.length = 0;
  sk.packetsOut = sk.sackedOut = sk.lostOut = sk.retransOut = 0;
  // A child that dies before accept() stays in the accept queue: accept() hands it out
  // closed, and its first call reports the error (inet_csk_accept takes what is queued).
  tcpFastopenRemove(sk);
  wakeState(sk);
}

/** sk_state_change(): wake whoever waits on this socket. */
export function wakeState(sk: TcpSock): void {
  const cb = sk.onStateChange;
  if (cb !== null) queueMicrotask(cb);
  sk.dataReady();
}

/**
 * tcp_close_state(): the state after the application closes its side, and whether a
 * FIN must be sent.
 */
function tcpCloseState(sk: TcpSock): boolean {
  const next: Record<number, number> = {
    [TCP.ESTABLISHED]: TCP.FIN_WAIT1,
    [TCP.SYN_RECV]: TCP.FIN_WAIT1,
    [TCP.CLOSE_WAIT]: TCP.LAST_ACK,
  };
  const to = next[sk.state];
  if (to === undefined) return false;
  tcpSetState(sk, to);
  return true;
}

/** Takes up to `max` bytes off the receive queue, in order. */
/**
 * copy_from_user into the send queue. A small piece goes into a fresh small array (V8 keeps
 * those on its heap, cheaper than slice()); a large one is sliced.
 */
function copyFromUser(data: Uint8Array, from: number, n: number): Uint8Array {
  if (n > 64) return data.slice(from, from + n);
  const b = new Uint8Array(n);
  b.set(from === 0 && n === data.byteLength ? data : data.subarray(from, from + n));
  return b;
}

/** How much of `max` a read may take before the urgent mark (urg_seq - copied_seq). */
function urgLimit(sk: TcpSock, max: number): number {
  if (sk.urgData === 0) return max;
  const off = (sk.urgSeq - sk.copiedSeq) >>> 0;
  return off < max ? off : max;
}

/** copied_seq++ over the urgent byte at the head of the queue (it is not inline), done with it. */
export function tcpSkipUrgByte(sk: TcpSock): void {
  takeBytes(sk, 1);
  if (seqAfter(sk.copiedSeq, sk.urgSeq)) sk.urgData = 0;
}

function takeBytes(sk: TcpSock, max: number): Uint8Array {
  const want = Math.min(max, sk.rcvQueueBytes);
  let out: Uint8Array;
  const first = sk.rcvQueue[0] as Uint8Array;
  if (first.byteLength === want) {
    sk.rcvQueue.shift();
    out = first;
  } else if (first.byteLength > want) {
    out = first.subarray(0, want);
    sk.rcvQueue[0] = first.subarray(want);
  } else {
    out = new Uint8Array(want);
    let off = 0;
    while (off < want) {
      const c = sk.rcvQueue[0] as Uint8Array;
      const n = Math.min(c.byteLength, want - off);
      out.set(n === c.byteLength ? c : c.subarray(0, n), off);
      if (n === c.byteLength) sk.rcvQueue.shift();
      else sk.rcvQueue[0] = c.subarray(n);
      off += n;
    }
  }
  sk.rcvQueueBytes -= want;
  sk.copiedSeq = (sk.copiedSeq + want) >>> 0;
  // Truesize goes back in proportion to what was read (the skbs are freed as consumed).
  const charge =
    sk.rcvQueueBytes === 0 && sk.ofo.length === 0
      ? sk.rmemAlloc
      : Math.round((want * 256) / Math.max(1, sk.scalingRatio));
  sk.rmemAlloc = Math.max(0, sk.rmemAlloc - charge);
  return out;
}

/**
 * tcp_rcvbuf_grow() (6.18): unless SO_RCVBUF is locked, make the buffer hold twice what was
 * read in the last RTT (the sender may double its rate), plus the span of out-of-order data
 * held, up to tcp_rmem[2]; the window clamp follows the buffer.
 */
export function tcpRcvbufGrow(sk: TcpSock): void {
  if (!sk.tn.sysctl.tcp_moderate_rcvbuf || sk.cold.rcvbufLocked) return;
  let rcvwin = sk.rcvqSpace * 2;
  const last = sk.ofo[sk.ofo.length - 1];
  if (last !== undefined) rcvwin += (last.end - sk.rcvNxt) >>> 0;
  // tcp_space_from_win(): the buffer that offers `rcvwin` at this payload/truesize ratio.
  const rcvbuf = Math.min(Math.floor((rcvwin * 256) / sk.scalingRatio), sk.tn.sysctl.tcp_rmem[2]);
  if (rcvbuf > sk.rcvbuf) {
    sk.rcvbuf = rcvbuf;
    sk.windowClamp = winFromSpace(sk, rcvbuf);
  }
}

/**
 * tcp_rcv_space_adjust(): once per RTT, what the application consumed in it (read, less what
 * still waits in the queue) grows the receive buffer when it beats the last measure.
 */
function tcpRcvSpaceAdjust(sk: TcpSock): void {
  const now = sk.clock;
  const rtt = Math.max(sk.rcvRttUs, sk.srttUs >> 3) * 1e3;
  if (sk.rcvqTime === 0) {
    sk.rcvqTime = now;
    sk.rcvqSeq = sk.copiedSeq;
    return;
  }
  if (now - sk.rcvqTime < rtt || rtt === 0) return;
  const copied = ((sk.copiedSeq - sk.rcvqSeq) | 0) - ((sk.rcvNxt - sk.copiedSeq) | 0);
  if (copied > sk.rcvqSpace) {
    sk.rcvqSpace = copied;
    tcpRcvbufGrow(sk);
  }
  sk.rcvqSeq = sk.copiedSeq;
  sk.rcvqTime = now;
}

/** tcp_cleanup_rbuf(): after a read, tell the peer if the window opened a lot. */
function tcpCleanupRbuf(sk: TcpSock, copied: number): void {
  if (sk.state === TCP.LISTEN || sk.state === TCP.CLOSE || sk.state === TCP.SYN_SENT) return;
  let timeToAck = false;
  if (sk.ackPending && (sk.rcvNxt - sk.rcvWup) >>> 0 > sk.rcvMss) timeToAck = true;
  if (copied > 0 && !timeToAck && !(sk.shutdown & SHUT.RCV)) {
    const now = tcpReceiveWindow(sk);
    if (2 * now <= sk.windowClamp) {
      const w = tcpSelectWindowNow(sk);
      if (w > 0 && w >= 2 * now) timeToAck = true;
    }
  }
  if (timeToAck) tcpSendAck(sk);
}

/** tcp_receive_window(): what is left of the window last advertised. */
export function tcpReceiveWindow(sk: TcpSock): number {
  const w = (sk.rcvWup + sk.rcvWnd - sk.rcvNxt) | 0;
  return w < 0 ? 0 : w;
}

/** tcp_win_from_space(): the part of a buffer that can be offered as window. */
export function winFromSpace(sk: TcpSock, space: number): number {
  return Math.floor((Math.max(0, space) * sk.scalingRatio) / 256);
}
