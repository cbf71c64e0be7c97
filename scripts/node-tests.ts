/**
 * `npm run node-tests -- NODE_SRC [--module net|dgram|http|tls|https|http2] [--jobs N] [--timeout S] [--json FILE]
 *  [--baseline FILE] [PATTERN…]`: Node's own core tests for the faces, run once on plain node and
 * once over `lonet run`.
 *
 * NODE_SRC is a Node source tree (or its test/ folder) of the major that runs this script:
 * test/parallel/test-net-*, test-dgram-*, test-http-*, test-http.js, test-tls-*, test-https-*
 * and test-http2-* with test/common beside them. Tests that need node flags (`// Flags:`) or another process (child_process, cluster,
 * workers) are left out: a child is plain node, outside the namespace. A test that skips
 * itself on plain node (`1..0 # Skipped`) tests nothing here and is not counted.
 *
 * A test passes when it exits 0 within the timeout. Over lonet it must also open no host
 * socket: a preload counts the libuv socket handles the process creates (async_hooks init of
 * TCPWRAP, UDPWRAP, TCPSERVERWRAP, PIPESERVERWRAP, PIPECONNECTWRAP), and any is a failure.
 * Node's tests are read where they are, never copied into this repository.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MODULES = ['net', 'dgram', 'http', 'tls', 'https', 'http2'] as const;
type ModuleName = (typeof MODULES)[number];

const USAGE = `usage: npm run node-tests -- NODE_SRC [--module net|dgram|http|tls|https|http2] [--jobs N] [--timeout S]
                              [--json FILE] [--baseline FILE] [PATTERN…]
  NODE_SRC          a Node source tree (or its test/ folder) of this node's major version
  --module M        only test-M-* (repeatable; default all six)
  --jobs N          tests run at once (default 2)
  --timeout S       seconds a run may take (default 30)
  --json FILE       write every result to FILE
  --baseline FILE   take the plain-node results from an earlier --json instead of running them
  PATTERN…          only tests whose file name contains one of the PATTERNs
`;

const { values, positionals } = parseArgs({
  options: {
    module: { type: 'string', multiple: true },
    jobs: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (values.help || positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(values.help ? 0 : 2);
}

const root = resolve(positionals[0] as string);
const testDir = existsSync(join(root, 'parallel')) ? root : join(root, 'test');
const parallel = join(testDir, 'parallel');
if (!existsSync(parallel) || !existsSync(join(testDir, 'common'))) {
  process.stderr.write(`node-tests: no test/parallel and test/common under ${root}\n`);
  process.exit(2);
}
const patterns = positionals.slice(1);
const modules = (values.module ?? [...MODULES]) as ModuleName[];
for (const m of modules) if (!MODULES.includes(m)) throw new Error(`unknown module ${m}`);
const jobs = Math.max(1, Number(values.jobs ?? 2));
const timeoutMs = Number(values.timeout ?? 30) * 1000;

const repo = resolve(fileURLToPath(import.meta.url), '../..');
const lonetMain = join(repo, 'src/cli/main.ts');

/** Which module a test file belongs to, or null. */
function moduleOf(file: string): ModuleName | null {
  if (file === 'test-http.js') return 'http';
  for (const m of MODULES) if (file.startsWith(`test-${m}-`) && file.endsWith('.js')) return m;
  return null;
}

/** Why a test cannot run in one namespace of one process, or null when it can. */
function unfit(source: string): string | null {
  if (/^\/\/ Flags:/m.test(source)) return 'needs node flags';
  if (
    /require\(['"](node:)?(child_process|cluster|worker_threads)['"]\)|common\/(child_process|fork|worker)/.test(source)
  )
    return 'needs another process';
  return null;
}

// The preload: counts host socket handles as libuv creates them, and says so at exit.
const work = mkdtempSync(join(tmpdir(), 'lonet-node-tests-'));
const preload = join(work, 'host-sockets.cjs');
writeFileSync(
  preload,
  `'use strict';
const HOST = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'UDPWRAP', 'PIPESERVERWRAP', 'PIPECONNECTWRAP', 'TCPCONNECTWRAP']);
const seen = {};
// tsx (which runs lonet from source) dials its own CLI's IPC pipe: that one is not the test's.
const mine = () => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return /[\\/]node_modules[\\/]tsx[\\/]/.test(stack);
};
require('node:async_hooks').createHook({
  init(id, type) { if (HOST.has(type) && !mine()) seen[type] = (seen[type] || 0) + 1; },
}).enable();
process.on('exit', () => {
  if (Object.keys(seen).length > 0) require('node:fs').writeFileSync(process.env.LONET_NODE_TESTS_REPORT, JSON.stringify(seen));
});
`,
);

interface Run {
  ok: boolean;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  skipped: boolean;
  hostSockets: Record<string, number> | null;
  tail: string;
  ms: number;
}

let runSeq = 0;
const tmpId = (id: number) => `lonet${process.pid}-${id}`;

function runOne(file: string, side: 'node' | 'lonet'): Promise<Run> {
  const id = runSeq++;
  const report = join(work, `report-${id}.json`);
  const args =
    side === 'node'
      ? ['--require', preload, join(parallel, file)]
      : ['--require', preload, '--import', 'tsx', lonetMain, 'run', join(parallel, file)];
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd: repo,
      // Each run its own test/.tmp.* (tmpdir.refresh() empties it; the pid keeps two runners on
      // one tree apart), and no inherited test ids.
      env: { ...process.env, TEST_THREAD_ID: tmpId(id), TEST_SERIAL_ID: '', LONET_NODE_TESTS_REPORT: report },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const keep = (b: Buffer) => {
      out += b.toString();
      if (out.length > 20000) out = out.slice(-10000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The whole group: the test's own children too.
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let hostSockets: Record<string, number> | null = null;
      if (existsSync(report)) {
        hostSockets = JSON.parse(readFileSync(report, 'utf8')) as Record<string, number>;
        rmSync(report);
      }
      const skipped = code === 0 && /^1\.\.0 # Skipped/m.test(out);
      const ok = code === 0 && !timedOut && (side === 'node' || hostSockets === null);
      rmSync(join(testDir, `.tmp.${tmpId(id)}`), { recursive: true, force: true });
      done({
        ok,
        code,
        signal,
        timedOut,
        skipped,
        hostSockets,
        tail: out.trim().split('\n').slice(-12).join('\n'),
        ms: performance.now() - started,
      });
    });
  });
}

interface Result {
  file: string;
  module: ModuleName;
  unfit: string | null;
  node?: Run;
  lonet?: Run;
}

const files = readdirSync(parallel)
  .filter((f) => moduleOf(f) !== null && modules.includes(moduleOf(f) as ModuleName))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();
const results: Result[] = files.map((file) => ({
  file,
  module: moduleOf(file) as ModuleName,
  unfit: unfit(readFileSync(join(parallel, file), 'utf8')),
}));

const baseline = new Map<string, Run>();
if (values.baseline !== undefined) {
  for (const r of JSON.parse(readFileSync(values.baseline, 'utf8')) as Result[])
    if (r.node !== undefined) baseline.set(r.file, r.node);
}

// A small pool: plain node first, then lonet for the tests that passed there.
async function pool(tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await (tasks[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
}

let doneCount = 0;
const tasks = results
  .filter((r) => r.unfit === null)
  .map((r) => async () => {
    r.node = baseline.get(r.file) ?? (await runOne(r.file, 'node'));
    if (r.node.ok && !r.node.skipped) r.lonet = await runOne(r.file, 'lonet');
    doneCount++;
    const mark = r.lonet === undefined ? '-' : r.lonet.ok ? 'ok' : 'FAIL';
    process.stderr.write(`[${doneCount}] ${r.file}: ${mark}\n`);
  });
await pool(tasks);
rmSync(work, { recursive: true, force: true });

function why(run: Run): string {
  if (run.timedOut) return `timed out after ${timeoutMs / 1000} s`;
  if (run.hostSockets !== null && run.code === 0) return `opened host sockets: ${JSON.stringify(run.hostSockets)}`;
  const last =
    run.tail
      .split('\n')
      .reverse()
      .find((l) => /Error|assert|^\s*code:/.test(l)) ?? run.tail.split('\n').pop();
  return `exit ${run.code ?? run.signal}: ${last?.trim() ?? ''}`;
}

let out = '';
for (const m of modules) {
  const mine = results.filter((r) => r.module === m);
  const runnable = mine.filter((r) => r.unfit === null);
  const base = runnable.filter((r) => r.node?.ok && !r.node.skipped);
  const pass = base.filter((r) => r.lonet?.ok);
  const host = runnable.filter((r) => r.lonet !== undefined && r.lonet.hostSockets !== null);
  const pct = base.length === 0 ? 0 : (100 * pass.length) / base.length;
  out += `\n${m}: ${pass.length}/${base.length} baseline-passing tests pass over lonet (${pct.toFixed(1)} %)`;
  out += `; ${mine.length} tests, ${mine.length - runnable.length} need flags or another process`;
  out += `, ${runnable.filter((r) => r.node?.skipped).length} skip themselves, ${runnable.filter((r) => r.node !== undefined && !r.node.ok).length} fail on plain node`;
  out += `; runs over lonet that opened a host socket: ${host.length}\n`;
  for (const r of base) if (!r.lonet?.ok) out += `  FAIL ${r.file}: ${why(r.lonet as Run)}\n`;
}
process.stdout.write(out);
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(results, null, 1)}\n`);
