/**
 * net/ipv4/inet_fragment.c: the reassembly machinery IPv4 and IPv6 share. A queue per
 * datagram (keyed by addresses, id and protocol) collects fragments in offset order.
 * An exact duplicate fragment is dropped alone; any other overlap poisons the whole
 * datagram (RFC 5722, and Linux for IPv4 since 4.19). Memory is bounded per
 * namespace by a high threshold, and every queue dies after a timeout.
 */
import { kfreeSkb, type SkBuff, skbCopyBits } from '../core/skbuff.js';
import type { Timer } from '../kernel/clock.js';
import type { Net } from './net.js';

export const INET_FRAG = { FIRST_IN: 1, LAST_IN: 2, COMPLETE: 4 } as const;

export interface FragEntry {
  /** Byte offset of this fragment's payload in the datagram, and one past its end. */
  offset: number;
  end: number;
  skb: SkBuff;
  /** Where the payload starts in skb, relative to skb.data. */
  payloadAt: number;
}

/**
 * A piece's payload for the reassembled skb: shared where it lies in one linear run
 * (as Linux chains the pieces on frag_list), copied only if it spans fragments.
 */
export function fragPayload(f: FragEntry): Uint8Array {
  const len = f.end - f.offset;
  const at = f.skb.data + f.payloadAt;
  return f.payloadAt + len <= f.skb.headlen ? f.skb.head.subarray(at, at + len) : skbCopyBits(f.skb, f.payloadAt, len);
}

export class FragQueue {
  readonly frags: FragEntry[] = [];
  /** Total payload length, known once the last fragment arrived (or the largest end so far). */
  len = 0;
  /** Payload bytes received. */
  meat = 0;
  flags = 0;
  mem = 0;
  timer: Timer | null = null;
  /** IPv6 only (frag_queue.nhoffset): where the byte naming the fragment header sits, from the IPv6 header. */
  nhoff = 6;

  constructor(
    readonly key: string,
    readonly dir: FragDir,
  ) {}

  /**
   * inet_frag_queue_insert(): 'dup' for a fragment identical in place and size to one
   * held, 'overlap' for any other overlap, else 'ok'.
   */
  insert(e: FragEntry): 'ok' | 'dup' | 'overlap' {
    let i = this.frags.length;
    while (i > 0 && (this.frags[i - 1] as FragEntry).offset > e.offset) i--;
    const prev = this.frags[i - 1];
    const next = this.frags[i];
    for (const o of [prev, next]) {
      if (o === undefined) continue;
      if (e.offset < o.end && o.offset < e.end) return o.offset === e.offset && o.end === e.end ? 'dup' : 'overlap';
    }
    this.frags.splice(i, 0, e);
    this.meat += e.end - e.offset;
    this.mem += e.skb.truesize;
    this.dir.mem += e.skb.truesize;
    return 'ok';
  }

  get complete(): boolean {
    return (
      (this.flags & (INET_FRAG.FIRST_IN | INET_FRAG.LAST_IN)) === (INET_FRAG.FIRST_IN | INET_FRAG.LAST_IN) &&
      this.meat === this.len
    );
  }

  /** inet_frag_kill(): forget the queue and free what it held. */
  kill(): void {
    if (this.flags & INET_FRAG.COMPLETE) return;
    this.flags |= INET_FRAG.COMPLETE;
    this.timer?.cancel();
    this.timer = null;
    this.dir.queues.delete(this.key);
    this.dir.mem -= this.mem;
    for (const f of this.frags) kfreeSkb(f.skb);
    this.frags.length = 0;
    this.mem = 0;
  }

  /** Hands the fragments over for reassembly; the queue is gone afterwards. */
  takeFragments(): FragEntry[] {
    const frags = this.frags.splice(0);
    this.timer?.cancel();
    this.timer = null;
    this.flags |= INET_FRAG.COMPLETE;
    this.dir.queues.delete(this.key);
    this.dir.mem -= this.mem;
    this.mem = 0;
    return frags;
  }
}

/** struct fqdir: one namespace's reassembly queues for one family. */
export class FragDir {
  readonly queues = new Map<string, FragQueue>();
  mem = 0;

  constructor(readonly net: Net) {}

  /**
   * inet_frag_find(): the queue for `key`, made if need be. None (null) while the
   * namespace holds more than `highThresh` bytes of fragments.
   */
  find(key: string, highThresh: number, timeoutNs: number, onExpire: (q: FragQueue) => void): FragQueue | null {
    const q = this.queues.get(key);
    if (q !== undefined) return q;
    if (highThresh === 0 || this.mem > highThresh) return null;
    const nq = new FragQueue(key, this);
    const timer = this.net.kernel.clock.setTimer(timeoutNs, () => {
      if (nq.flags & INET_FRAG.COMPLETE) return;
      onExpire(nq);
      nq.kill();
    });
    // A kernel timer: it must not keep a Node process alive by itself.
    timer.unref();
    nq.timer = timer;
    this.queues.set(key, nq);
    return nq;
  }
}
