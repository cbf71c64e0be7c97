/**
 * net/sched/sch_netem.c (Linux 6.18): the network emulator. Enqueue decides, in
 * Linux's order and from the same PRNG stream, duplicate → loss → corrupt → limit →
 * reorder-or-delay; packets wait in a time-ordered queue (tfifo) until time_to_send,
 * and the qdisc watchdog (a kernel-clock timer) wakes NET_TX to send them. With a
 * virtual clock nothing moves until the test advances time, so runs are exact.
 */
import { NET_XMIT } from '../core/dev.js';
import type { NetDevice } from '../core/netdevice.js';
import { CHECKSUM, kfreeSkb, type SkBuff, skbChecksumHelp, skbOrphan } from '../core/skbuff.js';
import { ETH_P } from '../include/if-ether.js';
import { getRandomU64, prandomSeedState, prandomU32State, RndState } from './prandom.js';
import {
  __NET_XMIT_BYPASS,
  Qdisc,
  QdiscWatchdog,
  qdiscPktLen,
  qdiscSkbCb,
  qdiscSkbCbCopy,
  rootQdisc,
} from './sch-generic.js';

const UINT32_MAX = 0xffffffff;
const INT_MAX = 0x7fffffff;

/** struct crndstate: a correlated random source (rho = 0: uncorrelated). */
interface Crnd {
  last: number;
  rho: number;
}

/**
 * What `tc` sends (struct tc_netem_qopt plus the optional attributes): probabilities are
 * u32 fractions of UINT32_MAX, times in nanoseconds, rate in bytes per second. An
 * absent optional attribute leaves that setting as it was, as netem_change does.
 */
export interface NetemConfig {
  limit: number;
  latencyNs: number;
  jitterNs: number;
  loss: number;
  gap: number;
  duplicate: number;
  corr?: { delay: number; loss: number; dup: number };
  reorder?: { probability: number; correlation: number };
  corrupt?: { probability: number; correlation: number };
  rate?: { rate: number; packetOverhead: number; cellSize: number; cellOverhead: number };
  ecn?: number;
  seed?: bigint;
  /** TCA_NETEM_LOSS: a Markov loss model instead of random loss (u32 fractions). */
  lossModel?: NetemLossModel;
  /** TCA_NETEM_SLOT: send in slots every [minDelay, maxDelay] ns, up to packets/bytes each (0: no cap). */
  slot?: NetemSlot;
}

/** struct tc_netem_slot without the distribution (lonet has no delay tables). */
export interface NetemSlot {
  minDelayNs: number;
  maxDelayNs: number;
  maxPackets: number;
  maxBytes: number;
}

/** NETEM_LOSS_GI (4-state, "loss state") or NETEM_LOSS_GE (Gilbert-Elliott, "loss gemodel"). */
export type NetemLossModel =
  | { kind: 'gi'; p13: number; p31: number; p32: number; p23: number; p14: number }
  | { kind: 'ge'; p: number; r: number; h: number; k1: number };

/** What netem_dump reports (tc prints it): times in psched ticks of 64 ns. */
export interface NetemDump {
  limit: number;
  latencyTicks: number;
  jitterTicks: number;
  loss: number;
  gap: number;
  duplicate: number;
  corr: { delay: number; loss: number; dup: number };
  reorder: { probability: number; correlation: number };
  corrupt: { probability: number; correlation: number };
  rate: { rate: number; packetOverhead: number; cellSize: number; cellOverhead: number };
  ecn: number;
  seed: bigint;
  lossModel: NetemLossModel | null;
  /** Present only when a slot is configured; 0 packets/bytes means no cap. */
  slot: NetemSlot | null;
}

/** Duplicates carry tc_depth 1 so they are never duplicated again. */
const duplicates = new WeakSet<SkBuff>();

export class NetemQdisc extends Qdisc {
  readonly id = 'netem';
  /** The internal t(ime)fifo, sorted by time_to_send; equal times keep arrival order. */
  readonly #tfifo: SkBuff[] = [];
  /** sch->q: packets reordered to the front, sent before the tfifo. */
  readonly #head: SkBuff[] = [];
  readonly #watchdog = new QdiscWatchdog(this);

  latency = 0;
  jitter = 0;
  loss = 0;
  ecn = 0;
  counter = 0;
  gap = 0;
  duplicate = 0;
  reorder = 0;
  corrupt = 0;
  rate = 0;
  packetOverhead = 0;
  cellSize = 0;
  cellOverhead = 0;
  readonly delayCor: Crnd = { last: 0, rho: 0 };
  readonly lossCor: Crnd = { last: 0, rho: 0 };
  readonly dupCor: Crnd = { last: 0, rho: 0 };
  readonly reorderCor: Crnd = { last: 0, rho: 0 };
  readonly corruptCor: Crnd = { last: 0, rho: 0 };
  /** CLG_RANDOM (null) or a Markov model, with its state (clg.state). */
  lossModel: NetemLossModel | null = null;
  #clgState = 1;
  /** slot_config (caps of 0 stored as INT_MAX) and the current slot's state. */
  #slotConfig: NetemSlot = { minDelayNs: 0, maxDelayNs: 0, maxPackets: 0, maxBytes: 0 };
  #slotNext = 0;
  /** Linux tests slot_next ≠ 0; a virtual clock can be at 0, so the state is kept apart. */
  #slotOn = false;
  #slotPacketsLeft = 0;
  #slotBytesLeft = 0;
  seed: bigint;
  readonly #prng: RndState;
  /**
   * Linux takes init_crandom's starting value and the corrupted byte and bit from
   * get_random_u32 (unseeded). lonet draws them from a second stream derived from the
   * seed, so a seeded run is reproducible end to end; the main stream is Linux's.
   */
  readonly #random: RndState;

  /** netem_init(): a random seed, then netem_change(). */
  constructor(dev: NetDevice, handle: number, cfg: NetemConfig) {
    super(dev, handle);
    this.seed = getRandomU64();
    this.#prng = new RndState(this.seed);
    this.#random = new RndState(this.seed ^ 0x9e3779b97f4a7c15n);
    this.change(cfg);
  }

  /** netem_change(). */
  change(cfg: NetemConfig): void {
    if (cfg.seed !== undefined) {
      this.seed = BigInt.asUintN(64, cfg.seed);
      prandomSeedState(this.#prng, this.seed);
      prandomSeedState(this.#random, this.seed ^ 0x9e3779b97f4a7c15n);
    }
    // get_loss_clg(): a model restarts in its first state; no model means random loss.
    if (cfg.lossModel !== undefined) {
      this.lossModel = { ...cfg.lossModel };
      this.#clgState = 1;
    } else {
      this.lossModel = null;
    }
    this.limit = cfg.limit >>> 0;
    this.latency = cfg.latencyNs;
    this.jitter = cfg.jitterNs;
    this.gap = cfg.gap >>> 0;
    this.counter = 0;
    this.loss = cfg.loss >>> 0;
    this.duplicate = cfg.duplicate >>> 0;
    // Compatibility with old tc: a gap means reorder with probability 1.
    if (this.gap) this.reorder = UINT32_MAX;
    if (cfg.corr !== undefined) {
      this.#initCrandom(this.delayCor, cfg.corr.delay);
      this.#initCrandom(this.lossCor, cfg.corr.loss);
      this.#initCrandom(this.dupCor, cfg.corr.dup);
    }
    if (cfg.reorder !== undefined) {
      this.reorder = cfg.reorder.probability >>> 0;
      this.#initCrandom(this.reorderCor, cfg.reorder.correlation);
    }
    if (cfg.corrupt !== undefined) {
      this.corrupt = cfg.corrupt.probability >>> 0;
      this.#initCrandom(this.corruptCor, cfg.corrupt.correlation);
    }
    if (cfg.rate !== undefined) {
      this.rate = cfg.rate.rate;
      this.packetOverhead = cfg.rate.packetOverhead;
      this.cellSize = cfg.rate.cellSize >>> 0;
      this.cellOverhead = cfg.rate.cellOverhead;
    }
    if (cfg.ecn !== undefined) this.ecn = cfg.ecn;
    if (cfg.slot !== undefined) {
      // get_slot(): a cap of 0 is no cap; a slot with no delay is off.
      const c = { ...cfg.slot };
      if (c.maxPackets === 0) c.maxPackets = INT_MAX;
      if (c.maxBytes === 0) c.maxBytes = INT_MAX;
      this.#slotConfig = c;
      this.#slotPacketsLeft = c.maxPackets;
      this.#slotBytesLeft = c.maxBytes;
      this.#slotOn = (c.minDelayNs || c.maxDelayNs) !== 0;
      this.#slotNext = this.#slotOn ? this.dev.kernel.clock.now() : 0;
    }
    // Jitter is capped to what tabledist() takes.
    this.jitter = Math.min(Math.abs(this.jitter), INT_MAX);
  }

  /** netem_dump(). */
  dump(): NetemDump {
    return {
      limit: this.limit,
      latencyTicks: Math.min(Math.floor(this.latency / 64), UINT32_MAX),
      jitterTicks: Math.min(Math.floor(this.jitter / 64), UINT32_MAX),
      loss: this.loss,
      gap: this.gap,
      duplicate: this.duplicate,
      corr: { delay: this.delayCor.rho, loss: this.lossCor.rho, dup: this.dupCor.rho },
      reorder: { probability: this.reorder, correlation: this.reorderCor.rho },
      corrupt: { probability: this.corrupt, correlation: this.corruptCor.rho },
      rate: {
        rate: this.rate,
        packetOverhead: this.packetOverhead,
        cellSize: this.cellSize,
        cellOverhead: this.cellOverhead,
      },
      ecn: this.ecn,
      seed: this.seed,
      lossModel: this.lossModel === null ? null : { ...this.lossModel },
      slot:
        this.#slotConfig.minDelayNs || this.#slotConfig.maxDelayNs
          ? {
              ...this.#slotConfig,
              maxPackets: this.#slotConfig.maxPackets === INT_MAX ? 0 : this.#slotConfig.maxPackets,
              maxBytes: this.#slotConfig.maxBytes === INT_MAX ? 0 : this.#slotConfig.maxBytes,
            }
          : null,
    };
  }

  /** init_crandom(). */
  #initCrandom(state: Crnd, rho: number): void {
    state.rho = rho >>> 0;
    state.last = prandomU32State(this.#random);
  }

  /** get_crandom(): the next value leans on the last by rho/2^32. */
  #getCrandom(state: Crnd): number {
    const value = prandomU32State(this.#prng);
    if (state.rho === 0) return value;
    const rho = BigInt(state.rho) + 1n;
    const answer = Number((BigInt(value) * ((1n << 32n) - rho) + BigInt(state.last) * rho) >> 32n);
    state.last = answer;
    return answer;
  }

  /** loss_event(): random (Bernoulli), or one step of the 4-state or Gilbert-Elliott chain. */
  #lossEvent(): boolean {
    const m = this.lossModel;
    if (m === null) return this.loss !== 0 && this.loss >= this.#getCrandom(this.lossCor);
    const rnd = () => prandomU32State(this.#prng);
    if (m.kind === 'gi') {
      // loss_4state(): 1 TX in gap, 2 TX in burst, 3 lost in gap, 4 lost in burst.
      const r = rnd();
      switch (this.#clgState) {
        case 1:
          if (r < m.p14) {
            this.#clgState = 3;
            return true;
          }
          if (r < (m.p13 + m.p14) >>> 0) {
            this.#clgState = 4;
            return true;
          }
          return false;
        case 2:
          if (r < m.p23) {
            this.#clgState = 4;
            return true;
          }
          return false;
        case 4:
          if (r < m.p32) this.#clgState = 2;
          else if (r < (m.p31 + m.p32) >>> 0) this.#clgState = 1;
          else return true;
          return false;
        default:
          this.#clgState = 1;
          return false;
      }
    }
    // loss_gilb_ell(): 1 good, 2 bad.
    if (this.#clgState === 1) {
      if (rnd() < m.p) this.#clgState = 2;
      return rnd() < m.k1;
    }
    if (rnd() < m.r) this.#clgState = 1;
    return rnd() > m.h;
  }

  /** tabledist() with the default uniform distribution. */
  #tabledist(mu: number, sigma: number, state: Crnd): number {
    if (sigma === 0) return mu;
    const rnd = this.#getCrandom(state);
    return (rnd % (2 * sigma)) + mu - sigma;
  }

  /** get_random_u32_below(). */
  #randomBelow(n: number): number {
    return Math.floor((prandomU32State(this.#random) * n) / 2 ** 32);
  }

  /** packet_time_ns(): how long the packet occupies a link of `rate` bytes per second. */
  #packetTimeNs(len: number): number {
    len += this.packetOverhead;
    if (this.cellSize) {
      let cells = Math.floor(len / this.cellSize);
      if (len > cells * this.cellSize) cells++;
      len = cells * (this.cellSize + this.cellOverhead);
    }
    return Math.floor((len * 1e9) / this.rate);
  }

  /** tfifo_enqueue(): after every packet due no later than this one. */
  #tfifoEnqueue(skb: SkBuff): void {
    const t = qdiscSkbCb(skb).timeToSend;
    const q = this.#tfifo;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (qdiscSkbCb(q[mid] as SkBuff).timeToSend <= t) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, skb);
    this.qstats.qlen++;
  }

  /** netem_enqueue(). */
  enqueue(skb: SkBuff): number {
    let count = 1;
    if (this.duplicate && !duplicates.has(skb) && this.duplicate >= this.#getCrandom(this.dupCor)) count++;
    if (this.#lossEvent()) {
      // With ecn, an ECN-capable packet is marked CE instead (and still counted as a drop).
      if (this.ecn && inetEcnSetCe(skb)) this.qstats.drops++;
      else count--;
    }
    if (count === 0) {
      this.qstats.drops++;
      kfreeSkb(skb);
      return NET_XMIT.SUCCESS | __NET_XMIT_BYPASS;
    }
    // skb_orphan_partial(): a delayed packet no longer holds its sender's buffer.
    if (this.latency || this.jitter || this.rate) skbOrphan(skb);
    let skb2: SkBuff | null = null;
    if (count > 1) {
      skb2 = skb.clone();
      qdiscSkbCbCopy(skb, skb2);
    }
    if (this.corrupt && this.corrupt >= this.#getCrandom(this.corruptCor)) {
      // skb_unshare(): a private copy before mangling (the payload may be the sender's).
      skbUnshareLinear(skb);
      if (skb.ipSummed === CHECKSUM.PARTIAL) skbChecksumHelp(skb);
      const headlen = skb.headlen;
      if (headlen) {
        const at = skb.data + this.#randomBelow(headlen);
        (skb.head[at] as number) ^= 1 << this.#randomBelow(8);
      }
    }
    if (this.qstats.qlen >= this.limit) {
      // qdisc_drop_all()
      this.qstats.drops++;
      kfreeSkb(skb);
      if (skb2 !== null) kfreeSkb(skb2);
      return NET_XMIT.DROP;
    }
    if (skb2 !== null) {
      // Re-enqueued at the root, marked so it is not duplicated again.
      duplicates.add(skb2);
      rootQdisc(this).enqueue(skb2);
    }
    this.qstats.backlog += qdiscPktLen(skb);
    const cb = qdiscSkbCb(skb);
    const clock = this.dev.kernel.clock;
    if (this.gap === 0 || this.counter < this.gap - 1 || this.reorder < this.#getCrandom(this.reorderCor)) {
      let delay = this.#tabledist(this.latency, this.jitter, this.delayCor);
      let now = clock.now();
      if (this.rate) {
        // The last packet queued is the reference point: this one is sent after it.
        const lastHead = this.#head[this.#head.length - 1];
        const lastT = this.#tfifo[this.#tfifo.length - 1];
        let last: number | undefined = lastHead !== undefined ? qdiscSkbCb(lastHead).timeToSend : undefined;
        if (lastT !== undefined) {
          const t = qdiscSkbCb(lastT).timeToSend;
          if (last === undefined || t > last) last = t;
        }
        if (last !== undefined) {
          delay -= last - now;
          delay = Math.max(0, delay);
          now = last;
        }
        delay += this.#packetTimeNs(qdiscPktLen(skb));
      }
      cb.timeToSend = now + delay;
      this.counter++;
      this.#tfifoEnqueue(skb);
    } else {
      // Reorder: this one goes to the front, now.
      cb.timeToSend = clock.now();
      this.counter = 0;
      this.#head.unshift(skb);
      this.qstats.qlen++;
      this.qstats.requeues++;
    }
    return NET_XMIT.SUCCESS;
  }

  /** get_slot_next(): the next slot opens min + (max − min) × random after now. */
  #getSlotNext(now: number): void {
    const c = this.#slotConfig;
    const r = prandomU32State(this.#random);
    this.#slotNext = now + c.minDelayNs + Math.floor(((c.maxDelayNs - c.minDelayNs) * r) / 2 ** 32);
    this.#slotPacketsLeft = c.maxPackets;
    this.#slotBytesLeft = c.maxBytes;
  }

  /** netem_dequeue(): the reordered first, then the tfifo's head once it (and its slot) is due. */
  dequeue(): SkBuff | null {
    const h = this.#head.shift();
    if (h !== undefined) {
      this.qstats.qlen--;
      this.deliver(h);
      return h;
    }
    const skb = this.#tfifo[0];
    if (skb === undefined) return null;
    const timeToSend = qdiscSkbCb(skb).timeToSend;
    const now = this.dev.kernel.clock.now();
    if (this.#slotOn && this.#slotNext < timeToSend) this.#getSlotNext(now);
    if (timeToSend <= now && this.#slotNext <= now) {
      this.#tfifo.shift();
      this.qstats.qlen--;
      skb.dev = this.dev;
      if (this.#slotOn) {
        this.#slotPacketsLeft--;
        this.#slotBytesLeft -= qdiscPktLen(skb);
        if (this.#slotPacketsLeft <= 0 || this.#slotBytesLeft <= 0) this.#getSlotNext(now);
      }
      this.deliver(skb);
      return skb;
    }
    this.#watchdog.scheduleNs(Math.max(timeToSend, this.#slotNext));
    return null;
  }

  /** netem_reset(). */
  override reset(): void {
    for (const skb of this.#head.splice(0)) kfreeSkb(skb);
    for (const skb of this.#tfifo.splice(0)) kfreeSkb(skb);
    this.#watchdog.cancel();
    super.reset();
  }
}

/**
 * INET_ECN_set_ce(): mark Congestion Experienced on an ECT packet, fixing the IPv4
 * header checksum incrementally as IP_ECN_set_ce does; false for Not-ECT.
 */
function inetEcnSetCe(skb: SkBuff): boolean {
  const nh = skb.networkHeader;
  if (nh < 0) return false;
  const head = skb.head;
  if (skb.protocol === ETH_P.IP && nh + 20 <= skb.tail) {
    const tos = head[nh + 1] as number;
    const ecn = (tos + 1) & 3;
    if (!(ecn & 2)) return !ecn;
    // check += htons(0xFFFB) + htons(ecn): −1 for ECT(0), −2 for ECT(1), end-around carry.
    let check = ((head[nh + 10] as number) << 8) | (head[nh + 11] as number);
    check += 0xfffb + ecn;
    check = (check & 0xffff) + (check >>> 16);
    head[nh + 10] = check >> 8;
    head[nh + 11] = check & 0xff;
    head[nh + 1] = tos | 3;
    return true;
  }
  if (skb.protocol === ETH_P.IPV6 && nh + 40 <= skb.tail) {
    // The traffic class straddles bytes 0 and 1: its ECN bits are byte 1's bits 5–4.
    const ecnBits = ((head[nh + 1] as number) >> 4) & 3;
    if (ecnBits === 0) return false;
    head[nh + 1] = (head[nh + 1] as number) | 0x30;
    return true;
  }
  return false;
}

/**
 * skb_unshare() as lonet needs it: the packet's bytes become its own, all linear
 * (Linux's UDP and ICMP packets are linear already; lonet keeps payloads in frags).
 */
function skbUnshareLinear(skb: SkBuff): void {
  const head = new Uint8Array(skb.tail + skb.dataLen + Math.max(0, skb.tailroom));
  head.set(skb.head.subarray(0, skb.tail), 0);
  let off = skb.tail;
  for (const f of skb.frags) {
    head.set(f, off);
    off += f.byteLength;
  }
  skb.head = head;
  skb.tail = off;
  skb.frags = [];
  skb.dataLen = 0;
}
