/**
 * lonet/register and lonet/test as users run them: `node --import lonet/register --test`
 * and vitest over the sample project in test/fixtures/register-app, with LONET_STRICT on,
 * while this process holds the host's 127.0.0.1:3000 with a real socket. A test that
 * reached the host would hit EADDRINUSE, or this server; the guard would end it.
 * These run the built package (dist/, which `npm ci` builds through `prepare`).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/capture/pcap.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/register-app/', import.meta.url));

function node(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A runner inside a runner would report to this one (NODE_TEST_CONTEXT), not print TAP.
  const env = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: opts.cwd ?? ROOT, env, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout, stderr }),
    );
  });
}

let host: http.Server;
let hostRequests = 0;
before(async () => {
  host = http.createServer((_req, res) => {
    hostRequests++;
    res.end('the HOST answered\n');
  });
  await new Promise<void>((resolve, reject) => {
    host.once('error', reject);
    host.listen(3000, '127.0.0.1', () => resolve());
  });
});
after(() => host.close());

test('node --import lonet/register --test: the sample app on 3000, a file namespace and two concurrent test namespaces; strict sees no host socket', async () => {
  const r = await node(['--import', 'lonet/register', '--test', 'test/fixtures/register-app/app.test.mjs'], {
    env: { LONET_STRICT: '1', NODE_OPTIONS: '' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^# pass 4$/m);
  assert.match(r.stdout, /^# fail 0$/m);
  assert.doesNotMatch(r.stdout + r.stderr, /LONET_STRICT/);
  assert.equal(hostRequests, 0);
});

test("NODE_OPTIONS='--import lonet/register' reaches node --test's children the same way", async () => {
  const r = await node(['--test', 'test/fixtures/register-app/app.test.mjs'], {
    env: { LONET_STRICT: '1', NODE_OPTIONS: '--import lonet/register' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^# pass 4$/m);
  assert.equal(hostRequests, 0);
});

test('vitest (pool forks, execArgv --import lonet/register): the same app, one namespace per concurrent test, no host socket', async () => {
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  const r = await node([vitest, 'run', '--reporter=verbose'], {
    cwd: FIXTURE,
    env: { LONET_STRICT: '1', NODE_OPTIONS: '', NO_COLOR: '1', CI: '1' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Tests {2}3 passed \(3\)/);
  assert.doesNotMatch(r.stdout + r.stderr, /LONET_STRICT/);
  assert.equal(hostRequests, 0);
});

test('LONET_STRICT=1: a TCP handle the host opens behind the faces ends the program where it is opened, naming the caller', async () => {
  const r = await node(
    ['--no-deprecation', '--import', 'lonet/register', 'test/fixtures/register-app/strict/bypass.mjs'],
    {
      env: { LONET_STRICT: '1', NODE_OPTIONS: '' },
    },
  );
  assert.equal(r.stdout, 'faced listen ok 3000\n');
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /HostSocketError: LONET_STRICT: a host TCP socket \(TCPWRAP\) was opened by a native addon, called from \S+\/strict\/addon\.cjs: it bypasses lonet's namespace/,
  );
  assert.match(r.stderr, /at exports\.openHostSocket \(\S+addon\.cjs:4:\d+\)/);
});

test('LONET_STRICT=report: the program runs on, and at exit the first host socket is reported with its stack and exit code 1', async () => {
  const r = await node(
    ['--no-deprecation', '--import', 'lonet/register', 'test/fixtures/register-app/strict/bypass.mjs'],
    {
      env: { LONET_STRICT: 'report', NODE_OPTIONS: '' },
    },
  );
  assert.equal(r.stdout, 'faced listen ok 3000\nafter the host socket\n');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LONET_STRICT: a host TCP socket \(TCPWRAP\)[^\n]*addon\.cjs/);
  assert.match(r.stderr, /bypass\.mjs:8:\d+/);
});

test('LONET_NETEM, LONET_CLOCK and LONET_PCAP reach the namespace; node:dns and node:dns/promises are its resolver', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-register-'));
  const pcap = join(dir, 'lo.pcap');
  const r = await node(['--import', 'lonet/register', 'test/fixtures/register-app/options.mjs'], {
    env: { LONET_NETEM: 'delay 5ms loss 1%', LONET_PCAP: pcap, NODE_OPTIONS: '' },
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0] as string, /^qdisc netem \w+: root refcnt 2 limit 1000 delay 5ms loss 1% seed \d+$/);
  assert.equal(lines[1], 'clock RealClock');
  assert.equal(lines[2], 'lookup {"address":"127.0.0.2","family":4}');
  assert.deepEqual(lines.slice(3).sort(), [
    '',
    'fetch db.test:3000 via ::ffff:127.0.0.2',
    'lookup x.test ENOTFOUND getaddrinfo ENOTFOUND x.test',
  ]);
  // The capture, written at exit: the HTTP exchange on lo, readable by lonet and by tcpdump.
  const file = readPcap(readFileSync(pcap));
  assert.ok(!(file instanceof Error));
  assert.ok(file.records.length >= 6, `${file.records.length} packets`);
  const td = spawnSync('tcpdump', ['-nr', pcap, 'tcp port 3000 and tcp[tcpflags] & tcp-syn != 0'], {
    encoding: 'utf8',
  });
  if (td.status === 0) assert.match(td.stdout, /127\.0\.0\.2\.3000: Flags \[S\]/);
  const v = await node(
    [
      '--import',
      'lonet/register',
      '-e',
      "import('lonet/test').then(t => console.log(t.currentNamespace().kernel.clock.constructor.name))",
    ],
    {
      env: { LONET_CLOCK: 'virtual', NODE_OPTIONS: '' },
    },
  );
  assert.equal(v.stdout, 'VirtualClock\n');
});
