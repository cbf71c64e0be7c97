/**
 * `lonet run` with published packages, unmodified: socket.io's polling transport (its
 * engine drops every session if the http server says 'close' while it still listens),
 * @grpc/grpc-js over node:http2, node:https with fetch and undici's own request. The
 * programs count host TCP/UDP handles with async_hooks: none may be opened.
 * The host's own 127.0.0.1:8080 is held by this test, so a program that reached for an
 * OS socket would fail to listen or talk to the wrong server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { after, before, test } from 'node:test';
import { makeCerts } from '../helpers/certs.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/run/${name}`, import.meta.url).pathname;

function lonet(
  args: string[],
  env: Record<string, string> = {},
  node = ['--import', 'tsx', MAIN],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...node, ...args],
      { timeout: 60_000, env: { ...process.env, ...env } },
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

test('lonet run: @grpc/grpc-js unary and server-streaming calls over ns.http2, no host socket', async () => {
  const { code, stdout, stderr } = await lonet(['run', fixture('grpc.mjs')]);
  assert.equal(stderr, '');
  assert.equal(
    stdout,
    'unary: hello lonet from 127.0.0.1\nserver-streaming: 1,2,3,4,5\nhost handles: {"TCPWRAP":0,"TCPSERVERWRAP":0,"UDPWRAP":0}\n',
  );
  assert.equal(code, 0);
  // The same program under plain node opens host sockets, and the count sees them.
  const plain = await lonet([fixture('grpc.mjs')], {}, []);
  assert.match(plain.stdout, /"TCPWRAP":[1-9].*"TCPSERVERWRAP":[1-9]/);
});

test("lonet run: node:https, fetch with a caller's undici Agent { connect: { ca } }, undici.request via the global dispatcher", async () => {
  const certs = makeCerts();
  try {
    const { code, stdout, stderr } = await lonet(['run', fixture('https-undici.mjs')], {
      CERT_DIR: certs.dir,
      NODE_EXTRA_CA_CERTS: certs.caFile,
    });
    assert.equal(stderr, '');
    assert.equal(
      stdout,
      [
        'node:https -> /node-https over TLSv1.3 from 127.0.0.1',
        'fetch -> 200 /fetch-with-agent over TLSv1.3 from 127.0.0.1',
        'undici.request -> 200 /undici-request over TLSv1.3 from 127.0.0.1',
        'undici.request with its own Agent -> 200 /undici-own-agent over TLSv1.3 from 127.0.0.1',
        'host handles: {"TCPWRAP":0,"TCPSERVERWRAP":0,"UDPWRAP":0}',
        '',
      ].join('\n'),
    );
    assert.equal(code, 0);
  } finally {
    certs.cleanup();
  }
});
