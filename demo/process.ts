/**
 * The Node faces (src/api/net.ts) defer their events with process.nextTick, as Node's
 * lib/net.js does; a page has no `process`. A microtask keeps what they rely on: the
 * callback runs after the current call returns and before any timer or I/O. Only set
 * where there is no `process` at all, so a bundler's own shim wins.
 */
if (typeof globalThis.process === 'undefined') {
  const nextTick = (fn: (...args: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args));
  Object.defineProperty(globalThis, 'process', {
    value: { nextTick, env: {}, browser: true },
    configurable: true,
    writable: true,
  });
}
