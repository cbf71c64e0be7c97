/**
 * The IPv6 header (RFC 8200, Linux struct ipv6hdr), the fragment extension header
 * (struct frag_hdr), and a walk over extension headers to the upper-layer protocol.
 */

/** include/net/ipv6.h NEXTHDR_*: next-header values, extension headers and upper layers. */
export const NEXTHDR = {
  HOP: 0,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AUTH: 51,
  ICMP: 58,
  NONE: 59,
  DEST: 60,
  SCTP: 132,
  MOBILITY: 135,
  MAX: 255,
} as const;

export const IPV6_HEADER_LEN = 40;
export const IPV6_FRAG_HEADER_LEN = 8;

/** include/net/ipv6.h: the offset mask and more-fragments bit of frag_hdr->frag_off. */
export const IP6_OFFSET = 0xfff8;
export const IP6_MF = 0x0001;

/**
 * Why an IPv6 header was refused: `truncated-header` and `bad-version` are InHdrErrors in
 * ipv6_rcv(); `truncated` (payloadLength beyond the bytes) is InTruncatedPkts.
 */
export type Ipv6Error = 'truncated-header' | 'bad-version' | 'truncated';

export class Ipv6Header {
  readonly view: DataView;

  /** A view over buf[offset…]; getters past the bytes present throw, so check first (`checkLen`). */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.max(0, buf.byteLength - offset));
  }

  /** Whether the bytes hold the header and payloadLength bytes after it (undefined when they do). */
  checkLen(): Ipv6Error | undefined {
    if (this.view.byteLength < IPV6_HEADER_LEN) return 'truncated-header';
    if (this.version !== 6) return 'bad-version';
    if (this.view.byteLength < IPV6_HEADER_LEN + this.payloadLength) return 'truncated';
    return undefined;
  }

  get version(): number {
    return this.view.getUint8(0) >> 4;
  }
  set version(v: number) {
    this.view.setUint8(0, ((v & 0xf) << 4) | (this.view.getUint8(0) & 0xf));
  }

  /** The 8-bit traffic class (DSCP and ECN), spread over the first two bytes. */
  get trafficClass(): number {
    return (this.view.getUint16(0) >> 4) & 0xff;
  }
  set trafficClass(v: number) {
    this.view.setUint16(0, (this.view.getUint16(0) & 0xf00f) | ((v & 0xff) << 4));
  }

  /** The 20-bit flow label. */
  get flowLabel(): number {
    return this.view.getUint32(0) & 0xfffff;
  }
  set flowLabel(v: number) {
    this.view.setUint32(0, ((this.view.getUint32(0) & 0xfff00000) | (v & 0xfffff)) >>> 0);
  }

  /** payload_len: bytes after this 40-byte header, extension headers included. */
  get payloadLength(): number {
    return this.view.getUint16(4);
  }
  set payloadLength(v: number) {
    this.view.setUint16(4, v);
  }

  /** nexthdr: the first extension header or the upper-layer protocol. */
  get nextHeader(): number {
    return this.view.getUint8(6);
  }
  set nextHeader(v: number) {
    this.view.setUint8(6, v);
  }

  get hopLimit(): number {
    return this.view.getUint8(7);
  }
  set hopLimit(v: number) {
    this.view.setUint8(7, v);
  }

  /** saddr: a view of the 16 address bytes (no copy). */
  get src(): Uint8Array {
    return this.buf.subarray(this.offset + 8, this.offset + 24);
  }
  set src(a: Uint8Array) {
    this.buf.set(a.subarray(0, 16), this.offset + 8);
  }

  /** daddr: a view of the 16 address bytes (no copy). */
  get dst(): Uint8Array {
    return this.buf.subarray(this.offset + 24, this.offset + 40);
  }
  set dst(a: Uint8Array) {
    this.buf.set(a.subarray(0, 16), this.offset + 24);
  }

  /** The payloadLength bytes after the header (no copy). */
  get payload(): Uint8Array {
    const at = this.offset + IPV6_HEADER_LEN;
    return this.buf.subarray(at, at + this.payloadLength);
  }
}

/** The meaning of an IPv6 header. Addresses are copies, safe to keep. */
export interface Ipv6Repr {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  payloadLen: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
}

/** Parses and validates the IPv6 header at buf[offset]; an error value, never a throw. */
export function parseIpv6(buf: Uint8Array, offset = 0, opts: { allowTruncated?: boolean } = {}): Ipv6Repr | Ipv6Error {
  if (offset > buf.byteLength) return 'truncated-header';
  const h = new Ipv6Header(buf, offset);
  const err = h.checkLen();
  // A header quoted in an ICMPv6 error is followed by only part of its payload.
  if (err !== undefined && !(err === 'truncated' && opts.allowTruncated)) return err;
  return {
    src: h.src.slice(),
    dst: h.dst.slice(),
    nextHeader: h.nextHeader,
    payloadLen: h.payloadLength,
    hopLimit: h.hopLimit,
    trafficClass: h.trafficClass,
    flowLabel: h.flowLabel,
  };
}

/** Writes the 40-byte header for `repr` at buf[offset]; the payload is not touched. */
export function emitIpv6(repr: Ipv6Repr, buf: Uint8Array, offset = 0): number {
  const h = new Ipv6Header(buf, offset);
  h.view.setUint32(0, ((6 << 28) | ((repr.trafficClass & 0xff) << 20) | (repr.flowLabel & 0xfffff)) >>> 0);
  h.payloadLength = repr.payloadLen;
  h.nextHeader = repr.nextHeader;
  h.hopLimit = repr.hopLimit;
  h.src = repr.src;
  h.dst = repr.dst;
  return IPV6_HEADER_LEN;
}

/** struct frag_hdr: the 8-byte fragment extension header (RFC 8200 §4.5). */
export class Ipv6FragHeader {
  readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.max(0, buf.byteLength - offset));
  }

  checkLen(): 'truncated' | undefined {
    return this.view.byteLength < IPV6_FRAG_HEADER_LEN ? 'truncated' : undefined;
  }

  get nextHeader(): number {
    return this.view.getUint8(0);
  }
  set nextHeader(v: number) {
    this.view.setUint8(0, v);
  }

  get reserved(): number {
    return this.view.getUint8(1);
  }
  set reserved(v: number) {
    this.view.setUint8(1, v);
  }

  /** frag_off as on the wire: the offset in its top 13 bits (IP6_OFFSET), IP6_MF in bit 0. */
  get fragOff(): number {
    return this.view.getUint16(2);
  }
  set fragOff(v: number) {
    this.view.setUint16(2, v);
  }

  /** The fragment offset in bytes (a multiple of 8). */
  get fragOffset(): number {
    return this.fragOff & IP6_OFFSET;
  }
  set fragOffset(bytes: number) {
    this.fragOff = (this.fragOff & ~IP6_OFFSET & 0xffff) | (bytes & IP6_OFFSET);
  }

  get mf(): boolean {
    return (this.fragOff & IP6_MF) !== 0;
  }
  set mf(v: boolean) {
    this.fragOff = v ? this.fragOff | IP6_MF : this.fragOff & ~IP6_MF;
  }

  /** identification, shared by all fragments of one packet. */
  get ident(): number {
    return this.view.getUint32(4);
  }
  set ident(v: number) {
    this.view.setUint32(4, v >>> 0);
  }
}

export interface Ipv6FragRepr {
  nextHeader: number;
  /** In bytes, a multiple of 8. */
  fragOffset: number;
  mf: boolean;
  ident: number;
}

export function parseIpv6Frag(buf: Uint8Array, offset = 0): Ipv6FragRepr | 'truncated' {
  if (offset > buf.byteLength) return 'truncated';
  const h = new Ipv6FragHeader(buf, offset);
  const err = h.checkLen();
  if (err !== undefined) return err;
  return { nextHeader: h.nextHeader, fragOffset: h.fragOffset, mf: h.mf, ident: h.ident };
}

export function emitIpv6Frag(repr: Ipv6FragRepr, buf: Uint8Array, offset = 0): number {
  const h = new Ipv6FragHeader(buf, offset);
  h.nextHeader = repr.nextHeader;
  h.reserved = 0;
  h.fragOff = (repr.fragOffset & IP6_OFFSET) | (repr.mf ? IP6_MF : 0);
  h.ident = repr.ident;
  return IPV6_FRAG_HEADER_LEN;
}

/** ipv6_ext_hdr(): whether `nexthdr` is an extension header rather than an upper layer. */
export function ipv6ExtHdr(nexthdr: number): boolean {
  return (
    nexthdr === NEXTHDR.HOP ||
    nexthdr === NEXTHDR.ROUTING ||
    nexthdr === NEXTHDR.FRAGMENT ||
    nexthdr === NEXTHDR.AUTH ||
    nexthdr === NEXTHDR.NONE ||
    nexthdr === NEXTHDR.DEST
  );
}

/** Where the extension header chain ends. */
export interface Ipv6UpperLayer {
  /** The upper-layer protocol (NEXTHDR.TCP, …). */
  nextHeader: number;
  /** Offset in buf of its header, or of the fragment's data for a non-first fragment. */
  offset: number;
  /** Offset of the fragment header in buf, or -1 if the packet is not a fragment. */
  fragHeader: number;
  /** The fragment offset in bytes; nonzero means the upper-layer header is in another fragment. */
  fragOffset: number;
}

/**
 * Why a chain was refused: `truncated` (a header runs past `end`), `no-next-header`
 * (NEXTHDR.NONE: nothing to deliver), `bad-hop-by-hop` (hop-by-hop anywhere but first,
 * which Linux answers with a parameter problem), `bad-fragment` (a second fragment header).
 */
export type Ipv6ExtError = 'truncated' | 'no-next-header' | 'bad-hop-by-hop' | 'bad-fragment';

/**
 * ipv6_skip_exthdr(): walks the extension headers starting at buf[offset] with next-header
 * `nexthdr` (the fixed header's) up to `end` (the end of the payload), to the upper layer.
 * Each header is at least 8 bytes, so the walk ends.
 */
export function ipv6SkipExthdr(
  buf: Uint8Array,
  offset: number,
  nexthdr: number,
  end = buf.byteLength,
): Ipv6UpperLayer | Ipv6ExtError {
  let fragHeader = -1;
  let fragOffset = 0;
  let first = true;
  while (ipv6ExtHdr(nexthdr)) {
    if (nexthdr === NEXTHDR.NONE) return 'no-next-header';
    if (nexthdr === NEXTHDR.HOP && !first) return 'bad-hop-by-hop';
    if (offset + 2 > end) return 'truncated';
    let hdrlen: number;
    if (nexthdr === NEXTHDR.FRAGMENT) {
      if (fragHeader !== -1) return 'bad-fragment';
      if (offset + IPV6_FRAG_HEADER_LEN > end) return 'truncated';
      fragHeader = offset;
      fragOffset = ((buf[offset + 2]! << 8) | buf[offset + 3]!) & IP6_OFFSET;
      hdrlen = IPV6_FRAG_HEADER_LEN;
    } else if (nexthdr === NEXTHDR.AUTH) {
      hdrlen = (buf[offset + 1]! + 2) << 2; // ipv6_authlen(): in 4-byte units, minus 2
    } else {
      hdrlen = (buf[offset + 1]! + 1) << 3; // ipv6_optlen(): in 8-byte units, minus 1
    }
    if (offset + hdrlen > end) return 'truncated';
    nexthdr = buf[offset]!;
    offset += hdrlen;
    first = false;
    // A later fragment carries no more headers, only data (ipv6_skip_exthdr stops here too).
    if (fragOffset !== 0) break;
  }
  return { nextHeader: nexthdr, offset, fragHeader, fragOffset };
}
