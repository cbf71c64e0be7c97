import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

/** One ping, then nstat's history semantics: -n, deltas, nothing new, -a, -s -z, -j, -r, a bad option. */
const LINES = [
  'nstat -n',
  'ping -c1 -q 127.0.0.1',
  'nstat',
  'nstat',
  "nstat -a 'IpExt*'",
  "nstat -s -z 'Icmp*Err*' 'TcpExtTCPSyn*'",
  "nstat -a -j 'Icmp*Echo*'",
  'nstat -r -n',
  'nstat',
  'nstat -q',
];

/** Real iproute2 nstat in `unshare --net --mount`, its history in a private file. */
function linux(): { code: number; out: string }[] | undefined {
  if (spawnSync('sh', ['-c', 'command -v nstat && command -v unshare'], { stdio: 'ignore' }).status !== 0)
    return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'lonet-nstat-'));
  const script = [
    'ip link set lo up',
    `export NSTAT_HISTORY=${dir}/hist`,
    ...LINES.map((l, i) => `${l} > ${dir}/out${i} 2>&1; echo $? > ${dir}/rc${i}`),
  ].join('\n');
  const r = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return LINES.map((_, i) => ({
    code: Number(readFileSync(join(dir, `rc${i}`), 'utf8').trim()),
    out: readFileSync(join(dir, `out${i}`), 'utf8'),
  }));
}

test('nstat prints what iproute2 nstat prints on a fresh Linux namespace, history file included', async (t) => {
  const want = linux();
  if (want === undefined) return t.skip('needs nstat and unshare --net --mount');
  const ns = new Namespace();
  for (const [i, line] of LINES.entries()) {
    const r = await ns.exec(line);
    const w = want[i] as { code: number; out: string };
    if (line.startsWith('ping')) continue;
    assert.equal(r.stdout + r.stderr, w.out, line);
    assert.equal(r.code, w.code, line);
  }
});

test('nstat counts from the live counters: TCP over lo shows up as deltas, then nothing until more traffic', async () => {
  const ns = new Namespace();
  await ns.exec('nstat -n');
  const server = ns.net.createServer((s) => (s as Socket).end('hi'));
  await new Promise<void>((r) => server.listen(8080, '127.0.0.1', r));
  await new Promise<void>((resolve) => {
    const c = ns.net.connect(8080, '127.0.0.1');
    c.on('data', () => {});
    c.on('close', () => resolve());
  });
  server.close();
  const first = await ns.exec('nstat TcpActiveOpens TcpPassiveOpens');
  assert.equal(
    first.stdout,
    '#kernel\nTcpActiveOpens                  1                  0.0\nTcpPassiveOpens                 1                  0.0\n',
  );
  assert.equal((await ns.exec('nstat TcpActiveOpens')).stdout, '#kernel\n');
  assert.match((await ns.exec('cat /tmp/.nstat.u0')).stdout, /^#kernel\nIpInReceives {20}\d+ +0\.0\n/);
});
