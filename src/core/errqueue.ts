/**
 * sk_error_queue and what is reported on it (include/uapi/linux/errqueue.h,
 * net/core/skbuff.c): MSG_ZEROCOPY completions (msg_zerocopy_realloc and its callback)
 * and SO_TIMESTAMPING transmit stamps (__skb_tstamp_tx, skb_tx_timestamp). A process
 * reads them with recvmsg(MSG_ERRQUEUE); a non-empty queue makes poll report POLLERR.
 */

import { SOF_TIMESTAMPING } from './ethtool.js';
import { SKBTX, type SkBuff } from './skbuff.js';
import type { Sock } from './sock.js';

/** ee_origin values. */
export const SO_EE_ORIGIN = { NONE: 0, LOCAL: 1, ICMP: 2, ICMP6: 3, TIMESTAMPING: 4, ZEROCOPY: 5 } as const;
export const SO_EE_CODE_ZEROCOPY_COPIED = 1;

/** ee_info of a timestamp: which point of the transmit path it was taken at. */
export const SCM_TSTAMP = { SND: 0, SCHED: 1, ACK: 2 } as const;

const ENOMSG = 42;

/** struct sock_extended_err. */
export interface SockExtendedErr {
  errno: number;
  origin: number;
  type: number;
  code: number;
  info: number;
  data: number;
}

/** An skb on the error queue: its report, its software stamp (ns, 0 = none) and its length. */
export interface ErrSkb {
  ee: SockExtendedErr;
  tstamp: number;
  len: number;
}

/** A MSG_ZEROCOPY notification range (struct ubuf_info_msgzc): ids [id, id+len). */
export interface ZcUarg {
  id: number;
  len: number;
  /** Whether the pages were really sent without a copy (lonet always copies). */
  zerocopy: boolean;
  /** The sequence number after its last byte: the send completes once that is acknowledged. */
  end: number;
}

/**
 * The error-queue side of struct sock, made on first use so sockets that never use it
 * carry one null: sk_error_queue, sk_tsflags, sk_tskey, sk_zckey and SOCK_ZEROCOPY.
 */
export class SockErrq {
  queue: ErrSkb[] = [];
  tsflags = 0;
  tskey = 0;
  zckey = 0;
  zerocopy = false;
  /** Zerocopy sends whose data is not all acknowledged yet, oldest first. */
  pendingZc: ZcUarg[] = [];
  /** Bytes (sequence numbers) whose transmission and ACK are to be stamped, oldest first. */
  pendingTs: { key: number; flags: number }[] = [];
}

/** sk_clone_lock(): a child keeps SOCK_ZEROCOPY and the timestamping flags, not the queue or ids. */
export function sockErrqClone(parent: Sock): SockErrq | null {
  const p = parent.errq;
  if (p === null) return null;
  const c = new SockErrq();
  c.zerocopy = p.zerocopy;
  c.tsflags = p.tsflags;
  c.tskey = p.tskey;
  return c;
}

export function sockErrq(sk: Sock): SockErrq {
  sk.errq ??= new SockErrq();
  return sk.errq;
}

/** sock_queue_err_skb(): queue and wake (sk_error_report), without setting sk_err. */
export function sockQueueErrSkb(sk: Sock, skb: ErrSkb): void {
  sockErrq(sk).queue.push(skb);
  const cb = sk.onError;
  if (cb !== null) queueMicrotask(cb);
}

/** sock_dequeue_err_skb(): the oldest report, or null. */
export function sockDequeueErrSkb(sk: Sock): ErrSkb | null {
  const q = sk.errq?.queue;
  if (q === undefined || q.length === 0) return null;
  const skb = q.shift() as ErrSkb;
  if (q.length > 0 && sk.onError !== null) queueMicrotask(sk.onError);
  return skb;
}

/**
 * msg_zerocopy_realloc(): the notification id of a zerocopy send of `size` bytes. A send
 * that continues the previous one's unsent tail (`prev`, its ids still contiguous with
 * sk_zckey) extends its range; otherwise it takes the next id.
 */
export function msgZerocopyRealloc(sk: Sock, prev: ZcUarg | null): ZcUarg {
  const q = sockErrq(sk);
  if (prev !== null && prev.id + prev.len === q.zckey) {
    prev.len++;
    q.zckey++;
    return prev;
  }
  const uarg: ZcUarg = { id: q.zckey++, len: 1, zerocopy: false, end: 0 };
  q.pendingZc.push(uarg);
  return uarg;
}

/** msg_zerocopy_put_abort(): a send that queued nothing gives its id back. */
export function msgZerocopyPutAbort(sk: Sock, uarg: ZcUarg): void {
  const q = sockErrq(sk);
  q.zckey--;
  uarg.len--;
  if (uarg.len === 0) q.pendingZc.splice(q.pendingZc.indexOf(uarg), 1);
}

/**
 * __msg_zerocopy_callback(): every skb holding the pages is freed, so report ids
 * [lo, hi]; a report continuing the one at the queue's tail extends it instead
 * (skb_zerocopy_notify_extend).
 */
export function msgZerocopyCallback(sk: Sock, uarg: ZcUarg): void {
  if (uarg.len === 0) return;
  const lo = uarg.id;
  const hi = uarg.id + uarg.len - 1;
  const q = sockErrq(sk).queue;
  const tail = q[q.length - 1];
  if (tail !== undefined && tail.ee.origin === SO_EE_ORIGIN.ZEROCOPY && tail.ee.data + 1 === lo) {
    tail.ee.data = hi;
    const cb = sk.onError;
    if (cb !== null) queueMicrotask(cb);
    return;
  }
  const code = uarg.zerocopy ? 0 : SO_EE_CODE_ZEROCOPY_COPIED;
  sockQueueErrSkb(sk, {
    ee: { errno: 0, origin: SO_EE_ORIGIN.ZEROCOPY, type: 0, code, info: lo, data: hi },
    tstamp: 0,
    len: 0,
  });
}

/**
 * __skb_tstamp_tx() for a software stamp now (`nowNs`, CLOCK_REALTIME): a copy of the
 * packet (or, with SOF_TIMESTAMPING_OPT_TSONLY, nothing) on the error queue with
 * ENOMSG, the stamp type in ee_info and, with SOF_TIMESTAMPING_OPT_ID, the byte's key
 * counted from sk_tskey in ee_data.
 */
export function skbTstampTx(sk: Sock, tskey: number, len: number, tstype: number, nowNs: number): void {
  const q = sk.errq;
  if (q === null) return;
  const tsonly = (q.tsflags & SOF_TIMESTAMPING.OPT_TSONLY) !== 0;
  const data = q.tsflags & SOF_TIMESTAMPING.OPT_ID ? (tskey - q.tskey) >>> 0 : 0;
  sockQueueErrSkb(sk, {
    ee: { errno: ENOMSG, origin: SO_EE_ORIGIN.TIMESTAMPING, type: 0, code: 0, info: tstype, data },
    tstamp: nowNs,
    len: tsonly ? 0 : len,
  });
}

/** The stamp a marked skb asks for at one point of the transmit path, taken now. */
function skbTstampPoint(skb: SkBuff, flag: number, tstype: number, nowNs: number): void {
  if (!(skb.txFlags & flag)) return;
  const sk = skb.sk as Sock | null;
  if (sk === null || !(sk.errq instanceof SockErrq)) return;
  skbTstampTx(sk, skb.tskey, skb.len, tstype, nowNs);
}

/** The SCM_TSTAMP_SCHED stamp __dev_queue_xmit takes as the packet enters the qdisc layer. */
export function skbTstampSched(skb: SkBuff, nowNs: number): void {
  skbTstampPoint(skb, SKBTX.SCHED_TSTAMP, SCM_TSTAMP.SCHED, nowNs);
}

/** skb_tx_timestamp(): the driver hands the packet to the wire (SCM_TSTAMP_SND, software). */
export function skbTxTimestamp(skb: SkBuff, nowNs: number): void {
  skbTstampPoint(skb, SKBTX.SW_TSTAMP, SCM_TSTAMP.SND, nowNs);
}
