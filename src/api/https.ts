/**
 * node:https over lonet: node:https's own Server (a tls.Server running node:http's
 * connection handling) listening on lonet, and an https.Agent whose connections are
 * `ns.tls` connections, so keep-alive reuse, TLS session caching and servername choice
 * are node:https's. Requests are node:http's ClientRequest with that Agent as default.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { urlToHttpOptions } from 'node:url';
import { callable } from './callable.js';
import type { NetModule } from './net.js';
import { secureServerOnLonet, type TlsModule } from './tls.js';

export interface HttpsModule {
  createServer: typeof https.createServer;
  request: typeof https.request;
  get: typeof https.get;
  Agent: typeof https.Agent;
  globalAgent: https.Agent;
  Server: typeof https.Server;
}

type AgentKeyed = tls.ConnectionOptions & { _agentKey?: string };
interface SessionCache {
  _getSession(key: string): Buffer | undefined;
  _cacheSession(key: string, session: Buffer): void;
  _evictSession(key: string): void;
}

export function httpsFor(netm: NetModule, tlsm: TlsModule): HttpsModule {
  class Agent extends https.Agent {
    /** https.Agent.createConnection with ns.tls.connect for tls.connect: the same session cache. */
    override createConnection(options: AgentKeyed, cb?: (err: Error | null, s: Duplex) => void): Duplex {
      void cb;
      const self = this as unknown as SessionCache;
      let opts: AgentKeyed = { ...options };
      const key = opts._agentKey;
      if (key) {
        const session = self._getSession(key);
        if (session) opts = { session, ...opts };
      }
      const socket = tlsm.connect(opts);
      if (key) {
        socket.on('session', (session: Buffer) => self._cacheSession(key, session));
        socket.once('close', (err: boolean) => {
          if (err) self._evictSession(key);
        });
      }
      return socket;
    }
  }
  // Node 20's https.globalAgent keeps connections alive, as http's does.
  const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

  /** https.request's argument handling, with this namespace's Agent as the default. */
  const request = ((...args: unknown[]) => {
    let options: Record<string, unknown> = {};
    if (typeof args[0] === 'string') options = { ...urlToHttpOptions(new URL(args.shift() as string)) };
    else if (args[0] instanceof URL) options = { ...urlToHttpOptions(args.shift() as URL) };
    if (args[0] && typeof args[0] !== 'function') Object.assign(options, args.shift());
    options._defaultAgent = globalAgent;
    return new http.ClientRequest(options, ...(args as [((res: http.IncomingMessage) => void)?]));
  }) as typeof https.request;

  const get = ((...args: unknown[]) => {
    const req = (request as (...a: unknown[]) => http.ClientRequest)(...args);
    req.end();
    return req;
  }) as typeof https.get;

  class Server extends https.Server {
    constructor(...args: unknown[]) {
      super(...(args as []));
      secureServerOnLonet(this as unknown as tls.Server, netm);
    }
  }

  return {
    createServer: ((...args: unknown[]) => new Server(...args)) as typeof https.createServer,
    request,
    get,
    Agent: callable(Agent) as typeof https.Agent,
    globalAgent,
    Server: callable(Server) as typeof https.Server,
  };
}
