/**
 * The qdisc layer's generic half (net/sched/sch_generic.c, plus the pieces of
 * net/core/dev.c that run qdiscs): struct Qdisc with its stats, __dev_xmit_skb,
 * __qdisc_run → dequeue → sch_direct_xmit → dev_hard_start_xmit (where taps see the
 * packet, so what a qdisc drops tcpdump never sees), __netif_schedule and the NET_TX
 * softirq (net_tx_action), and the qdisc watchdog (an hrtimer on the kernel clock).
 */
import { devQueueXmitNit, NET_XMIT } from '../core/dev.js';
import { NETDEV_TX } from '../core/if.js';
import type { DevQdisc, NetDevice } from '../core/netdevice.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { SOFTIRQ } from '../include/interrupt.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';

/** Handles (include/uapi/linux/pkt_sched.h). */
export const TC_H = {
  UNSPEC: 0,
  ROOT: 0xffffffff,
  INGRESS: 0xfffffff1,
} as const;

export const tcHMaj = (h: number): number => (h & 0xffff0000) >>> 0;
export const tcHMin = (h: number): number => h & 0xffff;

/** net_xmit codes beyond NET_XMIT_*: the low nibble is what callers see (NET_XMIT_MASK). */
export const NET_XMIT_MASK = 0x0f;
export const __NET_XMIT_STOLEN = 0x00010000;
export const __NET_XMIT_BYPASS = 0x00020000;

/** struct qdisc_skb_cb: the length a qdisc charges for a packet, and netem's send time. */
export interface QdiscSkbCb {
  pktLen: number;
  pktSegs: number;
  timeToSend: number;
}

const skbCb = new WeakMap<SkBuff, QdiscSkbCb>();

export function qdiscSkbCb(skb: SkBuff): QdiscSkbCb {
  let cb = skbCb.get(skb);
  if (cb === undefined) {
    cb = { pktLen: skb.len, pktSegs: 1, timeToSend: 0 };
    skbCb.set(skb, cb);
  }
  return cb;
}

/** skb_clone copies cb[]: a duplicate is charged what the original was. */
export function qdiscSkbCbCopy(from: SkBuff, to: SkBuff): void {
  const cb = qdiscSkbCb(from);
  skbCb.set(to, { ...cb });
}

/**
 * qdisc_pkt_len_segs_init(): a qdisc charges the frame as sent, Ethernet header included;
 * a GSO packet counts once per segment with every segment's headers.
 */
export function qdiscPktLenInit(skb: SkBuff): void {
  const cb = qdiscSkbCb(skb);
  cb.pktLen = skb.len;
  cb.pktSegs = 1;
  if (skb.gsoSize > 0 && skb.transportHeader >= 0) {
    const payloadAndHeaders = skb.len;
    let hdrLen = skb.transportHeader - skb.data;
    const proto = l4Protocol(skb);
    if (proto === 6) hdrLen += ((skb.head[skb.transportHeader + 12] ?? 0x50) >> 4) * 4;
    else if (proto === 17) hdrLen += 8;
    const segs = skb.gsoSegs > 0 ? skb.gsoSegs : Math.ceil((payloadAndHeaders - hdrLen) / skb.gsoSize);
    cb.pktSegs = Math.max(1, segs);
    cb.pktLen += (cb.pktSegs - 1) * hdrLen;
  }
}

function l4Protocol(skb: SkBuff): number {
  if (skb.networkHeader < 0) return 0;
  const version = (skb.head[skb.networkHeader] ?? 0) >> 4;
  if (version === 4) return skb.head[skb.networkHeader + 9] ?? 0;
  if (version === 6) return skb.head[skb.networkHeader + 6] ?? 0;
  return 0;
}

export function qdiscPktLen(skb: SkBuff): number {
  return qdiscSkbCb(skb).pktLen;
}

/** struct gnet_stats_basic_sync and struct gnet_stats_queue. */
export interface QdiscBstats {
  bytes: number;
  packets: number;
}
export interface QdiscQstats {
  qlen: number;
  backlog: number;
  drops: number;
  requeues: number;
  overlimits: number;
}

/**
 * struct Qdisc. A kind implements enqueue/dequeue (its Qdisc_ops); the base keeps the
 * stats tc prints, the run state and the requeue slot (q->gso_skb).
 */
export abstract class Qdisc implements DevQdisc {
  abstract readonly id: string;
  /** Whether the kind has an enqueue (noqueue has none: the device transmits directly). */
  readonly enqueues: boolean = true;
  readonly dev: NetDevice;
  handle: number;
  parent: number = TC_H.ROOT;
  /** sch->limit. */
  limit = 0;
  readonly bstats: QdiscBstats = { bytes: 0, packets: 0 };
  readonly qstats: QdiscQstats = { qlen: 0, backlog: 0, drops: 0, requeues: 0, overlimits: 0 };
  /** qdisc_run_begin()/end(): one runner at a time. */
  running = false;
  /** __QDISC_STATE_SCHED: on a CPU's output queue, waiting for NET_TX. */
  scheduled = false;
  /** Destroyed (qdisc_put); a late watchdog or NET_TX must not run it. */
  dead = false;
  /** q->gso_skb: a packet the driver refused, sent first next time. */
  readonly requeued: SkBuff[] = [];

  constructor(dev: NetDevice, handle: number) {
    this.dev = dev;
    this.handle = handle;
  }

  /** Returns NET_XMIT_* possibly with __NET_XMIT_* bits. */
  abstract enqueue(skb: SkBuff): number;
  abstract dequeue(): SkBuff | null;

  /** qdisc_reset(): drop everything queued; counters of what was sent stay. */
  reset(): void {
    for (const skb of this.requeued.splice(0)) kfreeSkb(skb);
    this.qstats.qlen = 0;
    this.qstats.backlog = 0;
  }

  /** qdisc_destroy(). */
  destroy(): void {
    this.reset();
    this.dead = true;
  }

  /** __dev_xmit_skb(): enqueue, then run the queue unless someone is running it already. */
  devXmit(skb: SkBuff): number {
    qdiscPktLenInit(skb);
    const rc = this.enqueue(skb) & NET_XMIT_MASK;
    qdiscRun(this);
    return rc;
  }

  /** qdisc_enqueue_tail(). */
  protected enqueueTail(queue: SkBuff[], skb: SkBuff): number {
    queue.push(skb);
    this.qstats.qlen++;
    this.qstats.backlog += qdiscPktLen(skb);
    return NET_XMIT.SUCCESS;
  }

  /** qdisc_dequeue_head() with qdisc_bstats_update(). */
  protected dequeueHead(queue: SkBuff[]): SkBuff | null {
    const skb = queue.shift();
    if (skb === undefined) return null;
    this.qstats.qlen--;
    this.deliver(skb);
    return skb;
  }

  /** qdisc_qstats_backlog_dec() + qdisc_bstats_update(): the packet leaves the qdisc. */
  protected deliver(skb: SkBuff): void {
    const cb = qdiscSkbCb(skb);
    this.qstats.backlog -= cb.pktLen;
    this.bstats.bytes += cb.pktLen;
    this.bstats.packets += cb.pktSegs;
  }

  /** qdisc_drop(): counted in drops, freed. */
  protected drop(skb: SkBuff): number {
    this.qstats.drops++;
    kfreeSkb(skb);
    return NET_XMIT.DROP;
  }
}

/** Per-CPU output queues (softnet_data.output_queue) of each kernel. */
const outputQueues = new WeakMap<Kernel, Qdisc[][]>();

function outputQueue(kernel: Kernel, cpu: number): Qdisc[] {
  let qs = outputQueues.get(kernel);
  if (qs === undefined) {
    qs = kernel.cpus.map(() => []);
    outputQueues.set(kernel, qs);
  }
  return qs[cpu] as Qdisc[];
}

/** __netif_schedule(): have NET_TX run this qdisc on this CPU. */
export function netifSchedule(q: Qdisc): void {
  if (q.scheduled || q.dead) return;
  q.scheduled = true;
  const kernel = q.dev.kernel;
  outputQueue(kernel, kernel.curCpu).push(q);
  kernel.raiseSoftirq(kernel.curCpu, SOFTIRQ.NET_TX);
}

/** net_tx_action(): the NET_TX softirq runs every qdisc scheduled on this CPU. */
export function netTxAction(kernel: Kernel, cpu: number): void {
  const list = outputQueue(kernel, cpu).splice(0);
  for (const q of list) {
    q.scheduled = false;
    if (!q.dead) qdiscRun(q);
  }
}

/** qdisc_run(): qdisc_run_begin, __qdisc_run, qdisc_run_end. */
export function qdiscRun(q: Qdisc): void {
  if (q.running || q.dead) return;
  q.running = true;
  try {
    // __qdisc_run(): at most dev_tx_weight packets, then yield to NET_TX.
    let quota = q.dev.kernel.core.dev_weight * q.dev.kernel.core.dev_weight_tx_bias;
    for (;;) {
      const packets = qdiscRestart(q);
      if (packets === 0) break;
      quota -= packets;
      if (quota <= 0) {
        netifSchedule(q);
        break;
      }
    }
  } finally {
    q.running = false;
  }
}

/** qdisc_restart(): dequeue one packet and hand it to the driver; 0 when nothing was sent. */
function qdiscRestart(q: Qdisc): number {
  const skb = q.requeued.shift() ?? q.dequeue();
  if (skb === null) return 0;
  const segs = qdiscSkbCb(skb).pktSegs;
  return schDirectXmit(skb, q) ? segs : 0;
}

/**
 * sch_direct_xmit() → dev_hard_start_xmit() → xmit_one(): taps see the packet now, as
 * it leaves the qdisc, then the driver takes it. A busy driver gets it back later.
 */
function schDirectXmit(skb: SkBuff, q: Qdisc): boolean {
  const dev = q.dev;
  skb.dev = dev;
  if (dev.ptypeAll.length > 0 || (dev.net !== null && dev.net.ptypeAll.length > 0)) devQueueXmitNit(skb, dev);
  const rc = dev.netdevOps.ndoStartXmit(skb, dev);
  if (rc === NETDEV_TX.OK) return true;
  // dev_requeue_skb()
  q.requeued.unshift(skb);
  q.qstats.requeues++;
  netifSchedule(q);
  return false;
}

/**
 * struct qdisc_watchdog: an hrtimer, pinned to the CPU that armed it, whose expiry
 * schedules the root qdisc for NET_TX (qdisc_watchdog → __netif_schedule).
 */
export class QdiscWatchdog {
  readonly #qdisc: Qdisc;
  #timer: Timer | null = null;
  #expires = 0;

  constructor(qdisc: Qdisc) {
    this.#qdisc = qdisc;
  }

  /** qdisc_watchdog_schedule_ns(): a timer already set for that instant is left alone. */
  scheduleNs(expires: number): void {
    const q = this.#qdisc;
    if (q.dead) return;
    if (this.#timer !== null) {
      if (this.#expires === expires) return;
      this.#timer.cancel();
    }
    const kernel = q.dev.kernel;
    const cpu = kernel.curCpu;
    this.#expires = expires;
    this.#timer = kernel.clock.setTimer(expires - kernel.clock.now(), () => {
      this.#timer = null;
      // The hrtimer interrupt: raise NET_TX; irq_exit runs it.
      kernel.runOn(cpu, () => netifSchedule(rootQdisc(q)));
    });
    // A queued packet alone never keeps a Node process alive; its sockets decide.
    this.#timer.unref();
  }

  /** qdisc_watchdog_cancel(). */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}

/** qdisc_root(): lonet attaches qdiscs only at the root, so a qdisc is its own root. */
export function rootQdisc(q: Qdisc): Qdisc {
  return q;
}

/**
 * noqueue created by `tc qdisc add … noqueue`: no enqueue, so __dev_queue_xmit sends
 * straight to the driver, as with the default one (which has handle 0).
 */
export class NoqueueQdisc extends Qdisc {
  readonly id = 'noqueue';
  override readonly enqueues = false;
  enqueue(skb: SkBuff): number {
    return this.drop(skb);
  }
  dequeue(): SkBuff | null {
    return null;
  }
}
