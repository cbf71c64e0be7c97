/**
 * net/sched/sch_fifo.c: pfifo (a packet limit), bfifo (a byte limit) and
 * pfifo_head_drop (full: drop the oldest). Without options the limit is the device's
 * tx_queue_len, in bytes for bfifo times psched_mtu (MTU + hard header).
 */
import { NET_XMIT } from '../core/dev.js';
import type { NetDevice } from '../core/netdevice.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { Qdisc, qdiscPktLen } from './sch-generic.js';

export type FifoKind = 'pfifo' | 'bfifo' | 'pfifo_head_drop';

export class FifoQdisc extends Qdisc {
  readonly id: FifoKind;
  readonly #q: SkBuff[] = [];

  constructor(dev: NetDevice, handle: number, kind: FifoKind, limit?: number) {
    super(dev, handle);
    this.id = kind;
    this.change(limit);
  }

  /** fifo_init()/fifo_change(): no limit given means tx_queue_len (× psched_mtu for bfifo). */
  change(limit?: number): void {
    if (limit !== undefined) this.limit = limit >>> 0;
    else {
      const txQueueLen = this.dev.txQueueLen || 1;
      this.limit = this.id === 'bfifo' ? txQueueLen * (this.dev.mtu + this.dev.hardHeaderLen) : txQueueLen;
    }
  }

  enqueue(skb: SkBuff): number {
    if (this.id === 'bfifo') {
      if (this.qstats.backlog + qdiscPktLen(skb) <= this.limit) return this.enqueueTail(this.#q, skb);
      return this.drop(skb);
    }
    if (this.qstats.qlen < this.limit) return this.enqueueTail(this.#q, skb);
    if (this.id === 'pfifo') return this.drop(skb);
    // pfifo_tail_enqueue(): a zero limit drops the newcomer; otherwise the oldest goes.
    if (this.limit === 0) return this.drop(skb);
    const old = this.#q.shift() as SkBuff;
    this.qstats.qlen--;
    this.qstats.backlog -= qdiscPktLen(old);
    this.qstats.drops++;
    kfreeSkb(old);
    this.enqueueTail(this.#q, skb);
    return NET_XMIT.CN;
  }

  dequeue(): SkBuff | null {
    return this.dequeueHead(this.#q);
  }

  override reset(): void {
    for (const skb of this.#q.splice(0)) kfreeSkb(skb);
    super.reset();
  }
}
