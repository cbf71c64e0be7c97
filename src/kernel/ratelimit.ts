/**
 * ___ratelimit() from lib/ratelimit.c: at most `burst` events per `interval`; the
 * number suppressed is reported when the next window opens.
 */
export class RatelimitState {
  begin = -1;
  printed = 0;
  missed = 0;

  constructor(
    public intervalNs: number,
    public burst: number,
  ) {}

  /** True when the event may proceed. `onMissed` hears how many were suppressed. */
  allow(now: number, onMissed?: (missed: number) => void): boolean {
    if (this.intervalNs <= 0) return true;
    if (this.begin < 0) this.begin = now;
    if (now - this.begin >= this.intervalNs) {
      if (this.missed > 0) onMissed?.(this.missed);
      this.begin = now;
      this.printed = 0;
      this.missed = 0;
    }
    if (this.burst > 0 && this.burst > this.printed) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
