/**
 * node:dgram's argument checks, differentially: the same sequence of calls with odd
 * arguments (types, ports, lengths, offsets, buffer sizes, states) runs on the real
 * node:dgram and on ns.dgram, and each call must throw the same error (name, code,
 * message) or not throw at both. Asynchronous outcomes ('error' events, callbacks) are
 * not compared here: test/api/dgram.test.ts does that for a fixed program.
 *
 * Every address is a loopback literal or not an address at all, so the real sockets
 * send nothing beyond 127.0.0.1 and ::1, and nothing is looked up but 'localhost'.
 */
import dgram from 'node:dgram';
import fc from 'fast-check';
import { Namespace } from '../src/api/namespace.js';
import { type FuzzTarget, invariant } from './harness.js';

const odd = fc.constantFrom<unknown>(undefined, null, true, {}, [], '', 'x', Number.NaN, -1, 1.5, 2 ** 32, Infinity);
const port = fc.oneof(fc.constantFrom<unknown>(0, 1, 7, 65535, 65536, '53', '0x35', -0), odd);
const address = fc.constantFrom<unknown>(
  '127.0.0.1',
  '::1',
  'localhost',
  '::ffff:127.0.0.1',
  5,
  null,
  undefined,
  {},
  '',
);
const msg = fc.constantFrom<unknown>(
  'hi',
  Buffer.from('hello'),
  new Uint8Array(3),
  [Buffer.from('a'), 'b'],
  [],
  5,
  null,
  {},
  new DataView(new ArrayBuffer(4)),
);
const num = fc.oneof(fc.constantFrom<unknown>(0, 1, 2, 5, 64, 255, 256, 1024), odd);

type Call = { m: string; args: unknown[] };

const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.record({
    m: fc.constant('bind'),
    args: fc.oneof(fc.tuple(port, address), fc.tuple(port), fc.tuple(fc.record({ port, address }))),
  }),
  fc.record({ m: fc.constant('connect'), args: fc.oneof(fc.tuple(port, address), fc.tuple(port)) }),
  fc.record({ m: fc.constant('disconnect'), args: fc.constant<unknown[]>([]) }),
  fc.record({
    m: fc.constant('send'),
    args: fc.oneof(
      fc.tuple(msg, port, address),
      fc.tuple(msg, num, num, port, address),
      fc.tuple(msg),
      fc.tuple(msg, port),
    ),
  }),
  // Multicast (setMulticastTTL, addMembership, …) is not in ns.dgram yet: one more line here when it is.
  fc.record({
    m: fc.constantFrom('setTTL', 'setBroadcast', 'setRecvBufferSize', 'setSendBufferSize'),
    args: fc.tuple(num),
  }),
  fc.record({
    m: fc.constantFrom(
      'address',
      'remoteAddress',
      'getRecvBufferSize',
      'getSendBufferSize',
      'getSendQueueSize',
      'ref',
      'unref',
    ),
    args: fc.constant<unknown[]>([]),
  }),
  fc.record({ m: fc.constant('close'), args: fc.constant<unknown[]>([]) }),
);

export interface DgramInput {
  type: unknown;
  calls: Call[];
}

type Outcome = string;

/** What a call did, as far as its caller sees at once: returned, or threw this error. */
function outcome(fn: () => unknown): Outcome {
  try {
    fn();
    return 'ok';
  } catch (e) {
    const err = e as Error & { code?: string };
    return `${err.name} ${err.code ?? ''} ${err.message}`;
  }
}

interface Api {
  createSocket(type: unknown): { [m: string]: (...a: unknown[]) => unknown } & { on(e: string, f: () => void): void };
}

async function run(api: Api, input: DgramInput): Promise<Outcome[]> {
  const out: Outcome[] = [];
  // An error Node throws from a callback (a send queued before a close) is part of the
  // behaviour to compare; here it is recorded instead of ending the process.
  const uncaught = (e: Error & { code?: string }) => out.push(`uncaught: ${e.name} ${e.code ?? ''} ${e.message}`);
  process.on('uncaughtException', uncaught);
  try {
    await runCalls(api, input, out);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  } finally {
    process.off('uncaughtException', uncaught);
  }
  return out;
}

async function runCalls(api: Api, input: DgramInput, out: Outcome[]): Promise<Outcome[]> {
  let sock: ReturnType<Api['createSocket']> | undefined;
  out.push(
    outcome(() => {
      sock = api.createSocket(input.type);
    }),
  );
  if (sock === undefined) return out;
  const s = sock;
  // Errors that arrive later are not compared; swallow them so neither side throws them.
  s.on('error', () => {});
  for (const c of input.calls) {
    out.push(`${c.m}: ${outcome(() => (s[c.m] as (...a: unknown[]) => unknown).apply(s, c.args))}`);
    // After close, Node 20 reads its null handle (TypeError: Cannot read properties of null) in
    // setTTL, getSendQueueSize, …: not a contract to copy, so a sequence ends at close.
    if (c.m === 'close') return out;
  }
  await new Promise<void>((r) => {
    try {
      s.close?.(() => r());
    } catch {
      r();
    }
  });
  return out;
}

export const dgramTarget: FuzzTarget<DgramInput> = {
  name: 'dgram',
  covers: "ns.dgram's argument checks against the real node:dgram, call by call",
  arbitrary: () =>
    fc.record({
      type: fc.oneof(
        fc.constantFrom<unknown>('udp4', 'udp6', 'udp4', 'udp5', 4, null, undefined),
        fc.record({
          type: fc.constantFrom<unknown>('udp4', 'udp6', 'tcp'),
          recvBufferSize: fc.option(num),
          sendBufferSize: fc.option(fc.oneof(num, fc.constant<unknown>(2 ** 33))),
          ipv6Only: fc.option(fc.boolean()),
        }),
      ),
      calls: fc.array(callArb, { maxLength: 6 }),
    }),
  async check(input) {
    const real = await run(dgram as unknown as Api, input);
    const ns = new Namespace();
    const ours = await run(ns.dgram as unknown as Api, input);
    invariant(
      JSON.stringify(ours) === JSON.stringify(real),
      `node:dgram and ns.dgram differ:\n  node:  ${real.join('\n         ')}\n  lonet: ${ours.join('\n         ')}`,
    );
  },
  show: (x) =>
    JSON.stringify(x, (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
      if (v instanceof DataView) return 'DataView(4)';
      return v === undefined ? 'undefined' : v;
    }),
};
