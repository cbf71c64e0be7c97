/**
 * The same small programs against node:net on the kernel's lo and against ns.net:
 * the events they see, in order, with their arguments, must be identical. Written in
 * the spirit of Node's test-net-* tests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as kernelNet from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

type NetLike = typeof kernelNet;
type Log = string[];

/** Runs `scenario` on both and compares what each logged (ports normalised). */
async function same(name: string, scenario: (net: NetLike, log: Log) => Promise<void>): Promise<void> {
  const run = async (net: NetLike) => {
    const log: Log = [];
    await scenario(net, log);
    return log.map((l) => l.replace(/\b\d{4,5}\b/g, 'PORT'));
  };
  const kernel = await run(kernelNet);
  // Names resolve from the same /etc/hosts on both sides (the host's may lack `::1 localhost`).
  const ns = new Namespace();
  ns.hosts.text = readFileSync('/etc/hosts', 'utf8');
  const lonet = await run(ns.net as unknown as NetLike);
  assert.deepEqual(lonet, kernel, `${name}: ns.net must behave as node:net`);
}

const listening = (srv: kernelNet.Server, ...args: unknown[]) =>
  new Promise<number>((resolve) =>
    srv.listen(...(args as [number, string]), () => resolve((srv.address() as kernelNet.AddressInfo).port)),
  );
const closed = (emitter: NodeJS.EventEmitter) => new Promise<void>((r) => emitter.once('close', () => r()));

test('echo: connection, connect, ready, data, end, close — in Node’s order', () =>
  same('echo', async (net, log) => {
    const srv = net.createServer((s) => {
      log.push(`server connection ${s.remoteAddress} ${s.remoteFamily}`);
      s.on('data', (d) => {
        log.push(`server data ${d}`);
        s.end(d);
      });
      s.on('end', () => log.push('server end'));
      s.on('close', (hadError) => log.push(`server close ${hadError}`));
    });
    const port = await listening(srv, 0, '127.0.0.1');
    log.push(`listening ${JSON.stringify(srv.address())}`);
    const c = net.connect(port, '127.0.0.1');
    log.push(`connecting=${c.connecting} readyState=${c.readyState} pending=${c.pending} remote=${c.remoteAddress}`);
    c.on('connect', () => log.push(`connect ${c.localAddress} ${c.remoteAddress}:${c.remotePort} ${c.readyState}`));
    c.on('ready', () => log.push('ready'));
    c.on('data', (d) => log.push(`client data ${d}`));
    c.on('end', () => log.push(`client end ${c.readyState}`));
    c.write('ping');
    await closed(c);
    log.push(`client closed read=${c.bytesRead} written=${c.bytesWritten} destroyed=${c.destroyed}`);
    await new Promise<void>((r) => srv.close(() => r()));
    log.push('server closed');
  }));

test('errors: ECONNREFUSED, EADDRINUSE, a bad port thrown synchronously, ERR_SERVER_NOT_RUNNING', () =>
  same('errors', async (net, log) => {
    const c = net.connect(1, '127.0.0.1');
    c.on('error', (e: NodeJS.ErrnoException & { address?: string; port?: number }) =>
      log.push(`error ${e.message} ${e.code} ${e.errno} ${e.syscall} ${e.address} ${e.port}`),
    );
    await new Promise<void>((r) =>
      c.on('close', (hadError) => {
        log.push(`close ${hadError} ${c.destroyed}`);
        r();
      }),
    );
    const a = net.createServer();
    const port = await listening(a, 0, '127.0.0.1');
    const b = net.createServer();
    b.on('error', (e: NodeJS.ErrnoException) =>
      log.push(`listen error ${e.message} ${e.code} ${e.errno} ${e.syscall}`),
    );
    b.listen(port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    try {
      net.connect(70000, '127.0.0.1');
    } catch (e) {
      log.push(`throws ${(e as NodeJS.ErrnoException).code} ${(e as Error).message}`);
    }
    await new Promise<void>((r) =>
      b.close((err) => {
        log.push(`close not running: ${(err as NodeJS.ErrnoException | undefined)?.code}`);
        r();
      }),
    );
    await new Promise<void>((r) => a.close(() => r()));
  }));

test('allowHalfOpen: the server reads the client’s FIN and still answers', () =>
  same('half-open', async (net, log) => {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => {
        log.push(`server end, got ${got}, writable=${s.writable}`);
        s.end('answer after FIN');
      });
    });
    const port = await listening(srv, 0, '127.0.0.1');
    const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    c.end('question');
    let reply = '';
    c.on('data', (d) => {
      reply += d;
    });
    c.on('end', () => log.push(`client end, reply ${reply}`));
    await closed(c);
    log.push('client close');
    srv.close();
  }));

test('idle timeout, destroy from the server side, and resetAndDestroy (ECONNRESET)', () =>
  same('timeouts and resets', async (net, log) => {
    let serverSide: kernelNet.Socket | null = null;
    const srv = net.createServer((s) => {
      serverSide = s;
      s.on('error', (e: NodeJS.ErrnoException) => log.push(`server error ${e.code}`));
    });
    const port = await listening(srv, 0, '127.0.0.1');
    const first = new Promise((r) => srv.once('connection', r));
    const c = net.connect(port, '127.0.0.1');
    c.setTimeout(30);
    await new Promise<void>((r) =>
      c.once('timeout', () => {
        log.push(`timeout ${c.timeout} ${c.destroyed}`);
        r();
      }),
    );
    c.setTimeout(0);
    await first;
    (serverSide as unknown as kernelNet.Socket).destroy();
    c.on('end', () => log.push('client end after server destroy'));
    await closed(c);
    log.push(`client close ${c.readyState}`);
    // Both ends of the new connection: the server's side may be accepted after the client's
    // 'connect' (on the kernel, when the poll phase gets to the listener).
    const accepted = new Promise((r) => srv.once('connection', r));
    const d = net.connect(port, '127.0.0.1');
    await Promise.all([new Promise<void>((r) => d.on('connect', () => r())), accepted]);
    d.on('error', (e: NodeJS.ErrnoException) => log.push(`reset: ${e.message} ${e.code} ${e.syscall}`));
    (serverSide as unknown as kernelNet.Socket).resetAndDestroy();
    await closed(d);
    log.push('reset client closed');
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('server.close waits for its connections; getConnections counts them', () =>
  same('close drains', async (net, log) => {
    const sockets: kernelNet.Socket[] = [];
    let serverSidesClosed = 0;
    const srv = net.createServer((s) => {
      sockets.push(s);
      s.on('close', () => serverSidesClosed++);
    });
    /** Turns of the event loop until `done` holds: waiting for a state, never for a time. */
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setImmediate(r));
    };
    const port = await listening(srv, 0, '127.0.0.1');
    const c1 = net.connect(port, '127.0.0.1');
    const c2 = net.connect(port, '127.0.0.1');
    await Promise.all([c1, c2].map((c) => new Promise((r) => c.on('connect', r))));
    await until(() => sockets.length === 2);
    await new Promise<void>((r) =>
      srv.getConnections((err, n) => {
        log.push(`connections ${err} ${n}`);
        r();
      }),
    );
    let serverClosed = false;
    srv.close(() => {
      serverClosed = true;
      log.push('server close callback');
    });
    log.push(`listening after close: ${srv.listening}`);
    c1.end();
    await closed(c1);
    await until(() => serverSidesClosed === 1);
    // The server's 'close' would come on the next tick after its last connection's.
    await new Promise((r) => setImmediate(r));
    log.push(`closed with one connection left: ${serverClosed}`);
    c2.end();
    await closed(c2);
    await until(() => serverSidesClosed === 2);
    await new Promise((r) => setImmediate(r));
    log.push(`closed after the last: ${serverClosed}`);
  }));

test('writing after end is ERR_STREAM_WRITE_AFTER_END; localhost is looked up with a lookup event', () =>
  same('write after end', async (net, log) => {
    const srv = net.createServer((s) => s.resume());
    const port = await listening(srv, 0, '127.0.0.1');
    const c = net.connect(port, 'localhost');
    c.on('lookup', (err, address, family, host) => log.push(`lookup ${err} ${address} ${family} ${host}`));
    await new Promise((r) => c.on('connect', r));
    c.end();
    c.on('error', (e: NodeJS.ErrnoException) => log.push(`error ${e.code}`));
    c.write('late', (err) => log.push(`write callback ${(err as NodeJS.ErrnoException | null)?.code}`));
    await closed(c);
    await new Promise<void>((r) => srv.close(() => r()));
  }));

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'no throw';
  } catch (e) {
    return `${(e as NodeJS.ErrnoException).code}: ${(e as Error).message}`;
  }
};

test('argument checks: ERR_MISSING_ARGS, port types, listen options, isIPv6 zones (Node’s words)', () =>
  same('argument checks', async (net, log) => {
    log.push(code(() => net.connect(undefined as never)));
    log.push(code(() => new net.Socket().connect({} as never)));
    log.push(code(() => net.connect({ port: true } as never)));
    log.push(code(() => net.connect({ port: 80, localAddress: 'nope' })));
    log.push(code(() => net.connect({ port: 80, readableObjectMode: true } as never)));
    log.push(code(() => net.connect({ port: 80, host: '127.0.0.1', localPort: 'x' as never })));
    log.push(code(() => net.connect({ port: 80, autoSelectFamily: 1 as never })));
    log.push(code(() => net.connect({ port: 80, autoSelectFamilyAttemptTimeout: 0.5 } as never)));
    log.push(code(() => net.connect({ port: 80, autoSelectFamilyAttemptTimeout: -1 } as never)));
    log.push(code(() => net.connect({ port: 80, host: 'localhost', hints: 1 << 20 } as never)));
    log.push(code(() => net.createServer().listen({ port: -1 })));
    log.push(code(() => net.createServer().listen({ host: 'localhost' } as never)));
    log.push(code(() => net.createServer().listen({ port: true } as never)));
    for (const ip of ['fe80::1%eth0', 'fe80::1%eth0@1', '::1%', '::2001:252:1:255.255.255.255', '1:2:3'])
      log.push(`isIPv6 ${ip} ${net.isIPv6(ip)}`);
    log.push(`isIP toString ${net.isIP({ toString: () => '127.0.0.1' } as never)}`);
    log.push(code(() => net.createServer().listen({ port: 0, signal: 'x' } as never)));
    const aborted = net.createServer();
    const wasClosed = new Promise<void>((r) => aborted.on('close', () => r()));
    aborted.listen({ port: 0, host: '127.0.0.1', signal: AbortSignal.abort() });
    await wasClosed;
    log.push(`closed by its signal, listening ${aborted.listening}`);
    // listen(null) and listen({ port: undefined }) take any port.
    for (const arg of [null, { port: undefined }]) {
      const srv = net.createServer();
      await new Promise<void>((r) => srv.listen(arg as never, () => r()));
      log.push(`listening ${srv.listening} key ${(srv as unknown as { _connectionKey: string })._connectionKey}`);
      await new Promise<void>((r) => srv.close(() => r()));
    }
  }));

test('without new, accepted sockets of the face’s class, pending/bufferSize/bytesWritten in bytes', () =>
  same('classes and internals', async (net, log) => {
    const accepted: kernelNet.Socket[] = [];
    const srv = (net.Server as unknown as (l: (s: kernelNet.Socket) => void) => kernelNet.Server)((s) => {
      accepted.push(s);
      s.setEncoding('utf8');
      let got = '';
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => {
        log.push(`server got ${got}`);
        s.end();
      });
    });
    log.push(`server instanceof Server ${srv instanceof net.Server}`);
    const port = await listening(srv, 0, '127.0.0.1');
    const c = (net.Socket as unknown as (o: object) => kernelNet.Socket)({ highWaterMark: 0 });
    log.push(`socket instanceof Socket ${c instanceof net.Socket}`);
    log.push(`pending before ${c.pending} bufferSize ${c.bufferSize}`);
    c.connect(port, '127.0.0.1');
    const internal = c as unknown as { _connecting: boolean };
    log.push(`connecting ${c.connecting} _connecting ${internal._connecting} readyState ${c.readyState}`);
    // Written while connecting: counted in bytes, not characters.
    c.write("L'État, c'est ", () => log.push(`write cb bytesWritten ${c.bytesWritten}`));
    log.push(`bytesWritten while connecting ${c.bytesWritten} bufferSize ${c.bufferSize}`);
    c.end('moi');
    c.resume();
    log.push(`timeout ${c.timeout}`);
    c.setTimeout(1000);
    log.push(`timeout after setTimeout ${c.timeout}`);
    (c as { timeout?: number }).timeout = 5;
    log.push(`timeout assigned ${c.timeout}`);
    c.setTimeout(0);
    await closed(c);
    log.push(`pending after close ${c.pending} bytesWritten ${c.bytesWritten}`);
    log.push(`accepted instanceof Socket ${accepted[0] instanceof net.Socket}`);
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('connect options: a lookup answering all:true arrays, readableHighWaterMark, an AbortSignal', () =>
  same('connect options', async (net, log) => {
    const srv = net.createServer((s) => s.end('hi'));
    const port = await listening(srv, 0, '127.0.0.1');
    const lookup = (host: string, opts: { all?: boolean; family?: number }, cb: (...a: unknown[]) => void) => {
      log.push(`lookup ${host} all=${opts.all}`);
      if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
    };
    for (const family of [0, 4]) {
      const c = net.connect({ port, host: 'example.test', lookup, family, readableHighWaterMark: 100 } as never);
      c.on('lookup', (err, address, fam, host) => log.push(`lookup event ${err} ${address} ${fam} ${host}`));
      c.resume();
      await closed(c);
      log.push(`readableHighWaterMark ${c.readableHighWaterMark}`);
    }
    const ac = new AbortController();
    const c = net.connect({ port, host: '127.0.0.1', signal: ac.signal } as never);
    c.on('error', (e) => log.push(`error ${e.name} ${(e as NodeJS.ErrnoException).code}`));
    ac.abort();
    await closed(c);
    log.push(`destroyed ${c.destroyed}`);
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('server: option type, maxConnections drops with a drop event, close before the listen lookup, captureRejections', () =>
  same('server lifecycle', async (net, log) => {
    log.push(code(() => net.createServer('path' as never)));
    log.push(code(() => net.createServer(0 as never)));
    // close() before 'localhost' is looked up: the listen never happens.
    const early = net.createServer();
    early.on('listening', () => log.push('early listening'));
    await new Promise<void>((r) => early.listen(0, 'localhost').close(() => r()));
    log.push(`early closed, listening ${early.listening}`);
    // maxConnections 1: the second connection is dropped, the server says whose it was.
    const sockets: kernelNet.Socket[] = [];
    const srv = net.createServer((s) => sockets.push(s));
    srv.maxConnections = 1;
    const dropped = new Promise<Record<string, unknown>>((r) => srv.on('drop', r));
    const port = await listening(srv, 0, '127.0.0.1');
    const a = net.connect(port, '127.0.0.1');
    await new Promise((r) => srv.once('connection', r));
    const b = net.connect(port, '127.0.0.1');
    const data = await dropped;
    log.push(`drop ${data.localAddress} ${data.localFamily} ${data.remoteAddress} ${data.remoteFamily}`);
    log.push(`drop ports ${data.localPort === port} ${data.remotePort === b.localPort}`);
    await closed(b);
    log.push(`dropped client closed, connections ${sockets.length}`);
    a.destroy();
    (sockets[0] as kernelNet.Socket).destroy();
    await new Promise<void>((r) => srv.close(() => r()));
    // With events.captureRejections, a rejected async 'connection' listener destroys that socket.
    // (A server reads the process-wide setting when it is made: Node's passes it no options.)
    EventEmitter.captureRejections = true;
    const capturing = net.createServer(async (s) => {
      s.on('error', (e) => log.push(`server socket error ${e.message}`));
      throw new Error('kaboom');
    });
    EventEmitter.captureRejections = false;
    const p2 = await listening(capturing, 0, '127.0.0.1');
    const c = net.connect(p2, '127.0.0.1');
    c.on('error', () => {});
    await closed(c);
    log.push('client closed after the rejection');
    await new Promise<void>((r) => capturing.close(() => r()));
  }));

test('a closed socket connects again: fresh stream, per-connection byte counters, _handle null', () =>
  same('reconnect', async (net, log) => {
    const srv = net.createServer((s) => {
      s.resume();
      s.end('hello\r\n');
    });
    const port = await listening(srv, 0, '127.0.0.1');
    const c = new net.Socket();
    log.push(
      `_handle ${(c as unknown as { _handle: unknown })._handle} prototype bytesWritten ${net.Socket.prototype.bytesWritten}`,
    );
    for (let i = 0; i < 3; i++) {
      let prev = c.bytesRead;
      const seen: string[] = [];
      c.on('data', (d) => {
        // Each 'data' sees the count of what was read up to that chunk.
        seen.push(`${c.bytesRead > prev}`);
        prev = c.bytesRead;
        log.push(`data ${JSON.stringify(String(d))}`);
      });
      c.connect(port, '127.0.0.1', () => log.push(`connect ${i} destroyed=${c.destroyed} bytesRead=${c.bytesRead}`));
      c.end('abc');
      await closed(c);
      c.removeAllListeners('data');
      log.push(
        `close ${i} read=${c.bytesRead} written=${c.bytesWritten} rising=${seen} _handle ${(c as unknown as { _handle: unknown })._handle}`,
      );
    }
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('before the connection: resetAndDestroy waits for it, a pending write fails with ERR_SOCKET_CLOSED_BEFORE_CONNECTION; setTimeout checks', () =>
  same('before connect', async (net, log) => {
    const srv = net.createServer();
    const port = await listening(srv, 0, '127.0.0.1');
    const r = net.connect(port, '127.0.0.1');
    r.on('error', (e) => log.push(`reset error ${(e as NodeJS.ErrnoException).code}`));
    r.resetAndDestroy();
    r.destroy();
    await closed(r);
    log.push('reset-before-connected closed quietly');
    const w = new net.Socket();
    w.on('connect', () => log.push('connect'));
    w.connect({ port, host: '127.0.0.1' });
    w.write('foo', (err) => log.push(`write cb ${(err as NodeJS.ErrnoException).code}: ${err?.message}`));
    w.destroy();
    await closed(w);
    const s = new net.Socket();
    for (const bad of ['100', null, -1, Number.POSITIVE_INFINITY]) log.push(code(() => s.setTimeout(bad as never)));
    log.push(code(() => s.setTimeout(1, 'x' as never)));
    log.push(`timeout property ${s.timeout}`);
    s.destroy();
    log.push(`after destroy returns the socket ${s.setTimeout(1) === s}`);
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('autoSelectFamily: each address in turn, the attempts named, an AggregateError when all fail; a failed lookup', () =>
  same('autoSelectFamily', async (net, log) => {
    const srv = net.createServer((s) => s.end('v4'));
    const port = await listening(srv, 0, '127.0.0.1');
    const lookup = (_host: string, opts: { all?: boolean; family?: number; hints?: number }, cb: Function) => {
      log.push(`lookup all=${opts.all} family=${opts.family} hints=${opts.hints}`);
      // Answered later, as dns.lookup does: the listeners below hear every event.
      setImmediate(() => {
        if (opts.all)
          cb(null, [
            { address: '::1', family: 6 },
            { address: '::1', family: 6 },
            { address: '127.0.0.1', family: 4 },
          ]);
        else cb(null, '::1', 6);
      });
    };
    const attempts = (c: kernelNet.Socket) => {
      c.on('connectionAttempt', (a, p, f) => log.push(`attempt ${a} ${p === port} ${f}`));
      c.on('connectionAttemptFailed', (a, _p, f, e) => log.push(`attempt failed ${a} ${f} ${e.message}`));
      c.on('lookup', (err, a, f, h) => log.push(`lookup event ${err} ${a} ${f} ${h}`));
    };
    const c = net.connect({ host: 'example.test', port, lookup } as never);
    attempts(c);
    let got = '';
    c.on('data', (d) => {
      got += d;
    });
    c.on('connect', () => log.push(`connect ${c.remoteAddress} tried ${c.autoSelectFamilyAttemptedAddresses}`));
    await closed(c);
    log.push(`got ${got}`);
    // The first address answers: the attempt timer stops, the connection outlives it.
    const echo = net.createServer((s) => s.pipe(s));
    const ePort = await listening(echo, 0, '127.0.0.1');
    const two = (_h: string, _o: object, cb: Function) =>
      cb(null, [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ]);
    const h = net.connect({
      host: 'example.test',
      port: ePort,
      lookup: two,
      autoSelectFamilyAttemptTimeout: 500,
    } as never);
    h.on('connectionAttemptTimeout', (a) => log.push(`attempt timeout ${a}`));
    await new Promise((r) => h.on('connect', r));
    // Past the attempt timeout (the connect itself finished well within it).
    await new Promise((r) => setTimeout(r, 700));
    h.end('still there');
    let back = '';
    h.on('data', (d) => {
      back += d;
    });
    await closed(h);
    log.push(`echo ${back} tried ${h.autoSelectFamilyAttemptedAddresses?.length}`);
    await new Promise<void>((r) => echo.close(() => r()));
    // Nothing listens: every attempt fails.
    await new Promise<void>((r) => srv.close(() => r()));
    const d = net.connect({ host: 'example.test', port, lookup } as never);
    attempts(d);
    d.on('error', (e: Error & { errors?: Error[]; code?: string }) =>
      log.push(`error ${e.constructor.name} ${e.code} [${e.errors?.map((x) => x.message)}]`),
    );
    await closed(d);
    // Off by default: the first address only, and no attempt list.
    log.push(`default ${net.getDefaultAutoSelectFamily()} ${net.getDefaultAutoSelectFamilyAttemptTimeout()}`);
    net.setDefaultAutoSelectFamily(false);
    const e = net.connect({ host: 'example.test', port, lookup } as never);
    e.on('error', (err) => log.push(`error ${err.message} tried ${e.autoSelectFamilyAttemptedAddresses}`));
    await closed(e);
    net.setDefaultAutoSelectFamily(true);
    log.push(code(() => net.setDefaultAutoSelectFamily(1 as never)));
    log.push(code(() => net.setDefaultAutoSelectFamilyAttemptTimeout(0)));
    // A lookup that fails: 'lookup' says so with no address, then 'error'.
    const bad = (_h: string, _o: object, cb: Function) =>
      setImmediate(() => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' })));
    const f = net.connect({ host: 'nowhere.test', port, lookup: bad } as never);
    f.on('lookup', (err, a, fam, h) =>
      log.push(`lookup event ${(err as NodeJS.ErrnoException | null)?.code} ${a} ${fam} ${h}`),
    );
    f.on('error', (err) => log.push(`error ${(err as NodeJS.ErrnoException).code}`));
    await closed(f);
    // A family other than 4 or 6: ERR_INVALID_ADDRESS_FAMILY names the host and port.
    const g = net.connect({
      host: 'example.test',
      port: 7,
      lookup: (_h: string, _o: object, cb: Function) => cb(null, [{ address: '127.0.0.1', family: 100 }]),
    } as never);
    g.on('error', (err: Error & { host?: string; port?: number }) =>
      log.push(`error ${err.message} ${err.host} ${err.port}`),
    );
    await closed(g);
  }));

test('onread: reads go to the caller’s buffer and callback, never to data; false and pause() stop reading', () =>
  same('onread', async (net, log) => {
    const message = 'hello world';
    const srv = net.createServer((s) => s.end(message));
    const port = await listening(srv, 0, '127.0.0.1');
    const fixed = Buffer.alloc(8);
    const pool = [Buffer.alloc(2), Buffer.alloc(2), Buffer.alloc(2)];
    let gen = 0;
    const buffers: Array<Buffer | (() => Buffer)> = [fixed, () => pool[gen++ % 3] as Buffer];
    for (const buffer of buffers) {
      for (const stop of ['none', 'false', 'pause']) {
        const got: string[] = [];
        let resumed: (() => void) | null = null;
        const c = net.connect({
          port,
          host: '127.0.0.1',
          onread: {
            buffer,
            callback(this: kernelNet.Socket, n: number, buf: Buffer) {
              got.push(`${n}:${buf.subarray(0, n)}:${buf === fixed || pool.includes(buf as never)}`);
              if (resumed !== null) got.push('read while stopped');
              if (stop === 'none') return;
              if (stop === 'pause') this.pause();
              resumed = () => this.resume();
              return stop === 'false' ? false : undefined;
            },
          },
        } as never);
        c.on('data', () => log.push('data event'));
        const ended = new Promise((r) => c.on('end', r));
        // Each stop holds the reading until this turn resumes it.
        while (!(await Promise.race([ended.then(() => true), new Promise((r) => setImmediate(() => r(false)))]))) {
          const r = resumed as (() => void) | null;
          if (r === null) continue;
          // A turn with nothing read while stopped, then the reading resumes.
          await new Promise((r) => setImmediate(r));
          resumed = null;
          r();
        }
        log.push(`${typeof buffer} ${stop}: ${got.join(' ')} bytesRead ${c.bytesRead}`);
        await closed(c);
      }
    }
    log.push(`buffer function calls ${gen}`);
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('connecting to 0.0.0.0 or :: reaches this host; an ipv6Only listener refuses 0.0.0.0', () =>
  same('any address', async (net, log) => {
    for (const [listenOn, connectTo] of [
      ['127.0.0.1', '0.0.0.0'],
      ['::1', '::'],
    ]) {
      const srv = net.createServer((s) => s.end());
      const port = await listening(srv, 0, listenOn);
      const c = net.connect(port, connectTo, () => log.push(`${connectTo}: connected to ${c.remoteAddress}`));
      c.resume();
      await closed(c);
      await new Promise<void>((r) => srv.close(() => r()));
    }
    const v6 = net.createServer();
    await new Promise<void>((r) => v6.listen({ host: '::', port: 0, ipv6Only: true }, () => r()));
    const c = net.connect((v6.address() as kernelNet.AddressInfo).port, '0.0.0.0');
    c.on('error', (e) => log.push(`ipv6Only: ${(e as NodeJS.ErrnoException).code}`));
    await closed(c);
    await new Promise<void>((r) => v6.close(() => r()));
  }));

test('UNIX paths: no listen in a missing directory, a regular file refuses the connect', () =>
  same('unix paths', async (net, log) => {
    const dir = mkdtempSync(join(tmpdir(), 'lonet-path-'));
    const srv = net.createServer();
    srv.on('error', (e: NodeJS.ErrnoException & { address?: string }) =>
      // The code is ENOENT on Linux (this sandbox's kernel may say EACCES): the failure is what counts.
      log.push(`listen failed ${e.syscall} ${e.address === join(dir, 'no/such.sock')}`),
    );
    srv.listen(join(dir, 'no/such.sock'));
    await new Promise((r) => srv.once('error', r));
    const file = join(dir, 'file.txt');
    writeFileSync(file, '');
    for (const path of [file, join(dir, 'missing.sock')]) {
      const c = net.connect(path);
      c.on('error', (e) => log.push(`connect ${(e as NodeJS.ErrnoException).code}`));
      await closed(c);
    }
  }));

test('a RST that answers a write after the peer’s FIN: reading still gives EOF first (SOCK_DONE), no error', () =>
  same('eof before error', async (net, log) => {
    let serverClosed!: Promise<unknown>;
    const srv = net.createServer((s) => {
      serverClosed = new Promise((r) => s.on('close', r));
      s.destroy();
    });
    const port = await listening(srv, 0, '127.0.0.1');
    const c = net.connect(port, '127.0.0.1');
    // Not reading: the FIN waits unread while the write draws the RST.
    c.pause();
    await new Promise((r) => c.on('connect', r));
    await new Promise<void>((r) => {
      const wait = () => (serverClosed === undefined ? setImmediate(wait) : serverClosed.then(() => r()));
      wait();
    });
    c.on('error', (e) => log.push(`error ${e.message}`));
    c.on('end', () => log.push('end'));
    await new Promise<void>((r) => c.write('late', () => r()));
    log.push('write done');
    c.resume();
    await new Promise<void>((r) =>
      c.on('close', (hadError) => {
        log.push(`close ${hadError}`);
        r();
      }),
    );
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('a caller’s handle: setNoDelay and setKeepAlive reach it only when the value changes; keepAliveInitialDelay checked', () =>
  same('handle option', async (net, log) => {
    const handle = {
      readStart() {},
      setNoDelay: (on: boolean) => log.push(`handle setNoDelay ${on}`),
      setKeepAlive: (on: boolean, delay: number) => log.push(`handle setKeepAlive ${on} ${delay}`),
    };
    const s = new net.Socket({ handle } as kernelNet.SocketConstructorOpts);
    for (const v of [undefined, 1, 'yes', 0, '', {}]) s.setNoDelay(v as boolean);
    for (const [on, ms] of [
      [true, 1500],
      [true, 1999],
      [true, 2500],
      [1, 2000],
      [false, 2000],
      [false, 0],
      [undefined, undefined],
    ])
      s.setKeepAlive(on as boolean, ms as number);
    // A handle without the method: the call returns the socket and does nothing.
    const bare = new net.Socket({ handle: { readStart() {} } } as kernelNet.SocketConstructorOpts);
    log.push(`returns socket ${bare.setNoDelay(true) === bare} ${bare.setKeepAlive(true, 1000) === bare}`);
    try {
      new net.Socket({ keepAliveInitialDelay: '1000' } as kernelNet.SocketConstructorOpts);
    } catch (e) {
      log.push(`${(e as NodeJS.ErrnoException).code} ${(e as Error).message}`);
    }
  }));

test('listen({ fd }): a regular file or a closed descriptor is EINVAL, a pipe ENOTSOCK, on the next tick', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-fd-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await same('listen fd', async (net, log) => {
    // Node closes the pipe's descriptor with the failed handle: each side opens its own.
    const fds = [openSync(join(dir, 'file'), 'w'), openSync(fifo, 'r+'), 1_000_000];
    for (const fd of fds) {
      const srv = net.createServer();
      let sync = true;
      await new Promise<void>((r) => {
        srv.listen({ fd }, () => log.push('listening?'));
        srv.on('error', (e: NodeJS.ErrnoException & { address?: unknown; port?: unknown }) => {
          log.push(`${e.message} ${e.code} ${e.errno} ${e.syscall} ${e.address} ${e.port} sync=${sync}`);
          log.push(`listening=${srv.listening} address=${JSON.stringify(srv.address())}`);
          r();
        });
        sync = false;
      });
    }
    try {
      closeSync(fds[0] as number);
    } catch {}
  });
  // A host socket is the host's network, not the namespace's: lonet cannot listen on it.
  const host = kernelNet.createServer();
  await listening(host, 0, '127.0.0.1');
  const fd = (host as unknown as { _handle: { fd: number } })._handle.fd;
  const srv = new Namespace().net.createServer();
  const err = await new Promise<NodeJS.ErrnoException>((r) => srv.listen({ fd }).on('error', r));
  assert.equal(err.code, 'EBADF');
  host.close();
});

test('a pipe server’s path is taken in the file system while it listens, readableAll/writableAll widen its mode', () =>
  same('socket file', async (net, log) => {
    const dir = mkdtempSync(join(tmpdir(), 'lonet-sockfile-'));
    const path = join(dir, 'a.sock');
    const a = net.createServer();
    await new Promise<void>((r) => a.listen({ path }, () => r()));
    log.push(`exists ${existsSync(path)} mode ${(statSync(path).mode & 0o777).toString(8)}`);
    // Another server finds the name taken: EADDRINUSE, even with writableAll.
    const b = net.createServer();
    b.listen({ path, writableAll: true });
    const inUse = await new Promise((r) => b.on('error', (e: NodeJS.ErrnoException) => r(`${e.code} ${e.message}`)));
    log.push(`${inUse}`.replace(dir, 'DIR'));
    await new Promise<void>((r) => a.close(() => r()));
    log.push(`after close exists ${existsSync(path)}`);
    const c = net.createServer();
    await new Promise<void>((r) => c.listen({ path, readableAll: true, writableAll: true }, () => r()));
    log.push(`all mode ${(statSync(path).mode & 0o777).toString(8)}`);
    await new Promise<void>((r) => c.close(() => r()));
    try {
      net.createServer().listen({ path: '\0lonet-abstract', readableAll: true });
    } catch (e) {
      log.push(`${(e as NodeJS.ErrnoException).code} ${(e as Error).message}`);
    }
  }));
