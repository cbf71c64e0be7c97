/**
 * The same small programs against node:net on the kernel's lo and against ns.net:
 * the events they see, in order, with their arguments, must be identical. Written in
 * the spirit of Node's test-net-* tests.
 */
import assert from 'node:assert/strict';
import * as kernelNet from 'node:net';
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
  const lonet = await run(new Namespace().net as unknown as NetLike);
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
