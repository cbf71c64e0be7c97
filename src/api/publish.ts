/**
 * `ns.publish(port, { hostPort })`: a host TCP port on 127.0.0.1 forwarded to a listener
 * in the namespace, so a real browser or curl can reach the app under test. Each host
 * connection gets its own namespace connection; bytes are piped both ways (a side that
 * cannot keep up pauses the other, as stream.pipe does); an end is passed on as an end
 * (half-close), a reset as a reset. These are the host's only sockets under LONET_STRICT.
 */
import { createRequire } from 'node:module';
import type * as NodeNet from 'node:net';
import type { Namespace } from './namespace.js';
import type { Socket } from './net.js';
import { exemptHostHandles } from './strict.js';

/**
 * Node's own node:net, as http.ts gets node:http: never a face, whatever loaded this file;
 * asked for when a port is published (the browser page has no node:module).
 */
const hostNet = () => createRequire(import.meta.url)('node:net') as typeof NodeNet;

export interface PublishOptions {
  /** The host port; the namespace's port by default, 0 for any free one. */
  hostPort?: number;
  /** The host address to listen on: 127.0.0.1 unless said otherwise (loopback only). */
  hostAddress?: string;
  /** Where in the namespace to connect: 127.0.0.1 by default. */
  address?: string;
}

export interface Published {
  /** The host port actually listened on. */
  readonly hostPort: number;
  readonly hostAddress: string;
  readonly port: number;
  /** Stops listening on the host and resets the forwarded connections. */
  close(): Promise<void>;
}

function splice(host: NodeNet.Socket, inner: Socket): void {
  host.pipe(inner as unknown as NodeJS.WritableStream);
  (inner as unknown as NodeJS.ReadableStream).pipe(host);
  // A reset on one side is a reset on the other; a clean close was passed on by pipe's end().
  host.on('error', () => inner.resetAndDestroy());
  inner.on('error', () => host.resetAndDestroy());
  host.on('close', () => inner.destroy());
  inner.on('close', () => host.destroy());
}

export function publish(ns: Namespace, port: number, opts: PublishOptions = {}): Promise<Published> {
  const hostAddress = opts.hostAddress ?? '127.0.0.1';
  const address = opts.address ?? '127.0.0.1';
  const open = new Set<NodeNet.Socket>();
  const server = exemptHostHandles(() =>
    hostNet().createServer({ allowHalfOpen: true }, (host) => {
      open.add(host);
      host.on('close', () => open.delete(host));
      const inner = ns.net.connect({ port, host: address, allowHalfOpen: true });
      splice(host, inner);
    }),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    exemptHostHandles(() =>
      server.listen(opts.hostPort ?? port, hostAddress, () => {
        server.off('error', reject);
        // The program under test decides when the process ends, not the forwarder.
        server.unref();
        resolve({
          hostPort: (server.address() as NodeNet.AddressInfo).port,
          hostAddress,
          port,
          close: () =>
            new Promise<void>((done) => {
              for (const s of open) s.resetAndDestroy();
              server.close(() => done());
            }),
        });
      }),
    );
  });
}
