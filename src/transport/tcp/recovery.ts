/**
 * Loss detection and recovery (net/ipv4/tcp_input.c: tcp_sacktag_write_queue,
 * tcp_fastretrans_alert, tcp_cwnd_reduction, tcp_enter_loss; net/ipv4/tcp_recovery.c:
 * RACK; tcp_output.c: tcp_xmit_retransmit_queue). With SACK, loss is found in the time
 * domain (RACK, RFC 8985): a segment is lost once one sent after it was delivered and a
 * reordering window (min_rtt/4, none while no reordering was seen and dupthresh SACKs
 * arrived) has passed; the REO timer waits out that window. Without SACK, NewReno marks
 * the head lost after `reordering` duplicate ACKs. Recovery sends by Proportional Rate
 * Reduction (RFC 6937); an RTO enters the Loss state.
 */
import type { TcpSackBlock } from '../../wire/tcp.js';
import { tcpRetransmitMaxSegs, tcpRetransmitSegs } from './output.js';
import { seqAfter, seqBefore, TCP_CA, TCPCB, type TcpSock, type TxSeg } from './sock.js';
import { inetCskResetXmitTimer, TIMER, tcpRearmRtoOffset } from './timer.js';

/** tcp_ack()'s flags that recovery reads. */
export const FLAG = {
  DATA: 0x01,
  WIN_UPDATE: 0x02,
  DATA_ACKED: 0x04,
  RETRANS_DATA_ACKED: 0x08,
  SYN_ACKED: 0x10,
  DATA_SACKED: 0x20,
  ECE: 0x40,
  LOST_RETRANS: 0x80,
  DSACKING_ACK: 0x800,
  SND_UNA_ADVANCED: 0x400,
  /** RACK armed its reordering timer: the ACK must not rearm the RTO over it (~FLAG_SET_XMIT_TIMER). */
  REO_ARMED: 0x10000,
} as const;

/** TCPCB_RETRANS (SACKED_RETRANS | EVER_RETRANS): sent more than once, so an ACK of it is ambiguous. */
const TCPCB_RETRANS = 2 | 8;

/** TCP_TIMEOUT_MIN (2 jiffies): the REO timer's slack. */
const TCP_TIMEOUT_MIN_NS = 2e6;

/** tcp_skb_sent_after(): sent later, or at the same time but further in sequence. */
function sentAfter(t1: number, t2: number, seq1: number, seq2: number): boolean {
  return t1 > t2 || (t1 === t2 && seqAfter(seq1, seq2));
}

/** tcp_min_rtt() in µs, ~0U while no sample exists. */
function minRtt(sk: TcpSock): number {
  return sk.minRttUs === 0 ? 0xffffffff : sk.minRttUs;
}

/** tcp_rack_advance(): remember the most recently sent segment that was (s)acked and its RTT. */
export function tcpRackAdvance(sk: TcpSock, sacked: number, endSeq: number, xmitTime: number): void {
  const rttUs = (sk.mstamp - xmitTime) / 1e3;
  // An ACK of a retransmission sooner than min_rtt is the original's: no RTT from it.
  if (rttUs < minRtt(sk) && sacked & TCPCB_RETRANS) return;
  const r = sk.rack;
  r.advanced = true;
  r.rttUs = rttUs;
  if (r.mstamp < 0 || sentAfter(xmitTime, r.mstamp, endSeq, r.endSeq)) {
    r.mstamp = xmitTime;
    r.endSeq = endSeq;
  }
}

/** tcp_rack_reo_wnd(): the settling time allowed for reordering, in µs. */
function tcpRackReoWnd(sk: TcpSock): number {
  if (sk.rack.reordSeen === 0) {
    // No reordering seen: be aggressive in recovery, or once dupthresh segments are SACKed.
    if (sk.caState >= TCP_CA.Recovery) return 0;
    if (sk.sackedOut >= sk.reordering && !(sk.tn.sysctl.tcp_recovery & TCP_RACK_NO_DUPTHRESH)) return 0;
  }
  return Math.min(Math.floor(minRtt(sk) / 4) * sk.rack.reoWndSteps, sk.srttUs >> 3);
}

/** net.ipv4.tcp_recovery bits. */
export const TCP_RACK_LOSS_DETECTION = 0x1;
const TCP_RACK_NO_DUPTHRESH = 0x4;

/** tcp_is_rack(). */
function tcpIsRack(sk: TcpSock): boolean {
  return (sk.tn.sysctl.tcp_recovery & TCP_RACK_LOSS_DETECTION) !== 0;
}

/** tcp_mark_skb_lost(): lost (again, if it was a retransmission). */
function tcpMarkSkbLost(sk: TcpSock, seg: TxSeg): void {
  if (seg.sacked & TCPCB.SACKED_ACKED) return;
  if (seg.sacked & TCPCB.LOST) {
    if (seg.sacked & TCPCB.SACKED_RETRANS) {
      seg.sacked &= ~TCPCB.SACKED_RETRANS;
      sk.retransOut--;
      sk.tn.ext.TCPLostRetransmit++;
      sk.lost++;
    }
    return;
  }
  seg.sacked |= TCPCB.LOST;
  sk.lostOut++;
  sk.lost++;
}

/**
 * tcp_rack_detect_loss(): every segment sent before the last (s)acked one and not
 * delivered within RACK.rtt + reo_wnd is lost; returns the longest wait (ns) left for
 * the others, 0 if none.
 */
function tcpRackDetectLoss(sk: TcpSock): number {
  const r = sk.rack;
  const reoWndUs = tcpRackReoWnd(sk);
  let wait = 0;
  for (const seg of sk.wq) {
    if (seg.txTime < 0) break;
    if (seg.sacked & TCPCB.SACKED_ACKED) continue;
    // Lost and not yet retransmitted: nothing new to learn.
    if (seg.sacked & TCPCB.LOST && !(seg.sacked & TCPCB.SACKED_RETRANS)) continue;
    if (!sentAfter(r.mstamp, seg.txTime, r.endSeq, seg.end)) continue;
    const remainingNs = (r.rttUs + reoWndUs) * 1e3 - (sk.mstamp - seg.txTime);
    if (remainingNs <= 0) tcpMarkSkbLost(sk, seg);
    else wait = Math.max(wait, remainingNs);
  }
  return wait;
}

/** tcp_rack_mark_lost(): after RACK advanced; arms the REO timer for segments still in their window. */
function tcpRackMarkLost(sk: TcpSock): boolean {
  if (!sk.rack.advanced) return false;
  sk.rack.advanced = false;
  const wait = tcpRackDetectLoss(sk);
  if (wait > 0) {
    // usecs_to_jiffies() rounds up to the jiffy (1 ms here), plus TCP_TIMEOUT_MIN.
    const timeout = Math.ceil(wait / 1e6) * 1e6 + TCP_TIMEOUT_MIN_NS;
    inetCskResetXmitTimer(sk, TIMER.REO_TIMEOUT, Math.min(timeout, sk.rto));
  }
  return wait > 0;
}

/** tcp_rack_reo_timeout(): the reordering window passed; mark, recover, retransmit. */
export function tcpRackReoTimeout(sk: TcpSock): void {
  sk.mstamp = sk.clock;
  const lost = sk.lost;
  const priorInflight = sk.inFlight;
  tcpRackDetectLoss(sk);
  if (priorInflight !== sk.inFlight) {
    if (sk.caState !== TCP_CA.Recovery) {
      tcpEnterRecovery(sk);
      tcpCwndReduction(sk, 1, sk.lost - lost, 0);
    }
    tcpXmitRetransmitQueue(sk);
  }
  if (sk.pendingTimer !== TIMER.RETRANS) tcpRearmRtoOffset(sk);
}

/** The sequence just past the highest SACKed segment (tcp_highest_sack_seq), snd_una if none. */
function highestSackSeq(sk: TcpSock): number {
  if (sk.sackedOut === 0) return sk.sndUna;
  for (let i = sk.wq.length - 1; i >= 0; i--) {
    const seg = sk.wq[i] as TxSeg;
    if (seg.txTime >= 0 && seg.sacked & TCPCB.SACKED_ACKED) return seg.end;
  }
  return sk.sndUna;
}

/** tcp_check_sack_reordering(): a hole filled below the highest SACK widens `reordering`. */
export function tcpCheckSackReordering(sk: TcpSock, lowSeq: number, fack: number): void {
  if (!seqBefore(lowSeq, fack)) return;
  const mss = sk.mssCache;
  const metric = (fack - lowSeq) >>> 0;
  if (mss > 0 && metric > sk.reordering * mss) {
    sk.reordering = Math.min(Math.ceil(metric / mss), sk.tn.sysctl.tcp_max_reordering);
  }
  sk.rack.reordSeen++;
  sk.tn.ext.TCPSACKReorder++;
}

/** What tcp_sacktag_write_queue() found: segments newly SACKed, D-SACK, the lowest reordered seq. */
export interface SackState {
  sacked: number;
  dsack: boolean;
}

/** tcp_sacktag_write_queue(): mark what the blocks cover; count D-SACKs; note reordering. */
export function tcpSacktag(sk: TcpSock, blocks: readonly TcpSackBlock[], ack: number): SackState {
  const state: SackState = { sacked: 0, dsack: false };
  const fack = highestSackSeq(sk);
  let reord = sk.sndNxt;
  let first = true;
  // Ascending order, as Linux sorts the blocks before walking the queue.
  const sorted: TcpSackBlock[] = [];
  for (const b of blocks) {
    // RFC 2883: a first block below the ACK, or inside the second, reports a duplicate.
    if (first && (seqBefore(b.start, ack) || isInside(b, blocks[1]))) {
      sk.tn.ext.TCPDSACKRecv++;
      sk.tn.ext.TCPDSACKRecvSegs++;
      state.dsack = true;
      first = false;
      continue;
    }
    first = false;
    if (!seqBefore(b.start, b.end) || seqAfter(b.end, sk.sndNxt) || seqBefore(b.start, sk.sndUna)) {
      sk.tn.ext.TCPSACKDiscard++;
      continue;
    }
    sorted.push(b);
  }
  sorted.sort((a, b) => (a.start - b.start) | 0);
  for (const b of sorted) {
    for (const seg of sk.wq) {
      if (seg.txTime < 0) break;
      if (seg.sacked & TCPCB.SACKED_ACKED) continue;
      if (seqBefore(seg.seq, b.start) || seqAfter(seg.end, b.end)) continue;
      // tcp_sacktag_one().
      if (!(seg.sacked & TCPCB_RETRANS) && seqBefore(seg.seq, fack) && seqBefore(seg.seq, reord)) reord = seg.seq;
      tcpRackAdvance(sk, seg.sacked, seg.end, seg.txTime);
      seg.sacked |= TCPCB.SACKED_ACKED;
      sk.sackedOut++;
      if (seg.sacked & TCPCB.LOST) {
        seg.sacked &= ~TCPCB.LOST;
        sk.lostOut--;
      }
      if (seg.sacked & TCPCB.SACKED_RETRANS) {
        seg.sacked &= ~TCPCB.SACKED_RETRANS;
        sk.retransOut--;
      }
      sk.delivered++;
      state.sacked++;
    }
  }
  if (seqBefore(reord, sk.sndNxt)) tcpCheckSackReordering(sk, reord, highestSackSeq(sk));
  return state;
}

function isInside(a: TcpSackBlock, b: TcpSackBlock | undefined): boolean {
  return b !== undefined && !seqBefore(a.start, b.start) && !seqAfter(a.end, b.end);
}

/** tcp_in_cwnd_reduction(): CWR or Recovery, where PRR paces sending. */
export function tcpInCwndReduction(sk: TcpSock): boolean {
  return sk.caState === TCP_CA.CWR || sk.caState === TCP_CA.Recovery;
}

/** tcp_init_cwnd_reduction(). */
function tcpInitCwndReduction(sk: TcpSock): void {
  sk.highSeq = sk.sndNxt;
  sk.cwndCnt = 0;
  sk.priorCwnd = sk.cwnd;
  sk.prrDelivered = 0;
  sk.prrOut = 0;
  sk.ssthresh = sk.ca.ssthresh(sk);
}

/**
 * tcp_cwnd_reduction(): PRR (RFC 6937). Above ssthresh, send in proportion to what was
 * delivered (ssthresh/prior_cwnd of it); below, slow-start back up to ssthresh but no
 * faster than delivery (PRR-SSRB). Entering recovery always lets one retransmission out.
 */
export function tcpCwndReduction(sk: TcpSock, newlyAckedSacked: number, newlyLost: number, flag: number): void {
  if (newlyAckedSacked <= 0 || sk.priorCwnd === 0) return;
  const inFlight = sk.inFlight;
  const delta = sk.ssthresh - inFlight;
  sk.prrDelivered += newlyAckedSacked;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.floor((sk.ssthresh * sk.prrDelivered + sk.priorCwnd - 1) / sk.priorCwnd) - sk.prrOut;
  } else {
    sndcnt = Math.max(sk.prrDelivered - sk.prrOut, newlyAckedSacked);
    if ((flag & (FLAG.SND_UNA_ADVANCED | FLAG.LOST_RETRANS)) === FLAG.SND_UNA_ADVANCED && newlyLost === 0) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  // Force a fast retransmit upon entering fast recovery.
  sndcnt = Math.max(sndcnt, sk.prrOut > 0 ? 0 : 1);
  sk.cwnd = inFlight + sndcnt;
}

/** tcp_end_cwnd_reduction(): recovery done, cwnd settles at ssthresh. */
function tcpEndCwndReduction(sk: TcpSock): void {
  if (sk.ssthresh < 0x7fffffff && (sk.caState === TCP_CA.CWR || sk.caState === TCP_CA.Recovery)) sk.cwnd = sk.ssthresh;
}

/** tcp_enter_recovery(). */
function tcpEnterRecovery(sk: TcpSock): void {
  sk.tn.ext[sk.sackOk ? 'TCPSackRecovery' : 'TCPRenoRecovery']++;
  sk.priorSsthresh = 0;
  if (!tcpInCwndReduction(sk)) {
    sk.priorSsthresh = sk.ssthresh;
    tcpInitCwndReduction(sk);
  }
  sk.caState = TCP_CA.Recovery;
}

/** tcp_newreno_mark_lost(): without SACK, the head is lost after dupthresh duplicates, or a partial ACK. */
function tcpNewrenoMarkLost(sk: TcpSock, sndUnaAdvanced: boolean): void {
  if (
    (sk.caState < TCP_CA.Recovery && sk.sackedOut >= sk.reordering) ||
    (sk.caState === TCP_CA.Recovery && sndUnaAdvanced)
  ) {
    const head = sk.wq[0];
    if (head === undefined || head.txTime < 0 || head.sacked & TCPCB.LOST) return;
    tcpMarkSkbLost(sk, head);
  }
}

/** tcp_identify_packet_loss(). */
function tcpIdentifyPacketLoss(sk: TcpSock, flag: { v: number }): void {
  if (sk.packetsOut === 0) return;
  if (!sk.sackOk) {
    tcpNewrenoMarkLost(sk, (flag.v & FLAG.SND_UNA_ADVANCED) !== 0);
  } else if (tcpIsRack(sk)) {
    const priorRetrans = sk.retransOut;
    if (tcpRackMarkLost(sk)) flag.v |= FLAG.REO_ARMED;
    if (priorRetrans > sk.retransOut) flag.v |= FLAG.LOST_RETRANS;
  }
}

/** tcp_time_to_recover(): a segment is known lost (or, without RACK, dupthresh is reached). */
function tcpTimeToRecover(sk: TcpSock): boolean {
  if (sk.lostOut > 0) return true;
  return !tcpIsRack(sk) && sk.sackedOut + 1 > sk.reordering;
}

/** tcp_try_keep_open() via tcp_try_to_open(): Open, or Disorder while something is SACKed or retransmitted. */
function tcpTryToOpen(sk: TcpSock): void {
  const state = sk.sackedOut + sk.lostOut > 0 || sk.retransOut > 0 ? TCP_CA.Disorder : TCP_CA.Open;
  if (sk.caState !== state) {
    sk.caState = state;
    sk.highSeq = sk.sndNxt;
  }
}

/** tcp_add_reno_sack(): without SACK each duplicate ACK stands for a segment that left the network. */
function tcpAddRenoSack(sk: TcpSock, dupacks: number): void {
  if (dupacks === 0) return;
  sk.dupAcks += dupacks;
  sk.sackedOut = Math.min(sk.sackedOut + dupacks, Math.max(sk.packetsOut - 1, 0));
}

/**
 * tcp_fastretrans_alert(): after an ACK, leave a finished recovery, detect loss, enter
 * recovery. Returns whether lost segments should be retransmitted now.
 */
export function tcpFastretransAlert(sk: TcpSock, numDupack: number, flagIn: number): { rexmit: boolean; flag: number } {
  const flag = { v: flagIn };
  if (sk.packetsOut === 0 && sk.sackedOut > 0) sk.sackedOut = 0;
  // D. Leave a state whose recovery point is acknowledged.
  if (sk.caState !== TCP_CA.Open && !seqBefore(sk.sndUna, sk.highSeq)) {
    if (sk.caState === TCP_CA.CWR) {
      if (sk.sndUna !== sk.highSeq) {
        tcpEndCwndReduction(sk);
        sk.caState = TCP_CA.Open;
      }
    } else if (sk.caState === TCP_CA.Recovery || sk.caState === TCP_CA.Loss) {
      if (!sk.sackOk) {
        sk.sackedOut = 0;
        sk.dupAcks = 0;
      }
      tcpEndCwndReduction(sk);
      // tcp_try_undo_recovery(): NewReno holds the state until something above high_seq is ACKed.
      if (!sk.sackOk && sk.sndUna === sk.highSeq && sk.caState === TCP_CA.Recovery)
        return { rexmit: false, flag: flag.v };
      sk.caState = TCP_CA.Open;
    }
  }
  // E. Process the state.
  if (sk.caState === TCP_CA.Recovery) {
    if (!(flag.v & FLAG.SND_UNA_ADVANCED)) {
      if (!sk.sackOk) tcpAddRenoSack(sk, numDupack);
    }
    tcpIdentifyPacketLoss(sk, flag);
    return { rexmit: true, flag: flag.v };
  }
  if (sk.caState === TCP_CA.Loss) {
    // tcp_process_loss(): retransmit what the RTO marked, as cwnd allows.
    if (!sk.sackOk && !(flag.v & FLAG.SND_UNA_ADVANCED)) tcpAddRenoSack(sk, numDupack);
    tcpIdentifyPacketLoss(sk, flag);
    return { rexmit: true, flag: flag.v };
  }
  if (!sk.sackOk) {
    if (flag.v & FLAG.SND_UNA_ADVANCED) {
      sk.sackedOut = 0;
      sk.dupAcks = 0;
    }
    tcpAddRenoSack(sk, numDupack);
  }
  tcpIdentifyPacketLoss(sk, flag);
  if (!tcpTimeToRecover(sk)) {
    tcpTryToOpen(sk);
    return { rexmit: false, flag: flag.v };
  }
  tcpEnterRecovery(sk);
  return { rexmit: true, flag: flag.v };
}

/** tcp_enter_loss(): an RTO — everything outstanding and not SACKed is lost; cwnd starts over. */
export function tcpEnterLoss(sk: TcpSock): void {
  if (
    sk.caState <= TCP_CA.Disorder ||
    !seqAfter(sk.highSeq, sk.sndUna) ||
    (sk.caState === TCP_CA.Loss && sk.retransmits === 0)
  ) {
    sk.priorSsthresh = sk.ssthresh;
    sk.ssthresh = sk.ca.ssthresh(sk);
  }
  for (const seg of sk.wq) {
    if (seg.txTime < 0) break;
    if (seg.sacked & TCPCB.SACKED_ACKED) continue;
    if (seg.sacked & TCPCB.SACKED_RETRANS) {
      seg.sacked &= ~TCPCB.SACKED_RETRANS;
      sk.retransOut--;
    }
    if (!(seg.sacked & TCPCB.LOST)) {
      seg.sacked |= TCPCB.LOST;
      sk.lostOut++;
      sk.lost++;
    }
  }
  sk.cwnd = sk.inFlight + 1;
  sk.cwndCnt = 0;
  sk.caState = TCP_CA.Loss;
  sk.highSeq = sk.sndNxt;
  sk.dupAcks = 0;
  sk.ca.onLoss(sk);
}

/**
 * tcp_xmit_retransmit_queue(): resend lost segments while cwnd allows — as many of one
 * skb's consecutive lost segments in one packet as cwnd and tcp_tso_segs let.
 */
export function tcpXmitRetransmitQueue(sk: TcpSock): void {
  const lost = (seg: TxSeg | undefined): seg is TxSeg =>
    seg !== undefined &&
    seg.txTime >= 0 &&
    (seg.sacked & TCPCB.LOST) !== 0 &&
    !(seg.sacked & (TCPCB.SACKED_RETRANS | TCPCB.SACKED_ACKED));
  let maxSegs = 0;
  for (let i = 0; i < sk.wq.length; i++) {
    const seg = sk.wq[i] as TxSeg;
    if (seg.txTime < 0) break;
    if (!lost(seg)) continue;
    if (sk.inFlight >= sk.cwnd) break;
    if (maxSegs === 0) maxSegs = tcpRetransmitMaxSegs(sk);
    const room = Math.min(sk.cwnd - sk.inFlight, maxSegs);
    let n = 1;
    // Only the last segment of a packet may be short.
    while (
      n < room &&
      lost(sk.wq[i + n]) &&
      !(sk.wq[i + n] as TxSeg).skbHead &&
      (sk.wq[i + n - 1] as TxSeg).len >= sk.mssCache
    )
      n++;
    sk.tn.ext[sk.caState === TCP_CA.Loss ? 'TCPSlowStartRetrans' : 'TCPFastRetrans'] += n;
    tcpRetransmitSegs(sk, sk.wq.slice(i, i + n));
    sk.retrans += n;
    if (tcpInCwndReduction(sk)) sk.prrOut += n;
    i += n - 1;
  }
}
