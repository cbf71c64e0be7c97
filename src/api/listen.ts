/**
 * A Node server class (http.Server, tls.Server, https.Server, the http2 servers: all
 * net.Server underneath) made to listen on lonet: its listen() opens a lonet TCP
 * listener and each accepted socket is handed to it as a 'connection', so the server's
 * own machinery (HTTP parsers, TLS, nghttp2 sessions) runs unchanged. 'close' comes once,
 * after close() and the last connection, as net.Server emits it: without this, every
 * connection that ends would make net.Server's _emitCloseIfDrained (which sees no
 * _handle) announce 'close' on a server that is still listening.
 */
import type { EventEmitter } from 'node:events';
import type * as nodeNet from 'node:net';
import type { NetModule, Server, Socket } from './net.js';

interface NetServerFields {
  _connections: number;
  _emitCloseIfDrained(): void;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export function listenOnLonet<S extends nodeNet.Server>(server: S, netm: NetModule): S {
  const srv: nodeNet.Server = server;
  const s = server as unknown as NetServerFields;
  // The server's own net.Server options (http.Server: allowHalfOpen, noDelay on in Node 20).
  const inner: Server = netm.createServer({
    allowHalfOpen: s.allowHalfOpen ?? false,
    pauseOnConnect: s.pauseOnConnect ?? false,
    noDelay: s.noDelay ?? false,
    keepAlive: s.keepAlive ?? false,
    keepAliveInitialDelay: s.keepAliveInitialDelay ?? 0,
  });
  let closing = false;
  inner.on('connection', (sock: Socket) => {
    // The connection is the outer server's to count, as net.Server counts its own.
    inner._connections--;
    s._connections++;
    sock.server = server as unknown as EventEmitter;
    sock._server = server as unknown as EventEmitter;
    server.emit('connection', sock);
  });
  inner.on('error', (err: Error) => server.emit('error', err));
  inner.on('listening', () => server.emit('listening'));
  Object.defineProperty(server, 'listening', { get: () => inner.listening, configurable: true });
  s._emitCloseIfDrained = () => {
    if (inner.listening || s._connections > 0 || !closing) return;
    closing = false;
    process.nextTick(() => server.emit('close'));
  };
  srv.listen = ((...args: unknown[]) => {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      server.once('listening', last as () => void);
      args = args.slice(0, -1);
    }
    inner.listen(...args);
    return srv;
  }) as nodeNet.Server['listen'];
  srv.address = () => inner.address() as ReturnType<nodeNet.Server['address']>;
  const baseClose = server.close;
  srv.close = ((cb?: (err?: Error) => void) => {
    const wasListening = inner.listening;
    inner.close();
    closing = true;
    // The class's own close (http.Server's stops its connection checks and closes idle
    // sockets; http2's closes sessions), then net.Server's, which calls _emitCloseIfDrained.
    baseClose.call(server);
    if (typeof cb === 'function') {
      if (wasListening) server.once('close', () => cb());
      else {
        const err = new Error('Server is not running.') as Error & { code: string };
        err.code = 'ERR_SERVER_NOT_RUNNING';
        server.once('close', () => cb(err));
      }
    }
    return srv;
  }) as nodeNet.Server['close'];
  srv.ref = () => {
    inner.ref();
    return srv;
  };
  srv.unref = () => {
    inner.unref();
    return srv;
  };
  // net.Server's dispose looks for a _handle, which a lonet server never has.
  const dispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
  if (dispose !== undefined)
    (server as unknown as Record<symbol, unknown>)[dispose] = () =>
      inner.listening ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
  return server;
}
