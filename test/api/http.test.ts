import assert from 'node:assert/strict';
import * as kernelHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

test('200 POSTs through one keep-alive ns.http.Agent: right bodies, almost all on a reused socket', async () => {
  const ns = new Namespace();
  const srv = ns.http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  let listening = false;
  srv.on('listening', () => {
    listening = true;
  });
  await new Promise<void>((r) => srv.listen(8080, '127.0.0.1', () => r()));
  assert.ok(listening && srv.listening, "a real 'listening'");
  assert.deepEqual(srv.address(), { address: '127.0.0.1', family: 'IPv4', port: 8080 });
  const agent = new ns.http.Agent({ keepAlive: true, maxSockets: 1 });
  let ok = 0;
  let reused = 0;
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = ns.http.request({ host: '127.0.0.1', port: 8080, method: 'POST', path: `/n/${i}`, agent }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          b += d;
        });
        res.on('end', () => {
          if (res.statusCode === 200 && b === `POST /n/${i} payload-${i}`) ok++;
          resolve();
        });
      });
      req.on('error', reject);
      req.end(`payload-${i}`);
      if (req.reusedSocket) reused++;
    });
  }
  assert.equal(ok, 200);
  assert.ok(reused >= 190, `reused ${reused}`);
  agent.destroy();
  const second = ns.http.createServer();
  const err = await new Promise<NodeJS.ErrnoException>((r) => {
    second.on('error', r);
    second.listen(8080, '127.0.0.1');
  });
  assert.equal(err.code, 'EADDRINUSE');
  assert.equal(err.message, 'listen EADDRINUSE: address already in use 127.0.0.1:8080');
  await new Promise<void>((r) => srv.close(() => r()));
  assert.equal(srv.listening, false);
});

test('ns.fetch: a PUT round trip, with headers and status', async () => {
  const ns = new Namespace();
  const srv = ns.http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-lonet': 'yes' });
      res.end(JSON.stringify({ method: req.method, body, ua: req.headers['user-agent'] !== undefined }));
    });
  });
  await new Promise<void>((r) => srv.listen(8080, '127.0.0.1', () => r()));
  const res = await ns.fetch('http://127.0.0.1:8080/thing', { method: 'PUT', body: 'over lonet' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-lonet'), 'yes');
  assert.deepEqual(await res.json(), { method: 'PUT', body: 'over lonet', ua: true });
  await ns.fetch('http://localhost:8080/').then((r) => r.text());
  await assert.rejects(ns.fetch('http://127.0.0.1:8081/'), (e: Error & { cause?: { code?: string } }) => {
    return e instanceof TypeError && e.cause?.code === 'ECONNREFUSED';
  });
  await ns.dispatcher.close();
  await new Promise<void>((r) => srv.close(() => r()));
});

test('what frameworks read off req.socket is what Node gives', async () => {
  const probe = (http: typeof kernelHttp) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const srv = http.createServer((req, res) => {
        const s = req.socket as typeof req.socket & { encrypted?: boolean };
        const port = (srv.address() as AddressInfo).port;
        res.end();
        srv.close();
        resolve({
          remoteAddress: s.remoteAddress,
          remoteFamily: s.remoteFamily,
          localAddress: s.localAddress,
          localPort: s.localPort === port,
          encrypted: s.encrypted,
          readyState: s.readyState,
          writable: s.writable,
          timeout: s.timeout,
          httpVersion: req.httpVersion,
          host: req.headers.host?.replace(/\d+$/, 'PORT'),
        });
      });
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        http.get({ host: '127.0.0.1', port, agent: false }, (res) => res.resume());
      });
    });
  const kernel = await probe(kernelHttp);
  const lonet = await probe(new Namespace().http as unknown as typeof kernelHttp);
  assert.deepEqual(lonet, kernel);
});

test('headersTimeout works because the server really listens', async () => {
  const ns = new Namespace();
  const srv = ns.http.createServer({ headersTimeout: 200, requestTimeout: 300 }, () => assert.fail('no request'));
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  const sock = ns.net.connect(port, '127.0.0.1');
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
  let reply = '';
  sock.on('data', (d) => {
    reply += d;
  });
  await new Promise((r) => sock.on('close', r));
  assert.match(reply, /^HTTP\/1\.1 408 Request Timeout/);
  await new Promise<void>((r) => srv.close(() => r()));
});
