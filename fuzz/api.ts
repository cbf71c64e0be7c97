/**
 * The library's argument checks: sequences of calls on a namespace's public surface
 * (Kernel and Namespace options, exec, devSetMtu, procRead, and the UDP, raw and ping
 * sockets) with arguments of the right type and wrong values — ports, MTUs and
 * protocols out of range, NaN, fractions, huge payloads, any 16-byte address.
 *
 * Checked on every input: a call returns 0, a count or -errno (a value of E), or throws
 * a TypeError / RangeError of its own; the device and sockets keep sane state (an
 * integer MTU, integer counters); the namespace still works afterwards.
 * (The node:dgram face, once committed, is one more list of operations here.)
 */
import fc from 'fast-check';
import { Namespace } from '../src/api/namespace.js';
import { devClose, devOpen, devSetMtu } from '../src/core/netdevice.js';
import { E } from '../src/include/errno.js';
import { Kernel } from '../src/init.js';
import { PingSock } from '../src/ipv4/ping.js';
import { RawSock } from '../src/ipv4/raw.js';
import { Raw6Sock } from '../src/ipv6/raw.js';
import { procRead, procWrite } from '../src/net/procfs.js';
import { UdpSock } from '../src/transport/udp.js';
import { checkNamespaceAlive } from './argv.js';
import { type FuzzTarget, invariant } from './harness.js';

const num = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    53,
    67,
    68,
    1279,
    1280,
    65535,
    65536,
    2 ** 31,
    2 ** 32,
    Number.NaN,
    0.5,
    -0,
    Infinity,
    -Infinity,
  ),
  fc.integer({ min: -10, max: 70000 }),
);
const addr6 = fc.oneof(
  fc.constantFrom(
    new Uint8Array(16),
    Uint8Array.from([...new Array(15).fill(0), 1]),
    Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]),
    Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 255, 255, 255]),
    Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]),
    Uint8Array.from([0xff, 2, ...new Array(13).fill(0), 1]),
  ),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(65507, 65508, 65527, 65528, 70000).map((n) => new Uint8Array(n)),
);

type Op =
  | { op: 'mtu'; v: number }
  | { op: 'updown'; up: boolean }
  | { op: 'proc'; path: string; write: string | null }
  | { op: 'exec'; line: string }
  | {
      op: 'udp';
      family: 4 | 6;
      bind: [Uint8Array, number] | null;
      connect: [Uint8Array, number] | null;
      send: [Uint8Array, Uint8Array, number];
      rcvbuf: number | null;
    }
  | { op: 'raw'; family: 4 | 6; proto: number; daddr: number | Uint8Array; data: Uint8Array }
  | { op: 'ping'; family: 4 | 6; ident: number; daddr: number | Uint8Array; data: Uint8Array };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('mtu' as const), v: num }),
  fc.record({ op: fc.constant('updown' as const), up: fc.boolean() }),
  fc.record({
    op: fc.constant('proc' as const),
    path: fc.constantFrom(
      '/proc/net/snmp',
      '/proc/net/dev',
      '/proc/sys/net/core/netdev_max_backlog',
      '/proc/sys/net/ipv4/ip_local_port_range',
      '/proc/sys/net/ipv4/ping_group_range',
      '/proc/sys/net/core/rmem_default',
      '/proc/nope',
      '',
    ),
    write: fc.option(fc.oneof(fc.constantFrom('0', '-1', '1 0', '0 2147483647', 'x', '99999999999', ''), fc.string())),
  }),
  fc.record({
    op: fc.constant('exec' as const),
    line: fc.oneof(
      fc.constantFrom('ip link set lo mtu 1500', 'ip addr flush dev lo', 'ip link set lo down'),
      fc.string(),
    ),
  }),
  fc.record({
    op: fc.constant('udp' as const),
    family: fc.constantFrom(4 as const, 6 as const),
    bind: fc.option(fc.tuple(addr6, num)),
    connect: fc.option(fc.tuple(addr6, num)),
    send: fc.tuple(payload, addr6, num),
    rcvbuf: fc.option(fc.integer({ min: -1, max: 2 ** 31 })),
  }),
  fc.record({
    op: fc.constant('raw' as const),
    family: fc.constantFrom(4 as const, 6 as const),
    proto: num,
    daddr: fc.oneof(num, addr6),
    data: payload,
  }),
  fc.record({
    op: fc.constant('ping' as const),
    family: fc.constantFrom(4 as const, 6 as const),
    ident: num,
    daddr: fc.oneof(num, addr6),
    data: payload,
  }),
);

const ERRNOS = new Set<number>(Object.values(E));

/** A kernel-style result: 0, a byte count, or -errno. */
function result(what: string, r: unknown): void {
  invariant(typeof r === 'number' && Number.isInteger(r), `${what} returned ${String(r)}`);
  invariant(r >= 0 || ERRNOS.has(-r), `${what} returned ${r}, not an errno`);
}

/** Runs `fn`; an argument error it throws itself is fine, anything else is a crash. */
function call(what: string, fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    const own =
      (e instanceof TypeError || e instanceof RangeError) &&
      !/undefined|null|not a function|Invalid typed array|out of range index|outside the bounds/.test(e.message);
    invariant(own, `${what} threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return undefined;
  }
}

export interface ApiInput {
  cpus: number;
  bare: boolean;
  ops: Op[];
}

export const apiTarget: FuzzTarget<ApiInput> = {
  name: 'api',
  covers: 'the library surface: Kernel/Namespace options, exec, devSetMtu, procfs, UDP, raw and ping sockets',
  arbitrary: () =>
    fc.record({ cpus: fc.oneof(fc.constant(2), num), bare: fc.boolean(), ops: fc.array(opArb, { maxLength: 6 }) }),
  async check({ cpus, bare, ops }) {
    const kernel = call('new Kernel', () => new Kernel({ clock: 'virtual', cpus })) as Kernel | undefined;
    if (kernel === undefined) return;
    const ns = new Namespace({ kernel, bare });
    ns.ipv4.pingGroupRange = [0, 2147483647];
    for (const o of ops) {
      if (o.op === 'mtu')
        result(
          `devSetMtu(${o.v})`,
          call('devSetMtu', () => devSetMtu(ns.lo, o.v)),
        );
      else if (o.op === 'updown')
        result(
          'devOpen/devClose',
          call('dev up/down', () => (o.up ? devOpen : devClose)(ns.lo)),
        );
      else if (o.op === 'proc') {
        const path = o.path;
        const w = o.write;
        if (w === null) call(`procRead(${path})`, () => procRead(ns, path));
        else {
          const r = call(`procWrite(${path})`, () => procWrite(ns, path, w));
          if (r !== undefined) result(`procWrite(${path}, ${JSON.stringify(w)})`, r);
        }
      } else if (o.op === 'exec') {
        const r = await ns.exec(o.line);
        invariant(Number.isInteger(r.code) && r.code >= 0 && r.code <= 255, `exec status ${r.code}`);
      } else if (o.op === 'udp') {
        const s = new UdpSock(ns, o.family);
        if (o.rcvbuf !== null) call('setRcvbuf', () => s.setRcvbuf(o.rcvbuf as number));
        if (o.bind !== null)
          result(
            'bind',
            call('bind', () => s.bind(...(o.bind as [Uint8Array, number]))),
          );
        if (o.connect !== null)
          result(
            'connect',
            call('connect', () => s.connect(...(o.connect as [Uint8Array, number]))),
          );
        result(
          'sendto',
          call('sendto', () => s.sendto(...o.send)),
        );
        call('recv', () => s.recv());
        s.close();
      } else if (o.op === 'raw') {
        const s = call('raw socket', () => (o.family === 4 ? new RawSock(ns, o.proto) : new Raw6Sock(ns, o.proto)));
        if (s instanceof RawSock)
          result(
            'raw sendto',
            call('raw sendto', () => s.sendto(typeof o.daddr === 'number' ? o.daddr : 0x7f000001, o.data)),
          );
        if (s instanceof Raw6Sock)
          result(
            'raw6 sendto',
            call('raw6 sendto', () => s.sendto(o.daddr instanceof Uint8Array ? o.daddr : new Uint8Array(16), o.data)),
          );
        if (s instanceof RawSock || s instanceof Raw6Sock) s.close();
      } else {
        const s = PingSock.create(ns, o.family);
        // A ping_group_range written by an earlier op may refuse it: EACCES, as Linux.
        if (!(s instanceof PingSock)) {
          invariant(s === -E.EACCES, `ping socket: ${s}`);
          continue;
        }
        result(
          'ping bind',
          call('ping bind', () => s.bind(o.ident)),
        );
        const d =
          o.family === 4
            ? typeof o.daddr === 'number'
              ? o.daddr
              : 0x7f000001
            : o.daddr instanceof Uint8Array
              ? o.daddr
              : new Uint8Array(16);
        if (o.data.length > 0) o.data[0] = o.family === 4 ? 8 : 128;
        result(
          'ping sendto',
          call('ping sendto', () => s.sendto(d, o.data)),
        );
        s.close();
      }
      await kernel.settle();
      invariant(Number.isInteger(ns.lo.mtu) && ns.lo.mtu >= 0, `lo's MTU is ${ns.lo.mtu}`);
    }
    devOpen(ns.lo);
    checkNamespaceAlive(ns);
    ns.destroy();
  },
  show: (x) =>
    JSON.stringify(x, (_k, v) => {
      if (v instanceof Uint8Array)
        return v.length > 64 ? `${v.length} bytes from ${v[0]}` : `hex:${Buffer.from(v).toString('hex')}`;
      return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
    }),
};
