/**
 * What TCP reports on the socket's error queue (net/ipv4/tcp.c, tcp_input.c): the
 * SO_TIMESTAMPING stamps of a write's last byte (tcp_tx_timestamp marks it; the packet
 * that carries it is stamped on its way out, tcp_ack_tstamp when it is acknowledged),
 * and MSG_ZEROCOPY completions once the data of a zerocopy send is all acknowledged.
 */

import {
  msgZerocopyCallback,
  msgZerocopyPutAbort,
  msgZerocopyRealloc,
  SCM_TSTAMP,
  skbTstampTx,
  sockErrq,
  type ZcUarg,
} from '../../core/errqueue.js';
import { SOF_TIMESTAMPING } from '../../core/ethtool.js';
import { SKBTX, type SkBuff } from '../../core/skbuff.js';
import { seqBefore, type TcpSock } from './sock.js';

/** SOF_TIMESTAMPING_TX_RECORD_MASK: the flags that ask for transmit stamps. */
const TX_RECORD_MASK =
  SOF_TIMESTAMPING.TX_HARDWARE | SOF_TIMESTAMPING.TX_SOFTWARE | SOF_TIMESTAMPING.TX_SCHED | SOF_TIMESTAMPING.TX_ACK;

/**
 * tcp_tx_timestamp(): after a write, its last byte (in the unsent tail of the write
 * queue) is the one stamped. Data already sent in full gets no stamp, as on Linux.
 */
export function tcpTxTimestamp(sk: TcpSock): void {
  const q = sk.errq;
  if (q === null || !(q.tsflags & TX_RECORD_MASK)) return;
  const tail = sk.wq[sk.wq.length - 1];
  if (tail === undefined || tail.txTime >= 0 || tail.len === 0) return;
  q.pendingTs.push({ key: (tail.seq + tail.len - 1) >>> 0, flags: q.tsflags });
}

/** Marks a data packet leaving tcp_transmit_skb that carries a stamped byte (skb_shinfo tx_flags, tskey). */
export function tcpTxStampSkb(sk: TcpSock, skb: SkBuff, seq: number, len: number): void {
  const q = sk.errq;
  if (q === null) return;
  for (const t of q.pendingTs) {
    if ((t.key - seq) >>> 0 >= len) continue;
    if (t.flags & SOF_TIMESTAMPING.TX_SCHED) skb.txFlags |= SKBTX.SCHED_TSTAMP;
    if (t.flags & SOF_TIMESTAMPING.TX_SOFTWARE) skb.txFlags |= SKBTX.SW_TSTAMP;
    skb.tskey = t.key;
    // The stamps go to the owner's error queue (tcp_transmit_skb owns every skb it sends).
    skb.sk = sk;
  }
}

/**
 * What an ACK that moved snd_una from `priorUna` completes: tcp_ack_tstamp() for each
 * stamped byte now acknowledged, and the zerocopy sends all of whose data is.
 */
export function tcpAckErrq(sk: TcpSock, priorUna: number): void {
  const q = sk.errq;
  if (q === null) return;
  const una = sk.sndUna;
  while (q.pendingTs.length > 0) {
    const t = q.pendingTs[0] as { key: number; flags: number };
    if (!seqBefore(t.key, una)) break;
    q.pendingTs.shift();
    if (t.flags & SOF_TIMESTAMPING.TX_ACK && !seqBefore(t.key, priorUna))
      skbTstampTx(sk, t.key, 1, SCM_TSTAMP.ACK, sk.net.kernel.clock.realtime());
  }
  tcpZerocopyComplete(sk);
}

/** The zerocopy sends whose data is all acknowledged (and whose sendmsg has returned) complete. */
function tcpZerocopyComplete(sk: TcpSock): void {
  const q = sk.errq;
  if (q === null) return;
  while (q.pendingZc.length > 0) {
    const u = q.pendingZc[0] as ZcUarg;
    if (u.end === -1 || seqBefore(sk.sndUna, u.end)) break;
    q.pendingZc.shift();
    msgZerocopyCallback(sk, u);
  }
}

/**
 * The zerocopy half of tcp_sendmsg_locked(): with SO_ZEROCOPY set, a MSG_ZEROCOPY send of
 * data takes a notification id (extending the previous send's while its data is still
 * the unsent tail it would be appended to). lonet copies the bytes, so the completion
 * says SO_EE_CODE_ZEROCOPY_COPIED, as Linux's does whenever a copy was made.
 */
export function tcpZerocopyBegin(sk: TcpSock): ZcUarg | null {
  const q = sk.errq;
  if (q === null || !q.zerocopy) return null;
  const tail = sk.wq[sk.wq.length - 1];
  const last = q.pendingZc[q.pendingZc.length - 1];
  const prev = last !== undefined && tail !== undefined && tail.txTime < 0 && tail.end === last.end ? last : null;
  const uarg = msgZerocopyRealloc(sk, prev);
  if (uarg !== prev) uarg.end = -1;
  return uarg;
}

/** The end of a zerocopy send: its data ends at write_seq; a send that queued nothing gives its id back. */
export function tcpZerocopyEnd(sk: TcpSock, uarg: ZcUarg, copied: number): void {
  if (copied <= 0) msgZerocopyPutAbort(sk, uarg);
  else uarg.end = sk.writeSeq;
  // net_zcopy_put(): the send's own reference goes; an ACK may already have covered the data.
  tcpZerocopyComplete(sk);
}

/** SO_ZEROCOPY (sock_setsockopt): TCP sockets may take it. */
export function tcpSetZerocopy(sk: TcpSock, on: boolean): void {
  sockErrq(sk).zerocopy = on;
}
