/**
 * A socket's receive queue for datagram sockets (sk_receive_queue + sock_queue_rcv_skb
 * + the wait a reader does in recvmsg): bounded by SO_RCVBUF in truesize, as Linux
 * charges it; a full buffer drops and counts (sk_drops); a waiting reader is woken
 * asynchronously, as a process is.
 */

export class DatagramQueue<T> {
  /** SO_RCVBUF, as Linux stores it (doubled from what setsockopt was given). */
  rcvbuf: number;
  /** sk_rmem_alloc: truesize of what waits in the queue. */
  rmemAlloc = 0;
  /** sk_drops: datagrams lost to a full receive buffer. */
  drops = 0;
  /** Queued datagrams and, at the same index, the truesize each is charged (no pair object per datagram). */
  readonly #items: T[] = [];
  readonly #sizes: number[] = [];
  #waiters: ((item: T | null) => void)[] = [];
  #closed = false;

  /**
   * `overLimit` decides when the buffer is full: raw and ping sockets refuse at
   * rmem >= rcvbuf (__sock_queue_rcv_skb); UDP refuses a datagram that would not fit,
   * unless the queue is empty (__udp_enqueue_schedule_skb since Linux 6.15).
   */
  constructor(
    rcvbuf: number,
    readonly overLimit: (rmem: number, rcvbuf: number, size: number) => boolean = (rmem, rcvbuf) => rmem >= rcvbuf,
  ) {
    this.rcvbuf = rcvbuf;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get length(): number {
    return this.#items.length;
  }

  /**
   * Queues a datagram of `truesize` bytes; false (and counted) if the buffer is full.
   * A reader already waiting gets it directly, on a microtask.
   */
  push(item: T, truesize: number): boolean {
    if (this.#closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      queueMicrotask(() => waiter(item));
      return true;
    }
    if (this.overLimit(this.rmemAlloc, this.rcvbuf, truesize)) {
      this.drops++;
      return false;
    }
    this.rmemAlloc += truesize;
    this.#items.push(item);
    this.#sizes.push(truesize);
    return true;
  }

  /** recvmsg(MSG_DONTWAIT): the next datagram, or null. */
  shift(): T | null {
    if (this.#items.length === 0) return null;
    const item = this.#items.shift() as T;
    this.rmemAlloc -= this.#sizes.shift() as number;
    return item;
  }

  /** recvmsg() that waits; null when `signal` aborts or the socket closes. */
  wait(signal?: AbortSignal): Promise<T | null> {
    const now = this.shift();
    if (now !== null || this.#closed) return Promise.resolve(now);
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(null);
      const waiter = (item: T | null) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(item);
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Closing empties the queue and wakes every reader with null. */
  close(): T[] {
    if (this.#closed) return [];
    this.#closed = true;
    const left = this.#items.splice(0);
    this.#sizes.length = 0;
    this.rmemAlloc = 0;
    for (const w of this.#waiters) w(null);
    this.#waiters = [];
    return left;
  }
}
