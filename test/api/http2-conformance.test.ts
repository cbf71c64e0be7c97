/**
 * The same node:http2 programs on the kernel's lo and on ns.http2: sessions, streams,
 * settings, GOAWAY, RST_STREAM, refused pushes, ALPN with allowHTTP1, and the compat API,
 * with the same events, codes and bodies.
 */
import assert from 'node:assert/strict';
import * as kernelHttp2 from 'node:http2';
import * as kernelHttps from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { Namespace } from '../../src/api/namespace.js';
import { makeCerts } from '../helpers/certs.js';

interface Mods {
  http2: typeof kernelHttp2;
  https: typeof kernelHttps;
}
interface Logs {
  client: string[];
  server: string[];
}

const certs = makeCerts();
after(() => certs.cleanup());
const { HTTP2_HEADER_PATH: PATH, HTTP2_HEADER_STATUS: STATUS } = kernelHttp2.constants;

async function same(name: string, scenario: (m: Mods, log: Logs) => Promise<void>): Promise<void> {
  const run = async (m: Mods) => {
    const log: Logs = { client: [], server: [] };
    await scenario(m, log);
    const norm = (l: string[]) => l.map((x) => x.replace(/\b\d{4,5}\b/g, 'PORT').replace(/"date":"[^"]*"/, '"date":D'));
    return { client: norm(log.client), server: norm(log.server) };
  };
  const kernel = await run({ http2: kernelHttp2, https: kernelHttps });
  if (process.env.SHOW_LOGS) console.log(name, kernel);
  const ns = new Namespace();
  const lonet = await run({
    http2: ns.http2 as unknown as typeof kernelHttp2,
    https: ns.https as unknown as typeof kernelHttps,
  });
  assert.deepEqual(lonet, kernel, `${name}: ns.http2 must behave as node:http2`);
}

const listen = (srv: kernelHttp2.Http2Server | kernelHttp2.Http2SecureServer) =>
  new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
const close = (srv: kernelHttp2.Http2Server | kernelHttp2.Http2SecureServer) =>
  new Promise<void>((r) => srv.close(() => r()));
const closed = (e: NodeJS.EventEmitter) => new Promise<void>((r) => e.once('close', () => r()));
const body = (s: NodeJS.ReadableStream) =>
  new Promise<string>((r) => {
    let b = '';
    s.on('data', (d) => {
      b += d;
    });
    s.on('end', () => r(b));
  });

test('h2c: 100 concurrent streams on one session, settings exchanged, a clean close', () =>
  same('h2c', async ({ http2 }, log) => {
    const srv = http2.createServer();
    let streams = 0;
    srv.on('session', (s) => {
      log.server.push(`session ${s.socket.remoteAddress}`);
      s.on('remoteSettings', (st) => log.server.push(`server got settings ${JSON.stringify(st)}`));
    });
    srv.on('stream', (stream, headers) => {
      streams++;
      stream.respond({ [STATUS]: 200, 'content-type': 'text/plain' });
      stream.end(`you asked for ${headers[PATH]}`);
    });
    const port = await listen(srv);
    const client = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
    client.on('connect', () => log.client.push(`connect ${client.alpnProtocol} ${client.encrypted}`));
    client.on('remoteSettings', (st) => log.client.push(`client got settings ${JSON.stringify(st)}`));
    const bodies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const req = client.request({ [PATH]: `/${i}` });
        const status = new Promise<unknown>((r) => req.on('response', (h) => r(h[STATUS])));
        return Promise.all([status, body(req)]).then(([st, b]) => `${st} ${b}`);
      }),
    );
    log.client.push(
      `${bodies.length} responses, all right: ${bodies.every((b, i) => b === `200 you asked for /${i}`)}`,
    );
    log.server.push(`streams ${streams}`);
    client.close();
    await closed(client);
    log.client.push(`closed destroyed=${client.destroyed}`);
    await close(srv);
    log.server.push('server closed');
  }));

test('a refused push, RST_STREAM both ways, and GOAWAY', () =>
  same('rst', async ({ http2 }, log) => {
    const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } =
      http2.constants;
    const srv = http2.createServer();
    const sessions: kernelHttp2.ServerHttp2Session[] = [];
    srv.on('session', (s) => sessions.push(s));
    srv.on('stream', (stream, headers) => {
      const path = headers[PATH];
      stream.on('close', () => log.server.push(`${path} closed rstCode=${stream.rstCode}`));
      stream.on('error', (e: NodeJS.ErrnoException) => log.server.push(`${path} error ${e.code}`));
      if (path === '/push') {
        try {
          stream.pushStream({ [PATH]: '/pushed' }, () => log.server.push('pushed?'));
        } catch (e) {
          log.server.push(`pushStream ${(e as NodeJS.ErrnoException).code} ${(e as Error).message}`);
        }
        stream.respond({ [STATUS]: 200 });
        stream.end('no push for you');
      } else if (path === '/push-refused') {
        stream.pushStream({ [PATH]: '/pushed' }, (err, pushed) => {
          log.server.push(`pushStream ${err}`);
          pushed.on('error', (e: NodeJS.ErrnoException) => log.server.push(`pushed stream error ${e.code}`));
          // The main response waits for the client's answer to the push: RST_STREAM.
          pushed.on('close', () => {
            log.server.push(`pushed stream closed rstCode=${pushed.rstCode}`);
            stream.respond({ [STATUS]: 200 });
            stream.end('push refused');
          });
          pushed.respond({ [STATUS]: 200 });
          pushed.write('pushed body');
        });
      } else if (path === '/refuse') stream.close(NGHTTP2_INTERNAL_ERROR);
      else if (path === '/cancel')
        stream.respond({ [STATUS]: 200 }); // and never ends
      else if (path === '/goaway') {
        stream.respond({ [STATUS]: 200 });
        stream.end('bye');
        stream.session?.goaway(NGHTTP2_ENHANCE_YOUR_CALM, 1, Buffer.from('calm down'));
      }
    });
    const port = await listen(srv);
    const client = http2.connect(`http://localhost:${port}`, { settings: { enablePush: false } });
    const push = client.request({ [PATH]: '/push' });
    log.client.push(`push: ${await body(push)}`);
    const pusher = http2.connect(`http://localhost:${port}`);
    pusher.on('stream', (pushed, headers) => {
      log.client.push(`push promise ${headers[PATH]}`);
      pushed.on('error', (e: NodeJS.ErrnoException) => log.client.push(`pushed stream error ${e.code}`));
      pushed.resume();
      pushed.close(NGHTTP2_REFUSED_STREAM);
    });
    log.client.push(`push-refused: ${await body(pusher.request({ [PATH]: '/push-refused' }))}`);
    pusher.close();
    await closed(pusher);
    const refused = client.request({ [PATH]: '/refuse' });
    refused.on('error', (e: NodeJS.ErrnoException) => log.client.push(`refuse: ${e.code} ${e.message}`));
    refused.resume();
    await closed(refused);
    log.client.push(`refuse rstCode=${refused.rstCode}`);
    log.client.push('cancel');
    const cancel = client.request({ [PATH]: '/cancel' });
    cancel.resume();
    await new Promise<void>((r) => cancel.on('response', () => r()));
    log.client.push('cancel response');
    cancel.close(NGHTTP2_CANCEL);
    await closed(cancel);
    log.client.push(`cancel rstCode=${cancel.rstCode}`);
    client.on('goaway', (code, last, data) => log.client.push(`goaway ${code} ${last} ${data}`));
    client.on('error', (e: NodeJS.ErrnoException) => log.client.push(`session error ${e.code} ${e.message}`));
    const g = client.request({ [PATH]: '/goaway' });
    g.on('error', (e: NodeJS.ErrnoException) => log.client.push(`goaway stream error ${e.code}`));
    g.on('data', (d) => log.client.push(`goaway data ${d}`));
    await closed(client);
    log.client.push('session closed');
    // The server's side of a session it sent GOAWAY on stays until it is destroyed.
    log.server.push(`sessions ${sessions.length}, open ${sessions.filter((x) => !x.destroyed).length}`);
    for (const x of sessions) x.destroy();
    await close(srv);
  }));

test('h2 over TLS with allowHTTP1: ALPN h2 for http2 clients, http/1.1 for https ones, one compat handler', () =>
  same('secure', async ({ http2, https }, log) => {
    const srv = http2.createSecureServer({ key: certs.key, cert: certs.cert, allowHTTP1: true }, (req, res) => {
      const s = req.socket as TLSSocket;
      log.server.push(`${req.httpVersion} ${req.method} ${req.url} alpn=${s.alpnProtocol} sni=${s.servername}`);
      res.setHeader('content-type', 'text/plain');
      res.writeHead(201);
      res.end(`hello ${req.httpVersion}`);
    });
    const port = await listen(srv);
    const client = http2.connect(`https://localhost:${port}`, { ca: certs.ca });
    client.on('connect', () => log.client.push(`h2 connect alpn=${client.alpnProtocol} encrypted=${client.encrypted}`));
    const req = client.request({ [PATH]: '/two' });
    req.on('response', (h) => log.client.push(`h2 status ${h[STATUS]} ${h['content-type']}`));
    log.client.push(`h2 body ${await body(req)}`);
    client.close();
    await closed(client);
    await new Promise<void>((r) =>
      https.get({ port, host: 'localhost', path: '/one', ca: certs.ca, agent: false }, async (res) => {
        log.client.push(`h1 ${res.statusCode} ${(res.socket as TLSSocket).alpnProtocol} ${await body(res)}`);
        r();
      }),
    );
    const bad = http2.connect(`https://127.0.0.1:${port}`);
    bad.on('error', (e: NodeJS.ErrnoException) => log.client.push(`untrusted: ${e.code}`));
    await closed(bad);
    await close(srv);
  }));

test('h2c: a session waits for its socket to connect; one closed before that never dials, even to a closed server', () =>
  same('h2c before connect', async ({ http2 }, log) => {
    const srv = http2.createServer();
    srv.on('session', (s) => log.server.push(`session ${s.socket.remoteAddress}`));
    srv.on('stream', (stream) => {
      stream.respond({ [STATUS]: 204 });
      stream.end();
    });
    const port = await listen(srv);
    const watch = (c: kernelHttp2.ClientHttp2Session, name: string) => {
      c.on('connect', () => log.client.push(`${name} connect`));
      c.on('error', (e: NodeJS.ErrnoException) => log.client.push(`${name} error ${e.code}`));
      c.on('close', () => log.client.push(`${name} close`));
    };
    // A session closed at once: its socket is destroyed before it dials.
    const early = http2.connect(`http://localhost:${port}`);
    watch(early, 'early');
    log.client.push(`early connecting=${early.connecting}`);
    early.close();
    await closed(early);
    // A normal one: the server hears one session in all.
    const ok = http2.connect(`http://localhost:${port}`);
    watch(ok, 'ok');
    const req = ok.request({ [PATH]: '/' });
    const status = await new Promise<unknown>((r) => req.on('response', (h) => r(h[STATUS])));
    log.client.push(`ok status ${status}`);
    req.resume();
    ok.close();
    await closed(ok);
    // The server closes, then a client asks and closes at once: no ECONNREFUSED.
    await close(srv);
    const late = http2.connect(`http://localhost:${port}`);
    watch(late, 'late');
    late.close();
    await closed(late);
    log.server.push('server closed');
  }));
