/**
 * The fuzz harness: a target is an input generator (a fast-check arbitrary) and a
 * check that runs one input through lonet and throws when an invariant breaks. An
 * exception escaping the code under test is itself a failure. fast-check shrinks a
 * failing input to a minimal one, and a seed reproduces any run exactly.
 */
import fc from 'fast-check';

export interface FuzzTarget<T = unknown> {
  /** What `--target` selects, and what reports name. */
  readonly name: string;
  /** One sentence: which parser or input path this covers. */
  readonly covers: string;
  arbitrary(): fc.Arbitrary<T>;
  /** Runs one input and checks every invariant; throws (or rejects) on a violation. */
  check(input: T): void | Promise<void>;
  /** Prints an input so it can be pasted into a regression test. */
  show(input: T): string;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many inputs… */
  numRuns?: number;
  /** …or after this long, whichever comes first. */
  timeMs?: number;
  /** Replays one input of an earlier run (its seed and the path fast-check printed). */
  path?: string;
}

export interface RunResult {
  target: string;
  inputs: number;
  failure?: { seed: number; path: string; input: string; error: string };
}

/** Runs one target; never throws for a failing input, reports it instead. */
export async function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions): Promise<RunResult> {
  const prop = fc.asyncProperty(target.arbitrary(), async (input) => {
    await target.check(input);
  });
  const params: fc.Parameters<[T]> = {
    seed: opts.seed,
    numRuns: opts.numRuns ?? Number.MAX_SAFE_INTEGER,
    endOnFailure: false,
  };
  if (opts.path !== undefined) params.path = opts.path;
  if (opts.timeMs !== undefined) {
    params.interruptAfterTimeLimit = opts.timeMs;
    params.markInterruptAsFailure = false;
  }
  const out = await fc.check(prop, params);
  if (!out.failed) return { target: target.name, inputs: out.numRuns };
  const ce = out.counterexample;
  const err = out.errorInstance;
  return {
    target: target.name,
    inputs: out.numRuns,
    failure: {
      seed: out.seed,
      path: out.counterexamplePath ?? '',
      input: ce === null ? '(none)' : target.show(ce[0]),
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    },
  };
}

/** Bytes as a hex string, for inputs in reports and regression tests. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** Fails the input with a message naming what broke. */
export function invariant(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`invariant broken: ${message}`);
}
