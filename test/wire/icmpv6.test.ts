import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import { emitIcmpv6, ICMPV6, Icmpv6Header, type Icmpv6Repr, icmpv6Len, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { Ipv6Header, NEXTHDR } from '../../src/wire/ipv6.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
const packets = capture.records.map((r) => r.data.subarray(14));
const icmpv6 = packets.filter((p) => p[0]! >> 4 === 6 && p[6] === NEXTHDR.ICMP).map((p) => new Ipv6Header(p));
const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));
const addrs = { src: V6_LOOPBACK, dst: V6_LOOPBACK };

function isRepr(r: Icmpv6Repr | string): r is Icmpv6Repr {
  return typeof r !== 'string';
}

test('Linux names keep Linux values', () => {
  assert.equal(ICMPV6.ECHO_REQUEST, 128);
  assert.equal(ICMPV6.ECHO_REPLY, 129);
  assert.equal(ICMPV6.DEST_UNREACH, 1);
  assert.equal(ICMPV6.PKT_TOOBIG, 2);
  assert.equal(ICMPV6.TIME_EXCEED, 3);
  assert.equal(ICMPV6.PARAMPROB, 4);
  assert.equal(ICMPV6.PORT_UNREACH, 4);
});

test('the echo request and reply over ::1 parse to what tcpdump shows: "icmp6 sum ok"', () => {
  assert.equal(icmpv6.length, 2);
  const [req, rep] = icmpv6 as [Ipv6Header, Ipv6Header];
  const h = new Icmpv6Header(req.payload);
  assert.equal(h.type, ICMPV6.ECHO_REQUEST);
  assert.equal(h.code, 0);
  assert.equal(h.checksum, 0xc71c);
  assert.equal(h.id, 6509);
  assert.equal(h.sequence, 1);
  assert.equal(h.verifyChecksum(req.src, req.dst), true);
  assert.equal(new Icmpv6Header(rep.payload).checksum, 0xc61c);

  const r = parseIcmpv6(req.payload, 0, req.payloadLength, addrs);
  assert.ok(isRepr(r) && r.kind === 'echo');
  assert.equal(r.id, 6509);
  assert.equal(r.sequence, 1);
  assert.equal(r.data.byteLength, 56);
  const r2 = parseIcmpv6(rep.payload, 0, rep.payloadLength, addrs);
  assert.ok(isRepr(r2) && r2.kind === 'echo');
  assert.equal(r2.type, ICMPV6.ECHO_REPLY);
  assert.deepEqual(r2.data, r.data);
});

test('both messages are emitted byte for byte, the pseudo-header checksum included', () => {
  for (const ip of icmpv6) {
    const m = ip.payload;
    const r = parseIcmpv6(m, 0, m.length, addrs);
    assert.ok(isRepr(r));
    const out = new Uint8Array(icmpv6Len(r));
    assert.equal(emitIcmpv6(r, out, 0, addrs), 64);
    assert.deepEqual(out, m);
  }
});

test('the checksum covers the pseudo-header: other addresses fail it', () => {
  const m = icmpv6[0]!.payload;
  const other = V6_LOOPBACK.slice();
  other[15] = 2;
  assert.equal(parseIcmpv6(m, 0, m.length, { src: other, dst: V6_LOOPBACK }), 'bad-checksum');
  assert.ok(isRepr(parseIcmpv6(m, 0, m.length)), 'without addresses nothing is verified');
});

test('a packet too big quotes the offending packet and carries the MTU', () => {
  const quoted = packets[21]!.subarray(0, 80);
  const repr: Icmpv6Repr = { kind: 'error', type: ICMPV6.PKT_TOOBIG, code: 0, rest: 1280, data: quoted };
  const buf = new Uint8Array(icmpv6Len(repr));
  emitIcmpv6(repr, buf, 0, addrs);
  const back = parseIcmpv6(buf, 0, buf.length, addrs);
  assert.ok(isRepr(back) && back.kind === 'error');
  assert.equal(back.rest, 1280);
  assert.equal(new Ipv6Header(back.data).nextHeader, NEXTHDR.TCP);
});

test('malformed messages give an error value, never a throw', () => {
  const m = icmpv6[0]!.payload;
  assert.equal(parseIcmpv6(m.subarray(0, 7)), 'truncated');
  assert.equal(parseIcmpv6(m, 0, 65), 'truncated');
  const bad = m.slice();
  bad[9] = bad[9]! ^ 0x80;
  assert.equal(parseIcmpv6(bad, 0, bad.length, addrs), 'bad-checksum');
  const short = new Uint8Array(8 + 39);
  emitIcmpv6(
    { kind: 'error', type: ICMPV6.DEST_UNREACH, code: ICMPV6.PORT_UNREACH, rest: 0, data: new Uint8Array(39) },
    short,
    0,
    addrs,
  );
  assert.equal(parseIcmpv6(short, 0, short.length, addrs), 'bad-quote');
  for (let n = 0; n <= m.length; n++) parseIcmpv6(m.subarray(0, n), 0, n, addrs);
});

test('neighbour discovery and other informational types are kept whole', () => {
  const ns: Icmpv6Repr = {
    kind: 'other',
    type: ICMPV6.NDISC_NEIGHBOUR_SOLICITATION,
    code: 0,
    rest: 0,
    data: V6_LOOPBACK,
  };
  const buf = new Uint8Array(24);
  emitIcmpv6(ns, buf, 0, addrs);
  const r = parseIcmpv6(buf, 0, 24, addrs);
  assert.ok(isRepr(r) && r.kind === 'other');
  assert.equal(r.type, 135);
  assert.deepEqual(r.data, V6_LOOPBACK);
});
