/**
 * libuv's exit rule under `lonet run`: a socket keeps the process alive only while it is
 * active (connecting, reading, writing) and ref'd, so a program exits when it would on
 * Node even with sockets it never closed. Each program runs on plain node over the
 * kernel's lo and over lonet: both must exit by themselves, printing the same lines.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lonet-exit-'));

function exec(args: string[]): Promise<{ code: number | null; stdout: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { timeout: 30_000 }, (err, stdout) =>
      resolve({ code: err === null ? 0 : child.exitCode, stdout, killed: child.killed }),
    );
  });
}

async function sameExit(name: string, program: string): Promise<void> {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(file, program);
  const [node, lonet] = await Promise.all([exec([file]), exec(['--import', 'tsx', MAIN, 'run', file])]);
  assert.equal(node.killed, false, `${name}: node itself must exit`);
  assert.deepEqual({ code: lonet.code, stdout: lonet.stdout, killed: lonet.killed }, { ...node, killed: false });
}

test('a paused socket that has read EOF, never destroyed, lets the process exit', () =>
  sameExit(
    'eof-unread',
    `const net = require('net');
const srv = net.createServer((s) => {
  // Nobody reads: 'end' never comes and the socket is never destroyed, but libuv has read
  // the EOF and the handle is no longer active.
  s.pause();
  srv.close(() => console.log('server closed'));
});
srv.listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1', () => {
    console.log('connected');
    c.end('bye', () => c.destroy());
  });
  c.on('close', () => console.log('client closed'));
});
process.on('exit', () => console.log('exit'));
`,
  ));

test('a socket whose buffer is full stops reading and lets the process exit; a reading one holds it', () =>
  sameExit(
    'buffer-full',
    `const net = require('net');
const srv = net.createServer((s) => {
  s.end('hello', () => s.destroy());
  srv.close();
});
srv.listen(0, '127.0.0.1', () => {
  // Data beyond readableHighWaterMark with nobody taking it: readStop, the handle is idle.
  const c = net.connect({ port: srv.address().port, host: '127.0.0.1', readableHighWaterMark: 1 });
  c.on('connect', () => console.log('connected'));
  // A reading socket with nothing to read still holds the loop, until destroyed.
  const other = net.createServer().listen(0, '127.0.0.1', () => {
    const r = net.connect(other.address().port, '127.0.0.1', () => {
      other.close();
      setTimeout(() => { console.log('destroying the reader'); r.destroy(); }, 300).unref();
      setTimeout(() => {}, 100);
    });
    r.on('data', () => {});
  });
});
process.on('exit', () => console.log('exit'));
`,
  ));

test('a socket waiting for a lookup that never answers, with a write queued, holds nothing', () =>
  sameExit(
    'lookup-pending',
    `const net = require('net');
const c = net.connect({ port: 9, host: 'nowhere.test', lookup: () => {} });
c.write('queued until connected');
console.log('connecting', c.connecting);
process.on('exit', () => console.log('exit'));
`,
  ));

test("require('_http_agent') is the face's: its Agent dials lonet", () =>
  sameExit(
    'http-agent-module',
    `const http = require('http');
const { Agent } = require('_http_agent');
const srv = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
  http.get({ port: srv.address().port, host: '127.0.0.1', agent: new Agent() }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => console.log('got', d));
    res.on('end', () => srv.close());
  });
});
`,
  ));
