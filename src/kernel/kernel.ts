/**
 * The Kernel: the host every namespace runs on. It owns the CPUs, the softirq
 * machinery, the clock, the global sysctls and the kernel log, and knows no protocol
 * and no driver. What the network subsystems keep per kernel (softnet_data per CPU,
 * ptype_base, the notifier chains, pernet operations, blackhole_dev) they declare on
 * it themselves, by module augmentation, and set up in their initcalls: init.ts runs
 * those, in Linux's order, for every Kernel made.
 *
 * Softirqs run the way Linux runs them after local_bh_enable(): when the outermost
 * entry into the stack returns, __do_softirq handles what is pending, restarting up to
 * MAX_SOFTIRQ_RESTART times within MAX_SOFTIRQ_TIME; anything still pending is handed
 * to ksoftirqd, which here is a later macrotask, so the event loop is never starved.
 */
import { type Clock, RealClock, VirtualClock } from './clock.js';
import { RatelimitState } from './ratelimit.js';
import type { SysctlEntry } from './sysctl.js';
import { Trace } from './trace.js';

/** MAX_SOFTIRQ_TIME (2 ms) and MAX_SOFTIRQ_RESTART from kernel/softirq.c. */
const MAX_SOFTIRQ_TIME_NS = 2_000_000;
const MAX_SOFTIRQ_RESTART = 10;
const LOG_LINES = 1024;

export interface KernelOptions {
  /** Number of CPUs (default 2). */
  cpus?: number;
  /** 'real' (default) follows performance.now(); 'virtual' moves only on advance(). */
  clock?: 'real' | 'virtual' | Clock;
}

/** A softirq handler (open_softirq's action), run on `cpu`. */
export type SoftirqAction = (kernel: Kernel, cpu: number) => void;

/**
 * One CPU. Subsystems add their per-CPU state by augmenting this interface (core adds
 * `sd`, its softnet_data) and fill it in from their initcall.
 */
export interface Cpu {
  readonly id: number;
  /** Bitmask of raised softirqs (local_softirq_pending). */
  softirqPending: number;
  ksoftirqdWoken: boolean;
}

export interface LogLine {
  /** Nanoseconds since boot, as dmesg prints in seconds. */
  time: number;
  level: 'crit' | 'err' | 'warn' | 'notice' | 'info';
  text: string;
}

/** Global net.core sysctls (init_net only), with Linux defaults at HZ=1000. */
export interface NetCoreGlobal {
  netdev_max_backlog: number;
  netdev_budget: number;
  netdev_budget_usecs: number;
  dev_weight: number;
  dev_weight_rx_bias: number;
  dev_weight_tx_bias: number;
  flow_limit_cpu_bitmap: number;
  flow_limit_table_len: number;
  netdev_tstamp_prequeue: number;
  max_skb_frags: number;
  message_cost: number;
  message_burst: number;
}

/**
 * The boot sequence every Kernel runs when made: init.ts installs it (do_initcalls), as
 * the linker gathers each subsystem's initcalls into one table, so this file need not
 * name them.
 */
let bootSequence: ((kernel: Kernel) => void) | null = null;

export function setBootSequence(fn: (kernel: Kernel) => void): void {
  bootSequence = fn;
}

const queueMacrotask: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

export class Kernel {
  readonly clock: Clock;
  readonly cpus: readonly Cpu[];
  /** The CPU that process context is running on now; entries into the stack set it. */
  curCpu = 0;
  /** local_bh_disable() depth. Softirqs run when it returns to 0. */
  #bhDepth = 0;
  #inSoftirq = false;
  /**
   * When this round of __do_softirq began (clock nanoseconds), -1 outside softirq: the
   * handlers' starting time, read once per round as Linux reads jiffies once.
   */
  softirqStart = -1;

  readonly core: NetCoreGlobal = {
    netdev_max_backlog: 1000,
    netdev_budget: 300,
    netdev_budget_usecs: 2000,
    dev_weight: 64,
    dev_weight_rx_bias: 1,
    dev_weight_tx_bias: 1,
    flow_limit_cpu_bitmap: 0,
    flow_limit_table_len: 4096,
    netdev_tstamp_prequeue: 1,
    max_skb_frags: 17,
    message_cost: 5,
    message_burst: 10,
  };

  /** The sysctl table; layers add entries with registerSysctl. */
  readonly sysctls = new Map<string, SysctlEntry>();
  /** netstamp_needed_key: sockets that want receive timestamps. */
  netstampNeeded = 0;
  /** The kernel log (dmesg), newest last. */
  readonly log: LogLine[] = [];
  /** Stage counters along the packet path (trace.ts), for watchers such as the browser page. */
  readonly trace: Trace;
  #netRatelimit: RatelimitState;
  #softirqHandlers: SoftirqAction[] = [];
  #idleWaiters: (() => void)[] = [];
  #nextNetId = 0;

  constructor(opts: KernelOptions = {}) {
    const clock = opts.clock ?? 'real';
    this.clock = clock === 'real' ? new RealClock() : clock === 'virtual' ? new VirtualClock() : clock;
    const n = opts.cpus ?? 2;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`cpus must be an integer from 1 to 64, got ${n}`);
    // Subsystems' per-CPU fields (Cpu is augmented) are filled in by their initcalls.
    this.cpus = Array.from({ length: n }, (_, id) => ({ id, softirqPending: 0, ksoftirqdWoken: false }) as Cpu);
    this.trace = new Trace(n);
    this.#netRatelimit = new RatelimitState(this.core.message_cost * 1e9, this.core.message_burst);
    if (bootSequence === null) throw new Error('lonet: no boot sequence installed (import lonet, or src/init.ts)');
    bootSequence(this);
  }

  /** A virtual clock, for tests that move time themselves. */
  get virtualClock(): VirtualClock {
    if (!(this.clock instanceof VirtualClock)) throw new TypeError('this kernel runs on the real clock');
    return this.clock;
  }

  allocNetId(): number {
    return this.#nextNetId++;
  }

  registerSysctl(entry: SysctlEntry): void {
    this.sysctls.set(entry.name, entry);
  }

  /** open_softirq(): the handler for softirq `nr`. */
  openSoftirq(nr: number, action: SoftirqAction): void {
    this.#softirqHandlers[nr] = action;
  }

  /** local_bh_disable(). */
  localBhDisable(): void {
    this.#bhDepth++;
  }

  /** local_bh_enable(): leaving the outermost section runs pending softirqs on this CPU. */
  localBhEnable(): void {
    if (--this.#bhDepth > 0 || this.#inSoftirq) return;
    if (this.#bhDepth < 0) {
      this.#bhDepth = 0;
      throw new Error('local_bh_enable without local_bh_disable');
    }
    const cpu = this.cpus[this.curCpu] as Cpu;
    if (cpu.softirqPending !== 0) this.#doSoftirq(cpu);
    // Work raised on other CPUs (an IPI on Linux) runs there soon: their ksoftirqd.
    for (const other of this.cpus) if (other.softirqPending !== 0) this.#wakeupSoftirqd(other);
    if (this.#idleWaiters.length > 0) this.#checkIdle();
  }

  /** Whether softirqs are held off here (in_softirq / bh disabled). */
  get bhDisabled(): boolean {
    return this.#bhDepth > 0;
  }

  /** Runs fn as process context on `cpu`, then lets that CPU's softirqs run, as a syscall would. */
  runOn<T>(cpu: number, fn: () => T): T {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus.length) throw new RangeError(`no CPU ${cpu}`);
    const saved = this.curCpu;
    if (this.#bhDepth === 0) this.curCpu = cpu;
    this.localBhDisable();
    try {
      return fn();
    } finally {
      this.localBhEnable();
      this.curCpu = saved;
    }
  }

  /** raise_softirq_irqoff(). */
  raiseSoftirq(cpu: number, nr: number): void {
    (this.cpus[cpu] as Cpu).softirqPending |= 1 << nr;
  }

  /** __do_softirq(): handle, restart while time and restarts remain, then defer to ksoftirqd. */
  #doSoftirq(cpu: Cpu): void {
    const saved = this.curCpu;
    this.curCpu = cpu.id;
    this.#inSoftirq = true;
    this.#bhDepth++;
    let now = this.clock.now();
    const end = now + MAX_SOFTIRQ_TIME_NS;
    let restart = MAX_SOFTIRQ_RESTART;
    try {
      for (;;) {
        this.softirqStart = now;
        const pending = cpu.softirqPending;
        cpu.softirqPending = 0;
        for (let nr = 0; nr < this.#softirqHandlers.length; nr++) {
          if (pending & (1 << nr)) this.#softirqHandlers[nr]?.(this, cpu.id);
        }
        if (cpu.softirqPending === 0) break;
        now = this.clock.now();
        if (now < end && --restart > 0) continue;
        this.#wakeupSoftirqd(cpu);
        break;
      }
    } finally {
      this.softirqStart = -1;
      this.#bhDepth--;
      this.#inSoftirq = false;
      this.curCpu = saved;
    }
  }

  /** wakeup_softirqd(): the rest runs on a later macrotask (ksoftirqd/N). */
  #wakeupSoftirqd(cpu: Cpu): void {
    if (cpu.ksoftirqdWoken) return;
    cpu.ksoftirqdWoken = true;
    queueMacrotask(() => {
      cpu.ksoftirqdWoken = false;
      if (cpu.softirqPending !== 0 && this.#bhDepth === 0) this.#doSoftirq(cpu);
      else if (cpu.softirqPending !== 0) this.#wakeupSoftirqd(cpu);
      this.#checkIdle();
    });
  }

  /** True when no CPU has softirq work pending or queued for ksoftirqd. */
  get idle(): boolean {
    return this.cpus.every((c) => c.softirqPending === 0 && !c.ksoftirqdWoken);
  }

  /** Resolves once every CPU's softirq work, ksoftirqd's included, is done. */
  settle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (!this.idle) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** printk(): append to the kernel log ring. */
  printk(level: LogLine['level'], text: string): void {
    this.log.push({ time: this.clock.now(), level, text });
    if (this.log.length > LOG_LINES) this.log.shift();
  }

  /** net_ratelimit(): net.core.message_cost seconds per net.core.message_burst messages. */
  netRatelimit(): boolean {
    const rl = this.#netRatelimit;
    rl.intervalNs = this.core.message_cost * 1e9;
    rl.burst = this.core.message_burst;
    return rl.allow(this.clock.now(), (missed) => this.printk('warn', `net_ratelimit: ${missed} callbacks suppressed`));
  }

  netCritRatelimited(text: string): void {
    if (this.netRatelimit()) this.printk('crit', text);
  }

  netWarnRatelimited(text: string): void {
    if (this.netRatelimit()) this.printk('warn', text);
  }
}
