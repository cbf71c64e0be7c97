/**
 * struct sock, the part every socket shares: buffer sizes and accounting as Linux
 * keeps them, the CPU its process runs on, a pending error (sk_err), and the wakeups
 * that tell the layer above (the node:dgram and node:net faces) that something
 * happened — always asynchronously, as a process is woken by the kernel.
 */

import type { Net } from '../net/net.js';
import type { SockErrq } from './errqueue.js';
import type { SkBuff } from './skbuff.js';

/** SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF on Linux 6.x x86_64 (2 × TCP_SKB_MIN_TRUESIZE for send). */
export const SOCK_MIN_RCVBUF = 2304;
export const SOCK_MIN_SNDBUF = 4608;

let nextCpu = 0;

/** get_next_ino(): inode numbers, one counter per host; the first value is only a seed. */
const nextIno = new WeakMap<object, number>();
const FIRST_INO = 16384;

/** get_next_ino(). */
export function getNextIno(kernel: object): number {
  const ino = nextIno.get(kernel) ?? FIRST_INO;
  nextIno.set(kernel, ino + 1);
  return ino;
}

export class Sock {
  /** sk_sndbuf / sk_rcvbuf, in bytes of truesize (the doubled setsockopt value). */
  sndbuf: number;
  rcvbuf: number;
  /** sk_wmem_alloc: truesize of this socket's packets not yet orphaned. */
  wmemAlloc = 0;
  /** sk_err: a pending error (positive errno) reported on the next call. */
  err = 0;
  /** The CPU this socket's process context runs on (sk_incoming_cpu, chosen round robin). */
  readonly cpu: number;
  /**
   * sock_i_ino(): the socket's inode, as /proc/net/* and ss -e show it; 0 for a sock
   * with no struct socket yet (an AF_UNIX embryo gets one when it is accepted).
   */
  ino: number;
  /** sk_forward_alloc: receive memory charged in whole pages ahead of use (udp_rmem_schedule). */
  forwardAlloc = 0;
  /** Called (asynchronously) when data can be read, an error is pending, or buffer space frees. */
  onDataReady: (() => void) | null = null;
  onError: (() => void) | null = null;
  onWriteSpace: (() => void) | null = null;
  /** sk_error_queue with the timestamping and zerocopy state that feeds it; null until used. */
  errq: SockErrq | null = null;
  #dataScheduled = false;
  #wake: (() => void) | null = null;

  constructor(
    readonly net: Net,
    withInode = true,
  ) {
    this.sndbuf = net.core.wmem_default;
    this.rcvbuf = net.core.rmem_default;
    this.cpu = nextCpu++ % net.kernel.cpus.length;
    this.ino = withInode ? getNextIno(net.kernel) : 0;
  }

  /** SO_SNDBUF: min(val, wmem_max) doubled, not below SOCK_MIN_SNDBUF. */
  setSndbuf(val: number): void {
    this.sndbuf = Math.max(Math.min(val, this.net.core.wmem_max) * 2, SOCK_MIN_SNDBUF);
  }

  /** SO_RCVBUF: min(val, rmem_max) doubled, not below SOCK_MIN_RCVBUF. */
  setRcvbuf(val: number): void {
    this.rcvbuf = Math.max(Math.min(val, this.net.core.rmem_max) * 2, SOCK_MIN_RCVBUF);
  }

  /**
   * skb_set_owner_w(): the packet is charged to this socket's send buffer until it is
   * orphaned (lo does it in loopback_xmit) or freed; then sock_wfree gives it back.
   */
  skbSetOwnerW(skb: SkBuff): void {
    skb.sk = this;
    this.wmemAlloc += skb.truesize;
    skb.destructor = sockWfree;
  }

  /** Whether a packet of `truesize` more would overflow the send buffer (sock_alloc_send_skb). */
  sndbufFull(): boolean {
    return this.wmemAlloc >= this.sndbuf;
  }

  /** sock_error(): take the pending error, if any, as -errno. */
  takeError(): number {
    const e = this.err;
    this.err = 0;
    return e === 0 ? 0 : -e;
  }

  /** sk_error_report(): record and wake. */
  reportError(errno: number): void {
    this.err = errno;
    const cb = this.onError;
    if (cb !== null) queueMicrotask(cb);
  }

  /** sk_data_ready(): one wakeup per batch, on a microtask. */
  dataReady(): void {
    if (this.#dataScheduled || this.onDataReady === null) return;
    this.#dataScheduled = true;
    // One closure per socket, made at its first wakeup (idle sockets never need one).
    this.#wake ??= () => {
      this.#dataScheduled = false;
      this.onDataReady?.();
    };
    queueMicrotask(this.#wake);
  }
}

/** sock_wfree(): the skb destructor that returns send-buffer credit and wakes writers. */
function sockWfree(skb: SkBuff): void {
  const sk = skb.sk as Sock | null;
  if (sk === null) return;
  const wasFull = sk.sndbufFull();
  sk.wmemAlloc -= skb.truesize;
  if (wasFull && !sk.sndbufFull() && sk.onWriteSpace !== null) queueMicrotask(sk.onWriteSpace);
}

/** SKB_DATA_ALIGN: to the 64-byte cache line. */
const dataAlign = (n: number) => (n + 63) & ~63;
/** sizeof(skb_shared_info) aligned, and of struct sk_buff aligned, on x86_64. */
const SHINFO = 320;
const SKBUFF = 256;
/** SKB_SMALL_HEAD_CACHE_SIZE: heads this small come from a 576-byte cache. */
const SMALL_HEAD = 576;
/** SKB_MAX_ALLOC: a linear head larger than this is built with page fragments on an SG device. */
const SKB_MAX_ALLOC = (4096 << 2) - SHINFO;

function headAlloc(len: number): number {
  const req = dataAlign(len) + SHINFO;
  if (req <= SMALL_HEAD) return SMALL_HEAD;
  let size = 1024;
  while (size < req) size *= 2;
  return size;
}

/**
 * The truesize __ip_append_data gives a datagram of `payload` bytes on lo: a kmalloc'd
 * head holding headers and data, or, past SKB_MAX_ALLOC, a small head with the data in
 * page fragments. This is what a UDP receiver's Recv-Q (sk_rmem_alloc) counts; the
 * formula reproduces what `ss -uan` shows on Linux 6.18 (832 for a small datagram).
 */
export function datagramTruesize(payload: number, ipHeader: number, l4Header = 8): number {
  const allocExtra = 16 + 15; // LL_RESERVED_SPACE(lo) + 15
  const fraglen = ipHeader + l4Header + payload;
  if (fraglen + allocExtra < SKB_MAX_ALLOC) return SKBUFF + headAlloc(fraglen + allocExtra);
  return SKBUFF + headAlloc(ipHeader + l4Header + allocExtra) + payload;
}
