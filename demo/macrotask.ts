/**
 * Browsers have no setImmediate, and the core's fallback, setTimeout(fn, 0), is clamped to
 * 4 ms once nested: ksoftirqd and `ping -f` would crawl at 250 rounds a second. A message
 * posted to a MessageChannel is a macrotask without the clamp (what setImmediate
 * polyfills have long used). Imported first, before the stack's modules read it.
 */
if (typeof globalThis.setImmediate !== 'function') {
  const queue: (() => void)[] = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    const fn = queue.shift();
    if (fn !== undefined) fn();
  };
  const setImmediatePolyfill = (fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    queue.push(() => fn(...args));
    channel.port2.postMessage(0);
    return 0;
  };
  Object.defineProperty(globalThis, 'setImmediate', {
    value: setImmediatePolyfill,
    configurable: true,
    writable: true,
  });
}
