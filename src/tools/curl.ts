/**
 * curl(1), 7.88 (Debian 12), for http:// over lonet's TCP: `curl [-sSiIv] [-X METHOD]
 * [-d DATA] [-H 'Name: value'] [-o FILE] URL`. Like curl, it is its own HTTP/1.1 client
 * on a plain socket (a TcpSock of the namespace), so `-i` shows the status line and
 * headers exactly as the server sent them and `-v` the request as it went out. Errors
 * are curl's: (7) for a refused connect, (6) for a name not in lonet's hosts table, (3)
 * for a bad URL, (1) for a scheme this build has no support for. https:// (with -k,
 * --cacert FILE and --http2) runs Node's own TLS and nghttp2 through the namespace's
 * faces (ns.net, ns.tls, ns.http2) when the shell's namespace has them: curl's (60) for a
 * certificate it cannot verify, (35) for a failed handshake, (77) for a CA file it cannot
 * read. In a browser page there is no TLS: https:// is (1), as for a libcurl built without
 * it. What real curl differs in: no progress meter (curl hides it when stdout is a
 * terminal, as the lonet shell's is taken to be), no file system, so -o takes only
 * /dev/null and '-'.
 */
import { E } from '../include/errno.js';
import { formatIpv4 } from '../ipv4/devinet.js';
import { formatIpv6, inetPton6 } from '../ipv6/addr.js';
import type { Net } from '../net/net.js';
import { TCP, TcpSock } from '../transport/tcp/sock.js';
import { v4Mapped } from '../transport/udp.js';
import { getaddrinfo } from '../userland/resolver.js';
import type { CommandContext } from './command.js';

const VERSION = '7.88.1';
const TRY = "curl: try 'curl --help' or 'curl --manual' for more information\n";

const USAGE = `Usage: curl [options...] <url>
 -d, --data <data>          HTTP POST data
 -H, --header <header/@file> Pass custom header(s) to server
 -h, --help <category>      Get help for commands
 --cacert <file>            CA certificate to verify peer against
     --http1.1              Use HTTP 1.1
     --http2                Use HTTP 2
 -i, --include              Include protocol response headers in the output
 -k, --insecure             Allow insecure server connections
 -I, --head                 Show document info only
 -o, --output <file>        Write to file instead of stdout
 -X, --request <method>     Specify request method to use
 -s, --silent               Silent mode
 -S, --show-error           Show error even when -s is used
 -v, --verbose              Make the operation more talkative
 -V, --version              Show version number and quit
`;

/** Options that take a value, by short and long name. */
const WITH_ARG: Record<string, string> = { d: 'data', H: 'header', o: 'output', X: 'request', m: 'max-time' };
const FLAGS: Record<string, string> = {
  s: 'silent',
  S: 'show-error',
  i: 'include',
  I: 'head',
  v: 'verbose',
  h: 'help',
  V: 'version',
  k: 'insecure',
};
const LONG_WITH_ARG = new Set([...Object.values(WITH_ARG), 'data-raw', 'data-binary', 'data-ascii', 'cacert']);
const LONG_FLAGS = new Set([...Object.values(FLAGS), 'http2', 'http1.1']);

interface Options {
  silent: boolean;
  showError: boolean;
  include: boolean;
  head: boolean;
  verbose: boolean;
  method: string | null;
  data: string[];
  headers: string[];
  output: string | null;
  maxTime: number;
  help: boolean;
  version: boolean;
  url: string | null;
  insecure: boolean;
  http2: boolean;
  http11: boolean;
  cacert: string | null;
}

class Exit {
  constructor(readonly code: number) {}
}

function parse(argv: readonly string[], err: (t: string) => void): Options {
  const o: Options = {
    silent: false,
    showError: false,
    include: false,
    head: false,
    verbose: false,
    method: null,
    data: [],
    headers: [],
    output: null,
    maxTime: 0,
    help: false,
    version: false,
    url: null,
    insecure: false,
    http2: false,
    http11: false,
    cacert: null,
  };
  const set = (name: string, value: string | null) => {
    switch (name) {
      case 'silent':
        o.silent = true;
        break;
      case 'show-error':
        o.showError = true;
        break;
      case 'include':
        o.include = true;
        break;
      case 'head':
        o.head = true;
        break;
      case 'verbose':
        o.verbose = true;
        break;
      case 'help':
        o.help = true;
        break;
      case 'version':
        o.version = true;
        break;
      case 'insecure':
        o.insecure = true;
        break;
      case 'http2':
        o.http2 = true;
        o.http11 = false;
        break;
      case 'http1.1':
        o.http11 = true;
        break;
      case 'cacert':
        o.cacert = value;
        break;
      case 'request':
        o.method = value;
        break;
      case 'data':
      case 'data-raw':
      case 'data-binary':
      case 'data-ascii':
        o.data.push(value ?? '');
        break;
      case 'header':
        o.headers.push(value ?? '');
        break;
      case 'output':
        o.output = value;
        break;
      case 'max-time': {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) {
          err(`curl: option --max-time: expected a proper numerical parameter\n${TRY}`);
          throw new Exit(2);
        }
        o.maxTime = n;
        break;
      }
    }
  };
  const missing = (opt: string) => {
    err(`curl: option ${opt}: requires parameter\n${TRY}`);
    throw new Exit(2);
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--') && a.length > 2) {
      const name = a.slice(2);
      if (LONG_FLAGS.has(name)) set(name, null);
      else if (LONG_WITH_ARG.has(name)) {
        const v = argv[++i];
        if (v === undefined) missing(a);
        set(name, v as string);
      } else {
        err(`curl: option ${a}: is unknown\n${TRY}`);
        throw new Exit(2);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      // Short options bundle (-si), and one that takes a value takes the rest or the next word.
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        const flag = FLAGS[c];
        const withArg = WITH_ARG[c];
        if (flag !== undefined) set(flag, null);
        else if (withArg !== undefined) {
          let v: string | undefined = a.slice(j + 1);
          if (v === '') v = argv[++i];
          if (v === undefined) missing(`-${c}`);
          set(withArg, v as string);
          break;
        } else {
          err(`curl: option -${c}: is unknown\n${TRY}`);
          throw new Exit(2);
        }
      }
    } else o.url = a;
  }
  return o;
}

/** Why a transfer failed: curl's exit code and its message. */
class CurlError {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

interface Target {
  https: boolean;
  host: string;
  port: number;
  path: string;
  hostHeader: string;
}

function parseUrl(raw: string): Target {
  // curl guesses http:// for a URL with no scheme.
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(raw) ? raw : `http://${raw}`;
  const scheme = withScheme.slice(0, withScheme.indexOf(':')).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https')
    throw new CurlError(1, `Protocol "${scheme}" not supported or disabled in libcurl`);
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CurlError(3, 'URL using bad/illegal format or missing URL');
  }
  if (u.hostname === '') throw new CurlError(3, 'URL using bad/illegal format or missing URL');
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port);
  // curl names an IPv6 literal without its brackets in its messages.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { https: scheme === 'https', host, port, path: `${u.pathname}${u.search}`, hostHeader: u.host };
}

interface Addr {
  family: 4 | 6;
  addr: Uint8Array;
  text: string;
}

const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Name resolution: numbers, localhost as curl orders it, else the namespace's resolver (/etc/hosts, DNS). */
async function resolve(net: Net, host: string): Promise<Addr[]> {
  const v4 = (n: number): Addr => ({ family: 4, addr: v4Mapped(n), text: formatIpv4(n) });
  if (IPV4_RE.test(host)) return [v4(host.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0))];
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  const v6 = inetPton6(bare);
  if (v6 !== null) return [{ family: 6, addr: v6, text: formatIpv6(v6) }];
  if (host.toLowerCase() === 'localhost') {
    const lo6 = inetPton6('::1') as Uint8Array;
    return [v4(0x7f000001), { family: 6, addr: lo6, text: '::1' }];
  }
  const r = await getaddrinfo(net, bare, 0);
  if (!Array.isArray(r)) throw new CurlError(6, `Could not resolve host: ${host}`);
  return r.map((a) => {
    if (a.family === 4) return v4(a.address.split('.').reduce((x, p) => ((x << 8) | Number(p)) >>> 0, 0));
    const addr = inetPton6(a.address) as Uint8Array;
    return { family: 6 as const, addr, text: formatIpv6(addr) };
  });
}

/** A connected TcpSock read and written with promises. */
class Conn {
  #wake: (() => void) | null = null;

  constructor(readonly sk: TcpSock) {
    const poke = () => {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    };
    sk.onDataReady = sk.onWriteSpace = sk.onError = sk.onStateChange = poke;
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#wake = done;
      signal.addEventListener('abort', done);
    });
  }

  /** Resolves 0 once established, or the negative errno the connect failed with. */
  async connect(a: Addr, port: number, signal: AbortSignal): Promise<number> {
    const r = this.sk.connect(a.addr, port);
    if (r !== -E.EINPROGRESS) return r;
    for (;;) {
      if (signal.aborted) return -E.EINTR;
      const s = this.sk.state;
      if (s === TCP.ESTABLISHED || s === TCP.CLOSE_WAIT) return 0;
      if (s === TCP.CLOSE) {
        const err = this.sk.takeError();
        return err !== 0 ? err : -E.ECONNREFUSED;
      }
      await this.#wait(signal);
    }
  }

  async write(data: Uint8Array, signal: AbortSignal): Promise<number> {
    let off = 0;
    while (off < data.byteLength) {
      if (signal.aborted) return -E.EINTR;
      const n = this.sk.sendmsg(data.subarray(off));
      if (n === -E.EAGAIN) await this.#wait(signal);
      else if (n < 0) return n;
      else off += n;
    }
    return 0;
  }

  /** The next bytes, null at end of stream, or a negative errno. */
  async read(signal: AbortSignal): Promise<Uint8Array | null | number> {
    for (;;) {
      if (signal.aborted) return -E.EINTR;
      const d = this.sk.recvmsg();
      if (d === 0) return null;
      if (typeof d !== 'number') return d;
      if (d !== -E.EAGAIN) return d;
      await this.#wait(signal);
    }
  }

  close(): void {
    this.sk.onDataReady = this.sk.onWriteSpace = this.sk.onError = this.sk.onStateChange = null;
    this.sk.close();
  }
}

/** What the transfer reads and writes: a TcpSock (http://) or a TLS stream (https://). */
interface Transport {
  write(data: Uint8Array, signal: AbortSignal): Promise<number>;
  read(signal: AbortSignal): Promise<Uint8Array | null | number>;
  close(): void;
}

/** The few stream methods curl uses of a socket a face hands back. */
interface DuplexLike {
  on(ev: string, fn: (...a: never[]) => void): unknown;
  once(ev: string, fn: (...a: never[]) => void): unknown;
  off(ev: string, fn: (...a: never[]) => void): unknown;
  write(b: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
  alpnProtocol?: string | false | null;
}

/**
 * The namespace's Node faces, when the shell's namespace has them (lonet's Namespace, in
 * Node): the tools layer holds no TLS of its own and imports no Node module, so https://
 * goes through them, as Linux tools reach TLS through a library above the kernel.
 */
interface Faces {
  net: { connect(o: { port: number; host: string }): DuplexLike };
  tls: { connect(o: object): DuplexLike };
  http2: { connect(authority: string, o: object): Http2SessionLike };
  /** A file of the host (--cacert), and the TLS library's version for curl's messages. */
  readHostFile(path: string): Uint8Array;
  readonly tlsLibrary: string;
}
interface Http2SessionLike {
  request(headers: Record<string, string>, o?: object): DuplexLike;
  close(): void;
  on(ev: string, fn: (...a: never[]) => void): unknown;
}

function facesOf(net: unknown): Faces | null {
  try {
    const f = net as Partial<Faces>;
    return f.tls !== undefined && f.net !== undefined && f.http2 !== undefined && f.readHostFile !== undefined
      ? (f as Faces)
      : null;
  } catch {
    // A browser page: the TLS faces say they are Node-only.
    return null;
  }
}

/** A stream socket (a TLSSocket) read and written with promises. */
class StreamConn implements Transport {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(
    readonly s: DuplexLike,
    readonly under: DuplexLike,
  ) {
    const poke = () => {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    };
    s.on('data', (d: Uint8Array) => {
      this.#chunks.push(d);
      poke();
    });
    s.on('end', () => {
      this.#ended = true;
      poke();
    });
    s.on('error', (e: Error) => {
      this.#error = e;
      poke();
    });
    s.on('close', () => {
      this.#ended = true;
      poke();
    });
  }

  write(data: Uint8Array): Promise<number> {
    return new Promise((resolve) => this.s.write(data, (err) => resolve(err ? -E.EPIPE : 0)));
  }

  async read(signal: AbortSignal): Promise<Uint8Array | null | number> {
    for (;;) {
      if (signal.aborted) return -E.EINTR;
      const c = this.#chunks.shift();
      if (c !== undefined) return c;
      if (this.#error !== null) return -E.ECONNRESET;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done);
      });
    }
  }

  close(): void {
    this.s.destroy();
    this.under.destroy();
  }
}

const SSL_MORE = `More details here: https://curl.se/docs/sslcerts.html

curl failed to verify the legitimacy of the server and therefore could not
establish a secure connection to it. To learn more about this situation and
how to fix it, please visit the web page mentioned above.`;

/** Node's error from a handshake, as curl 7.88 with OpenSSL 3 reports it. */
function tlsFailure(e: Error & { code?: string }, host: string, openssl: string): CurlError {
  const code = e.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new CurlError(
      60,
      `SSL: no alternative certificate subject name matches target host name '${host}'\n${SSL_MORE}`,
    );
  // A verification failure: Node's message is OpenSSL's X509_verify_cert_error_string.
  // curl always loads a trust store, so for a leaf whose issuer it lacks OpenSSL says
  // "unable to get local issuer certificate" where Node, with its own list, says it
  // cannot verify the first certificate.
  if (!code.startsWith('ERR_')) {
    const text = code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ? 'unable to get local issuer certificate' : e.message;
    return new CurlError(60, `SSL certificate problem: ${text}\n${SSL_MORE}`);
  }
  // OpenSSL's own error: curl prints its code and reason without the function name.
  const m = /error:([0-9A-F]{8}):([^:]*):[^:]*:([^:\n]*)/.exec(e.message);
  const what = m === null ? e.message : `error:${m[1]}:${m[2]}::${m[3]}`;
  return new CurlError(35, `${openssl}: ${what}`);
}

const enc = new TextEncoder();

/** One request on an h2 session over the TLS socket ALPN gave h2 to. */
async function http2Transfer(
  faces: Faces,
  sock: DuplexLike,
  t: Target,
  o: Options,
  ctx: CommandContext,
  signal: AbortSignal,
): Promise<number> {
  const session = faces.http2.connect(`https://${t.hostHeader}`, { createConnection: () => sock });
  const method = o.method ?? (o.head ? 'HEAD' : o.data.length > 0 ? 'POST' : 'GET');
  const headers: Record<string, string> = {
    ':method': method,
    ':path': t.path,
    ':scheme': 'https',
    ':authority': t.hostHeader,
    'user-agent': `curl/${VERSION}`,
    accept: '*/*',
  };
  for (const h of o.headers) {
    const colon = h.indexOf(':');
    if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const discard = o.output !== null && o.output !== '-';
  const out = (text: string) => {
    if (!discard) ctx.stdout.write(text);
  };
  session.on('error', () => {});
  const req = session.request(headers, { endStream: o.data.length === 0 });
  if (o.data.length > 0) {
    req.write(enc.encode(o.data.join('&')));
    req.end();
  }
  const dec = new TextDecoder();
  // The body is shown after the headers, whichever event node:http2 gives first.
  const body: Uint8Array[] = [];
  let head: string | null = null;
  const code = await new Promise<number>((resolve) => {
    const onAbort = () => resolve(130);
    signal.addEventListener('abort', onAbort);
    req.on('response', (h: Record<string, string | string[]>) => {
      head = `HTTP/2 ${h[':status']} \r\n`;
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) head += `${k}: ${v}\r\n`;
    });
    req.on('data', (d: Uint8Array) => body.push(d));
    req.on('end', () => resolve(0));
    req.on('error', () => resolve(92));
  });
  if (head !== null && (o.include || o.head)) out(`${head}\r\n`);
  for (const d of body) out(dec.decode(d, { stream: true }));
  out(dec.decode());
  session.close();
  if (code === 92 && (!o.silent || o.showError))
    ctx.stderr.write('curl: (92) HTTP/2 stream 1 was not closed cleanly\n');
  return code;
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.byteLength; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

export async function curl(ctx: CommandContext): Promise<number> {
  const err = (t: string) => ctx.stderr.write(t);
  let o: Options;
  try {
    o = parse(ctx.argv, err);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
  if (o.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  if (o.version) {
    ctx.stdout.write(`curl ${VERSION} (lonet) libcurl/${VERSION}\nProtocols: http\nFeatures: IPv6\n`);
    return 0;
  }
  if (o.url === null) {
    err(TRY);
    return 2;
  }
  // -s hides errors unless -S shows them again; -v shows them regardless.
  const showErrors = !o.silent || o.showError;
  const verbose = (t: string) => {
    if (o.verbose) err(t);
  };
  const fail = (e: CurlError) => {
    verbose(`* ${e.message}\n* Closing connection 0\n`);
    if (showErrors) err(`curl: (${e.code}) ${e.message}\n`);
    return e.code;
  };
  if (o.output !== null && o.output !== '-' && o.output !== '/dev/null') {
    // lonet has no file system: nowhere to create the file, as on a read-only one.
    if (showErrors) err(`Warning: Failed to open the file ${o.output}: Read-only file system\n`);
  }

  // The in-memory stack holds no libuv handle: keep the process alive while curl waits.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  ctx.signal.addEventListener('abort', onAbort);
  const timer = o.maxTime > 0 ? setTimeout(() => controller.abort(), o.maxTime * 1000) : null;
  const signal = controller.signal;
  let conn: Transport | null = null;
  try {
    const t = parseUrl(o.url);
    const faces = t.https ? facesOf(ctx.net) : null;
    if (t.https && faces === null) throw new CurlError(1, 'Protocol "https" not supported or disabled in libcurl');
    let ca: Uint8Array | undefined;
    if (t.https && o.cacert !== null) {
      try {
        ca = faces?.readHostFile(o.cacert);
      } catch {
        throw new CurlError(77, `error setting certificate file: ${o.cacert}`);
      }
    }
    const addrs = await resolve(ctx.net, t.host);
    const start = performance.now();
    for (const a of addrs) {
      if (faces !== null) {
        verbose(`*   Trying ${a.family === 6 ? `[${a.text}]` : a.text}:${t.port}...\n`);
        const raw = faces.net.connect({ port: t.port, host: a.text });
        const up = await new Promise<boolean>((resolve) => {
          raw.once('connect', () => resolve(true));
          raw.once('error', () => resolve(false));
        });
        if (!up) {
          raw.destroy();
          verbose(`* connect to ${a.text} port ${t.port} failed: Connection refused\n`);
          continue;
        }
        verbose(`* Connected to ${t.host} (${a.text}) port ${t.port} (#0)\n`);
        const named = addrs[0]?.text !== t.host;
        const sock = faces.tls.connect({
          socket: raw,
          host: t.host,
          ...(named ? { servername: t.host } : {}),
          ...(ca !== undefined ? { ca } : {}),
          rejectUnauthorized: !o.insecure,
          // As curl with nghttp2 does for https://: h2 offered unless --http1.1.
          ALPNProtocols: o.http11 ? ['http/1.1'] : ['h2', 'http/1.1'],
        });
        const failed = await new Promise<Error | null>((resolve) => {
          sock.once('secureConnect', () => resolve(null));
          sock.once('error', (e: Error) => resolve(e));
        });
        if (failed !== null) {
          sock.destroy();
          raw.destroy();
          throw tlsFailure(failed, t.host, faces.tlsLibrary);
        }
        verbose(`* ALPN: server accepted ${sock.alpnProtocol || 'http/1.1'}\n`);
        if (sock.alpnProtocol === 'h2') {
          const code = await http2Transfer(faces, sock, t, o, ctx, signal);
          raw.destroy();
          return code;
        }
        conn = new StreamConn(sock, raw);
        break;
      }
      verbose(`*   Trying ${a.family === 6 ? `[${a.text}]` : a.text}:${t.port}...\n`);
      const c = new Conn(new TcpSock(ctx.net, a.family));
      if (signal.aborted) break;
      const r = await c.connect(a, t.port, signal);
      if (r === 0) {
        conn = c;
        verbose(`* Connected to ${t.host} (${a.text}) port ${t.port} (#0)\n`);
        break;
      }
      c.close();
      if (r === -E.EINTR) break;
      verbose(
        `* connect to ${a.text} port ${t.port} failed: ${r === -E.ECONNREFUSED ? 'Connection refused' : `errno ${-r}`}\n`,
      );
    }
    if (conn === null) {
      if (timer !== null && signal.aborted && !ctx.signal.aborted) {
        return fail(
          new CurlError(
            28,
            `Failed to connect to ${t.host} port ${t.port} after ${Math.floor(performance.now() - start)} ms: Timeout was reached`,
          ),
        );
      }
      if (ctx.signal.aborted) return 130;
      const e = new CurlError(
        7,
        `Failed to connect to ${t.host} port ${t.port} after ${Math.floor(performance.now() - start)} ms: Couldn't connect to server`,
      );
      verbose(`* ${e.message}\n* Closing connection 0\n`);
      if (showErrors) err(`curl: (7) ${e.message}\n`);
      return 7;
    }

    // The request, as curl builds it: its own headers unless the user's replace or remove them.
    const method = o.method ?? (o.head ? 'HEAD' : o.data.length > 0 ? 'POST' : 'GET');
    const body = o.data.length > 0 ? enc.encode(o.data.join('&')) : null;
    const user = new Map<string, string>();
    for (const h of o.headers) {
      const colon = h.indexOf(':');
      if (colon > 0) user.set(h.slice(0, colon).trim().toLowerCase(), h);
    }
    const lines = [`${method} ${t.path} HTTP/1.1`];
    const add = (name: string, value: string) => {
      const mine = user.get(name.toLowerCase());
      if (mine === undefined) lines.push(`${name}: ${value}`);
    };
    add('Host', t.hostHeader);
    add('User-Agent', `curl/${VERSION}`);
    add('Accept', '*/*');
    if (body !== null) {
      add('Content-Length', String(body.byteLength));
      add('Content-Type', 'application/x-www-form-urlencoded');
    }
    for (const h of o.headers) {
      const colon = h.indexOf(':');
      // 'Name:' with nothing after removes curl's own header; 'Name;' sends it empty.
      if (colon > 0 && h.slice(colon + 1).trim() === '') continue;
      if (colon < 0 && h.endsWith(';')) lines.push(`${h.slice(0, -1)}:`);
      else if (colon > 0) lines.push(h);
    }
    for (const l of lines) verbose(`> ${l}\r\n`);
    verbose('> \r\n');
    const head = enc.encode(`${lines.join('\r\n')}\r\n\r\n`);
    const w = await conn.write(body === null ? head : concat(head, body), signal);
    if (w < 0) return fail(new CurlError(55, 'Failed sending data to the peer'));

    // The response: status line and headers up to the blank line, then the body.
    let buf: Uint8Array = new Uint8Array(0);
    for (;;) {
      if (indexOfCrlfCrlf(buf) >= 0) break;
      const d = await conn.read(signal);
      if (typeof d === 'number') {
        if (ctx.signal.aborted) return 130;
        return fail(new CurlError(56, 'Recv failure: Connection reset by peer'));
      }
      if (d === null) return fail(new CurlError(52, 'Empty reply from server'));
      buf = concat(buf, d);
    }
    const end = indexOfCrlfCrlf(buf);
    const headText = new TextDecoder('latin1').decode(buf.subarray(0, end));
    let rest = buf.subarray(end + 4);
    const headLines = headText.split('\r\n');
    const status = headLines[0] ?? '';
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(status);
    if (m === null) return fail(new CurlError(1, 'Received HTTP/0.9 when not allowed'));
    const code = Number(m[1]);
    const headers = new Map<string, string>();
    for (const l of headLines.slice(1)) {
      const colon = l.indexOf(':');
      if (colon > 0) headers.set(l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim());
    }
    for (const l of headLines) verbose(`< ${l}\r\n`);
    verbose('< \r\n');
    const discard = o.output === '/dev/null' || (o.output !== null && o.output !== '-');
    const out = (t: string) => {
      if (!discard) ctx.stdout.write(t);
    };
    if (o.include || o.head) out(`${headText}\r\n\r\n`);

    const noBody = method === 'HEAD' || o.head || code === 204 || code === 304 || (code >= 100 && code < 200);
    const dec = new TextDecoder();
    const chunked = /\bchunked\b/i.test(headers.get('transfer-encoding') ?? '');
    const length = headers.has('content-length') ? Number(headers.get('content-length')) : null;
    const more = async (): Promise<boolean> => {
      const d = await conn?.read(signal);
      if (d === undefined || d === null || typeof d === 'number') return false;
      rest = concat(rest, d);
      return true;
    };
    let complete = true;
    if (!noBody) {
      if (chunked) {
        // Chunk sizes in hex, each chunk followed by CRLF, a zero-size chunk and trailers last.
        complete = false;
        for (;;) {
          const crlf = () => rest.findIndex((b, i) => b === 13 && rest[i + 1] === 10);
          while (crlf() < 0) if (!(await more())) break;
          const nl = crlf();
          if (nl < 0) break;
          const size = Number.parseInt(new TextDecoder().decode(rest.subarray(0, nl)), 16);
          rest = rest.subarray(nl + 2);
          if (!Number.isFinite(size)) break;
          if (size === 0) {
            complete = true;
            break;
          }
          while (rest.byteLength < size + 2) if (!(await more())) break;
          if (rest.byteLength < size) {
            out(dec.decode(rest, { stream: true }));
            break;
          }
          out(dec.decode(rest.subarray(0, size), { stream: true }));
          rest = rest.subarray(size + 2);
        }
      } else if (length !== null && Number.isFinite(length)) {
        let left = length;
        for (;;) {
          const take = rest.subarray(0, left);
          out(dec.decode(take, { stream: true }));
          left -= take.byteLength;
          rest = new Uint8Array(0);
          if (left === 0) break;
          if (!(await more())) {
            complete = false;
            break;
          }
        }
        if (!complete) {
          out(dec.decode());
          return fail(new CurlError(18, `transfer closed with ${left} bytes remaining to read`));
        }
      } else {
        // No length: the body runs to the end of the connection.
        out(dec.decode(rest, { stream: true }));
        rest = new Uint8Array(0);
        while (await more()) {
          out(dec.decode(rest, { stream: true }));
          rest = new Uint8Array(0);
        }
      }
      out(dec.decode());
    }
    if (!complete) return fail(new CurlError(18, 'transfer closed with outstanding read data remaining'));
    if (o.output !== null && o.output !== '-' && o.output !== '/dev/null') {
      return fail(new CurlError(23, 'Failure writing output to destination'));
    }
    verbose(`* Connection #0 to host ${t.host} left intact\n`);
    return 0;
  } catch (e) {
    if (e instanceof CurlError) return fail(e);
    throw e;
  } finally {
    conn?.close();
    clearInterval(keepAlive);
    if (timer !== null) clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
