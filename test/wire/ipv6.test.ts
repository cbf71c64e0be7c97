import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import {
  emitIpv6,
  emitIpv6Frag,
  IP6_MF,
  IPV6_HEADER_LEN,
  Ipv6FragHeader,
  Ipv6Header,
  type Ipv6Repr,
  ipv6SkipExthdr,
  NEXTHDR,
  parseIpv6,
  parseIpv6Frag,
} from '../../src/wire/ipv6.js';

const capture = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url))),
);
if (capture instanceof Error) throw capture;
const packets = capture.records.map((r) => r.data.subarray(14));
const ipv6 = packets.filter((p) => p[0]! >> 4 === 6);
const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));

function isRepr(r: Ipv6Repr | string): r is Ipv6Repr {
  return typeof r !== 'string';
}

test('the SYN over ::1 parses to the fields tcpdump shows', () => {
  const syn = packets[18]!;
  const h = new Ipv6Header(syn);
  assert.equal(h.checkLen(), undefined);
  assert.equal(h.version, 6);
  assert.equal(h.trafficClass, 0);
  assert.equal(h.flowLabel, 0x42f61);
  assert.equal(h.payloadLength, 40);
  assert.equal(h.nextHeader, NEXTHDR.TCP);
  assert.equal(h.hopLimit, 64);
  assert.deepEqual(h.src, V6_LOOPBACK);
  assert.deepEqual(h.dst, V6_LOOPBACK);
  assert.equal(h.src.buffer, syn.buffer, 'addresses are views, not copies');
  assert.equal(h.payload.byteLength, 40);

  const r = parseIpv6(syn);
  assert.ok(isRepr(r));
  assert.deepEqual(r, {
    src: V6_LOOPBACK,
    dst: V6_LOOPBACK,
    nextHeader: NEXTHDR.TCP,
    payloadLen: 40,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0x42f61,
  });
  assert.notEqual(r.src.buffer, syn.buffer, 'the repr keeps copies');
});

test('the ICMPv6 echo reply has its own flow label and next header 58', () => {
  const r = parseIpv6(packets[32]!);
  assert.ok(isRepr(r));
  assert.equal(r.flowLabel, 0x20a10);
  assert.equal(r.nextHeader, NEXTHDR.ICMP);
  assert.equal(r.payloadLen, 64);
});

test('every IPv6 header in the capture is emitted byte for byte from its parsed fields', () => {
  assert.equal(ipv6.length, 12 + 2);
  for (const p of ipv6) {
    const r = parseIpv6(p);
    assert.ok(isRepr(r));
    const out = new Uint8Array(p.byteLength);
    assert.equal(emitIpv6(r, out), IPV6_HEADER_LEN);
    out.set(p.subarray(IPV6_HEADER_LEN), IPV6_HEADER_LEN);
    assert.deepEqual(out, p);
  }
});

test('traffic class and flow label setters keep the version and each other', () => {
  const b = packets[18]!.slice();
  const h = new Ipv6Header(b);
  h.trafficClass = 0xb9;
  assert.equal(h.version, 6);
  assert.equal(h.flowLabel, 0x42f61);
  h.flowLabel = 0xfffff;
  assert.equal(h.trafficClass, 0xb9);
  assert.equal(h.version, 6);
  assert.deepEqual([...b.subarray(0, 4)], [0x6b, 0x9f, 0xff, 0xff]);
});

test('malformed headers give an error value, never a throw', () => {
  const syn = packets[18]!;
  assert.equal(parseIpv6(new Uint8Array(0)), 'truncated-header');
  assert.equal(parseIpv6(syn.subarray(0, 39)), 'truncated-header');
  assert.equal(parseIpv6(syn, 100), 'truncated-header');
  const v4 = syn.slice();
  v4[0] = 0x40;
  assert.equal(parseIpv6(v4), 'bad-version');
  assert.equal(parseIpv6(syn.subarray(0, 79)), 'truncated');
  assert.ok(isRepr(parseIpv6(syn.subarray(0, 48), 0, { allowTruncated: true })));
  for (let n = 0; n <= syn.byteLength; n++) parseIpv6(syn.subarray(0, n));
});

test('the fragment header round-trips, offset in bytes and M in bit 0', () => {
  const b = new Uint8Array(8);
  emitIpv6Frag({ nextHeader: NEXTHDR.UDP, fragOffset: 1232, mf: true, ident: 0xdeadbeef }, b);
  assert.deepEqual([...b], [17, 0, 0x04, 0xd1, 0xde, 0xad, 0xbe, 0xef]);
  const h = new Ipv6FragHeader(b);
  assert.equal(h.fragOff, 1232 | IP6_MF);
  h.mf = false;
  assert.equal(h.fragOffset, 1232);
  h.fragOffset = 8;
  assert.equal(h.fragOff, 8);
  assert.deepEqual(parseIpv6Frag(b), { nextHeader: 17, fragOffset: 8, mf: false, ident: 0xdeadbeef });
  assert.equal(parseIpv6Frag(b.subarray(0, 7)), 'truncated');
});

/** A chain of extension headers after a 40-byte IPv6 header: each [nexthdr-of-this, bytes]. */
function chain(...hdrs: number[][]): Uint8Array {
  const body = hdrs.flat();
  const out = new Uint8Array(IPV6_HEADER_LEN + body.length + 20);
  out.set(body, IPV6_HEADER_LEN);
  return out;
}

test('ipv6SkipExthdr walks hop-by-hop, destination, routing and fragment headers to TCP', () => {
  const hop = [NEXTHDR.DEST, 0, 1, 4, 0, 0, 0, 0]; // 8 bytes: PadN
  const dest = [NEXTHDR.ROUTING, 1, ...new Array<number>(14).fill(0)]; // 16 bytes
  const rt = [NEXTHDR.FRAGMENT, 0, 0, 0, 0, 0, 0, 0];
  const frag = [NEXTHDR.TCP, 0, 0, 1, 0, 0, 0, 7]; // offset 0, M set
  const b = chain(hop, dest, rt, frag);
  assert.deepEqual(ipv6SkipExthdr(b, IPV6_HEADER_LEN, NEXTHDR.HOP), {
    nextHeader: NEXTHDR.TCP,
    offset: IPV6_HEADER_LEN + 40,
    fragHeader: IPV6_HEADER_LEN + 32,
    fragOffset: 0,
  });
  // With no extension headers the upper layer is right there.
  assert.deepEqual(ipv6SkipExthdr(packets[18]!, IPV6_HEADER_LEN, NEXTHDR.TCP), {
    nextHeader: NEXTHDR.TCP,
    offset: IPV6_HEADER_LEN,
    fragHeader: -1,
    fragOffset: 0,
  });
  // AH counts its length in 4-byte units: (1 + 2) * 4 = 12 bytes.
  const ah = chain([NEXTHDR.UDP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(ipv6SkipExthdr(ah, IPV6_HEADER_LEN, NEXTHDR.AUTH), {
    nextHeader: NEXTHDR.UDP,
    offset: IPV6_HEADER_LEN + 12,
    fragHeader: -1,
    fragOffset: 0,
  });
});

test('a later fragment stops the walk at its data', () => {
  const b = chain([NEXTHDR.TCP, 0, 0x05, 0x00, 0, 0, 0, 1]); // offset 1280
  assert.deepEqual(ipv6SkipExthdr(b, IPV6_HEADER_LEN, NEXTHDR.FRAGMENT), {
    nextHeader: NEXTHDR.TCP,
    offset: IPV6_HEADER_LEN + 8,
    fragHeader: IPV6_HEADER_LEN,
    fragOffset: 1280,
  });
});

test('malformed chains are refused', () => {
  const hop = [NEXTHDR.HOP, 0, 1, 4, 0, 0, 0, 0];
  assert.equal(ipv6SkipExthdr(chain([NEXTHDR.DEST, 0, 1, 4, 0, 0, 0, 0], hop), 40, NEXTHDR.HOP), 'bad-hop-by-hop');
  assert.equal(ipv6SkipExthdr(chain([NEXTHDR.NONE, 0, 1, 4, 0, 0, 0, 0]), 40, NEXTHDR.DEST), 'no-next-header');
  assert.equal(ipv6SkipExthdr(chain(), 40, NEXTHDR.NONE), 'no-next-header');
  const twoFrags = chain([NEXTHDR.FRAGMENT, 0, 0, 1, 0, 0, 0, 1], [NEXTHDR.TCP, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(ipv6SkipExthdr(twoFrags, 40, NEXTHDR.FRAGMENT), 'bad-fragment');
  // A destination options header claiming 8 * (255 + 1) bytes runs past the end.
  const long = chain([NEXTHDR.TCP, 255, 1, 4, 0, 0, 0, 0]);
  assert.equal(ipv6SkipExthdr(long, 40, NEXTHDR.DEST), 'truncated');
  assert.equal(ipv6SkipExthdr(long, 40, NEXTHDR.DEST, 41), 'truncated');
  assert.equal(ipv6SkipExthdr(long, 40, NEXTHDR.FRAGMENT, 47), 'truncated');
});
