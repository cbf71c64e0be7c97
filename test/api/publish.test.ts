/**
 * ns.publish and `lonet run --publish`: a real curl on the host reaches an app in the
 * namespace through a host port on 127.0.0.1. Large bodies go through whole in both
 * directions; a reset in the namespace is a reset for curl; a client that goes away
 * closes the namespace's side.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as hostNet from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import type { Socket } from '../../src/api/net.js';

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? -1), stdout, stderr }),
    );
  });
}

test('ns.publish: curl on the host gets the app, 8 MB up and 8 MB down arrive whole', async () => {
  const ns = new Namespace();
  const down = randomBytes(8 << 20);
  const server = ns.http.createServer((req, res) => {
    if (req.method === 'POST') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        h.update(c);
      });
      req.on('end', () => res.end(`${n} ${h.digest('hex')}\n`));
      return;
    }
    if (req.url === '/big') return void res.end(down);
    res.end(`hello from the namespace, ${req.socket.remoteAddress}\n`);
  });
  await new Promise<void>((r) => server.listen(8080, '127.0.0.1', () => r()));
  const pub = await ns.publish(8080, { hostPort: 0 });
  try {
    assert.notEqual(pub.hostPort, 0);
    const hello = await curl(['-s', `http://127.0.0.1:${pub.hostPort}/`]);
    assert.equal(hello.stdout, 'hello from the namespace, 127.0.0.1\n');
    const dir = mkdtempSync(join(tmpdir(), 'lonet-publish-'));
    const up = randomBytes(8 << 20);
    writeFileSync(join(dir, 'up'), up);
    const posted = await curl(['-s', '--data-binary', `@${join(dir, 'up')}`, `http://127.0.0.1:${pub.hostPort}/`]);
    assert.equal(posted.stdout, `${up.length} ${createHash('sha256').update(up).digest('hex')}\n`);
    const got = await curl([
      '-s',
      '-o',
      join(dir, 'down'),
      '-w',
      '%{size_download}',
      `http://127.0.0.1:${pub.hostPort}/big`,
    ]);
    assert.equal(got.stdout, String(down.length));
    const sum = await new Promise<string>((resolve) =>
      execFile('sha256sum', [join(dir, 'down')], (_e, out) => resolve(out.split(' ')[0] as string)),
    );
    assert.equal(sum, createHash('sha256').update(down).digest('hex'));
  } finally {
    await pub.close();
    server.close();
  }
  // Closed: the host port is free again.
  const refused = await curl(['-s', `http://127.0.0.1:${pub.hostPort}/`]);
  assert.equal(refused.code, 7);
});

test('ns.publish: a reset in the namespace resets the host connection; the host client leaving closes the namespace side', async () => {
  const ns = new Namespace();
  const closed: string[] = [];
  const server = ns.net.createServer((s) => {
    const sock = s as Socket;
    sock.once('data', (d: Buffer) => {
      if (String(d).startsWith('GET /reset')) sock.resetAndDestroy();
      else sock.write('ok\n');
    });
    sock.on('end', () => closed.push('end'));
    sock.on('close', () => closed.push('close'));
  });
  await new Promise<void>((r) => server.listen(9000, '127.0.0.1', () => r()));
  const pub = await ns.publish(9000, { hostPort: 0 });
  try {
    const reset = await curl(['-s', '-S', `http://127.0.0.1:${pub.hostPort}/reset`]);
    assert.equal(reset.code, 56);
    assert.match(reset.stderr, /Connection reset by peer/);
    // A host client that says something and then closes.
    const c = hostNet.connect(pub.hostPort, '127.0.0.1');
    const first = await new Promise<string>((resolve) => {
      c.write('hi\n');
      c.once('data', (d) => resolve(String(d)));
    });
    assert.equal(first, 'ok\n');
    const before = closed.length;
    c.end();
    while (closed.length < before + 2) await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed.slice(before), ['end', 'close']);
  } finally {
    await pub.close();
    server.close();
  }
});

test('lonet run --publish 8080:HOSTPORT --strict: curl on the host reaches the unmodified program, no host socket of its own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-run-publish-'));
  writeFileSync(
    join(dir, 'app.mjs'),
    `import http from 'node:http';
const server = http.createServer((req, res) => {
  res.end('app: ' + req.url + '\\n');
  if (req.url === '/quit') server.close();
});
server.listen(8080, '127.0.0.1', () => console.log('listening'));
`,
  );
  // A free host port, found by the kernel and let go at once.
  const probe = hostNet.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const hostPort = (probe.address() as hostNet.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'run', '--strict', '--publish', `8080:${hostPort}`, join(dir, 'app.mjs')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  while (!out.includes('listening') && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const r1 = await curl(['-s', `http://127.0.0.1:${hostPort}/hello`]);
  const r2 = await curl(['-s', `http://127.0.0.1:${hostPort}/quit`]);
  const code = await new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
  );
  assert.equal(r1.stdout, 'app: /hello\n');
  assert.equal(r2.stdout, 'app: /quit\n');
  assert.equal(err, `lonet: 127.0.0.1:${hostPort} on the host is port 8080 in the namespace\n`);
  assert.equal(code, 0);
});
