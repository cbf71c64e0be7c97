/**
 * The range over several runs of `npm run bench -- --json FILE`: for each scenario, the
 * lowest and highest lonet/kernel ratio, ceiling and lonet/pipe share, so one lucky or
 * unlucky run on a shared machine does not stand for the result.
 *
 *   npm run bench -- --quick --json r1.json   (three times: r1, r2, r3)
 *   npx tsx bench/range.ts r1.json r2.json r3.json
 */
import { readFileSync } from 'node:fs';
import type { Row } from './main.js';
import { percent, table, times } from './table.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx bench/range.ts RESULTS.json...');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Row[]);

/** "low – high" of the runs' values, or — when no run has one. */
function range(values: (number | null | undefined)[], show: (v: number) => string): string {
  const xs = values.filter((v): v is number => typeof v === 'number');
  if (xs.length === 0) return '—';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? show(lo) : `${show(lo)} – ${show(hi)}`;
}

const names = [...new Set(runs.flat().map((r) => r.name))];
const rows = names.map((name) => {
  const of = runs.map((rs) => rs.find((r) => r.name === name));
  // Files written before the share column existed: lonet/pipe from the two rates.
  const share = of.map((r) => r?.share ?? (r?.lonet != null && r.pipe != null ? r.lonet / r.pipe : null));
  return [
    name,
    range(
      of.map((r) => r?.ratio),
      (v) => times(v),
    ),
    range(
      of.map((r) => r?.ceiling),
      (v) => times(v),
    ),
    range(share, (v) => percent(v)),
  ];
});
console.log(`range over ${runs.length} runs (${files.join(', ')})\n`);
console.log(table(['scenario', 'ratio', 'ceiling', 'lonet/pipe'], rows));
