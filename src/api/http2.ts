/**
 * node:http2 over lonet: Node's own nghttp2 sessions on lonet sockets. Servers are
 * node:http2's (plain, or a tls.Server negotiating h2 by ALPN, with allowHTTP1) fed
 * connections by a lonet listener; connect() is http2.connect with a createConnection
 * that dials `ns.net` (http:) or `ns.tls` with ALPN h2 (https:), as Node's own does.
 * node:http2 wraps a socket without a libuv handle in its JSStreamSocket.
 */
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { listenOnLonet } from './listen.js';
import { type NetModule, Socket } from './net.js';
import { adoptAddresses, jsStreamSocketClass, secureServerOnLonet, type TlsModule } from './tls.js';

export interface Http2Module {
  createServer: typeof http2.createServer;
  createSecureServer: typeof http2.createSecureServer;
  connect: typeof http2.connect;
  constants: typeof http2.constants;
  getDefaultSettings: typeof http2.getDefaultSettings;
  getPackedSettings: typeof http2.getPackedSettings;
  getUnpackedSettings: typeof http2.getUnpackedSettings;
  sensitiveHeaders: typeof http2.sensitiveHeaders;
  Http2ServerRequest: typeof http2.Http2ServerRequest;
  Http2ServerResponse: typeof http2.Http2ServerResponse;
}

type ConnectOptions = http2.ClientSessionOptions & http2.SecureClientSessionOptions;

/**
 * A session over a plain lonet socket sees it through node:http2's JSStreamSocket, which
 * has no addresses of its own; its ref/unref (grpc-js unrefs idle sessions) reach the
 * lonet socket, which is what holds the process open.
 */
function adoptSession(session: http2.Http2Session, raw: Socket | tls.TLSSocket): void {
  if (raw instanceof Socket) adoptAddresses(session.socket, raw);
  const ref = session.ref.bind(session);
  const unref = session.unref.bind(session);
  session.ref = () => {
    raw.ref();
    ref();
  };
  session.unref = () => {
    raw.unref();
    unref();
  };
}

/** The lonet socket under a server session's JSStreamSocket (its stream). */
function adoptServerSession(session: http2.ServerHttp2Session): void {
  const raw = (session.socket as unknown as { stream?: unknown }).stream;
  if (raw instanceof Socket) adoptSession(session, raw);
}

/** The lonet socket under each JSStreamSocket made here. */
const rawOf = new WeakMap<object, Socket>();

/**
 * A plain lonet socket in the JSStreamSocket node:http2 would wrap it in, but one that is
 * `connecting` while the lonet socket is: the session then waits for 'connect' as it does
 * on a TCP socket, and a session closed before that destroys the socket at once (no
 * ECONNREFUSED from a server closed meanwhile).
 */
function connectingStream(raw: Socket): Duplex {
  const wrap = new (jsStreamSocketClass())(raw);
  Object.defineProperty(wrap, 'connecting', { get: () => raw.connecting, set: () => {}, configurable: true });
  raw.once('connect', () => {
    // libuv reads what the server sent first on a later poll phase, after the session has
    // submitted the requests made while connecting: hold it back until then.
    raw.pause();
    wrap.emit('connect');
    setImmediate(() => raw.resume());
  });
  rawOf.set(wrap, raw);
  return wrap;
}

export function http2For(netm: NetModule, tlsm: TlsModule): Http2Module {
  /** What http2.connect dials when no createConnection is given, over the namespace. */
  const createConnection = (authority: URL, options: ConnectOptions): Duplex => {
    const https = authority.protocol === 'https:';
    const port = Number(authority.port || (https ? 443 : 80));
    const h = authority.hostname || 'localhost';
    const host = h.startsWith('[') ? h.slice(1, -1) : h;
    if (!https)
      return connectingStream(netm.connect({ port, host, ...(options.lookup ? { lookup: options.lookup } : {}) }));
    const alpn = ['h2'];
    if ((options as { allowHTTP1?: boolean }).allowHTTP1 === true) alpn.push('http/1.1');
    return tlsm.connect(port, host, {
      ...(options as tls.ConnectionOptions),
      ALPNProtocols: alpn,
      // A name (not an address) is asked for by SNI, as node:http2 does.
      ...(options.servername === undefined && !netm.isIP(host) ? { servername: host } : {}),
    });
  };

  const connect = ((authority: string | URL, options?: unknown, listener?: unknown) => {
    if (typeof options === 'function') {
      listener = options;
      options = undefined;
    }
    const opts = { ...((options as ConnectOptions) ?? {}) } as ConnectOptions & {
      createConnection?: (a: URL, o: ConnectOptions) => Duplex;
    };
    // A caller's own createConnection decides the socket, as on Node.
    let raw: Socket | tls.TLSSocket | undefined;
    opts.createConnection ??= (a: URL, o: ConnectOptions) => {
      const s = createConnection(a, o);
      raw = rawOf.get(s) ?? (s as Socket | tls.TLSSocket);
      return s;
    };
    const session = http2.connect(authority, opts, listener as never);
    if (raw !== undefined) adoptSession(session, raw);
    return session;
  }) as typeof http2.connect;

  return {
    createServer: ((...args: unknown[]) => {
      const srv = (http2.createServer as (...a: unknown[]) => http2.Http2Server)(...args);
      srv.prependListener('session', adoptServerSession);
      return listenOnLonet(srv, netm);
    }) as typeof http2.createServer,
    createSecureServer: ((...args: unknown[]) =>
      secureServerOnLonet(
        (http2.createSecureServer as (...a: unknown[]) => http2.Http2SecureServer)(...args),
        netm,
      )) as typeof http2.createSecureServer,
    connect,
    constants: http2.constants,
    getDefaultSettings: http2.getDefaultSettings,
    getPackedSettings: http2.getPackedSettings,
    getUnpackedSettings: http2.getUnpackedSettings,
    sensitiveHeaders: http2.sensitiveHeaders,
    Http2ServerRequest: http2.Http2ServerRequest,
    Http2ServerResponse: http2.Http2ServerResponse,
  };
}
