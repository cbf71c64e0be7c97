/**
 * The same node:http programs on the kernel's lo and on ns.http: the events, statuses,
 * headers and errors they observe must be the same. In the spirit of Node's
 * test-http-* tests.
 */
import assert from 'node:assert/strict';
import * as kernelHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

type HttpLike = typeof kernelHttp;

async function same(name: string, scenario: (http: HttpLike, log: string[]) => Promise<void>): Promise<void> {
  const run = async (http: HttpLike) => {
    const log: string[] = [];
    await scenario(http, log);
    return log.map((l) => l.replace(/\b\d{4,5}\b/g, 'PORT').replace(/date: [^,]*, [^,]*/i, 'date: D'));
  };
  const kernel = await run(kernelHttp);
  const lonet = await run(new Namespace().http as unknown as HttpLike);
  assert.deepEqual(lonet, kernel, `${name}: ns.http must behave as node:http`);
}

const listen = (srv: kernelHttp.Server) =>
  new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
const close = (srv: kernelHttp.Server) => new Promise<void>((r) => srv.close(() => r()));

test('request and response: events, status, headers, chunked and content-length bodies', () =>
  same('basic', async (http, log) => {
    const srv = http.createServer((req, res) => {
      log.push(
        `server ${req.method} ${req.url} ${req.httpVersion} ${req.headers['content-type']} ${req.headers['transfer-encoding']}`,
      );
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        log.push(`server body ${body}`);
        if (req.url === '/chunked') {
          res.write('part1-');
          res.end('part2');
        } else {
          res.writeHead(201, { 'content-type': 'text/plain', 'x-test': 'a' });
          res.end(`got ${body.length}`);
        }
      });
      res.on('finish', () => log.push('server finish'));
      res.on('close', () => log.push('server res close'));
    });
    const port = await listen(srv);
    for (const path of ['/plain', '/chunked']) {
      await new Promise<void>((resolve) => {
        const req = http.request(
          { port, host: '127.0.0.1', method: 'POST', path, headers: { 'content-type': 'text/plain' } },
          (res) => {
            log.push(
              `client ${res.statusCode} ${res.statusMessage} ${res.headers['content-type']} ${res.headers['transfer-encoding']} ${res.headers['content-length']} ${res.headers.connection}`,
            );
            let b = '';
            res.on('data', (d) => {
              b += d;
            });
            res.on('end', () => {
              log.push(`client body ${b}`);
              resolve();
            });
          },
        );
        req.on('socket', () => log.push('client socket'));
        req.on('finish', () => log.push('client finish'));
        req.write('hello ');
        req.end('world');
      });
    }
    await close(srv);
    log.push('closed');
  }));

test('errors: refused, a server that hangs up, 404s and a bad request', () =>
  same('errors', async (http, log) => {
    await new Promise<void>((r) => {
      const req = http.get({ port: 1, host: '127.0.0.1' });
      req.on('error', (e: NodeJS.ErrnoException) => {
        log.push(`refused ${e.code} ${e.message}`);
        r();
      });
    });
    const srv = http.createServer((req, res) => {
      if (req.url === '/hangup') req.socket.destroy();
      else {
        res.statusCode = 404;
        res.end('nope');
      }
    });
    srv.on('clientError', (err: NodeJS.ErrnoException, sock) => {
      log.push(`clientError ${err.code}`);
      sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const port = await listen(srv);
    await new Promise<void>((r) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/hangup', agent: false });
      req.on('error', (e: NodeJS.ErrnoException) => {
        log.push(`hangup ${e.code} ${e.message}`);
        r();
      });
    });
    await new Promise<void>((r) =>
      http.get({ port, host: '127.0.0.1', path: '/missing', agent: false }, (res) => {
        log.push(`status ${res.statusCode}`);
        res.resume();
        res.on('end', () => r());
      }),
    );
    await close(srv);
  }));

test('keep-alive: the Agent reuses the socket; server.closeIdleConnections ends it', () =>
  same('keep-alive', async (http, log) => {
    const srv = http.createServer((_req, res) => res.end('ok'));
    const port = await listen(srv);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((r) => {
        const req = http.get({ port, host: '127.0.0.1', agent }, (res) => {
          res.resume();
          res.on('end', () => r());
        });
        req.on('socket', (s) => log.push(`request ${i} reused=${req.reusedSocket} connecting=${s.connecting}`));
      });
    }
    const sock = Object.values(agent.freeSockets)[0]?.[0];
    log.push(`free sockets ${Object.values(agent.freeSockets).flat().length}`);
    const closed = new Promise<void>((r) => sock?.once('close', () => r()));
    srv.closeIdleConnections();
    await closed;
    log.push('idle socket closed by the server');
    agent.destroy();
    await close(srv);
  }));
