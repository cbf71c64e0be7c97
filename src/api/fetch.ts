/**
 * WHATWG fetch over lonet: undici 7's fetch with an Agent whose connect hook dials
 * through `ns.net`, or `ns.tls` for https:// (Node's own TLS, with the CA and other TLS
 * options the Agent was given). undici wants the socket once it is connected (for TLS,
 * once the handshake is done), and asynchronously.
 */
import type * as tls from 'node:tls';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';
import type { NetModule, Socket } from './net.js';
import type { TlsModule } from './tls.js';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

interface ConnectOpts {
  hostname: string;
  protocol: string;
  port: string;
  servername?: string | null;
  localAddress?: string | null;
}
type Connector = (opts: ConnectOpts, cb: (err: Error | null, sock: unknown) => void) => void;

/** An undici connector over the namespace; `tlsOpts` are the Agent's connect (TLS) options. */
export function lonetConnector(netm: NetModule, tlsm: TlsModule | undefined, tlsOpts: object = {}): Connector {
  return (opts, cb) => {
    const https = opts.protocol === 'https:';
    const port = Number(opts.port || (https ? 443 : 80));
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    let sock: Socket | tls.TLSSocket;
    let ready: string;
    if (https) {
      if (tlsm === undefined) {
        const err = new Error('TLS is Node-only: https:// is not supported here') as Error & { code: string };
        err.code = 'ERR_NOT_SUPPORTED';
        queueMicrotask(() => cb(err, null));
        return;
      }
      const servername = opts.servername || (netm.isIP(host) ? undefined : host);
      sock = tlsm.connect({
        ...(tlsOpts as tls.ConnectionOptions),
        port,
        host,
        ...(servername ? { servername } : {}),
        ALPNProtocols: ['http/1.1'],
      });
      ready = 'secureConnect';
    } else {
      sock = netm.connect({ port, host });
      ready = 'connect';
    }
    const onError = (err: Error) => cb(err, null);
    sock.once('error', onError);
    sock.once(ready, () => {
      sock.off('error', onError);
      cb(null, sock);
    });
  };
}

export function dispatcherFor(netm: NetModule, tlsm?: TlsModule, options: Agent.Options = {}): Agent {
  const c = options.connect;
  const tlsOpts = c !== undefined && typeof c !== 'function' ? c : {};
  return new Agent({ ...options, connect: lonetConnector(netm, tlsm, tlsOpts) as never });
}

/** undici keeps an Agent's options under a private symbol; its connect (TLS) options are in there. */
function agentOptions(d: object): Agent.Options | undefined {
  const sym = Object.getOwnPropertySymbols(d).find((s) => s.description === 'options');
  const o = sym === undefined ? undefined : (d as Record<symbol, unknown>)[sym];
  return typeof o === 'object' && o !== null ? (o as Agent.Options) : undefined;
}

/**
 * fetch over this namespace. A caller's own undici Agent keeps its options (pool sizes,
 * timeouts, its connect: { ca, rejectUnauthorized, … }): requests go through an Agent made
 * from them whose connections are the namespace's. Any other dispatcher (a MockAgent, an
 * interceptor chain) is used as given.
 */
export function fetchFor(dispatcher: Agent, netm?: NetModule, tlsm?: TlsModule): Fetch {
  const wrapped = new WeakMap<object, Dispatcher>();
  const wrap = (d: Dispatcher): Dispatcher => {
    if (d === dispatcher || netm === undefined) return d;
    let w = wrapped.get(d);
    if (w === undefined) {
      const opts = d.constructor?.name === 'Agent' ? agentOptions(d) : undefined;
      w = opts === undefined || typeof opts.connect === 'function' ? d : dispatcherFor(netm, tlsm, opts);
      wrapped.set(d, w);
    }
    return w;
  };
  return ((input: string | URL | Request, init: RequestInit & { dispatcher?: Dispatcher } = {}) =>
    undiciFetch(
      input as never,
      { ...(init as object), dispatcher: wrap(init.dispatcher ?? dispatcher) } as never,
    )) as unknown as Fetch;
}
