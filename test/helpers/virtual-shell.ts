/**
 * A namespace on a virtual clock and a runner for shell lines that moves time from
 * timer to timer until the line finishes, so commands that wait (ping, sleep) run in
 * microseconds with exact, reproducible output.
 */
import assert from 'node:assert/strict';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import type { ToolResult } from '../../src/tools/command.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function virtualNs(opts: { bare?: boolean } = {}) {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel, ...opts });
  const clock = kernel.virtualClock;
  /** Runs `line`; with `interruptAtNs`, aborts it (Ctrl-C) once virtual time reaches that point. */
  async function run(line: string, interruptAtNs?: number): Promise<ToolResult> {
    const ac = new AbortController();
    let result: ToolResult | undefined;
    void ns.exec(line, { signal: ac.signal }).then((r) => {
      result = r;
    });
    for (let i = 0; i < 100000 && result === undefined; i++) {
      await tick();
      if (result !== undefined) break;
      if (interruptAtNs !== undefined && clock.now() >= interruptAtNs && !ac.signal.aborted) {
        ac.abort();
        continue;
      }
      // Softirq work still pending (a run squeezed by its wall-clock budget on a loaded
      // machine continues on a later macrotask) goes first: time moves only when idle.
      if (!kernel.idle) continue;
      let step = clock.nextTimer();
      if (interruptAtNs !== undefined && !ac.signal.aborted)
        step = Math.min(step ?? Number.POSITIVE_INFINITY, interruptAtNs - clock.now());
      if (step !== undefined) clock.advance(step);
    }
    assert.ok(result, `${line} did not finish`);
    return result;
  }
  return { ns, kernel, clock, run };
}

/** Times are the only thing allowed to differ from Linux. */
export function untimed(s: string): string {
  return s
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/= [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/g, '= T/T/T/T ms')
    .replace(/ipg\/ewma [\d.]+\/[\d.]+ ms/g, 'ipg/ewma T/T ms');
}
