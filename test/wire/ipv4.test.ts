import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import { ipFastCsum } from '../../src/wire/checksum.js';
import { emitIpv4, IP_DF, IPPROTO, Ipv4Header, type Ipv4Repr, ipv4HeaderLen, parseIpv4 } from '../../src/wire/ipv4.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
/** The IP datagrams of the sample capture, Ethernet header cut off. */
const packets = capture.records.map((r) => r.data.subarray(14));
const ipv4 = packets.filter((p) => p[0]! >> 4 === 4);
const LOOPBACK = 0x7f000001;

function isRepr(r: Ipv4Repr | string): r is Ipv4Repr {
  return typeof r !== 'string';
}

test('the first echo request parses to the fields tcpdump shows', () => {
  const h = new Ipv4Header(packets[0]!);
  assert.equal(h.checkLen(), undefined);
  assert.equal(h.version, 4);
  assert.equal(h.ihl, 5);
  assert.equal(h.headerLen, 20);
  assert.equal(h.tos, 0);
  assert.equal(h.totalLength, 84);
  assert.equal(h.ident, 28282);
  assert.equal(h.df, true);
  assert.equal(h.mf, false);
  assert.equal(h.fragOff, IP_DF);
  assert.equal(h.fragOffset, 0);
  assert.equal(h.ttl, 64);
  assert.equal(h.protocol, IPPROTO.ICMP);
  assert.equal(h.checksum, 0xce2c);
  assert.equal(h.src, LOOPBACK);
  assert.equal(h.dst, LOOPBACK);
  assert.equal(h.optionsLen, 0);
  assert.equal(h.payload.byteLength, 64);
  assert.equal(h.verifyChecksum(), true);

  const r = parseIpv4(packets[0]!);
  assert.ok(isRepr(r));
  assert.deepEqual(
    { ...r, options: [...r.options] },
    {
      src: LOOPBACK,
      dst: LOOPBACK,
      protocol: IPPROTO.ICMP,
      payloadLen: 64,
      ttl: 64,
      tos: 0,
      ident: 28282,
      df: true,
      mf: false,
      fragOffset: 0,
      options: [],
    },
  );
});

test('the echo reply has no DF; the SYN-ACK has id 0; the UDP datagram is 46 bytes with DF', () => {
  const reply = parseIpv4(packets[1]!);
  assert.ok(isRepr(reply));
  assert.equal(reply.df, false);
  assert.equal(reply.ident, 28283);
  assert.equal(new Ipv4Header(packets[1]!).checksum, 0x0e2c);

  const synAck = parseIpv4(packets[7]!);
  assert.ok(isRepr(synAck));
  assert.equal(synAck.ident, 0);
  assert.equal(synAck.df, true);
  assert.equal(synAck.protocol, IPPROTO.TCP);
  assert.equal(synAck.payloadLen, 40);

  const udp = parseIpv4(packets[30]!);
  assert.ok(isRepr(udp));
  assert.equal(udp.protocol, IPPROTO.UDP);
  assert.equal(udp.payloadLen + 20, 46);
  assert.equal(udp.ident, 57980);
  assert.equal(udp.df, true);
});

test('every IPv4 header in the capture is emitted byte for byte from its parsed fields', () => {
  assert.equal(ipv4.length, 6 + 12 + 1);
  for (const p of ipv4) {
    const r = parseIpv4(p);
    assert.ok(isRepr(r));
    const out = new Uint8Array(p.byteLength);
    const hl = emitIpv4(r, out);
    assert.equal(hl, ipv4HeaderLen(r));
    out.set(p.subarray(hl), hl);
    assert.deepEqual(out, p);
  }
});

test('fillChecksum reproduces the header checksum and ip_fast_csum over a good header is 0', () => {
  for (const p of ipv4) {
    const copy = p.slice();
    const h = new Ipv4Header(copy);
    const want = h.checksum;
    h.checksum = 0x1234;
    assert.equal(h.verifyChecksum(), false);
    h.fillChecksum();
    assert.equal(h.checksum, want);
    assert.equal(ipFastCsum(copy, 0, 5), 0);
  }
});

test('options are carried, counted in ihl and covered by the checksum', () => {
  const options = Uint8Array.of(0x94, 0x04, 0x00, 0x00); // Router Alert (RFC 2113)
  const repr: Ipv4Repr = {
    src: 0x7f000001,
    dst: 0xe0000016,
    protocol: IPPROTO.IGMP,
    payloadLen: 8,
    ttl: 1,
    tos: 0xc0,
    ident: 0,
    df: true,
    mf: false,
    fragOffset: 0,
    options,
  };
  const buf = new Uint8Array(32);
  assert.equal(emitIpv4(repr, buf), 24);
  const h = new Ipv4Header(buf);
  assert.equal(h.ihl, 6);
  assert.equal(h.optionsLen, 4);
  assert.equal(h.dscp, 0x30);
  assert.equal(h.ecn, 0);
  assert.equal(h.verifyChecksum(), true);
  const back = parseIpv4(buf);
  assert.ok(isRepr(back));
  assert.deepEqual([...back.options], [...options]);
  assert.equal(back.dst, 0xe0000016);
  assert.throws(() => emitIpv4({ ...repr, options: new Uint8Array(3) }, buf), RangeError);
});

test('setters change one field and leave their neighbours alone', () => {
  const buf = packets[0]!.slice();
  const h = new Ipv4Header(buf);
  h.ecn = 3;
  assert.equal(h.tos, 3);
  h.dscp = 0x2e;
  assert.equal(h.tos, 0xbb);
  assert.equal(h.ecn, 3);
  h.mf = true;
  h.fragOffset = 1480;
  assert.equal(h.fragOff, IP_DF | 0x2000 | 185);
  h.df = false;
  assert.equal(h.df, false);
  assert.equal(h.mf, true);
  assert.equal(h.fragOffset, 1480);
  h.src = 0xc0a80001;
  assert.equal(h.src, 0xc0a80001);
  assert.equal(h.dst, LOOPBACK);
  h.ihl = 5;
  h.version = 4;
  assert.equal(buf[0], 0x45);
});

test('malformed headers give the error ip_rcv_core would count, never a throw', () => {
  const good = packets[0]!;
  const set = (i: number, v: number) => (b: Uint8Array) => {
    b[i] = v;
  };
  const withFix = (edit: (b: Uint8Array) => void, fix = true) => {
    const b = good.slice();
    edit(b);
    if (fix) new Ipv4Header(b).fillChecksum();
    return b;
  };
  assert.equal(parseIpv4(new Uint8Array(0)), 'truncated-header');
  assert.equal(parseIpv4(good.subarray(0, 19)), 'truncated-header');
  assert.equal(parseIpv4(good, 200), 'truncated-header');
  assert.equal(parseIpv4(withFix(set(0, 0x65), false)), 'bad-version');
  assert.equal(parseIpv4(withFix(set(0, 0x44), false)), 'bad-ihl');
  assert.equal(parseIpv4(withFix(set(0, 0x4f), false).subarray(0, 40)), 'truncated-header');
  assert.equal(parseIpv4(withFix(set(12, 10), false)), 'bad-checksum');
  assert.equal(parseIpv4(withFix(set(3, 85))), 'truncated');
  assert.equal(parseIpv4(good.subarray(0, 83)), 'truncated');
  assert.equal(parseIpv4(withFix(set(3, 19))), 'bad-length');
  // Checksum first, as Linux: a bad checksum on a truncated datagram counts as a checksum error.
  assert.equal(parseIpv4(withFix(set(3, 85), false)), 'bad-checksum');
  assert.ok(isRepr(parseIpv4(withFix(set(12, 10), false), 0, { verifyChecksum: false })));
});

test('link padding after totalLength is allowed; a quoted, cut datagram parses when asked', () => {
  const padded = new Uint8Array(100);
  padded.set(packets[30]!);
  const r = parseIpv4(padded);
  assert.ok(isRepr(r));
  assert.equal(r.payloadLen, 26);

  const quote = packets[0]!.subarray(0, 28);
  assert.equal(parseIpv4(quote), 'truncated');
  const q = parseIpv4(quote, 0, { allowTruncated: true });
  assert.ok(isRepr(q));
  assert.equal(q.payloadLen, 64);
});

test('every prefix and every single-byte corruption of every packet parses without throwing', () => {
  for (const p of ipv4) {
    for (let n = 0; n <= p.byteLength; n++) parseIpv4(p.subarray(0, n));
    for (let i = 0; i < 20; i++) {
      const b = p.slice();
      b[i] = b[i]! ^ 0xff;
      const r = parseIpv4(b);
      assert.ok(typeof r === 'string' || r.payloadLen + 20 <= b.byteLength);
    }
  }
});
