/**
 * net/ipv4/tcp_input.c for a full socket: tcp_rcv_state_process (RFC 9293's "segment
 * arrives" for every state past LISTEN), tcp_ack (window update, SACK, cleaning the
 * retransmission queue, RTT, congestion control), tcp_data_queue with the
 * out-of-order queue, FIN handling, delayed ACKs, PAWS and RFC 5961's challenge ACKs.
 */

import { E } from '../../include/errno.js';
import { TCPHDR, type TcpFastopenCookie, type TcpSackBlock } from '../../wire/tcp.js';
import { TCP_CHRONO, tcpChronoStop } from './chrono.js';
import { tcpCold } from './cold.js';
import { tcpAckErrq } from './errqueue.js';
import { type FastopenRsk, tcpFastopenRemove, tcpRcvFastopenSynack } from './fastopen.js';
import { timewaitEnter } from './minisocks.js';
import {
  flowOf,
  tcpPushPendingFrames,
  tcpRetransmitSeg,
  tcpSelectWindowNow,
  tcpSendAck,
  tcpSendActiveReset,
  tcpSendCtl,
  tcpSendSynack,
  tcpSlowStartAfterIdleCheck,
  tcpSndbufExpand,
  tcpSpace,
  tcpWriteXmit,
  trimHead,
} from './output.js';
import {
  FLAG,
  tcpCheckSackReordering,
  tcpCwndReduction,
  tcpFastretransAlert,
  tcpInCwndReduction,
  tcpRackAdvance,
  tcpSacktag,
  tcpXmitRetransmitQueue,
} from './recovery.js';
import {
  type OfoSeg,
  SHUT,
  SKB_TCP_OVERHEAD,
  seqAfter,
  seqBefore,
  TCP,
  TCP_ATO_MIN,
  TCP_CA,
  TCP_ECN,
  TCP_MAX_QUICKACKS,
  TCP_MAX_WSCALE,
  TCP_MIN_MSS,
  TCP_MSS_DEFAULT,
  TCP_RTO_MAX,
  TCP_RTO_MIN_US,
  TCPCB,
  TCPOLEN_TSTAMP_ALIGNED,
  type TcpSock,
  tcpDone,
  tcpRcvbufGrow,
  tcpReceiveWindow,
  tcpSetState,
  tcpSkipUrgByte,
  wakeState,
  winFromSpace,
} from './sock.js';
import { TIMER, tcpRearmRto, tcpResetKeepaliveTimer, tcpSendDelayedAck } from './timer.js';

/** What input needs of a segment (struct tcp_skb_cb plus the parsed options). */
export interface TcpCb {
  seq: number;
  /** seq + SYN + FIN + payload length. */
  end: number;
  ack: number;
  flags: number;
  /** The raw window field. */
  window: number;
  data: Uint8Array[];
  len: number;
  truesize: number;
  /** skb_shinfo(skb)->gso_size: the sender's segment size when several arrive as one (0: one). */
  gsoSize: number;
  mss: number | undefined;
  wscale: number | undefined;
  sackOk: boolean;
  tsval: number | undefined;
  tsecr: number | undefined;
  sack: TcpSackBlock[] | undefined;
  /** The ECN field of the IP header (ip_dsfield & INET_ECN_MASK): 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  ecn: number;
  /** A SYN's Fast Open option (tcp_parse_options' foc). */
  fastopen?: TcpFastopenCookie | undefined;
  /** th->urg_ptr, meaningful with URG set. */
  urgPtr?: number;
}

const has = (cb: TcpCb, f: number) => (cb.flags & f) !== 0;

/** tcp_rtt_estimator() + tcp_set_rto(), in µs as Linux keeps them. */
export function tcpRttEstimator(sk: TcpSock, mrttUs: number): void {
  let m = Math.max(1, Math.round(mrttUs));
  const rtoMin = TCP_RTO_MIN_US;
  if (sk.minRttUs === 0 || m < sk.minRttUs) sk.minRttUs = m;
  if (sk.srttUs !== 0) {
    m -= sk.srttUs >> 3;
    sk.srttUs += m;
    if (m < 0) {
      m = -m;
      m -= sk.mdevUs >> 2;
      if (m > 0) m >>= 3;
    } else {
      m -= sk.mdevUs >> 2;
    }
    sk.mdevUs += m;
    if (sk.mdevUs > sk.mdevMaxUs) {
      sk.mdevMaxUs = sk.mdevUs;
      if (sk.mdevMaxUs > sk.rttvarUs) sk.rttvarUs = sk.mdevMaxUs;
    }
    if (seqAfter(sk.sndUna, sk.rttSeq)) {
      if (sk.mdevMaxUs < sk.rttvarUs) sk.rttvarUs -= (sk.rttvarUs - sk.mdevMaxUs) >> 2;
      sk.rttSeq = sk.sndNxt;
      sk.mdevMaxUs = rtoMin;
    }
  } else {
    sk.srttUs = m << 3;
    sk.mdevUs = m << 1;
    sk.rttvarUs = Math.max(sk.mdevUs, rtoMin);
    sk.mdevMaxUs = sk.rttvarUs;
    sk.rttSeq = sk.sndNxt;
  }
  sk.rto = Math.min(((sk.srttUs >> 3) + sk.rttvarUs) * 1e3, TCP_RTO_MAX);
}

/** tcp_incr_quickack(). */
function tcpIncrQuickack(sk: TcpSock, max: number): void {
  let q = Math.floor(sk.rcvWnd / (2 * sk.rcvMss));
  if (q === 0) q = 2;
  q = Math.min(q, max);
  if (q > sk.ackQuick) sk.ackQuick = q;
}

/** tcp_enter_quickack_mode(). */
function tcpEnterQuickackMode(sk: TcpSock, max: number): void {
  tcpIncrQuickack(sk, max);
  sk.ackPingpong = 0;
  sk.ackAto = TCP_ATO_MIN;
}

/**
 * __tcp_ecn_check_ce(): a CE mark makes us echo ECE until the sender says CWR (and ACK
 * at once: its cwnd may be small); any ECT marks the connection ECN-seen; a Not-ECT
 * segment after that is probably a retransmission.
 */
function tcpEcnCheckCe(sk: TcpSock, cb: TcpCb): void {
  if (cb.ecn === 0) {
    if (sk.ecnFlags & TCP_ECN.SEEN) tcpEnterQuickackMode(sk, 2);
    return;
  }
  if (cb.ecn === 3 && !(sk.ecnFlags & TCP_ECN.DEMAND_CWR)) {
    tcpEnterQuickackMode(sk, 2);
    sk.ecnFlags |= TCP_ECN.DEMAND_CWR;
  }
  sk.ecnFlags |= TCP_ECN.SEEN;
}

/**
 * tcp_measure_rcv_mss(): the peer's segment size (gso_size for a GSO packet), and, when it
 * changes, the payload/truesize ratio the buffer-to-window conversions use; the window clamp
 * follows the ratio.
 */
function tcpMeasureRcvMss(sk: TcpSock, cb: TcpCb): void {
  const lss = sk.lastSegSize;
  sk.lastSegSize = 0;
  let len = cb.gsoSize || cb.len;
  if (len >= sk.rcvMss) {
    if (len !== sk.rcvMss) {
      const val = Math.floor((cb.len * 256) / cb.truesize);
      const old = sk.scalingRatio;
      sk.scalingRatio = Math.min(val, 255) || 1;
      if (old !== sk.scalingRatio) {
        tcpSetWindowClamp(sk, winFromSpace(sk, sk.rcvbuf));
        if (sk.windowClamp < sk.rcvqSpace) sk.rcvqSpace = sk.windowClamp;
      }
    }
    sk.rcvMss = Math.min(len, sk.advmss);
    return;
  }
  // Smaller segments: len with the TCP header, less the invariant header, sets rcv_mss once two
  // in a row agree (the peer's MSS shrank, e.g. after an MTU change).
  len += 20 + (cb.tsval !== undefined ? TCPOLEN_TSTAMP_ALIGNED : 0);
  const remnant = cb.flags & (TCPHDR.FIN | TCPHDR.URG | TCPHDR.SYN | TCPHDR.PSH);
  if (len >= TCP_MSS_DEFAULT + 20 || (len >= TCP_MIN_MSS + 20 && !remnant)) {
    len -= sk.tcpHeaderLen;
    sk.lastSegSize = len;
    if (len === lss) sk.rcvMss = len;
  }
}

/** tcp_event_data_recv(): measure the peer's segment size, adapt ato, grow the window. */
function tcpEventDataRecv(sk: TcpSock, cb: TcpCb): void {
  tcpMeasureRcvMss(sk, cb);
  const now = sk.mstamp;
  // tcp_rcv_rtt_measure(): the time to receive a window's worth of data estimates the RTT
  // on the receiving side (what receive-buffer autotuning paces itself by).
  if (sk.rcvRttTime === 0 || !seqBefore(sk.rcvNxt, sk.rcvRttSeq)) {
    if (sk.rcvRttTime !== 0) {
      const sample = Math.max(1, (now - sk.rcvRttTime) / 1e3);
      sk.rcvRttUs = sk.rcvRttUs === 0 ? sample : Math.min(sk.rcvRttUs, sample);
    }
    sk.rcvRttSeq = (sk.rcvNxt + sk.rcvWnd) >>> 0;
    sk.rcvRttTime = now;
  }
  if (sk.ackAto === 0) {
    tcpIncrQuickack(sk, TCP_MAX_QUICKACKS);
    sk.ackAto = TCP_ATO_MIN;
  } else {
    const m = now - sk.ackLrcvtime;
    if (m <= TCP_ATO_MIN / 2) sk.ackAto = sk.ackAto / 2 + TCP_ATO_MIN / 2;
    else if (m < sk.ackAto) sk.ackAto = Math.min(sk.ackAto / 2 + m, sk.rto);
    else if (m > sk.rto) tcpIncrQuickack(sk, TCP_MAX_QUICKACKS);
  }
  sk.ackLrcvtime = now;
  if (sk.ecnFlags & TCP_ECN.OK) tcpEcnCheckCe(sk, cb);
  if (cb.len >= 128) tcpGrowWindow(sk, cb);
}

/** __tcp_grow_window(): a poor payload/truesize skb may still grow the window while rcv_ssthresh is small. */
function tcpGrowWindowSlow(sk: TcpSock, cb: TcpCb): number {
  let truesize = winFromSpace(sk, cb.truesize) >> 1;
  let window = winFromSpace(sk, sk.tn.sysctl.tcp_rmem[2]) >> 1;
  while (sk.rcvSsthresh <= window) {
    if (truesize <= cb.len) return 2 * sk.rcvMss;
    truesize >>= 1;
    window >>= 1;
  }
  return 0;
}

/**
 * tcp_grow_window(): raise rcv_ssthresh towards what the clamp and the free buffer allow when
 * this skb's overhead would let such segments fit. (truesize_adjust() never applies: lonet's
 * skbs keep their payload in the head.)
 */
function tcpGrowWindow(sk: TcpSock, cb: TcpCb): void {
  const room = Math.min(sk.windowClamp, tcpSpace(sk)) - sk.rcvSsthresh;
  if (room <= 0) return;
  let incr = winFromSpace(sk, cb.truesize) <= cb.len ? 2 * sk.advmss : tcpGrowWindowSlow(sk, cb);
  if (incr === 0) return;
  incr = Math.max(incr, 2 * cb.len);
  sk.rcvSsthresh += Math.min(room, incr);
  sk.ackQuick |= 1;
}

/** SOCK_MIN_RCVBUF / 2: the least window clamp (2 × (2048 + struct sk_buff)) / 2. */
const MIN_WINDOW_CLAMP = 2048 + 256;

/** tcp_set_window_clamp(): a smaller clamp pulls rcv_ssthresh down; a larger one lets it follow rcv_wnd. */
function tcpSetWindowClamp(sk: TcpSock, val: number): void {
  const clamp = Math.max(MIN_WINDOW_CLAMP, val);
  if (clamp === sk.windowClamp) return;
  const old = sk.windowClamp;
  sk.windowClamp = clamp;
  if (clamp < old) sk.rcvSsthresh = Math.min(sk.rcvSsthresh, clamp);
  else sk.rcvSsthresh = Math.max(Math.min(sk.rcvWnd, clamp), sk.rcvSsthresh);
}

/** tcp_in_quickack_mode(). */
function inQuickack(sk: TcpSock): boolean {
  return sk.ackQuick > 0 && sk.ackPingpong < 1;
}

/** __tcp_ack_snd_check(): ACK now, or let the delayed-ACK timer do it. */
function tcpAckSndCheck(sk: TcpSock): void {
  if (!sk.ackPending) return;
  const moreThanOne = (sk.rcvNxt - sk.rcvWup) >>> 0 > sk.rcvMss;
  if (
    (moreThanOne && (sk.rcvNxt === sk.copiedSeq || tcpSelectWindowNow(sk) >= sk.rcvWnd)) ||
    inQuickack(sk) ||
    sk.ackNow ||
    sk.ofo.length > 0 ||
    sk.dsack !== null
  ) {
    tcpSendAck(sk);
    return;
  }
  tcpSendDelayedAck(sk, sk.mstamp);
}

/**
 * tcp_oow_rate_limited(): ACKs answering out-of-window or invalid segments without data
 * go out at most once per tcp_invalid_ratelimit ms, so two stacks can't ping-pong them.
 */
function oowRateLimited(
  sk: TcpSock,
  cb: TcpCb,
  counter: 'TCPACKSkippedSeq' | 'TCPACKSkippedChallenge' | 'TCPACKSkippedPAWS',
): boolean {
  if (cb.seq !== cb.end && !has(cb, TCPHDR.SYN)) return false;
  const now = sk.clock;
  if (sk.cold.lastOowAck !== 0 && now - sk.cold.lastOowAck < sk.tn.sysctl.tcp_invalid_ratelimit * 1e6) {
    sk.tn.ext[counter]++;
    return true;
  }
  tcpCold(sk).lastOowAck = now || 1;
  return false;
}

/** tcp_send_challenge_ack() (RFC 5961 §4, §5, §7). */
function tcpSendChallengeAck(sk: TcpSock, cb: TcpCb): void {
  if (oowRateLimited(sk, cb, 'TCPACKSkippedChallenge')) return;
  sk.tn.ext.TCPChallengeACK++;
  tcpSendAck(sk);
}

/** tcp_reset(): the peer reset the connection. */
export function tcpReset(sk: TcpSock): void {
  const mib = sk.net.ipv4.mib.tcp;
  let errno: number = E.ECONNRESET;
  if (sk.state === TCP.SYN_SENT) errno = E.ECONNREFUSED;
  else if (sk.state === TCP.CLOSE_WAIT) errno = E.EPIPE;
  else if (sk.state === TCP.CLOSE) return;
  if (sk.state === TCP.ESTABLISHED || sk.state === TCP.CLOSE_WAIT) mib.EstabResets++;
  sk.err = errno;
  const cb = sk.onError;
  if (cb !== null) queueMicrotask(cb);
  tcpDone(sk);
}

/** tcp_ack(): returns false for an ACK of data never sent. */
function tcpAck(sk: TcpSock, cb: TcpCb, slow: boolean): boolean {
  const priorUna = sk.sndUna;
  const ack = cb.ack;
  if (seqAfter(ack, sk.sndNxt)) return false;
  if (seqBefore(ack, priorUna)) {
    if (seqBefore(ack, (priorUna - sk.maxWindow) >>> 0)) tcpSendChallengeAck(sk, cb);
    else if (cb.sack !== undefined && sk.sackOk) {
      // old_ack: SACK information still counts; recovery may send, cwnd is left as it is.
      const st = tcpSacktag(sk, cb.sack, priorUna);
      const flag = (st.sacked > 0 ? FLAG.DATA_SACKED : 0) | (st.dsack ? FLAG.DSACKING_ACK : 0);
      if (tcpFastretransAlert(sk, 0, flag).rexmit) tcpXmitRetransmitQueue(sk);
    }
    return true;
  }
  sk.lastAckRecv = sk.mstamp;
  // A SYN's window is never scaled.
  const nwin = has(cb, TCPHDR.SYN) ? cb.window : cb.window << sk.sndWscale;
  const oldWnd = sk.sndWnd;
  // tcp_may_update_window().
  if (seqAfter(ack, priorUna) || seqAfter(cb.seq, sk.sndWl1) || (cb.seq === sk.sndWl1 && nwin > sk.sndWnd)) {
    // tcp_ack_update_window(): a changed window with data waiting to go may end an idle spell.
    if (nwin !== sk.sndWnd && (sk.wq[sk.wq.length - 1]?.txTime ?? 0) < 0) {
      sk.sndWnd = nwin;
      tcpSlowStartAfterIdleCheck(sk);
    }
    sk.sndWnd = nwin;
    sk.sndWl1 = cb.seq;
    if (nwin > sk.maxWindow) sk.maxWindow = nwin;
  }
  if (!slow && ack !== priorUna) sk.tn.ext.TCPHPAcks++;
  // tcp_ecn_rcv_ecn_echo() → tcp_enter_cwr(): once per window of data, the congestion
  // control's ssthresh, and CWR on the next new segment. lonet applies the reduction at
  // once rather than pacing it down by PRR, and keeps ca_state as it was.
  if (has(cb, TCPHDR.ECE) && !has(cb, TCPHDR.SYN) && sk.ecnFlags & TCP_ECN.OK) tcpEnterCwr(sk);
  const priorDelivered = sk.delivered;
  const priorFack = sk.sackOk ? highestSackSeqOf(sk) : sk.sndUna;
  let flag = nwin !== oldWnd ? FLAG.WIN_UPDATE : 0;
  if (cb.len > 0) flag |= FLAG.DATA;
  if (cb.sack !== undefined && sk.sackOk) {
    const st = tcpSacktag(sk, cb.sack, ack);
    if (st.sacked > 0) flag |= FLAG.DATA_SACKED;
    if (st.dsack) flag |= FLAG.DSACKING_ACK;
  }
  sk.sndUna = ack;
  // tcp_clean_rtx_queue().
  let ackedSegs = 0;
  let rttNs = -1;
  let freed = 0;
  let reord = sk.sndNxt;
  while (sk.wq.length > 0) {
    const seg = sk.wq[0];
    if (seg === undefined || seg.txTime < 0) break;
    if (seqAfter(seg.end, ack)) {
      if (seqAfter(ack, seg.seq)) {
        const n = (ack - seg.seq) >>> 0;
        trimHead(sk, seg, n);
        sk.bytesAcked += n;
        freed += n;
      }
      break;
    }
    sk.wq.shift();
    if (seg.sacked & TCPCB.SACKED_ACKED) sk.sackedOut--;
    else {
      sk.delivered++;
      if (sk.sackOk) {
        tcpRackAdvance(sk, seg.sacked, seg.end, seg.txTime);
        // A never-retransmitted hole below the highest SACK was reordered, not lost.
        if (!(seg.sacked & (TCPCB.SACKED_RETRANS | TCPCB.EVER_RETRANS)) && seqBefore(seg.seq, reord)) reord = seg.seq;
      }
    }
    if (seg.sacked & TCPCB.LOST) sk.lostOut--;
    if (seg.sacked & TCPCB.SACKED_RETRANS) sk.retransOut--;
    if (seg.sacked & (TCPCB.SACKED_RETRANS | TCPCB.EVER_RETRANS)) flag |= FLAG.RETRANS_DATA_ACKED;
    else rttNs = sk.mstamp - seg.txTime;
    sk.packetsOut--;
    ackedSegs++;
    // tcp_snd_una_update(): bytes_acked counts sequence space, SYN and FIN included.
    sk.bytesAcked += (seg.end - seg.seq) >>> 0;
    sk.wmemQueued -= seg.len + SKB_TCP_OVERHEAD;
    freed += seg.len + SKB_TCP_OVERHEAD;
  }
  if (ackedSegs > 0) flag |= FLAG.DATA_ACKED;
  if (sk.errq !== null) tcpAckErrq(sk, priorUna);
  if (sk.sackOk && priorFack !== priorUna && seqBefore(reord, priorFack)) tcpCheckSackReordering(sk, reord, priorFack);
  if (!sk.sackOk && ackedSegs > 0) sk.sackedOut = Math.max(0, sk.sackedOut - ackedSegs);
  // The chronograph stops once the write and retransmit queues are empty.
  if (sk.wq.length === 0) tcpChronoStop(sk, TCP_CHRONO.BUSY, sk.mstamp);
  if (sk.packetsOut < 0) sk.packetsOut = 0;
  const newData = ack !== priorUna;
  if (newData) {
    flag |= FLAG.SND_UNA_ADVANCED;
    if (rttNs < 0 && sk.tstampOk && cb.tsecr !== undefined && cb.tsecr !== 0) {
      rttNs = Math.max(0, (sk.tsAt(sk.mstamp) - cb.tsecr) | 0) * 1e6;
    }
    if (rttNs >= 0) tcpRttEstimator(sk, rttNs / 1e3);
    sk.backoff = 0;
    sk.retransmits = 0;
    sk.probesOut = 0;
    sk.probesTstamp = 0;
  }
  const ackedSacked = sk.delivered - priorDelivered;
  // tcp_ack_is_dubious(): a duplicate, new SACK or D-SACK information, or not Open.
  const notDup = (flag & (FLAG.DATA | FLAG.WIN_UPDATE | FLAG.DATA_ACKED)) !== 0 || newData;
  const isDupack = !notDup && !has(cb, TCPHDR.SYN | TCPHDR.FIN);
  let rexmit = false;
  if (!notDup || flag & (FLAG.DATA_SACKED | FLAG.DSACKING_ACK) || sk.caState !== TCP_CA.Open) {
    const numDupack = !(flag & (FLAG.SND_UNA_ADVANCED | FLAG.DSACKING_ACK)) && isDupack ? 1 : 0;
    const lost = sk.lost;
    const r = tcpFastretransAlert(sk, numDupack, flag);
    rexmit = r.rexmit;
    flag = r.flag;
    // tcp_cong_control(): PRR while recovering, growth otherwise.
    if (tcpInCwndReduction(sk)) tcpCwndReduction(sk, ackedSacked, sk.lost - lost, flag);
    else if (tcpMayRaiseCwnd(sk, flag) && ackedSacked > 0) sk.ca.congAvoid(sk, ackedSacked);
  } else if (tcpMayRaiseCwnd(sk, flag) && ackedSacked > 0) {
    sk.ca.congAvoid(sk, ackedSacked);
  }
  // tcp_set_xmit_timer(): progress restarts the RTO, unless RACK's reordering timer was just armed.
  if (newData && !(flag & FLAG.REO_ARMED)) {
    if (sk.pendingTimer === TIMER.PROBE0 && sk.sndWnd > 0) tcpRearmRto(sk, sk.mstamp);
    else if (sk.pendingTimer !== TIMER.PROBE0) tcpRearmRto(sk, sk.mstamp);
  }
  if (rexmit) tcpXmitRetransmitQueue(sk);
  if (nwin > oldWnd && sk.pendingTimer === TIMER.PROBE0) {
    // tcp_ack_probe(): the window opened; the probe timer gives way to sending.
    sk.timers.retrans?.cancel();
    sk.pendingTimer = 0;
    sk.timeoutAt = 0;
    sk.backoff = 0;
    sk.probesOut = 0;
    sk.probesTstamp = 0;
  }
  // tcp_check_space(): a writer that ran out of buffer (SOCK_NOSPACE) is no longer held back
  // once a third of the buffer is free (sk_stream_is_writeable).
  if (freed > 0 && sk.nospace && sk.sndbuf - sk.wmemQueued >= sk.wmemQueued >> 1) {
    sk.nospace = false;
    tcpChronoStop(sk, TCP_CHRONO.SNDBUF_LIMITED, sk.mstamp);
  }
  if (freed > 0 && sk.onWriteSpace !== null && sk.writable) queueMicrotask(sk.onWriteSpace);
  return true;
}

function tcpEnterCwr(sk: TcpSock): void {
  if (sk.caState !== TCP_CA.Open && sk.caState !== TCP_CA.Disorder) return;
  if (sk.cwrHighSeq >= 0 && seqBefore(sk.sndUna, sk.cwrHighSeq)) return;
  sk.cwrHighSeq = sk.sndNxt;
  sk.priorSsthresh = 0;
  sk.ssthresh = sk.ca.ssthresh(sk);
  sk.cwnd = Math.max(Math.min(sk.cwnd, sk.ssthresh), 1);
  sk.cwndCnt = 0;
  sk.ecnFlags |= TCP_ECN.QUEUE_CWR;
}

/** tcp_may_raise_cwnd(): grow on in-order delivery; on any progress once reordering is high. */
function tcpMayRaiseCwnd(sk: TcpSock, flag: number): boolean {
  if (sk.reordering > sk.tn.sysctl.tcp_reordering) return (flag & (FLAG.DATA_ACKED | FLAG.DATA_SACKED)) !== 0;
  return (flag & FLAG.DATA_ACKED) !== 0;
}

/** The sequence just past the highest SACKed segment (tcp_highest_sack_seq). */
function highestSackSeqOf(sk: TcpSock): number {
  if (sk.sackedOut === 0) return sk.sndUna;
  for (let i = sk.wq.length - 1; i >= 0; i--) {
    const seg = sk.wq[i];
    if (seg !== undefined && seg.txTime >= 0 && seg.sacked & TCPCB.SACKED_ACKED) return seg.end;
  }
  return sk.sndUna;
}

/** tcp_paws_discard(): a timestamp older than the last one seen. */
function pawsReject(sk: TcpSock, cb: TcpCb): boolean {
  if (!sk.tstampOk || cb.tsval === undefined || sk.tsRecentStamp === 0) return false;
  if (((cb.tsval - sk.tsRecent) | 0) >= 0) return false;
  // A timestamp is stale for 24 days at most (TCP_PAWS_24DAYS).
  if (sk.clock - sk.tsRecentStamp > 24 * 86400e9) return false;
  return !has(cb, TCPHDR.RST);
}

/** tcp_replace_ts_recent(): remember the peer's newest timestamp for segments at the window's left edge. */
function tcpStoreTsRecent(sk: TcpSock, cb: TcpCb): void {
  if (cb.tsval === undefined || !sk.tstampOk) return;
  if (!seqAfter(cb.seq, sk.rcvWup) && ((cb.tsval - sk.tsRecent) | 0) >= 0) {
    sk.tsRecent = cb.tsval;
    sk.tsRecentStamp = sk.mstamp;
  }
}

/** tcp_sequence()'s drop reasons. */
const SEQ = { OK: 0, OLD: 1, INVALID: 2, INVALID_END: 3 } as const;

/**
 * tcp_sequence(): does the segment fit the receive window? One that starts inside but ends
 * beyond it is taken only while the receive queue is empty, so a buggy peer cannot freeze
 * the flow (6.17's "do not accept packets beyond window").
 */
function tcpSequence(sk: TcpSock, cb: TcpCb): number {
  if (seqBefore(cb.end, sk.rcvWup)) return SEQ.OLD;
  const wndEnd = (sk.rcvNxt + tcpReceiveWindow(sk)) >>> 0;
  if (seqAfter(cb.end, wndEnd)) {
    // Some stacks send a FIN into a closed window: let it past here, tcp_data_queue decides.
    if (!seqAfter((cb.end - (has(cb, TCPHDR.FIN) ? 1 : 0)) >>> 0, wndEnd)) return SEQ.OK;
    if (seqAfter(cb.seq, wndEnd)) return SEQ.INVALID;
    if (sk.rcvQueueBytes > 0) return SEQ.INVALID_END;
  }
  return SEQ.OK;
}

/** Queues in-order data on the receive queue (tcp_queue_rcv), charging truesize. */
export function queueRcv(sk: TcpSock, data: Uint8Array[], len: number, truesize: number): void {
  for (const c of data) if (c.byteLength > 0) sk.rcvQueue.push(c);
  sk.rcvQueueBytes += len;
  sk.rmemAlloc += truesize;
  sk.rcvNxt = (sk.rcvNxt + len) >>> 0;
  sk.bytesReceived += len;
}

/** Drops the first `n` bytes from a list of chunks. */
function trimChunks(data: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of data) {
    if (n >= c.byteLength) {
      n -= c.byteLength;
      continue;
    }
    out.push(n > 0 ? c.subarray(n) : c);
    n = 0;
  }
  return out;
}

/** Keeps the first `n` bytes of a list of chunks. */
function headChunks(data: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of data) {
    if (n <= 0) break;
    out.push(c.byteLength <= n ? c : c.subarray(0, n));
    n -= c.byteLength;
  }
  return out;
}

/**
 * tcp_try_rmem_schedule(), with 6.18.y's tcp_can_ingest() (rmem_alloc <= sk_rcvbuf): once the
 * buffer is used up, tcp_prune_queue() lets tcp_clamp_window() grow an autotuned buffer to what
 * is allocated. lonet neither collapses nor prunes queues, so a locked buffer stays full.
 */
function tcpTryRmemSchedule(sk: TcpSock): boolean {
  if (sk.rmemAlloc <= sk.rcvbuf) return true;
  sk.tn.ext.PruneCalled++;
  tcpClampWindow(sk);
  if (sk.rmemAlloc <= sk.rcvbuf) return true;
  sk.tn.ext.RcvPruned++;
  return false;
}

/** tcp_clamp_window(): the buffer hit its bound: grow it to what is allocated, or pull rcv_ssthresh down. */
function tcpClampWindow(sk: TcpSock): void {
  sk.ackQuick = 0;
  const rmem2 = sk.tn.sysctl.tcp_rmem[2];
  if (sk.rcvbuf < rmem2 && !sk.cold.rcvbufLocked) sk.rcvbuf = Math.min(sk.rmemAlloc, rmem2);
  if (sk.rmemAlloc > sk.rcvbuf) sk.rcvSsthresh = Math.min(sk.windowClamp, 2 * sk.advmss);
}

/** tcp_data_queue_ofo(): keep it for later; report duplicates with D-SACK. */
function tcpDataQueueOfo(sk: TcpSock, cb: TcpCb): void {
  if (sk.ecnFlags & TCP_ECN.OK) tcpEcnCheckCe(sk, cb);
  let seq = cb.seq;
  let end = (cb.seq + cb.len) >>> 0;
  let data = cb.data;
  const fin = has(cb, TCPHDR.FIN);
  if (!tcpTryRmemSchedule(sk)) {
    sk.tn.ext.TCPOFODrop++;
    return;
  }
  tcpMeasureRcvMss(sk, cb);
  sk.tn.ext.TCPOFOQueue++;
  for (let i = 0; i < sk.ofo.length; i++) {
    const r = sk.ofo[i] as OfoSeg;
    if (!seqBefore(seq, r.end) || !seqAfter(end, r.seq)) continue;
    if (!seqBefore(seq, r.seq) && !seqAfter(end, r.end)) {
      sk.tn.ext.TCPDSACKOfoSent++;
      sk.dsack = { start: seq, end };
      tcpSackNewOfoSkb(sk, cb.seq, (cb.seq + cb.len) >>> 0);
      tcpOfoRcvbufGrow(sk);
      return;
    }
    if (!seqAfter(seq, r.seq) && !seqBefore(end, r.end)) {
      sk.ofo.splice(i--, 1);
      sk.tn.ext.TCPOFOMerge++;
      continue;
    }
    if (seqBefore(r.seq, seq)) {
      const cut = (r.end - seq) >>> 0;
      data = trimChunks(data, cut);
      seq = r.end;
    } else {
      const keep = (r.seq - seq) >>> 0;
      data = headChunks(data, keep);
      end = r.seq;
    }
  }
  const seg: OfoSeg = { seq, end, data, fin: fin && end === (cb.seq + cb.len) >>> 0 };
  let at = sk.ofo.findIndex((r) => seqAfter(r.seq, seq));
  if (at < 0) at = sk.ofo.length;
  sk.ofo.splice(at, 0, seg);
  tcpSackNewOfoSkb(sk, cb.seq, (cb.seq + cb.len) >>> 0);
  // Without SACK the window stays put, so the peer sees duplicate ACKs and fast-retransmits.
  if (sk.sackOk) tcpGrowWindow(sk, cb);
  sk.rmemAlloc += cb.truesize;
  tcpOfoRcvbufGrow(sk);
}

/** The end of tcp_data_queue_ofo(): out-of-order data grows the buffer, but not before accept() or after close(). */
function tcpOfoRcvbufGrow(sk: TcpSock): void {
  if (sk.parent === null && !sk.orphan) tcpRcvbufGrow(sk);
}

/** TCP_NUM_SACKS: the blocks remembered, as many as fit in the option space without timestamps. */
const TCP_NUM_SACKS = 4;

/** tcp_sack_extend(): grow `sp` by an adjacent or overlapping range; false if they don't touch. */
function tcpSackExtend(sp: { start: number; end: number }, seq: number, end: number): boolean {
  if (seqAfter(seq, sp.end) || seqAfter(sp.start, end)) return false;
  if (seqBefore(seq, sp.start)) sp.start = seq;
  if (seqAfter(end, sp.end)) sp.end = end;
  return true;
}

/** tcp_sack_maybe_coalesce(): the first block swallows any other it now touches. */
function tcpSackMaybeCoalesce(sk: TcpSock): void {
  const sacks = sk.selectiveAcks;
  const head = sacks[0];
  if (head === undefined) return;
  for (let i = 1; i < sacks.length; ) {
    const sp = sacks[i] as { start: number; end: number };
    if (tcpSackExtend(head, sp.start, sp.end)) sacks.splice(i, 1);
    else i++;
  }
}

/**
 * tcp_sack_new_ofo_skb(): out-of-order data extends the block it touches, which moves to the
 * front, or starts a new block at the front (the oldest falls off when all four are used).
 */
function tcpSackNewOfoSkb(sk: TcpSock, seq: number, end: number): void {
  const sacks = sk.selectiveAcks;
  for (let i = 0; i < sacks.length; i++) {
    const sp = sacks[i] as { start: number; end: number };
    if (!tcpSackExtend(sp, seq, end)) continue;
    sacks.splice(i, 1);
    sacks.unshift(sp);
    if (sacks.length > 1) tcpSackMaybeCoalesce(sk);
    return;
  }
  if (sacks.length >= TCP_NUM_SACKS) sacks.pop();
  sacks.unshift({ start: seq, end });
}

/** tcp_sack_remove(): blocks rcv_nxt has reached are gone; an empty queue leaves none. */
function tcpSackRemove(sk: TcpSock): void {
  const sacks = sk.selectiveAcks;
  if (sk.ofo.length === 0) {
    sacks.length = 0;
    return;
  }
  for (let i = 0; i < sacks.length; ) {
    if (!seqBefore(sk.rcvNxt, (sacks[i] as { start: number }).start)) sacks.splice(i, 1);
    else i++;
  }
}

/** tcp_ofo_queue(): move what now follows rcv_nxt from the out-of-order queue. */
function tcpOfoQueue(sk: TcpSock): boolean {
  let fin = false;
  // What the in-order data just covered of a queued range is a duplicate: D-SACK it.
  const dsackHigh = sk.rcvNxt;
  while (sk.ofo.length > 0) {
    const r = sk.ofo[0] as OfoSeg;
    if (seqAfter(r.seq, sk.rcvNxt)) break;
    if (seqBefore(r.seq, dsackHigh) && sk.sackOk && sk.tn.sysctl.tcp_dsack)
      tcpDsackExtend(sk, r.seq, seqBefore(r.end, dsackHigh) ? r.end : dsackHigh);
    sk.ofo.shift();
    if (!seqAfter(r.end, sk.rcvNxt)) {
      if (r.fin && r.end === sk.rcvNxt) fin = true;
      continue;
    }
    const skip = (sk.rcvNxt - r.seq) >>> 0;
    const data = skip > 0 ? trimChunks(r.data, skip) : r.data;
    const len = (r.end - sk.rcvNxt) >>> 0;
    // Its truesize was charged when it was queued out of order.
    queueRcv(sk, data, len, 0);
    if (r.fin) fin = true;
  }
  return fin;
}

/** tcp_dsack_extend(): the first duplicate sets the D-SACK block, later ones may only extend it. */
function tcpDsackExtend(sk: TcpSock, seq: number, end: number): void {
  if (sk.dsack === null) sk.dsack = { start: seq, end };
  else tcpSackExtend(sk.dsack, seq, end);
}

/** tcp_data_queue(): in order, out of order, duplicate or outside the window. */
function tcpDataQueue(sk: TcpSock, cb: TcpCb): void {
  const fin = has(cb, TCPHDR.FIN);
  if (cb.len === 0 && !fin) return;
  // tcp_ecn_accept_cwr(): the sender reduced; stop echoing ECE, and ACK its data at once.
  if (has(cb, TCPHDR.CWR) && sk.ecnFlags & TCP_ECN.DEMAND_CWR) {
    sk.ecnFlags &= ~TCP_ECN.DEMAND_CWR;
    if (cb.len > 0) sk.ackNow = true;
  }
  sk.lastDataRecv = sk.mstamp;
  if (cb.len > 0) sk.dataSegsIn++;
  sk.ackPending = true;
  if (cb.seq === sk.rcvNxt) {
    if (tcpReceiveWindow(sk) === 0 && cb.len > 0) {
      sk.tn.ext.TCPZeroWindowDrop++;
      tcpEnterQuickackMode(sk, TCP_MAX_QUICKACKS);
      return;
    }
    // tcp_try_rmem_schedule() failed: the buffer is overcommitted, so ACK at once (ICSK_ACK_NOW)
    // with the window it leaves; data is dropped unless the queue is empty, a bare FIN kept.
    if (!tcpTryRmemSchedule(sk)) {
      sk.ackNow = true;
      sk.ackNomem = true;
      if (cb.len > 0 && sk.rcvQueueBytes > 0) {
        sk.tn.ext.TCPRcvQDrop++;
        tcpEnterQuickackMode(sk, TCP_MAX_QUICKACKS);
        return;
      }
    }
    if (cb.len > 0) {
      queueRcv(sk, cb.data, cb.len, cb.truesize);
      tcpEventDataRecv(sk, cb);
    }
    let gotFin = fin;
    if (sk.ofo.length > 0) {
      if (tcpOfoQueue(sk)) gotFin = true;
      // RFC 5681 4.2: the gap is filled, ACK at once (ICSK_ACK_NOW).
      if (sk.ofo.length === 0) sk.ackNow = true;
    }
    if (sk.selectiveAcks.length > 0) tcpSackRemove(sk);
    if (gotFin) tcpFin(sk);
    if (cb.len > 0 || gotFin) sk.dataReady();
    return;
  }
  const end = (cb.seq + cb.len) >>> 0;
  // end_seq counts the FIN: old data with a new FIN is a partial packet, not a duplicate.
  if (!seqAfter(fin ? (end + 1) >>> 0 : end, sk.rcvNxt) && cb.len > 0) {
    // A retransmission of data we have: D-SACK it and ACK now.
    sk.tn.ext.DelayedACKLost++;
    if (sk.sackOk && sk.tn.sysctl.tcp_dsack) {
      sk.tn.ext.TCPDSACKOldSent++;
      sk.dsack = { start: cb.seq, end };
    }
    tcpEnterQuickackMode(sk, TCP_MAX_QUICKACKS);
    return;
  }
  if (seqAfter(cb.seq, (sk.rcvNxt + tcpReceiveWindow(sk)) >>> 0)) {
    tcpEnterQuickackMode(sk, TCP_MAX_QUICKACKS);
    return;
  }
  if (seqBefore(cb.seq, sk.rcvNxt)) {
    // Partly new: keep the part after rcv_nxt.
    const skip = (sk.rcvNxt - cb.seq) >>> 0;
    if (sk.sackOk && sk.tn.sysctl.tcp_dsack) sk.dsack = { start: cb.seq, end: sk.rcvNxt };
    const trimmed: TcpCb = { ...cb, seq: sk.rcvNxt, data: trimChunks(cb.data, skip), len: cb.len - skip };
    tcpDataQueue(sk, trimmed);
    return;
  }
  tcpDataQueueOfo(sk, cb);
}

/** tcp_fin(): the peer is done sending. */
export function tcpFin(sk: TcpSock): void {
  sk.rcvNxt = (sk.rcvNxt + 1) >>> 0;
  sk.shutdown |= SHUT.RCV;
  sk.done = true;
  sk.ackPending = true;
  switch (sk.state) {
    case TCP.SYN_RECV:
    case TCP.ESTABLISHED:
      tcpSetState(sk, TCP.CLOSE_WAIT);
      // inet_csk_enter_pingpong_mode(): the ACK may ride on our own FIN.
      sk.ackPingpong = 1;
      break;
    case TCP.FIN_WAIT1:
      tcpSendAck(sk);
      tcpSetState(sk, TCP.CLOSING);
      break;
    case TCP.FIN_WAIT2:
      tcpSendAck(sk);
      timewaitEnter(sk, TCP.TIME_WAIT, 0);
      return;
    default:
      break;
  }
  // Out-of-order data after the FIN is dropped, and the SACK state with it (tcp_sack_reset).
  sk.ofo.length = 0;
  sk.selectiveAcks.length = 0;
  sk.dsack = null;
  wakeState(sk);
}

/** Takes the options of an established segment (tcp_fast_parse_options). */
function checkTimestamps(sk: TcpSock, cb: TcpCb): boolean {
  if (pawsReject(sk, cb)) {
    sk.tn.ext.PAWSEstab++;
    if (!has(cb, TCPHDR.RST) && !oowRateLimited(sk, cb, 'TCPACKSkippedPAWS')) tcpSendDupAck(sk, cb);
    return false;
  }
  return true;
}

/** tcp_send_dupack(): an out-of-window or duplicate segment gets an ACK of where we are. */
function tcpSendDupAck(sk: TcpSock, cb: TcpCb): void {
  if (cb.len > 0 && seqBefore(cb.seq, sk.rcvNxt)) {
    sk.tn.ext.DelayedACKLost++;
    tcpEnterQuickackMode(sk, TCP_MAX_QUICKACKS);
    if (sk.sackOk && sk.tn.sysctl.tcp_dsack) {
      const end = seqAfter(cb.end, sk.rcvNxt) ? sk.rcvNxt : cb.end;
      sk.tn.ext.TCPDSACKOldSent++;
      sk.dsack = { start: cb.seq, end };
    }
  }
  tcpSendAck(sk);
}

/** tcp_rcv_synsent_state_process(): the answer to our SYN. */
function tcpRcvSynsent(sk: TcpSock, cb: TcpCb): void {
  if (has(cb, TCPHDR.ACK)) {
    if (!seqAfter(cb.ack, sk.iss) || seqAfter(cb.ack, sk.sndNxt)) {
      if (!has(cb, TCPHDR.RST)) {
        tcpSendCtl(sk.net, flowOf(sk), {
          seq: cb.ack,
          ack: 0,
          flags: TCPHDR.RST,
          window: 0,
          options: [],
          data: [],
          len: 0,
        });
        sk.net.ipv4.mib.tcp.OutRsts++;
      }
      return;
    }
    if (has(cb, TCPHDR.RST)) {
      tcpReset(sk);
      return;
    }
    if (!has(cb, TCPHDR.SYN)) return;
    tcpSynOptions(sk, cb);
    // tcp_ecn_rcv_synack(): ECN holds only if the SYN-ACK says ECE without CWR.
    if (!has(cb, TCPHDR.ECE) || has(cb, TCPHDR.CWR)) sk.ecnFlags &= ~TCP_ECN.OK;
    sk.irs = cb.seq;
    sk.rcvNxt = (cb.seq + 1) >>> 0;
    sk.rcvWup = sk.rcvNxt;
    sk.copiedSeq = sk.rcvNxt;
    sk.sndWl1 = cb.seq;
    sk.sndWnd = cb.window;
    sk.maxWindow = sk.sndWnd;
    tcpAck(sk, cb, true);
    tcpFinishConnect(sk);
    // Data sent in the SYN and not acked goes again at once, and carries the ACK.
    const synData = sk.wq.find((s) => s.len > 0 && s.txTime >= 0);
    if (sk.fastopen !== null && tcpRcvFastopenSynack(sk, cb, synData !== undefined)) {
      if (cb.len > 0) tcpDataQueue(sk, { ...cb, seq: (cb.seq + 1) >>> 0 });
      for (const s of sk.wq) if (s.txTime >= 0) tcpRetransmitSeg(sk, s);
      return;
    }
    // Any data on the SYN-ACK is queued; the handshake's ACK goes now.
    if (cb.len > 0) tcpDataQueue(sk, { ...cb, seq: (cb.seq + 1) >>> 0 });
    tcpSendAck(sk);
    tcpWriteXmit(sk, sk.cork);
    return;
  }
  if (has(cb, TCPHDR.RST)) return;
  if (has(cb, TCPHDR.SYN)) {
    // Simultaneous open: our SYN crossed theirs.
    tcpSynOptions(sk, cb);
    // tcp_ecn_rcv_syn(): their SYN must ask for ECN too.
    if (!has(cb, TCPHDR.ECE) || !has(cb, TCPHDR.CWR)) sk.ecnFlags &= ~TCP_ECN.OK;
    sk.irs = cb.seq;
    sk.rcvNxt = (cb.seq + 1) >>> 0;
    sk.rcvWup = sk.rcvNxt;
    sk.copiedSeq = sk.rcvNxt;
    sk.sndWl1 = cb.seq;
    sk.sndWnd = cb.window;
    sk.maxWindow = sk.sndWnd;
    tcpSetState(sk, TCP.SYN_RECV);
    const syn = sk.wq[0];
    if (syn !== undefined) syn.txTime = sk.clock;
    tcpSendSynack(sk);
  }
}

/** What a SYN or SYN-ACK tells us: MSS, window scale, SACK and timestamps (tcp_parse_options on a SYN). */
export function tcpSynOptions(sk: TcpSock, cb: TcpCb): void {
  if (cb.mss !== undefined && cb.mss > 0) sk.mssClamp = cb.mss;
  else sk.mssClamp = 536;
  sk.wscaleOk = sk.wscaleOk && cb.wscale !== undefined;
  if (sk.wscaleOk) sk.sndWscale = Math.min(cb.wscale as number, TCP_MAX_WSCALE);
  else {
    sk.sndWscale = 0;
    sk.rcvWscale = 0;
    sk.windowClamp = Math.min(sk.windowClamp, 65535);
  }
  sk.sackOk = sk.sackOk && cb.sackOk;
  sk.tstampOk = sk.tstampOk && cb.tsval !== undefined;
  if (sk.tstampOk) {
    sk.tsRecent = cb.tsval as number;
    sk.tsRecentStamp = sk.clock;
    sk.tcpHeaderLen = 20 + TCPOLEN_TSTAMP_ALIGNED;
  } else sk.tcpHeaderLen = 20;
  // tcp_sync_mss(): the smaller of our route's and the peer's MSS, less the timestamp option
  // (tcp_current_mss bounds it by the peer's window at the next send).
  sk.mssCache = Math.max(48, Math.min(sk.mssClamp, sk.advmss) - (sk.tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0));
  sk.pmtuCookie = 0;
}

/** tcp_finish_connect(): established; wake the connecting process. */
function tcpFinishConnect(sk: TcpSock): void {
  // icsk_ack.lrcvtime: tcpi_last_data_recv counts from the handshake until data arrives.
  sk.ackLrcvtime = sk.clock;
  tcpSetState(sk, TCP.ESTABLISHED);
  tcpInitTransfer(sk);
  wakeState(sk);
  if (sk.onWriteSpace !== null) queueMicrotask(sk.onWriteSpace);
}

/**
 * tcp_rcv_synrecv_state_fastopen(): the ACK of a Fast Open child's SYN-ACK. The transfer
 * began when the child was made; the request sock goes and the RTO restarts for data the
 * child may have sent already.
 */
function tcpRcvSynrecvStateFastopen(sk: TcpSock, rsk: FastopenRsk): void {
  sk.delivered++;
  if (sk.srttUs === 0 && rsk.synackTime >= 0) tcpRttEstimator(sk, (sk.clock - rsk.synackTime) / 1e3);
  sk.retransmits = 0;
  tcpFastopenRemove(sk);
  tcpSetState(sk, TCP.ESTABLISHED);
  wakeState(sk);
  tcpRearmRto(sk);
}

/** tcp_init_transfer(): buffers and timers for the data phase. */
export function tcpInitTransfer(sk: TcpSock): void {
  tcpSndbufExpand(sk);
  // tcp_init_buffer_space(): the clamp is at most the full space, less 1/2^tcp_app_win of it
  // and less one segment (kept for the application), and rcv_ssthresh within it.
  sk.rcvqSeq = sk.copiedSeq;
  sk.rcvqTime = sk.clock;
  const appWin = sk.tn.sysctl.tcp_app_win;
  const maxwin = winFromSpace(sk, sk.rcvbuf);
  if (sk.windowClamp >= maxwin) {
    sk.windowClamp = maxwin;
    if (appWin && maxwin > 4 * sk.advmss)
      sk.windowClamp = Math.max(maxwin - Math.floor(maxwin / 2 ** appWin), 4 * sk.advmss);
  }
  if (appWin && sk.windowClamp > 2 * sk.advmss && sk.windowClamp + sk.advmss > maxwin)
    sk.windowClamp = Math.max(2 * sk.advmss, maxwin - sk.advmss);
  sk.rcvSsthresh = Math.min(sk.rcvSsthresh, sk.windowClamp);
  sk.rcvqSpace = Math.min(sk.rcvSsthresh, sk.rcvWnd, 10 * sk.advmss);
  sk.retransmits = 0;
  sk.backoff = 0;
  if (sk.cold.keepalive) tcpResetKeepaliveTimer(sk, sk.keepaliveTimeNs());
}

/** tcp_rcv_state_process(): every state but LISTEN and TIME_WAIT. */
/** tp->urg_data: the mark is known but its byte has not arrived; with the byte, VALID | byte. */
export const TCP_URG = { VALID: 0x100, NOTYET: 0x200, READ: 0x400 } as const;

/**
 * tcp_check_urg(): a new urgent pointer. Unless net.ipv4.tcp_stdurg (0 by default) the
 * pointer names the byte after the urgent one (BSD's reading of RFC 793), hence ptr - 1.
 */
function tcpCheckUrg(sk: TcpSock, cb: TcpCb): void {
  let ptr = cb.urgPtr ?? 0;
  if (ptr !== 0 && sk.tn.sysctl.tcp_stdurg === 0) ptr--;
  ptr = (ptr + cb.seq) >>> 0;
  // Urgent data already seen and read, or a pointer replayed from behind rcv_nxt.
  if (seqAfter(sk.copiedSeq, ptr)) return;
  if (seqBefore(ptr, sk.rcvNxt)) return;
  // A newer (or the same) urgent pointer is already known.
  if (sk.urgData !== 0 && !seqAfter(ptr, sk.urgSeq)) return;
  // The last byte read was the old urgent one, not inline: step over it now.
  if (sk.urgSeq === sk.copiedSeq && sk.urgData !== 0 && !sk.urgInline && sk.copiedSeq !== sk.rcvNxt) tcpSkipUrgByte(sk);
  sk.urgData = TCP_URG.NOTYET;
  sk.urgSeq = ptr;
}

/** tcp_urg(): note a new urgent pointer; when the urgent byte is in this segment, keep it. */
function tcpUrg(sk: TcpSock, cb: TcpCb): void {
  if (has(cb, TCPHDR.URG)) tcpCheckUrg(sk, cb);
  if (sk.urgData !== TCP_URG.NOTYET) return;
  const off = (sk.urgSeq - cb.seq - (has(cb, TCPHDR.SYN) ? 1 : 0)) >>> 0;
  if (off >= cb.len) return;
  let at = off;
  for (const c of cb.data) {
    if (at < c.byteLength) {
      sk.urgData = TCP_URG.VALID | (c[at] as number);
      if (!sk.orphan) sk.dataReady();
      return;
    }
    at -= c.byteLength;
  }
}

export function tcpRcvStateProcess(sk: TcpSock, cb: TcpCb): void {
  sk.mstamp = sk.clock;
  sk.segsIn++;
  if (sk.state === TCP.CLOSE) return;
  if (sk.state === TCP.SYN_SENT) {
    tcpRcvSynsent(sk, cb);
    return;
  }
  const fastopenRsk = sk.fastopen?.rsk ?? null;
  if (fastopenRsk !== null && has(cb, TCPHDR.SYN) && !has(cb, TCPHDR.ACK | TCPHDR.RST) && cb.seq === sk.irs) {
    // tcp_check_req(): the SYN again, so our SYN-ACK was lost: send it again.
    fastopenRsk.resend();
    return;
  }
  if (!checkTimestamps(sk, cb)) return;
  const seqReason = tcpSequence(sk, cb);
  if (seqReason !== SEQ.OK) {
    if (!has(cb, TCPHDR.RST)) {
      // tcp_validate_incoming(): LINUX_MIB_BEYOND_WINDOW counts what lay past the window.
      if (seqReason !== SEQ.OLD) sk.tn.ext.BeyondWindow++;
      if (!oowRateLimited(sk, cb, 'TCPACKSkippedSeq')) tcpSendDupAck(sk, cb);
    }
    return;
  }
  if (has(cb, TCPHDR.RST)) {
    // RFC 5961 §3: only an RST exactly at rcv_nxt resets; others in the window are challenged.
    // A Fast Open child in SYN_RECV is still embryonic (tcp_check_req's embryonic_reset).
    if (fastopenRsk !== null) sk.tn.ext.EmbryonicRsts++;
    if (cb.seq === sk.rcvNxt) tcpReset(sk);
    else tcpSendChallengeAck(sk, cb);
    return;
  }
  if (has(cb, TCPHDR.SYN)) {
    // The peer's SYN-ACK in a simultaneous open completes it; any other SYN in a
    // synchronized state is answered with a challenge ACK (RFC 5961 §4).
    const simultaneous =
      sk.state === TCP.SYN_RECV && has(cb, TCPHDR.ACK) && (cb.seq + 1) >>> 0 === sk.rcvNxt && cb.ack === sk.sndNxt;
    if (!simultaneous) {
      sk.tn.ext.TCPSYNChallenge++;
      tcpSendChallengeAck(sk, cb);
      return;
    }
  }
  if (!has(cb, TCPHDR.ACK)) return;
  const slow = cb.len > 0 || sk.ofo.length > 0;
  if (!slow) sk.tn.ext.TCPPureAcks++;
  else if (cb.seq === sk.rcvNxt && sk.ofo.length === 0) sk.tn.ext.TCPHPHits++;
  const acceptable = tcpAck(sk, cb, slow);
  if (!acceptable) {
    if (sk.state === TCP.SYN_RECV) {
      tcpSendCtl(sk.net, flowOf(sk), {
        seq: cb.ack,
        ack: 0,
        flags: TCPHDR.RST,
        window: 0,
        options: [],
        data: [],
        len: 0,
      });
      sk.net.ipv4.mib.tcp.OutRsts++;
      return;
    }
    tcpSendChallengeAck(sk, cb);
    return;
  }
  tcpStoreTsRecent(sk, cb);
  const finAcked = sk.sndUna === sk.writeSeq && (sk.shutdown & SHUT.SEND) !== 0;
  switch (sk.state) {
    case TCP.SYN_RECV:
      sk.sndWnd = cb.window << sk.sndWscale;
      sk.sndWl1 = cb.seq;
      if (fastopenRsk !== null) tcpRcvSynrecvStateFastopen(sk, fastopenRsk);
      else tcpFinishConnect(sk);
      break;
    case TCP.FIN_WAIT1:
      if (finAcked) {
        tcpSetState(sk, TCP.FIN_WAIT2);
        sk.shutdown |= SHUT.SEND;
        wakeState(sk);
        if (sk.orphan && !has(cb, TCPHDR.FIN)) {
          // An orphan waits for the peer's FIN at most tcp_fin_timeout.
          timewaitEnter(sk, TCP.FIN_WAIT2, sk.tn.sysctl.tcp_fin_timeout * 1e9);
          return;
        }
      }
      break;
    case TCP.CLOSING:
      if (finAcked) {
        timewaitEnter(sk, TCP.TIME_WAIT, 0);
        return;
      }
      break;
    case TCP.LAST_ACK:
      if (finAcked) {
        tcpDone(sk);
        return;
      }
      break;
  }
  // step 6: check the URG bit; step 7: the segment text.
  tcpUrg(sk, cb);
  switch (sk.state) {
    case TCP.CLOSE_WAIT:
    case TCP.CLOSING:
    case TCP.LAST_ACK:
      // Data after the peer's FIN is ignored.
      break;
    case TCP.FIN_WAIT1:
    case TCP.FIN_WAIT2:
      if (
        sk.shutdown & SHUT.RCV &&
        sk.orphan &&
        cb.len > 0 &&
        seqAfter((cb.end - (has(cb, TCPHDR.FIN) ? 1 : 0)) >>> 0, sk.rcvNxt)
      ) {
        sk.tn.ext.TCPAbortOnData++;
        tcpSendActiveReset(sk);
        tcpReset(sk);
        return;
      }
      tcpDataQueue(sk, cb);
      break;
    case TCP.ESTABLISHED:
      tcpDataQueue(sk, cb);
      break;
  }
  if (sk.state === TCP.CLOSE || sk.state === TCP.TIME_WAIT) return;
  // tcp_data_snd_check(): tcp_push_pending_frames.
  tcpPushPendingFrames(sk);
  tcpAckSndCheck(sk);
}
