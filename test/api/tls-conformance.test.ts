/**
 * The same node:tls programs on the kernel's lo (the host's node:net and node:tls) and on
 * ns.net / ns.tls: the events, their order on each side, the errors (Node's own codes and
 * messages) and the bytes must be the same. Certificates come from the openssl CLI.
 */
import assert from 'node:assert/strict';
import * as kernelNet from 'node:net';
import { after, test } from 'node:test';
import * as kernelTls from 'node:tls';
import { Namespace } from '../../src/api/namespace.js';
import { makeCerts } from '../helpers/certs.js';

interface Mods {
  net: typeof kernelNet;
  tls: typeof kernelTls;
}
/** Client and server each log in their own order: only the order within a side is Node's to promise. */
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
    const norm = (l: string[]) => l.map((x) => x.replace(/\b\d{4,5}\b/g, 'PORT'));
    return { client: norm(log.client), server: norm(log.server) };
  };
  const kernel = await run({ net: kernelNet, tls: kernelTls });
  if (process.env.SHOW_LOGS) console.log(name, kernel);
  const ns = new Namespace();
  const lonet = await run({ net: ns.net as unknown as typeof kernelNet, tls: ns.tls as unknown as typeof kernelTls });
  assert.deepEqual(lonet, kernel, `${name}: ns.tls must behave as node:tls`);
}

const listen = (srv: kernelNet.Server) =>
  new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as kernelNet.AddressInfo).port)));
const close = (srv: kernelNet.Server) => new Promise<void>((r) => srv.close(() => r()));
const closed = (e: NodeJS.EventEmitter) => new Promise<void>((r) => e.once('close', () => r()));
const errText = (e: NodeJS.ErrnoException) => `${e.code} ${e.message}`;

test('a CA-signed server: secureConnect, SNI, authorized, remote addresses, echo, end and close', () =>
  same('basic', async ({ tls }, log) => {
    // The server's TLS socket and the server close on their own schedules (the server
    // counts the raw socket; libuv closes the TLS handle a loop turn later), so Node
    // promises no order between them: the scenario waits for both.
    let serverSocketClosed: Promise<void> = Promise.resolve();
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => {
      serverSocketClosed = closed(s);
      log.server.push(`secureConnection sni=${s.servername} ${s.remoteAddress} ${s.encrypted} ${s.getProtocol()}`);
      s.on('data', (d) => {
        log.server.push(`data ${d}`);
        s.end(`echo ${d}`);
      });
      s.on('end', () => log.server.push('end'));
      s.on('close', () => log.server.push('close'));
    });
    srv.on('connection', (s) => log.server.push(`connection ${s.remoteAddress}`));
    const port = await listen(srv);
    const c = tls.connect(port, 'localhost', { ca: certs.ca, servername: 'localhost' }, () => {
      log.client.push(
        `secureConnect authorized=${c.authorized} ${c.remoteAddress}:${c.remotePort === port} ${c.localAddress} ${c.getPeerCertificate().subject.CN} ${c.getCipher().version}`,
      );
      c.write('hello');
    });
    c.on('data', (d) => log.client.push(`data ${d}`));
    c.on('end', () => log.client.push('end'));
    await closed(c);
    log.client.push(`closed ${c.bytesWritten > 0} destroyed=${c.destroyed}`);
    await close(srv);
    await serverSocketClosed;
    log.server.push('server closed');
  }));

test('a self-signed server: DEPTH_ZERO_SELF_SIGNED_CERT, and rejectUnauthorized:false lets it through', () =>
  same('self-signed', async ({ tls }, log) => {
    const srv = tls.createServer({ key: certs.selfKey, cert: certs.selfCert }, (s) => {
      log.server.push('secureConnection');
      s.end('hi');
    });
    srv.on('tlsClientError', (e: NodeJS.ErrnoException) => log.server.push(`tlsClientError ${errText(e)}`));
    const port = await listen(srv);
    const c = tls.connect({ port, host: '127.0.0.1' });
    c.on('secureConnect', () => log.client.push('secureConnect?'));
    c.on('error', (e: NodeJS.ErrnoException) => log.client.push(`error ${errText(e)}`));
    await closed(c);
    const c2 = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () =>
      log.client.push(`secureConnect authorized=${c2.authorized} ${c2.authorizationError}`),
    );
    c2.on('data', (d) => log.client.push(`data ${d}`));
    await closed(c2);
    await close(srv);
  }));

test('a wrong hostname: ERR_TLS_CERT_ALTNAME_INVALID with Node’s message; checkServerIdentity decides', () =>
  same('hostname', async ({ tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => s.end());
    const port = await listen(srv);
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'wrong.example', ca: certs.ca });
    c.on('error', (e: NodeJS.ErrnoException) =>
      log.client.push(`error ${errText(e)} ${(e as { host?: string }).host}`),
    );
    await closed(c);
    const c2 = tls.connect({
      port,
      host: '127.0.0.1',
      servername: 'wrong.example',
      ca: certs.ca,
      checkServerIdentity: (host, cert) => {
        log.client.push(`checkServerIdentity ${host} ${cert.subject.CN} ${tls.checkServerIdentity('localhost', cert)}`);
        return undefined;
      },
    });
    c2.on('secureConnect', () => log.client.push(`secureConnect ${c2.authorized}`));
    c2.resume();
    await closed(c2);
    await close(srv);
  }));

test('ALPN: h2 or http/1.1 as the server prefers, none, and no overlap', () =>
  same('alpn', async ({ tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
      log.server.push(`alpn ${s.alpnProtocol}`);
      s.end();
    });
    srv.on('tlsClientError', (e: NodeJS.ErrnoException) => log.server.push(`tlsClientError ${errText(e)}`));
    const port = await listen(srv);
    for (const ALPNProtocols of [['http/1.1', 'h2'], ['http/1.1'], undefined, ['spdy/3']]) {
      const c = tls.connect({ port, host: 'localhost', ca: certs.ca, ...(ALPNProtocols ? { ALPNProtocols } : {}) });
      c.on('secureConnect', () => log.client.push(`${ALPNProtocols} -> ${c.alpnProtocol}`));
      c.on('error', (e: NodeJS.ErrnoException) => log.client.push(`${ALPNProtocols} error ${errText(e)}`));
      c.resume();
      await closed(c);
    }
    await close(srv);
  }));

test('session resumption: a session from one connection resumes the next', () =>
  same('session', async ({ tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => s.end('x'));
    const port = await listen(srv);
    let session: Buffer | undefined;
    const c = tls.connect({ port, host: 'localhost', ca: certs.ca });
    c.on('session', (s) => {
      session = s;
    });
    c.on('secureConnect', () => log.client.push(`first reused=${c.isSessionReused()}`));
    c.resume();
    await closed(c);
    log.client.push(`got session ${session !== undefined}`);
    const c2 = tls.connect({ port, host: 'localhost', ca: certs.ca, ...(session ? { session } : {}) });
    c2.on('secureConnect', () => log.client.push(`second reused=${c2.isSessionReused()} ${c2.authorized}`));
    c2.resume();
    await closed(c2);
    await close(srv);
  }));

test('mTLS: a client certificate the server asks for, checks, and a client without one', () =>
  same('mtls', async ({ tls }, log) => {
    const srv = tls.createServer(
      { key: certs.key, cert: certs.cert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
      (s) => {
        log.server.push(`secureConnection authorized=${s.authorized} peer=${s.getPeerCertificate().subject?.CN}`);
        s.end('welcome');
      },
    );
    srv.on('tlsClientError', (e: NodeJS.ErrnoException) => log.server.push(`tlsClientError ${errText(e)}`));
    const port = await listen(srv);
    const c = tls.connect({ port, host: 'localhost', ca: certs.ca, key: certs.clientKey, cert: certs.clientCert });
    c.on('data', (d) => log.client.push(`data ${d}`));
    await closed(c);
    const c2 = tls.connect({ port, host: 'localhost', ca: certs.ca });
    c2.on('error', (e: NodeJS.ErrnoException) => log.client.push(`no cert: error ${errText(e)}`));
    c2.on('data', (d) => log.client.push(`no cert: data ${d}`));
    c2.resume();
    await closed(c2);
    await close(srv);
  }));

test('a plain client at a TLS port, and a TLS client at a plain port, fail as on Node', () =>
  same('plain', async ({ net, tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, () => log.server.push('secureConnection?'));
    srv.on('tlsClientError', (e: NodeJS.ErrnoException) => log.server.push(`tlsClientError ${errText(e)}`));
    const port = await listen(srv);
    const p = net.connect(port, '127.0.0.1', () => p.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const got: Buffer[] = [];
    p.on('data', (d) => got.push(d));
    p.on('end', () => log.client.push('plain end'));
    await closed(p);
    // A TLS alert record (type 21) is what a plain client reads back, if anything.
    log.client.push(`plain got ${Buffer.concat(got)[0] ?? 'nothing'}`);
    await close(srv);

    const plain = net.createServer((s) => {
      s.once('data', (d) => log.server.push(`plain server got a record of type ${d[0]}`));
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const port2 = await listen(plain);
    const c = tls.connect({ port: port2, host: 'localhost', ca: certs.ca });
    c.on('error', (e: NodeJS.ErrnoException) => log.client.push(`tls error ${errText(e)}`));
    await closed(c);
    await close(plain);
  }));

test('refused, and connect(options) with a socket the caller connected', () =>
  same('socket', async ({ net, tls }, log) => {
    const r = tls.connect({ port: 1, host: '127.0.0.1' });
    r.on('error', (e: NodeJS.ErrnoException) => log.client.push(`refused ${errText(e)}`));
    await closed(r);
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => s.end('over your socket'));
    const port = await listen(srv);
    const raw = net.connect(port, '127.0.0.1');
    const c = tls.connect({ socket: raw, ca: certs.ca, servername: 'localhost' }, () =>
      log.client.push(`secureConnect ${c.authorized} ${c.encrypted}`),
    );
    c.on('data', (d) => log.client.push(`data ${d}`));
    await closed(c);
    await close(srv);
  }));

test('a bad cipher list throws from connect() before anything is dialed: the server hears nothing, even once closed', () =>
  same('bad ciphers', async ({ net, tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, () => log.server.push('secureConnection'));
    srv.on('connection', () => log.server.push('connection'));
    const port = await listen(srv);
    const attempt = () => {
      try {
        tls.connect({ port, host: 'localhost', ca: certs.ca, ciphers: 'no-such-cipher' });
        log.client.push('connected?');
      } catch (e) {
        log.client.push(`throws ${(e as Error).message}`);
      }
    };
    attempt();
    // A good connection afterwards: the server's first and only one.
    const c = tls.connect({ port, host: 'localhost', ca: certs.ca }, () => {
      log.client.push('secureConnect');
      c.end();
    });
    await closed(c);
    await close(srv);
    // Once the server is gone, the same mistake still throws and nothing is refused.
    attempt();
    // A plain connect made after it is refused: one from the attempt would have come first.
    await new Promise((r) => net.connect(port, 'localhost').on('error', r));
    log.server.push('server closed');
  }));

test('tls.Server is callable without new, as Node’s function-style class is', () =>
  same('callable Server', async ({ tls }, log) => {
    const make = tls.Server as unknown as (o: object, l: (s: kernelTls.TLSSocket) => void) => kernelTls.Server;
    const srv = make({ key: certs.key, cert: certs.cert }, (s) => s.end('hi'));
    log.server.push(`instanceof ${srv instanceof tls.Server}`);
    const port = await listen(srv);
    const c = tls.connect({ port, host: 'localhost', ca: certs.ca });
    c.on('data', (d) => log.client.push(`data ${d}`));
    await closed(c);
    await close(srv);
  }));

test('tls.DEFAULT_MAX_VERSION set through the module limits the next connections, as on node:tls', () =>
  same('default max version', async ({ tls }, log) => {
    // The module object (a CommonJS program's require('tls')): the ESM namespace is read-only.
    const mod = ((tls as { default?: unknown }).default ?? tls) as { DEFAULT_MAX_VERSION: string };
    const saved = mod.DEFAULT_MAX_VERSION;
    mod.DEFAULT_MAX_VERSION = 'TLSv1.2';
    try {
      log.client.push(`set ${mod.DEFAULT_MAX_VERSION}`);
      const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => {
        log.server.push(`protocol ${s.getProtocol()}`);
        s.end();
      });
      const port = await listen(srv);
      const c = tls.connect(port, '127.0.0.1', { ca: certs.ca, servername: 'localhost' }, () =>
        log.client.push(`secureConnect ${c.getProtocol()}`),
      );
      c.resume();
      await closed(c);
      await close(srv);
    } finally {
      mod.DEFAULT_MAX_VERSION = saved;
    }
    log.client.push(`restored ${mod.DEFAULT_MAX_VERSION}`);
  }));

test('the peer closes first: the TLS socket still writes its close_notify and ends without an error', () =>
  same('peer closes first', async ({ tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => {
      s.on('error', (e) => log.server.push(`error ${errText(e)}`));
      s.on('close', () => log.server.push('close'));
      s.destroy();
    });
    const port = await listen(srv);
    const c = tls.connect(port, '127.0.0.1', { ca: certs.ca, servername: 'localhost' }, () =>
      log.client.push('secureConnect'),
    );
    c.on('data', (d) => log.client.push(`data ${d}`));
    c.on('end', () => log.client.push('end'));
    c.on('error', (e) => log.client.push(`error ${errText(e)}`));
    await closed(c);
    log.client.push('close');
    await close(srv);
  }));

test('tls.connect({ socket }) before the socket connects: the handshake waits for its connect', () =>
  same('socket connects later', async ({ net, tls }, log) => {
    const srv = tls.createServer({ key: certs.key, cert: certs.cert }, (s) => {
      s.on('data', (d) => log.server.push(`data ${d}`));
      s.on('end', () => log.server.push('end'));
      s.end('hello');
    });
    const port = await listen(srv);
    const raw = new net.Socket({ allowHalfOpen: true });
    const c = tls.connect({ socket: raw, ca: certs.ca, servername: 'localhost' });
    raw.connect(port, '127.0.0.1');
    c.on('secureConnect', () => log.client.push(`secureConnect ${c.authorized}`));
    c.on('data', (d) => log.client.push(`data ${d}`));
    c.on('end', () => log.client.push('end'));
    c.on('error', (e) => log.client.push(`error ${errText(e)}`));
    c.end('hi');
    await closed(c);
    log.client.push('close');
    await close(srv);
  }));
