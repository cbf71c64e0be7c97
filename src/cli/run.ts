/**
 * `lonet run a.mjs [b.mjs …]`: unmodified Node programs in this process, all in one
 * namespace. Module hooks (run-hooks.ts) make `node:net`, `node:http`, `node:https`,
 * `node:tls`, `node:http2`, `node:dgram` (and their bare names) the namespace's faces for
 * `import`, a patched Module._load does the same for `require` (and
 * process.getBuiltinModule), the global fetch is `ns.fetch` and undici's global
 * dispatcher is the namespace's, so a server and a client written for Node talk over
 * lonet's lo without a changed line and without an OS socket.
 */
import Module, { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FormData, Headers, Request, Response, setGlobalDispatcher } from 'undici';
import type { Namespace } from '../api/namespace.js';
import { FACES_KEY } from './run-hooks.js';

/** The faces, by built-in name, as the generated modules and require() hand them out. */
function facesOf(ns: Namespace): Record<string, object> {
  return {
    net: ns.net,
    http: ns.http,
    dgram: ns.dgram,
    tls: ns.tls,
    https: ns.https,
    http2: ns.http2,
  };
}

const BUILTINS: Record<string, string> = {
  net: 'net',
  'node:net': 'net',
  http: 'http',
  'node:http': 'http',
  https: 'https',
  'node:https': 'https',
  tls: 'tls',
  'node:tls': 'tls',
  http2: 'http2',
  'node:http2': 'http2',
  dgram: 'dgram',
  'node:dgram': 'dgram',
};

/**
 * require('http') and friends, and process.getBuiltinModule('http'): Node's module
 * object with the face's members over it.
 */
function patchRequire(faces: Record<string, object>): void {
  const M = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const load = M._load;
  const merged = new Map<string, object>();
  const faceOf = (name: string, real: () => unknown): object => {
    let m = merged.get(name);
    if (m === undefined) {
      m = { ...(real() as object), ...faces[name] };
      merged.set(name, m);
    }
    return m;
  };
  M._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    const name = BUILTINS[request];
    if (name === undefined) return load.call(this, request, parent, isMain);
    return faceOf(name, () => load.call(this, `node:${name}`, parent, isMain));
  };
  const p = process as unknown as { getBuiltinModule?: (id: string) => unknown };
  const getBuiltin = p.getBuiltinModule;
  if (getBuiltin !== undefined) {
    p.getBuiltinModule = (id: string) => {
      const name = BUILTINS[id];
      return name === undefined
        ? getBuiltin.call(process, id)
        : faceOf(name, () => getBuiltin.call(process, `node:${name}`));
    };
  }
}

/**
 * Loads the programs one after another, in the order given (each one's top level runs to
 * its end, top-level awaits included, before the next starts), and leaves them running:
 * the process ends, as node's does, when nothing is left to wait for.
 */
export async function run(ns: Namespace, files: readonly string[]): Promise<void> {
  const faces = facesOf(ns);
  (globalThis as Record<symbol, unknown>)[Symbol.for(FACES_KEY)] = faces;
  globalThis.fetch = ns.fetch as typeof globalThis.fetch;
  // undici's own fetch/request/stream/Agent (any copy of undici: they share the global
  // dispatcher's slot) and the libraries built on them go over the namespace too.
  setGlobalDispatcher(ns.dispatcher);
  // fetch's classes from the same undici, so `new Request(…)` goes into it and
  // `res instanceof Response` holds, as with Node's own fetch.
  Object.assign(globalThis, { Request, Response, Headers, FormData });
  patchRequire(faces);
  register('./run-hooks.js', import.meta.url);
  const urls = files.map((f) => pathToFileURL(resolve(f)).href);
  // As `node a.mjs` sees it: argv[1] is the (first) program.
  process.argv = [process.argv[0] as string, resolve(files[0] as string)];
  for (const url of urls) await import(url);
}
