/**
 * Frames for the packet targets: the real packets of Linux's capture as seeds, frames
 * built field by field (IPv4 with options and fragments, IPv6 with extension headers
 * and fragments, ICMP, ICMPv6, UDP, TCP), and byte-level mutations of either. After a
 * mutation the checksums are usually made right again, so the input gets past the
 * checksum checks into the code behind them.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { readPcap } from '../src/capture/pcap.js';

export const CAPTURE = new URL('../test/fixtures/linux-6.18-lo-sample.pcap', import.meta.url);

let seeds: Uint8Array[] | undefined;

/** Every record of the capture (read with the project's own pcap reader). */
export function captureFrames(): Uint8Array[] {
  if (seeds !== undefined) return seeds;
  const file = readPcap(new Uint8Array(readFileSync(CAPTURE)));
  if (file instanceof Error) throw file;
  seeds = file.records.map((r) => r.data.slice());
  return seeds;
}

/** RFC 1071 sum, folded; an oracle of our own rather than the code under test. */
function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i + 1 < end; i += 2) acc += ((b[i] as number) << 8) | (b[i + 1] as number);
  if ((end - start) & 1) acc += (b[end - 1] as number) << 8;
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

function put16(b: Uint8Array, at: number, v: number): void {
  if (at + 1 >= b.length) return;
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
}

/** The L4 checksum field's offset inside the header, for the protocols that have one. */
const CSUM_AT: Record<number, number> = { 1: 2, 6: 16, 17: 6, 58: 2 };

/** Rewrites an L4 checksum at [l4, end) with the pseudo-header sum `pseudo` (ICMPv4 has none). */
function fixL4(f: Uint8Array, proto: number, l4: number, end: number, pseudo: number): void {
  const at = CSUM_AT[proto];
  if (at === undefined || l4 + at + 2 > end) return;
  put16(f, l4 + at, 0);
  let s = sum16(f, l4, end, proto === 1 ? 0 : pseudo);
  s = ~s & 0xffff;
  if (s === 0 && proto === 17) s = 0xffff;
  put16(f, l4 + at, s);
}

/**
 * Makes the IPv4 header checksum and the L4 checksum right again (in place), as far as
 * the bytes allow; anything that does not parse is left as it is.
 */
export function fixChecksums(f: Uint8Array): Uint8Array {
  if (f.length < 14 + 20) return f;
  const type = ((f[12] as number) << 8) | (f[13] as number);
  if (type === 0x0800) {
    const ihl = ((f[14] as number) & 0x0f) * 4;
    if (ihl < 20 || 14 + ihl > f.length) return f;
    put16(f, 24, 0);
    put16(f, 24, ~sum16(f, 14, 14 + ihl) & 0xffff);
    const total = ((f[16] as number) << 8) | (f[17] as number);
    const end = Math.min(f.length, 14 + total);
    const fragged = (((f[20] as number) << 8) | (f[21] as number)) & 0x3fff;
    if (fragged !== 0 || end <= 14 + ihl) return f;
    const proto = f[23] as number;
    const len = end - 14 - ihl;
    let pseudo = sum16(f, 26, 34);
    pseudo += proto + len;
    fixL4(f, proto, 14 + ihl, end, pseudo);
  } else if (type === 0x86dd && f.length >= 54) {
    const plen = ((f[18] as number) << 8) | (f[19] as number);
    const end = Math.min(f.length, 54 + plen);
    let nh = f[20] as number;
    let off = 54;
    // Walk hop-by-hop, routing and destination options; stop at a fragment header.
    while ((nh === 0 || nh === 43 || nh === 60) && off + 2 <= end) {
      const next = f[off] as number;
      off += ((f[off + 1] as number) + 1) * 8;
      nh = next;
    }
    if (off > end) return f;
    const len = end - off;
    const pseudo = sum16(f, 22, 54) + nh + len;
    fixL4(f, nh, off, end, pseudo);
  }
  return f;
}

const LO4 = [127, 0, 0, 1];
const ADDR4: number[][] = [
  LO4,
  [127, 0, 0, 1],
  [127, 9, 9, 9],
  [127, 255, 255, 255],
  [255, 255, 255, 255],
  [0, 0, 0, 0],
  [224, 0, 0, 1],
  [224, 0, 0, 251],
  [10, 0, 0, 1],
  [8, 8, 8, 8],
];
const LO6 = [...new Array(15).fill(0), 1];
const ADDR6: number[][] = [
  LO6,
  LO6,
  new Array(16).fill(0),
  [0xff, 0x02, ...new Array(13).fill(0), 1],
  [0xfe, 0x80, ...new Array(13).fill(0), 1],
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1],
  [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1],
];

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const port = fc.oneof(fc.constantFrom(0, 7, 53, 5353, 9999, 33434), fc.integer({ min: 0, max: 0xffff }));

/** UDP: a header whose length may lie, over random bytes. */
const udpArb = fc
  .record({ sport: port, dport: port, data: bytes(64), lenDelta: fc.integer({ min: -12, max: 12 }) })
  .map(({ sport, dport, data, lenDelta }) => {
    const u = new Uint8Array(8 + data.length);
    put16(u, 0, sport);
    put16(u, 2, dport);
    put16(u, 4, Math.max(0, 8 + data.length + (lenDelta > 8 || lenDelta < -8 ? lenDelta : 0)));
    u.set(data, 8);
    return u;
  });

/** ICMP or ICMPv6: mostly known types, echo ids the sockets use, sometimes a quoted IP packet. */
function icmpArb(v6: boolean): fc.Arbitrary<Uint8Array> {
  const types = v6 ? [1, 2, 3, 4, 128, 129, 130, 133, 135, 136, 143] : [0, 3, 4, 5, 8, 11, 12, 13, 14, 17, 40];
  return fc
    .record({
      type: fc.oneof(fc.constantFrom(...types), fc.integer({ min: 0, max: 255 })),
      code: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
      rest: fc.oneof(fc.constant(0x12340001), fc.integer({ min: 0, max: 0xffffffff })),
      quote: fc.option(fc.oneof(ipv4Packet(false), ipv6Packet(false))),
      data: bytes(48),
    })
    .map(({ type, code, rest, quote, data }) => {
      const body = quote ?? data;
      const m = new Uint8Array(8 + body.length);
      m[0] = type;
      m[1] = code;
      new DataView(m.buffer).setUint32(4, rest >>> 0);
      m.set(body, 8);
      return m;
    });
}

/** A TCP header with random flags and options over random bytes (TCP is not on lo yet: coverage of ip_local_deliver). */
const tcpArb = fc
  .record({ sport: port, dport: port, doff: fc.integer({ min: 0, max: 15 }), rest: bytes(60) })
  .map(({ sport, dport, doff, rest }) => {
    const t = new Uint8Array(20 + rest.length);
    put16(t, 0, sport);
    put16(t, 2, dport);
    t.set(rest.subarray(0, 8), 4);
    t[12] = doff << 4;
    t[13] = rest[8] ?? 0x02;
    put16(t, 14, 65535);
    t.set(rest.subarray(9), 20);
    return t;
  });

/** An IPv4 packet (no Ethernet header): fields from the interesting sets, options, fragments. */
function ipv4Packet(withUpper = true, only?: Upper): fc.Arbitrary<Uint8Array> {
  const upper: fc.Arbitrary<[number, Uint8Array]> = only
    ? (only === 'icmp' ? icmpArb(false) : udpArb).map((p) => [only === 'icmp' ? 1 : 17, p] as [number, Uint8Array])
    : withUpper
      ? fc.oneof(
          { weight: 3, arbitrary: icmpArb(false).map((p) => [1, p] as [number, Uint8Array]) },
          { weight: 3, arbitrary: udpArb.map((p) => [17, p] as [number, Uint8Array]) },
          { weight: 1, arbitrary: tcpArb.map((p) => [6, p] as [number, Uint8Array]) },
          { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), bytes(32)) },
        )
      : fc.tuple(fc.constantFrom(1, 17, 6), bytes(16));
  return fc
    .record({
      src: fc.constantFrom(...ADDR4),
      dst: fc.constantFrom(...ADDR4),
      upper,
      ttl: fc.oneof(fc.constant(64), fc.integer({ min: 0, max: 255 })),
      tos: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
      ident: fc.integer({ min: 0, max: 3 }),
      flags: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0x4000) },
        { weight: 1, arbitrary: fc.constantFrom(0, 0x2000, 0x8000) },
      ),
      fragOff: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1fff }) },
      ),
      options: fc.oneof(
        { weight: 4, arbitrary: fc.constant(new Uint8Array(0)) },
        {
          weight: 1,
          arbitrary: fc.oneof(
            bytes(40),
            // Record route, timestamp, router alert, end and no-op: what ip_options_compile parses.
            fc.constantFrom(
              new Uint8Array([7, 7, 4, 0, 0, 0, 0, 0]),
              new Uint8Array([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
              new Uint8Array([148, 4, 0, 0]),
              new Uint8Array([1, 1, 1, 0]),
              new Uint8Array([7, 3, 4, 0]),
              new Uint8Array([131, 7, 4, 127, 0, 0, 1, 0]),
            ),
          ),
        },
      ),
      lenDelta: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -30, max: 30 }) },
      ),
    })
    .map(({ src, dst, upper, ttl, tos, ident, flags, fragOff, options, lenDelta }) => {
      const [proto, payload] = upper;
      const opt = new Uint8Array(Math.min(40, (options.length + 3) & ~3));
      opt.set(options.subarray(0, opt.length));
      const ihl = 20 + opt.length;
      const p = new Uint8Array(ihl + payload.length);
      p[0] = 0x40 | (ihl / 4);
      p[1] = tos;
      put16(p, 2, Math.max(0, Math.min(0xffff, p.length + lenDelta)));
      put16(p, 4, ident);
      put16(p, 6, flags | fragOff);
      p[8] = ttl;
      p[9] = proto;
      p.set(src, 12);
      p.set(dst, 16);
      p.set(opt, 20);
      p.set(payload, ihl);
      return p;
    });
}

/** One IPv6 extension header (hop-by-hop, routing, destination options, fragment) of random bytes. */
const extArb = fc.record({
  type: fc.constantFrom(0, 43, 60, 44, 51, 59),
  len: fc.integer({ min: 0, max: 3 }),
  body: bytes(32),
  fragOff: fc.integer({ min: 0, max: 0x1fff }),
  mf: fc.boolean(),
  id: fc.integer({ min: 0, max: 3 }),
});

/** An IPv6 packet (no Ethernet header) with 0–3 extension headers over an upper layer. */
function ipv6Packet(withUpper = true, only?: Upper): fc.Arbitrary<Uint8Array> {
  const upper: fc.Arbitrary<[number, Uint8Array]> = only
    ? (only === 'icmp' ? icmpArb(true) : udpArb).map((p) => [only === 'icmp' ? 58 : 17, p] as [number, Uint8Array])
    : withUpper
      ? fc.oneof(
          { weight: 3, arbitrary: icmpArb(true).map((p) => [58, p] as [number, Uint8Array]) },
          { weight: 3, arbitrary: udpArb.map((p) => [17, p] as [number, Uint8Array]) },
          { weight: 1, arbitrary: tcpArb.map((p) => [6, p] as [number, Uint8Array]) },
          { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), bytes(32)) },
        )
      : fc.tuple(fc.constantFrom(58, 17), bytes(16));
  return fc
    .record({
      src: fc.constantFrom(...ADDR6),
      dst: fc.constantFrom(...ADDR6),
      exts: fc.array(extArb, { maxLength: withUpper ? 3 : 0 }),
      upper,
      hop: fc.oneof(fc.constant(64), fc.integer({ min: 0, max: 255 })),
      lenDelta: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -30, max: 30 }) },
      ),
    })
    .map(({ src, dst, exts, upper, hop, lenDelta }) => {
      const [proto, payload] = upper;
      const parts: Uint8Array[] = [];
      const types = [...exts.map((e) => e.type), proto];
      exts.forEach((e, i) => {
        const next = types[i + 1] as number;
        if (e.type === 44) {
          const h = new Uint8Array(8);
          h[0] = next;
          put16(h, 2, (e.fragOff << 3) | (e.mf ? 1 : 0));
          new DataView(h.buffer).setUint32(4, e.id);
          parts.push(h);
        } else {
          const size = e.type === 51 ? (e.len + 2) * 4 : (e.len + 1) * 8;
          const h = new Uint8Array(size);
          h.set(e.body.subarray(0, size));
          h[0] = next;
          h[1] = e.len;
          if (e.type !== 43 && e.type !== 51) for (let i = 2; i < size; i++) h[i] = 0; // Pad1 options
          parts.push(h);
        }
      });
      parts.push(payload);
      const plen = parts.reduce((n, q) => n + q.length, 0);
      const p = new Uint8Array(40 + plen);
      p[0] = 0x60;
      put16(p, 4, Math.max(0, Math.min(0xffff, plen + lenDelta)));
      p[6] = types[0] as number;
      p[7] = hop;
      p.set(src, 8);
      p.set(dst, 24);
      let at = 40;
      for (const q of parts) {
        p.set(q, at);
        at += q.length;
      }
      return p;
    });
}

/** Ethernet around an L3 packet: zero MACs (what lo sends) or, rarely, others. */
function eth(type: number, l3: Uint8Array, dstMac = new Uint8Array(6)): Uint8Array {
  const f = new Uint8Array(14 + l3.length);
  f.set(dstMac, 0);
  put16(f, 12, type);
  f.set(l3, 14);
  return f;
}

const macArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(new Uint8Array(6)) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(6).fill(0xff), new Uint8Array([1, 0, 0x5e, 0, 0, 1])) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 6, maxLength: 6 }) },
);

/** One byte-level change. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'grow'; extra: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('grow' as const), extra: bytes(16) }),
);

function mutate(base: Uint8Array, muts: Mutation[], fix: boolean): Uint8Array {
  let f = base.slice();
  for (const m of muts) {
    if (f.length === 0 && m.op !== 'grow') continue;
    if (m.op === 'flip') f[m.at % f.length] = (f[m.at % f.length] as number) ^ (1 << m.bit);
    else if (m.op === 'set') f[m.at % f.length] = m.value;
    else if (m.op === 'cut') f = f.slice(0, m.at % (f.length + 1));
    else {
      const g = new Uint8Array(f.length + m.extra.length);
      g.set(f);
      g.set(m.extra, f.length);
      f = g;
    }
  }
  return fix ? fixChecksums(f) : f;
}

export type FrameKind = 'any' | 'ipv4' | 'ipv6' | Upper;
type Upper = 'icmp' | 'udp';

/** Well-formed frames of one kind, checksums right. */
function builtArb(kind: FrameKind): fc.Arbitrary<Uint8Array> {
  const only = kind === 'icmp' || kind === 'udp' ? kind : undefined;
  const v4 = fc.tuple(ipv4Packet(true, only), macArb).map(([p, mac]) => fixChecksums(eth(0x0800, p, mac)));
  const v6 = fc.tuple(ipv6Packet(true, only), macArb).map(([p, mac]) => fixChecksums(eth(0x86dd, p, mac)));
  if (kind === 'ipv4') return v4;
  if (kind === 'ipv6') return v6;
  if (only !== undefined) return fc.oneof(v4, v6);
  const other = fc.tuple(fc.integer({ min: 0, max: 0xffff }), bytes(64)).map(([t, p]) => eth(t, p));
  return fc.oneof(v4, v6, other, bytes(20));
}

/**
 * A frame: a capture packet or a built one, then 0–4 mutations, its checksums mostly
 * fixed afterwards. Only frames of `kind` are seeded ('any' adds non-IP ethertypes).
 */
export function frameArb(kind: FrameKind): fc.Arbitrary<Uint8Array> {
  const capture = captureFrames().filter((f) => {
    const t = ((f[12] as number) << 8) | (f[13] as number);
    if (kind === 'ipv4') return t === 0x0800;
    if (kind === 'ipv6') return t === 0x86dd;
    if (kind === 'any') return true;
    // The capture's ICMP / UDP packets (protocol byte of IPv4, next header of IPv6).
    const proto = t === 0x0800 ? f[23] : t === 0x86dd ? f[20] : -1;
    return kind === 'icmp' ? proto === 1 || proto === 58 : proto === 17;
  });
  const base = capture.length > 0 ? fc.oneof(fc.constantFrom(...capture), builtArb(kind)) : builtArb(kind);
  return fc
    .tuple(base, fc.array(mutationArb, { maxLength: 4 }), fc.boolean(), fc.boolean())
    .map(([b, muts, fix, again]) => mutate(b, muts, fix || again));
}
