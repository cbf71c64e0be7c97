/**
 * lonet runs in browsers: the core (everything below src/api and src/cli) imports no Node
 * built-in and touches no Node global, and the page's bundle, faces included, needs none.
 * Both are checked on a real browser build (vite, as the page is built), not by grepping.
 */
import assert from 'node:assert/strict';
import { isBuiltin } from 'node:module';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build, type Plugin, type Rollup, type UserConfig } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Found {
  id: string;
  importer: string;
}

/** Records every import of a Node built-in (and keeps it external so the build goes on to find them all). */
function builtinImports(found: Found[]): Plugin {
  return {
    name: 'record-node-builtins',
    enforce: 'pre',
    resolveId(id, importer) {
      if (!isBuiltin(id)) return null;
      found.push({ id, importer: relative(root, importer ?? '?') });
      return { id, external: true };
    },
  };
}

const outputOf = (r: Awaited<ReturnType<typeof build>>): Rollup.RollupOutput =>
  (Array.isArray(r) ? r[0] : r) as Rollup.RollupOutput;

/** Below src/api and src/cli: the layers that must be the same in Node and in a browser. */
const isCore = (file: string) =>
  file.startsWith(`src${sep}`) && !file.startsWith(join('src', 'api')) && !file.startsWith(join('src', 'cli'));

test('a browser build of the library: nothing below src/api and src/cli imports a Node built-in or uses a Node global', async () => {
  const found: Found[] = [];
  const out = outputOf(
    await build({
      configFile: false,
      root,
      logLevel: 'silent',
      plugins: [builtinImports(found)],
      build: {
        write: false,
        minify: false,
        target: 'es2022',
        lib: { entry: join(root, 'src/index.ts'), formats: ['es'], fileName: 'lonet' },
        // npm packages (undici under the Node faces) are not the core's: leave them out.
        rollupOptions: { external: (id) => /^(@[\w.-]+\/)?\w[\w.-]*(\/|$)/.test(id) && !isBuiltin(id) },
      },
    }),
  );
  assert.deepEqual(
    found.filter((f) => isCore(f.importer)),
    [],
    'Node built-ins imported by the core',
  );
  const chunk = out.output.find((o): o is Rollup.OutputChunk => o.type === 'chunk');
  assert.ok(chunk !== undefined);
  const core = Object.entries(chunk.modules).filter(([id]) => isCore(relative(root, id)));
  assert.ok(core.length > 50, `the core is in the bundle (${core.length} modules)`);
  // A Node global used as one (`process.env`, `Buffer.from`, `require(`), not a word in text ("in-process.").
  const nodeGlobals = /(?<![\w$.-])(?:Buffer|process|require|__dirname|__filename)(?=[.(])/;
  const offenders = core.filter(([, m]) => nodeGlobals.test(m.code ?? '')).map(([id]) => relative(root, id));
  assert.deepEqual(offenders, [], 'core modules using Node globals');
});

test("the page's bundle: only the Node faces (src/api) need stand-ins; the core and the tools run as they are", async () => {
  const config = (await import('../../demo/vite.config.js')).default as UserConfig;
  const wanted: Found[] = [];
  // Sees every import before the page's own plugins resolve it (and resolves nothing itself).
  const watch: Plugin = {
    name: 'watch-node-only-imports',
    enforce: 'pre',
    resolveId(id, importer) {
      if (isBuiltin(id) || id === 'undici') wanted.push({ id, importer: relative(root, importer ?? '?') });
      return null;
    },
  };
  const out = outputOf(
    await build({
      ...config,
      configFile: false,
      logLevel: 'silent',
      plugins: [watch, ...(config.plugins ?? [])],
      build: { ...config.build, write: false },
    }),
  );
  const fromOutside = wanted.filter(
    (f) => !f.importer.startsWith(join('src', 'api')) && !f.importer.startsWith('node_modules'),
  );
  assert.deepEqual(fromOutside, [], 'Node-only modules wanted outside src/api');
  const js = out.output.filter((o): o is Rollup.OutputChunk => o.type === 'chunk');
  assert.equal(js.length, 1, 'one script');
  assert.ok(
    !/\bimport\s*\(?\s*["'](?:node:|undici)/.test(js[0]?.code ?? ''),
    'no import of a Node module is left in the page',
  );
});
