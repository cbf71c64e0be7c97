import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import { csumPseudoPartial } from '../../src/wire/checksum.js';
import { IPPROTO, Ipv4Header } from '../../src/wire/ipv4.js';
import { CSUM_MANGLED_0, emitUdp, parseUdp, UDP_HEADER_LEN, UdpHeader, type UdpRepr } from '../../src/wire/udp.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
const packets = capture.records.map((r) => r.data.subarray(14));
const LOOPBACK = 0x7f000001;
const addrs = { src: LOOPBACK, dst: LOOPBACK };
const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));
/** The one UDP datagram of the capture, as the IP layer hands it up. */
const ip = new Ipv4Header(packets[30]!);
const dgram = ip.payload;

function isRepr(r: UdpRepr | string): r is UdpRepr {
  return typeof r !== 'string';
}

test('the captured datagram parses to the fields tcpdump shows', () => {
  assert.equal(ip.protocol, IPPROTO.UDP);
  const h = new UdpHeader(dgram);
  assert.equal(h.checkLen(), undefined);
  assert.equal(h.srcPort, 48134);
  assert.equal(h.dstPort, 9999);
  assert.equal(h.length, 26);
  assert.equal(h.checksum, 0xfe2d);
  const r = parseUdp(dgram);
  assert.ok(isRepr(r));
  assert.equal(r.srcPort, 48134);
  assert.equal(r.dstPort, 9999);
  assert.equal(new TextDecoder().decode(r.payload), 'hello-udp-loopback');
});

test('its checksum is the CHECKSUM_PARTIAL pseudo-header sum, not the full checksum (spec §6)', () => {
  const h = new UdpHeader(dgram);
  assert.equal(h.isChecksumPartial(addrs), true);
  assert.equal(h.checksum, csumPseudoPartial(addrs, 26, IPPROTO.UDP));
  assert.equal(h.verifyChecksum(addrs), false);
  assert.equal(parseUdp(dgram, 0, dgram.length, { verify: addrs }), 'bad-checksum');
  // tcpdump: "bad udp cksum 0xfe2d -> 0x5364!"
  const full = new UdpHeader(dgram.slice());
  full.fillChecksum(addrs);
  assert.equal(full.checksum, 0x5364);
  assert.equal(full.verifyChecksum(addrs), true);
  assert.equal(full.isChecksumPartial(addrs), false);
});

test('emit reproduces the datagram byte for byte in partial mode, and the full checksum in full mode', () => {
  const r = parseUdp(dgram);
  assert.ok(isRepr(r));
  const out = new Uint8Array(26);
  assert.equal(emitUdp(r, out, 0, { mode: 'partial', addrs }), 26);
  assert.deepEqual(out, dgram);
  emitUdp(r, out, 0, { mode: 'full', addrs });
  assert.equal(new UdpHeader(out).checksum, 0x5364);
  assert.ok(isRepr(parseUdp(out, 0, 26, { verify: addrs })));
  emitUdp(r, out, 0, { mode: 'none' });
  assert.equal(new UdpHeader(out).checksum, 0);
  assert.ok(isRepr(parseUdp(out, 0, 26, { verify: addrs })), 'IPv4: zero means no checksum');
  assert.equal(parseUdp(out, 0, 26, { verify: addrs, requireChecksum: true }), 'bad-checksum');
  // In place: the payload already after the header is left where it is.
  const inPlace = dgram.slice();
  const r2 = parseUdp(inPlace);
  assert.ok(isRepr(r2));
  emitUdp(r2, inPlace, 0, { mode: 'partial', addrs });
  assert.deepEqual(inPlace, dgram);
});

test('IPv6 pseudo-header: a computed 0 goes out as 0xffff', () => {
  // Choose a payload that makes the full sum come out as 0: the field must then be CSUM_MANGLED_0.
  const buf = new Uint8Array(10);
  const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(2) };
  emitUdp(repr, buf, 0, { mode: 'full', addrs: { src: V6_LOOPBACK, dst: V6_LOOPBACK } });
  const c = new UdpHeader(buf).checksum;
  buf[8] = c >> 8;
  buf[9] = c & 0xff;
  const h = new UdpHeader(buf);
  h.fillChecksum({ src: V6_LOOPBACK, dst: V6_LOOPBACK });
  assert.equal(h.checksum, CSUM_MANGLED_0);
  assert.equal(h.verifyChecksum({ src: V6_LOOPBACK, dst: V6_LOOPBACK }), true);
});

test('malformed datagrams give an error value, never a throw', () => {
  assert.equal(parseUdp(dgram.subarray(0, 7)), 'truncated');
  assert.equal(parseUdp(dgram, 30), 'truncated');
  assert.equal(parseUdp(dgram, 0, 40), 'truncated');
  assert.equal(parseUdp(dgram.subarray(0, 25)), 'bad-length');
  const short = dgram.slice();
  short[5] = 7;
  assert.equal(parseUdp(short), 'bad-length');
  // A UDP length shorter than the IP payload is fine: Linux trims to it.
  const trimmed = dgram.slice();
  trimmed[5] = UDP_HEADER_LEN + 5;
  const r = parseUdp(trimmed);
  assert.ok(isRepr(r));
  assert.equal(new TextDecoder().decode(r.payload), 'hello');
  for (let n = 0; n <= dgram.length; n++) parseUdp(dgram.subarray(0, n), 0, n, { verify: addrs });
});
