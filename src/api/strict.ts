/**
 * LONET_STRICT: a guard against host sockets. Under lonet every socket a program opens
 * should be a namespace's; a TCP or UDP handle (or a host resolver request) that libuv
 * creates means some module reached past the faces — a native addon, or a module that
 * kept Node's real node:net. async_hooks sees every such handle as it is made.
 */
import { createHook } from 'node:async_hooks';

/** async_hooks resource types that are host sockets or the host's resolver. */
const HOST_TYPES: Readonly<Record<string, string>> = {
  TCPWRAP: 'a host TCP socket',
  TCPSERVERWRAP: 'a host TCP server socket',
  UDPWRAP: 'a host UDP socket',
  GETADDRINFOREQWRAP: "a lookup through the host's resolver (getaddrinfo)",
  GETNAMEINFOREQWRAP: "a reverse lookup through the host's resolver (getnameinfo)",
  QUERYWRAP: "a DNS query through the host's resolver (c-ares)",
};

export type StrictMode = 'throw' | 'report';

export class HostSocketError extends Error {
  override readonly name = 'HostSocketError';
  readonly code = 'ERR_LONET_HOST_SOCKET';
}

/** `node:net` for a frame in Node's lib, the package for one under node_modules, else the file. */
function moduleOf(frame: string): string {
  const m = /\(?((?:node:|file:\/\/|\/)[^()]*?):\d+:\d+\)?$/.exec(frame.trim());
  const where = m?.[1] ?? frame.trim();
  if (where.startsWith('node:')) return where.replace(/^node:internal\//, 'node:');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  return nm?.[1] ?? where;
}

/** The built-in that made the handle, and the first caller outside Node and lonet. */
export function describeStack(stack: string): { builtin: string; caller: string } {
  const frames = stack.split('\n').slice(1);
  let builtin = '';
  let caller = '';
  for (const f of frames) {
    if (f.includes('node:internal/async_hooks') || f.includes('/api/strict.')) continue;
    const mod = moduleOf(f);
    if (mod.startsWith('node:')) {
      if (builtin === '' && !mod.startsWith('node:internal')) builtin = mod;
      continue;
    }
    caller = mod;
    break;
  }
  return { builtin: builtin || 'a native addon', caller: caller || 'unknown' };
}

let first: HostSocketError | null = null;
let enabled = false;
/** Host handles lonet opens on purpose (ns.publish), and every handle they trigger. */
const exempt = new Set<number>();
let exempting = 0;

/** Runs fn with the host handles it opens (and the connections they accept) allowed. */
export function exemptHostHandles<T>(fn: () => T): T {
  exempting++;
  try {
    return fn();
  } finally {
    exempting--;
  }
}

/** Turns the guard on for the rest of the process. */
export function enableStrict(mode: StrictMode): void {
  if (enabled) return;
  enabled = true;
  createHook({
    init(id, type, triggerId) {
      if (exempting > 0 || exempt.has(triggerId)) {
        exempt.add(id);
        return;
      }
      const what = HOST_TYPES[type];
      if (what === undefined) return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 64;
      const probe = new Error();
      Error.stackTraceLimit = limit;
      const { builtin, caller } = describeStack(probe.stack ?? '');
      const err = new HostSocketError(
        `LONET_STRICT: ${what} (${type}) was opened by ${builtin}, called from ${caller}: it bypasses lonet's namespace`,
      );
      // The stack from where the handle was made, without the hook's own frames.
      const frames = (probe.stack ?? '').split('\n').slice(1);
      const from = frames.findIndex((f) => f.includes('emitInitNative') || f.includes('emitInitScript'));
      err.stack = `${err.name}: ${err.message}\n${frames.slice(from + 1).join('\n')}`;
      // A throw from an async hook ends the process at once, with this stack.
      if (mode === 'throw') throw err;
      first ??= err;
    },
    destroy(id) {
      exempt.delete(id);
    },
  }).enable();
  if (mode === 'report')
    process.on('exit', () => {
      if (first === null) return;
      process.stderr.write(`${first.stack}\n`);
      process.exitCode = 1;
    });
}

/** The first host socket seen in report mode, if any. */
export function firstHostSocket(): HostSocketError | null {
  return first;
}
