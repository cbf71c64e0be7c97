/**
 * The browser page: `npm run demo` serves it, `npm run demo:build` writes a static site to
 * demo/dist/ with relative asset paths, so any static file server (or a subfolder of one)
 * serves it, offline: everything it needs is in the bundle.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const require = createRequire(import.meta.url);

/**
 * The Node faces (src/api: node:dgram's, node:net's) are built on EventEmitter and
 * Buffer; in the page those come from the browser ports Node's own docs point to.
 * The core below src/api imports no Node built-in (test/demo/browser-bundle.test.ts).
 */
const nodeShims = {
  'node:events': require.resolve('events/'),
  'node:buffer': require.resolve('buffer/'),
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  clearScreen: false,
  resolve: { alias: nodeShims },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The stack is one ~300 kB chunk: nothing to gain from splitting it.
    chunkSizeWarningLimit: 1000,
  },
});
