/**
 * nc(1), netcat-openbsd 1.219 (Debian): `nc -u HOST PORT` sends what it reads on
 * standard input, one datagram per read, to a connected UDP socket and writes what
 * comes back to standard output; `nc -u -l [HOST] PORT` waits for a first datagram,
 * connects to its sender and does the same. As in readwrite(): an error on the socket
 * (ECONNREFUSED from an ICMP port unreachable) ends it quietly with status 0, -w N
 * ends it after N idle seconds, -q N after N seconds past EOF on standard input.
 * Over TCP (the default) `nc HOST PORT` connects (a refusal fails quietly, status 1,
 * as without -v), `nc -l PORT` accepts one connection; EOF on standard input sends a
 * FIN only with -N, and the session ends once both inputs are gone (with -l, once the
 * peer's FIN has come).
 */
import { E, strerror } from '../include/errno.js';
import { formatIpv4 } from '../ipv4/devinet.js';
import { formatIpv6, inetPton6 } from '../ipv6/addr.js';
import type { Net } from '../net/net.js';
import { SHUT, TCP, TcpSock } from '../transport/tcp/sock.js';
import { type In6Addr, mappedV4, UdpSock, v4Mapped } from '../transport/udp.js';
import type { CommandContext } from './command.js';

const USAGE = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
\t  [destination] [port]
`;

const OPTSTRING = '46CDdFhI:i:klM:m:NnO:P:p:q:rSs:T:tUuV:vW:w:X:x:Zz';
/** Options lonet's nc honours; the rest of netcat's are refused rather than ignored. */
const SUPPORTED = new Set(['4', '6', 'u', 'l', 'n', 'N', 'p', 'q', 's', 'w', 'h']);

/** BUFSIZE in netcat.c: the most one read from standard input takes, so the largest datagram. */
const BUFSIZE = 16384;

class Exit {
  constructor(readonly code: number) {}
}

/** A connected endpoint, whatever the transport. */
export interface NcConn {
  /** Sends one chunk; false once the socket has failed (the netout side is gone). */
  write(data: Uint8Array): boolean | Promise<boolean>;
  /** The next chunk from the peer; null at EOF, when the socket failed or `signal` fired. */
  read(signal: AbortSignal): Promise<Uint8Array | null>;
  /** A stream's -N: shutdown(SHUT_WR) once standard input ends. */
  shutdownWrite?(): void;
  /** A stream ends when both inputs are gone (netin at EOF and standard input); a datagram socket when netin fails. */
  readonly stream?: boolean;
  close(): void;
}

interface Endpoint {
  family: 4 | 6;
  addr: In6Addr;
  port: number;
}

/** The transports nc can use: UDP now (-u), TCP when it lands. */
export interface NcTransport {
  /** A connected socket, an error message as nc prints it, or null for a quiet failure (exit 1). */
  connect(
    net: Net,
    dst: Endpoint,
    src: { addr: In6Addr | null; port: number },
    timeoutSec: number,
  ): NcConn | string | null | Promise<NcConn | string | null>;
  /** Waits for a peer on `local`; the connection, or an error message. */
  listen(net: Net, local: Endpoint, signal: AbortSignal): Promise<{ conn: NcConn; first: Uint8Array } | string | null>;
}

class UdpConn implements NcConn {
  #failed = false;

  constructor(readonly sk: UdpSock) {}

  write(data: Uint8Array): boolean {
    if (this.#failed) return false;
    const r = this.sk.sendto(data, null, 0);
    // A pending error (POLLERR) closes both directions, as readwrite() does.
    if (r < 0) this.#failed = true;
    return r >= 0;
  }

  async read(signal: AbortSignal): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#failed || signal.aborted) return null;
      if (this.sk.takeError() !== 0) {
        this.#failed = true;
        return null;
      }
      const d = this.sk.recv();
      if (d !== null) return d.data;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          this.sk.onDataReady = null;
          this.sk.onError = null;
          resolve();
        };
        this.sk.onDataReady = wake;
        this.sk.onError = wake;
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  close(): void {
    this.sk.close();
  }
}

const udp: NcTransport = {
  connect(net, dst, src) {
    const sk = new UdpSock(net, dst.family);
    if (src.addr !== null || src.port !== 0) {
      const e = sk.bind(src.addr ?? new Uint8Array(16), src.port);
      if (e < 0) {
        sk.close();
        return `bind failed: ${strerror(e)}`;
      }
    }
    const e = sk.connect(dst.addr, dst.port);
    if (e < 0) {
      sk.close();
      return `connect to ${fmt(dst)} port ${dst.port} (udp) failed: ${strerror(e)}`;
    }
    return new UdpConn(sk);
  },

  async listen(net, local, signal) {
    const sk = new UdpSock(net, local.family);
    // local_listen(): SO_REUSEPORT, as netcat-openbsd sets it.
    sk.reusePort = true;
    const e = sk.bind(local.addr, local.port);
    if (e < 0) {
      sk.close();
      return `bind failed: ${strerror(e)}`;
    }
    const conn = new UdpConn(sk);
    // recvfrom(MSG_PEEK) for the first datagram, then connect() to whoever sent it.
    const first = await nextDatagram(sk, signal);
    if (first === null) {
      sk.close();
      return null;
    }
    const c = sk.connect(first.address, first.port);
    if (c < 0) {
      sk.close();
      return `connect: ${strerror(c)}`;
    }
    return { conn, first: first.data };
  },
};

async function nextDatagram(sk: UdpSock, signal: AbortSignal) {
  for (;;) {
    if (signal.aborted) return null;
    sk.takeError();
    const d = sk.recv();
    if (d !== null) return d;
    await new Promise<void>((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        sk.onDataReady = null;
        resolve();
      };
      sk.onDataReady = wake;
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

/** Waits for any wakeup of a TCP socket (data, write space, error, state change) or the abort. */
function tcpWait(sk: TcpSock, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      signal.removeEventListener('abort', wake);
      sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = null;
      resolve();
    };
    sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = wake;
    signal.addEventListener('abort', wake, { once: true });
  });
}

class TcpConn implements NcConn {
  readonly stream = true;
  readonly #closed = new AbortController();

  constructor(readonly sk: TcpSock) {}

  async write(data: Uint8Array): Promise<boolean> {
    let off = 0;
    while (off < data.byteLength) {
      if (this.#closed.signal.aborted) return false;
      const n = this.sk.sendmsg(data.subarray(off));
      if (n === -E.EAGAIN) {
        await tcpWait(this.sk, this.#closed.signal);
        continue;
      }
      // EPIPE or ECONNRESET: netout is gone.
      if (n < 0) return false;
      off += n;
    }
    return true;
  }

  async read(signal: AbortSignal): Promise<Uint8Array | null> {
    for (;;) {
      if (signal.aborted) return null;
      const d = this.sk.recvmsg();
      if (typeof d !== 'number') return d;
      // 0 is EOF; an error (ECONNRESET) ends netin the same way.
      if (d !== -E.EAGAIN) return null;
      await tcpWait(this.sk, signal);
    }
  }

  shutdownWrite(): void {
    this.sk.shutdownCall(SHUT.SEND);
  }

  close(): void {
    this.#closed.abort();
    this.sk.close();
  }
}

const tcp: NcTransport = {
  async connect(net, dst, src, timeoutSec) {
    const sk = new TcpSock(net, dst.family);
    if (src.addr !== null || src.port !== 0) {
      // remote_connect(): SO_REUSEADDR before binding the -s/-p source.
      sk.reuseAddr = true;
      const e = sk.bind(src.addr ?? new Uint8Array(16), src.port);
      if (e < 0) {
        sk.close();
        return `bind failed: ${strerror(e)}`;
      }
    }
    const e = sk.connect(dst.addr, dst.port);
    if (e !== -E.EINPROGRESS && e < 0) {
      sk.close();
      return null;
    }
    // connect_with_timeout(): -w bounds the handshake; without -v a failure is silent.
    const give = new AbortController();
    const timer = timeoutSec >= 0 ? net.kernel.clock.setTimer(timeoutSec * 1e9, () => give.abort()) : null;
    try {
      while (sk.state === TCP.SYN_SENT && !give.signal.aborted) await tcpWait(sk, give.signal);
    } finally {
      timer?.cancel();
    }
    if (sk.state !== TCP.ESTABLISHED && sk.state !== TCP.CLOSE_WAIT) {
      sk.close();
      return null;
    }
    return new TcpConn(sk);
  },

  async listen(net, local, signal) {
    const sk = new TcpSock(net, local.family);
    // local_listen(): SO_REUSEADDR and SO_REUSEPORT, as netcat-openbsd sets them.
    sk.reuseAddr = true;
    sk.reusePort = true;
    let e = sk.bind(local.addr, local.port);
    if (e === 0) e = sk.listen(1);
    if (e < 0) {
      sk.close();
      return `bind failed: ${strerror(e)}`;
    }
    for (;;) {
      if (signal.aborted) {
        sk.close();
        return null;
      }
      const c = sk.accept();
      if (typeof c !== 'number') {
        // One connection: the listener closes once it is accepted (no -k).
        sk.close();
        return { conn: new TcpConn(c), first: new Uint8Array(0) };
      }
      await tcpWait(sk, signal);
    }
  },
};

export const NC_TRANSPORTS: { udp: NcTransport; tcp: NcTransport | null } = { udp, tcp };

function fmt(e: Endpoint): string {
  return e.family === 4 ? formatIpv4(mappedV4(e.addr)) : formatIpv6(e.addr);
}

const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * getaddrinfo() without DNS: numeric addresses, and 'localhost' as a stock /etc/hosts
 * has it (127.0.0.1, or ::1 with -6) unless -n forbids names.
 */
function resolve(host: string, family: 0 | 4 | 6, numeric: boolean, port: string): Endpoint | string {
  const fail = (why: string) => `getaddrinfo for host "${host}" port ${port}: ${why}`;
  if (IPV4_RE.test(host)) {
    if (family === 6) return fail('Address family for hostname not supported');
    return { family: 4, addr: v4Mapped(host.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0)), port: 0 };
  }
  const v6 = inetPton6(host);
  if (v6 !== null) {
    if (family === 4) return fail('Address family for hostname not supported');
    return { family: 6, addr: v6, port: 0 };
  }
  if (numeric || host.toLowerCase() !== 'localhost') return fail('Name or service not known');
  return family === 6
    ? { family: 6, addr: inetPton6('::1') as In6Addr, port: 0 }
    : { family: 4, addr: v4Mapped(0x7f000001), port: 0 };
}

/** strtonum(port, 1, PORT_MAX): netcat's words for a bad port. */
function parsePort(p: string): number | string {
  if (!/^[+-]?\d+$/.test(p)) return `port number invalid: ${p}`;
  const n = Number(p);
  if (n < 1) return `port number too small: ${p}`;
  if (n > 65535) return `port number too large: ${p}`;
  return n;
}

interface Options {
  family: 0 | 4 | 6;
  udp: boolean;
  listen: boolean;
  numeric: boolean;
  sourcePort: string | null;
  sourceAddr: string | null;
  timeout: number;
  quit: number;
  shutdownOnEof: boolean;
  operands: string[];
}

function parse(ctx: CommandContext): Options {
  const err = (m: string): never => {
    ctx.stderr.write(`nc: ${m}\n`);
    throw new Exit(1);
  };
  const o: Options = {
    family: 0,
    udp: false,
    listen: false,
    numeric: false,
    sourcePort: null,
    sourceAddr: null,
    timeout: -1,
    quit: -1,
    shutdownOnEof: false,
    operands: [],
  };
  const argv = ctx.argv;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i] as string;
    if (w === '--') {
      o.operands.push(...argv.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      o.operands.push(w);
      continue;
    }
    for (let j = 1; j < w.length; j++) {
      const c = w[j] as string;
      const at = OPTSTRING.indexOf(c);
      if (c === ':' || at < 0) {
        ctx.stderr.write(`nc: invalid option -- '${c}'\n${USAGE}`);
        throw new Exit(1);
      }
      let arg = '';
      if (OPTSTRING[at + 1] === ':') {
        if (j + 1 < w.length) arg = w.slice(j + 1);
        else if (i + 1 < argv.length) arg = argv[++i] as string;
        else {
          ctx.stderr.write(`nc: option requires an argument -- '${c}'\n${USAGE}`);
          throw new Exit(1);
        }
        j = w.length;
      }
      if (!SUPPORTED.has(c)) err(`-${c} is not supported by lonet's nc`);
      switch (c) {
        case '4':
        case '6':
          o.family = c === '4' ? 4 : 6;
          break;
        case 'u':
          o.udp = true;
          break;
        case 'l':
          o.listen = true;
          break;
        case 'n':
          o.numeric = true;
          break;
        case 'N':
          o.shutdownOnEof = true;
          break;
        case 'p':
          o.sourcePort = arg;
          break;
        case 's':
          o.sourceAddr = arg;
          break;
        case 'w': {
          const n = /^\d+$/.test(arg) ? Number(arg) : Number.NaN;
          if (!(n >= 0 && n <= 100000000)) err(`timeout ${Number.isNaN(n) ? 'invalid' : 'too large'}: ${arg}`);
          o.timeout = n;
          break;
        }
        case 'q': {
          const n = /^-?\d+$/.test(arg) ? Number(arg) : Number.NaN;
          if (Number.isNaN(n)) err(`quit timer invalid: ${arg}`);
          o.quit = n;
          break;
        }
        case 'h':
          ctx.stderr.write(USAGE);
          throw new Exit(1);
      }
    }
  }
  return o;
}

export async function nc(ctx: CommandContext): Promise<number> {
  try {
    return await run(ctx);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
}

async function run(ctx: CommandContext): Promise<number> {
  const o = parse(ctx);
  const die = (m: string): never => {
    ctx.stderr.write(`nc: ${m}\n`);
    throw new Exit(1);
  };
  const transport = o.udp ? NC_TRANSPORTS.udp : NC_TRANSPORTS.tcp;
  if (transport === null) return die('TCP is not available in lonet yet; use -u');
  const net = ctx.net;
  let conn: NcConn;
  let first: Uint8Array | null = null;
  // The command's own abort: the user's Ctrl-C, or the end of the session below.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (o.listen) {
      if (o.operands.length > 2) {
        ctx.stderr.write(USAGE);
        return 1;
      }
      const portArg = o.operands.length > 0 ? (o.operands.at(-1) as string) : o.sourcePort;
      if (portArg === null) die('missing port number');
      const port = parsePort(portArg as string);
      if (typeof port === 'string') return die(port);
      const hostArg = o.operands.length === 2 ? (o.operands[0] as string) : (o.sourceAddr ?? null);
      let local: Endpoint;
      if (hostArg !== null) {
        const r = resolve(hostArg, o.family, o.numeric, String(port));
        if (typeof r === 'string') return die(r);
        local = { ...r, port };
      } else {
        // getaddrinfo(NULL, port, AI_PASSIVE): 0.0.0.0 first, :: with -6.
        local = { family: o.family === 6 ? 6 : 4, addr: new Uint8Array(16), port };
      }
      const l = await transport.listen(net, local, stop.signal);
      if (l === null) return 130;
      if (typeof l === 'string') return die(l);
      conn = l.conn;
      first = l.first;
    } else {
      if (o.operands.length === 0) {
        ctx.stderr.write(USAGE);
        return 1;
      }
      if (o.operands.length < 2) return die('missing port number');
      const host = o.operands[0] as string;
      const portArg = o.operands[1] as string;
      const port = parsePort(portArg);
      if (typeof port === 'string') return die(port);
      const dst = resolve(host, o.family, o.numeric, portArg);
      if (typeof dst === 'string') return die(dst);
      let srcAddr: In6Addr | null = null;
      if (o.sourceAddr !== null) {
        const s = resolve(o.sourceAddr, dst.family, true, '0');
        if (typeof s === 'string' || s.family !== dst.family)
          return die('bind failed: Cannot assign requested address');
        srcAddr = s.addr;
      }
      let srcPort = 0;
      if (o.sourcePort !== null) {
        const p = parsePort(o.sourcePort);
        if (typeof p === 'string') return die(p);
        srcPort = p;
      }
      const c = await transport.connect(net, { ...dst, port }, { addr: srcAddr, port: srcPort }, o.timeout);
      if (c === null) return 1;
      if (typeof c === 'string') return die(c);
      conn = c;
    }
    return await readwrite(ctx, o, conn, first, stop);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** readwrite(): standard input to the socket, the socket to standard output, until one of the ends. */
async function readwrite(
  ctx: CommandContext,
  o: Options,
  conn: NcConn,
  first: Uint8Array | null,
  stop: AbortController,
): Promise<number> {
  const clock = ctx.net.kernel.clock;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let idle: { cancel(): void } | null = null;
  let quit: { cancel(): void } | null = null;
  let status = 0;
  const touch = () => {
    if (o.timeout < 0) return;
    idle?.cancel();
    idle = clock.setTimer(o.timeout * 1e9, () => stop.abort());
  };
  const output = (data: Uint8Array) => {
    touch();
    const text = decoder.decode(data, { stream: true });
    if (text.length > 0) ctx.stdout.write(text);
  };
  touch();
  if (first !== null) output(first);

  const netin = (async () => {
    for (;;) {
      const d = await conn.read(stop.signal);
      if (d === null) break;
      output(d);
    }
  })();

  const stdin = (async () => {
    if (ctx.stdin !== undefined) {
      for await (const chunk of ctx.stdin) {
        if (stop.signal.aborted) return;
        const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
        // One read() of at most BUFSIZE bytes is one write(), so one datagram.
        for (let at = 0; at < bytes.byteLength; at += BUFSIZE) {
          touch();
          if (!(await conn.write(bytes.subarray(at, at + BUFSIZE)))) return;
        }
      }
    }
    if (stop.signal.aborted) return;
    // EOF on standard input: -N sends a FIN; without it the connection stays open both ways.
    if (o.shutdownOnEof) conn.shutdownWrite?.();
    // -q N quits N seconds later (at once for 0), by default never.
    if (o.quit === 0) stop.abort();
    else if (o.quit > 0) quit = clock.setTimer(o.quit * 1e9, () => stop.abort());
  })();

  const interrupted = new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const stopped = new Promise<void>((resolve) => {
    if (stop.signal.aborted) resolve();
    stop.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([netin, interrupted]);
  // A stream is done when both inputs are gone; with -l, when netin is.
  if (conn.stream && !o.listen) await Promise.race([stdin, interrupted, stopped]);
  if (ctx.signal.aborted) status = 130;
  stop.abort();
  (idle as { cancel(): void } | null)?.cancel();
  (quit as { cancel(): void } | null)?.cancel();
  conn.close();
  const rest = decoder.decode();
  if (rest.length > 0) ctx.stdout.write(rest);
  return status;
}
