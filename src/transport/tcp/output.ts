/**
 * net/ipv4/tcp_output.c: building segments (tcp_transmit_skb with Linux's option
 * layout), choosing the advertised window (tcp_select_window), the send loop with
 * Nagle, cwnd and receive-window tests (tcp_write_xmit), ACKs, FIN, RST, SYN and
 * retransmission. Payload chunks go into the skb as fragments without a copy; the
 * checksum is left CHECKSUM_PARTIAL, as lo's HW_CSUM lets Linux do.
 */

import { NET_XMIT } from '../../core/dev.js';
import { IFF } from '../../core/if.js';
import { NETIF_F } from '../../core/netdev-features.js';
import type { NetDevice } from '../../core/netdevice.js';
import { allocSkb, CHECKSUM, type SkBuff, skbAddFrag, skbPut } from '../../core/skbuff.js';
import { flowi4 } from '../../ipv4/fib.js';
import { IPV4_MAX_HEADROOM, type IpHeaderOpts, ipSendSkb } from '../../ipv4/ip-output.js';
import { ipRouteOutputKey, type Rtable } from '../../ipv4/route.js';
import { IPV6_MAX_HEADROOM, ip6Xmit } from '../../ipv6/ip6-output.js';
import { ip6RouteOutput } from '../../ipv6/route.js';
import type { Net } from '../../net/net.js';
import { csumFold, csumIpv6Nofold, csumTcpudpNofold } from '../../wire/checksum.js';
import { IPPROTO } from '../../wire/ipv4.js';
import {
  emitTcp,
  emitTcpHeader,
  emitTcpTimestampAligned,
  TCP_HEADER_LEN,
  TCPHDR,
  TCPOPT,
  TcpHeader,
  type TcpOption,
  type TcpSackBlock,
  tcpOptionsLen,
} from '../../wire/tcp.js';
import { mappedV4 } from '../udp.js';
import { TCP_CHRONO, tcpChronoStart, tcpChronoStop } from './chrono.js';
import { tcpTxStampSkb } from './errqueue.js';
import {
  type FastopenRequest,
  fastopenSynOption,
  type TcpFastopen,
  tcpFastopenSynSent,
  tcpFastopenSynSpace,
} from './fastopen.js';
import { TCPOLEN_MD5SIG_ALIGNED, type TcpMd5Key, tcpMd5DoLookup, tcpMd5Hash } from './md5.js';
import type { NetnsTcp } from './netns.js';
import {
  MAX_TCP_WINDOW,
  SKB_TCP_OVERHEAD,
  seqAfter,
  seqBefore,
  TCP,
  TCP_CA,
  TCP_ECN,
  TCP_INIT_CWND,
  TCP_MAX_WSCALE,
  TCP_MIN_MSS,
  TCP_MSS_DEFAULT,
  TCP_RTO_MIN_US,
  TCP_TIMEOUT_INIT,
  TCPCB,
  TCPOLEN_TSTAMP_ALIGNED,
  type TcpSock,
  type TxSeg,
  tcpFl4,
  tcpReceiveWindow,
  tcpRoute4,
  tcpRouteRt4,
  winFromSpace,
} from './sock.js';
import { inetCskResetXmitTimer, TIMER } from './timer.js';

/** What a segment on the wire needs beyond the socket: flags, sequence numbers, options, data. */
interface SegOut {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options: TcpOption[];
  data: Uint8Array[];
  len: number;
}

/** Addresses and route choices for a segment not tied to a full socket (RST, TW ACK, SYN-ACK). */
export interface CtlFlow {
  v4: boolean;
  saddr: Uint8Array;
  daddr: Uint8Array;
  sport: number;
  dport: number;
}

/** MAX_TCP_HEADER plus the largest IP header and the link header. */
const HEADROOM = Math.max(IPV4_MAX_HEADROOM, IPV6_MAX_HEADROOM);

/** Builds the skb for a segment: header and options linear, payload as fragments. */
function buildSkb(flow: CtlFlow, seg: SegOut): SkBuff {
  const repr = {
    srcPort: flow.sport,
    dstPort: flow.dport,
    seq: seg.seq >>> 0,
    ackSeq: seg.ack >>> 0,
    flags: seg.flags,
    window: seg.window,
    urgPtr: 0,
    options: seg.options,
    payload: EMPTY,
  };
  const optLen = optionsLen(seg.options);
  const hl = 20 + optLen;
  const skb = allocSkb(hl, HEADROOM);
  const at = skbPut(skb, hl);
  emitTcp(repr, skb.head, at, { mode: 'none' });
  for (const c of seg.data) skbAddFrag(skb, c);
  tcpSendCheck(skb, at, hl + seg.len, flow.v4, flow.saddr, flow.daddr);
  return skb;
}

/**
 * __tcp_v4_send_check / __tcp_v6_send_check with CHECKSUM_PARTIAL: the folded pseudo-header
 * sum of the `len`-byte segment at head[at], left for the device (lo: nobody) to finish.
 */
function tcpSendCheck(skb: SkBuff, at: number, len: number, v4: boolean, saddr: Uint8Array, daddr: Uint8Array): void {
  const sum = v4
    ? csumTcpudpNofold(mappedV4(saddr), mappedV4(daddr), len, IPPROTO.TCP)
    : csumIpv6Nofold(saddr, daddr, len, IPPROTO.TCP);
  new TcpHeader(skb.head, at, TCP_HEADER_LEN).checksum = ~csumFold(sum) & 0xffff;
  skb.ipSummed = CHECKSUM.PARTIAL;
  skb.csumStart = at;
  skb.csumOffset = 16;
}

const EMPTY = new Uint8Array(0);

/**
 * The skb of an established connection's segment with no SACK blocks to report, the
 * common case: the header and aligned timestamps written straight into the head (the
 * same bytes buildSkb makes from an option list), payload as fragments.
 */
function buildEstablishedSkb(
  sk: TcpSock,
  seq: number,
  flags: number,
  window: number,
  data: Uint8Array[],
  len: number,
): SkBuff {
  const hl = sk.tstampOk ? 20 + TCPOLEN_TSTAMP_ALIGNED : 20;
  const skb = allocSkb(hl, HEADROOM);
  const at = skbPut(skb, hl);
  const head = skb.head;
  emitTcpHeader(head, at, sk.localPort, sk.remotePort, seq >>> 0, sk.rcvNxt >>> 0, flags, window, hl);
  if (sk.tstampOk) emitTcpTimestampAligned(head, at + 20, sk.tsAt(sk.mstamp), sk.tsRecent);
  for (let i = 0; i < data.length; i++) skbAddFrag(skb, data[i] as Uint8Array);
  tcpSendCheck(skb, at, hl + len, sk.v4, sk.srcAddr, sk.remoteAddr);
  return skb;
}

function optionsLen(options: readonly TcpOption[]): number {
  return (tcpOptionsLen(options) + 3) & ~3;
}

/** Sends a built segment down IPv4 or IPv6; counts OutSegs. Returns 0 or -errno. */
function ipQueueXmit(net: Net, flow: CtlFlow, skb: SkBuff, sk: TcpSock | null, df: boolean): number {
  net.ipv4.mib.tcp.OutSegs++;
  if (flow.v4) {
    let rt: Rtable;
    let saddr = mappedV4(flow.saddr);
    if (sk !== null) {
      const r = tcpRoute4(sk);
      if (typeof r === 'number') return r;
      rt = r.rt;
      saddr = r.saddr;
    } else {
      const fl = flowi4({ daddr: mappedV4(flow.daddr), saddr, proto: IPPROTO.TCP });
      const r = ipRouteOutputKey(net, fl);
      if (typeof r === 'number') return r;
      rt = r;
    }
    const fl4 = flowi4({ daddr: mappedV4(flow.daddr), saddr, proto: IPPROTO.TCP });
    return ipSendSkb(net, skb, fl4, rt, {
      protocol: IPPROTO.TCP,
      ttl: net.ipv4.sysctl.ip_default_ttl,
      tos: 0,
      df,
      ignoreDf: false,
      inetId: sk !== null ? sk.inetIdGen : null,
    });
  }
  let rt6 = sk?.rt6 ?? null;
  // INET_ECN_xmit sets the ECN bits of the IPv6 traffic class too.
  const tclass = sk !== null ? sk.tos & 3 : 0;
  if (rt6 === null || !rt6.check()) {
    const fl6 = { daddr: flow.daddr.slice(), saddr: flow.saddr.slice(), oif: 0, proto: IPPROTO.TCP };
    const r = ip6RouteOutput(net, fl6);
    if (typeof r === 'number') return r;
    rt6 = r;
    if (sk !== null) sk.rt6 = r;
  }
  return ip6Xmit(net, skb, flow.saddr, flow.daddr, rt6, {
    nexthdr: IPPROTO.TCP,
    hopLimit: net.ipv6.sysctl.hop_limit,
    tclass,
    flowKey: (flow.sport << 16) | flow.dport,
  });
}

const IP_PMTUDISC_DONT = 0;

/** What a connected socket's segments say in their IP header (inet_sk), filled in per segment. */
const tcpIpOpts: IpHeaderOpts = { protocol: IPPROTO.TCP, ttl: 0, tos: 0, df: true, ignoreDf: false, inetId: null };

/**
 * ip_queue_xmit() for a connected socket: its cached route and its own flow and header
 * choices (inet_sk), reused from segment to segment instead of made anew.
 */
function ipQueueXmitSk(sk: TcpSock, skb: SkBuff): number {
  if (!sk.v4) return ipQueueXmit(sk.net, flowOf(sk), skb, sk, true);
  const net = sk.net;
  net.ipv4.mib.tcp.OutSegs++;
  const rt = tcpRouteRt4(sk);
  if (typeof rt === 'number') return rt;
  const fl4 = tcpFl4;
  const opts = tcpIpOpts;
  opts.inetId = sk.inetIdGen;
  opts.ttl = net.ipv4.sysctl.ip_default_ttl;
  opts.tos = sk.tos;
  // ip_dont_fragment(): DF unless IP_PMTUDISC_DONT.
  opts.df = sk.pmtudisc !== IP_PMTUDISC_DONT;
  return ipSendSkb(net, skb, fl4, rt, opts);
}

/** Sends a segment that has no full socket behind it (tcp_v4_send_reset, tcp_v4_send_ack, SYN-ACK). */
export function tcpSendCtl(net: Net, flow: CtlFlow, seg: SegOut, md5: TcpMd5Key | null = null): number {
  const skb = buildSkb(flow, md5 === null ? seg : { ...seg, options: md5Options(seg.options) });
  if (md5 !== null) tcpMd5Sign(skb, md5, flow.saddr, flow.daddr, seg.data, seg.len);
  return ipQueueXmit(net, flow, skb, null, true);
}

/** tcp_v4_md5_hash_skb() into the option's 16 bytes, which follow nop, nop, kind and length. */
function tcpMd5Sign(
  skb: SkBuff,
  key: TcpMd5Key,
  saddr: Uint8Array,
  daddr: Uint8Array,
  data: Uint8Array[],
  len: number,
): void {
  const th = skb.head.subarray(skb.data, skb.data + 20);
  skb.head.set(tcpMd5Hash(key, saddr, daddr, th, data, skb.headlen + len), skb.data + 24);
}

export function flowOf(sk: TcpSock): CtlFlow {
  return { v4: sk.v4, saddr: sk.srcAddr, daddr: sk.remoteAddr, sport: sk.localPort, dport: sk.remotePort };
}

/** The options of a segment after the handshake: timestamps, then SACK blocks (tcp_established_options). */
function establishedOptions(sk: TcpSock): TcpOption[] {
  const opts: TcpOption[] = [];
  if (sk.tstampOk)
    opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', tsval: sk.tsNow(), tsecr: sk.tsRecent });
  if (sk.sackOk && (sk.dsack !== null || sk.ofo.length > 0)) {
    const room = sk.tstampOk ? 3 : 4;
    const blocks: TcpSackBlock[] = [];
    if (sk.dsack !== null) blocks.push({ start: sk.dsack.start, end: sk.dsack.end });
    // tp->selective_acks in their order: the block that changed last first.
    for (const r of sk.selectiveAcks) if (blocks.length < room) blocks.push({ start: r.start, end: r.end });
    if (blocks.length > 0) opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks });
  }
  return opts;
}

/**
 * The options with MD5: nop, nop, the signature (filled in once the segment is built),
 * then the rest; SACK blocks keep only what fits in the 40 bytes (tcp_established_options).
 */
function md5Options(rest: TcpOption[]): TcpOption[] {
  const out: TcpOption[] = [
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'unknown', type: TCPOPT.MD5SIG, data: new Uint8Array(16) },
  ];
  let room = 40 - TCPOLEN_MD5SIG_ALIGNED;
  for (let k = 0; k < rest.length; k++) {
    const o = rest[k] as TcpOption;
    if (o.kind === 'timestamp') room -= TCPOLEN_TSTAMP_ALIGNED;
    if (o.kind === 'sack') {
      const blocks = o.blocks.slice(0, Math.max(0, Math.floor((room - 4) / 8)));
      out.pop();
      out.pop();
      if (blocks.length > 0) out.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks });
      continue;
    }
    out.push(o);
  }
  return out;
}

/** SYN / SYN-ACK options in Linux's order: mss, sackOK+TS (or nop nop sackOK), nop wscale. */
export function synOptions(
  mss: number,
  sack: boolean,
  ts: { val: number; ecr: number } | null,
  wscale: number | null,
): TcpOption[] {
  const o: TcpOption[] = [{ kind: 'mss', mss }];
  if (ts !== null) {
    if (sack) o.push({ kind: 'sack-permitted' });
    else o.push({ kind: 'nop' }, { kind: 'nop' });
    o.push({ kind: 'timestamp', tsval: ts.val, tsecr: ts.ecr });
  } else if (sack) o.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' });
  if (wscale !== null) o.push({ kind: 'nop' }, { kind: 'wscale', shift: wscale });
  return o;
}

/**
 * tcp_select_initial_window(): the window for the SYN (never scaled) and the shift to
 * offer: ilog2(max(space, tcp_rmem[2], rmem_max)) − 15, at most 14, both within the
 * window clamp — which a socket whose SO_RCVBUF was set starts at its full space
 * (tcp_connect_init, tcp_openreq_init_rwin), so a small buffer offers no scaling.
 */
export function tcpSelectInitialWindow(
  tn: NetnsTcp,
  net: Net,
  space: number,
  mss: number,
  wscaleOk: boolean,
  windowClamp = 0,
): { rcvWnd: number; wscale: number; windowClamp: number } {
  let clamp = windowClamp === 0 ? MAX_TCP_WINDOW << TCP_MAX_WSCALE : windowClamp;
  if (space > clamp) space = clamp;
  if (space > mss) space = Math.floor(space / mss) * mss;
  const rcvWnd = Math.min(space, MAX_TCP_WINDOW);
  let wscale = 0;
  if (wscaleOk) {
    let s = Math.max(space, tn.sysctl.tcp_rmem[2], net.core.rmem_max);
    s = Math.min(s, clamp);
    wscale = Math.max(0, Math.min(TCP_MAX_WSCALE, Math.floor(Math.log2(s)) - 15));
  }
  clamp = Math.min(clamp, MAX_TCP_WINDOW << wscale);
  return { rcvWnd, wscale, windowClamp: clamp };
}

/** tcp_full_space(). */
function tcpFullSpace(sk: TcpSock): number {
  return winFromSpace(sk, sk.rcvbuf);
}

/** tcp_space(): the window the free part of the receive buffer allows. */
export function tcpSpace(sk: TcpSock): number {
  return winFromSpace(sk, sk.rcvbuf - sk.rmemAlloc);
}

/** __tcp_select_window(): the window to offer now, with receiver-side silly window avoidance. */
export function tcpSelectWindowNow(sk: TcpSock): number {
  const mss = sk.rcvMss;
  let freeSpace = tcpSpace(sk);
  const allowed = tcpFullSpace(sk);
  const fullSpace = Math.min(sk.windowClamp, allowed);
  const g = 1 << sk.rcvWscale;
  // net.ipv4.tcp_shrink_window (6.5): with scaling, offer what the buffer allows now, even
  // if that takes back part of the window already offered.
  if (sk.tn.sysctl.tcp_shrink_window && sk.rcvWscale) {
    freeSpace = Math.floor(freeSpace / g) * g;
    if (freeSpace < fullSpace >> 1) {
      sk.ackQuick = 0;
      if (freeSpace < allowed >> 4 || freeSpace < mss || freeSpace < g) return 0;
    }
    if (freeSpace > sk.rcvSsthresh) freeSpace = Math.ceil(sk.rcvSsthresh / g) * g;
    return freeSpace;
  }
  if (freeSpace < fullSpace >> 1) {
    sk.ackQuick = 0;
    freeSpace = Math.floor(freeSpace / (1 << sk.rcvWscale)) * (1 << sk.rcvWscale);
    if (freeSpace < allowed >> 4 || freeSpace < mss) return 0;
  }
  if (freeSpace > sk.rcvSsthresh) freeSpace = sk.rcvSsthresh;
  let window = sk.rcvWnd;
  if (sk.rcvWscale !== 0) {
    window = freeSpace;
    const g = 1 << sk.rcvWscale;
    if (window % g !== 0) window = (Math.floor(window / g) + 1) * g;
  } else if (window <= freeSpace - mss || window > freeSpace) {
    window = Math.floor(freeSpace / mss) * mss;
  } else if (mss === fullSpace && freeSpace > window + (fullSpace >> 1)) {
    window = freeSpace;
  }
  return window;
}

/**
 * tcp_select_window(): never shrink what was offered (unless tcp_shrink_window allows it);
 * remember it; scale it for the header. Data just dropped for want of buffer (ICSK_ACK_NOMEM)
 * gets a zero window at once, the 6.14 answer to an extreme memory squeeze.
 */
function tcpSelectWindow(sk: TcpSock): number {
  const oldWin = sk.rcvWnd;
  if (sk.ackNomem) {
    sk.rcvWnd = 0;
    sk.rcvWup = sk.rcvNxt;
    return 0;
  }
  const curWin = tcpReceiveWindow(sk);
  let newWin = tcpSelectWindowNow(sk);
  if (newWin < curWin && !(sk.tn.sysctl.tcp_shrink_window && sk.rcvWscale)) {
    if (newWin === 0) sk.tn.ext.TCPWantZeroWindowAdv++;
    const g = 1 << sk.rcvWscale;
    newWin = Math.ceil(curWin / g) * g;
  }
  sk.rcvWnd = newWin;
  sk.rcvWup = sk.rcvNxt;
  newWin = Math.min(newWin, MAX_TCP_WINDOW << sk.rcvWscale) >>> sk.rcvWscale;
  if (newWin === 0) {
    if (oldWin !== 0) sk.tn.ext.TCPToZeroWindowAdv++;
  } else if (oldWin === 0) sk.tn.ext.TCPFromZeroWindowAdv++;
  return newWin;
}

/** tcp_event_ack_sent(): an ACK went out, so none is pending. */
function tcpEventAckSent(sk: TcpSock): void {
  if (sk.ackQuick > 0) sk.ackQuick--;
  sk.ackPending = false;
  sk.ackNow = false;
  sk.ackNomem = false;
  sk.timers.delack?.cancel();
}

/** tcp_transmit_skb() for a socket: options, window, ACK of what we have, then IP. */
function tcpTransmit(
  sk: TcpSock,
  seq: number,
  flags: number,
  data: Uint8Array[],
  len: number,
  gsoSize = 0,
  now = sk.clock,
): number {
  sk.mstamp = now;
  sk.wstampNs = now;
  const syn = (flags & TCPHDR.SYN) !== 0;
  let options: TcpOption[] | null = null;
  let window: number;
  if (syn) {
    const ts = sk.tstampOk ? { val: sk.tsNow(), ecr: sk.tsRecent } : null;
    options = synOptions(sk.advmss, sk.sackOk, ts, sk.wscaleOk ? sk.rcvWscale : null);
    if (sk.fastopen !== null) options.push(...fastopenSynOption(sk));
    window = Math.min(sk.rcvWnd, MAX_TCP_WINDOW);
  } else {
    if (sk.sackOk && (sk.dsack !== null || sk.ofo.length > 0)) options = establishedOptions(sk);
    window = tcpSelectWindow(sk);
  }
  // A peer with a TCP_MD5SIG key: the signature option goes first (tcp_options_write),
  // leaving SACK blocks only the room that is left of the 40 bytes.
  const md5 = sk.md5Keys === null ? null : tcpMd5DoLookup(sk.md5Keys, sk.remoteAddr);
  if (md5 !== null) options = md5Options(options ?? establishedOptions(sk));
  // A GSO packet is several segments on the wire: the counts are per segment (tcp_skb_pcount).
  const pcount = gsoSize > 0 ? Math.ceil(len / gsoSize) : 1;
  // Every GSO packet carries PSH (on its last segment once cut up), so the receiver's GRO
  // flushes it at once; a single segment only when its skb was pushed.
  if (pcount > 1 && !syn) flags |= TCPHDR.PSH;
  if (!syn && sk.ecnFlags & TCP_ECN.OK) flags = tcpEcnSend(sk, seq, flags, len);
  if (flags & TCPHDR.ACK) tcpEventAckSent(sk);
  if (sk.dsack !== null) sk.dsack = null;
  const skb =
    options === null
      ? buildEstablishedSkb(sk, seq, flags, window, data, len)
      : buildSkb(flowOf(sk), { seq, ack: sk.rcvNxt, flags, window, options, data, len });
  if (md5 !== null) tcpMd5Sign(skb, md5, sk.srcAddr, sk.remoteAddr, data, len);
  if (len > 0 && sk.errq !== null) tcpTxStampSkb(sk, skb, seq, len);
  if (pcount > 1) {
    skb.gsoSize = gsoSize;
    skb.gsoSegs = pcount;
  }
  sk.segsOut += pcount;
  if (len > 0) {
    sk.dataSegsOut += pcount;
    sk.lastDataSent = now;
    // tcp_event_data_sent(): data soon after receiving means interactive (pingpong) mode.
    if (now - sk.ackLrcvtime < sk.ackAto) sk.ackPingpong = Math.min(sk.ackPingpong + 1, 255);
  }
  // net_xmit_eval(): congestion (NET_XMIT_CN) is no failure to TCP; a drop stays NET_XMIT_DROP.
  const rc = ipQueueXmitSk(sk, skb);
  return rc === NET_XMIT.CN ? 0 : rc;
}

/**
 * tcp_ecn_send(): new data goes out ECT(0) (INET_ECN_xmit), with CWR once after a
 * reduction; ACKs and retransmissions go Not-ECT; ECE on everything while the peer
 * owes a CWR. Returns the header flags.
 */
function tcpEcnSend(sk: TcpSock, seq: number, flags: number, len: number): number {
  if (len > 0 && !seqBefore(seq, sk.sndNxt)) {
    sk.tos = (sk.tos & ~3) | INET_ECN_ECT_0;
    if (sk.ecnFlags & TCP_ECN.QUEUE_CWR) {
      sk.ecnFlags &= ~TCP_ECN.QUEUE_CWR;
      flags |= TCPHDR.CWR;
    }
  } else sk.tos &= ~3;
  if (sk.ecnFlags & TCP_ECN.DEMAND_CWR) flags |= TCPHDR.ECE;
  return flags;
}

const INET_ECN_ECT_0 = 2;

/** tcp_initialize_rcv_mss(): a conservative guess at the peer's segment size until data shows it. */
export function tcpInitializeRcvMss(sk: TcpSock): void {
  sk.rcvMss = Math.max(TCP_MIN_MSS, Math.min(sk.advmss, TCP_MSS_DEFAULT));
}

/** tcp_connect_init() + tcp_connect(): options, window, the SYN and its timer. */
export function tcpConnectInit(sk: TcpSock): void {
  const s = sk.tn.sysctl;
  const mtu = sk.v4 ? 0xffff : (sk.rt6?.mtu ?? 65536);
  const routeMtu = sk.v4 ? routeMtu4(sk) : mtu;
  sk.advmss = sk.v4 ? Math.min(routeMtu, 0xffff) - 40 : Math.min(routeMtu, 0xffff + 40) - 60;
  sk.mssClamp = 536;
  // tcp_syn_options(): no timestamps are offered alongside an MD5 signature.
  const md5 = sk.md5Keys !== null && tcpMd5DoLookup(sk.md5Keys, sk.remoteAddr) !== null;
  sk.tstampOk = s.tcp_timestamps !== 0 && !md5;
  sk.sackOk = s.tcp_sack !== 0;
  sk.wscaleOk = s.tcp_window_scaling !== 0;
  sk.tcpHeaderLen = 20 + (sk.tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
  sk.mssCache = sk.advmss - (sk.tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
  tcpInitializeRcvMss(sk);
  const full = winFromSpace(sk, sk.rcvbuf);
  const w = tcpSelectInitialWindow(sk.tn, sk.net, full, sk.advmss, sk.wscaleOk, sk.cold.rcvbufLocked ? full : 0);
  sk.rcvWnd = w.rcvWnd;
  sk.rcvWscale = w.wscale;
  sk.windowClamp = w.windowClamp;
  sk.rcvSsthresh = sk.rcvWnd;
  sk.rcvWup = 0;
  sk.rcvNxt = 0;
  sk.copiedSeq = 0;
  sk.sndUna = sk.iss;
  sk.sndNxt = sk.iss;
  sk.sndSml = sk.iss;
  sk.writeSeq = (sk.iss + 1) >>> 0;
  sk.pushedSeq = sk.writeSeq;
  sk.cwnd = TCP_INIT_CWND;
  sk.ca.init(sk);
  sk.rto = TCP_TIMEOUT_INIT;
  const syn: TxSeg = {
    seq: sk.iss,
    end: (sk.iss + 1) >>> 0,
    flags: TCPHDR.SYN,
    data: [],
    len: 0,
    sacked: 0,
    txTime: -1,
    eor: false,
    skbHead: true,
  };
  // tcp_ecn_send_syn(): net.ipv4.tcp_ecn=1 asks for ECN with ECE|CWR on the SYN.
  sk.ecnFlags = 0;
  if (sk.tn.sysctl.tcp_ecn === 1) {
    syn.flags |= TCPHDR.ECE | TCPHDR.CWR;
    sk.ecnFlags = TCP_ECN.OK;
  }
  sk.wq.push(syn);
  sk.wmemQueued += SKB_TCP_OVERHEAD;
  if (sk.fastopen?.req != null) tcpSendSynData(sk, syn);
  else sendSeg(sk, syn);
  inetCskResetXmitTimer(sk, TIMER.RETRANS, sk.rto);
}

/**
 * tcp_send_syn_data(): Fast Open's SYN carries the first write, as much as fits in the MSS
 * less the option space. The data is queued as its own segment after the SYN, so a
 * retransmitted SYN goes without it.
 */
function tcpSendSynData(sk: TcpSock, syn: TxSeg): void {
  const req = (sk.fastopen as TcpFastopen).req as FastopenRequest;
  const n = tcpFastopenSynSpace(sk, sk.advmss);
  if (n === 0 || req.data === null) {
    sendSeg(sk, syn);
    tcpFastopenSynSent(sk, 0);
    return;
  }
  const data = req.data.slice(0, n);
  const seg: TxSeg = {
    seq: (sk.iss + 1) >>> 0,
    end: (sk.iss + 1 + n) >>> 0,
    flags: TCPHDR.PSH,
    data: [data],
    len: n,
    sacked: 0,
    txTime: -1,
    eor: false,
    skbHead: true,
  };
  sk.wq.push(seg);
  sk.writeSeq = sk.pushedSeq = seg.end;
  sk.wmemQueued += n + SKB_TCP_OVERHEAD;
  const err = tcpTransmit(sk, syn.seq, syn.flags, seg.data, n);
  syn.txTime = seg.txTime = sk.mstamp;
  accountFirstSend(sk, syn);
  accountFirstSend(sk, seg);
  if (err === 0) sk.tn.ext.TCPOrigDataSent++;
  tcpFastopenSynSent(sk, n);
}

function routeMtu4(sk: TcpSock): number {
  const r = tcpRoute4(sk);
  return typeof r === 'number' ? 1500 : r.rt.mtu;
}

/**
 * Sends several never-sent MSS segments of one skb as one GSO packet: one header, the
 * FIN of the last (tcp_transmit_skb adds PSH). Each segment is still accounted for as
 * itself. A device without TSO gets them cut up first (software GSO, skb_gso_segment):
 * one packet per segment, PSH and FIN on the last, CWR on the first.
 */
function sendSegsGso(sk: TcpSock, segs: TxSeg[], mss: number, tso: boolean, now: number): number {
  const first = segs[0] as TxSeg;
  const last = segs[segs.length - 1] as TxSeg;
  if (!tso) return sendSegsSoftGso(sk, segs, now);
  const data: Uint8Array[] = [];
  let len = 0;
  for (const seg of segs) {
    for (const c of seg.data) data.push(c);
    len += seg.len;
  }
  const err = tcpTransmit(sk, first.seq, TCPHDR.ACK | (last.flags & TCPHDR.FIN), data, len, mss, now);
  if (err === LOCAL_DROP) return err;
  for (const seg of segs) {
    seg.txTime = sk.mstamp;
    accountFirstSend(sk, seg);
  }
  return err;
}

/** __tcp_gso_segment() of a GSO skb made of `segs`: PSH (forced on a GSO packet) and FIN stay on the last. */
function sendSegsSoftGso(sk: TcpSock, segs: TxSeg[], now: number): number {
  let err = 0;
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k] as TxSeg;
    const lastSeg = k === segs.length - 1;
    const flags = TCPHDR.ACK | (lastSeg ? TCPHDR.PSH | (seg.flags & TCPHDR.FIN) : 0);
    err = tcpTransmit(sk, seg.seq, flags, seg.data, seg.len, 0, now);
    if (err === LOCAL_DROP) return err;
    seg.txTime = sk.mstamp;
    accountFirstSend(sk, seg);
  }
  return err;
}

/** What tcp_transmit_skb gives back when this host's own queue dropped the packet (NET_XMIT_DROP). */
export const LOCAL_DROP = NET_XMIT.DROP;

/** What the first transmission of a segment changes: snd_nxt, packets_out, the Nagle mark. */
function accountFirstSend(sk: TcpSock, seg: TxSeg): void {
  sk.sndNxt = seqAfter(seg.end, sk.sndNxt) ? seg.end : sk.sndNxt;
  sk.packetsOut++;
  sk.maxPacketsOut = Math.max(sk.maxPacketsOut, sk.packetsOut);
  if (seg.len > 0) {
    sk.tn.ext.TCPOrigDataSent++;
    sk.bytesSent += seg.len;
  }
  if (seg.len < sk.mssCache) sk.sndSml = seg.end;
}

/** Sends (or resends) a queued segment; the first send advances snd_nxt. `now` is the caller's clock read. */
function sendSeg(sk: TcpSock, seg: TxSeg, now = sk.clock): number {
  const first = seg.txTime < 0;
  let flags = seg.flags;
  if (!(flags & TCPHDR.SYN) || sk.state !== TCP.SYN_SENT) flags |= TCPHDR.ACK;
  if (seg.len > 0 && (seg.flags & TCPHDR.PSH) !== 0) flags |= TCPHDR.PSH;
  const err = tcpTransmit(sk, seg.seq, flags, seg.data, seg.len, 0, now);
  // Dropped by this host's own queue (NET_XMIT_DROP): never sent, it stays at the send head.
  if (first && err === LOCAL_DROP) return err;
  // skb_mstamp_ns: when tcp_transmit_skb sent it.
  seg.txTime = sk.mstamp;
  if (first) accountFirstSend(sk, seg);
  else accountRetransmit(sk, seg);
  return err;
}

/** What retransmitting a segment counts (__tcp_retransmit_skb, per segment of its pcount). */
function accountRetransmit(sk: TcpSock, seg: TxSeg): void {
  sk.net.ipv4.mib.tcp.RetransSegs++;
  sk.totalRetrans++;
  sk.bytesRetrans += seg.len;
  sk.bytesSent += seg.len;
  if (!(seg.sacked & TCPCB.SACKED_RETRANS)) {
    seg.sacked |= TCPCB.SACKED_RETRANS | TCPCB.EVER_RETRANS;
    sk.retransOut++;
  }
  if (seg.flags & TCPHDR.SYN) sk.tn.ext.TCPSynRetrans++;
}

/**
 * How many segments one retransmitted packet may carry (tcp_xmit_retransmit_queue's
 * max_segs): tcp_tso_segs for the route.
 */
export function tcpRetransmitMaxSegs(sk: TcpSock): number {
  return tcpTsoSegs(sk, tcpCurrentMss(sk), tcpRouteDev(sk));
}

/**
 * tcp_retransmit_skb() with segs > 1: consecutive lost segments of one skb go out again
 * as one GSO packet (PSH forced, the FIN of the last), or cut up in software on a
 * device without TSO.
 */
export function tcpRetransmitSegs(sk: TcpSock, segs: TxSeg[]): number {
  const first = segs[0] as TxSeg;
  if (segs.length === 1) return tcpRetransmitSeg(sk, first);
  const last = segs[segs.length - 1] as TxSeg;
  const mss = tcpCurrentMss(sk);
  const dev = tcpRouteDev(sk);
  let err = 0;
  if (devTso(sk, dev)) {
    const data: Uint8Array[] = [];
    let len = 0;
    for (const seg of segs) {
      for (const c of seg.data) data.push(c);
      len += seg.len;
    }
    err = tcpTransmit(sk, first.seq, TCPHDR.ACK | (last.flags & TCPHDR.FIN), data, len, mss);
  } else {
    for (let k = 0; k < segs.length && err !== LOCAL_DROP; k++) {
      const seg = segs[k] as TxSeg;
      const end = k === segs.length - 1 ? TCPHDR.PSH | (seg.flags & TCPHDR.FIN) : 0;
      err = tcpTransmit(sk, seg.seq, TCPHDR.ACK | end, seg.data, seg.len);
    }
  }
  for (const seg of segs) {
    seg.txTime = sk.mstamp;
    accountRetransmit(sk, seg);
  }
  return err;
}

/** The first segment never sent (tcp_send_head), by index. */
function sendHeadIndex(sk: TcpSock): number {
  // Sent segments come first; search from the end since new data is appended.
  let i = sk.wq.length;
  while (i > 0 && (sk.wq[i - 1] as TxSeg).txTime < 0) i--;
  return i;
}

/**
 * tcp_write_xmit(): send what cwnd, the peer's window and Nagle allow. `push` is the
 * caller's nonagle: false for an ordinary push, true to force a partial segment out.
 */
export function tcpWriteXmit(sk: TcpSock, corked: boolean, force = false, stamp = -1): void {
  if (sk.state === TCP.SYN_SENT || sk.state === TCP.LISTEN || sk.state === TCP.CLOSE) return;
  // tcp_mstamp_refresh(): one clock read (the caller's, when it just made one) stamps every
  // segment this run sends and its chronographs (Linux's are in jiffies), not a read per use.
  const now = stamp >= 0 ? stamp : sk.clock;
  let i = sendHeadIndex(sk);
  sk.cwndLimited = false;
  const mss = tcpCurrentMss(sk);
  const dev = tcpRouteDev(sk);
  const gsoMax = tcpTsoSegs(sk, mss, dev);
  let sent = false;
  let rwndLimited = false;
  let sentSegs = 0;
  while (i < sk.wq.length) {
    tcpFitSeg(sk, i, mss);
    const seg = sk.wq[i] as TxSeg;
    const fin = (seg.flags & TCPHDR.FIN) !== 0;
    if (sk.inFlight >= sk.cwnd && !(fin && seg.len === 0)) {
      sk.cwndLimited = true;
      break;
    }
    const wndEnd = (sk.sndUna + sk.sndWnd) >>> 0;
    const dataEnd = fin ? (seg.end - 1) >>> 0 : seg.end;
    if (seqAfter(dataEnd, wndEnd)) {
      rwndLimited = true;
      break;
    }
    if (seg.len < sk.mssCache && !fin && !force && i === sk.wq.length - 1) {
      // tcp_nagle_check(): hold a partial segment while corked, or (Nagle, Minshall's
      // variant) while an earlier small segment is unacknowledged.
      if (corked) break;
      if (!sk.nodelay && sk.packetsOut > 0 && seqAfter(sk.sndSml, sk.sndUna) && !seqAfter(sk.sndSml, sk.sndNxt)) break;
    }
    // tcp_tso_should_defer() looks at an skb of several segments.
    const next = sk.wq[i + 1];
    if (gsoMax > 1 && !force && next !== undefined && !next.skbHead) {
      const defer = tcpTsoShouldDefer(sk, i, gsoMax);
      if (defer !== null) {
        if (defer === 'cwnd') sk.cwndLimited = true;
        break;
      }
    }
    const batch = gsoMax > 1 ? gsoBatch(sk, i, mss, gsoMax, corked, force) : 1;
    // tcp_write_xmit() stops at a segment tcp_transmit_skb could not send.
    if (batch > 1) {
      if (sendSegsGso(sk, sk.wq.slice(i, i + batch), mss, devTso(sk, dev), now) === LOCAL_DROP) break;
      i += batch;
    } else {
      if (sendSeg(sk, seg, now) === LOCAL_DROP) break;
      i++;
    }
    sentSegs += batch;
    sent = true;
  }
  if (rwndLimited) tcpChronoStart(sk, TCP_CHRONO.RWND_LIMITED, now);
  else tcpChronoStop(sk, TCP_CHRONO.RWND_LIMITED, now);
  // tcp_cwnd_validate(): all sent, not cwnd-limited, and the writer is out of buffer: the
  // send buffer is what holds the connection back.
  if ((sent || sk.cwndLimited) && !sk.cwndLimited && i >= sk.wq.length && sk.nospace)
    if (sk.state === TCP.ESTABLISHED || sk.state === TCP.CLOSE_WAIT) tcpChronoStart(sk, TCP_CHRONO.SNDBUF_LIMITED, now);
  // PRR counts what recovery sends (tcp_write_xmit's prr_out).
  if (sentSegs > 0 && (sk.caState === TCP_CA.CWR || sk.caState === TCP_CA.Recovery)) sk.prrOut += sentSegs;
  if (sk.packetsOut > 0) {
    // tcp_event_new_data_sent(): the RTO starts when data goes out with none in flight; a
    // running RTO or RACK reordering timer is left alone.
    if (sk.pendingTimer !== TIMER.RETRANS && sk.pendingTimer !== TIMER.REO_TIMEOUT)
      inetCskResetXmitTimer(sk, TIMER.RETRANS, sk.rto, now);
  } else if (i < sk.wq.length) {
    tcpCheckProbeTimer(sk);
  }
}

/** The device the socket's route leaves by (sk_dst_get(sk)->dev), or null. */
function tcpRouteDev(sk: TcpSock): NetDevice | null {
  if (!sk.v4) return sk.rt6?.dev ?? null;
  const rt = tcpRouteRt4(sk);
  return typeof rt === 'number' ? null : rt.dev;
}

/** Whether the device cuts GSO packets itself (TSO); otherwise they are cut before it. */
function devTso(sk: TcpSock, dev: NetDevice | null): boolean {
  return dev !== null && (dev.features & (sk.v4 ? NETIF_F.TSO : NETIF_F.TSO6)) !== 0n;
}

/**
 * tcp_tso_segs(): how many MSS one GSO packet may carry (tcp_tso_autosize). TCP always
 * builds GSO packets (sk_setup_caps forces NETIF_F_GSO); a device without TSO gets them
 * cut up in software. lo keeps one segment per packet, its MSS being the GSO size already.
 */
function tcpTsoSegs(sk: TcpSock, mss: number, dev: NetDevice | null): number {
  // sk_gso_disable(): a socket with MD5 keys signs every segment, so sends no GSO packets.
  if (dev === null || dev.flags & IFF.LOOPBACK || sk.md5Keys !== null) return 1;
  const segs = tcpTsoAutosize(sk, mss, sk.tn.sysctl.tcp_min_tso_segs, dev.gsoMaxSize - MAX_TCP_HEADER);
  return Math.max(1, Math.min(segs, dev.gsoMaxSegs));
}

/**
 * tcp_xmit_size_goal(): how much sendmsg puts in one skb — the GSO maximum
 * (sk_gso_max_size: the device's, less MAX_TCP_HEADER + 1) bounded by half the peer's
 * largest window, in whole MSS, at least one.
 */
export function tcpXmitSizeGoal(sk: TcpSock, mss: number): number {
  const dev = tcpRouteDev(sk);
  if (dev === null || sk.md5Keys !== null) return mss;
  const goal = tcpBoundToHalfWnd(sk, dev.gsoMaxSize - (MAX_TCP_HEADER + 1));
  const segs = Math.min(Math.floor(goal / mss), dev.gsoMaxSegs);
  return Math.max(segs * mss, mss);
}

/**
 * sk_pacing_rate in bytes/s as tcp_update_pacing_rate() sets it: 200% of cwnd·mss/srtt in
 * slow start (tcp_pacing_ss_ratio), 120% after (tcp_pacing_ca_ratio); unlimited (~0UL)
 * until an RTT is measured.
 */
function tcpPacingRate(sk: TcpSock): number {
  if (sk.srttUs === 0) return Number.POSITIVE_INFINITY;
  const ratio = sk.cwnd < sk.ssthresh / 2 ? 200 : 120;
  return Math.floor((sk.mssCache * 80_000 * ratio * Math.max(sk.cwnd, sk.packetsOut)) / sk.srttUs);
}

/**
 * tcp_tso_autosize(): about 1 ms of the pacing rate per packet (sk_pacing_shift 10), plus
 * a share of the GSO size that shrinks as min_rtt grows (tcp_tso_rtt_log), never under
 * tcp_min_tso_segs.
 */
function tcpTsoAutosize(sk: TcpSock, mss: number, minTsoSegs: number, gsoMaxSize: number): number {
  let bytes = tcpPacingRate(sk) / 1024;
  const minRtt = sk.minRttUs === 0 ? 0xffffffff : sk.minRttUs;
  const r = Math.floor(minRtt / 2 ** sk.tn.sysctl.tcp_tso_rtt_log);
  if (r < 32) bytes += Math.floor(gsoMaxSize / 2 ** r);
  bytes = Math.min(bytes, gsoMaxSize);
  return Math.max(Math.floor(bytes / mss), minTsoSegs);
}

/** tcp_max_tso_deferred_mss(): with tcp_tso_win_divisor 0, defer at most three segments' worth. */
const TCP_MAX_TSO_DEFERRED_MSS = 3;

/**
 * tcp_tso_should_defer(): while segments went out within the last millisecond and the
 * window allows less than a full TSO packet (or less than 1/tcp_tso_win_divisor of the
 * window), wait for the next ACK to send a bigger one — unless that ACK is not due
 * within half an RTT. Returns 'cwnd' or 'rwnd' for what held it back, '' to defer
 * anyway, null to send now.
 */
function tcpTsoShouldDefer(sk: TcpSock, i: number, maxSegs: number): 'cwnd' | 'rwnd' | '' | null {
  if (sk.caState >= TCP_CA.Recovery) return null;
  if (sk.clock - sk.wstampNs - 1e6 > 0) return null;
  const seg = sk.wq[i] as TxSeg;
  const mss = sk.mssCache;
  const sendWin = ((sk.sndUna + sk.sndWnd - seg.seq) | 0) >>> 0;
  const congWin = (sk.cwnd - sk.inFlight) * mss;
  const limit = Math.min(sendWin, congWin);
  if (limit >= maxSegs * mss) return null;
  const div = sk.tn.sysctl.tcp_tso_win_divisor;
  if (div !== 0) {
    const chunk = Math.floor(Math.min(sk.sndWnd, sk.cwnd * mss) / div);
    if (limit >= chunk) return null;
  } else if (limit > TCP_MAX_TSO_DEFERRED_MSS * mss) return null;
  const head = sk.wq[0];
  if (head === undefined || head.txTime < 0) return null;
  // The next ACK is likely too late (more than half an RTT away): do not wait for it.
  if (sk.clock - head.txTime - (sk.srttUs >> 4) * 1e3 < 0) return null;
  let skbLen = 0;
  let fin = false;
  for (let k = i; k < sk.wq.length; k++) {
    const s = sk.wq[k] as TxSeg;
    skbLen += s.len;
    if (s.flags & TCPHDR.FIN) fin = true;
  }
  if (congWin < sendWin) {
    if (congWin <= skbLen) return 'cwnd';
  } else if (sendWin <= skbLen) return 'rwnd';
  // This data will get no more company: do not wait.
  if (fin) return null;
  return '';
}

/** MAX_TCP_HEADER: the headroom a segment reserves, which the GSO size leaves room for. */
const MAX_TCP_HEADER = 320;

/**
 * How many never-sent segments from index `i` go out together (tcp_write_xmit with
 * tcp_mss_split_point): within the GSO limit, cwnd and the peer's window; a sub-MSS
 * tail only when Nagle lets it go, and a FIN ends the packet.
 */
function gsoBatch(sk: TcpSock, i: number, mss: number, max: number, corked: boolean, force: boolean): number {
  const wndEnd = (sk.sndUna + sk.sndWnd) >>> 0;
  // tcp_cwnd_test(): at most half the cwnd per packet, so at least two GSO packets are in flight.
  max = Math.min(max, Math.max(sk.cwnd >> 1, 1));
  let n = 0;
  while (n < max && i + n < sk.wq.length) {
    const seg = sk.wq[i + n] as TxSeg;
    if (seg.txTime >= 0 || seg.flags & TCPHDR.SYN) break;
    // A packet is cut from one skb (tcp_mss_split_point, tso_fragment), never two.
    if (n > 0 && seg.skbHead) break;
    if (sk.inFlight + n >= sk.cwnd) break;
    const fin = (seg.flags & TCPHDR.FIN) !== 0;
    if (seqAfter(fin ? (seg.end - 1) >>> 0 : seg.end, wndEnd)) break;
    // A record's short last segment (MSG_EOR) ends this packet rather than starting the next.
    if (seg.len < mss && !fin && !seg.eor && n > 0) {
      const tail = i + n === sk.wq.length - 1;
      if (!tail || corked) break;
      if (!force && !sk.nodelay && seqAfter(sk.sndSml, sk.sndUna)) break;
    }
    n++;
    if (fin || seg.len < mss || seg.eor) break;
  }
  return Math.max(n, 1);
}

/** tcp_push_pending_frames(): tcp_write_xmit only when something waits to be sent (tcp_send_head). */
export function tcpPushPendingFrames(sk: TcpSock): void {
  if (sendHeadIndex(sk) < sk.wq.length) tcpWriteXmit(sk, sk.cork);
}

/** tcp_push(): after the application wrote; `now` is the clock as the write read it, -1 if it did not. */
export function tcpPush(sk: TcpSock, corked: boolean, now = -1): void {
  tcpWriteXmit(sk, corked, false, now);
}

/** tcp_check_probe_timer(): data waits for a window while nothing is in flight — probe it. */
export function tcpCheckProbeTimer(sk: TcpSock): void {
  if (sk.packetsOut === 0 && sk.pendingTimer === 0)
    inetCskResetXmitTimer(sk, TIMER.PROBE0, Math.max(sk.rto, TCP_RTO_MIN_US * 1e3));
}

/** tcp_send_ack(): a bare ACK of what we have, with the current window. */
export function tcpSendAck(sk: TcpSock): void {
  if (sk.state === TCP.CLOSE || sk.state === TCP.LISTEN) return;
  tcpTransmit(sk, sk.sndNxt, TCPHDR.ACK, [], 0);
}

/** tcp_send_fin(): FIN rides on the last unsent segment, or goes alone. */
export function tcpSendFin(sk: TcpSock): void {
  const tail = sk.wq.length > 0 ? sk.wq[sk.wq.length - 1] : undefined;
  if (tail !== undefined && tail.txTime < 0 && !(tail.flags & TCPHDR.SYN)) {
    tail.flags |= TCPHDR.FIN;
    tail.end = (tail.end + 1) >>> 0;
  } else {
    sk.wq.push({
      seq: sk.writeSeq,
      end: (sk.writeSeq + 1) >>> 0,
      flags: TCPHDR.FIN,
      data: [],
      len: 0,
      sacked: 0,
      txTime: -1,
      eor: false,
      skbHead: true,
    });
    sk.wmemQueued += SKB_TCP_OVERHEAD;
  }
  sk.writeSeq = (sk.writeSeq + 1) >>> 0;
  tcpWriteXmit(sk, false, true);
}

/** tcp_send_active_reset(): RST|ACK at snd_nxt. */
export function tcpSendActiveReset(sk: TcpSock): void {
  if (sk.remotePort === 0 || sk.state === TCP.LISTEN) return;
  sk.net.ipv4.mib.tcp.OutRsts++;
  tcpTransmit(sk, sk.sndNxt, TCPHDR.RST | TCPHDR.ACK, [], 0);
}

/** Retransmits one queued segment (tcp_retransmit_skb), split first if the MSS shrank since it was sent. */
export function tcpRetransmitSeg(sk: TcpSock, seg: TxSeg): number {
  if (seqBefore(seg.seq, sk.sndUna)) trimHead(sk, seg, (sk.sndUna - seg.seq) >>> 0);
  tcpFitSeg(sk, sk.wq.indexOf(seg), tcpCurrentMss(sk));
  return sendSeg(sk, seg);
}

/** tcp_trim_head(): drop acknowledged bytes from the front of a partly acked segment. */
export function trimHead(sk: TcpSock, seg: TxSeg, n: number): void {
  if (seg.flags & TCPHDR.SYN) {
    seg.flags &= ~TCPHDR.SYN;
    seg.seq = (seg.seq + 1) >>> 0;
    n--;
  }
  let left = Math.min(n, seg.len);
  while (left > 0) {
    const c = seg.data[0] as Uint8Array;
    if (c.byteLength <= left) {
      seg.data.shift();
      left -= c.byteLength;
    } else {
      seg.data[0] = c.subarray(left);
      left = 0;
    }
  }
  const cut = Math.min(n, seg.len);
  seg.len -= cut;
  seg.seq = (seg.seq + cut) >>> 0;
  sk.wmemQueued -= cut;
}

/**
 * tcp_write_wakeup() (the persist timer's probe): if the window has room, send what
 * fits — splitting the head segment — else a zero-window probe at snd_una − 1.
 */
export function tcpWriteWakeup(sk: TcpSock): number {
  const i = sendHeadIndex(sk);
  const seg = sk.wq[i];
  const wndEnd = (sk.sndUna + sk.sndWnd) >>> 0;
  if (seg !== undefined && seqBefore(seg.seq, wndEnd)) {
    const room = (wndEnd - seg.seq) >>> 0;
    if (room < seg.len) splitSeg(sk, i, room, true);
    seg.flags |= TCPHDR.PSH;
    const err = sendSeg(sk, seg);
    if (err === LOCAL_DROP) return err;
    if (sk.pendingTimer !== TIMER.RETRANS) inetCskResetXmitTimer(sk, TIMER.RETRANS, sk.rto);
    return err;
  }
  sk.tn.ext.TCPWinProbe++;
  return tcpTransmit(sk, (sk.sndUna - 1) >>> 0, TCPHDR.ACK, [], 0);
}

/**
 * tcp_fragment(): the first `n` bytes stay in the segment, the rest become a new one
 * after it — a new skb (`newSkb`), or the next MSS of the same one when the MSS shrank
 * (tcp_set_skb_tso_segs). PSH and FIN go with the second part.
 */
function splitSeg(sk: TcpSock, i: number, n: number, newSkb: boolean): void {
  const seg = sk.wq[i] as TxSeg;
  const rest: TxSeg = {
    seq: (seg.seq + n) >>> 0,
    end: seg.end,
    flags: seg.flags & (TCPHDR.FIN | TCPHDR.PSH),
    data: [],
    len: seg.len - n,
    sacked: 0,
    txTime: -1,
    eor: false,
    skbHead: newSkb,
  };
  let left = n;
  const keep: Uint8Array[] = [];
  for (const c of seg.data) {
    if (left >= c.byteLength) {
      keep.push(c);
      left -= c.byteLength;
    } else if (left > 0) {
      keep.push(c.subarray(0, left));
      rest.data.push(c.subarray(left));
      left = 0;
    } else rest.data.push(c);
  }
  seg.data = keep;
  seg.len = n;
  seg.end = (seg.seq + n) >>> 0;
  seg.flags &= ~(TCPHDR.FIN | TCPHDR.PSH);
  rest.eor = seg.eor;
  seg.eor = false;
  if (seg.txTime >= 0) {
    // Splitting a segment already sent: both halves are out, with the same marks.
    rest.txTime = seg.txTime;
    rest.sacked = seg.sacked;
    sk.packetsOut++;
    if (seg.sacked & TCPCB.LOST) sk.lostOut++;
    if (seg.sacked & TCPCB.SACKED_RETRANS) sk.retransOut++;
    if (seg.sacked & TCPCB.SACKED_ACKED) sk.sackedOut++;
  }
  sk.wq.splice(i + 1, 0, rest);
  sk.wmemQueued += SKB_TCP_OVERHEAD;
}

/**
 * tcp_current_mss() + tcp_sync_mss(): when the route's MTU changes (ip link set lo mtu
 * …), the send MSS follows it, less the IP and TCP headers and options in use.
 */
export function tcpCurrentMss(sk: TcpSock): number {
  let mtu: number;
  if (sk.v4) {
    const rt = tcpRouteRt4(sk);
    if (typeof rt === 'number') return sk.mssCache;
    mtu = rt.mtu;
  } else {
    let rt6 = sk.rt6;
    if (rt6 === null || !rt6.check()) {
      const fl6 = { daddr: sk.remoteAddr.slice(), saddr: sk.srcAddr.slice(), oif: 0, proto: IPPROTO.TCP };
      const r = ip6RouteOutput(sk.net, fl6);
      if (typeof r === 'number') return sk.mssCache;
      rt6 = r;
      sk.rt6 = r;
    }
    mtu = rt6.mtu;
  }
  if (mtu !== sk.pmtuCookie || sk.maxWindow !== sk.mssWindowCookie) {
    sk.pmtuCookie = mtu;
    sk.mssWindowCookie = sk.maxWindow;
    const ipHdr = sk.v4 ? 20 : 40;
    let mss = Math.min(mtu, sk.v4 ? 0xffff : 0xffff + 40) - ipHdr - 20;
    mss = Math.min(mss, sk.mssClamp) - (sk.tcpHeaderLen - 20);
    mss = tcpBoundToHalfWnd(sk, mss);
    sk.mssCache = Math.max(mss, sk.tn.sysctl.tcp_min_snd_mss);
  }
  // The signature option is not in tcp_header_len: tcp_current_mss() takes it off.
  if (sk.md5Keys !== null && tcpMd5DoLookup(sk.md5Keys, sk.remoteAddr) !== null)
    return sk.mssCache - TCPOLEN_MD5SIG_ALIGNED;
  return sk.mssCache;
}

/**
 * tcp_bound_to_half_wnd(): no segment above half the largest window the peer offered,
 * so a small window still carries two segments (Linux re-syncs the MSS whenever
 * max_window grows, tcp_ack_update_window → tcp_sync_mss).
 */
function tcpBoundToHalfWnd(sk: TcpSock, pktsize: number): number {
  const cutoff = sk.maxWindow > 536 ? sk.maxWindow >> 1 : sk.maxWindow;
  if (cutoff > 0 && pktsize > cutoff) return Math.max(cutoff, 68 - sk.tcpHeaderLen);
  return pktsize;
}

/** Splits any queued segment larger than `mss` at index `i` (tcp_fragment before sending). */
export function tcpFitSeg(sk: TcpSock, i: number, mss: number): void {
  const seg = sk.wq[i];
  if (seg !== undefined && seg.len > mss && !(seg.flags & TCPHDR.SYN)) splitSeg(sk, i, mss, false);
}

/** tcp_xmit_probe_skb() for keepalive: an old sequence number makes the peer answer. */
export function tcpSendKeepaliveProbe(sk: TcpSock): void {
  sk.tn.ext.TCPKeepAlive++;
  tcpTransmit(sk, (sk.sndUna - 1) >>> 0, TCPHDR.ACK, [], 0);
}

/** tcp_send_synack() for a simultaneous open and tcp_rtx_synack(). */
export function tcpSendSynack(sk: TcpSock): void {
  // tcp_ecn_send_synack(): ECE alone says yes to the peer's ECN.
  const ece = sk.ecnFlags & TCP_ECN.OK ? TCPHDR.ECE : 0;
  tcpTransmit(sk, sk.iss, TCPHDR.SYN | TCPHDR.ACK | ece, [], 0);
}

/** Resend the SYN (or the SYN-ACK of a simultaneous open) from the write queue. */
export function tcpRetransmitSyn(sk: TcpSock): void {
  const syn = sk.wq[0];
  if (syn === undefined) return;
  if (sk.state === TCP.SYN_RECV) {
    sk.net.ipv4.mib.tcp.RetransSegs++;
    sk.tn.ext.TCPSynRetrans++;
    tcpSendSynack(sk);
    return;
  }
  // tcp_ecn_clear_syn() (tcp_ecn_fallback): a retransmitted SYN stops asking for ECN,
  // in case ECN is what kept the first from an answer.
  syn.flags &= ~(TCPHDR.ECE | TCPHDR.CWR);
  sendSeg(sk, syn);
}

/**
 * tcp_slow_start_after_idle_check() (include/net/tcp.h): nothing in flight and no data sent
 * for more than an RTO, so the cwnd measured before may no longer hold (RFC 2861): restart it.
 */
export function tcpSlowStartAfterIdleCheck(sk: TcpSock): void {
  if (!sk.tn.sysctl.tcp_slow_start_after_idle || sk.packetsOut > 0) return;
  const delta = sk.clock - sk.lastDataSent;
  if (delta > sk.rto) tcpCwndRestart(sk, delta);
}

/** tcp_cwnd_restart(): halve cwnd for every RTO of idleness, down to the initial window. */
function tcpCwndRestart(sk: TcpSock, delta: number): void {
  // tcp_current_ssthresh(): remember 3/4 of the cwnd being given up, unless in a reduction.
  if (sk.caState !== TCP_CA.CWR && sk.caState !== TCP_CA.Recovery)
    sk.ssthresh = Math.max(sk.ssthresh, (sk.cwnd >> 1) + (sk.cwnd >> 2));
  const restart = Math.min(TCP_INIT_CWND, sk.cwnd);
  let cwnd = sk.cwnd;
  for (delta -= sk.rto; delta > 0 && cwnd > restart; delta -= sk.rto) cwnd >>= 1;
  sk.cwnd = Math.max(cwnd, restart);
}

/** tcp_sndbuf_expand(): room for two windows of full segments once the connection is up. */
export function tcpSndbufExpand(sk: TcpSock): void {
  if (sk.cold.sndbufLocked) return;
  const perMss = Math.max(sk.mssCache, sk.advmss) + SKB_TCP_OVERHEAD;
  const segs = Math.max(TCP_INIT_CWND, sk.cwnd, sk.reordering + 1);
  const sndmem = 2 * segs * perMss;
  if (sndmem > sk.sndbuf) sk.sndbuf = Math.min(sndmem, sk.tn.sysctl.tcp_wmem[2]);
}
