/**
 * `npm run test:busy`: the test suite on a busy machine. One spinning process per CPU
 * (os.availableParallelism()) shares the CPUs with the suite for its whole run, as a CI
 * runner or a laptop building something else would. A test that only passes on an idle
 * machine fails here.
 *
 *   npm run test:busy                          # the README's `npm test`, under load
 *   npm run test:busy -- test/tools/ss.test.ts # only these files (tsx --test FILES)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';

const files = process.argv.slice(2);
const spinners: ChildProcess[] = [];
for (let i = 0; i < availableParallelism(); i++) {
  // A plain busy loop: no I/O, no memory, all CPU, at the suite's own priority.
  spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}
const stopSpinners = () => {
  for (const s of spinners) s.kill('SIGKILL');
};
process.on('exit', stopSpinners);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    stopSpinners();
    process.exit(130);
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`test:busy: ${spinners.length} spinning processes on ${availableParallelism()} CPUs (load ${load()})`);

const [cmd, args] =
  files.length > 0
    ? ['npx', ['tsx', '--test', '--test-force-exit', '--test-timeout=600000', ...files]]
    : ['npm', ['test']];
const suite = spawn(cmd, args, { stdio: 'inherit' });
suite.on('exit', (code, signal) => {
  console.log(`test:busy: the suite exited ${signal ?? code} (load ${load()})`);
  stopSpinners();
  process.exit(code ?? 1);
});
