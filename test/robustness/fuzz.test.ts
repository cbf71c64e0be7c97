/**
 * The fuzzer in `npm test`, three ways: a fixed set of seeds (the same inputs every run),
 * the failures fuzzing once found, replayed at their path, and a run from a random seed
 * that prints the seed (LONET_FUZZ_SEED=S replays it; `npm run fuzz -- --seed S` too), so
 * every CI run also tries inputs no run tried before. Some bugs show once in a few thousand
 * inputs (the shell's '-1&wait&' came at input 1580 of seed 291834111): the random run
 * gives each target a few seconds, and over many CI runs that adds up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RunResult, runTarget } from '../../fuzz/harness.js';
import { targets } from '../../fuzz/targets.js';

/** Inputs per target and fixed seed: a few hundred where inputs are cheap, fewer for whole tools. */
const RUNS: Record<string, number> = {
  shell: 200,
  'ip-args': 300,
  tools: 250,
  api: 300,
  tcp: 300,
  pcap: 2000,
  dgram: 60,
};

/** Seeds run every time: 42, and the seed of the first run that found the shell hang. */
const FIXED_SEEDS = [42, 291834111];

/** Inputs fuzzing found broken, replayed exactly (seed and fast-check's path): each must hold now. */
const FOUND = [
  { target: 'shell', seed: 291834111, path: '1580:2:0', input: "'-1&wait&': a background wait waited for itself" },
];

/** The random-seed run's time per target, in ms: about a minute for all of them. */
const RANDOM_MS = 4000;

function explain(r: RunResult): string | undefined {
  const f = r.failure;
  if (f === undefined) return undefined;
  return `seed ${f.seed} path ${f.path}\nreplay: npm run fuzz -- --target ${r.target} --seed ${f.seed} --path ${f.path}\ninput ${f.input}\n${f.error}`;
}

for (const seed of FIXED_SEEDS) {
  for (const t of targets) {
    test(`fuzz ${t.name}: ${t.covers} — no crash, every invariant holds (seed ${seed})`, async () => {
      const r = await runTarget(t, { seed, numRuns: RUNS[t.name] ?? 500 });
      assert.equal(r.failure, undefined, explain(r));
      assert.equal(r.inputs, RUNS[t.name] ?? 500);
    });
  }
}

for (const found of FOUND) {
  test(`fuzz ${found.target}: a found failure holds now (seed ${found.seed}, path ${found.path}: ${found.input})`, async () => {
    const t = targets.find((x) => x.name === found.target);
    assert.ok(t, `no target ${found.target}`);
    const r = await runTarget(t, { seed: found.seed, numRuns: 1, path: found.path });
    assert.equal(r.failure, undefined, explain(r));
  });
}

const envSeed = process.env.LONET_FUZZ_SEED;
const randomSeed = envSeed !== undefined && envSeed !== '' ? Number(envSeed) : (Math.random() * 2 ** 31) | 0;

test(`fuzz every target from a random seed: ${randomSeed} (LONET_FUZZ_SEED=${randomSeed} replays it)`, async (t) => {
  assert.ok(Number.isInteger(randomSeed), `LONET_FUZZ_SEED must be an integer, got ${envSeed}`);
  // On stdout too, so a CI log shows the seed whatever the reporter prints.
  console.log(`fuzz: random seed ${randomSeed}, ${RANDOM_MS} ms per target`);
  const failures: string[] = [];
  let inputs = 0;
  for (const target of targets) {
    const r = await runTarget(target, { seed: randomSeed, timeMs: RANDOM_MS });
    inputs += r.inputs;
    const e = explain(r);
    if (e !== undefined) failures.push(`${target.name}: ${e}`);
  }
  t.diagnostic(`seed ${randomSeed}: ${inputs} inputs, ${failures.length} failures`);
  assert.deepEqual(failures, []);
  assert.ok(inputs > 0);
});
