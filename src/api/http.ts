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
import { callable } from './callable.js';
import { listenOnLonet } from './listen.js';
import { type NetModule, netFor } from './net.js';

/**
 * Node's own node:http, asked for by this file's name: under lonet/register a test runner
 * that loads lonet through its own module runner (vitest) would otherwise hand lonet its
 * own face, and the face's Agent would extend itself. Asked for when a face is made, not
 * when this file loads: the browser page loads it and has no node:module.
 */
const realHttp = () => createRequire(import.meta.url)('node:http') as typeof http;

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
  const nodeHttp = realHttp();
  /**
   * The face's Agent: Node's, with createConnection dialling through the namespace. Node's
   * is net.createConnection itself, so it takes every form and option net.connect does
   * ((options, cb) with socketPath as path, lookup, timeout, signal; (port, host, cb)).
   */
  class Agent extends nodeHttp.Agent {
    override createConnection(...args: unknown[]): Duplex {
      return netm.connect(...args);
    }
  }
  // Node 20's globalAgent keeps connections alive. `http.globalAgent = a` replaces it.
  let globalAgent: http.Agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

  /**
   * Node's ClientRequest with this namespace's globalAgent as the default: ClientRequest
   * takes options._defaultAgent when no agent is given, and `new this.constructor()` of it
   * for agent: false, so every connection goes through the namespace.
   */
  class ClientRequest extends nodeHttp.ClientRequest {
    constructor(...args: unknown[]) {
      const optsIndex =
        typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof URL)
          ? 0
          : typeof args[1] === 'object' && args[1] !== null
            ? 1
            : -1;
      if (optsIndex >= 0) args[optsIndex] = { ...(args[optsIndex] as object), _defaultAgent: globalAgent };
      else if (args.length === 0) args.push({ _defaultAgent: globalAgent });
      else args.splice(1, 0, { _defaultAgent: globalAgent });
      super(...(args as ConstructorParameters<typeof http.ClientRequest>));
    }
  }

  /**
   * Node's http.Server, listening on the namespace. A function as Node's is, so that
   * `new Server()`, `Server()`, `class extends Server` and the old `Server.call(this)`
   * inheritance all make a server on lo.
   */
  const Server = function (this: http.Server | undefined, ...args: unknown[]): http.Server | undefined {
    if (!(this instanceof Server)) return new (Server as unknown as new (...a: unknown[]) => http.Server)(...args);
    (nodeHttp.Server as unknown as (...a: unknown[]) => void).apply(this, args);
    listenOnLonet(this, netm);
    return undefined;
  } as unknown as typeof http.Server;
  Object.setPrototypeOf(Server.prototype, nodeHttp.Server.prototype);
  Object.setPrototypeOf(Server, nodeHttp.Server);

  const request = ((...args: RequestArgs) => new ClientRequest(...args)) as typeof http.request;
  const get = ((...args: RequestArgs) => {
    const req = request(...args);
    req.end();
    return req;
  }) as typeof http.get;
  const createServer = ((...args: unknown[]) =>
    new (Server as unknown as new (...a: unknown[]) => http.Server)(...args)) as typeof http.createServer;

  return {
    createServer,
    request,
    get,
    Agent: callable(Agent) as typeof http.Agent,
    get globalAgent() {
      return globalAgent;
    },
    set globalAgent(agent: http.Agent) {
      globalAgent = agent;
    },
    STATUS_CODES: nodeHttp.STATUS_CODES,
    METHODS: nodeHttp.METHODS,
    Server,
    IncomingMessage: nodeHttp.IncomingMessage,
    ServerResponse: nodeHttp.ServerResponse,
    ClientRequest: callable(ClientRequest) as unknown as typeof http.ClientRequest,
    OutgoingMessage: nodeHttp.OutgoingMessage,
    validateHeaderName: nodeHttp.validateHeaderName,
    validateHeaderValue: nodeHttp.validateHeaderValue,
    maxHeaderSize: nodeHttp.maxHeaderSize,
  };
}
