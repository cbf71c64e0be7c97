/**
 * node:http over lonet: the real node:http machinery (parsers, Agent, timeouts) on
 * `ns.net` sockets. A server made by `ns.http.createServer` is a genuine http.Server
 * whose listen() opens a lonet TCP listener and hands each accepted socket to it, so
 * 'listening' fires and headersTimeout/requestTimeout/closeIdleConnections work; an
 * Agent's createConnection dials through `ns.net`, so keep-alive reuse works as usual.
 */
import type * as http from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { Net } from '../net/net.js';
import { type NetModule, netFor, type Server, type Socket } from './net.js';

/**
 * Node's own node:http, asked for by this file's name: under lonet/register a test runner
 * that loads lonet through its own module runner (vitest) would otherwise hand lonet its
 * own face, and the face's Agent would extend itself.
 */
const nodeHttp = createRequire(import.meta.url)('node:http') as typeof http;

type RequestArgs = Parameters<typeof http.request>;

export interface HttpModule {
  createServer: typeof http.createServer;
  request: typeof http.request;
  get: typeof http.get;
  Agent: typeof http.Agent;
  globalAgent: http.Agent;
  STATUS_CODES: typeof http.STATUS_CODES;
  METHODS: typeof http.METHODS;
  Server: typeof http.Server;
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
  ClientRequest: typeof http.ClientRequest;
  OutgoingMessage: typeof http.OutgoingMessage;
  validateHeaderName: typeof http.validateHeaderName;
  validateHeaderValue: typeof http.validateHeaderValue;
  maxHeaderSize: number;
}

/** Makes an http.Server listen on lonet instead of the host. */
function attach(server: http.Server, netm: NetModule): http.Server {
  // http.Server's own net.Server options (noDelay on by default in Node 20) apply to its sockets.
  const base = server as unknown as { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number };
  const inner: Server = netm.createServer({
    allowHalfOpen: true,
    noDelay: base.noDelay ?? true,
    keepAlive: base.keepAlive ?? false,
    keepAliveInitialDelay: base.keepAliveInitialDelay ?? 0,
  });
  const s = server as http.Server & { _connections: number; _emitCloseIfDrained(): void };
  inner.on('connection', (sock: Socket) => {
    // The connection is the http server's to count, as net.Server counts its own.
    inner._connections--;
    s._connections++;
    sock.server = server;
    sock._server = server;
    server.emit('connection', sock);
  });
  inner.on('error', (err: Error) => server.emit('error', err));
  inner.on('listening', () => server.emit('listening'));
  Object.defineProperty(server, 'listening', { get: () => inner.listening, configurable: true });
  server.listen = ((...args: unknown[]) => {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      server.once('listening', last as () => void);
      args = args.slice(0, -1);
    }
    inner.listen(...args);
    return server;
  }) as typeof server.listen;
  server.address = () => inner.address();
  server.close = ((cb?: (err?: Error) => void) => {
    const wasListening = inner.listening;
    inner.close();
    // http.Server.prototype.close stops its connection checks and closes idle sockets,
    // then net.Server's close emits 'close' once no connection is left.
    nodeHttp.Server.prototype.close.call(server);
    if (typeof cb === 'function') {
      if (wasListening) server.once('close', () => cb());
      else {
        const err = new Error('Server is not running.') as Error & { code: string };
        err.code = 'ERR_SERVER_NOT_RUNNING';
        server.once('close', () => cb(err));
      }
    }
    return server;
  }) as typeof server.close;
  server.ref = () => {
    inner.ref();
    return server;
  };
  server.unref = () => {
    inner.unref();
    return server;
  };
  return server;
}

export function httpFor(net: Net, netm: NetModule = netFor(net)): HttpModule {
  class Agent extends nodeHttp.Agent {
    override createConnection(options: http.ClientRequestArgs, cb?: (err: Error | null, s: Duplex) => void): Duplex {
      const o = options as http.ClientRequestArgs & {
        port?: number | string;
        host?: string;
        noDelay?: boolean;
        keepAlive?: boolean;
        keepAliveInitialDelay?: number;
      };
      // An Agent's options reach its sockets: noDelay is on unless said otherwise (Node 20).
      const sock = netm.connect({
        port: Number(o.port ?? 80),
        host: o.host ?? o.hostname ?? 'localhost',
        noDelay: o.noDelay ?? true,
        ...(o.keepAlive ? { keepAlive: true, keepAliveInitialDelay: o.keepAliveInitialDelay ?? 0 } : {}),
        ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
        ...(o.family !== undefined ? { family: o.family } : {}),
      });
      void cb;
      return sock;
    }
  }
  // Node 20's globalAgent keeps connections alive.
  const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

  /** http.request with this namespace's Agent unless the caller brought one. */
  const request = ((...args: RequestArgs) => {
    const a = args as unknown[];
    const optsIndex = typeof a[0] === 'object' && !(a[0] instanceof URL) ? 0 : typeof a[1] === 'object' ? 1 : -1;
    // A caller's own Agent decides the connection: the options go to node:http untouched.
    if (optsIndex >= 0 && (a[optsIndex] as http.RequestOptions).agent instanceof nodeHttp.Agent)
      return nodeHttp.request(...(args as RequestArgs));
    let opts: http.RequestOptions;
    if (optsIndex >= 0) {
      opts = { ...(a[optsIndex] as http.RequestOptions) };
      a[optsIndex] = opts;
    } else {
      opts = {};
      args.splice(1, 0, opts as never);
    }
    // ClientRequest picks this when no agent is given, and `new this.constructor()` of it
    // for agent: false — either way the connection goes through the namespace.
    (opts as { _defaultAgent?: http.Agent })._defaultAgent = globalAgent;
    return nodeHttp.request(...(args as RequestArgs));
  }) as typeof http.request;

  const get = ((...args: RequestArgs) => {
    const req = request(...args);
    req.end();
    return req;
  }) as typeof http.get;

  /** http.Server whose listen() is this namespace's: `new http.Server()` works like createServer. */
  class Server extends nodeHttp.Server {
    constructor(...args: unknown[]) {
      super(...(args as []));
      attach(this, netm);
    }
  }
  const createServer = ((...args: unknown[]) => new Server(...args)) as typeof http.createServer;

  return {
    createServer,
    request,
    get,
    Agent: Agent as typeof http.Agent,
    globalAgent,
    STATUS_CODES: nodeHttp.STATUS_CODES,
    METHODS: nodeHttp.METHODS,
    Server: Server as unknown as typeof http.Server,
    IncomingMessage: nodeHttp.IncomingMessage,
    ServerResponse: nodeHttp.ServerResponse,
    ClientRequest: nodeHttp.ClientRequest,
    OutgoingMessage: nodeHttp.OutgoingMessage,
    validateHeaderName: nodeHttp.validateHeaderName,
    validateHeaderValue: nodeHttp.validateHeaderValue,
    maxHeaderSize: nodeHttp.maxHeaderSize,
  };
}
