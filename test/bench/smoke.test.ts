/**
 * The benchmark suite runs (`npm run bench -- --smoke`): every scenario on both sides and the
 * scaling table, with a tiny window. Speed is not tested here, only that each number is real.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('npm run bench -- --smoke runs every scenario over lonet, the kernel and the no-stack pipe and writes --json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-bench-'));
  const file = join(dir, 'bench.json');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/main.ts', '--smoke', '--json', file],
      { timeout: 300_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
  assert.equal(code, 0, stderr);
  const rows = JSON.parse(readFileSync(file, 'utf8')) as {
    name: string;
    unit: string;
    lonet: number | null;
    kernel: number | null;
    ratio: number | null;
    pipe?: number | null;
    ceiling?: number | null;
  }[];
  const names = rows.map((r) => r.name);
  for (const n of [
    'tcp-bulk',
    'tcp-rr',
    'tcp-connect',
    'udp-64b',
    'udp-rr',
    'ping-flood',
    'http-rr',
    'https-rr',
    'h2-rr',
    'idle-conns 200',
  ])
    assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  for (const r of rows) {
    assert.ok(typeof r.lonet === 'number' && r.lonet > 0, `${r.name} lonet: ${r.lonet}`);
    if (r.name !== 'ping-flood')
      assert.ok(typeof r.kernel === 'number' && r.kernel > 0, `${r.name} kernel: ${r.kernel}`);
    if (r.kernel !== null && r.lonet !== null) assert.equal(r.ratio, r.lonet / r.kernel);
    // The no-stack ceiling runs every scenario but ping (no pipe has an ICMP) and idle-conns.
    if (r.name !== 'ping-flood' && !r.name.startsWith('idle-conns')) {
      assert.ok(typeof r.pipe === 'number' && r.pipe > 0, `${r.name} pipe: ${r.pipe}`);
      assert.equal(r.ceiling, (r.pipe as number) / (r.kernel as number));
    }
  }
  assert.match(stdout, /\| scenario +\| +unit +\| +lonet +\| +kernel +\| +ratio \|/);
  assert.match(stdout, /namespaces created/);
  const scale = JSON.parse(readFileSync(file.replace(/\.json$/, '.scaling.json'), 'utf8')) as { value: number }[];
  for (const r of scale) assert.ok(r.value > 0);
});
