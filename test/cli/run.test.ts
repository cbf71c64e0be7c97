/**
 * `lonet run`: unmodified Node programs, a node:http server and a fetch client, talk
 * over lonet in one process. The host's own 127.0.0.1:8080 is held by this test the
 * whole time, so a program that reached for an OS socket would fail to listen
 * (EADDRINUSE) or would talk to the wrong server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function lonet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { timeout: 300_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout, stderr });
      },
    );
  });
}

const SERVER = `import http from 'node:http';
const server = http.createServer((req, res) => {
  res.setHeader('Connection', 'close');
  res.end(\`hello \${req.method} \${req.url} on \${req.socket.localAddress}:\${req.socket.localPort}\\n\`);
});
server.listen(8080, '127.0.0.1', () => console.log('server: listening on', server.address().port));
globalThis.theServer = server;
`;

const CLIENT = `const res = await fetch(new Request('http://127.0.0.1:8080/hi', { headers: new Headers({ 'x-a': 'b' }) }));
if (!(res instanceof Response)) throw new Error('not a Response');
console.log('client:', res.status, (await res.text()).trim());
globalThis.theServer.close(() => console.log('server: closed'));
`;

/** A CommonJS program and bare names: require('http'), require('net') and dgram over lonet. */
const CJS = `const http = require('http');
const net = process.getBuiltinModule('net');
const dgram = require('node:dgram');
const rx = dgram.createSocket('udp4');
rx.on('message', (m, r) => { console.log('udp:', String(m), 'from', r.address); rx.close(); });
rx.bind(9999, '127.0.0.1', () => {
  const tx = dgram.createSocket('udp4');
  tx.send('ping', 9999, '127.0.0.1', () => tx.close());
});
const srv = http.createServer((req, res) => res.end('http via require\\n')).listen(8080, '127.0.0.1', () => {
  http.get('http://127.0.0.1:8080/', (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => console.log('http:', d.trim()));
    res.on('end', () => {
      srv.close();
      net.connect(8080, '127.0.0.1').on('error', (e) => console.log('net:', e.code));
    });
  });
});
`;

async function holdHostPort(port: number): Promise<http.Server | null> {
  const host = http.createServer((_req, res) => res.end('the HOST answered\n'));
  return new Promise((resolve) => {
    host.once('error', () => resolve(null));
    host.listen(port, '127.0.0.1', () => resolve(host));
  });
}

test('lonet run: a node:http server and a fetch client, unmodified, talk over lonet and exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-run-'));
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'client.mjs'), CLIENT);
  const host = await holdHostPort(8080);
  try {
    const r = await lonet(['run', join(dir, 'server.mjs'), join(dir, 'client.mjs')]);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'server: listening on 8080\nclient: 200 hello GET /hi on 127.0.0.1:8080\nserver: closed\n');
    assert.equal(r.code, 0);
  } finally {
    host?.close();
  }
});

test('lonet run: require(), getBuiltinModule() and bare names get the faces too (http, net, dgram); a refused connect is ECONNREFUSED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-run-'));
  writeFileSync(join(dir, 'prog.cjs'), CJS);
  const host = await holdHostPort(8080);
  try {
    const r = await lonet(['run', join(dir, 'prog.cjs')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').sort(), [
      '',
      'http: http via require',
      'net: ECONNREFUSED',
      'udp: ping from 127.0.0.1',
    ]);
  } finally {
    host?.close();
  }
});

test('lonet run: https and fetch(https://) dial the namespace (nothing listens there: refused), a missing file fails as node does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-run-'));
  writeFileSync(
    join(dir, 'tls.mjs'),
    `import https from 'node:https';
await new Promise((r) => https.get('https://127.0.0.1/').on('error', (e) => r(console.log('https:', e.code))));
try { await fetch('https://127.0.0.1/'); } catch (e) { console.log('fetch:', e.cause?.code); }
`,
  );
  const r = await lonet(['run', join(dir, 'tls.mjs')]);
  assert.equal(r.stdout, 'https: ECONNREFUSED\nfetch: ECONNREFUSED\n');
  assert.equal(r.code, 0);
  const missing = await lonet(['run', join(dir, 'nope.mjs')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ERR_MODULE_NOT_FOUND/);
});
