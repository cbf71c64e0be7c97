/**
 * `lonet run` with published packages, unmodified: socket.io's polling transport (its
 * engine drops every session if the http server says 'close' while it still listens).
 * The host's own 127.0.0.1:8080 is held by this test, so a program that reached for an
 * OS socket would fail to listen or talk to the wrong server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { after, before, test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/run/${name}`, import.meta.url).pathname;

function lonet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout, stderr }),
    );
  });
}

const decoy = http.createServer((_req, res) => res.end('the host, not lonet'));
before(() => new Promise<void>((r) => decoy.listen(8080, '127.0.0.1', () => r())));
after(() => new Promise<void>((r) => decoy.close(() => r())));

test('lonet run: socket.io 4, polling only, 200 acked events; the server closes once, at the end', async () => {
  const { code, stdout, stderr } = await lonet(['run', fixture('socketio-polling.mjs')]);
  assert.equal(stderr, '');
  assert.equal(
    stdout,
    "acked 200, server 'close' events while listening: 0\ndisconnect io client disconnect\nclosed, 'close' events: 1\n",
  );
  assert.equal(code, 0);
});
