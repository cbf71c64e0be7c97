/**
 * The module hooks behind `lonet run` and `node --import lonet/register`: the process's
 * `node:net`, `node:http`, `node:dgram`, … are lonet's faces, for `import` (the hooks in
 * register-hooks.ts, on Node's hooks thread), for `require` (a patched Module._load) and
 * for process.getBuiltinModule; the global fetch and undici's global dispatcher go through
 * lonet too.
 *
 * Every face call is routed when it is made: to the namespace of the async context it was
 * made in (`runInNamespace`, which `withNamespace` of lonet/test uses), else to the
 * process's default namespace. A server or socket keeps the namespace it was made in.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Module, { createRequire, register } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Dispatcher, FormData, Headers, Request, Response, setGlobalDispatcher } from 'undici';
import type { Namespace } from './namespace.js';

/**
 * The faces, by the built-in module they stand in for. Adding one is one line here
 * (inspector: (ns) => …): the hooks, require and getBuiltinModule all read this table.
 */
export const FACES: Readonly<Record<string, (ns: Namespace) => object>> = {
  net: (ns) => ns.net,
  http: (ns) => ns.http,
  https: (ns) => ns.https,
  tls: (ns) => ns.tls,
  http2: (ns) => ns.http2,
  dgram: (ns) => ns.dgram,
  dns: (ns) => ns.dns,
  'dns/promises': (ns) => ns.dns.promises,
  // The modules behind node:http that programs (and Node's own tests) require by name.
  _http_agent: (ns) => ({
    Agent: ns.http.Agent,
    get globalAgent() {
      return ns.http.globalAgent;
    },
    set globalAgent(agent) {
      ns.http.globalAgent = agent;
    },
  }),
  _http_client: (ns) => ({ ClientRequest: ns.http.ClientRequest }),
  _http_server: (ns) => ({ Server: ns.http.Server }),
};

/** Where the installed module objects wait for the generated ESM modules: `globalThis[Symbol.for(KEY)]`. */
export const FACES_KEY = 'lonet.register.faces';
const STATE_KEY = Symbol.for('lonet.register.state');

interface State {
  als: AsyncLocalStorage<Namespace>;
  fallback: Namespace | null;
  makeDefault: (() => Namespace) | null;
  installed: boolean;
}

/** One per process, even if two copies of lonet are loaded (dist and src, say). */
const g = globalThis as Record<symbol, unknown>;
g[STATE_KEY] ??= {
  als: new AsyncLocalStorage<Namespace>(),
  fallback: null,
  makeDefault: null,
  installed: false,
} satisfies State;
const state = g[STATE_KEY] as State;

/** The namespace face calls go to here: the test's own, else the process's default. */
export function currentNamespace(): Namespace {
  const ns = state.als.getStore();
  if (ns !== undefined) return ns;
  if (state.fallback === null) {
    if (state.makeDefault === null) throw new Error('lonet/register is not installed in this process');
    state.fallback = state.makeDefault();
  }
  return state.fallback;
}

/** Runs fn with every face call in its async context going to ns. */
export function runInNamespace<T>(ns: Namespace, fn: () => T): T {
  return state.als.run(ns, fn);
}

/** Whether the faces stand in for the built-ins in this process. */
export function registered(): boolean {
  return state.installed;
}

/**
 * A member of a face that looks its namespace up on every call. Classes stay classes:
 * `new net.Socket()` builds the current namespace's, `x instanceof net.Socket` holds for
 * any namespace's, and `class My extends net.Server` works.
 */
function routedFunction(name: string, key: string, sample: (...a: unknown[]) => unknown): unknown {
  const pick = () => (FACES[name] as (ns: Namespace) => Record<string, unknown>)(currentNamespace())[key] as never;
  const f = function (this: unknown, ...args: unknown[]) {
    const target = pick() as (...a: unknown[]) => unknown;
    if (new.target === undefined) return target.apply(this, args);
    return Reflect.construct(target, args, new.target === f ? target : new.target);
  };
  Object.defineProperty(f, 'name', { value: sample.name });
  // Its parent is the class's parent: Object.getPrototypeOf(tls.TLSSocket) is net.Socket, as in Node.
  Object.setPrototypeOf(f, Object.getPrototypeOf(sample));
  if (typeof sample.prototype === 'object' && sample.prototype !== null) {
    f.prototype = sample.prototype;
    Object.defineProperty(f, Symbol.hasInstance, {
      value: (x: unknown) => x instanceof (pick() as new () => unknown) || x instanceof sample,
    });
  }
  return f;
}

/** Node's module object with the face's members over it, each routed per call. */
function moduleFace(name: string, real: object, sample: Record<string, unknown>): object {
  const out: Record<string, unknown> = { ...real };
  for (const key of Object.keys(sample)) {
    const v = sample[key];
    if (typeof v === 'function') out[key] = routedFunction(name, key, v as (...a: unknown[]) => unknown);
    else
      Object.defineProperty(out, key, {
        get: () => (FACES[name] as (ns: Namespace) => Record<string, unknown>)(currentNamespace())[key],
        // `http.globalAgent = agent` reaches the current namespace's face, as it reaches Node's module.
        set: (v: unknown) => {
          (FACES[name] as (ns: Namespace) => Record<string, unknown>)(currentNamespace())[key] = v;
        },
        enumerable: true,
        configurable: true,
      });
  }
  return out;
}

/** undici's global dispatcher: each request through the current namespace's Agent. */
class RoutingDispatcher extends Dispatcher {
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return currentNamespace().dispatcher.dispatch(opts, handler);
  }
  override close(): Promise<void> {
    return Promise.resolve();
  }
  override destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/** The built-in's name for a specifier (`node:http` and `http` alike), or undefined. */
export function builtinName(specifier: string): string | undefined {
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return Object.hasOwn(FACES, name) ? name : undefined;
}

/**
 * lonet's own files keep Node's real modules. undici does not: it is the program's too (one
 * copy in node_modules), and an undici Agent the program makes dials with node:net and
 * node:tls, which must be the faces. lonet's own dispatcher brings its own connector.
 */
function ownRoots(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const pkgRoot = dirname(dirname(here));
  return [`${pkgRoot}/src/`, `${pkgRoot}/dist/`];
}

function patchRequire(faces: Record<string, object>, roots: readonly string[]): void {
  const M = Module as unknown as {
    _load(request: string, parent: { filename?: string } | null, isMain: boolean): unknown;
  };
  const load = M._load;
  M._load = function (this: unknown, request: string, parent: { filename?: string } | null, isMain: boolean) {
    const name = builtinName(request);
    const from = parent?.filename;
    if (name === undefined || (from !== undefined && roots.some((r) => from.startsWith(r))))
      return load.call(this, request, parent, isMain);
    return faces[name];
  };
  const p = process as unknown as { getBuiltinModule?: (id: string) => unknown };
  const getBuiltin = p.getBuiltinModule;
  if (getBuiltin !== undefined) {
    p.getBuiltinModule = (id: string) => {
      const name = builtinName(id);
      return name === undefined ? getBuiltin.call(process, id) : faces[name];
    };
  }
}

export interface InstallOptions {
  /** Makes the process's default namespace, when a call outside any test first needs one. */
  makeDefault: () => Namespace;
}

/**
 * Puts the faces in place of the built-ins for the rest of the process. Modules already
 * loaded keep what they imported, so this runs before the program (from --import, or
 * before `lonet run` imports it). A second call only replaces the default namespace.
 */
export function install(opts: InstallOptions): void {
  state.makeDefault = opts.makeDefault;
  state.fallback = null;
  if (state.installed) return;
  state.installed = true;
  const sampleNs = currentNamespace();
  const req = createRequire(import.meta.url);
  const faces: Record<string, object> = {};
  for (const name of Object.keys(FACES)) {
    const sample = (FACES[name] as (ns: Namespace) => Record<string, unknown>)(sampleNs);
    faces[name] = moduleFace(name, req(`node:${name}`) as object, sample);
  }
  (globalThis as Record<symbol, unknown>)[Symbol.for(FACES_KEY)] = faces;
  const roots = ownRoots();
  patchRequire(faces, roots);
  globalThis.fetch = ((input: never, init?: never) => currentNamespace().fetch(input, init)) as typeof fetch;
  // fetch's classes from the same undici, so `new Request(…)` goes into it and
  // `res instanceof Response` holds, as with Node's own fetch.
  Object.assign(globalThis, { Request, Response, Headers, FormData });
  setGlobalDispatcher(new RoutingDispatcher());
  register('./register-hooks.js', {
    parentURL: import.meta.url,
    data: { names: Object.keys(FACES), facesKey: FACES_KEY, ownRoots: roots.map((r) => pathToFileURL(r).href) },
  });
}
