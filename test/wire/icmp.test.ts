import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import {
  emitIcmp,
  ICMP,
  ICMP_HEADER_LEN,
  IcmpHeader,
  type IcmpRepr,
  icmpIsErr,
  icmpLen,
  parseIcmp,
} from '../../src/wire/icmp.js';
import { IPPROTO, Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { UdpHeader } from '../../src/wire/udp.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
const packets = capture.records.map((r) => r.data.subarray(14));
/** The ICMP messages of the capture: IP payloads of protocol 1. */
const icmp = packets.filter((p) => p[0] === 0x45 && p[9] === IPPROTO.ICMP).map((p) => new Ipv4Header(p).payload);

function isRepr(r: IcmpRepr | string): r is IcmpRepr {
  return typeof r !== 'string';
}

test('Linux names keep Linux values', () => {
  assert.equal(ICMP.ECHO, 8);
  assert.equal(ICMP.ECHOREPLY, 0);
  assert.equal(ICMP.DEST_UNREACH, 3);
  assert.equal(ICMP.PORT_UNREACH, 3);
  assert.equal(ICMP.PROT_UNREACH, 2);
  assert.equal(ICMP.FRAG_NEEDED, 4);
  assert.equal(ICMP.TIME_EXCEEDED, 11);
  assert.equal(ICMP.PARAMETERPROB, 12);
  assert.equal(icmpIsErr(ICMP.DEST_UNREACH), true);
  assert.equal(icmpIsErr(ICMP.ECHO), false);
});

test('the first echo request parses to the fields tcpdump shows, checksum verified', () => {
  const m = icmp[0]!;
  const h = new IcmpHeader(m);
  assert.equal(h.checkLen(), undefined);
  assert.equal(h.len, 64);
  assert.equal(h.type, ICMP.ECHO);
  assert.equal(h.code, 0);
  assert.equal(h.checksum, 0x6041);
  assert.equal(h.id, 6380);
  assert.equal(h.sequence, 1);
  assert.equal(h.verifyChecksum(), true);

  const r = parseIcmp(m);
  assert.ok(isRepr(r) && r.kind === 'echo');
  assert.equal(r.type, ICMP.ECHO);
  assert.equal(r.id, 6380);
  assert.equal(r.sequence, 1);
  assert.equal(r.data.byteLength, 56);
  // ping's payload: an 8-byte struct timeval, then bytes 0x10, 0x11, …
  assert.deepEqual([...r.data.subarray(16, 20)], [0x10, 0x11, 0x12, 0x13]);
  assert.equal(r.data.buffer, m.buffer, 'data is a view');
});

test('three requests and three replies: id 6380, seq 1..3, every checksum correct', () => {
  assert.equal(icmp.length, 6);
  const seen = icmp.map((m) => {
    const r = parseIcmp(m);
    assert.ok(isRepr(r) && r.kind === 'echo');
    return [r.type, r.id, r.sequence];
  });
  assert.deepEqual(seen, [
    [8, 6380, 1],
    [0, 6380, 1],
    [8, 6380, 2],
    [0, 6380, 2],
    [8, 6380, 3],
    [0, 6380, 3],
  ]);
});

test('every captured message is emitted byte for byte, checksum included', () => {
  for (const m of icmp) {
    const r = parseIcmp(m);
    assert.ok(isRepr(r));
    const out = new Uint8Array(icmpLen(r));
    assert.equal(emitIcmp(r, out), 64);
    assert.deepEqual(out, m);
    // In place: the data already after the header is not copied over itself.
    const inPlace = m.slice();
    const r2 = parseIcmp(inPlace, 0, inPlace.length, { verifyChecksum: true });
    assert.ok(isRepr(r2));
    inPlace[2] = 0;
    inPlace[3] = 0;
    emitIcmp(r2, inPlace);
    assert.deepEqual(inPlace, m);
  }
});

test('a port unreachable quotes the UDP datagram and reads back through the quote', () => {
  const udp = packets[30]!;
  const quote = udp.subarray(0, 28); // IP header + 8 bytes (RFC 792's minimum)
  const repr: IcmpRepr = { kind: 'error', type: ICMP.DEST_UNREACH, code: ICMP.PORT_UNREACH, rest: 0, data: quote };
  const buf = new Uint8Array(icmpLen(repr));
  emitIcmp(repr, buf);
  assert.equal(new IcmpHeader(buf).verifyChecksum(), true);
  const back = parseIcmp(buf);
  assert.ok(isRepr(back) && back.kind === 'error');
  assert.equal(back.code, ICMP.PORT_UNREACH);
  const inner = parseIpv4(back.data, 0, { allowTruncated: true });
  assert.ok(typeof inner !== 'string');
  assert.equal(inner.protocol, IPPROTO.UDP);
  assert.equal(new UdpHeader(back.data, 20).dstPort, 9999);
});

test('FRAG_NEEDED carries the MTU, PARAMETERPROB the pointer', () => {
  const quote = packets[6]!.subarray(0, 28);
  const buf = new Uint8Array(ICMP_HEADER_LEN + 28);
  emitIcmp({ kind: 'error', type: ICMP.DEST_UNREACH, code: ICMP.FRAG_NEEDED, rest: 1500, data: quote }, buf);
  assert.equal(new IcmpHeader(buf).mtu, 1500);
  emitIcmp({ kind: 'error', type: ICMP.PARAMETERPROB, code: 0, rest: 9 << 24, data: quote }, buf);
  assert.equal(new IcmpHeader(buf).pointer, 9);
  const h = new IcmpHeader(buf);
  h.mtu = 68;
  h.pointer = 1;
  assert.equal(h.rest, (1 << 24) | 68);
});

test('malformed messages give an error value, never a throw', () => {
  const m = icmp[0]!;
  assert.equal(parseIcmp(m.subarray(0, 7)), 'truncated');
  assert.equal(parseIcmp(m, 0, 65), 'truncated');
  assert.equal(parseIcmp(m, 60, 8), 'truncated');
  const bad = m.slice();
  bad[30] = bad[30]! ^ 1;
  assert.equal(parseIcmp(bad), 'bad-checksum');
  assert.ok(isRepr(parseIcmp(bad, 0, bad.length, { verifyChecksum: false })));
  // Errors must quote an IP header (ihl >= 5) and 8 bytes past it.
  const mk = (quote: Uint8Array) => {
    const b = new Uint8Array(8 + quote.length);
    emitIcmp({ kind: 'error', type: ICMP.TIME_EXCEEDED, code: ICMP.EXC_TTL, rest: 0, data: quote }, b);
    return parseIcmp(b);
  };
  assert.equal(mk(packets[30]!.subarray(0, 27)), 'bad-quote');
  const lowIhl = packets[30]!.slice(0, 28);
  lowIhl[0] = 0x44;
  assert.equal(mk(lowIhl), 'bad-quote');
  assert.equal(mk(new Uint8Array(0)), 'bad-quote');
  assert.ok(isRepr(mk(packets[30]!.subarray(0, 28))));
  for (let n = 0; n <= m.length; n++) parseIcmp(m.subarray(0, n));
});

test('other types are kept whole', () => {
  const buf = new Uint8Array(20);
  emitIcmp({ kind: 'other', type: ICMP.TIMESTAMP, code: 0, rest: 0x00010002, data: new Uint8Array(12).fill(7) }, buf);
  const r = parseIcmp(buf);
  assert.ok(isRepr(r) && r.kind === 'other');
  assert.equal(r.rest, 0x00010002);
  assert.deepEqual([...r.data], new Array(12).fill(7));
});
