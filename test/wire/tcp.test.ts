import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { readPcap } from '../../src/capture/pcap.js';
import { csumPseudoPartial, type PseudoAddrs } from '../../src/wire/checksum.js';
import { IPPROTO, Ipv4Header } from '../../src/wire/ipv4.js';
import { Ipv6Header } from '../../src/wire/ipv6.js';
import {
  emitTcp,
  emitTcpHeader,
  emitTcpOptions,
  emitTcpTimestampAligned,
  parseTcp,
  parseTcpOptions,
  TCPHDR,
  TcpHeader,
  type TcpOption,
  type TcpRepr,
  tcpHeaderLen,
  tcpOptionsLen,
  tcpOptionsReceived,
  tcpParseOptionsInto,
} from '../../src/wire/tcp.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
const packets = capture.records.map((r) => r.data.subarray(14));
const LOOPBACK = 0x7f000001;
const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));

interface Segment {
  seg: Uint8Array;
  addrs: PseudoAddrs;
}
/** Every TCP segment of the capture with its pseudo-header addresses, in capture order. */
const segments: Segment[] = packets.flatMap((p): Segment[] => {
  if (p[0] === 0x45 && p[9] === IPPROTO.TCP) {
    const h = new Ipv4Header(p);
    return [{ seg: h.payload, addrs: { src: h.src, dst: h.dst } }];
  }
  if (p[0]! >> 4 === 6 && p[6] === IPPROTO.TCP) {
    const h = new Ipv6Header(p);
    return [{ seg: h.payload, addrs: { src: h.src, dst: h.dst } }];
  }
  return [];
});

/** tcpdump -vv: "cksum <captured> (incorrect -> <full>)" for each segment, in order. */
const TCPDUMP_CKSUMS = [
  [0xfe30, 0xe51c],
  [0xfe30, 0x745a],
  [0xfe28, 0x9cd9],
  [0xfe7e, 0x7499],
  [0xfe28, 0x9c81],
  [0xfee4, 0x1e33],
  [0xfe28, 0x9bbd],
  [0x0dfe, 0xdee1],
  [0xfe28, 0x8bc2],
  [0xfe28, 0x8be7],
  [0xfe28, 0x8bc0],
  [0xfe28, 0x8be6],
  [0x0030, 0xfb4e],
  [0x0030, 0xa693],
  [0x0028, 0xceec],
  [0x007a, 0xae01],
  [0x0028, 0xce9a],
  [0x00e4, 0x504b],
  [0x0028, 0xcdd4],
  [0x0ffd, 0x10f8],
  [0x0028, 0xbdd6],
  [0x0028, 0xbdfc],
  [0x0028, 0xbdd4],
  [0x0028, 0xbdfb],
] as const;

function isRepr(r: TcpRepr | string): r is TcpRepr {
  return typeof r !== 'string';
}

test('the SYN over 127.0.0.1 parses to what tcpdump shows, options in wire order', () => {
  const { seg } = segments[0]!;
  const h = new TcpHeader(seg);
  assert.equal(h.checkLen(), undefined);
  assert.equal(h.srcPort, 43484);
  assert.equal(h.dstPort, 8000);
  assert.equal(h.seq, 426202510);
  assert.equal(h.ackSeq, 0);
  assert.equal(h.doff, 10);
  assert.equal(h.flags, TCPHDR.SYN);
  assert.equal(h.syn && !h.ack && !h.fin && !h.rst && !h.psh && !h.urg && !h.ece && !h.cwr, true);
  assert.equal(h.window, 65495);
  assert.equal(h.checksum, 0xfe30);
  assert.equal(h.urgPtr, 0);
  // Spec §6: option bytes 0204 ffd7 0402 080a <TSval> <TSecr> 0103 03NN.
  assert.deepEqual([...h.options.subarray(0, 8)], [0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a]);
  const r = parseTcp(seg);
  assert.ok(isRepr(r));
  assert.deepEqual(r.options, [
    { kind: 'mss', mss: 65495 },
    { kind: 'sack-permitted' },
    { kind: 'timestamp', tsval: 1761069528, tsecr: 0 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 10 },
  ]);
  assert.equal(r.payload.byteLength, 0);
  assert.deepEqual(tcpOptionsReceived(r.options), {
    mss: 65495,
    wscale: 10,
    sackOk: true,
    tsval: 1761069528,
    tsecr: 0,
    sack: undefined,
    fastopen: undefined,
    md5: -1,
  });
});

test('the SYN-ACK and the first ACK', () => {
  const synAck = parseTcp(segments[1]!.seg);
  assert.ok(isRepr(synAck));
  assert.equal(synAck.flags, TCPHDR.SYN | TCPHDR.ACK);
  assert.equal(synAck.seq, 4027636151);
  assert.equal(synAck.ackSeq, 426202511);
  assert.equal(synAck.window, 65483);
  assert.deepEqual(synAck.options[2], { kind: 'timestamp', tsval: 3164662355, tsecr: 1761069528 });

  const ack = parseTcp(segments[2]!.seg);
  assert.ok(isRepr(ack));
  assert.equal(ack.flags, TCPHDR.ACK);
  assert.equal(ack.seq, 426202511);
  assert.equal(ack.ackSeq, 4027636152);
  assert.equal(ack.window, 64);
  assert.deepEqual(ack.options, [
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'timestamp', tsval: 1761069528, tsecr: 3164662355 },
  ]);
});

test('the data segments carry their payloads: 86, 188 and 4053 bytes, PSH|ACK', () => {
  const lens = [3, 5, 7].map((i) => {
    const r = parseTcp(segments[i]!.seg);
    assert.ok(isRepr(r));
    assert.equal(r.flags, TCPHDR.PSH | TCPHDR.ACK);
    return r.payload.byteLength;
  });
  assert.deepEqual(lens, [86, 188, 4053]);
  const get = parseTcp(segments[3]!.seg);
  assert.ok(isRepr(get));
  assert.match(new TextDecoder().decode(get.payload), /^GET \//);
});

test('the SYN over ::1: mss 65476, window 65476, checksum 0x0030', () => {
  assert.deepEqual(segments[12]!.addrs, { src: V6_LOOPBACK, dst: V6_LOOPBACK });
  const r = parseTcp(segments[12]!.seg);
  assert.ok(isRepr(r));
  assert.equal(r.srcPort, 57862);
  assert.equal(r.dstPort, 8001);
  assert.equal(r.seq, 4156505644);
  assert.equal(r.window, 65476);
  assert.deepEqual(r.options[0], { kind: 'mss', mss: 65476 });
  const synAck = parseTcp(segments[13]!.seg);
  assert.ok(isRepr(synAck));
  assert.equal(synAck.window, 65464);
});

test('every captured checksum is the CHECKSUM_PARTIAL pseudo-header sum; the full one is what tcpdump computes', () => {
  assert.equal(segments.length, 24);
  segments.forEach(({ seg, addrs }, i) => {
    const [captured, full] = TCPDUMP_CKSUMS[i]!;
    const h = new TcpHeader(seg);
    assert.equal(h.checksum, captured);
    assert.equal(h.isChecksumPartial(addrs), true, `segment ${i}`);
    assert.equal(h.checksum, csumPseudoPartial(addrs, seg.byteLength, IPPROTO.TCP));
    assert.equal(h.verifyChecksum(addrs), false);
    assert.equal(parseTcp(seg, 0, seg.length, { verify: addrs }), 'bad-checksum');
    const fixed = new TcpHeader(seg.slice());
    fixed.fillChecksum(addrs);
    assert.equal(fixed.checksum, full, `segment ${i}`);
    assert.equal(fixed.verifyChecksum(addrs), true);
    assert.ok(isRepr(parseTcp(fixed.buf, 0, seg.length, { verify: addrs })));
  });
});

test('every segment is emitted byte for byte from its parsed fields (partial checksum)', () => {
  for (const { seg, addrs } of segments) {
    const r = parseTcp(seg);
    assert.ok(isRepr(r));
    assert.equal(tcpHeaderLen(r), new TcpHeader(seg).headerLen);
    const out = new Uint8Array(seg.byteLength);
    assert.equal(emitTcp(r, out, 0, { mode: 'partial', addrs }), seg.byteLength);
    assert.deepEqual(out, seg);
  }
});

test('SACK blocks, EOL padding and unknown options round-trip', () => {
  const options: TcpOption[] = [
    { kind: 'nop' },
    { kind: 'nop' },
    {
      kind: 'sack',
      blocks: [
        { start: 1000, end: 2000 },
        { start: 0xfffffff0, end: 8 },
      ],
    },
    { kind: 'fastopen', cookie: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), exp: false }, // TFO cookie, kind 34
    { kind: 'eol' },
  ];
  assert.equal(tcpOptionsLen(options), 2 + 18 + 10 + 1);
  const buf = new Uint8Array(40);
  assert.equal(emitTcpOptions(options, buf, 0), 32);
  assert.equal(buf[31], 0, 'padded with zeros after EOL');
  const back = parseTcpOptions(buf.subarray(0, 32));
  assert.deepEqual(back.slice(0, 4), options.slice(0, 4));
  assert.deepEqual(back[4], { kind: 'eol' });
  assert.deepEqual(back[5], { kind: 'unparsed', data: Uint8Array.of(0) });
  assert.deepEqual(tcpOptionsReceived(back).sack, [
    { start: 1000, end: 2000 },
    { start: 0xfffffff0, end: 8 },
  ]);
  // A kind lonet does not know (30, MPTCP) is kept as it came.
  const unknown = parseTcpOptions(Uint8Array.of(30, 4, 0xab, 0xcd));
  assert.deepEqual(unknown, [{ kind: 'unknown', type: 30, data: Uint8Array.of(0xab, 0xcd) }]);

  const repr: TcpRepr = {
    srcPort: 1,
    dstPort: 2,
    seq: 0xffffffff,
    ackSeq: 1,
    flags: TCPHDR.ACK | TCPHDR.ECE | TCPHDR.CWR | TCPHDR.AE,
    window: 512,
    urgPtr: 0,
    options,
    payload: Uint8Array.of(9, 9),
  };
  const seg = new Uint8Array(20 + 32 + 2);
  emitTcp(repr, seg, 0, { mode: 'full', addrs: { src: LOOPBACK, dst: LOOPBACK } });
  const h = new TcpHeader(seg);
  assert.equal(h.doff, 13);
  assert.equal(h.flags, repr.flags);
  assert.equal(h.res1, 0);
  assert.equal(h.ece && h.cwr, true);
  assert.equal(h.verifyChecksum({ src: LOOPBACK, dst: LOOPBACK }), true);
  const r = parseTcp(seg, 0, seg.length, { verify: { src: LOOPBACK, dst: LOOPBACK } });
  assert.ok(isRepr(r));
  assert.equal(r.seq, 0xffffffff);
  assert.deepEqual([...r.payload], [9, 9]);
  assert.throws(
    () => emitTcp({ ...repr, options: [...options, ...options] }, new Uint8Array(100), 0, { mode: 'none' }),
    RangeError,
  );
});

test('bad options parse the way tcp_parse_options reads them and still round-trip', () => {
  // MSS with the wrong length is skipped; a length of 1 ("silly") and a length past the end stop the parse.
  assert.deepEqual(parseTcpOptions(Uint8Array.of(2, 3, 5, 1)), [
    { kind: 'unknown', type: 2, data: Uint8Array.of(5) },
    { kind: 'nop' },
  ]);
  assert.deepEqual(parseTcpOptions(Uint8Array.of(1, 8, 1, 0)), [
    { kind: 'nop' },
    { kind: 'unparsed', data: Uint8Array.of(8, 1, 0) },
  ]);
  assert.deepEqual(parseTcpOptions(Uint8Array.of(8, 10, 0, 0)), [
    { kind: 'unparsed', data: Uint8Array.of(8, 10, 0, 0) },
  ]);
  assert.deepEqual(parseTcpOptions(Uint8Array.of(1, 1, 1, 4)), [
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'unparsed', data: Uint8Array.of(4) },
  ]);
  // SACK needs whole 8-byte blocks.
  assert.equal(parseTcpOptions(Uint8Array.of(5, 6, 0, 0, 0, 0, 1, 1))[0]!.kind, 'unknown');
  for (const bytes of [Uint8Array.of(2, 3, 5, 1), Uint8Array.of(1, 8, 1, 0), Uint8Array.of(0, 7, 7, 7)]) {
    const out = new Uint8Array(4);
    emitTcpOptions(parseTcpOptions(bytes), out, 0);
    assert.deepEqual(out, bytes);
  }
});

test('malformed segments give an error value, never a throw', () => {
  const { seg } = segments[0]!;
  assert.equal(parseTcp(seg.subarray(0, 19)), 'truncated');
  assert.equal(parseTcp(seg.subarray(0, 39)), 'truncated'); // doff 10 needs 40 bytes
  assert.equal(parseTcp(seg, 0, 41), 'truncated');
  assert.equal(parseTcp(seg, 30), 'truncated');
  const low = seg.slice();
  low[12] = 0x40;
  assert.equal(parseTcp(low), 'bad-doff');
  for (const { seg: s, addrs } of segments.slice(0, 4)) {
    for (let n = 0; n <= s.byteLength; n++) parseTcp(s.subarray(0, n), 0, n, { verify: addrs });
    for (let i = 0; i < Math.min(s.byteLength, 40); i++) {
      const b = s.slice();
      b[i] = b[i]! ^ 0xa5;
      parseTcp(b);
    }
  }
});

test('the receive path’s option parser reads any option bytes as tcp_parse_options does', () => {
  const r = tcpOptionsReceived([]);
  // Captured segments, then arbitrary bytes biased towards real option kinds and lengths.
  for (const p of packets) {
    const h = new TcpHeader(p, (p[0]! & 15) * 4);
    tcpParseOptionsInto(h.buf, h.offset + 20, h.offset + h.headerLen, r);
    assert.deepEqual(r, tcpOptionsReceived(parseTcpOptions(h.options)));
  }
  const byte = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10, 18), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 40 }), (bytes) => {
      const buf = Uint8Array.from([9, 9, ...bytes, 9]);
      tcpParseOptionsInto(buf, 2, 2 + bytes.length, r);
      assert.deepEqual(r, tcpOptionsReceived(parseTcpOptions(Uint8Array.from(bytes))));
    }),
    { numRuns: 5000 },
  );
});

test('a header written field by field with aligned timestamps equals emitTcp of the same segment', () => {
  fc.assert(
    fc.property(
      fc.record({
        sport: fc.integer({ min: 0, max: 0xffff }),
        dport: fc.integer({ min: 0, max: 0xffff }),
        seq: fc.nat(),
        ack: fc.nat(),
        flags: fc.integer({ min: 0, max: 0x1ff }),
        window: fc.integer({ min: 0, max: 0xffff }),
        tsval: fc.nat(),
        tsecr: fc.nat(),
      }),
      (s) => {
        const want = new Uint8Array(40).fill(0xee);
        const options: TcpOption[] = [
          { kind: 'nop' },
          { kind: 'nop' },
          { kind: 'timestamp', tsval: s.tsval, tsecr: s.tsecr },
        ];
        const repr = {
          srcPort: s.sport,
          dstPort: s.dport,
          seq: s.seq,
          ackSeq: s.ack,
          flags: s.flags,
          window: s.window,
          urgPtr: 0,
          options,
          payload: new Uint8Array(0),
        };
        emitTcp(repr, want, 4, { mode: 'none' });
        const got = new Uint8Array(40).fill(0xee);
        emitTcpHeader(got, 4, s.sport, s.dport, s.seq, s.ack, s.flags, s.window, 32);
        emitTcpTimestampAligned(got, 24, s.tsval, s.tsecr);
        assert.deepEqual(got, want);
      },
    ),
    { numRuns: 2000 },
  );
});
