/**
 * One small node:dgram program, written once and run twice: against the real node:dgram
 * on the kernel's lo and against a namespace's ns.dgram. It logs every event (name,
 * argument shapes, order), every callback and every synchronous throw; ports, which
 * differ from run to run, are logged by the name of the socket that owns them.
 */
import type { EventEmitter } from 'node:events';

interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

export interface DgramSocketLike extends EventEmitter {
  bind(...args: unknown[]): unknown;
  send(...args: unknown[]): void;
  connect(...args: unknown[]): void;
  disconnect(): void;
  close(cb?: () => void): unknown;
  address(): AddressInfo;
  remoteAddress(): AddressInfo;
  setTTL(ttl: number): number;
}

export interface DgramLike {
  createSocket(type: 'udp4' | 'udp6' | { type: string }, listener?: (...a: unknown[]) => void): DgramSocketLike;
}

export async function dgramScenario(dgram: DgramLike): Promise<string[]> {
  const log: string[] = [];
  const portNames = new Map<number, string>();
  const waiters: { match: string; count: number; resolve: () => void }[] = [];
  const seen = (match: string) => log.filter((l) => l.startsWith(match)).length;
  const show = (v: unknown): string => JSON.stringify(v);
  const push = (line: string) => {
    log.push(line);
    for (const w of [...waiters]) {
      if (seen(w.match) >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  /** Until the count-th line starting with `match` has been logged. */
  const until = (match: string, count = 1) =>
    seen(match) >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, count, resolve }));
  const errShape = (e: unknown) => {
    const err = e as Error & Record<string, unknown>;
    return show({
      name: err.name,
      code: err.code,
      message: err.message,
      errno: err.errno,
      syscall: err.syscall,
      address: err.address,
      port: err.port,
      keys: Object.keys(err).filter((k) => k !== 'info'),
    });
  };
  const watch = (name: string, s: DgramSocketLike) => {
    s.on('listening', () => push(`${name} listening`));
    s.on('connect', (...a: unknown[]) => push(`${name} connect ${a.length}`));
    s.on('close', (...a: unknown[]) => push(`${name} close ${a.length}`));
    s.on('error', (e: unknown) => push(`${name} error ${errShape(e)}`));
    s.on('message', (m: Uint8Array, rinfo: unknown) =>
      push(`${name} message ${m.constructor.name} ${m.byteLength} ${show(rinfo)}`),
    );
    return s;
  };
  const attempt = (what: string, f: () => unknown) => {
    try {
      const r = f();
      push(`${what} -> ${r === undefined ? 'undefined' : typeof r === 'object' ? show(r) : String(r)}`);
    } catch (e) {
      push(`${what} throws ${errShape(e)}`);
    }
  };
  const cb =
    (what: string) =>
    (...a: unknown[]) =>
      push(`${what} cb ${a.map((x) => (x instanceof Error ? errShape(x) : show(x))).join(' ')}`);
  const named = (name: string, s: DgramSocketLike) => {
    portNames.set(s.address().port, name);
    return s.address().port;
  };

  // Bind, and the bind errors.
  attempt('createSocket udp5', () => dgram.createSocket('udp5' as 'udp4'));
  const a = watch('a', dgram.createSocket('udp4'));
  attempt('a.address unbound', () => a.address());
  attempt('a.setTTL unbound', () => a.setTTL(5));
  a.bind(0, '127.0.0.1', cb('a.bind'));
  push('a.bind returned');
  await until('a listening');
  const A = named('A', a);
  attempt('a.address', () => a.address());
  attempt('a.bind again', () => a.bind(0));
  const b = watch('b', dgram.createSocket('udp4'));
  b.bind(A, '127.0.0.1');
  await until('b error');
  b.bind({ port: 0, address: '127.0.0.1', exclusive: true }, cb('b.bind'));
  await until('b.bind cb');
  const B = named('B', b);
  attempt('b.address', () => b.address());
  const x = watch('x', dgram.createSocket('udp4'));
  x.bind(0, '::1');
  await until('x error');
  const x2 = watch('x2', dgram.createSocket('udp4'));
  x2.bind(0, '10.1.2.3');
  await until('x2 error');
  x.close();
  x2.close();
  await until('x2 close');

  // Implicit bind on send; echo; EMSGSIZE; the send overloads.
  const c = watch('c', dgram.createSocket('udp4'));
  c.send('hello', A, '127.0.0.1', cb('c.send hello'));
  push('c.send returned');
  await until('a message');
  named('C', c);
  a.once('message', (m: Uint8Array, r: AddressInfo) => a.send(m, r.port, r.address, cb('a.send echo')));
  c.send('echo me', A, '127.0.0.1');
  await until('c message');
  c.send(new Uint8Array(65508), A, '127.0.0.1', cb('c.send 65508'));
  await until('c.send 65508 cb');
  c.send(new Uint8Array(65507), A, '127.0.0.1', cb('c.send 65507'));
  await until('c.send 65507 cb');
  c.send([Buffer.from('ab'), 'cd', new Uint16Array([0x6665])], A, '127.0.0.1', cb('c.send list'));
  c.send('xhellox', 1, 5, A, '127.0.0.1', cb('c.send slice'));
  c.send('to localhost', A, cb('c.send default address'));
  // Names resolve on libuv's threadpool: wait for the rest first, or the order is a race.
  await until('a message Buffer 12');
  c.send('by name', A, 'localhost', cb('c.send localhost'));
  await until('c.send localhost cb');
  await until('a message Buffer 7', 2);
  attempt('c.send port 0', () => c.send('x', 0, '127.0.0.1'));
  attempt('c.send no port', () => c.send('x'));
  attempt('c.send number', () => c.send(5, A, '127.0.0.1'));
  attempt('c.send bad list', () => c.send([5], A, '127.0.0.1'));
  attempt('c.send address number', () => c.send('x', A, 5));
  attempt('c.send out of bounds', () => c.send('abc', 2, 5, A, '127.0.0.1'));
  attempt('c.connect port 0', () => c.connect(0));
  attempt('c.setTTL string', () => c.setTTL('64' as unknown as number));
  attempt('c.setTTL 0', () => c.setTTL(0));
  attempt('c.setTTL 64', () => c.setTTL(64));
  attempt('c.disconnect', () => c.disconnect());
  attempt('c.remoteAddress', () => c.remoteAddress());

  // IPv6.
  const d = watch('d', dgram.createSocket('udp6'));
  d.bind(0, '::1');
  await until('d listening');
  const D = named('D', d);
  const e = watch('e', dgram.createSocket('udp6'));
  e.send(new Uint8Array(65527), D, '::1', cb('e.send 65527'));
  await until('d message');
  named('E', e);
  e.send(new Uint8Array(65528), D, '::1', cb('e.send 65528'));
  e.send('v4 on a udp6 socket', A, '127.0.0.1', cb('e.send v4'));
  await until('e.send v4 cb');
  const dual = watch('dual', dgram.createSocket('udp6'));
  dual.bind(0);
  await until('dual listening');
  const DUAL = named('DUAL', dual);
  c.send('over v4 to a dual-stack socket', DUAL, '127.0.0.1');
  await until('dual message');

  // connect / disconnect.
  const f = watch('f', dgram.createSocket('udp4'));
  f.connect(A, '127.0.0.1', cb('f.connect'));
  push('f.connect returned');
  await until('f connect');
  named('F', f);
  attempt('f.remoteAddress', () => f.remoteAddress());
  attempt('f.connect again', () => f.connect(A, '127.0.0.1'));
  attempt('f.send with port', () => f.send('x', A, '127.0.0.1'));
  f.send('connected', cb('f.send'));
  await until('f.send cb');
  await until('a message Buffer 9');
  attempt('f.disconnect', () => f.disconnect());
  attempt('f.remoteAddress after', () => f.remoteAddress());
  attempt('f.disconnect again', () => f.disconnect());
  f.send('after disconnect', A, '127.0.0.1', cb('f.send after disconnect'));
  await until('f.send after disconnect cb');
  await until('a message Buffer 16');

  // ECONNREFUSED on a connected socket.
  const z = dgram.createSocket('udp4');
  z.bind(0, '127.0.0.1');
  await new Promise((r) => z.once('listening', r));
  named('Z', z);
  const Z = z.address().port;
  await new Promise<void>((r) => z.close(() => r()));
  const g = watch('g', dgram.createSocket('udp4'));
  g.connect(Z, '127.0.0.1');
  await until('g connect');
  g.send('1', (...r: unknown[]) => {
    cb('g.send 1')(...r);
    g.send('2', cb('g.send 2'));
  });
  await until('g.send 2 cb');
  g.send('3');
  await until('g error');

  // close, and what a closed socket says.
  a.close(cb('a.close'));
  push('a.close returned');
  attempt('a.send after close', () => a.send('x', B, '127.0.0.1'));
  attempt('a.close again', () => a.close());
  attempt('a.address after close', () => a.address());
  attempt('a.bind after close', () => a.bind(0));
  await until('a close');
  for (const s of [b, c, d, e, dual, f, g]) s.close();
  await until('g close');
  // Ports by owner's name; one nobody named (an autobind after disconnect) by order of appearance.
  let unnamed = 0;
  const portName = (p: string) => {
    const n = Number(p);
    if (!portNames.has(n)) portNames.set(n, `?${++unnamed}`);
    return portNames.get(n) as string;
  };
  return log.map((l) =>
    l
      .replace(/"port":(\d+)/g, (_, p) => `"port":"${portName(p)}"`)
      .replace(/(\d|::1):(\d{4,5})\b/g, (_, a, p) => `${a}:${portName(p)}`),
  );
}
