/**
 * The same node:https programs on the kernel's lo and on ns.https: statuses, bodies, TLS
 * facts of the sockets, keep-alive and session reuse, and certificate errors must match.
 */
import assert from 'node:assert/strict';
import * as kernelHttp from 'node:http';
import * as kernelHttps from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { Namespace } from '../../src/api/namespace.js';
import { makeCerts } from '../helpers/certs.js';

interface Mods {
  http: typeof kernelHttp;
  https: typeof kernelHttps;
}
interface Logs {
  client: string[];
  server: string[];
}

const certs = makeCerts();
after(() => certs.cleanup());

async function same(name: string, scenario: (m: Mods, log: Logs) => Promise<void>): Promise<void> {
  const run = async (m: Mods) => {
    const log: Logs = { client: [], server: [] };
    await scenario(m, log);
    const norm = (l: string[]) =>
      l.map((x) => x.replace(/\b\d{4,5}\b/g, 'PORT').replace(/date: [^,]*, [^,]*/i, 'date: D'));
    return { client: norm(log.client), server: norm(log.server) };
  };
  const kernel = await run({ http: kernelHttp, https: kernelHttps });
  if (process.env.SHOW_LOGS) console.log(name, kernel);
  const ns = new Namespace();
  const lonet = await run({
    http: ns.http as unknown as typeof kernelHttp,
    https: ns.https as unknown as typeof kernelHttps,
  });
  assert.deepEqual(lonet, kernel, `${name}: ns.https must behave as node:https`);
}

const listen = (srv: kernelHttps.Server) =>
  new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
const close = (srv: kernelHttps.Server) => new Promise<void>((r) => srv.close(() => r()));
const body = (res: kernelHttp.IncomingMessage) =>
  new Promise<string>((r) => {
    let b = '';
    res.on('data', (d) => {
      b += d;
    });
    res.on('end', () => r(b));
  });

test('request and response over TLS: status, headers, bodies, the sockets’ TLS facts', () =>
  same('basic', async ({ https }, log) => {
    const srv = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      const s = req.socket as TLSSocket;
      log.server.push(
        `${req.method} ${req.url} sni=${s.servername} ${s.encrypted} ${s.remoteAddress} ${req.headers.host}`,
      );
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`secure ${req.url}`);
      });
    });
    const port = await listen(srv);
    for (const path of ['/a', '/b']) {
      await new Promise<void>((resolve) => {
        const req = https.request({ port, host: 'localhost', path, method: 'POST', ca: certs.ca }, async (res) => {
          const s = res.socket as TLSSocket;
          log.client.push(
            `${res.statusCode} ${res.headers['content-type']} ${res.headers.connection} ${s.authorized} ${s.getProtocol()} ${await body(res)}`,
          );
          resolve();
        });
        req.on('socket', () => log.client.push(`socket reused=${req.reusedSocket}`));
        req.end('payload');
      });
    }
    await close(srv);
    log.server.push('closed');
  }));

test('keep-alive reuse and TLS session reuse through an Agent', () =>
  same('agent', async ({ https }, log) => {
    const srv = https.createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('ok'));
    srv.on('secureConnection', () => log.server.push('secureConnection'));
    const port = await listen(srv);
    const keep = new https.Agent({ keepAlive: true, maxSockets: 1, ca: certs.ca });
    const once = (agent: kernelHttps.Agent, i: number) =>
      new Promise<void>((r) => {
        const req = https.get({ port, host: 'localhost', agent }, async (res) => {
          const s = res.socket as TLSSocket;
          log.client.push(`${i} reused=${req.reusedSocket} session-reused=${s.isSessionReused()} ${await body(res)}`);
          r();
        });
      });
    for (let i = 0; i < 3; i++) await once(keep, i);
    log.client.push(`free ${Object.values(keep.freeSockets).flat().length}`);
    keep.destroy();
    const fresh = new https.Agent({ keepAlive: false, ca: certs.ca });
    for (let i = 3; i < 5; i++) await once(fresh, i);
    fresh.destroy();
    srv.closeAllConnections();
    await close(srv);
  }));

test('certificate errors, rejectUnauthorized:false, and plain http at an https port', () =>
  same('errors', async ({ http, https }, log) => {
    const srv = https.createServer({ key: certs.selfKey, cert: certs.selfCert }, (_req, res) => res.end('self'));
    srv.on('tlsClientError', (e: NodeJS.ErrnoException) => log.server.push(`tlsClientError ${e.code}`));
    const port = await listen(srv);
    await new Promise<void>((r) => {
      https.get({ port, host: 'localhost', agent: false }).on('error', (e: NodeJS.ErrnoException) => {
        log.client.push(`error ${e.code} ${e.message}`);
        r();
      });
    });
    await new Promise<void>((r) => {
      https.get(`https://localhost:${port}/`, { rejectUnauthorized: false, agent: false }, async (res) => {
        log.client.push(`insecure ${res.statusCode} ${await body(res)}`);
        r();
      });
    });
    await new Promise<void>((r) => {
      const req = http.get({ port, host: '127.0.0.1', agent: false });
      req.on('error', (e: NodeJS.ErrnoException) => {
        log.client.push(`plain error ${e.code} ${e.message}`);
        r();
      });
      req.on('response', (res) => {
        log.client.push(`plain response ${res.statusCode}`);
        res.resume();
        res.on('end', () => r());
      });
    });
    await close(srv);
  }));

test('a server emits close once: after close() and after its last connection, not before', () =>
  same('close', async ({ https }, log) => {
    const srv = https.createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('bye'));
    srv.on('close', () => log.server.push(`close listening=${srv.listening}`));
    const port = await listen(srv);
    const agent = new https.Agent({ keepAlive: true, ca: certs.ca });
    const get = (headers: Record<string, string>) =>
      new Promise<void>((r) =>
        https.get({ port, host: 'localhost', agent, headers }, async (res) => {
          log.client.push(`${res.statusCode} ${await body(res)} ${res.headers.connection}`);
          r();
        }),
      );
    const firstGone = new Promise<void>((r) => srv.once('connection', (s) => s.once('close', () => r())));
    await get({ connection: 'close' });
    await firstGone;
    await new Promise<void>((r) => srv.getConnections((_e, n) => r(void log.server.push(`connections ${n}`))));
    log.server.push(`after a closed connection: listening=${srv.listening} ${JSON.stringify(srv.address())}`);
    await get({});
    const closed = new Promise<void>((r) => srv.once('close', () => r()));
    srv.close();
    log.server.push(`close() called: listening=${srv.listening} address=${srv.address()}`);
    await new Promise<void>((r) => srv.getConnections((_e, n) => r(void log.server.push(`connections ${n}`))));
    agent.destroy();
    await closed;
    log.server.push('closed');
  }));

test('https.Server and https.Agent are callable without new, as Node’s function-style classes are', () =>
  same('callable', async ({ https }, log) => {
    const makeServer = https.Server as unknown as (o: object, h: kernelHttp.RequestListener) => kernelHttps.Server;
    const makeAgent = https.Agent as unknown as (o: object) => kernelHttps.Agent;
    const srv = makeServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('ok'));
    const agent = makeAgent({ ca: certs.ca });
    log.server.push(`server instanceof ${srv instanceof https.Server}`);
    log.client.push(`agent instanceof ${agent instanceof https.Agent}`);
    const port = await listen(srv);
    const res = await new Promise<kernelHttp.IncomingMessage>((r) => https.get({ host: 'localhost', port, agent }, r));
    log.client.push(`${res.statusCode} ${await body(res)}`);
    agent.destroy();
    await close(srv);
  }));
