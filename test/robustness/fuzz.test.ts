import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTarget } from '../../fuzz/harness.js';
import { targets } from '../../fuzz/targets.js';

/** Inputs per target in `npm test`: a few hundred where inputs are cheap, fewer for whole tools. */
const RUNS: Record<string, number> = {
  shell: 200,
  'ip-args': 300,
  tools: 250,
  api: 300,
  tcp: 300,
  pcap: 2000,
  dgram: 60,
};

for (const t of targets) {
  test(`fuzz ${t.name}: ${t.covers} — no crash, every invariant holds (seed 42)`, async () => {
    const r = await runTarget(t, { seed: 42, numRuns: RUNS[t.name] ?? 500 });
    const f = r.failure;
    assert.equal(f, undefined, f && `seed ${f.seed} path ${f.path}\ninput ${f.input}\n${f.error}`);
    assert.equal(r.inputs, RUNS[t.name] ?? 500);
  });
}
