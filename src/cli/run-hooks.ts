/**
 * Module customization hooks for `lonet run` (registered with module.register, so they
 * run on Node's hooks thread). `node:net`, `node:http`, `node:dgram`, `node:https`, `node:tls`, `node:http2` and
 * their bare names resolve to a generated module that re-exports the namespace's face,
 * which the runner leaves on globalThis before the programs load. Every export of the
 * real module is there under its own name: the face's when it has one, else Node's own.
 */
import { createRequire } from 'node:module';

/** A dynamic import() on the hooks thread would wait on these very hooks: require the built-in. */
const require = createRequire(import.meta.url);

/** The built-ins lonet stands in for, by the name a program imports. */
const FACES: Record<string, string> = {
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

const SCHEME = 'lonet-face:';

/** Where the runner leaves the faces: `globalThis[Symbol.for(KEY)]`. */
export const FACES_KEY = 'lonet.run.faces';

interface ResolveContext {
  parentURL?: string | undefined;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;
interface LoadResult {
  format?: string | null | undefined;
  source?: string | ArrayBuffer | Uint8Array | null | undefined;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve) {
  const face = FACES[specifier];
  // The generated module itself imports the real built-in.
  if (face !== undefined && !context.parentURL?.startsWith(SCHEME)) {
    return { url: `${SCHEME}${face}`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const name = url.slice(SCHEME.length);
  const real = require(`node:${name}`) as Record<string, unknown>;
  const names = Object.keys(real).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
  const source = [
    `import * as real from 'node:${name}';`,
    `const face = globalThis[Symbol.for(${JSON.stringify(FACES_KEY)})]?.[${JSON.stringify(name)}];`,
    `if (face === undefined) throw new Error('node:${name} is lonet\\'s only inside \\'lonet run\\'');`,
    // The default export is node's module object with the face's members over it.
    'const merged = { ...real.default, ...face };',
    'export default merged;',
    ...names.map((n) => `export const ${n} = merged[${JSON.stringify(n)}];`),
  ].join('\n');
  return { format: 'module', source, shortCircuit: true };
}
