import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// npm ci builds dist/ (the prepare script); these check what a dependent gets.
test("import('lonet') resolves through package.json exports", async () => {
  const lonet = await import('lonet');
  const ns = new lonet.Namespace();
  assert.equal(ns.lo.ifindex, 1);
  const r = await ns.exec('cat /proc/sys/net/core/somaxconn');
  assert.deepEqual(r, { code: 0, stdout: '4096\n', stderr: '' });
});

test('npx lonet runs the bin', () => {
  const r = spawnSync('npx', ['--no-install', 'lonet', '-c', 'echo ok'], { encoding: 'utf8' });
  assert.equal(r.stdout, 'ok\n');
  assert.equal(r.status, 0);
});
