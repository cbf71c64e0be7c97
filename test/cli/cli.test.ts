import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function lonet(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('lonet -c runs commands in a fresh namespace and exits with the last status', () => {
  const r = lonet(['-c', 'sysctl net.core.somaxconn; sysctl nosuch.key']);
  assert.equal(r.stdout, 'net.core.somaxconn = 4096\n');
  assert.equal(r.stderr, 'sysctl: cannot stat /proc/sys/nosuch/key: No such file or directory\n');
  assert.equal(r.code, 1);
  assert.equal(lonet(['-c', 'exit 7']).code, 7);
});

test('lonet script FILE runs a file line by line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-'));
  const file = join(dir, 'lo.sh');
  writeFileSync(file, '# a comment\nsysctl -w net.core.netdev_budget=100\nsysctl -n net.core.netdev_budget\n');
  assert.deepEqual(lonet(['script', file]), {
    code: 0,
    stdout: 'net.core.netdev_budget = 100\n100\n',
    stderr: '',
  });
  assert.equal(lonet(['script', join(dir, 'missing')]).code, 127);
});

test('the interactive shell reads lines from stdin until exit', () => {
  const r = lonet([], 'echo hello\nfalse\nexit\necho never\n');
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.code, 1, 'exit with no number keeps the last status');
});

test('bad options get a usage message and status 2', () => {
  const r = lonet(['--nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^lonet: Unknown option '--nope'/);
});
