/**
 * lonet/test: a namespace per test, in one process.
 *
 *   import { withNamespace } from 'lonet/test';
 *   test('two apps on 3000', withNamespace(async (ns) => { … }));
 *
 * Under lonet/register, every face call made in the test's async context (node:http,
 * node:net, fetch, …) goes to the test's own namespace; a server or socket keeps the
 * namespace it was made in. Without lonet/register, use the namespace given (ns.http, …).
 */
import type { Namespace } from './api/namespace.js';
import { closeAllOf } from './api/net.js';
import { currentNamespace, registered, runInNamespace } from './api/register.js';
import { makeNamespace, optionsFromEnv } from './api/register-options.js';

export { currentNamespace, registered };

/**
 * Wraps a test body: a fresh namespace (with LONET_NETEM / LONET_CLOCK applied) for each
 * run, destroyed once the body has settled, so what the test left open goes with it.
 */
export function withNamespace<A extends unknown[], T>(
  fn: (ns: Namespace, ...args: A) => T | Promise<T>,
): (...args: A) => Promise<T> {
  return async (...args: A) => {
    const ns = makeNamespace(optionsFromEnv());
    try {
      return await runInNamespace(ns, () => fn(ns, ...args));
    } finally {
      // What the test left open goes, as a process's sockets go when it exits.
      closeAllOf(ns);
      ns.destroy();
    }
  };
}
