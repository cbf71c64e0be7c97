/**
 * The scenarios, each written once against node:net / node:dgram / node:http's surface and
 * run twice: over lonet's faces (ns.net, ns.dgram, ns.http) and over Node's own modules on
 * the kernel's 127.0.0.1. Every repetition measures a window of `ms` after its setup, so
 * connection setup is not counted in rates.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Namespace } from '../src/api/namespace.js';
import { type Certs, makeCerts } from '../test/helpers/certs.js';
import { pipe } from './pipe.js';

/**
 * The rate of `read()` over a window of `ms` after `warm` ms: counted from the window's
 * start, and kept open until at least one thing was counted, since on a loaded machine a
 * 30 ms window can pass with the process not run at all.
 */
async function measure(read: () => number | Promise<number>, ms: number, warm: number): Promise<number> {
  await sleep(warm);
  const c0 = await read();
  const t0 = performance.now();
  await sleep(ms);
  let c1 = await read();
  while (c1 === c0) {
    await sleep(5);
    c1 = await read();
  }
  return (c1 - c0) / ((performance.now() - t0) / 1000);
}

/** What both sides offer: node:net, node:dgram and node:http, or a namespace's faces. */
export interface Stack {
  kind: 'lonet' | 'kernel' | 'pipe';
  net: Pick<typeof net, 'createServer' | 'connect'>;
  dgram: Pick<typeof dgram, 'createSocket'>;
  http: Pick<typeof http, 'createServer' | 'request' | 'Agent'>;
  https: Pick<typeof https, 'createServer' | 'request' | 'Agent'>;
  http2: Pick<typeof http2, 'createSecureServer' | 'connect'>;
  /** The lonet namespace (lonet side only). */
  ns?: Namespace;
}

export function lonetStack(ns = new Namespace()): Stack {
  return {
    kind: 'lonet',
    net: ns.net as unknown as Stack['net'],
    dgram: ns.dgram as unknown as Stack['dgram'],
    http: ns.http as unknown as Stack['http'],
    https: ns.https as unknown as Stack['https'],
    http2: ns.http2 as unknown as Stack['http2'],
    ns,
  };
}

export const kernelStack: Stack = { kind: 'kernel', net, dgram, http, https, http2 };

/** No stack at all: Node's machinery alone over in-memory pipes (bench/pipe.ts), the ceiling. */
export const pipeStack: Stack = {
  kind: 'pipe',
  ...(pipe as unknown as Pick<Stack, 'net' | 'dgram' | 'http' | 'https' | 'http2'>),
};

export interface RunOpts {
  /** Length of one measured window. */
  ms: number;
  /** Scale for count-based scenarios (smoke runs use tiny counts). */
  smoke: boolean;
  quick: boolean;
}

export interface Scenario {
  name: string;
  unit: string;
  /** One repetition; a number, or null when the side cannot run it here. */
  run(stack: Stack, o: RunOpts): Promise<number | null>;
  /** Count-based scenarios run once per side (no repetitions). */
  once?: boolean;
  /** Lower is better (ratio is kernel/lonet then). */
  lowerIsBetter?: boolean;
}

type AnyServer = net.Server;
/** A reset at teardown is not a result. */
const ignore = () => {};
type AnySocket = net.Socket;

async function listen(server: AnyServer | http.Server | http2.Http2SecureServer, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: AnyServer | http.Server | http2.Http2SecureServer): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function dial(stack: Stack, port: number): Promise<AnySocket> {
  const c = stack.net.connect({ port, host: '127.0.0.1', noDelay: true } as net.NetConnectOpts);
  c.on('error', ignore);
  await once(c, 'connect');
  return c;
}

const tcpBulk: Scenario = {
  name: 'tcp-bulk',
  unit: 'Gbit/s',
  async run(stack, o) {
    let received = 0;
    const server = stack.net.createServer((s) =>
      s.on('error', ignore).on('data', (d: Buffer) => {
        received += d.length;
      }),
    );
    const port = await listen(server);
    const c = await dial(stack, port);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let stop = false;
    const pump = () => {
      while (!stop) {
        if (!c.write(chunk)) {
          c.once('drain', pump);
          return;
        }
      }
    };
    pump();
    const rate = await measure(() => received, o.ms, Math.min(50, o.ms / 4));
    stop = true;
    c.destroy();
    await closeServer(server);
    return (rate * 8) / 1e9;
  },
};

/** Ping-pong of `size` bytes over TCP with TCP_NODELAY on both ends. */
async function tcpPingPong(stack: Stack, ms: number): Promise<number> {
  const server = stack.net.createServer((s) => {
    s.on('error', ignore);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => s.write(d));
  });
  const port = await listen(server);
  const c = await dial(stack, port);
  c.setNoDelay(true);
  const one = Buffer.from('x');
  let count = 0;
  let stop = false;
  c.on('data', () => {
    count++;
    if (!stop) c.write(one);
  });
  c.write(one);
  const rate = await measure(() => count, ms, Math.min(20, ms / 4));
  stop = true;
  c.destroy();
  await closeServer(server);
  return rate;
}

const tcpRr: Scenario = { name: 'tcp-rr', unit: 'round trips/s', run: (stack, o) => tcpPingPong(stack, o.ms) };

const tcpConnect: Scenario = {
  name: 'tcp-connect',
  unit: 'conns/s',
  async run(stack, o) {
    // The server closes first, so TIME_WAIT lands on its side and the client's ports stay free.
    const server = stack.net.createServer((s) => s.on('error', ignore).destroy());
    const port = await listen(server);
    let count = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const c = stack.net.connect({ port, host: '127.0.0.1' });
        c.on('error', ignore);
        c.resume();
        await once(c, 'close');
        count++;
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    const rate = await measure(() => count, o.ms, Math.min(20, o.ms / 4));
    stop = true;
    await Promise.all(loops);
    await closeServer(server);
    return rate;
  },
};

// ---- UDP ----

/** The kernel side's receiver: another process counting datagrams (so the sender can't starve it). */
const SINK_JS = `
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
let n = 0;
s.on('message', () => { n++; });
s.bind(0, '127.0.0.1', () => {
  try { s.setRecvBufferSize(4 * 1024 * 1024); } catch {}
  process.send({ port: s.address().port });
});
process.on('message', (m) => { if (m === 'count') process.send({ count: n }); else if (m === 'exit') process.exit(0); });
`;

async function sinkCount(child: ChildProcess): Promise<number> {
  child.send('count');
  for (;;) {
    const [m] = (await once(child, 'message')) as [{ count?: number }];
    if (m.count !== undefined) return m.count;
  }
}

const udp64b: Scenario = {
  name: 'udp-64b',
  unit: 'datagrams/s',
  async run(stack, o) {
    const payload = Buffer.alloc(64, 0x62);
    const tx = stack.dgram.createSocket('udp4');
    let stop = false;
    let inflight = 0;
    // Sends in bursts, each waiting for its callbacks, so the loop yields to the receiver.
    const BURST = 32;
    const pump = (port: number) => {
      const go = () => {
        if (stop) return;
        inflight = BURST;
        for (let i = 0; i < BURST; i++)
          tx.send(payload, port, '127.0.0.1', () => {
            if (--inflight === 0) setImmediate(go);
          });
      };
      go();
    };
    if (stack.kind === 'kernel') {
      const child = spawn(process.execPath, ['-e', SINK_JS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const [first] = (await once(child, 'message')) as [{ port: number }];
      pump(first.port);
      const rate = await measure(() => sinkCount(child), o.ms, Math.min(20, o.ms / 4));
      stop = true;
      child.send('exit');
      tx.close();
      return rate;
    }
    const rx = stack.dgram.createSocket('udp4');
    let n = 0;
    rx.on('message', () => n++);
    rx.bind(0, '127.0.0.1');
    await once(rx, 'listening');
    pump(rx.address().port);
    const rate = await measure(() => n, o.ms, Math.min(20, o.ms / 4));
    stop = true;
    tx.close();
    rx.close();
    return rate;
  },
};

const udpRr: Scenario = {
  name: 'udp-rr',
  unit: 'round trips/s',
  async run(stack, o) {
    const srv = stack.dgram.createSocket('udp4');
    srv.on('message', (m, r) => srv.send(m, r.port, r.address));
    srv.bind(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = srv.address().port;
    const cli = stack.dgram.createSocket('udp4');
    const one = Buffer.from('x');
    let count = 0;
    let stop = false;
    cli.on('message', () => {
      count++;
      if (!stop) cli.send(one, port, '127.0.0.1');
    });
    cli.bind(0, '127.0.0.1');
    await once(cli, 'listening');
    cli.send(one, port, '127.0.0.1');
    const rate = await measure(() => count, o.ms, Math.min(20, o.ms / 4));
    stop = true;
    cli.close();
    srv.close();
    return rate;
  },
};

// ---- ICMP ----

/** "N packets transmitted, … time Xms": the rate as ping itself timed it. */
function pingRate(out: string): number | null {
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(out);
  if (m === null) return null;
  return Number(m[2]) / Math.max(1, Number(m[3])) / 1e-3;
}

const pingFlood: Scenario = {
  name: 'ping-flood',
  unit: 'echo replies/s',
  async run(stack, o) {
    // The same number of echoes on both sides, about o.ms worth at 150 k/s (both pings run
    // near that here); ping times itself, to the millisecond, so runs must be long enough.
    const count = o.smoke ? 50 : Math.max(500, Math.round(o.ms * 150));
    if (stack.kind === 'pipe') return null;
    const line = `ping -f -q -c ${count} 127.0.0.1`;
    if (stack.ns !== undefined) return pingRate((await stack.ns.exec(line)).stdout);
    const out = await new Promise<string | null>((resolve) =>
      execFile('ping', ['-f', '-q', '-c', String(count), '127.0.0.1'], (err, stdout) =>
        resolve(err === null ? stdout : null),
      ),
    );
    return out === null ? null : pingRate(out);
  },
};

// ---- HTTP ----

/**
 * Requests one after another on one keep-alive connection (node:http's or node:https's
 * Agent with maxSockets 1): the same client and server code for http-rr and https-rr.
 */
async function keepAliveRr(
  mod: Stack['http'] | Stack['https'],
  tlsOpts: { key: string; cert: string; ca: string } | null,
  o: RunOpts,
): Promise<number> {
  const body = Buffer.from('ok\n');
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  };
  const server =
    tlsOpts === null
      ? (mod as Stack['http']).createServer(handler)
      : (mod as Stack['https']).createServer({ key: tlsOpts.key, cert: tlsOpts.cert }, handler);
  const port = await listen(server);
  const ca = tlsOpts === null ? {} : { ca: tlsOpts.ca };
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 1, ...ca });
  let count = 0;
  let stop = false;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = mod.request({ host: '127.0.0.1', port, path: '/', agent, ...ca }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
  const loop = (async () => {
    while (!stop) {
      await one();
      count++;
    }
  })();
  const rate = await measure(() => count, o.ms, Math.min(50, o.ms / 4));
  stop = true;
  await loop;
  agent.destroy();
  await closeServer(server);
  return rate;
}

const httpRr: Scenario = { name: 'http-rr', unit: 'requests/s', run: (stack, o) => keepAliveRr(stack.http, null, o) };

// ---- TLS: https and http2 (Node's OpenSSL and nghttp2 on every side) ----

let certs: Certs | undefined;
/** Made by the openssl CLI once, on the first TLS scenario, into a temp dir main removes. */
export function benchCerts(): Certs {
  certs ??= makeCerts();
  return certs;
}
export function removeBenchCerts(): void {
  certs?.cleanup();
}

const httpsRr: Scenario = {
  name: 'https-rr',
  unit: 'requests/s',
  run: (stack, o) => {
    const c = benchCerts();
    return keepAliveRr(stack.https, { key: c.key, cert: c.cert, ca: c.ca }, o);
  },
};

/** Requests kept in flight on the one http2 session. */
const H2_STREAMS = 16;

const h2Rr: Scenario = {
  name: 'h2-rr',
  unit: 'requests/s',
  async run(stack, o) {
    const c = benchCerts();
    const body = Buffer.from('ok\n');
    const server = stack.http2.createSecureServer({ key: c.key, cert: c.cert });
    server.on('stream', (stream) => {
      stream.on('error', ignore);
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(body);
    });
    server.on('sessionError', ignore);
    const port = await listen(server);
    const session = stack.http2.connect(`https://127.0.0.1:${port}`, { ca: c.ca });
    session.on('error', ignore);
    await once(session, 'connect');
    let count = 0;
    let stop = false;
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const req = session.request({ ':path': '/' });
        req.on('error', reject);
        req.resume();
        req.on('end', () => resolve());
        req.end();
      });
    // H2_STREAMS loops, each with one request outstanding: 16 streams in flight at all times.
    const loops = Array.from({ length: H2_STREAMS }, async () => {
      while (!stop) {
        await one();
        count++;
      }
    });
    const rate = await measure(() => count, o.ms, Math.min(50, o.ms / 4));
    stop = true;
    await Promise.all(loops);
    await new Promise<void>((resolve) => session.close(() => resolve()));
    await closeServer(server);
    return rate;
  },
};

// ---- idle connections ----

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The heap after collections, once it stops shrinking (closes finish on later turns). */
async function heapUsed(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 30; i++) {
    gc();
    await sleep(20);
    const now = process.memoryUsage().heapUsed;
    if (now > last * 0.995) return Math.min(now, last);
    last = now;
  }
  return last;
}

/**
 * The kernel side stops below the process's descriptor limit (two descriptors a connection,
 * a thousand spare): RLIMIT_NOFILE from /proc/self/limits, which Node cannot raise.
 */
export const KERNEL_IDLE_MAX = ((): number => {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isFinite(soft)) return Math.max(100, Math.floor((soft - 1000) / 2 / 1000) * 1000);
  } catch {}
  return 9000;
})();

/**
 * Heap bytes per idle connection (both ends: the client's and the accepted socket) after
 * opening `conns` connections, spread over 8 listening ports so ephemeral ports suffice.
 */
export async function idleConns(stack: Stack, conns: number, progress?: (done: number) => void): Promise<number> {
  const accepted: AnySocket[] = [];
  const servers: AnyServer[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 8; i++) {
    const s = stack.net.createServer((sock) => accepted.push(sock.on('error', ignore)));
    servers.push(s);
    ports.push(await listen(s));
  }
  const before = await heapUsed();
  const clients: AnySocket[] = [];
  const BATCH = 500;
  for (let done = 0; done < conns; ) {
    const n = Math.min(BATCH, conns - done);
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const c = stack.net.connect({ port: ports[(done + i) % ports.length] as number, host: '127.0.0.1' });
      clients.push(c.on('error', ignore));
      batch.push(once(c, 'connect'));
    }
    await Promise.all(batch);
    done += n;
    progress?.(done);
  }
  while (accepted.length < conns) await sleep(1);
  const after = await heapUsed();
  const per = (after - before) / conns;
  for (const c of clients) c.destroy();
  for (const s of accepted) s.destroy();
  for (const s of servers) await closeServer(s);
  clients.length = 0;
  accepted.length = 0;
  await sleep(10);
  return per;
}

export const scenarios: Scenario[] = [tcpBulk, tcpRr, tcpConnect, udp64b, udpRr, pingFlood, httpRr, httpsRr, h2Rr];
