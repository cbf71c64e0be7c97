/**
 * `lonet run a.mjs [b.mjs …]`: unmodified Node programs in this process, all in one
 * namespace. Module hooks (run-hooks.ts) make `node:net`, `node:http`, `node:dgram` (and
 * `net`, `http`, `dgram`) the namespace's faces for `import`, a patched Module._load does
 * the same for `require` (and process.getBuiltinModule), and the global fetch is `ns.fetch`, so a server and a client
 * written for Node talk over lonet's lo without a changed line and without an OS socket.
 * lonet has no TLS: `node:https` is there to import, but its request/get/createServer
 * throw ERR_NOT_SUPPORTED, as `fetch('https://…')` does.
 */
import Module, { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FormData, Headers, Request, Response } from 'undici';
import type { Namespace } from '../api/namespace.js';
import { FACES_KEY } from './run-hooks.js';

function noTls(): never {
  const err = new Error('lonet has no TLS: node:https is not supported in lonet run (use http://)') as Error & {
    code: string;
  };
  err.code = 'ERR_NOT_SUPPORTED';
  throw err;
}

/** The faces, by built-in name, as the generated modules and require() hand them out. */
function facesOf(ns: Namespace): Record<string, object> {
  return {
    net: ns.net,
    http: ns.http,
    dgram: ns.dgram,
    https: { request: noTls, get: noTls, createServer: noTls, Server: noTls, Agent: noTls },
    // The modules behind node:http that programs and Node's tests require by name.
    _http_agent: {
      Agent: ns.http.Agent,
      get globalAgent() {
        return ns.http.globalAgent;
      },
    },
    _http_client: { ClientRequest: ns.http.ClientRequest },
    _http_server: { Server: ns.http.Server },
  };
}

const BUILTINS: Record<string, string> = {
  net: 'net',
  'node:net': 'net',
  http: 'http',
  'node:http': 'http',
  https: 'https',
  'node:https': 'https',
  dgram: 'dgram',
  'node:dgram': 'dgram',
  _http_agent: '_http_agent',
  _http_client: '_http_client',
  _http_server: '_http_server',
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
      // The face's accessors stay accessors (`http.globalAgent = agent` reaches the face).
      m = Object.defineProperties({ ...(real() as object) }, Object.getOwnPropertyDescriptors(faces[name]));
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
