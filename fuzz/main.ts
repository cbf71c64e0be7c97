/**
 * npm run fuzz -- [--seconds N] [--seed S] [--target NAME]… [--runs N] [--path P]
 *
 * Runs every target (or the named ones) for an equal share of N seconds (default 60),
 * from seed S (default: random, printed). Prints `N inputs, 0 crashes` and exits 0, or,
 * for each target that failed, the seed, the replay path and the minimal failing input
 * fast-check shrank it to, and exits 1. `--seed S --target T --path P` replays one failure.
 */
import { parseArgs } from 'node:util';
import { type RunResult, runTarget } from './harness.js';
import { targets } from './targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    target: { type: 'string', multiple: true },
    runs: { type: 'string' },
    path: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('usage: npm run fuzz -- [--seconds N] [--seed S] [--target NAME]… [--runs N] [--path P]');
  console.log(`targets: ${targets.map((t) => t.name).join(' ')}`);
  process.exit(0);
}

const seconds = Number(values.seconds);
const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
const runs = values.runs === undefined ? undefined : Number(values.runs);
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed) || (runs !== undefined && !(runs > 0))) {
  console.error('fuzz: --seconds must be positive, --seed an integer, --runs positive');
  process.exit(2);
}
const chosen = values.target === undefined ? targets : targets.filter((t) => values.target?.includes(t.name));
const unknown = (values.target ?? []).filter((n) => !targets.some((t) => t.name === n));
if (unknown.length > 0 || chosen.length === 0) {
  console.error(`fuzz: no target ${unknown.join(', ')}; targets: ${targets.map((t) => t.name).join(' ')}`);
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${seconds} s over ${chosen.length} targets`);
const share = (seconds * 1000) / chosen.length;
const results: RunResult[] = [];
for (const t of chosen) {
  const opts =
    values.path !== undefined
      ? { seed, numRuns: 1, path: values.path }
      : { seed, timeMs: share, ...(runs ? { numRuns: runs } : {}) };
  const r = await runTarget(t, opts);
  results.push(r);
  console.log(
    `  ${t.name.padEnd(9)} ${String(r.inputs).padStart(8)} inputs${r.failure ? '  FAILED' : ''}  ${t.covers}`,
  );
}

const inputs = results.reduce((n, r) => n + r.inputs, 0);
const failed = results.filter((r) => r.failure !== undefined);
console.log(`${inputs} inputs, ${failed.length} crashes`);
for (const r of failed) {
  const f = r.failure as NonNullable<RunResult['failure']>;
  console.log(`\n${r.target}: seed ${f.seed}, path ${f.path}`);
  console.log(`  replay: npm run fuzz -- --target ${r.target} --seed ${f.seed} --path ${f.path}`);
  console.log(`  minimal input: ${f.input}`);
  console.log(`  ${f.error.split('\n').join('\n  ')}`);
}
process.exit(failed.length > 0 ? 1 : 0);
