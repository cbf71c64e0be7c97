/**
 * TCP segments into a namespace with a listener on port 80 and an established connection
 * over 127.0.0.1 (or ::1): segments to the listener, to either end of the connection with
 * sequence and acknowledgment numbers near (or far from) what it expects, and to a closed
 * port; any flags, options, window, urgent pointer and payload. Checked: nothing throws,
 * the ledger balances for every segment (the stack's ACKs and RSTs included), the sockets
 * stay in a TCP state with sane queues, and after five virtual minutes of timers
 * (retransmission, keepalive, TIME_WAIT) every packet they sent is accounted for too.
 */
import fc from 'fast-check';
import { IN6ADDR_LOOPBACK } from '../src/ipv6/addr.js';
import { TCP, TcpSock } from '../src/transport/tcp/sock.js';
import { v4Mapped } from '../src/transport/udp.js';
import { fixChecksums } from './frames.js';
import { type FuzzTarget, invariant } from './harness.js';
import { checkLedger, snapshot } from './ledger.js';
import { fuzzNamespace } from './stack.js';
import { xmitFrame } from './xmit.js';

interface Segment {
  to: 'listener' | 'server' | 'client' | 'closed';
  flags: number;
  seqDelta: number;
  ackDelta: number;
  window: number;
  urg: number;
  options: Uint8Array;
  payload: number;
  /** Data the endpoints write before this segment, so there is something in flight. */
  write: number;
}

export interface TcpInput {
  v6: boolean;
  segments: Segment[];
  close: boolean;
}

const delta = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 2 }) },
  { weight: 2, arbitrary: fc.constantFrom(-65536, -1000, 1000, 65535, 1 << 30, -(1 << 31)) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
);

/** Options: well-formed ones Linux parses (MSS, wscale, SACK-permitted, SACK blocks, timestamps) or junk. */
const optionsArb = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.constantFrom(
    new Uint8Array([2, 4, 0xff, 0xd7]),
    new Uint8Array([2, 4, 0, 0]),
    new Uint8Array([3, 3, 14, 0]),
    new Uint8Array([3, 3, 255, 0]),
    new Uint8Array([4, 2, 1, 1]),
    new Uint8Array([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]),
    new Uint8Array([1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 10]),
    new Uint8Array([1, 1, 5, 18, 0, 0, 0, 0, 0, 0, 0, 10, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0]),
    new Uint8Array([5, 2, 0, 0]),
    new Uint8Array([8, 40, 0, 0]),
    new Uint8Array([0, 0, 0, 0]),
  ),
  fc.uint8Array({ maxLength: 40 }),
);

const segmentArb: fc.Arbitrary<Segment> = fc.record({
  to: fc.constantFrom('listener' as const, 'server' as const, 'client' as const, 'closed' as const),
  flags: fc.oneof(
    fc.constantFrom(0x02, 0x10, 0x18, 0x11, 0x04, 0x14, 0x12, 0x01, 0x00, 0x3f, 0xc2),
    fc.integer({ min: 0, max: 255 }),
  ),
  seqDelta: delta,
  ackDelta: delta,
  window: fc.oneof(fc.constantFrom(0, 1, 65535, 512), fc.integer({ min: 0, max: 65535 })),
  urg: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
  options: optionsArb,
  payload: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1500 })),
  write: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20000 }) },
  ),
});

const STATES = new Set<number>(Object.values(TCP));

function frame(v6: boolean, sport: number, dport: number, seq: number, ack: number, s: Segment): Uint8Array {
  const opt = new Uint8Array(Math.min(40, (s.options.length + 3) & ~3));
  opt.set(s.options.subarray(0, opt.length));
  const tcpLen = 20 + opt.length + s.payload;
  const l3 = v6 ? 40 : 20;
  const f = new Uint8Array(14 + l3 + tcpLen);
  const v = new DataView(f.buffer);
  v.setUint16(12, v6 ? 0x86dd : 0x0800);
  if (v6) {
    v.setUint32(14, 0x60000000);
    v.setUint16(18, tcpLen);
    f[20] = 6;
    f[21] = 64;
    f.set(IN6ADDR_LOOPBACK, 22);
    f.set(IN6ADDR_LOOPBACK, 38);
  } else {
    f[14] = 0x45;
    v.setUint16(16, l3 + tcpLen);
    f[22] = 64;
    f[23] = 6;
    v.setUint32(26, 0x7f000001);
    v.setUint32(30, 0x7f000001);
  }
  const t = 14 + l3;
  v.setUint16(t, sport);
  v.setUint16(t + 2, dport);
  v.setUint32(t + 4, seq >>> 0);
  v.setUint32(t + 8, ack >>> 0);
  f[t + 12] = ((20 + opt.length) / 4) << 4;
  f[t + 13] = s.flags;
  v.setUint16(t + 14, s.window);
  v.setUint16(t + 18, s.urg);
  f.set(opt, t + 20);
  for (let i = 0; i < s.payload; i++) f[t + 20 + opt.length + i] = i & 0xff;
  return fixChecksums(f);
}

const tick = () => new Promise((r) => setImmediate(r));

function checkSock(name: string, sk: TcpSock): void {
  invariant(STATES.has(sk.state), `${name}: state ${sk.state}`);
  invariant(sk.rcvQueueBytes >= 0 && sk.rmemAlloc >= 0 && sk.wmemQueued >= 0, `${name}: negative queue accounting`);
  invariant(sk.sendQueueBytes >= 0 && sk.sendQueueBytes < 2 ** 31, `${name}: send queue ${sk.sendQueueBytes}`);
}

export const tcpTarget: FuzzTarget<TcpInput> = {
  name: 'tcp',
  covers: 'TCP segments to a listener, both ends of a connection and a closed port, then the timers',
  arbitrary: () =>
    fc.record({
      v6: fc.boolean(),
      segments: fc.array(segmentArb, { minLength: 1, maxLength: 6 }),
      close: fc.boolean(),
    }),
  async check(input) {
    const { net } = fuzzNamespace();
    const k = net.kernel;
    const family = input.v6 ? 6 : 4;
    const addr = input.v6 ? IN6ADDR_LOOPBACK : v4Mapped(0x7f000001);
    const srv = new TcpSock(net, family);
    invariant(srv.bind(new Uint8Array(16), 80) === 0 && srv.listen(128) === 0, 'listen on 80');
    const cli = new TcpSock(net, family);
    cli.connect(addr, 80);
    for (let i = 0; i < 20 && srv.cold.acceptQueue.length === 0; i++) await tick();
    const acc = srv.accept();
    invariant(acc instanceof TcpSock && cli.state === TCP.ESTABLISHED, 'the connection was set up');
    const socks: [string, TcpSock][] = [
      ['listener', srv],
      ['client', cli],
      ['server', acc],
    ];
    for (const s of input.segments) {
      if (s.write > 0) {
        cli.sendmsg(new Uint8Array(s.write));
        acc.sendmsg(new Uint8Array(s.write >> 1));
      }
      let f: Uint8Array;
      if (s.to === 'server')
        f = frame(input.v6, cli.localPort, 80, acc.rcvNxt + s.seqDelta, acc.sndNxt + s.ackDelta, s);
      else if (s.to === 'client')
        f = frame(input.v6, 80, cli.localPort, cli.rcvNxt + s.seqDelta, cli.sndNxt + s.ackDelta, s);
      else f = frame(input.v6, 40000, s.to === 'listener' ? 80 : 81, 1000 + s.seqDelta, s.ackDelta, s);
      const before = snapshot(net);
      xmitFrame(net, f);
      // An answer sent from the softirq may finish on ksoftirqd (a later macrotask).
      if (!k.idle) await k.settle();
      checkLedger(before, snapshot(net), 1, { martian4: 0, none6: 0, badFrag6: 0, rawOnly: 0 });
      for (const [name, sk] of socks) checkSock(name, sk);
      while (typeof acc.recvmsg() !== 'number');
      while (typeof cli.recvmsg() !== 'number');
    }
    if (input.close) {
      cli.close();
      acc.close();
    }
    // Timers: whatever they send crosses lo and is accounted for like any packet.
    const before = snapshot(net);
    for (let i = 0; i < 30; i++) {
      k.virtualClock.advance(10e9);
      if (!k.idle) await k.settle();
    }
    checkLedger(before, snapshot(net), 0, { martian4: 0, none6: 0, badFrag6: 0, rawOnly: 0 });
    for (const [name, sk] of socks) checkSock(name, sk);
    for (const [, sk] of socks) sk.abort();
    net.destroy();
  },
  show: (x) => JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v)),
};
