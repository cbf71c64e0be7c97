/**
 * `lonet run a.mjs [b.mjs …]`: unmodified Node programs in this process, all in one
 * namespace. It is lonet/register's machinery (api/register.ts): `node:net`, `node:http`,
 * `node:dgram` and the rest are the namespace's faces for `import`, `require` and
 * process.getBuiltinModule, and the global fetch is `ns.fetch`, so a server and a client
 * written for Node talk over lonet's lo without a changed line and without an OS socket.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Namespace } from '../api/namespace.js';
import { install } from '../api/register.js';
import { enableStrict } from '../api/strict.js';

export interface RunOptions {
  /** Any TCP/UDP handle the host opens is an error, thrown where it is opened (LONET_STRICT=1). */
  strict?: boolean;
  /** Host ports forwarded into the namespace before the programs start. */
  publish?: readonly { port: number; hostPort: number }[];
}

/**
 * Loads the programs one after another, in the order given (each one's top level runs to
 * its end, top-level awaits included, before the next starts), and leaves them running:
 * the process ends, as node's does, when nothing is left to wait for.
 */
export async function run(ns: Namespace, files: readonly string[], opts: RunOptions = {}): Promise<void> {
  install({ makeDefault: () => ns });
  if (opts.strict) enableStrict('throw');
  for (const p of opts.publish ?? []) {
    const pub = await ns.publish(p.port, { hostPort: p.hostPort });
    process.stderr.write(`lonet: 127.0.0.1:${pub.hostPort} on the host is port ${p.port} in the namespace\n`);
  }
  const urls = files.map((f) => pathToFileURL(resolve(f)).href);
  // As `node a.mjs` sees it: argv[1] is the (first) program.
  process.argv = [process.argv[0] as string, resolve(files[0] as string)];
  for (const url of urls) await import(url);
}
