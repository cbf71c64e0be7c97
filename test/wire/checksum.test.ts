import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  csumAdd,
  csumBlockAdd,
  csumFold,
  csumIpv6Magic,
  csumPartial,
  csumPseudo,
  csumPseudoPartial,
  csumSub,
  csumTcpudpMagic,
  csumTcpudpNofold,
  csumUnfold,
  ipFastCsum,
} from '../../src/wire/checksum.js';

/** The one's complement sum the slow, obvious way: 16-bit words, fold after every add. */
function reference(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const LOOPBACK = 0x7f000001;
const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));

test('RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to 0xddf2', () => {
  const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(csumFold(csumPartial(b, 0, 8)), ~0xddf2 & 0xffff);
});

test('csumPartial matches a word-by-word reference on every length, odd ones padded', () => {
  const data = random(1500, 7);
  for (let n = 0; n <= 70; n++)
    assert.equal(csumFold(csumPartial(data, 0, n)), reference(data.subarray(0, n)), `len ${n}`);
  assert.equal(csumFold(csumPartial(data, 0, 1500)), reference(data));
  assert.equal(csumFold(csumPartial(data, 3, 1001)), reference(data.subarray(3, 1004)));
  const ones = new Uint8Array(65536).fill(0xff);
  assert.equal(csumFold(csumPartial(ones, 0, ones.length)), reference(ones));
});

test('sums add incrementally: even splits with csumAdd, odd splits with csumBlockAdd', () => {
  const data = random(999, 42);
  const whole = csumFold(csumPartial(data, 0, data.length));
  for (const cut of [0, 2, 10, 500, 998]) {
    const a = csumPartial(data, 0, cut);
    assert.equal(csumFold(csumPartial(data, cut, data.length - cut, a)), whole);
    assert.equal(csumFold(csumAdd(a, csumPartial(data, cut, data.length - cut))), whole);
  }
  for (const cut of [1, 3, 333, 997]) {
    const a = csumPartial(data, 0, cut);
    const b = csumPartial(data, cut, data.length - cut);
    assert.equal(csumFold(csumBlockAdd(a, b, cut)), whole, `cut ${cut}`);
  }
});

test('csumSub removes what csumAdd added', () => {
  const a = csumPartial(random(64, 1), 0, 64);
  const b = csumPartial(random(40, 2), 0, 40);
  assert.equal(csumFold(csumSub(csumAdd(a, b), b)), csumFold(a));
  assert.equal(csumUnfold(0x1_2345), 0x2345);
});

test('ip_fast_csum over the first captured IPv4 header is 0, and gives 0xce2c with the field zeroed', () => {
  const hdr = Uint8Array.from([0x45, 0, 0, 0x54, 0x6e, 0x7a, 0x40, 0, 0x40, 1, 0xce, 0x2c, 127, 0, 0, 1, 127, 0, 0, 1]);
  assert.equal(ipFastCsum(hdr, 0, 5), 0);
  hdr[10] = 0;
  hdr[11] = 0;
  assert.equal(ipFastCsum(hdr, 0, 5), 0xce2c);
});

test('pseudo-header sums give the CHECKSUM_PARTIAL values captured on lo', () => {
  // tcpdump: SYN over 127.0.0.1 "cksum 0xfe30" (40-byte segment), UDP "0xfe2d" (26 bytes),
  // SYN over ::1 "cksum 0x0030".
  assert.equal(csumPseudoPartial({ src: LOOPBACK, dst: LOOPBACK }, 40, 6), 0xfe30);
  assert.equal(~csumTcpudpMagic(LOOPBACK, LOOPBACK, 40, 6) & 0xffff, 0xfe30);
  assert.equal(csumPseudoPartial({ src: LOOPBACK, dst: LOOPBACK }, 26, 17), 0xfe2d);
  assert.equal(csumPseudoPartial({ src: V6_LOOPBACK, dst: V6_LOOPBACK }, 40, 6), 0x0030);
  assert.equal(~csumIpv6Magic(V6_LOOPBACK, V6_LOOPBACK, 40, 6) & 0xffff, 0x0030);
  assert.equal(csumPseudo({ src: LOOPBACK, dst: LOOPBACK }, 40, 6), csumTcpudpNofold(LOOPBACK, LOOPBACK, 40, 6));
  assert.throws(() => csumPseudo({ src: LOOPBACK, dst: V6_LOOPBACK } as never, 40, 6), TypeError);
});

test('an IPv6 length above 65535 is summed as 32 bits (jumbograms)', () => {
  const a = csumIpv6Magic(V6_LOOPBACK, V6_LOOPBACK, 0x10028, 6);
  const b = csumIpv6Magic(V6_LOOPBACK, V6_LOOPBACK, 0x0029, 6);
  assert.equal(a, b); // 0x0001 + 0x0028 folds the same as 0x0029
});
