/**
 * The page's web server: a small HTTP/1.1 responder on `ns.net.createServer`, listening on
 * 127.0.0.1:8080 and [::1]:8080 of the page's namespace, so `curl` in the terminal has
 * something to talk to. Every byte it reads came through the page's TCP and lo; the reply
 * echoes the request as it arrived and what the path has counted so far.
 */
import type { Namespace } from '../src/api/namespace.js';
import type { Server, Socket } from '../src/api/net.js';
import { STAGES } from './stages.js';

/** A request head bigger than this is refused, as servers cap header size. */
const MAX_HEAD = 16 * 1024;

interface Head {
  method: string;
  target: string;
  version: string;
  lines: string[];
  headers: Map<string, string>;
}

function parseHead(text: string): Head | null {
  const lines = text.split('\r\n');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (m === null) return null;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { method: m[1] as string, target: m[2] as string, version: m[3] as string, lines, headers };
}

function respond(sock: Socket, status: string, body: string, keepAlive: boolean, head = false): void {
  const bytes = new TextEncoder().encode(body);
  sock.write(
    `HTTP/1.1 ${status}\r\n` +
      'Server: lonet-page\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${bytes.byteLength}\r\n` +
      `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`,
  );
  if (!head) sock.write(bytes);
  if (!keepAlive) sock.end();
}

function describe(ns: Namespace, sock: Socket, req: Head, n: number): string {
  const width = Math.max(...STAGES.map((s) => s.name.length)) + 7;
  const cells = STAGES.map((s) => {
    const count = String(s.count(ns));
    return `${s.name.padEnd(width - count.length)}${count}`;
  });
  const rows: string[] = [];
  for (let i = 0; i < cells.length; i += 3) rows.push(`  ${cells.slice(i, i + 3).join('   ')}`);
  return [
    `Hello from the page's web server: ns.net.createServer() on ${sock.localAddress}:${sock.localPort}.`,
    '',
    `Request ${n} on this connection, from ${sock.remoteAddress}:${sock.remotePort}, as it arrived:`,
    '',
    ...req.lines.map((l) => `  ${l}`),
    '',
    'Packets each stage of the loopback path has counted since the page loaded:',
    '',
    ...rows,
    '',
  ].join('\n');
}

/** Serves one connection: requests in order, keep-alive as HTTP/1.1 has it. */
function serve(ns: Namespace, sock: Socket): void {
  let buf = new Uint8Array(0);
  let served = 0;
  /** Request-body bytes still to skip before the next request's head. */
  let skip = 0;
  /** Set once a reply ended the connection: what follows is not read. */
  let done = false;
  const finish = (status: string, body: string) => {
    done = true;
    respond(sock, status, body, false);
  };
  // A peer's reset is its business; the page has nobody to tell.
  sock.on('error', () => {});
  sock.on('data', (chunk: Uint8Array) => {
    if (done) return;
    const more = new Uint8Array(buf.byteLength + chunk.byteLength);
    more.set(buf);
    more.set(chunk, buf.byteLength);
    buf = more;
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.byteLength);
        skip -= n;
        buf = buf.subarray(n);
        if (skip > 0) return;
      }
      const text = new TextDecoder('latin1').decode(buf);
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.byteLength > MAX_HEAD) finish('431 Request Header Fields Too Large', 'Too large\n');
        return;
      }
      buf = buf.subarray(end + 4);
      const req = parseHead(text.slice(0, end));
      if (req === null) return finish('400 Bad Request', 'Bad request\n');
      const length = Number(req.headers.get('content-length') ?? '0');
      if (!Number.isSafeInteger(length) || length < 0 || req.headers.has('transfer-encoding')) {
        return finish('400 Bad Request', 'This server reads Content-Length bodies only\n');
      }
      skip = length;
      const connection = (req.headers.get('connection') ?? '').toLowerCase();
      const keepAlive = req.version === '1.1' ? connection !== 'close' : connection === 'keep-alive';
      respond(sock, '200 OK', describe(ns, sock, req, ++served), keepAlive, req.method === 'HEAD');
      if (!keepAlive) {
        done = true;
        return;
      }
    }
  });
}

/** Starts the server on 127.0.0.1 and ::1 (port 8080 unless told); resolves when both listen. */
export function startPageServer(ns: Namespace, port = 8080): Promise<Server[]> {
  return Promise.all(
    ['127.0.0.1', '::1'].map(
      (host) =>
        new Promise<Server>((resolve, reject) => {
          const server = ns.net.createServer((sock) => serve(ns, sock as Socket));
          server.once('error', reject);
          server.listen(port, host, () => resolve(server));
        }),
    ),
  );
}
