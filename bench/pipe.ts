/**
 * The ceiling of the table: the same node:net / node:dgram / node:http / node:https /
 * node:http2 surface (TLS by Node's own OpenSSL over the pipe) over
 * in-memory pipes with no network stack at all. A write is handed to the peer Duplex on the
 * next turn of the event loop (setImmediate, where libuv would report the read); a datagram
 * likewise. There is no TCP, IP, device or accounting behind it, so no in-process stack that
 * keeps Node's stream and event-loop semantics can go faster: its column shows how far any
 * ratio against the kernel can go on this machine, in the same run.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';

const servers = new Map<number, PipeServer>();
const datagrams = new Map<number, PipeDgram>();
let nextPort = 30000;

/**
 * The next free port, wrapping within 30000–65535 as an ephemeral range does: a long run
 * (tcp-connect) opens more connections than there are ports, and http2.connect's URL
 * rejects a port above 65535.
 */
function allocPort(): number {
  for (;;) {
    const p = nextPort;
    nextPort = nextPort >= 65535 ? 30000 : nextPort + 1;
    if (!servers.has(p) && !datagrams.has(p)) return p;
  }
}

function deliver(to: PipeSocket, chunk: Buffer | null): void {
  if (to.destroyed) return;
  to.touch();
  to.push(chunk);
}

class PipeSocket extends Duplex {
  peer: PipeSocket | null = null;
  connecting = false;
  remoteAddress = '127.0.0.1';
  remoteFamily = 'IPv4';
  remotePort = 0;
  localAddress = '127.0.0.1';
  localPort = 0;
  #finSent = false;
  #inflight = 0;
  #idle: ReturnType<typeof setTimeout> | null = null;

  constructor(allowHalfOpen: boolean) {
    super({ allowHalfOpen, decodeStrings: false });
  }

  override _read(): void {}

  // A write completes at once while the peer has room (a socket buffer with space), else
  // when the peer has the bytes, so a writer that outruns its reader sees write() return
  // false and waits for 'drain'.
  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.#send([buf], cb);
  }

  override _writev(
    chunks: { chunk: Buffer | string; encoding: BufferEncoding }[],
    cb: (err?: Error | null) => void,
  ): void {
    this.#send(
      chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk)),
      cb,
    );
  }

  /** net.Socket's idle timeout, restarted on every read and write as its _unrefTimer does. */
  touch(): void {
    this.#idle?.refresh();
  }

  #send(bufs: Buffer[], cb: (err?: Error | null) => void): void {
    this.touch();
    if (this.connecting) {
      // net.Socket holds writes made before the connection is up.
      this.once('connect', () => this.#send(bufs, cb));
      return;
    }
    const p = this.peer;
    const room = p !== null && p.readableLength < p.readableHighWaterMark && this.#inflight === 0;
    this.#inflight++;
    setImmediate(() => {
      this.#inflight--;
      if (p !== null) for (const b of bufs) deliver(p, b);
      if (!room) cb();
    });
    if (room) cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#fin();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#fin();
    cb(err);
  }

  #fin(): void {
    if (this.#finSent || this.peer === null) return;
    this.#finSent = true;
    setImmediate(deliver, this.peer, null);
  }

  address(): { port: number; family: string; address: string } {
    return { port: this.localPort, family: 'IPv4', address: this.localAddress };
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    if (cb !== undefined) this.once('timeout', cb);
    if (ms > 0) this.#idle = setTimeout(() => this.emit('timeout'), ms).unref();
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

class PipeServer extends EventEmitter {
  port = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly allowHalfOpen: boolean) {
    super();
  }

  listen(port = 0, ...rest: unknown[]): this {
    const cb = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb !== undefined) this.once('listening', cb);
    this.port = port === 0 ? allocPort() : port;
    servers.set(this.port, this);
    // Like a listening handle, it keeps the process alive.
    this.#timer = setInterval(() => {}, 2 ** 30);
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  address(): { port: number; family: string; address: string } {
    return { port: this.port, family: 'IPv4', address: '127.0.0.1' };
  }

  close(cb?: () => void): this {
    servers.delete(this.port);
    if (this.#timer !== null) clearInterval(this.#timer);
    process.nextTick(() => {
      this.emit('close');
      cb?.();
    });
    return this;
  }
}

function connect(opts: { port: number } | number, ...rest: unknown[]): PipeSocket {
  const port = typeof opts === 'number' ? opts : Number(opts.port);
  const cb = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
  const client = new PipeSocket(false);
  if (cb !== undefined) client.once('connect', cb);
  client.connecting = true;
  client.remotePort = port;
  client.localPort = allocPort();
  setImmediate(() => {
    const server = servers.get(port);
    if (server === undefined) {
      const err = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
      client.destroy(err);
      return;
    }
    const accepted = new PipeSocket(server.allowHalfOpen);
    accepted.localPort = port;
    accepted.remotePort = client.localPort;
    accepted.peer = client;
    client.peer = accepted;
    server.emit('connection', accepted);
    setImmediate(() => {
      client.connecting = false;
      client.emit('connect');
      client.emit('ready');
    });
  });
  return client;
}

function createServer(...args: unknown[]): PipeServer {
  const opts = typeof args[0] === 'object' && args[0] !== null ? (args[0] as { allowHalfOpen?: boolean }) : {};
  const listener = args.find((a) => typeof a === 'function') as ((s: PipeSocket) => void) | undefined;
  const server = new PipeServer(opts.allowHalfOpen === true);
  if (listener !== undefined) server.on('connection', listener);
  return server;
}

/** node:dgram's surface for the UDP scenarios: bind, send, 'message', close. */
class PipeDgram extends EventEmitter {
  port = 0;

  bind(port = 0, ...rest: unknown[]): this {
    const cb = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb !== undefined) this.once('listening', cb);
    this.port = port === 0 ? allocPort() : port;
    datagrams.set(this.port, this);
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  address(): { port: number; family: string; address: string } {
    return { port: this.port, family: 'IPv4', address: '127.0.0.1' };
  }

  send(msg: Uint8Array, port: number, _host: string, cb?: (err: Error | null, n: number) => void): void {
    if (this.port === 0) this.bind(0);
    const to = datagrams.get(port);
    // The kernel copies a datagram on send; so does the pipe.
    const data = Buffer.from(msg);
    const from = this.port;
    if (to !== undefined)
      setImmediate(() =>
        to.emit('message', data, { address: '127.0.0.1', family: 'IPv4', port: from, size: data.length }),
      );
    if (cb !== undefined) process.nextTick(cb, null, data.length);
  }

  close(): void {
    datagrams.delete(this.port);
  }
}

class PipeAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs): Duplex {
    return connect({ port: Number(options.port) });
  }
}

/**
 * A node server (http, https, or http2's secure server) fed by a pipe listener: each pipe
 * connection is handed to it with emit('connection'), where node:tls wraps the Duplex
 * (JSStreamSocket) as it would a kernel socket.
 */
function onPipe<S extends net.Server>(server: S): S {
  const close = server.close.bind(server);
  const inner = createServer({ allowHalfOpen: true }, (s: PipeSocket) => server.emit('connection', s));
  inner.on('listening', () => server.emit('listening'));
  server.listen = ((...a: unknown[]) => {
    inner.listen(...(a as [number]));
    return server;
  }) as typeof server.listen;
  server.address = () => inner.address();
  server.close = ((cb?: () => void) => {
    inner.close();
    close();
    process.nextTick(() => cb?.());
    return server;
  }) as typeof server.close;
  return server;
}

function createHttpServer(...args: unknown[]): http.Server {
  return onPipe(http.createServer(...(args as Parameters<typeof http.createServer>)));
}

/** https.Agent whose connections are node:tls over a pipe, not over a kernel socket. */
class PipeHttpsAgent extends https.Agent {
  override createConnection(options: tls.ConnectionOptions): Duplex {
    return tls.connect({ ...options, socket: connect({ port: Number(options.port) }) as unknown as net.Socket });
  }
}

function createHttpsServer(...args: unknown[]): https.Server {
  return onPipe(https.createServer(...(args as Parameters<typeof https.createServer>)));
}

function createSecureHttp2Server(...args: unknown[]): http2.Http2SecureServer {
  return onPipe(
    (http2.createSecureServer as (...a: unknown[]) => http2.Http2SecureServer)(...args) as unknown as net.Server,
  ) as unknown as http2.Http2SecureServer;
}

/** http2.connect over node:tls over a pipe (ALPN h2, as http2.connect asks for itself). */
function connectHttp2(authority: string | URL, options?: http2.SecureClientSessionOptions): http2.ClientHttp2Session {
  return http2.connect(authority, {
    ...options,
    createConnection: (url: URL) =>
      tls.connect({
        ...(options as tls.ConnectionOptions),
        socket: connect({ port: Number(url.port) }) as unknown as net.Socket,
        ALPNProtocols: ['h2'],
      }),
  });
}

export const pipe = {
  net: { createServer, connect },
  dgram: { createSocket: () => new PipeDgram() },
  http: { createServer: createHttpServer, request: http.request, Agent: PipeAgent },
  https: { createServer: createHttpsServer, request: https.request, Agent: PipeHttpsAgent },
  http2: { createSecureServer: createSecureHttp2Server, connect: connectHttp2 },
};
