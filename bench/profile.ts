/**
 * One scenario over one side for profiling:
 *   node --import tsx --cpu-prof --cpu-prof-dir=prof bench/profile.ts http-rr lonet [ms]
 */
import { kernelStack, lonetStack, scenarios } from './scenarios.js';

const [name = 'tcp-rr', side = 'lonet', ms = '3000'] = process.argv.slice(2);
const sc = scenarios.find((s) => s.name === name);
if (sc === undefined) throw new Error(`no scenario ${name}: ${scenarios.map((s) => s.name).join(', ')}`);
const v = await sc.run(side === 'kernel' ? kernelStack : lonetStack(), { ms: Number(ms), smoke: false, quick: false });
console.log(`${name} ${side}: ${v} ${sc.unit}`);
process.exit(0);
