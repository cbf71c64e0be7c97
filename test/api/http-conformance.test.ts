/**
 * The same node:http programs on the kernel's lo and on ns.http: the events, statuses,
 * headers and errors they observe must be the same. In the spirit of Node's
 * test-http-* tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as kernelHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import * as kernelNet from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('the face’s classes: Server() and Server.call(this), Agent() without new, a replaced globalAgent', () =>
  same('classes', async (http, log) => {
    // The old inheritance Node's own tests and packages use.
    function MyServer(this: kernelHttp.Server) {
      (http.Server as unknown as (this: kernelHttp.Server, l: kernelHttp.RequestListener) => void).call(
        this,
        (req, res) => res.end(`mine ${req.url}`),
      );
    }
    Object.setPrototypeOf(MyServer.prototype, http.Server.prototype);
    const srv = new (MyServer as unknown as new () => kernelHttp.Server)();
    log.push(`instanceof Server ${srv instanceof http.Server}`);
    const port = await listen(srv);
    const agent = (http.Agent as unknown as (o: kernelHttp.AgentOptions) => kernelHttp.Agent)({ keepAlive: false });
    log.push(`agent instanceof Agent ${agent instanceof http.Agent}`);
    let made = 0;
    const create = agent.createConnection.bind(agent) as (...a: unknown[]) => unknown;
    (agent as unknown as { createConnection: unknown }).createConnection = (...a: unknown[]) => {
      made++;
      return create(...a);
    };
    // The module object (node:http's default export; the face itself).
    const mod = ((http as { default?: HttpLike }).default ?? http) as { globalAgent: kernelHttp.Agent };
    const saved = mod.globalAgent;
    mod.globalAgent = agent;
    const body = await new Promise<string>((resolve) =>
      http.get({ port, host: '127.0.0.1', path: '/x' }, (res) => {
        let b = '';
        res.on('data', (d) => {
          b += d;
        });
        res.on('end', () => resolve(b));
      }),
    );
    log.push(`body ${body}; made by the replaced globalAgent: ${made}`);
    mod.globalAgent = saved;
    const s2 = (http.Server as unknown as (l: kernelHttp.RequestListener) => kernelHttp.Server)((_req, res) =>
      res.end('two'),
    );
    log.push(`Server() instanceof Server ${s2 instanceof http.Server}`);
    await close(srv);
    agent.destroy();
  }));

test('Agent.createConnection: socketPath, (port, host, cb), and a custom lookup reach the connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-http-'));
  await same('createConnection', async (http, log) => {
    const path = join(dir, `s${log.length}-${Math.random().toString(36).slice(2)}.sock`);
    const srv = http.createServer((req, res) =>
      res.end(`over ${typeof req.socket.address() === 'object' ? 'a socket' : ''}`),
    );
    await new Promise<void>((r) => srv.listen(path, () => r()));
    const get = (opts: kernelHttp.RequestOptions) =>
      new Promise<string>((resolve) => {
        const req = http.get(opts, (res) => {
          let b = '';
          res.on('data', (d) => {
            b += d;
          });
          res.on('end', () => resolve(`${res.statusCode} ${b}`));
        });
        req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`));
      });
    log.push(`socketPath: ${await get({ socketPath: path, path: '/' })}`);
    await close(srv);
    const tcp = http.createServer((_req, res) => res.end('tcp'));
    const port = await listen(tcp);
    const lookup = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
    log.push(
      `lookup: ${await get({ port, host: 'somewhere.test', lookup, agent: false } as kernelHttp.RequestOptions)}`,
    );
    const agent = new http.Agent();
    const sock = agent.createConnection(
      { port, host: '127.0.0.1' } as never,
      () => {},
    ) as unknown as import('node:net').Socket;
    await new Promise<void>((r) => sock.on('connect', () => r()));
    log.push(`createConnection(options) connected to ${sock.remotePort === port}`);
    sock.destroy();
    const direct = (
      agent.createConnection as unknown as (p: number, h: string, cb: () => void) => import('node:net').Socket
    )(port, '127.0.0.1', () => {
      log.push(`createConnection(port, host, cb) connected to ${direct.remotePort === port}`);
      direct.destroy();
    });
    await new Promise<void>((r) => direct.on('close', () => r()));
    await close(tcp);
  });
});

test('a server that answers at once and ends: a keep-alive socket closed by its peer is never reused (lookups answer on a later loop turn)', async () => {
  const responses = [
    'HTTP/1.0 200 ok\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.0 200 ok\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n',
    'HTTP/1.0 200 ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    'HTTP/1.1 200 ok\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 ok\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n',
    'HTTP/1.1 200 ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  ];
  // As Node's test-http-should-keep-alive: the server ends the keep-alive ones itself.
  const ends = [false, true, false, true, true, false];
  const run = async (net: typeof kernelNet, http: HttpLike) => {
    const log: string[] = [];
    let i = 0;
    const srv = net.createServer((s) => {
      // The request is read and dropped, so that the server sees each client's FIN.
      s.resume();
      s.write(responses[i] as string);
      if (ends[i]) s.end();
    });
    await new Promise<void>((r) => srv.listen(0, () => r()));
    const port = (srv.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
    // Each request goes out from the previous response's callback, as in Node's test.
    await new Promise<void>((done) => {
      const next = () => {
        const req = http.get({ port, agent }, (res) => {
          log.push(`${i} shouldKeepAlive=${req.shouldKeepAlive}`);
          if (++i < responses.length) next();
          else done();
          res.resume();
        });
        req.on('error', (e) => {
          log.push(`${i} error ${e.message}`);
          done();
        });
      };
      next();
    });
    agent.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
    return log;
  };
  const kernel = await run(kernelNet, kernelHttp);
  const ns = new Namespace();
  ns.hosts.text = readFileSync('/etc/hosts', 'utf8');
  const lonet = await run(ns.net as unknown as typeof kernelNet, ns.http as unknown as HttpLike);
  assert.deepEqual(lonet, kernel);
});
