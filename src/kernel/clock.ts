/**
 * The kernel's clock. Time is a number of nanoseconds since boot (a double holds
 * every nanosecond exactly for 104 days). The real clock follows performance.now();
 * the virtual clock moves only when a test calls advance(), so timers, budgets and
 * timestamps are exact and reproducible.
 */

export interface Timer {
  cancel(): void;
  /** Whether this timer keeps a Node process alive (libuv's rule); virtual timers never do. */
  ref(): void;
  unref(): void;
}

export interface Clock {
  readonly virtual: boolean;
  /** Monotonic nanoseconds since this clock started (CLOCK_MONOTONIC / ktime_get). */
  now(): number;
  /** Wall-clock nanoseconds since the epoch (CLOCK_REALTIME), for capture timestamps. */
  realtime(): number;
  setTimer(delayNs: number, fn: () => void): Timer;
}

export class RealClock implements Clock {
  readonly virtual = false;
  readonly #base = performance.now();
  readonly #epochAtBase = Date.now() * 1e6;

  now(): number {
    return Math.round((performance.now() - this.#base) * 1e6);
  }

  realtime(): number {
    return this.#epochAtBase + this.now();
  }

  setTimer(delayNs: number, fn: () => void): Timer {
    return new RealTimer(setTimeout(fn, Math.max(0, delayNs / 1e6)));
  }
}

/** A host timer. A class, not three closures: TCP re-arms its timers on every segment. */
class RealTimer implements Timer {
  constructor(readonly handle: ReturnType<typeof setTimeout>) {}
  cancel(): void {
    clearTimeout(this.handle);
  }
  ref(): void {
    this.handle.ref?.();
  }
  unref(): void {
    this.handle.unref?.();
  }
}

interface VirtualTimer extends Timer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

export class VirtualClock implements Clock {
  readonly virtual = true;
  #now = 0;
  #seq = 0;
  /** Pending timers sorted by (at, seq): few at once, so a sorted array is enough. */
  #timers: VirtualTimer[] = [];
  readonly #epoch: number;

  constructor(epochNs = Date.UTC(2026, 0, 1) * 1e6) {
    this.#epoch = epochNs;
  }

  now(): number {
    return this.#now;
  }

  realtime(): number {
    return this.#epoch + this.#now;
  }

  setTimer(delayNs: number, fn: () => void): Timer {
    const timer: VirtualTimer = {
      at: this.#now + Math.max(0, delayNs),
      seq: this.#seq++,
      fn,
      cancel: () => {
        timer.fn = null;
        const i = this.#timers.indexOf(timer);
        if (i >= 0) this.#timers.splice(i, 1);
      },
      ref: () => {},
      unref: () => {},
    };
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as VirtualTimer).at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer;
  }

  /** Moves time forward by `ns`, firing every timer that falls due, in order. */
  advance(ns: number): void {
    const end = this.#now + ns;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > end) break;
      this.#timers.shift();
      this.#now = next.at;
      const fn = next.fn;
      next.fn = null;
      fn?.();
    }
    this.#now = end;
  }

  /** Nanoseconds until the next timer, or undefined when none is pending. */
  nextTimer(): number | undefined {
    const next = this.#timers[0];
    return next === undefined ? undefined : next.at - this.#now;
  }
}
