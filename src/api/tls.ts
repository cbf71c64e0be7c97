/**
 * node:tls over lonet: Node's own TLS (OpenSSL, through node:tls) on lonet TCP sockets.
 * A client is tls.connect() around an `ns.net` socket; a server is a genuine tls.Server
 * whose connections come from a lonet listener. node:tls wraps a Duplex that has no
 * libuv handle in its JSStreamSocket, so the records on lo are real TLS records and
 * certificates, ALPN, SNI, sessions and errors are exactly Node's.
 */
import type { Socket as NodeSocket } from 'node:net';
import { type Duplex, PassThrough } from 'node:stream';
// The module object itself: a namespace (`* as`) is read-only, and a setting written there
// would not reach what tls.connect reads.
import tlsModule, * as tls from 'node:tls';
import { callable } from './callable.js';
import { listenOnLonet } from './listen.js';
import { type NetModule, Socket } from './net.js';

type Callback = () => void;

/** What tls.connect passes on to the TCP socket it makes. */
type ConnectOpts = tls.ConnectionOptions & {
  localAddress?: string;
  family?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  allowHalfOpen?: boolean;
};

export interface TlsModule {
  connect: typeof tls.connect;
  createServer: typeof tls.createServer;
  Server: typeof tls.Server;
  TLSSocket: typeof tls.TLSSocket;
  createSecureContext: typeof tls.createSecureContext;
  checkServerIdentity: typeof tls.checkServerIdentity;
  getCiphers: typeof tls.getCiphers;
  convertALPNProtocols?: unknown;
  rootCertificates: typeof tls.rootCertificates;
  DEFAULT_ECDH_CURVE: string;
  DEFAULT_MAX_VERSION: tls.SecureVersion;
  DEFAULT_MIN_VERSION: tls.SecureVersion;
  DEFAULT_CIPHERS: string;
  CLIENT_RENEG_LIMIT: number;
  CLIENT_RENEG_WINDOW: number;
  SecureContext?: unknown;
}

interface SocketFields {
  _getpeername(): object;
  _getsockname(): object;
}

/** A socket wrapped around a lonet socket (TLSSocket, JSStreamSocket) takes its addresses from it. */
export function adoptAddresses(t: object, raw: Socket): void {
  const f = t as SocketFields;
  f._getpeername = () =>
    raw.remoteAddress === undefined
      ? {}
      : { address: raw.remoteAddress, family: raw.remoteFamily, port: raw.remotePort };
  f._getsockname = () => raw.address();
}

/**
 * A TLSSocket over a lonet socket answers for its addresses, ref/unref and socket
 * options through that socket: Node's JSStreamSocket has no getpeername, and an
 * https Agent unrefs its idle keep-alive sockets, which must let the process exit.
 */
export function adoptSocket(t: tls.TLSSocket, raw: Socket): tls.TLSSocket {
  adoptAddresses(t, raw);
  t.ref = () => {
    raw.ref();
    return t;
  };
  t.unref = () => {
    raw.unref();
    return t;
  };
  t.setNoDelay = (noDelay?: boolean) => {
    raw.setNoDelay(noDelay);
    return t;
  };
  t.setKeepAlive = (enable?: boolean, initialDelay?: number) => {
    raw.setKeepAlive(enable, initialDelay);
    return t;
  };
  return t;
}

/**
 * The lonet socket a server-side TLSSocket was made around: Node keeps it as the stream
 * of the JSStreamSocket it wrapped it in (the TLS handle's _parentWrap).
 */
function rawOf(t: tls.TLSSocket): Socket | undefined {
  const h = (t as unknown as { _handle?: { _parentWrap?: { stream?: unknown } } })._handle;
  const s = h?._parentWrap?.stream;
  return s instanceof Socket ? s : undefined;
}

/**
 * A TLSSocket takes its half-close policy from the socket it wraps; the raw lonet socket
 * under it must then stay writable after the peer's FIN, as a TCP handle under TLSWrap
 * does: the TLS layer writes its close_notify alert there, then shuts the raw socket down.
 */
function rawHalfOpen(raw: Socket): void {
  raw.allowHalfOpen = true;
}

type JsStreamSocket = new (stream: Duplex) => NodeSocket;
let jsStreamSocket: JsStreamSocket | undefined;

/** Node's JSStreamSocket, read once off the TLSWrap node:tls builds around a handle-less Duplex. */
export function jsStreamSocketClass(): JsStreamSocket {
  if (jsStreamSocket === undefined) {
    const probe = new tls.TLSSocket(new PassThrough());
    jsStreamSocket = (probe as unknown as { _handle: { _parentWrap: { constructor: JsStreamSocket } } })._handle
      ._parentWrap.constructor;
    probe.destroy();
  }
  return jsStreamSocket;
}

/**
 * A lonet socket that has no connection yet, for tls.connect({ socket }). Node's TLSSocket
 * holds its handshake until a net.Socket without a handle says 'connect'; a lonet socket is
 * no net.Socket, so it goes in Node's own JSStreamSocket (one), connecting for as long as
 * the lonet socket has no connection, and told when it has.
 */
function awaitedStream(raw: Socket): Duplex {
  const wrap = new (jsStreamSocketClass())(raw);
  Object.defineProperty(wrap, 'connecting', {
    get: () => raw.pending && !raw.destroyed,
    set: () => {},
    configurable: true,
  });
  raw.once('connect', () => wrap.emit('connect'));
  return wrap;
}

/** A tls.Server (or https/http2 secure server) on lonet, its sockets answering for their addresses. */
export function secureServerOnLonet<S extends tls.Server>(server: S, netm: NetModule): S {
  const adopt = (t: tls.TLSSocket) => {
    const raw = rawOf(t);
    if (raw !== undefined) adoptSocket(t, raw);
  };
  server.prependListener('secureConnection', adopt);
  server.prependListener('tlsClientError', (_err: Error, t: tls.TLSSocket) => adopt(t));
  // After the server's own listener has wrapped the connection in its TLSSocket.
  server.on('connection', (raw: unknown) => {
    if (raw instanceof Socket) rawHalfOpen(raw);
  });
  return listenOnLonet(server, netm);
}

/** tls.connect's overloads: (options[, cb]), (port[, host][, options][, cb]), (path[, options][, cb]). */
function normalize(args: unknown[]): [ConnectOpts, Callback | undefined] {
  let opts: ConnectOpts = {};
  let cb: Callback | undefined;
  let i = 0;
  if (typeof args[0] === 'object' && args[0] !== null) opts = { ...(args[i++] as ConnectOpts) };
  else {
    if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0])))
      opts.port = Number(args[i++]);
    else if (typeof args[0] === 'string') opts.path = args[i++] as string;
    if (typeof args[i] === 'string') opts.host = args[i++] as string;
    if (typeof args[i] === 'object' && args[i] !== null) opts = { ...(args[i++] as ConnectOpts), ...opts };
  }
  if (typeof args[i] === 'function') cb = args[i] as Callback;
  return [opts, cb];
}

/**
 * Whether this runtime has Node's TLS. A browser page has no OpenSSL: its bundle stands
 * node:tls in with functions that throw, so rootCertificates is not the list Node has.
 */
export function haveNodeTls(): boolean {
  return Array.isArray(tls.rootCertificates);
}

/** The one error a page gets for ns.tls, ns.https and ns.http2. */
export function tlsIsNodeOnly(face: string): Error {
  const err = new Error(
    `${face} is Node-only: lonet's TLS is Node's own OpenSSL (node:tls), which a browser page does not have; use http:// in the page`,
  ) as Error & { code: string };
  err.code = 'ERR_NOT_SUPPORTED';
  return err;
}

export function tlsFor(netm: NetModule): TlsModule {
  if (!haveNodeTls()) throw tlsIsNodeOnly('ns.tls');
  const connect = ((...args: unknown[]) => {
    const [opts, cb] = normalize(args);
    // The caller's own stream (an ns.net socket, or any Duplex) is theirs to connect.
    if (opts.socket !== undefined && opts.socket !== null) {
      const own = opts.socket instanceof Socket ? opts.socket : undefined;
      const socket = own?.pending && !own.destroyed ? awaitedStream(own) : opts.socket;
      const t = tls.connect({ ...opts, socket }, cb);
      if (own !== undefined) adoptSocket(t, own);
      return t;
    }
    const raw = netm.connect({
      ...(opts.path ? { path: opts.path } : { port: opts.port ?? 0, host: opts.host ?? 'localhost' }),
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.family !== undefined ? { family: opts.family } : {}),
      ...(opts.lookup !== undefined ? { lookup: opts.lookup } : {}),
      ...(opts.noDelay !== undefined ? { noDelay: opts.noDelay } : {}),
      ...(opts.keepAlive ? { keepAlive: true, keepAliveInitialDelay: opts.keepAliveInitialDelay ?? 0 } : {}),
      allowHalfOpen: opts.allowHalfOpen ?? false,
    });
    // The host stays in the options: it is the name tls.connect verifies the certificate
    // against (no SNI unless servername is given, as on Node).
    let t: tls.TLSSocket;
    try {
      t = tls.connect({ ...opts, host: opts.host ?? 'localhost', socket: raw as unknown as Duplex }, cb);
    } catch (err) {
      // Node checks the options and builds the secure context before it dials: a bad
      // cipher list throws with no connection ever made, so this one is taken back.
      raw.destroy();
      throw err;
    }
    rawHalfOpen(raw);
    if (opts.timeout) t.setTimeout(opts.timeout);
    return adoptSocket(t, raw);
  }) as typeof tls.connect;

  class Server extends tls.Server {
    constructor(...args: ConstructorParameters<typeof tls.Server>) {
      super(...args);
      secureServerOnLonet(this, netm);
    }
  }

  class TLSSocket extends tls.TLSSocket {
    constructor(socket?: Duplex, options?: tls.TLSSocketOptions) {
      super(socket as never, options);
      if (socket instanceof Socket) adoptSocket(this, socket);
    }
  }

  const face = {
    connect,
    createServer: ((...args: ConstructorParameters<typeof tls.Server>) =>
      new Server(...args)) as typeof tls.createServer,
    Server: callable(Server) as typeof tls.Server,
    TLSSocket: TLSSocket as typeof tls.TLSSocket,
    createSecureContext: tls.createSecureContext,
    checkServerIdentity: tls.checkServerIdentity,
    getCiphers: tls.getCiphers,
    rootCertificates: tls.rootCertificates,
  } as TlsModule;
  // DEFAULT_* are node:tls's own settings, read by tls.connect at each call: the face
  // reads and writes them there.
  const settings = tlsModule as unknown as Record<string, unknown>;
  for (const name of [
    'DEFAULT_ECDH_CURVE',
    'DEFAULT_MAX_VERSION',
    'DEFAULT_MIN_VERSION',
    'DEFAULT_CIPHERS',
    'CLIENT_RENEG_LIMIT',
    'CLIENT_RENEG_WINDOW',
  ] as const) {
    Object.defineProperty(face, name, {
      get: () => settings[name],
      set: (v) => {
        settings[name] = v;
      },
      enumerable: true,
    });
  }
  return face;
}
