/**
 * node:dgram, over lonet's UDP: `ns.dgram.createSocket('udp4')` gives a socket with
 * Node's dgram.Socket contract, so code written for node:dgram runs unchanged on a
 * namespace's lo. The control flow is Node 20's lib/dgram.js (bind/connect/send state
 * machines, the queue of sends made before 'listening', which errors are thrown, which
 * are emitted and which go to callbacks, on which tick); where Node calls libuv and the
 * kernel, this calls UdpSock directly.
 *
 * Names resolve without DNS: IP literals as dns.lookup takes them, and 'localhost' as
 * glibc resolves it from a stock /etc/hosts (127.0.0.1, or ::1 for udp6); any other
 * name fails with getaddrinfo ENOTFOUND, as an offline host would.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { E, errnoName } from '../include/errno.js';
import { formatIpv4 } from '../ipv4/devinet.js';
import { ipMcJoinGroup, ipMcLeaveGroup, ipMcSourceMembership } from '../ipv4/igmp.js';
import { formatIpv6, inetPton6 } from '../ipv6/addr.js';
import { ipv6McSourceMembership, ipv6SockMcDrop, ipv6SockMcJoin } from '../ipv6/mcast.js';
import type { Net } from '../net/net.js';
import { type In6Addr, isV4Mapped, mappedV4, UdpSock, v4Mapped } from '../transport/udp.js';
import { type CodedError, isIPv4, isIPv6, nodeError, specificType, validatePort } from '../userland/node-errors.js';
import { EAI_NONAME, type GaiError, getaddrinfo } from '../userland/resolver.js';

export type SocketType = 'udp4' | 'udp6';

export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean;
  reusePort?: boolean;
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

export interface BindOptions {
  port?: number;
  address?: string;
  exclusive?: boolean;
  fd?: number;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export interface RemoteInfo extends AddressInfo {
  size: number;
}

type LookupCallback = (err: Error | null, address: string, family: number) => void;
export type LookupFunction = (hostname: string, family: number, callback: LookupCallback) => void;
type SendCallback = (error: Error | null, bytes?: number) => void;
type Bytes = string | ArrayBufferView;

// ---- Node's error shapes (lib/internal/errors.js) ----

const BYTES_TYPES = 'of type string or an instance of Buffer, TypedArray, or DataView';

function invalidArgType(name: string, expected: string, value: unknown): CodedError {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${specificType(value)}`,
  );
}

function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
}

/** validateUint32(value, name) for an options property (Node checks recv/sendBufferSize when truthy). */
function validateUint32(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw nodeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      `The "${name}" property must be of type number. Received ${specificType(value)}`,
    );
  }
  const range = !Number.isInteger(value)
    ? 'an integer'
    : value < 0 || value > 4294967295
      ? '>= 0 && <= 4294967295'
      : '';
  if (range === '') return;
  // ERR_OUT_OF_RANGE writes integers past 2^32 with separators (4_294_967_297).
  const shown =
    Number.isInteger(value) && Math.abs(value) > 2 ** 32
      ? String(value).replace(/\B(?=(\d{3})+$)/g, '_')
      : String(value);
  throw nodeError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`,
  );
}

export interface DgramSystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  address?: string;
  port?: number;
}

/** UVException / ErrnoException: "recvmsg ECONNREFUSED". */
function errnoException(errno: number, syscall: string): DgramSystemError {
  const code = errnoName(errno) ?? `Unknown system error ${errno}`;
  const err = new Error(`${syscall} ${code}`) as DgramSystemError;
  err.errno = -Math.abs(errno);
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** ExceptionWithHostPort: "bind EADDRINUSE 127.0.0.1:41234". */
function exceptionWithHostPort(errno: number, syscall: string, address?: string, port?: number): DgramSystemError {
  const code = errnoName(errno) ?? `Unknown system error ${errno}`;
  let details = '';
  if (port && port > 0) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  const err = new Error(`${syscall} ${code}${details}`) as DgramSystemError;
  err.errno = -Math.abs(errno);
  err.code = code;
  err.syscall = syscall;
  // Node sets address even when there is none (a connected send), port only when there is one.
  (err as { address?: string | undefined }).address = address;
  if (port) err.port = port;
  return err;
}

/** dns.lookup's failure: a name nobody knows (ENOTFOUND), or nameservers that never answered. */
function notFound(hostname: string, gai: GaiError = EAI_NONAME): Error {
  const code = gai.code === 'EAI_NONAME' ? 'ENOTFOUND' : gai.code;
  const err = new Error(`getaddrinfo ${code} ${hostname}`) as Error & Record<string, unknown>;
  err.errno = gai.errno;
  err.code = code;
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}

function bufferSizeError(errno: number, syscall: string): Error {
  const code = errnoName(errno) ?? 'EINVAL';
  const text = errno === E.EBADF ? 'bad file descriptor' : 'invalid argument';
  const err = nodeError(
    Error,
    'ERR_SOCKET_BUFFER_SIZE',
    `Could not get or set buffer size: ${syscall} returned ${code} (${text})`,
  ) as CodedError & Record<string, unknown>;
  err.name = 'SystemError';
  err.info = { errno: -errno, code, message: text, syscall };
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

// ---- scheduling: Node's ticks where there are ticks, microtasks elsewhere ----

const proc = (globalThis as { process?: { nextTick?: (fn: (...a: unknown[]) => void, ...a: unknown[]) => void } })
  .process;
function nextTick<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void {
  if (proc?.nextTick !== undefined) proc.nextTick(fn as (...a: unknown[]) => void, ...args);
  else queueMicrotask(() => fn(...args));
}

/** Where a getaddrinfo result lands: after the current ticks and I/O, as the threadpool's would. */
function later(fn: () => void): void {
  const si = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  if (si !== undefined) si(fn);
  else setTimeout(fn, 0);
}

// ---- addresses ----

/** The last IPv4 literal parsed, its value and its mapped form: a sender repeats its peer. */
let lastIpv4 = '';
let lastIpv4Value = 0;
let lastIpv4Mapped: In6Addr | null = null;

/** isIPv4 with the last literal remembered. */
function isIpv4Literal(s: string): boolean {
  return (s === lastIpv4 && lastIpv4 !== '') || isIPv4(s);
}

function parseIpv4(s: string): number | null {
  if (s === lastIpv4 && lastIpv4 !== '') return lastIpv4Value;
  if (!isIPv4(s)) return null;
  let a = 0;
  let part = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      a = ((a << 8) | part) >>> 0;
      part = 0;
    } else part = part * 10 + (c - 0x30);
  }
  a = ((a << 8) | part) >>> 0;
  lastIpv4 = s;
  lastIpv4Value = a;
  lastIpv4Mapped = null;
  return a;
}

/** uv_ip4_addr / uv_ip6_addr for the socket's family: the address, or null (EINVAL). */
function sockaddrForFamily(family: 4 | 6, ip: string): In6Addr | null {
  if (family === 4) {
    const a = parseIpv4(ip);
    return a === null ? null : v4Mapped(a);
  }
  const pct = ip.indexOf('%');
  return inetPton6(pct < 0 ? ip : ip.slice(0, pct));
}

/** sockaddrForFamily(4, ip) for a send, which only reads it: the last peer's mapped address is reused. */
function sendAddrV4(ip: string): In6Addr | null {
  const a = parseIpv4(ip);
  if (a === null) return null;
  if (lastIpv4Mapped === null) lastIpv4Mapped = v4Mapped(a);
  return lastIpv4Mapped;
}

/**
 * uv_ip6_addr(): the address part (at most 39 characters) and the %zone as if_nametoindex
 * reads it: an interface's name, anything else (digits too) scope 0.
 */
function uvIp6Addr(net: Net, ip: string): { addr: In6Addr; scope: number } | null {
  const pct = ip.indexOf('%');
  const addr = inetPton6((pct < 0 ? ip : ip.slice(0, pct)).slice(0, 39));
  if (addr === null) return null;
  return { addr, scope: pct < 0 ? 0 : (net.devGetByName(ip.slice(pct + 1))?.ifindex ?? 0) };
}

function formatAddr(sockFamily: 4 | 6, a: In6Addr): string {
  return sockFamily === 4 ? formatIpv4(mappedV4(a)) : formatIpv6(a);
}

/** dns.lookup(hostname, family) in the namespace: literals at once (next tick), names from its resolver. */
function defaultLookup(net: Net, hostname: string, family: number, cb: LookupCallback): void {
  if (hostname) validateString(hostname, 'hostname');
  const v4 = isIpv4Literal(hostname);
  if (v4 || isIPv6(hostname)) {
    nextTick(cb, null, hostname, v4 ? 4 : 6);
    return;
  }
  // A name: the namespace's /etc/hosts, then its nameservers (userland/resolver.ts).
  getaddrinfo(net, hostname, family === 6 ? 6 : 4).then((r) => {
    if (Array.isArray(r) && r[0] !== undefined) cb(null, r[0].address, r[0].family);
    else cb(notFound(hostname, Array.isArray(r) ? undefined : r), '', 0);
  });
}

// ---- the handle: UDPWrap's part, over UdpSock ----

const BIND_STATE = { UNBOUND: 0, BINDING: 1, BOUND: 2 } as const;
const CONNECT_STATE = { DISCONNECTED: 0, CONNECTING: 1, CONNECTED: 2 } as const;

/** A long timer that holds the event loop open, as a ref'd libuv handle would. */
const KEEPALIVE_MS = 2 ** 30;

class Handle {
  readonly sk: UdpSock;
  /** libuv creates the fd on the first bind attempt; before it, calls fail with EBADF. */
  hasFd = false;
  reffed = true;
  receiving = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  onmessage: ((data: Uint8Array, rinfo: RemoteInfo) => void) | null = null;
  onerror: ((errno: number) => void) | null = null;
  #draining = false;

  constructor(
    net: Net,
    readonly family: 4 | 6,
    readonly lookup: (address: string, cb: LookupCallback) => void,
  ) {
    this.sk = new UdpSock(net, family);
  }

  bind(ip: string, port: number, flags: { reuseAddr: boolean; reusePort: boolean; ipv6Only: boolean }): number {
    const addr = sockaddrForFamily(this.family, ip);
    if (addr === null) return -E.EINVAL;
    this.hasFd = true;
    this.sk.reuseAddr = flags.reuseAddr;
    this.sk.reusePort = flags.reusePort;
    if (this.family === 6 && flags.ipv6Only) this.sk.v6only = true;
    // The C++ side takes the port as uint32 and htons() keeps its low 16 bits.
    return this.sk.bind(addr, (Number(port) >>> 0) & 0xffff);
  }

  connect(ip: string, port: number): number {
    const addr = sockaddrForFamily(this.family, ip);
    if (addr === null) return -E.EINVAL;
    return this.sk.connect(addr, port);
  }

  disconnect(): number {
    return this.sk.disconnect();
  }

  /** Sends a gathered list; bytes sent or -errno. */
  send(list: readonly Uint8Array[], port: number, ip: string | null): number {
    let payload: Uint8Array;
    if (list.length === 1) payload = list[0] as Uint8Array;
    else {
      let len = 0;
      for (const b of list) len += b.byteLength;
      payload = new Uint8Array(len);
      let at = 0;
      for (const b of list) {
        payload.set(b, at);
        at += b.byteLength;
      }
    }
    let addr: In6Addr | null = null;
    if (ip !== null) {
      addr = this.family === 4 ? sendAddrV4(ip) : sockaddrForFamily(this.family, ip);
      if (addr === null) return -E.EINVAL;
    }
    return this.sk.sendto(payload, addr, addr === null ? 0 : port);
  }

  /** uv__udp_maybe_deferred_bind(): a membership on a socket with no fd yet binds it to any:0, SO_REUSEADDR. */
  #deferredBind(): number {
    if (this.hasFd) return 0;
    return this.bind(this.family === 4 ? '0.0.0.0' : '::', 0, { reuseAddr: true, reusePort: false, ipv6Only: false });
  }

  /**
   * uv_udp_set_membership(): an IPv4 group is IP_ADD/DROP_MEMBERSHIP with an interface
   * address (inet_pton), an IPv6 one IPV6_ADD/DROP_MEMBERSHIP with the interface's %zone
   * index; an IPv6 option on an IPv4 socket is ENOPROTOOPT. 0 or -errno.
   */
  setMembership(group: string, iface: string | null, join: boolean): number {
    const net = this.sk.net;
    const g4 = parseIpv4(group);
    if (g4 !== null) {
      const err = this.#deferredBind();
      if (err < 0) return err;
      const a = iface === null ? 0 : parseIpv4(iface);
      if (a === null) return -E.EINVAL;
      return join ? ipMcJoinGroup(this.sk, g4, a) : ipMcLeaveGroup(this.sk, g4, a);
    }
    const g6 = uvIp6Addr(net, group);
    if (g6 === null) return -E.EINVAL;
    const err = this.#deferredBind();
    if (err < 0) return err;
    const i6 = iface === null ? { scope: 0 } : uvIp6Addr(net, iface);
    if (i6 === null) return -E.EINVAL;
    if (this.family === 4) return -E.ENOPROTOOPT;
    return join ? ipv6SockMcJoin(this.sk, i6.scope, g6.addr) : ipv6SockMcDrop(this.sk, i6.scope, g6.addr);
  }

  /**
   * uv_udp_set_source_membership(): IP_ADD/DROP_SOURCE_MEMBERSHIP for an IPv4 group,
   * MCAST_JOIN/LEAVE_SOURCE_GROUP for an IPv6 one. 0 or -errno.
   */
  setSourceMembership(source: string, group: string, iface: string | null, join: boolean): number {
    const net = this.sk.net;
    const g4 = parseIpv4(group);
    if (g4 === null) {
      const g6 = uvIp6Addr(net, group);
      const s6 = uvIp6Addr(net, source);
      if (g6 === null || s6 === null) return -E.EINVAL;
      const err = this.#deferredBind();
      if (err < 0) return err;
      const i6 = iface === null ? { scope: 0 } : uvIp6Addr(net, iface);
      if (i6 === null) return -E.EINVAL;
      if (this.family === 4) return -E.ENOPROTOOPT;
      return ipv6McSourceMembership(this.sk, join, i6.scope, g6.addr, s6.addr);
    }
    const s4 = parseIpv4(source);
    if (s4 === null) return -E.EINVAL;
    const err = this.#deferredBind();
    if (err < 0) return err;
    const a = iface === null ? 0 : parseIpv4(iface);
    if (a === null) return -E.EINVAL;
    return ipMcSourceMembership(this.sk, join, g4, a, s4);
  }

  getsockname(): AddressInfo | number {
    if (!this.hasFd) return -E.EBADF;
    const { addr, port } = this.sk.sockname;
    return { address: formatAddr(this.family, addr), family: this.family === 4 ? 'IPv4' : 'IPv6', port };
  }

  getpeername(): AddressInfo | number {
    if (!this.sk.connected) return -E.ENOTCONN;
    return {
      address: formatAddr(this.family, this.sk.remoteAddr),
      family: this.family === 4 ? 'IPv4' : 'IPv6',
      port: this.sk.remotePort,
    };
  }

  /** The socket became readable: read at the next poll phase. */
  readonly #wakeup = (): void => later(this.#drainLater);
  readonly #drainLater = (): void => this.#drain();

  recvStart(): void {
    this.receiving = true;
    // The kernel's wakeup reaches a Node program at its next poll phase, never within the tick that sent.
    this.sk.onDataReady = this.#wakeup;
    this.sk.onError = this.#wakeup;
    this.#updateRef();
    if (this.sk.queue.length > 0) this.sk.dataReady();
  }

  recvStop(): void {
    this.receiving = false;
    this.sk.onDataReady = null;
    this.sk.onError = null;
    this.#updateRef();
  }

  /**
   * The reads libuv does when the fd is readable: a pending error first (sock_error in
   * __skb_recv_udp), then one datagram per callback, each followed by the ticks and
   * microtasks it queued, as node::MakeCallback runs them.
   *
   * Between two callbacks: a tick, which queues a microtask that goes on (the place an
   * `await` of a promise resolved by that tick would resume, without the promise). A
   * callback that throws ends the run and rejects, as the async loop this was did.
   */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#drainStep();
  }

  readonly #drainStep = (): void => {
    try {
      while (this.receiving) {
        const err = this.sk.takeError();
        if (err !== 0) {
          this.onerror?.(err);
          tickBoundary(this.#resume);
          return;
        }
        const d = this.sk.recv();
        if (d === null) break;
        const v4 = this.family === 4;
        const address =
          v4 || (d.family === 4 && !isV4Mapped(d.address))
            ? this.#formatV4(mappedV4(d.address))
            : formatIpv6(d.address);
        const buf = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength);
        this.onmessage?.(buf, { address, family: v4 ? 'IPv4' : 'IPv6', port: d.port, size: buf.length });
        tickBoundary(this.#resume);
        return;
      }
    } catch (e) {
      this.#draining = false;
      void Promise.reject(e);
      return;
    }
    this.#draining = false;
  };

  readonly #resume = (): void => queueMicrotask(this.#drainStep);

  /** The last sender's address as text: a peer usually sends many datagrams. */
  #lastV4 = -1;
  #lastV4Text = '';

  #formatV4(a: number): string {
    if (a !== this.#lastV4) {
      this.#lastV4Text = formatIpv4(a);
      this.#lastV4 = a;
    }
    return this.#lastV4Text;
  }

  ref(): void {
    this.reffed = true;
    this.#updateRef();
  }

  unref(): void {
    this.reffed = false;
    this.#updateRef();
  }

  #updateRef(): void {
    const want = this.reffed && this.receiving && !this.sk.closed;
    if (want && this.#timer === null) this.#timer = setInterval(() => {}, KEEPALIVE_MS);
    else if (!want && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  close(): void {
    this.receiving = false;
    this.sk.onDataReady = null;
    this.sk.onError = null;
    this.sk.close();
    this.#updateRef();
  }

  /** uv_recv_buffer_size / uv_send_buffer_size: 0 reads, anything else sets. */
  bufferSize(size: number, recv: boolean): number {
    if (!this.hasFd) throw bufferSizeError(E.EBADF, recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size');
    if (size !== 0) {
      if (recv) this.sk.setRcvbuf(size);
      else this.sk.setSndbuf(size);
    }
    return recv ? this.sk.rcvbuf : this.sk.sndbuf;
  }
}

/**
 * The boundary between two callbacks from the event loop: pending ticks, then microtasks.
 * `resume` runs as a tick, behind those the callback queued.
 */
function tickBoundary(resume: () => void): void {
  if (proc?.nextTick !== undefined) proc.nextTick(resume);
  else queueMicrotask(resume);
}

// ---- the Socket ----

interface State {
  handle: Handle | null;
  receiving: boolean;
  bindState: number;
  connectState: number;
  queue: (() => void)[] | undefined;
  reuseAddr: boolean;
  reusePort: boolean;
  ipv6Only: boolean;
  recvBufferSize: number | undefined;
  sendBufferSize: number | undefined;
}

const kState = Symbol('state symbol');

function isArrayBufferView(v: unknown): v is ArrayBufferView {
  return ArrayBuffer.isView(v);
}

function asBytes(v: ArrayBufferView): Uint8Array {
  // A Buffer or Uint8Array already is the bytes (only read from here on): no second view.
  if (v instanceof Uint8Array) return v;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof buffer === 'string') bytes = Buffer.from(buffer);
  else if (!isArrayBufferView(buffer)) throw invalidArgType('buffer', BYTES_TYPES, buffer);
  else bytes = asBytes(buffer);
  const off = Number(offset) >>> 0;
  const len = Number(length) >>> 0;
  if (off > bytes.byteLength)
    throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"offset" is outside of buffer bounds');
  if (off + len > bytes.byteLength)
    throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"length" is outside of buffer bounds');
  return bytes.subarray(off, off + len);
}

function fixBufferList(list: readonly unknown[]): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  for (const b of list) {
    if (typeof b === 'string') out.push(Buffer.from(b));
    else if (!isArrayBufferView(b)) return null;
    else out.push(asBytes(b));
  }
  return out;
}

export class Socket extends EventEmitter {
  readonly type: SocketType;
  [kState]: State;

  constructor(net: Net, type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) {
    super();
    let options: Partial<SocketOptions> | undefined;
    let lookup: LookupFunction | undefined;
    let recvBufferSize: number | undefined;
    let sendBufferSize: number | undefined;
    let t: unknown = type;
    if (type !== null && typeof type === 'object') {
      options = type;
      t = options.type;
      lookup = options.lookup;
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
      if (options.recvBufferSize) recvBufferSize = options.recvBufferSize;
      if (options.sendBufferSize) sendBufferSize = options.sendBufferSize;
    }
    if (t !== 'udp4' && t !== 'udp6') {
      throw nodeError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6');
    }
    if (lookup !== undefined && typeof lookup !== 'function')
      throw invalidArgType('lookup', 'of type function', lookup);
    const family = t === 'udp4' ? 4 : 6;
    const lk: LookupFunction = lookup ?? ((h, f, cb) => defaultLookup(net, h, f, cb));
    const defaultHost = family === 4 ? '127.0.0.1' : '::1';
    const handle = new Handle(net, family, (address, cb) => lk(address || defaultHost, family, cb));
    this.type = t;
    if (typeof listener === 'function') this.on('message', listener);
    this[kState] = {
      handle,
      receiving: false,
      bindState: BIND_STATE.UNBOUND,
      connectState: CONNECT_STATE.DISCONNECTED,
      queue: undefined,
      reuseAddr: options?.reuseAddr === true,
      reusePort: options?.reusePort === true,
      ipv6Only: options?.ipv6Only === true,
      recvBufferSize,
      sendBufferSize,
    };
    const signal = options?.signal;
    if (signal !== undefined) {
      if (typeof signal !== 'object' || signal === null || !('aborted' in signal)) {
        throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
      }
      const onAborted = () => {
        if (this[kState].handle !== null) this.close();
      };
      if (signal.aborted) onAborted();
      else {
        signal.addEventListener('abort', onAborted, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAborted));
      }
    }
  }

  bind(port?: number | BindOptions | null, address?: string | (() => void), callback?: () => void): this;
  bind(...args: unknown[]): this {
    let port = args[0];
    const address_ = args[1];
    const state = healthCheck(this);
    if (state.bindState !== BIND_STATE.UNBOUND) {
      throw nodeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    }
    state.bindState = BIND_STATE.BINDING;
    const cb = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof cb === 'function') {
      const removeListeners = () => {
        this.removeListener('error', removeListeners);
        this.removeListener('listening', onListening);
      };
      const onListening = () => {
        removeListeners();
        cb.call(this);
      };
      this.on('error', removeListeners);
      this.on('listening', onListening);
    }
    let address: unknown;
    if (port !== null && typeof port === 'object') {
      const o = port as BindOptions;
      address = o.address || '';
      port = o.port;
    } else {
      address = typeof address_ === 'function' ? '' : address_;
    }
    if (!address) address = this.type === 'udp4' ? '0.0.0.0' : '::';
    const handle = state.handle as Handle;
    handle.lookup(address as string, (err, ip) => {
      if (state.handle === null) return;
      if (err) {
        state.bindState = BIND_STATE.UNBOUND;
        this.emit('error', err);
        return;
      }
      const e = handle.bind(ip, (port as number) || 0, state);
      if (e) {
        state.bindState = BIND_STATE.UNBOUND;
        this.emit('error', exceptionWithHostPort(e, 'bind', ip, port as number));
        return;
      }
      startListening(this);
    });
    return this;
  }

  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    const p = validatePort(port, 'Port', false);
    let addr: unknown = address;
    let cb = callback;
    if (typeof addr === 'function') {
      cb = addr as () => void;
      addr = '';
    } else if (addr === undefined) {
      addr = '';
    }
    validateString(addr, 'address');
    const state = this[kState];
    if (state.connectState !== CONNECT_STATE.DISCONNECTED) {
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    state.connectState = CONNECT_STATE.CONNECTING;
    if (state.bindState === BIND_STATE.UNBOUND) this.bind({ port: 0, exclusive: true }, null as never);
    if (state.bindState !== BIND_STATE.BOUND) {
      enqueue(this, () => this.#connect(p, addr as string, cb));
      return;
    }
    this.#connect(p, addr, cb);
  }

  #connect(port: number, address: string, callback: (() => void) | undefined): void {
    const state = this[kState];
    if (callback) this.once('connect', callback);
    (state.handle as Handle).lookup(address, (ex, ip) => {
      const handle = state.handle;
      if (handle === null) return;
      let err: Error | null = ex;
      if (err === null) {
        const e = handle.connect(ip, port);
        if (e) err = exceptionWithHostPort(e, 'connect', address, port);
      }
      if (err !== null) {
        const failure = err;
        state.connectState = CONNECT_STATE.DISCONNECTED;
        nextTick(() => {
          if (callback) {
            this.removeListener('connect', callback);
            (callback as (e: Error) => void)(failure);
          } else {
            this.emit('error', failure);
          }
        });
        return;
      }
      state.connectState = CONNECT_STATE.CONNECTED;
      nextTick(() => this.emit('connect'));
    });
  }

  disconnect(): void {
    const state = this[kState];
    if (state.connectState !== CONNECT_STATE.CONNECTED) {
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    }
    const err = (state.handle as Handle).disconnect();
    if (err) throw errnoException(err, 'connect');
    state.connectState = CONNECT_STATE.DISCONNECTED;
  }

  send(msg: Bytes | readonly Bytes[], port?: number, address?: string, callback?: SendCallback): void;
  send(msg: Bytes | readonly Bytes[], port?: number, callback?: SendCallback): void;
  send(msg: Bytes | readonly Bytes[], callback?: SendCallback): void;
  send(msg: Bytes, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: Bytes, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: Bytes, offset: number, length: number, callback?: SendCallback): void;
  send(...args: unknown[]): void {
    let [buffer, offset, length, port, address, callback] = args;
    const state = this[kState];
    const connected = state.connectState === CONNECT_STATE.CONNECTED;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceBuffer(buffer, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceBuffer(buffer, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        } else {
          callback = address;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    let list: Uint8Array[] | null;
    if (!Array.isArray(buffer)) {
      if (typeof buffer === 'string') list = [Buffer.from(buffer)];
      else if (!isArrayBufferView(buffer)) throw invalidArgType('buffer', BYTES_TYPES, buffer);
      else list = [asBytes(buffer)];
    } else {
      list = fixBufferList(buffer);
      if (list === null) throw invalidArgType('buffer list arguments', BYTES_TYPES, buffer);
    }
    if (!connected) port = validatePort(port, 'Port', false);
    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address !== undefined && address !== null) {
      validateString(address, 'address');
    }
    healthCheck(this);
    if (state.bindState === BIND_STATE.UNBOUND) this.bind({ port: 0, exclusive: true }, null as never);
    if (list.length === 0) list.push(new Uint8Array(0));
    const cb = callback as SendCallback | undefined;
    const sendList = list;
    if (state.bindState !== BIND_STATE.BOUND) {
      enqueue(this, () => (this.send as (...a: unknown[]) => void)(sendList, port, address, cb));
      return;
    }
    if (connected) doSend(null, this, null, sendList, address as string | undefined, port as number, cb);
    else
      (state.handle as Handle).lookup(address as string, (ex: Error | null, ip: string | null) =>
        doSend(ex, this, ip, sendList, address as string | undefined, port as number, cb),
      );
  }

  close(callback?: () => void): this {
    const state = this[kState];
    if (typeof callback === 'function') this.on('close', callback);
    if (state.queue !== undefined) {
      state.queue.push(() => this.close());
      return this;
    }
    const handle = healthCheck(this).handle as Handle;
    stopReceiving(this);
    handle.close();
    state.handle = null;
    nextTick(() => this.emit('close'));
    return this;
  }

  address(): AddressInfo {
    const r = (healthCheck(this).handle as Handle).getsockname();
    if (typeof r === 'number') throw errnoException(r, 'getsockname');
    return r;
  }

  remoteAddress(): AddressInfo {
    const state = healthCheck(this);
    if (state.connectState !== CONNECT_STATE.CONNECTED) {
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    }
    const r = (state.handle as Handle).getpeername();
    if (typeof r === 'number') throw errnoException(r, 'getpeername');
    return r;
  }

  setBroadcast(flag: boolean): void {
    const handle = this[kState].handle;
    if (handle === null || !handle.hasFd) throw errnoException(E.EBADF, 'setBroadcast');
    handle.sk.broadcast = !!flag;
  }

  setTTL(ttl: number): number {
    if (typeof ttl !== 'number') throw invalidArgType('ttl', 'of type number', ttl);
    const handle = this[kState].handle;
    // The binding takes an int32 (NaN is 0); uv_udp_set_ttl checks 1…255 before it touches the fd.
    const t = ttl | 0;
    if (!(t >= 1 && t <= 255)) throw errnoException(E.EINVAL, 'setTTL');
    if (handle === null || !handle.hasFd) throw errnoException(E.EBADF, 'setTTL');
    handle.sk.ttl = t;
    return ttl;
  }

  /** Node's socket.sendto(): send() with every argument checked first. */
  sendto(buffer: Bytes, offset: number, length: number, port: number, address: string, cb?: SendCallback): void {
    if (typeof offset !== 'number') throw invalidArgType('offset', 'of type number', offset);
    if (typeof length !== 'number') throw invalidArgType('length', 'of type number', length);
    if (typeof port !== 'number') throw invalidArgType('port', 'of type number', port);
    validateString(address, 'address');
    this.send(buffer, offset, length, port, address, cb);
  }

  /** IP_ADD_MEMBERSHIP / IPV6_ADD_MEMBERSHIP on the socket's real state (the device's group list). */
  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    membership(this, 'addMembership', multicastAddress, interfaceAddress);
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    membership(this, 'dropMembership', multicastAddress, interfaceAddress);
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    sourceMembership(this, 'addSourceSpecificMembership', sourceAddress, groupAddress, interfaceAddress);
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    sourceMembership(this, 'dropSourceSpecificMembership', sourceAddress, groupAddress, interfaceAddress);
  }

  /** IP_MULTICAST_TTL: uv_udp_set_multicast_ttl checks 0…255 before it touches the fd. */
  setMulticastTTL(ttl: number): number {
    if (typeof ttl !== 'number') throw invalidArgType('ttl', 'of type number', ttl);
    const t = ttl | 0;
    if (t < 0 || t > 255) throw errnoException(E.EINVAL, 'setMulticastTTL');
    const handle = this[kState].handle;
    if (handle === null || !handle.hasFd) throw errnoException(E.EBADF, 'setMulticastTTL');
    handle.sk.mcTtl = t;
    return ttl;
  }

  /** IP_MULTICAST_LOOP; Node hands back what it was given. */
  setMulticastLoopback(flag: unknown): unknown {
    const handle = this[kState].handle;
    if (handle === null || !handle.hasFd) throw errnoException(E.EBADF, 'setMulticastLoopback');
    handle.sk.mcLoop = Boolean(flag);
    return flag;
  }

  /**
   * IP_MULTICAST_IF / IPV6_MULTICAST_IF, as uv_udp_set_multicast_interface parses the
   * address: an IPv4 literal, or an IPv6 literal whose %scope names the interface (an
   * unknown name is scope 0).
   */
  setMulticastInterface(interfaceAddress: string): void {
    const handle = healthCheck(this).handle as Handle;
    validateString(interfaceAddress, 'interfaceAddress');
    // The address's family picks the option (IP_ or IPV6_MULTICAST_IF), not the socket's:
    // IPV6_MULTICAST_IF on an IPv4 socket is ENOPROTOOPT.
    let r: number;
    const pct = interfaceAddress.indexOf('%');
    const ip6 = pct < 0 ? interfaceAddress : interfaceAddress.slice(0, pct);
    if (isIPv4(interfaceAddress)) {
      if (!handle.hasFd) throw errnoException(E.EBADF, 'setMulticastInterface');
      const a = interfaceAddress.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
      r = handle.sk.setMulticastIf4(a);
    } else if (inetPton6(ip6) !== null) {
      if (!handle.hasFd) throw errnoException(E.EBADF, 'setMulticastInterface');
      const scope = pct < 0 ? '' : interfaceAddress.slice(pct + 1);
      const index = /^\d+$/.test(scope) ? Number(scope) : (handle.sk.net.devGetByName(scope)?.ifindex ?? 0);
      r = handle.family === 4 ? -E.ENOPROTOOPT : handle.sk.setMulticastIf6(index);
    } else throw errnoException(E.EINVAL, 'setMulticastInterface');
    if (r < 0) throw errnoException(-r, 'setMulticastInterface');
  }

  setRecvBufferSize(size: number): void {
    bufferSize(this, size, true);
  }

  setSendBufferSize(size: number): void {
    bufferSize(this, size, false);
  }

  getRecvBufferSize(): number {
    return bufferSize(this, 0, true);
  }

  getSendBufferSize(): number {
    return bufferSize(this, 0, false);
  }

  /** Sends complete synchronously on lo (the sender's buffer is credited back at once), so nothing waits. */
  getSendQueueSize(): number {
    return 0;
  }

  getSendQueueCount(): number {
    return 0;
  }

  ref(): this {
    this[kState].handle?.ref();
    return this;
  }

  unref(): this {
    this[kState].handle?.unref();
    return this;
  }
}

/** Symbol.asyncDispose as Node 20 has it (its own symbol where the language has none yet). */
const asyncDispose: symbol = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** `await using s = ns.dgram.createSocket(…)`: closes the socket, once, as Node's does. */
Object.defineProperty(Socket.prototype, asyncDispose, {
  async value(this: Socket): Promise<void> {
    if (this[kState].handle === null) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  },
  writable: true,
  configurable: true,
});

/** The binding's Utf8Value of an interface argument: undefined and null are none. */
function ifaceArg(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

function membership(socket: Socket, syscall: string, group: unknown, iface: unknown): void {
  const state = healthCheck(socket);
  if (!group) throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "multicastAddress" argument must be specified');
  const err = (state.handle as Handle).setMembership(String(group), ifaceArg(iface), syscall === 'addMembership');
  if (err < 0) throw errnoException(-err, syscall);
}

function sourceMembership(socket: Socket, syscall: string, source: unknown, group: unknown, iface: unknown): void {
  const state = healthCheck(socket);
  validateString(source, 'sourceAddress');
  validateString(group, 'groupAddress');
  const join = syscall === 'addSourceSpecificMembership';
  const err = (state.handle as Handle).setSourceMembership(source, group, ifaceArg(iface), join);
  if (err < 0) throw errnoException(-err, syscall);
}

function healthCheck(socket: Socket): State {
  const state = socket[kState];
  if (state.handle === null) throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  return state;
}

function bufferSize(socket: Socket, size: number, recv: boolean): number {
  if (size >>> 0 !== size) {
    throw nodeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer');
  }
  const handle = socket[kState].handle;
  if (handle === null) throw bufferSizeError(E.EBADF, recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size');
  return handle.bufferSize(size, recv);
}

function startListening(socket: Socket): void {
  const state = socket[kState];
  const handle = state.handle as Handle;
  handle.onmessage = (buf, rinfo) => socket.emit('message', buf, rinfo);
  handle.onerror = (errno) => socket.emit('error', errnoException(errno, 'recvmsg'));
  handle.recvStart();
  state.receiving = true;
  state.bindState = BIND_STATE.BOUND;
  if (state.recvBufferSize) bufferSize(socket, state.recvBufferSize, true);
  if (state.sendBufferSize) bufferSize(socket, state.sendBufferSize, false);
  socket.emit('listening');
}

function stopReceiving(socket: Socket): void {
  const state = socket[kState];
  if (!state.receiving) return;
  state.handle?.recvStop();
  state.receiving = false;
}

function enqueue(socket: Socket, fn: () => void): void {
  const state = socket[kState];
  if (state.queue === undefined) {
    state.queue = [];
    const onListenError = () => {
      socket.removeListener('listening', onListenSuccess);
      state.queue = undefined;
    };
    const onListenSuccess = () => {
      socket.removeListener('error', onListenError);
      const queue = state.queue ?? [];
      state.queue = undefined;
      for (const entry of queue) entry();
    };
    socket.once('error', onListenError);
    socket.once('listening', onListenSuccess);
  }
  state.queue.push(fn);
}

function doSend(
  ex: Error | null,
  socket: Socket,
  ip: string | null,
  list: Uint8Array[],
  address: string | undefined,
  port: number,
  callback: SendCallback | undefined,
): void {
  const state = socket[kState];
  if (ex) {
    if (callback !== undefined) nextTick(callback, ex);
    else nextTick(() => socket.emit('error', ex));
    return;
  }
  const handle = state.handle;
  if (handle === null) return;
  const n = handle.send(list, port, port ? ip : null);
  if (n >= 0) {
    if (callback !== undefined) nextTick(callback, null, n);
    return;
  }
  // Node reports send errors only to a callback (dgram_legacy compatibility).
  if (callback !== undefined) nextTick(callback, exceptionWithHostPort(n, 'send', address, port));
}

/** What `ns.dgram` is: node:dgram's module surface, bound to one namespace. */
export interface Dgram {
  createSocket(type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void): Socket;
  Socket: new (type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) => Socket;
}

export function dgramFor(net: Net): Dgram {
  class NsSocket extends Socket {
    constructor(type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) {
      super(net, type, listener);
    }
  }
  return {
    createSocket: (type, listener) => new NsSocket(type, listener),
    Socket: NsSocket,
  };
}
