/**
 * Module customization hooks for lonet/register (registered with module.register, so they
 * run on Node's hooks thread). `node:net`, `net` and the rest of register.ts's FACES table
 * resolve to a generated module that re-exports the installed face, which register.ts
 * leaves on globalThis before any program loads. Every export of the real module is there
 * under its own name: the face's when it has one, else Node's own.
 */
import { createRequire } from 'node:module';

/** A dynamic import() on the hooks thread would wait on these very hooks: require the built-in. */
const require = createRequire(import.meta.url);

const SCHEME = 'lonet-face:';

interface InitData {
  names: string[];
  facesKey: string;
  ownRoots: string[];
}
let data: InitData = { names: [], facesKey: '', ownRoots: [] };

export function initialize(d: InitData): void {
  data = d;
}

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
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  const parent = context.parentURL ?? '';
  // The generated module itself, and lonet's own files, import the real built-in.
  if (data.names.includes(name) && !parent.startsWith(SCHEME) && !data.ownRoots.some((r) => parent.startsWith(r))) {
    return { url: `${SCHEME}${name}`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const name = url.slice(SCHEME.length);
  const real = require(`node:${name}`) as Record<string, unknown>;
  const names = Object.keys(real).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
  const source = [
    `const face = globalThis[Symbol.for(${JSON.stringify(data.facesKey)})]?.[${JSON.stringify(name)}];`,
    `if (face === undefined) throw new Error('node:${name}: lonet/register is not installed in this thread');`,
    'export default face;',
    ...names.map((n) => `export const ${n} = face[${JSON.stringify(n)}];`),
  ].join('\n');
  return { format: 'module', source, shortCircuit: true };
}
