/**
 * WHATWG fetch over lonet: undici 7's fetch with an Agent whose connect hook dials
 * through `ns.net`. undici wants the socket once it is connected, and asynchronously.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import type { NetModule, Socket } from './net.js';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function dispatcherFor(netm: NetModule): Agent {
  return new Agent({
    connect: (opts, cb) => {
      const port = Number(opts.port || (opts.protocol === 'https:' ? 443 : 80));
      const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
      if (opts.protocol === 'https:') {
        const err = new Error('lonet has no TLS: https:// is not supported over a namespace') as Error & {
          code: string;
        };
        err.code = 'ERR_NOT_SUPPORTED';
        queueMicrotask(() => cb(err, null));
        return;
      }
      const sock: Socket = netm.connect({ port, host });
      const onError = (err: Error) => cb(err, null);
      sock.once('error', onError);
      sock.once('connect', () => {
        sock.off('error', onError);
        cb(null, sock as never);
      });
    },
  });
}

export function fetchFor(dispatcher: Agent): Fetch {
  return ((input: string | URL | Request, init: RequestInit = {}) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as Fetch;
}
