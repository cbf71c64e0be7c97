/**
 * The browser page: `npm run demo` serves it, `npm run demo:build` writes a static site to
 * demo/dist/ with relative asset paths, so any static file server (or a subfolder of one)
 * serves it, offline: everything it needs is in the bundle.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);

/**
 * The Node faces (src/api) are built on EventEmitter, Buffer and streams; in the page those
 * come from their browser ports, so `ns.net` (Duplex sockets) runs there too. readable-stream
 * is Node's own stream code as a package; its browser entry is named here because its Node
 * entry tries the built-in first. The core below src/api imports no Node built-in
 * (test/demo/browser-bundle.test.ts).
 */
const nodeShims = {
  'node:events': require.resolve('events/'),
  'node:buffer': require.resolve('buffer/'),
  'node:stream': require.resolve('readable-stream/lib/ours/browser.js'),
};

/** Packages that exist only for Node (undici is node:http's client). */
const NODE_ONLY_PACKAGES = new Set(['undici']);
const STUB = '\0lonet-node-only:';

/**
 * Modules with no browser port that the Node faces import (node:http, undici)
 * become stand-ins in the page: every export is a function that throws "… is not
 * available in the browser" when called. Loading them costs nothing, so the core, the
 * shell and its tools run, and `ns.http` in the page says why it cannot.
 */
function nodeOnlyStandIns(): Plugin {
  return {
    name: 'lonet-node-only-stand-ins',
    enforce: 'pre',
    resolveId(id) {
      if (id.startsWith('node:') || NODE_ONLY_PACKAGES.has(id)) return STUB + id;
      return null;
    },
    async load(id) {
      if (!id.startsWith(STUB)) return null;
      const spec = id.slice(STUB.length);
      // The names come from the real module, loaded here in Node, so named imports resolve.
      const real: Record<string, unknown> = await import(spec).catch(() => ({}));
      const names = Object.keys(real).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const message = JSON.stringify(`${spec} is not available in the browser`);
      return [
        `function unavailable() { throw new Error(${message}); }`,
        ...names.map((n) => `export function ${n}() { unavailable(); }`),
        'export default new Proxy({}, { get: () => unavailable });',
      ].join('\n');
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  clearScreen: false,
  resolve: { alias: nodeShims },
  plugins: [nodeOnlyStandIns()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The page is one ~940 kB chunk (~290 kB gzipped): nothing to gain from splitting it.
    chunkSizeWarningLimit: 1000,
  },
});
