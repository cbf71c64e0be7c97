/**
 * node:net over lonet's TCP: `ns.net.createServer`, `ns.net.connect`, `Socket`,
 * `Server`, as Node's lib/net.js behaves — asynchronous 'connect' and 'listening',
 * Duplex streams whose backpressure is the TCP window and send buffer, Node's error
 * shapes (`connect ECONNREFUSED 127.0.0.1:9`, `listen EADDRINUSE: address already in
 * use :::8080`), idle timeouts, half-open sockets, RST on resetAndDestroy(). A ref'd
 * socket or listening server keeps the process alive, as a libuv handle does.
 */

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { E, errnoName } from '../include/errno.js';
import { formatIpv4 } from '../ipv4/devinet.js';
import { formatIpv6, inetPton6 } from '../ipv6/addr.js';
import type { Net } from '../net/net.js';
import { libuvSunPath, UnixSock, unixUnlink } from '../socket/unix.js';
import { tcpCold } from '../transport/tcp/cold.js';
import { SHUT, TCP, TcpSock } from '../transport/tcp/sock.js';
import { mappedV4, v4Mapped } from '../transport/udp.js';
import { isIP, isIPv4, isIPv6, nodeError, specificType, validatePort } from '../userland/node-errors.js';
import { EAI_NONAME, getaddrinfo } from '../userland/resolver.js';
import { callable } from './callable.js';

type Callback = (...args: unknown[]) => void;

// ---- errors, as Node builds them ----

/** libuv's uv_strerror() texts for the errors a socket can meet. */
const UV_MESSAGES: Partial<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EINVAL: 'invalid argument',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  ENOENT: 'no such file or directory',
  ENOTSOCK: 'socket operation on non-socket',
  EBADF: 'bad file descriptor',
};

export interface NetSystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  address?: string;
  port?: number;
}

function sysErr(
  errno: number,
  syscall: string,
  address?: string,
  port?: number,
  withMessage = false,
  local?: string,
): NetSystemError {
  const code = errnoName(errno) ?? `Unknown system error ${errno}`;
  let where = address !== undefined ? (port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`) : '';
  // ExceptionWithHostPort's `additional`: the local end, when known.
  if (local !== undefined) where += ` - Local (${local})`;
  const text = withMessage ? `${syscall} ${code}: ${UV_MESSAGES[code] ?? code}${where}` : `${syscall} ${code}${where}`;
  const err = new Error(text) as NetSystemError;
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined && port > 0) err.port = port;
  return err;
}

// ---- addresses ----

function toAddr(ip: string): { addr: Uint8Array; family: 4 | 6 } {
  if (isIPv4(ip)) return { addr: v4Mapped(ip.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0)), family: 4 };
  const pct = ip.indexOf('%');
  return { addr: inetPton6(pct < 0 ? ip : ip.slice(0, pct)) as Uint8Array, family: 6 };
}

/** How Node names an address of a socket of `family`. */
function fromAddr(family: 4 | 6, a: Uint8Array): string {
  if (family === 4) return formatIpv4(mappedV4(a));
  return formatIpv6(a);
}

export type LookupFunction = (
  hostname: string,
  options: { family?: number; all?: boolean },
  cb: (err: Error | null, address: string, family: number) => void,
) => void;

/** dns.lookup in the socket's namespace: its /etc/hosts, then its nameservers (userland/resolver.ts). */
function defaultLookup(
  net: Net,
  hostname: string,
  options: { family?: unknown; all?: boolean },
  cb: (err: Error | null, address?: unknown, family?: number) => void,
): void {
  const family = options.family === 4 || options.family === 6 ? options.family : 0;
  const deliver = (r: Awaited<ReturnType<typeof getaddrinfo>>) => {
    // With `all`, every address as dns.lookup gives them: [{ address, family }].
    if (Array.isArray(r) && r[0] !== undefined)
      return options.all === true
        ? cb(
            null,
            r.map((a) => ({ address: a.address, family: a.family })),
          )
        : cb(null, r[0].address, r[0].family);
    const gai = Array.isArray(r) ? EAI_NONAME : r;
    const code = gai.code === 'EAI_NONAME' ? 'ENOTFOUND' : gai.code;
    const err = new Error(`getaddrinfo ${code} ${hostname}`) as Error & Record<string, unknown>;
    err.errno = gai.errno;
    err.code = code;
    err.syscall = 'getaddrinfo';
    err.hostname = hostname;
    cb(err);
  };
  // dns.lookup is answered from libuv's thread pool: on a later turn of the loop, never the
  // one that asked (what that turn has left to do, shutdowns and closes, goes first).
  getaddrinfo(net, hostname, family).then((r) => setImmediate(() => deliver(r)));
}

/** ERR_INVALID_ADDRESS_FAMILY, as a lookup that answers a family other than 4 or 6 gets. */
function badFamily(family: unknown, opts: { host?: string; port?: unknown }): Error {
  const err = nodeError(
    RangeError,
    'ERR_INVALID_ADDRESS_FAMILY',
    `Invalid address family: ${family} ${opts.host}:${opts.port}`,
  );
  return Object.assign(err, { host: opts.host, port: opts.port });
}

/** dns.ADDRCONFIG, AI_V4MAPPED, AI_ALL: glibc's values, which Node's dns constants are on Linux. */
const AI_ADDRCONFIG = 32;
const AI_V4MAPPED = 8;
const AI_ALL = 16;

/** net.setDefaultAutoSelectFamily() and its attempt timeout: process-wide, as in Node 20. */
let autoSelectFamilyDefault = true;
let autoSelectFamilyAttemptTimeoutDefault = 250;

/** A value as an error message shows it (a shallow util.inspect). */
function shown(v: unknown): string {
  if (typeof v !== 'object' || v === null) return typeof v === 'string' ? quoted(v) : String(v);
  const parts = Object.entries(v).map(
    ([k, x]) => `${k}: ${typeof x === 'object' && x !== null ? '[Object]' : shown(x)}`,
  );
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

/** A string as util.inspect quotes it: control characters escaped, the quote it lacks chosen. */
function quoted(v: string): string {
  const named: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  let q = "'";
  if (v.includes("'")) {
    if (!v.includes('"')) q = '"';
    else if (!v.includes('`') && !v.includes('${')) q = '`';
  }
  let body = '';
  for (const c of v) {
    const code = c.charCodeAt(0);
    if (c === '\\') body += '\\\\';
    else if (c === q) body += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) body += named[c] ?? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else body += c;
  }
  return `${q}${body}${q}`;
}

/** ERR_INVALID_ARG_TYPE for an option property. */
function notOfType(name: string, what: string, v: unknown): Error {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" property must be of type ${what}. Received ${specificType(v)}`,
  );
}

/** lookupAndConnect()'s checks of the options after the port, in Node's order and words. */
function validateConnectOptions(o: TcpSocketConnectOpts & { hints?: unknown }): void {
  if (o.localPort && typeof o.localPort !== 'number') throw notOfType('options.localPort', 'number', o.localPort);
  const asf = o.autoSelectFamily as unknown;
  if (asf != null && typeof asf !== 'boolean') throw notOfType('options.autoSelectFamily', 'boolean', asf);
  const t = (o as { autoSelectFamilyAttemptTimeout?: unknown }).autoSelectFamilyAttemptTimeout;
  if (t != null) validateInt32(t, 'options.autoSelectFamilyAttemptTimeout', 1);
  // dns.lookup's validateHints(): only AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL (Linux's values).
  const hints = Number(o.hints ?? 0);
  if (!isIP(o.host ?? '') && (hints & ~(AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL)) !== 0)
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'hints' is invalid. Received ${hints}`);
}

/** isPipeName(): a string that is not a port number names an IPC path. */
function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && !(Number(s) >= 0);
}

// ---- process liveness ----

/** Every socket and server of a namespace that is not closed yet (for closeAllOf). */
const openByNet = new WeakMap<Net, Set<Socket | Server>>();

/** Counts a socket or server open in its namespace until it closes (untrack). */
function track(net: Net, obj: Socket | Server): void {
  let set = openByNet.get(net);
  if (set === undefined) {
    set = new Set();
    openByNet.set(net, set);
  }
  set.add(obj);
}

function untrack(net: Net, obj: Socket | Server): void {
  openByNet.get(net)?.delete(obj);
}

/**
 * Closes every server and destroys every socket still open in the namespace, as the
 * kernel does to a process's sockets when it exits (withNamespace, at a test's end).
 */
export function closeAllOf(net: Net): void {
  for (const obj of openByNet.get(net) ?? []) {
    if (obj instanceof Server) obj.close();
    else obj.destroy();
  }
}

/**
 * What holds the event loop open while ref'd sockets or servers exist: one long interval
 * shared by all of them and counted, as libuv counts active handles, rather than a timer
 * made and cleared per connection.
 */
let liveCount = 0;
let liveTimer: ReturnType<typeof setInterval> | null = null;

class Liveness {
  #held = false;
  ref = true;
  active = false;
  update(): void {
    const want = this.ref && this.active;
    if (want === this.#held) return;
    this.#held = want;
    if (want) {
      if (liveCount++ === 0) liveTimer = setInterval(() => {}, 2 ** 30);
    } else if (--liveCount === 0 && liveTimer !== null) {
      clearInterval(liveTimer);
      liveTimer = null;
    }
  }
}

// ---- Socket ----

export interface SocketConstructorOpts {
  allowHalfOpen?: boolean;
  readable?: boolean;
  writable?: boolean;
  signal?: AbortSignal;
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  onread?: {
    buffer: Uint8Array | (() => Uint8Array);
    callback: (nread: number, buf: Uint8Array) => boolean | undefined;
  };
}

export interface TcpSocketConnectOpts {
  port: number;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number | string;
  lookup?: LookupFunction;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
  autoSelectFamily?: boolean;
}

const kSk = Symbol('tcp sock');

const hostFs = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:fs',
) as
  | {
      fstatSync(fd: number): { isFIFO(): boolean; isSocket(): boolean };
      statSync(path: string): { mode: number };
      openSync(path: string, flags: string, mode: number): number;
      closeSync(fd: number): void;
      chmodSync(path: string, mode: number): void;
      unlinkSync(path: string): void;
    }
  | undefined;

/**
 * A bound pathname takes its place in the host's file system, as unix_bind's mknod does:
 * other programs see the name taken, and it stays if the process dies without closing the
 * server. Node has no mknod and a socket inode needs a host socket, so the file is a regular
 * one (stat().isSocket() is false) with a socket inode's mode, 0777 less the umask.
 */
function hostSocketFileCreate(path: string): number {
  if (hostFs === undefined) return 0;
  try {
    hostFs.closeSync(hostFs.openSync(path, 'wx', 0o777));
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') return -E.EADDRINUSE;
    return -((code !== undefined ? (E as Record<string, number>)[code] : undefined) ?? E.EACCES);
  }
}

/** uv_pipe_chmod(): add read and/or write for user, group and others, if any is missing. */
function hostSocketFileChmod(path: string, readable: boolean, writable: boolean): void {
  if (hostFs === undefined) return;
  const want = (readable ? 0o444 : 0) | (writable ? 0o222 : 0);
  const mode = hostFs.statSync(path).mode & 0o7777;
  if ((mode & want) !== want) hostFs.chmodSync(path, mode | want);
}

/** libuv unlinks a pipe server's path when it closes the handle, whoever's file it is by then. */
function hostSocketFileUnlink(path: string): void {
  try {
    hostFs?.unlinkSync(path);
  } catch {
    // Gone already: the program removed it.
  }
}

/**
 * listen({ fd }) names a descriptor of the host process. Node makes a libuv handle of it only
 * when it is a pipe or a socket (createHandle; anything else, or a closed descriptor, is
 * EINVAL), and listen(2) on a pipe says ENOTSOCK. A host socket lives in the host's network,
 * not in this namespace, whose sockets have no host descriptors: EBADF, as for a descriptor
 * this process never opened. Without a host (a browser) no number names anything.
 */
function hostFdListenErrno(fd: number): number {
  if (hostFs === undefined) return E.EBADF;
  let st: { isFIFO(): boolean; isSocket(): boolean };
  try {
    st = hostFs.fstatSync(fd);
  } catch {
    return E.EINVAL;
  }
  if (st.isFIFO()) return E.ENOTSOCK;
  return st.isSocket() ? E.EBADF : E.EINVAL;
}

export class Socket extends Duplex {
  readonly #net: Net;
  [kSk]: TcpSock | UnixSock | null = null;
  connecting = false;
  bytesRead = 0;
  #bytesWritten = 0;
  #live = new Liveness();
  #readPaused = true;
  #pullScheduled = false;
  #pullLater: (() => void) | null = null;
  #writeSpace: (() => void) | null = null;
  #pendingWrite: { chunks: Uint8Array[]; cb: (err?: Error | null) => void } | null = null;
  #timeoutMs = 0;
  /** socket.timeout: what setTimeout() was last given (a plain property in Node). */
  #timeoutProp: number | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #host: string | undefined;
  #eof = false;
  /** Every address an autoSelectFamily connect tried, as `address:port` (Node 20). */
  autoSelectFamilyAttemptedAddresses: string[] | undefined;
  /** The Server that accepted this socket, if any (socket.server in Node). */
  server: EventEmitter | null = null;
  _server: EventEmitter | null = null;

  constructor(net: Net, options: SocketConstructorOpts = {}, accepted?: TcpSock | UnixSock) {
    // A byte stream has no object mode (net.Socket refuses it before anything else).
    for (const key of ['objectMode', 'readableObjectMode', 'writableObjectMode'] as const) {
      const v = (options as Record<string, unknown>)[key];
      if (v)
        throw nodeError(
          TypeError,
          'ERR_INVALID_ARG_VALUE',
          `The property 'options.${key}' is not supported. Received ${String(v)}`,
        );
    }
    super({
      allowHalfOpen: Boolean(options.allowHalfOpen),
      emitClose: false,
      autoDestroy: true,
      decodeStrings: false,
      ...(options.readable === false ? { readable: false } : {}),
      ...(options.writable === false ? { writable: false } : {}),
      // As net.Socket hands its options to Duplex: the stream's buffer sizes.
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
      ...(options.readableHighWaterMark !== undefined ? { readableHighWaterMark: options.readableHighWaterMark } : {}),
      ...(options.writableHighWaterMark !== undefined ? { writableHighWaterMark: options.writableHighWaterMark } : {}),
    });
    this.#net = net;
    track(net, this);
    const onread = options.onread;
    if (
      typeof onread === 'object' &&
      onread !== null &&
      (onread.buffer instanceof Uint8Array || typeof onread.buffer === 'function') &&
      typeof onread.callback === 'function'
    ) {
      if (typeof onread.buffer === 'function') this.#userBufGen = onread.buffer;
      else this.#userBuf = onread.buffer;
      this.#userBufCb = onread.callback as (nread: number, buf: Uint8Array) => unknown;
    }
    const o = options as { noDelay?: unknown; keepAlive?: unknown; keepAliveInitialDelay?: unknown; handle?: unknown };
    let delay = o.keepAliveInitialDelay;
    if (delay !== undefined) {
      if (typeof delay !== 'number')
        throw nodeError(
          TypeError,
          'ERR_INVALID_ARG_TYPE',
          `The "options.keepAliveInitialDelay" property must be of type number. Received ${specificType(delay)}`,
        );
      if (delay < 0) delay = 0;
    }
    this.#noDelay = Boolean(o.noDelay);
    this.#keepAlive = Boolean(o.keepAlive);
    this.#keepAliveDelay = ~~((delay as number) / 1000);
    // A handle the caller made is the socket's handle, as Node's constructor takes it: its
    // setNoDelay and setKeepAlive are what the socket's call. lonet never makes one itself.
    if (o.handle) this._handle = o.handle;
    if (options.signal !== undefined) this.#abortOn(options.signal);
    if (accepted !== undefined) this.#attach(accepted);
    // With allowHalfOpen off, Duplex ends the writable side on the next tick after 'end';
    // a write in between fails as net.Socket's writeAfterFIN does.
    this.on('end', onReadableStreamEnd);
  }

  /** addClientAbortSignalOption(): an aborted signal destroys the socket with an AbortError. */
  #abortOn(signal: AbortSignal): void {
    if (typeof signal !== 'object' || signal === null || !('aborted' in signal))
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "options.signal" property must be an instance of AbortSignal. Received ${specificType(signal)}`,
      );
    const onAbort = () => {
      const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
      err.name = 'AbortError';
      err.code = 'ABORT_ERR';
      this.destroy(err);
    };
    if (signal.aborted) process.nextTick(onAbort);
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  /** onread: the caller's buffer (or the function giving one) and callback, instead of 'data'. */
  #userBuf: Uint8Array | null = null;
  #userBufGen: (() => Uint8Array) | null = null;
  #userBufCb: ((nread: number, buf: Uint8Array) => unknown) | null = null;

  /** Reading into onread's buffer stops on pause() and starts on resume() or read(), as Node's does. */
  override pause(): this {
    if (this.#userBuf !== null && !this.connecting && this[kSk] !== null && !this.#readPaused) {
      this.#readPaused = true;
      this.#updateLive();
    }
    return super.pause();
  }

  override resume(): this {
    if (this.#userBuf !== null && !this.connecting && this[kSk] !== null && this.#readPaused) this.#readStart();
    return super.resume();
  }

  override read(n?: number): unknown {
    if (this.#userBuf !== null && !this.connecting && this[kSk] !== null && this.#readPaused) this.#readStart();
    return super.read(n);
  }

  #readStart(): void {
    this.#readPaused = false;
    this[kSk]?.onDataReady?.();
    this.#updateLive();
  }

  /** The TCP socket underneath, for tools and tests (never a libuv handle). */
  get tcp(): TcpSock | null {
    const sk = this[kSk];
    return sk instanceof TcpSock ? sk : null;
  }

  /** The AF_UNIX socket underneath an IPC connection. */
  get unix(): UnixSock | null {
    const sk = this[kSk];
    return sk instanceof UnixSock ? sk : null;
  }

  #attach(sk: TcpSock | UnixSock): void {
    this[kSk] = sk;
    // initSocketHandle(): a buffer function gives the first buffer for each new handle.
    if (this.#userBufGen !== null) {
      const first = this.#userBufGen();
      if (first instanceof Uint8Array) this.#userBuf = first;
    }
    // Like libuv, the application hears of readable data in the loop's poll phase.
    sk.onDataReady = () => {
      if (this.#pullScheduled) return;
      this.#pullScheduled = true;
      this.#pullLater ??= () => {
        this.#pullScheduled = false;
        this.#pull();
      };
      setImmediate(this.#pullLater);
    };
    sk.onError = () => {
      // While connecting, the error is the connect's (ETIMEDOUT, ECONNREFUSED): onStateChange takes it.
      if (this.connecting) return;
      // After the peer's FIN a read gives EOF first (SOCK_DONE): libuv learns of the error
      // by reading, so the EOF comes and the error stays for a later write, as on Linux.
      if (sk instanceof TcpSock && sk.done && !this.#eof) {
        // A write under way meets the error itself (libuv's uv__write sees it).
        this.#flushPending();
        sk.onDataReady?.();
        return;
      }
      const err = sk.takeError();
      if (err !== 0) this.destroy(sysErr(-err, 'read'));
    };
  }

  /**
   * libuv's rule: a stream handle keeps the loop alive while it is active (connecting,
   * reading, or with a write or shutdown under way) and ref'd. A socket that has read EOF,
   * or stopped reading because nobody takes its data, and has nothing left to write, lets
   * the process exit even though it was never closed.
   */
  #updateLive(): void {
    this.#live.active =
      !this.destroyed &&
      // Connecting counts once the connect is under way: a lookup that never answers
      // holds nothing, as in Node (the handle only starts its connect after it).
      ((this.connecting && this[kSk] !== null) ||
        // A write waiting for the connection is held in JS (_pendingData), not by libuv.
        (this.#pendingWrite !== null && !this.connecting) ||
        this.#shuttingDown ||
        (this[kSk] !== null && !this.#readPaused && !this.#eof));
    this.#live.update();
  }

  #shuttingDown = false;

  // --- connect ---

  connect(...args: unknown[]): this {
    let opts: TcpSocketConnectOpts;
    let cb: Callback | undefined;
    if (typeof args[0] === 'object' && args[0] !== null) {
      opts = args[0] as TcpSocketConnectOpts;
      cb = args[1] as Callback | undefined;
    } else if (isPipeName(args[0])) {
      opts = { path: args[0] } as unknown as TcpSocketConnectOpts;
      cb = args[1] as Callback | undefined;
    } else {
      opts = { port: args[0] as number };
      if (typeof args[1] === 'string') {
        opts.host = args[1];
        cb = args[2] as Callback | undefined;
      } else cb = args[1] as Callback | undefined;
    }
    const path = (opts as { path?: unknown }).path;
    if (opts.port === undefined && (path === undefined || path === null))
      throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified');
    if (path !== undefined && path !== null && path !== '') {
      if (typeof path !== 'string')
        throw nodeError(
          TypeError,
          'ERR_INVALID_ARG_TYPE',
          `The "options.path" property must be of type string. Received ${specificType(path)}`,
        );
    }
    if (typeof cb === 'function') this.once('connect', cb);
    // writeAfterFIN of the last connection goes (Node puts its own write back).
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    // A closed socket connects again with a new sock, as Node does with a new handle:
    // initSocketHandle() undestroys the stream.
    if (this.destroyed || this[kSk] === null) this.#reinit();
    if (typeof path === 'string' && path !== '') {
      this.connecting = true;
      this.#updateLive();
      if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
      this.#connectPath(path);
      return this;
    }
    if (opts.localAddress && !isIP(opts.localAddress))
      throw nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${opts.localAddress}`);
    if (typeof opts.port !== 'number' && typeof opts.port !== 'string')
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "options.port" property must be one of type number or string. Received ${specificType(opts.port)}`,
      );
    const port = validatePort(opts.port, 'Port');
    validateConnectOptions(opts);
    const host = opts.host || 'localhost';
    this.#host = host;
    this.connecting = true;
    this.#updateLive();
    if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
    const go = (ip: string) => this.#internalConnect(ip, port, opts);
    const autoSelectFamily = opts.autoSelectFamily ?? autoSelectFamilyDefault;
    const attemptTimeout = Math.max(
      10,
      (opts as { autoSelectFamilyAttemptTimeout?: number }).autoSelectFamilyAttemptTimeout ??
        autoSelectFamilyAttemptTimeoutDefault,
    );
    if (isIP(host)) {
      process.nextTick(() => {
        if (this.connecting) this.#internalConnect(host, port, opts);
      });
    } else {
      if (opts.lookup != null && typeof opts.lookup !== 'function')
        throw nodeError(
          TypeError,
          'ERR_INVALID_ARG_TYPE',
          `The "options.lookup" property must be of type function. Received ${specificType(opts.lookup)}`,
        );
      const lookup: (h: string, o: object, cb: (err: Error | null, ip: unknown, fam?: number) => void) => void =
        opts.lookup ?? ((h, o, cb) => defaultLookup(this.#net, h, o, cb));
      // lookupAndConnect()'s dns options: the family as given ('IPv4'/'IPv6' named), the
      // hints, AI_ADDRCONFIG when no family is fixed.
      const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
      let hints = Number((opts as { hints?: number }).hints) || 0;
      if (family !== 4 && family !== 6 && hints === 0) hints = AI_ADDRCONFIG;
      const fail = (err: Error) => process.nextTick(() => this.destroy(err));
      // Node 20 tries every address (autoSelectFamily) unless a family or a local address is
      // fixed: the lookup is then asked for all of them, as an array.
      if (family !== 4 && family !== 6 && !opts.localAddress && autoSelectFamily) {
        lookup(host, { family, hints, all: true }, (err: Error | null, answer: unknown) => {
          if (!this.connecting) return;
          if (err) {
            this.emit('lookup', err, undefined, undefined, host);
            return fail(err);
          }
          const list = answer as { address: string; family: number }[];
          // Each family in lookup order, without repeats; the first valid address's family leads.
          const groups: { address: string; family: 4 | 6 }[][] = [[], []];
          let lead: 4 | 6 | 0 = 0;
          for (const a of list) {
            this.emit('lookup', err, a.address, a.family, host);
            if (!this.connecting) return;
            if (!isIP(a.address) || (a.family !== 4 && a.family !== 6)) continue;
            if (lead === 0) lead = a.family;
            const g = groups[a.family === lead ? 0 : 1] as { address: string; family: 4 | 6 }[];
            if (!g.some((x) => x.address === a.address)) g.push({ address: a.address, family: a.family });
          }
          const [first, second] = groups as [
            { address: string; family: 4 | 6 }[],
            { address: string; family: 4 | 6 }[],
          ];
          if (first.length === 0) {
            const a = list[0];
            if (a === undefined) return;
            if (!isIP(a.address))
              return fail(nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${a.address}`));
            return fail(badFamily(a.family, opts));
          }
          // The families alternate (RFC 8305's interleaving).
          const toAttempt: { address: string; family: 4 | 6 }[] = [];
          for (let i = 0; i < Math.max(first.length, second.length); i++) {
            if (i < first.length) toAttempt.push(first[i] as { address: string; family: 4 | 6 });
            if (i < second.length) toAttempt.push(second[i] as { address: string; family: 4 | 6 });
          }
          if (toAttempt.length === 1) go((toAttempt[0] as { address: string }).address);
          else this.#connectMultiple(toAttempt, port, opts, attemptTimeout);
        });
        return this;
      }
      lookup(host, { family, hints }, (err: Error | null, ip: unknown, fam?: number) => {
        this.emit('lookup', err, ip, fam, host);
        if (!this.connecting) return;
        if (err) return fail(err);
        if (typeof ip !== 'string' || !isIP(ip))
          return fail(nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${ip}`));
        if (fam !== 4 && fam !== 6) return fail(badFamily(fam, opts));
        go(ip);
      });
    }
    return this;
  }

  /** A new connection on this object: the stream undestroyed, nothing left of the last one. */
  #reinit(): void {
    this[kSk] = null;
    this.#eof = false;
    this.#readPaused = true;
    this.#pendingWrite = null;
    this.#shuttingDown = false;
    // The counters are the handle's: a new one starts from nothing.
    this.bytesRead = 0;
    this.#bytesWritten = 0;
    if (this.destroyed) track(this.#net, this);
    (this as unknown as { _undestroy(): void })._undestroy();
  }

  /** The timer of an autoSelectFamily attempt: stopped when any attempt completes. */
  #attemptTimer: ReturnType<typeof setTimeout> | null = null;

  #clearAttemptTimer(): void {
    if (this.#attemptTimer !== null) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
  }

  /**
   * Connects to each address in turn (internalConnectMultiple): the next one when an attempt
   * fails, or when it has not finished within the attempt timeout (the last one has none).
   * All failed: an AggregateError of their errors.
   */
  #connectMultiple(
    addresses: { address: string; family: 4 | 6 }[],
    port: number,
    opts: TcpSocketConnectOpts,
    timeout: number,
  ): void {
    const attempted: string[] = [];
    this.autoSelectFamilyAttemptedAddresses = attempted;
    const errors: NetSystemError[] = [];
    let current = 0;
    const next = (): void => {
      this.#clearAttemptTimer();
      if (!this.connecting) return;
      if (current === addresses.length) {
        const err =
          errors.length === 0
            ? nodeError(Error, 'ERR_SOCKET_CONNECTION_TIMEOUT', 'Socket connection timeout')
            : Object.assign(new AggregateError(errors), { code: errors[0]?.code });
        this.destroy(err);
        return;
      }
      const i = current++;
      const { address, family } = addresses[i] as { address: string; family: 4 | 6 };
      this.emit('connectionAttempt', address, port, family);
      attempted.push(`${address}:${port}`);
      const sk = this.#internalConnect(address, port, opts, (err) => {
        this.#clearAttemptTimer();
        errors.push(err);
        this.emit('connectionAttemptFailed', address, port, family, err);
        next();
      });
      if (sk !== null && i < addresses.length - 1 && this[kSk] === sk && this.connecting)
        this.#attemptTimer = setTimeout(() => {
          this.#attemptTimer = null;
          this.emit('connectionAttemptTimeout', address, port, family);
          errors.push(sysErr(E.ETIMEDOUT, 'connect', address, port));
          sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = null;
          sk.close();
          next();
        }, timeout);
    };
    next();
  }

  /**
   * One connect: a new sock to ip:port. A failure goes to `failed` when given (the next
   * address of an autoSelectFamily connect), else destroys the socket. The sock, or null
   * when the connect failed at once.
   */
  #internalConnect(
    ip: string,
    port: number,
    opts: TcpSocketConnectOpts,
    failed: (err: NetSystemError) => void = (err) => this.destroy(err),
  ): TcpSock | null {
    const { addr, family } = toAddr(ip);
    const sk = new TcpSock(this.#net, family);
    this.#attach(sk);
    const drop = () => {
      sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = null;
      sk.close();
    };
    // What the constructor's options or an early setNoDelay/setKeepAlive asked for (afterConnect).
    if (this.#noDelay) sk.setNoDelay(true);
    if (this.#keepAlive) sk.setKeepAlive(true, this.#keepAliveDelay);
    // null is no local address, as net.Socket reads it (undici passes localAddress: null).
    if (opts.localAddress != null || opts.localPort != null) {
      const local = opts.localAddress != null ? toAddr(opts.localAddress).addr : new Uint8Array(16);
      const r = sk.bind(local, opts.localPort ?? 0);
      if (r < 0) {
        drop();
        failed(sysErr(-r, 'bind', opts.localAddress ?? (family === 4 ? '0.0.0.0' : '::'), opts.localPort));
        return null;
      }
    }
    sk.onStateChange = () => {
      if (!this.connecting || this[kSk] !== sk) return;
      // libuv reports the connect in the poll phase, after the listener's accept.
      if (sk.state === TCP.ESTABLISHED || sk.state === TCP.CLOSE_WAIT)
        setImmediate(() => {
          // Not if this attempt timed out in between and another one took its place.
          if (this[kSk] === sk) this.#afterConnect();
        });
      else if (sk.state === TCP.CLOSE) {
        const err = sk.takeError();
        // afterConnect(): the local end is named only when the caller chose both halves of it.
        const local = opts.localAddress && opts.localPort ? `${opts.localAddress}:${opts.localPort}` : undefined;
        const ex = sysErr(err !== 0 ? -err : E.ECONNREFUSED, 'connect', ip, port, false, local);
        if (local !== undefined) Object.assign(ex, { localAddress: opts.localAddress, localPort: opts.localPort });
        drop();
        failed(ex);
      }
    };
    const r = sk.connect(addr, port);
    if (r !== -E.EINPROGRESS) {
      // A connect that fails at once names the local end getsockname() gives.
      const name = sk.sockname;
      const err = sysErr(-r, 'connect', ip, port, false, `${fromAddr(family, name.addr)}:${name.port}`);
      drop();
      failed(err);
      return null;
    }
    return sk;
  }

  /**
   * An IPC connect: unix_stream_connect() succeeds or fails at once, and libuv reports
   * either on a later turn of the loop (uv__io_feed), as it does for pipes.
   */
  #connectPath(path: string): void {
    const sk = new UnixSock(this.#net);
    this.#attach(sk);
    const r = sk.connect(libuvSunPath(path));
    setImmediate(() => {
      if (!this.connecting) return;
      if (r < 0) this.destroy(sysErr(-r, 'connect', path));
      else this.#afterConnect();
    });
  }

  #afterConnect(): void {
    if (!this.connecting || this.destroyed) return;
    this.#clearAttemptTimer();
    this.connecting = false;
    this.#touch();
    this.emit('connect');
    this.emit('ready');
    if (!this.isPaused() || this.readableFlowing === null) this.read(0);
    this.#flushPending();
    this.#updateLive();
  }

  get pending(): boolean {
    // Node's `!this._handle || this.connecting`: destroy drops the handle.
    return this[kSk] === null || this.connecting || this.destroyed;
  }

  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  // --- reading ---

  override _read(): void {
    const sk = this[kSk];
    this.#readPaused = false;
    // uv_read_start(): the bytes come in the loop's poll phase, never inside read() itself,
    // so each 'data' sees bytesRead as it was when that chunk was read.
    if (sk !== null && !this.connecting) this.#readStart();
    else this.#updateLive();
  }

  #pull(): void {
    const sk = this[kSk];
    if (sk === null || this.#eof || this.destroyed || this.connecting) return;
    while (!this.#readPaused) {
      // libuv stops reading at EAGAIN; a TCP socket says so without the system call.
      if (sk instanceof TcpSock && sk.recvWouldBlock) return;
      const userBuf = this.#userBuf;
      // With onread's buffer, a read takes what fits in it (libuv's useUserBuffer).
      const d = sk.recvmsg(
        userBuf !== null ? userBuf.byteLength : 'rcvQueue' in sk ? readSize(sk.rcvQueue) : undefined,
      );
      if (typeof d === 'number') {
        if (d === 0) {
          this.#eof = true;
          this.#updateLive();
          this.push(null);
          // As onStreamRead does: 'end' comes even when nobody is reading.
          this.read(0);
        } else if (d !== -E.EAGAIN) this.destroy(sysErr(-d, 'read'));
        return;
      }
      this.bytesRead += d.byteLength;
      this.#touch();
      if (userBuf !== null) {
        // onStreamRead() with a user buffer: the bytes go to the callback, never to 'data';
        // the callback's false stops reading; a buffer function gives the next buffer.
        userBuf.set(d);
        const cb = this.#userBufCb as (nread: number, buf: Uint8Array) => unknown;
        const more = cb.call(this, d.byteLength, userBuf) !== false;
        const next = this.#userBufGen?.();
        if (next instanceof Uint8Array) this.#userBuf = next;
        if (!more) {
          this.#readPaused = true;
          this.#updateLive();
        }
        continue;
      }
      if (!this.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength))) {
        this.#readPaused = true;
        this.#updateLive();
      }
    }
  }

  // --- writing ---

  override _write(chunk: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
    this.#send([buf], cb);
  }

  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], cb: (err?: Error | null) => void): void {
    this.#send(
      chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : (c.chunk as Uint8Array))),
      cb,
    );
  }

  #send(chunks: Uint8Array[], cb: (err?: Error | null) => void): void {
    // Before the connection is up the write waits here (Node's _pendingData), counted in
    // bytesWritten in bytes; #afterConnect flushes it.
    this.#pendingWrite = { chunks, cb };
    this.#flushPending();
    this.#updateLive();
  }

  #flushPending(): void {
    const p = this.#pendingWrite;
    const sk = this[kSk];
    if (p === null || sk === null || this.connecting) return;
    while (p.chunks.length > 0) {
      const c = p.chunks[0] as Uint8Array;
      if (c.byteLength === 0) {
        p.chunks.shift();
        continue;
      }
      // MSG_MORE only while another non-empty chunk follows in this write.
      let more = false;
      for (let i = 1; i < p.chunks.length && !more; i++) more = (p.chunks[i] as Uint8Array).byteLength > 0;
      const n = sk.sendmsg(c, more);
      if (n === -E.EAGAIN) {
        this.#waitForSpace(sk);
        return;
      }
      if (n < 0) {
        this.#pendingWrite = null;
        this.#updateLive();
        p.cb(sysErr(-n, 'write'));
        return;
      }
      this.#bytesWritten += n;
      this.#touch();
      if (n === c.byteLength) p.chunks.shift();
      else {
        p.chunks[0] = c.subarray(n);
        this.#waitForSpace(sk);
        return;
      }
    }
    this.#pendingWrite = null;
    sk.onWriteSpace = null;
    this.#updateLive();
    p.cb();
  }

  /**
   * SOCK_NOSPACE: only a writer the buffer turned away is woken when it drains, so the
   * ACKs of a socket with room queue no wakeups. A TCP send may have got room back
   * before it returned (its softirq took the peer's ACKs): then the wakeup is now. (An
   * AF_UNIX socket marks its blocked writer itself, inside sendmsg.)
   */
  #waitForSpace(sk: TcpSock | UnixSock): void {
    this.#writeSpace ??= () => this.#flushPending();
    const wake = this.#writeSpace;
    sk.onWriteSpace = wake;
    if (sk instanceof TcpSock && sk.writable) queueMicrotask(wake);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting || this[kSk] === null) {
      this.once('connect', () => this._final(cb));
      return;
    }
    // uv_shutdown() runs when the write queue drains, on a later turn of the loop.
    this.#shuttingDown = true;
    this.#updateLive();
    setImmediate(() => {
      this.#shuttingDown = false;
      this.#updateLive();
      const sk = this[kSk];
      const r = sk === null ? 0 : sk.shutdownCall(SHUT.SEND);
      cb(r < 0 && r !== -E.ENOTCONN ? sysErr(-r, 'shutdown') : null);
    });
  }

  get bytesWritten(): number {
    // As Node: what was handed to the handle (the in-flight write counted once, in full)
    // plus what waits in writableBuffer. writableLength includes the in-flight chunk, so
    // adding it to the sent and unsent parts counted that chunk twice while it was blocked.
    // On the prototype itself (no stream state) it is undefined, as Node's getter gives.
    if (!(#bytesWritten in this)) return undefined as unknown as number;
    let buffered = 0;
    const queued = (this as unknown as { writableBuffer: { chunk: unknown; encoding: BufferEncoding }[] })
      .writableBuffer;
    for (const b of queued)
      buffered +=
        typeof b.chunk === 'string' ? Buffer.byteLength(b.chunk, b.encoding) : (b.chunk as Uint8Array).byteLength;
    const p = this.#pendingWrite;
    let inFlight = this.writableLength - buffered;
    if (p !== null) {
      inFlight = 0;
      for (const c of p.chunks) inFlight += c.byteLength;
    }
    return this.#bytesWritten + inFlight + buffered;
  }

  // --- ending ---

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    // A write that waited for the connection fails when the socket closes (_writeGeneric's onClose).
    const waiting = this.connecting ? this.#pendingWrite : null;
    if (waiting !== null) {
      this.#pendingWrite = null;
      this.once('close', () =>
        waiting.cb(
          nodeError(
            Error,
            'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
            'Socket closed before the connection was established',
          ),
        ),
      );
    }
    this.connecting = false;
    this.#clearAttemptTimer();
    this.#clearIdle();
    const sk = this[kSk];
    if (sk !== null) {
      sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = null;
      sk.close();
    }
    this.#updateLive();
    cb(err);
    // As net.Socket does: the server counts its connections down and may now close.
    const server = this._server as { _connections: number; _emitCloseIfDrained?: () => void } | null;
    if (server !== null) {
      server._connections--;
      server._emitCloseIfDrained?.();
    }
    // The handle's close callback runs in the loop's close phase, after ticks and immediates.
    setImmediate(() => {
      untrack(this.#net, this);
      this.emit('close', err !== null && err !== undefined);
    });
  }

  /** Closes with RST (SO_LINGER 0), as socket.resetAndDestroy() does. */
  resetAndDestroy(): this {
    const sk = this[kSk];
    if (sk instanceof UnixSock)
      throw nodeError(TypeError, 'ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent');
    // While connecting the reset waits for the connection (Node's handle exists from connect()).
    if (this.connecting) {
      this.once('connect', () => this.resetAndDestroy());
      return this;
    }
    if (sk === null || this.destroyed) {
      this.destroy(nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed'));
      return this;
    }
    tcpCold(sk).linger = 0;
    this.destroy();
    return this;
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // --- options and timers ---

  setTimeout(ms: number, cb?: Callback): this {
    // setStreamTimeout(): nothing on a destroyed socket; the property is set before the checks.
    if (this.destroyed) return this;
    this.#timeoutProp = ms;
    if (typeof ms !== 'number')
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "msecs" argument must be of type number. Received ${specificType(ms)}`,
      );
    if (!Number.isFinite(ms) || ms < 0) {
      throw nodeError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${ms}`,
      );
    }
    if (cb !== undefined && typeof cb !== 'function')
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "callback" argument must be of type function. Received ${specificType(cb)}`,
      );
    this.#timeoutMs = ms;
    if (cb !== undefined) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    // A new duration needs a new timer; #touch only restarts the one there is.
    this.#clearIdle();
    this.#touch();
    return this;
  }

  get timeout(): number | undefined {
    return this.#timeoutProp;
  }

  /** Assigning it, as http's server does, changes the property, not the timer (as in Node). */
  set timeout(ms: number | undefined) {
    this.#timeoutProp = ms;
  }

  /** What waits to be written, as net.Socket's bufferSize (writableLength) says. */
  get bufferSize(): number | undefined {
    return this[kSk] !== null || this.connecting ? this.writableLength : undefined;
  }

  /** The old name of `connecting`, still read by packages. */
  get _connecting(): boolean {
    return this.connecting;
  }

  #touch(): void {
    const t = this.#idleTimer;
    if (t !== null && typeof t.refresh === 'function' && !this.destroyed) {
      // As net.Socket's _unrefTimer: the idle timer restarts in place on every read and write.
      t.refresh();
      return;
    }
    this.#clearIdle();
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = null;
        this.emit('timeout');
      }, this.#timeoutMs);
      this.#idleTimer.unref?.();
    }
  }

  #clearIdle(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /**
   * Node's kSetNoDelay / kSetKeepAlive / kSetKeepAliveInitialDelay: what was asked for before
   * there was a connection is applied when it is made; a caller's handle hears only changes.
   */
  #noDelay: boolean;
  #keepAlive: boolean;
  #keepAliveDelay: number;

  setNoDelay(enable?: unknown): this {
    // Backwards compatibility, as Node: no argument is true.
    const on = Boolean(enable === undefined ? true : enable);
    const sk = this[kSk];
    const handle = this._handle as { setNoDelay?: (on: boolean) => unknown } | null;
    if (sk === null && !handle) this.#noDelay = on;
    else if (sk !== null) {
      this.#noDelay = on;
      sk.setNoDelay(on);
    } else if (handle?.setNoDelay && on !== this.#noDelay) {
      this.#noDelay = on;
      handle.setNoDelay(on);
    }
    return this;
  }

  setKeepAlive(enable?: unknown, initialDelayMsecs?: unknown): this {
    const on = Boolean(enable);
    const delay = ~~((initialDelayMsecs as number) / 1000);
    const sk = this[kSk];
    const handle = this._handle as { setKeepAlive?: (on: boolean, delay: number) => unknown } | null;
    if (sk === null && !handle) {
      this.#keepAlive = on;
      this.#keepAliveDelay = delay;
    } else if (sk !== null) {
      this.#keepAlive = on;
      this.#keepAliveDelay = delay;
      sk.setKeepAlive(on, delay);
    } else if (handle?.setKeepAlive && (on !== this.#keepAlive || (on && this.#keepAliveDelay !== delay))) {
      this.#keepAlive = on;
      this.#keepAliveDelay = delay;
      handle.setKeepAlive(on, delay);
    }
    return this;
  }

  ref(): this {
    this.#live.ref = true;
    this.#live.update();
    return this;
  }

  unref(): this {
    this.#live.ref = false;
    this.#live.update();
    return this;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    const sk = this[kSk];
    // A pipe handle has no getsockname(): Node gives {}.
    if (sk === null || sk instanceof UnixSock || !sk.bound) return {};
    const f = sk.family;
    return { address: fromAddr(f, sk.sockname.addr), family: f === 4 ? 'IPv4' : 'IPv6', port: sk.sockname.port };
  }

  get localAddress(): string | undefined {
    return (this.address() as { address?: string }).address;
  }

  get localPort(): number | undefined {
    return (this.address() as { port?: number }).port;
  }

  get localFamily(): string | undefined {
    return (this.address() as { family?: string }).family;
  }

  get remoteAddress(): string | undefined {
    const sk = this[kSk];
    if (sk === null || sk instanceof UnixSock) return undefined;
    const p = sk.peername;
    if (p === null || this.connecting) return undefined;
    return fromAddr(sk.family, p.addr);
  }

  get remotePort(): number | undefined {
    const sk = this[kSk];
    if (sk === null || sk instanceof UnixSock || this.connecting) return undefined;
    return sk.peername?.port;
  }

  get remoteFamily(): string | undefined {
    const sk = this[kSk];
    if (sk === null || sk instanceof UnixSock || this.connecting || sk.peername === null) return undefined;
    return sk.family === 4 ? 'IPv4' : 'IPv6';
  }

  /**
   * No libuv handle, ever: null, as Node's net.Socket has before connect() and after close.
   * node:tls and node:http2 see a handle-less stream and wrap it (JSStreamSocket).
   */
  get _handle(): unknown {
    return this.#handle;
  }

  set _handle(h: unknown) {
    this.#handle = h;
  }

  #handle: unknown = null;

  /** Node's tls sockets have it; plain ones leave it undefined. */
  readonly encrypted: undefined;

  get _host(): string | undefined {
    return this.#host;
  }
}

/**
 * How much one read takes. libuv reads up to 64 KiB at once, gathering small segments;
 * a segment of 32 KiB or more goes up alone, as it is, since gathering it with its
 * neighbours would copy application data that can be handed over untouched.
 */
function readSize(q: readonly Uint8Array[]): number | undefined {
  let take = q[0]?.byteLength ?? 0;
  if (take === 0) return undefined;
  if (take < 32768) {
    for (let i = 1; i < q.length; i++) {
      const n = (q[i] as Uint8Array).byteLength;
      if (n >= 32768 || take + n > 65536) break;
      take += n;
    }
  }
  return take;
}

/** net.Socket's writeAfterFIN(): the peer ended and we may not write any more. */
/** With allowHalfOpen off, a write after 'end' fails (one shared listener, no closure per socket). */
function onReadableStreamEnd(this: Socket): void {
  if (!this.allowHalfOpen) this.write = writeAfterFIN;
}

function writeAfterFIN(this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded)
    return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, cb as () => void);
  if (typeof encoding === 'function') cb = encoding;
  const er = nodeError(Error, 'EPIPE', 'This socket has been ended by the other party');
  if (typeof cb === 'function') process.nextTick(cb as (e: Error) => void, er);
  this.destroy(er);
  return false;
}

// ---- Server ----

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
  ipv6Only?: boolean;
  exclusive?: boolean;
  path?: string;
  readableAll?: boolean;
  writableAll?: boolean;
  signal?: AbortSignal;
}

export interface ServerOpts {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export class Server extends EventEmitter {
  readonly #net: Net;
  #sk: TcpSock | UnixSock | null = null;
  /** server._pipeName: address() keeps giving it after close, as Node's does. */
  #pipeName: string | null = null;
  #live = new Liveness();
  _connections = 0;
  _connectionKey: string | undefined;
  maxConnections: number | undefined;
  readonly #opts: ServerOpts;
  #closing = false;
  #family: 4 | 6 = 6;
  #listeningId = 1;

  constructor(net: Net, options?: ServerOpts | Callback, listener?: Callback) {
    super();
    if (typeof options === 'function') {
      listener = options;
      options = {};
    } else if (options != null && typeof options !== 'object')
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "options" argument must be of type object. Received ${specificType(options)}`,
      );
    this.#net = net;
    track(net, this);
    this.once('close', () => untrack(net, this));
    this.#opts = options ?? {};
    if (typeof listener === 'function') this.on('connection', listener);
  }

  /** With events.captureRejections: a rejected 'connection' handler destroys that socket with the error. */
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string, sock?: Socket): void {
    if (event === 'connection') sock?.destroy(err);
    else this.emit('error', err);
  }

  get listening(): boolean {
    return this.#sk !== null && this.#sk.state === TCP.LISTEN;
  }

  /** addServerAbortSignalOption(): aborting the signal closes the server. */
  #closeOn(signal: AbortSignal): void {
    if (typeof signal !== 'object' || signal === null || !('aborted' in signal))
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "options.signal" property must be an instance of AbortSignal. Received ${specificType(signal)}`,
      );
    const onAbort = () => this.close();
    if (signal.aborted) process.nextTick(onAbort);
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  /** An accepted connection, as the face's own Socket class (`instanceof net.Socket` holds). */
  protected _newSocket(options: SocketConstructorOpts, child: TcpSock | UnixSock): Socket {
    return new Socket(this.#net, options, child);
  }

  listen(...args: unknown[]): this {
    // normalizeArgs(), then Server.prototype.listen's order of checks.
    let cb: Callback | undefined;
    const last = args[args.length - 1];
    if (typeof last === 'function') cb = last as Callback;
    let opts: ListenOptions & { fd?: unknown } = {};
    const arg0 = args[0];
    if (typeof arg0 === 'object' && arg0 !== null) opts = arg0 as ListenOptions;
    else if (isPipeName(arg0)) opts = { path: arg0 };
    else {
      (opts as { port?: unknown }).port = arg0;
      if (args.length > 1 && typeof args[1] === 'string') opts.host = args[1];
    }
    const toNumber = (x: unknown) => (Number(x) >= 0 ? Number(x) : false);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    if (this.#sk !== null)
      throw nodeError(
        Error,
        'ERR_SERVER_ALREADY_LISTEN',
        'Listen method has been called more than once without closing.',
      );
    if (cb !== undefined) this.once('listening', cb);
    if (opts.signal !== undefined) this.#closeOn(opts.signal);
    // (handle[, backlog][, cb]) where the handle is a descriptor number.
    const holder = ((opts as { _handle?: unknown })._handle || (opts as { handle?: unknown }).handle || opts) as {
      fd?: unknown;
    };
    if (typeof holder.fd === 'number' && holder.fd >= 0) {
      const err = sysErr(hostFdListenErrno(holder.fd), 'listen', undefined, undefined, true);
      (err as { address?: unknown }).address = null;
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    let port = (opts as { port?: unknown }).port;
    if (args.length === 0 || typeof arg0 === 'function' || (port === undefined && 'port' in opts) || port === null)
      port = 0;
    if (typeof port === 'number' || typeof port === 'string') {
      const p = validatePort(port, 'options.port');
      const backlog = opts.backlog || backlogFromArgs || 511;
      const start = (ip: string | null) => this.#listen(ip, p, backlog, opts.ipv6Only === true);
      if (!opts.host) start(null);
      else if (isIP(opts.host)) start(opts.host);
      else {
        // close() before the lookup answers cancels this listen (Node's _listeningId).
        const id = this.#listeningId;
        defaultLookup(this.#net, opts.host, {}, (err, ip) => {
          if (id !== this.#listeningId) return;
          if (err) this.emit('error', err);
          else start(ip as string);
        });
      }
      return this;
    }
    if (opts.path && isPipeName(opts.path)) {
      // An abstract name has no file to chmod.
      if (opts.path[0] === '\0' && (opts.readableAll || opts.writableAll))
        throw nodeError(
          TypeError,
          'ERR_INVALID_ARG_VALUE',
          `The argument 'options' can not set readableAll or writableAllt to true when path is abstract unix socket. Received ${shown(opts)}`,
        );
      this.#listenPath(opts.path, opts.backlog || backlogFromArgs || 511);
      // uv_pipe_chmod(): the file gets the bits asked for, for everyone.
      if (this.#sk !== null && (opts.readableAll === true || opts.writableAll === true))
        hostSocketFileChmod(opts.path, opts.readableAll === true, opts.writableAll === true);
      return this;
    }
    if (cb !== undefined) this.removeListener('listening', cb);
    if (!('port' in opts || 'path' in opts))
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `The argument 'options' must have the property "port" or "path". Received ${shown(opts)}`,
      );
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'options' is invalid. Received ${shown(opts)}`);
  }

  #listen(ip: string | null, port: number, backlog: number, ipv6Only: boolean): void {
    // No host: '::' (dual stack), as Node does when IPv6 works.
    const { addr, family } = ip === null ? { addr: new Uint8Array(16), family: 6 as const } : toAddr(ip);
    const shown = ip ?? '::';
    const sk = new TcpSock(this.#net, family);
    sk.reuseAddr = true;
    if (family === 6) sk.v6only = ipv6Only;
    let r = sk.bind(addr, port);
    if (r === 0) r = sk.listen(backlog);
    if (r < 0) {
      sk.close();
      process.nextTick(() => this.emit('error', sysErr(-r, 'listen', shown, port, true)));
      return;
    }
    this.#sk = sk;
    this.#family = family;
    this.#closing = false;
    // What the cluster module and packages key a listener by: family, address, requested port.
    this._connectionKey = `${family}:${shown}:${port}`;
    sk.onDataReady = () => this.#acceptAll();
    this.#live.active = true;
    this.#live.update();
    process.nextTick(() => {
      if (this.#sk === sk) this.emit('listening');
    });
  }

  /** A pipe server: bind the name, listen; errors come on the next tick with port -1, as Node's do. */
  #listenPath(path: string, backlog: number): void {
    const sk = new UnixSock(this.#net);
    const name = libuvSunPath(path);
    let r = sk.bind(name);
    if (r === 0 && name[0] !== '\0') {
      r = hostSocketFileCreate(name);
      if (r < 0) unixUnlink(this.#net, name);
    }
    if (r === 0) r = sk.listen(backlog);
    if (r < 0) {
      sk.close();
      const err = sysErr(-r, 'listen', path, undefined, true);
      err.port = -1;
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this.#sk = sk;
    this.#pipeName = path;
    this._connectionKey = `-1:${path}:-1`;
    this.#closing = false;
    sk.onDataReady = () => this.#acceptAll();
    this.#live.active = true;
    this.#live.update();
    process.nextTick(() => {
      if (this.#sk === sk) this.emit('listening');
    });
  }

  #acceptAll(): void {
    const sk = this.#sk;
    if (sk === null) return;
    for (;;) {
      const child = sk.accept();
      if (typeof child === 'number') return;
      // As onconnection(): over maxConnections (0 is no limit) the connection is closed, and
      // the server says whose it was.
      if (this.maxConnections && this._connections >= this.maxConnections) {
        const data = { __proto__: null } as unknown as Record<string, unknown>;
        if (child instanceof TcpSock) {
          const f = child.family;
          const peer = child.peername;
          data.localAddress = fromAddr(f, child.sockname.addr);
          data.localPort = child.sockname.port;
          data.localFamily = f === 4 ? 'IPv4' : 'IPv6';
          data.remoteAddress = peer === null ? undefined : fromAddr(f, peer.addr);
          data.remotePort = peer?.port;
          data.remoteFamily = peer === null ? undefined : data.localFamily;
          this.emit('drop', data);
        } else this.emit('drop');
        child.close();
        continue;
      }
      const socket = this._newSocket({ allowHalfOpen: this.#opts.allowHalfOpen === true }, child);
      if (this.#opts.noDelay) socket.setNoDelay(true);
      if (this.#opts.keepAlive) socket.setKeepAlive(true, this.#opts.keepAliveInitialDelay ?? 0);
      socket.server = this;
      socket._server = this;
      this._connections++;
      // Reading starts at once (readStart), unless the server pauses new connections.
      if (this.#opts.pauseOnConnect) socket.pause();
      else socket.read(0);
      this.emit('connection', socket);
      // Data that came with the handshake is readable at once.
      if (child.readable > 0 || child.shutdown & SHUT.RCV) child.dataReady();
    }
  }

  address(): { address: string; family: string; port: number } | string | null {
    const sk = this.#sk;
    if (sk === null || sk instanceof UnixSock) return this.#pipeName;
    return {
      address: fromAddr(this.#family, sk.localAddr),
      family: this.#family === 4 ? 'IPv4' : 'IPv6',
      port: sk.localPort,
    };
  }

  close(cb?: Callback): this {
    this.#listeningId++;
    if (typeof cb === 'function') {
      if (this.#sk === null) {
        this.once('close', () => cb(nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      } else this.once('close', cb);
    }
    if (this.#sk !== null) {
      this.#sk.onDataReady = null;
      this.#sk.close();
      // libuv unlinks a pipe server's path when it closes the handle.
      if (this.#sk instanceof UnixSock && this.#sk.path !== null) {
        unixUnlink(this.#net, this.#sk.path);
        if (this.#sk.path[0] !== '\0') hostSocketFileUnlink(this.#sk.path);
      }
      this.#sk = null;
    }
    this.#closing = true;
    this.#live.active = false;
    this.#live.update();
    this._emitCloseIfDrained();
    return this;
  }

  /** Emits 'close' once closed and every connection is gone (Socket._destroy calls it). */
  _emitCloseIfDrained(): void {
    if (this.#sk !== null || this._connections > 0 || !this.#closing) return;
    this.#closing = false;
    process.nextTick(() => this.emit('close'));
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this._connections);
    return this;
  }

  ref(): this {
    this.#live.ref = true;
    this.#live.update();
    return this;
  }

  unref(): this {
    this.#live.ref = false;
    this.#live.update();
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return new Promise((resolve) => this.close(() => resolve()));
  }
}

/** What `ns.net` is: node:net's module surface, bound to one namespace. */
export interface NetModule {
  Socket: new (options?: SocketConstructorOpts) => Socket;
  /** net.Stream, the old name of net.Socket. */
  Stream: new (
    options?: SocketConstructorOpts,
  ) => Socket;
  Server: new (options?: ServerOpts | Callback, listener?: Callback) => Server;
  createServer(options?: ServerOpts | Callback, listener?: Callback): Server;
  connect(...args: unknown[]): Socket;
  createConnection(...args: unknown[]): Socket;
  isIP: typeof isIP;
  isIPv4: typeof isIPv4;
  isIPv6: typeof isIPv6;
  getDefaultAutoSelectFamily(): boolean;
  setDefaultAutoSelectFamily(value: boolean): void;
  getDefaultAutoSelectFamilyAttemptTimeout(): number;
  setDefaultAutoSelectFamilyAttemptTimeout(value: number): void;
}

function setDefaultAutoSelectFamily(value: boolean): void {
  if (typeof value !== 'boolean')
    throw nodeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      `The "value" argument must be of type boolean. Received ${specificType(value)}`,
    );
  autoSelectFamilyDefault = value;
}

function setDefaultAutoSelectFamilyAttemptTimeout(value: number): void {
  validateInt32(value, 'value', 1);
  autoSelectFamilyAttemptTimeoutDefault = Math.max(10, value);
}

/** Node's validateInt32(value, name, min): a number, an integer, within [min, 2^31 - 1]. */
function validateInt32(value: unknown, name: string, min: number): asserts value is number {
  if (typeof value !== 'number')
    throw nodeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      // ERR_INVALID_ARG_TYPE says "property" for a dotted name, as Node's does.
      `The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be of type number. Received ${specificType(value)}`,
    );
  const range = (want: string) =>
    nodeError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be ${want}. Received ${value}`,
    );
  if (!Number.isInteger(value)) throw range('an integer');
  if (value < min || value > 2 ** 31 - 1) throw range(`>= ${min} && <= 2147483647`);
}

export function netFor(net: Net): NetModule {
  class NsSocket extends Socket {
    // The second argument is the server's, for an accepted connection; Node's has none.
    constructor(options: SocketConstructorOpts = {}, accepted?: TcpSock | UnixSock) {
      super(net, options, accepted);
    }
  }
  class NsServer extends Server {
    constructor(options?: ServerOpts | Callback, listener?: Callback) {
      super(net, options, listener);
    }
    protected override _newSocket(options: SocketConstructorOpts, child: TcpSock | UnixSock): Socket {
      return new NsSocket(options, child);
    }
  }
  // net.connect(): the options make the Socket too (allowHalfOpen, buffer sizes, signal).
  const connect = (...args: unknown[]): Socket => {
    const first = args[0];
    const s = new NsSocket(typeof first === 'object' && first !== null ? (first as SocketConstructorOpts) : {});
    return s.connect(...args);
  };
  const SocketClass = callable(NsSocket);
  return {
    Socket: SocketClass,
    Stream: SocketClass,
    Server: callable(NsServer),
    createServer: (options, listener) => new NsServer(options, listener),
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
    getDefaultAutoSelectFamily: () => autoSelectFamilyDefault,
    setDefaultAutoSelectFamily,
    getDefaultAutoSelectFamilyAttemptTimeout: () => autoSelectFamilyAttemptTimeoutDefault,
    setDefaultAutoSelectFamilyAttemptTimeout,
  };
}
