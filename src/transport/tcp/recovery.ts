/**
 * Loss detection and recovery (net/ipv4/tcp_input.c: tcp_sacktag_write_queue,
 * tcp_fastretrans_alert, tcp_enter_loss, tcp_xmit_retransmit_queue): SACK scoreboard,
 * RFC 6675's IsLost rule (a hole with `reordering` SACKed segments above it is lost),
 * Reno's duplicate-ACK count when the peer has no SACK, fast recovery ending at
 * high_seq, and the Loss state an RTO enters.
 */
import type { TcpSackBlock } from '../../wire/tcp.js';
import { tcpRetransmitSeg } from './output.js';
import { seqAfter, seqBefore, TCP_CA, TCPCB, type TcpSock } from './sock.js';

/** tcp_sacktag_write_queue(): mark what the blocks cover; count D-SACKs. */
export function tcpSacktag(sk: TcpSock, blocks: readonly TcpSackBlock[], ack: number): void {
  let first = true;
  for (const b of blocks) {
    // RFC 2883: a first block below the ACK, or inside the second, reports a duplicate.
    if (first && (seqBefore(b.start, ack) || isInside(b, blocks[1]))) {
      sk.tn.ext.TCPDSACKRecv++;
      sk.tn.ext.TCPDSACKRecvSegs++;
      first = false;
      continue;
    }
    first = false;
    if (!seqBefore(b.start, b.end) || seqAfter(b.end, sk.sndNxt) || seqBefore(b.start, sk.sndUna)) {
      sk.tn.ext.TCPSACKDiscard++;
      continue;
    }
    for (const seg of sk.wq) {
      if (seg.txTime < 0) break;
      if (seg.sacked & TCPCB.SACKED_ACKED) continue;
      if (seqBefore(seg.seq, b.start) || seqAfter(seg.end, b.end)) continue;
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
    }
  }
}

function isInside(a: TcpSackBlock, b: TcpSackBlock | undefined): boolean {
  return b !== undefined && !seqBefore(a.start, b.start) && !seqAfter(a.end, b.end);
}

/** Marks holes as lost: with SACK, those with `reordering` SACKed segments above; without, the head. */
function tcpMarkHeadLost(sk: TcpSock, dupThresh: boolean): void {
  if (sk.sackOk) {
    let sackedAbove = 0;
    for (let i = sk.wq.length - 1; i >= 0; i--) {
      const seg = sk.wq[i];
      if (seg === undefined || seg.txTime < 0) continue;
      if (seg.sacked & TCPCB.SACKED_ACKED) {
        sackedAbove++;
        continue;
      }
      if (sackedAbove >= sk.reordering && !(seg.sacked & (TCPCB.LOST | TCPCB.SACKED_RETRANS))) {
        seg.sacked |= TCPCB.LOST;
        sk.lostOut++;
      }
    }
    return;
  }
  const head = sk.wq[0];
  if (dupThresh && head !== undefined && head.txTime >= 0 && !(head.sacked & (TCPCB.LOST | TCPCB.SACKED_RETRANS))) {
    head.sacked |= TCPCB.LOST;
    sk.lostOut++;
  }
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
 * tcp_fastretrans_alert(): after an ACK, decide whether loss happened and recover.
 * `isDupack` is an ACK that acknowledged nothing new.
 */
export function tcpFastretransAlert(sk: TcpSock, isDupack: boolean): void {
  if (!sk.sackOk && isDupack && sk.packetsOut > 0) {
    sk.dupAcks++;
    // tcp_add_reno_sack(): each duplicate stands for a segment that left the network.
    if (sk.sackedOut < sk.packetsOut - 1) sk.sackedOut++;
  }
  if (sk.caState === TCP_CA.Recovery || sk.caState === TCP_CA.Loss) {
    if (!seqBefore(sk.sndUna, sk.highSeq)) {
      // Everything outstanding at the loss is acknowledged: recovery ends (tcp_end_cwnd_reduction).
      if (sk.caState === TCP_CA.Recovery) sk.cwnd = Math.max(sk.ssthresh, 2);
      sk.caState = TCP_CA.Open;
      sk.dupAcks = 0;
      if (!sk.sackOk) sk.sackedOut = 0;
    } else if (sk.caState === TCP_CA.Recovery) {
      tcpMarkHeadLost(sk, !sk.sackOk);
    }
  }
  if (sk.caState === TCP_CA.Open || sk.caState === TCP_CA.Disorder) {
    const dupThresh = sk.sackOk ? sk.sackedOut >= sk.reordering : sk.dupAcks >= sk.reordering;
    tcpMarkHeadLost(sk, dupThresh);
    if (sk.lostOut > 0) {
      sk.tn.ext[sk.sackOk ? 'TCPSackRecovery' : 'TCPRenoRecovery']++;
      sk.priorSsthresh = sk.ssthresh;
      sk.priorCwnd = sk.cwnd;
      sk.ssthresh = sk.ca.ssthresh(sk);
      sk.cwnd = Math.max(sk.ssthresh, sk.inFlight + 1);
      sk.highSeq = sk.sndNxt;
      sk.caState = TCP_CA.Recovery;
    } else {
      sk.caState = sk.sackedOut > 0 || sk.dupAcks > 0 ? TCP_CA.Disorder : TCP_CA.Open;
    }
  }
  if (sk.caState === TCP_CA.Recovery || sk.caState === TCP_CA.Loss) tcpXmitRetransmitQueue(sk);
}

/** tcp_xmit_retransmit_queue(): resend lost segments while cwnd allows. */
export function tcpXmitRetransmitQueue(sk: TcpSock): void {
  for (const seg of sk.wq) {
    if (seg.txTime < 0) break;
    if (!(seg.sacked & TCPCB.LOST) || seg.sacked & (TCPCB.SACKED_RETRANS | TCPCB.SACKED_ACKED)) continue;
    if (sk.inFlight >= sk.cwnd) break;
    sk.tn.ext[sk.caState === TCP_CA.Loss ? 'TCPSlowStartRetrans' : 'TCPFastRetrans']++;
    if (seg.sacked & TCPCB.EVER_RETRANS) sk.tn.ext.TCPLostRetransmit++;
    tcpRetransmitSeg(sk, seg);
    sk.retrans++;
  }
}
