/** Namespace creation alone, for --cpu-prof: node --import tsx --cpu-prof bench/profile-netns.ts [N] */
import { Namespace } from '../src/api/namespace.js';
import { Kernel } from '../src/init.js';

const n = Number(process.argv[2] ?? 20000);
const kernel = new Kernel();
new Namespace({ kernel });
const made: Namespace[] = [];
const t0 = performance.now();
for (let i = 0; i < n; i++) made.push(new Namespace({ kernel }));
console.log(`${n} namespaces: ${Math.round(n / ((performance.now() - t0) / 1000))} per s`);
for (const ns of made) ns.destroy();
