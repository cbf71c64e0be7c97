import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { parse, tokenize } from '../../src/tools/shell.js';

test('words, quotes and operators', () => {
  assert.deepEqual(tokenize(`echo 'a b' "c \\"d\\"" e\\ f;x&&y||z &`), [
    { word: 'echo' },
    { word: 'a b' },
    { word: 'c "d"' },
    { word: 'e f' },
    { op: ';' },
    { word: 'x' },
    { op: '&&' },
    { word: 'y' },
    { op: '||' },
    { word: 'z' },
    { op: '&' },
  ]);
  assert.deepEqual(parse('a; b && c &'), [
    { commands: [['a']], connectors: [], background: false },
    { commands: [['b'], ['c']], connectors: ['&&'], background: true },
  ]);
});

test('; && || run as sh runs them, and the last status is the result', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('echo one; false && echo two || echo three'), {
    code: 0,
    stdout: 'one\nthree\n',
    stderr: '',
  });
  assert.equal((await ns.exec('true; false')).code, 1);
  assert.equal((await ns.exec('false; echo $?')).stdout, '1\n');
});

test('unknown commands and syntax errors', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('nosuch -x'), {
    code: 127,
    stdout: '',
    stderr: 'lonet: nosuch: command not found\n',
  });
  const r = await ns.exec('echo "open');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unexpected EOF/);
  assert.equal((await ns.exec('&& echo')).code, 2);
});

test('exit stops the line with its status', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('echo a; exit 3; echo b'), { code: 3, stdout: 'a\n', stderr: '' });
});

test('background jobs and wait; sleep follows the kernel clock', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const run = ns.exec('sleep 2 && echo late & echo early; wait; echo done');
  await new Promise((r) => setImmediate(r));
  kernel.virtualClock.advance(1e9);
  await new Promise((r) => setImmediate(r));
  kernel.virtualClock.advance(1e9);
  const r = await run;
  assert.deepEqual(r, { code: 0, stdout: 'early\nlate\ndone\n', stderr: '' });
  assert.equal(kernel.clock.now(), 2e9);
});

test('an aborted command stops, as Ctrl-C stops it', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const ac = new AbortController();
  const run = ns.exec('sleep 100; echo after', { signal: ac.signal });
  ac.abort();
  const r = await run;
  assert.equal(r.stdout, 'after\n', 'the shell goes on with the next command');
});

test('sleep rejects what coreutils rejects', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('sleep x'), {
    code: 1,
    stdout: '',
    stderr: "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n",
  });
});

test('several exec calls run concurrently on one namespace', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const a = ns.exec('sleep 1; echo a');
  const b = ns.exec('echo b');
  assert.equal((await b).stdout, 'b\n');
  kernel.virtualClock.advance(1e9);
  assert.equal((await a).stdout, 'a\n');
});

test('a background `wait` runs in a subshell with no jobs: `-1 & wait &` finishes, as in bash', async () => {
  const ns = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
  // bash -c ' -1 & wait & wait; echo "st=$?"' prints "-1: command not found" and st=0.
  assert.deepEqual(await ns.exec('-1 & wait & wait; echo st=$?'), {
    code: 0,
    stdout: 'st=0\n',
    stderr: 'lonet: -1: command not found\n',
  });
  // The fuzzer's case: the same line, then Ctrl-C; the line and its jobs end.
  const shell = ns.shell({ stdout: { write() {} }, stderr: { write() {} } });
  const ac = new AbortController();
  assert.equal(await shell.run('-1&wait&', ac.signal), 0);
  ac.abort();
  assert.equal(await shell.wait(), 0);
});

test('a job is a subshell: it starts with the parent $?, and its exit ends only the job', async () => {
  const ns = new Namespace();
  // bash: `false; echo "bg=$?" & wait` prints bg=1; `exit 3 & wait; echo "still here $?"`.
  assert.equal((await ns.exec('false; echo bg=$? & wait')).stdout, 'bg=1\n');
  assert.deepEqual(await ns.exec('exit 3 & wait; echo still here $?'), {
    code: 0,
    stdout: 'still here 0\n',
    stderr: '',
  });
  // $? follows each command of an and-or list: bash -c 'false || echo "in=$?"' prints in=1.
  assert.equal((await ns.exec('false || echo in=$?')).stdout, 'in=1\n');
  assert.equal((await ns.exec('false || exit')).code, 1);
  // POSIX: wait with no operands returns 0, whatever the jobs returned.
  assert.equal((await ns.exec('false & wait')).code, 0);
});

test('Ctrl-C interrupts the foreground (wait returns 130), never a background job', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const out: string[] = [];
  const shell = ns.shell({ stdout: { write: (t) => void out.push(t) }, stderr: { write() {} } });
  const ac = new AbortController();
  // bash: a job started with job control off ignores SIGINT; `wait` interrupted returns 130.
  const line = shell.run('sleep 3 && echo job done & wait; echo wait=$?', ac.signal);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  assert.equal(await line, 0);
  assert.deepEqual(out, ['wait=130\n']);
  const jobs = shell.wait();
  kernel.virtualClock.advance(3e9);
  assert.equal(await jobs, 0);
  assert.deepEqual(out, ['wait=130\n', 'job done\n'], 'the job ran to its end');
  // A hangup ends a job that would run on (a closing terminal's SIGHUP).
  await shell.run('sleep 100 && echo never &');
  shell.hangup();
  assert.equal(await shell.wait(), 0);
  assert.deepEqual(out, ['wait=130\n', 'job done\n']);
});

test("aborting ns.exec ends the line's jobs too", async () => {
  const ns = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
  const ac = new AbortController();
  const run = ns.exec('sleep 100 & sleep 100; sleep 50 & echo after', { signal: ac.signal });
  await new Promise((r) => setImmediate(r));
  ac.abort();
  assert.deepEqual(await run, { code: 0, stdout: 'after\n', stderr: '' });
});
