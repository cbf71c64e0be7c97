/**
 * net/sched/sch_tbf.c without a peak rate: a token bucket of `buffer` nanoseconds'
 * worth of `rate`, in front of a byte-limited FIFO (its child bfifo of `limit` bytes).
 * A packet leaves when the bucket holds its transmission time at `rate`; otherwise the
 * qdisc watchdog fires when it will, and the miss counts as an overlimit. A packet
 * bigger than the bucket can ever hold is dropped on arrival.
 */
import type { NetDevice } from '../core/netdevice.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { Qdisc, QdiscWatchdog, qdiscPktLen } from './sch-generic.js';

export interface TbfConfig {
  /** Bytes per second. */
  rate: number;
  /** The bucket, as the time `rate` takes to send it (ns; tc sends 64 ns ticks). */
  bufferNs: number;
  /** The FIFO's limit in bytes. */
  limit: number;
}

export class TbfQdisc extends Qdisc {
  readonly id = 'tbf';
  rate = 0;
  bufferNs = 0;
  /** max_size: the largest packet the bucket can pass. */
  maxSize = 0;
  #tokens = 0;
  /** t_c: when tokens were last counted. */
  #tc = 0;
  readonly #q: SkBuff[] = [];
  readonly #watchdog = new QdiscWatchdog(this);

  constructor(dev: NetDevice, handle: number, cfg: TbfConfig) {
    super(dev, handle);
    this.change(cfg);
  }

  /** tbf_change(): a full bucket, counted from now. */
  change(cfg: TbfConfig): void {
    this.rate = cfg.rate;
    this.bufferNs = cfg.bufferNs;
    this.limit = cfg.limit >>> 0;
    // psched_ns_t2l(): what `rate` sends in `buffer`.
    this.maxSize = Math.min(Math.floor((cfg.rate * cfg.bufferNs) / 1e9), 0xffffffff);
    this.#tokens = this.bufferNs;
    this.#tc = this.dev.kernel.clock.now();
  }

  /** psched_l2t_ns(): the time `len` bytes take at `rate`. */
  #l2t(len: number): number {
    return Math.floor((len * 1e9) / this.rate);
  }

  enqueue(skb: SkBuff): number {
    const len = qdiscPktLen(skb);
    if (len > this.maxSize) return this.drop(skb);
    // The child bfifo: the bytes already waiting plus this one within the limit.
    if (this.qstats.backlog + len > this.limit) return this.drop(skb);
    return this.enqueueTail(this.#q, skb);
  }

  dequeue(): SkBuff | null {
    const skb = this.#q[0];
    if (skb === undefined) return null;
    const now = this.dev.kernel.clock.now();
    let toks = Math.min(now - this.#tc, this.bufferNs) + this.#tokens;
    if (toks > this.bufferNs) toks = this.bufferNs;
    toks -= this.#l2t(qdiscPktLen(skb));
    if (toks >= 0) {
      this.#tc = now;
      this.#tokens = toks;
      return this.dequeueHead(this.#q);
    }
    this.#watchdog.scheduleNs(now - toks);
    this.qstats.overlimits++;
    return null;
  }

  override reset(): void {
    for (const skb of this.#q.splice(0)) kfreeSkb(skb);
    this.#watchdog.cancel();
    this.#tokens = this.bufferNs;
    this.#tc = this.dev.kernel.clock.now();
    super.reset();
  }
}
