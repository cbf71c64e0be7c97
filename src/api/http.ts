/**
 * node:http over lonet: the real node:http machinery (parsers, Agent, timeouts) on
 * `ns.net` sockets. A server made by `ns.http.createServer` is a genuine http.Server
 * whose listen() opens a lonet TCP listener and hands each accepted socket to it, so
 * 'listening' fires and headersTimeout/requestTimeout/closeIdleConnections work; an
 * Agent's createConnection dials through `ns.net`, so keep-alive reuse works as usual.
 */
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Net } from '../net/net.js';
import { listenOnLonet } from './listen.js';
import { type NetModule, netFor } from './net.js';

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

export function httpFor(net: Net, netm: NetModule = netFor(net)): HttpModule {
  class Agent extends http.Agent {
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
    if (optsIndex >= 0 && (a[optsIndex] as http.RequestOptions).agent instanceof http.Agent)
      return http.request(...(args as RequestArgs));
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
    return http.request(...(args as RequestArgs));
  }) as typeof http.request;

  const get = ((...args: RequestArgs) => {
    const req = request(...args);
    req.end();
    return req;
  }) as typeof http.get;

  const createServer = ((...args: Parameters<typeof http.createServer>) =>
    listenOnLonet(http.createServer(...args), netm)) as typeof http.createServer;

  return {
    createServer,
    request,
    get,
    Agent: Agent as typeof http.Agent,
    globalAgent,
    STATUS_CODES: http.STATUS_CODES,
    METHODS: http.METHODS,
    Server: http.Server,
    IncomingMessage: http.IncomingMessage,
    ServerResponse: http.ServerResponse,
    ClientRequest: http.ClientRequest,
    OutgoingMessage: http.OutgoingMessage,
    validateHeaderName: http.validateHeaderName,
    validateHeaderValue: http.validateHeaderValue,
    maxHeaderSize: http.maxHeaderSize,
  };
}
