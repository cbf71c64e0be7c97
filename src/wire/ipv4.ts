/**
 * The IPv4 header (RFC 791, Linux struct iphdr): a view over bytes and its parsed meaning.
 * No routing, no fragmentation logic: `ipv4/` decides what the fields mean.
 */
import { ipFastCsum } from './checksum.js';

/** include/uapi/linux/in.h (and in6.h for the IPv6 extension header numbers). */
export const IPPROTO = {
  IP: 0,
  /** IPv6 hop-by-hop options (same number as IP: only meaningful as an IPv6 next header). */
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  EGP: 8,
  PUP: 12,
  UDP: 17,
  IDP: 22,
  TP: 29,
  DCCP: 33,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  RSVP: 46,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MTP: 92,
  BEETPH: 94,
  ENCAP: 98,
  PIM: 103,
  COMP: 108,
  L2TP: 115,
  SCTP: 132,
  MH: 135,
  UDPLITE: 136,
  MPLS: 137,
  ETHERNET: 143,
  RAW: 255,
  SMC: 256,
  MPTCP: 262,
} as const;

/** include/net/ip.h: the flag bits and offset mask of iphdr->frag_off. */
export const IP_CE = 0x8000;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFSET = 0x1fff;

export const IPV4_HEADER_LEN = 20;
/** ihl is 4 bits of 32-bit words: 60 bytes at most, 40 of them options. */
export const IPV4_MAX_HEADER_LEN = 60;

/**
 * Why an IPv4 header was refused, named for what ip_rcv_core() counts: `truncated` (the
 * header is whole, the datagram is not) is InTruncatedPkts, `bad-checksum` InCsumErrors,
 * the others InHdrErrors.
 */
export type Ipv4Error = 'truncated-header' | 'bad-version' | 'bad-ihl' | 'bad-checksum' | 'truncated' | 'bad-length';

export class Ipv4Header {
  /** Bytes from offset to the end of buf: the header's reach (what `view` spans). */
  readonly #len: number;
  #view: DataView | null = null;

  /**
   * A view over buf[offset…]; getters past the bytes present throw, so check first (`checkLen`).
   * Fields are read and written as bytes (every packet makes one of these); the DataView is
   * made only when asked for.
   */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    // A DataView's rule: a start outside the underlying buffer is a RangeError at once.
    if (offset < 0 || offset > buf.byteLength) {
      const start = buf.byteOffset + offset;
      if (!(start >= 0 && start <= buf.buffer.byteLength))
        throw new RangeError(`Start offset ${start} is outside the bounds of the buffer`);
    }
    this.#len = Math.max(0, buf.byteLength - offset);
  }

  /** A DataView over the same bytes as the fields. */
  get view(): DataView {
    if (this.#view === null) this.#view = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, this.#len);
    return this.#view;
  }

  #at(k: number, size: number): number {
    if (k + size > this.#len) throw new RangeError('Offset is outside the bounds of the DataView');
    return this.offset + k;
  }

  #u8(k: number): number {
    return this.buf[this.#at(k, 1)] as number;
  }

  #u16(k: number): number {
    const o = this.#at(k, 2);
    const b = this.buf;
    return ((b[o] as number) << 8) | (b[o + 1] as number);
  }

  #u32(k: number): number {
    const o = this.#at(k, 4);
    const b = this.buf;
    return (
      (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>>
      0
    );
  }

  #set8(k: number, v: number): void {
    this.buf[this.#at(k, 1)] = v;
  }

  #set16(k: number, v: number): void {
    const o = this.#at(k, 2);
    this.buf[o] = v >>> 8;
    this.buf[o + 1] = v;
  }

  #set32(k: number, v: number): void {
    const o = this.#at(k, 4);
    const b = this.buf;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  }

  /** Whether the bytes hold a whole, well-formed header (undefined when they do). */
  checkHeader(): Ipv4Error | undefined {
    const len = this.#len;
    if (len < IPV4_HEADER_LEN) return 'truncated-header';
    if (this.version !== 4) return 'bad-version';
    if (this.ihl < 5) return 'bad-ihl';
    if (len < this.headerLen) return 'truncated-header';
    return undefined;
  }

  /**
   * Whether the bytes hold a well-formed header and the whole datagram (undefined when they
   * do). Bytes past totalLength (link padding) are allowed: ip_rcv_core trims them.
   */
  checkLen(): Ipv4Error | undefined {
    return this.checkHeader() ?? this.checkTotalLength();
  }

  /** The totalLength checks of checkLen, for a header already checked. */
  checkTotalLength(): Ipv4Error | undefined {
    const tot = this.totalLength;
    if (this.#len < tot) return 'truncated';
    if (tot < this.headerLen) return 'bad-length';
    return undefined;
  }

  get version(): number {
    return this.#u8(0) >> 4;
  }
  set version(v: number) {
    this.#set8(0, ((v & 0xf) << 4) | (this.#u8(0) & 0xf));
  }

  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.#u8(0) & 0xf;
  }
  set ihl(v: number) {
    this.#set8(0, (this.#u8(0) & 0xf0) | (v & 0xf));
  }

  /** Header length in bytes (ihl * 4). */
  get headerLen(): number {
    return this.ihl * 4;
  }

  /** The whole type-of-service byte: DSCP in the top six bits, ECN in the low two. */
  get tos(): number {
    return this.#u8(1);
  }
  set tos(v: number) {
    this.#set8(1, v);
  }

  get dscp(): number {
    return this.tos >> 2;
  }
  set dscp(v: number) {
    this.tos = ((v & 0x3f) << 2) | (this.tos & 3);
  }

  get ecn(): number {
    return this.tos & 3;
  }
  set ecn(v: number) {
    this.tos = (this.tos & 0xfc) | (v & 3);
  }

  /** tot_len: header plus payload, in bytes. */
  get totalLength(): number {
    return this.#u16(2);
  }
  set totalLength(v: number) {
    this.#set16(2, v);
  }

  /** iphdr->id, the identification used to reassemble fragments. */
  get ident(): number {
    return this.#u16(4);
  }
  set ident(v: number) {
    this.#set16(4, v);
  }

  /** iphdr->frag_off as on the wire: IP_CE | IP_DF | IP_MF flags and the offset in 8-byte units. */
  get fragOff(): number {
    return this.#u16(6);
  }
  set fragOff(v: number) {
    this.#set16(6, v);
  }

  get df(): boolean {
    return (this.fragOff & IP_DF) !== 0;
  }
  set df(v: boolean) {
    this.fragOff = v ? this.fragOff | IP_DF : this.fragOff & ~IP_DF;
  }

  get mf(): boolean {
    return (this.fragOff & IP_MF) !== 0;
  }
  set mf(v: boolean) {
    this.fragOff = v ? this.fragOff | IP_MF : this.fragOff & ~IP_MF;
  }

  /** The fragment offset in bytes (a multiple of 8). */
  get fragOffset(): number {
    return (this.fragOff & IP_OFFSET) * 8;
  }
  set fragOffset(bytes: number) {
    this.fragOff = (this.fragOff & ~IP_OFFSET) | ((bytes >>> 3) & IP_OFFSET);
  }

  get ttl(): number {
    return this.#u8(8);
  }
  set ttl(v: number) {
    this.#set8(8, v);
  }

  get protocol(): number {
    return this.#u8(9);
  }
  set protocol(v: number) {
    this.#set8(9, v);
  }

  get checksum(): number {
    return this.#u16(10);
  }
  set checksum(v: number) {
    this.#set16(10, v);
  }

  /** saddr as a host-order u32 (127.0.0.1 is 0x7f000001). */
  get src(): number {
    return this.#u32(12);
  }
  set src(v: number) {
    this.#set32(12, v >>> 0);
  }

  /** daddr as a host-order u32. */
  get dst(): number {
    return this.#u32(16);
  }
  set dst(v: number) {
    this.#set32(16, v >>> 0);
  }

  get optionsLen(): number {
    return this.headerLen - IPV4_HEADER_LEN;
  }

  /** The options bytes (no copy). */
  get options(): Uint8Array {
    const at = this.offset + IPV4_HEADER_LEN;
    return this.buf.subarray(at, at + this.optionsLen);
  }

  /** The bytes after the header up to totalLength (no copy). */
  get payload(): Uint8Array {
    return this.buf.subarray(this.offset + this.headerLen, this.offset + this.totalLength);
  }

  /** ip_fast_csum() over the header is 0. */
  verifyChecksum(): boolean {
    return ipFastCsum(this.buf, this.offset, this.ihl) === 0;
  }

  /** ip_send_check(): computes the header checksum into its field. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = ipFastCsum(this.buf, this.offset, this.ihl);
  }
}

/** The meaning of an IPv4 header. `options` is a view into the parsed bytes. */
export interface Ipv4Repr {
  src: number;
  dst: number;
  protocol: number;
  /** Bytes after the header: totalLength - headerLen. */
  payloadLen: number;
  ttl: number;
  tos: number;
  ident: number;
  df: boolean;
  mf: boolean;
  /** In bytes, a multiple of 8. */
  fragOffset: number;
  /** Raw option bytes, a multiple of 4 and at most 40 long (empty without options). */
  options: Uint8Array;
}

export interface Ipv4ParseOptions {
  /** Check the header checksum (default true, as ip_rcv_core always does). */
  verifyChecksum?: boolean;
  /**
   * Accept a datagram cut short after its header, as quoted inside an ICMP error
   * (default false). payloadLen still reports what totalLength says.
   */
  allowTruncated?: boolean;
}

/**
 * Parses and validates the IPv4 header at buf[offset], in ip_rcv_core()'s order (header,
 * checksum, then totalLength); an error value, never a throw.
 */
export function parseIpv4(buf: Uint8Array, offset = 0, opts: Ipv4ParseOptions = {}): Ipv4Repr | Ipv4Error {
  if (offset > buf.byteLength) return 'truncated-header';
  const h = new Ipv4Header(buf, offset);
  const err = h.checkHeader();
  if (err !== undefined) return err;
  if (opts.verifyChecksum !== false && !h.verifyChecksum()) return 'bad-checksum';
  const lenErr = h.checkTotalLength();
  // A quoted datagram is cut short by design; its totalLength must still cover the header.
  if (lenErr !== undefined && !(lenErr === 'truncated' && opts.allowTruncated && h.totalLength >= h.headerLen)) {
    return lenErr;
  }
  return {
    src: h.src,
    dst: h.dst,
    protocol: h.protocol,
    payloadLen: h.totalLength - h.headerLen,
    ttl: h.ttl,
    tos: h.tos,
    ident: h.ident,
    df: h.df,
    mf: h.mf,
    fragOffset: h.fragOffset,
    options: h.options,
  };
}

/** The header length `repr` emits: 20 plus its options. */
export function ipv4HeaderLen(repr: Ipv4Repr): number {
  return IPV4_HEADER_LEN + repr.options.byteLength;
}

/**
 * Writes the header for `repr` at buf[offset] (the payload is not touched) and its checksum
 * unless told not to. Returns the header length. Options must be padded to 4 bytes by the caller.
 */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, offset = 0, opts: { fillChecksum?: boolean } = {}): number {
  const hl = ipv4HeaderLen(repr);
  if (hl > IPV4_MAX_HEADER_LEN || hl % 4 !== 0)
    throw new RangeError(`IPv4 options of ${repr.options.byteLength} bytes`);
  const h = new Ipv4Header(buf, offset);
  h.buf[h.offset] = 0x40 | (hl >> 2);
  h.tos = repr.tos;
  h.totalLength = hl + repr.payloadLen;
  h.ident = repr.ident;
  h.fragOff = (repr.df ? IP_DF : 0) | (repr.mf ? IP_MF : 0) | ((repr.fragOffset >>> 3) & IP_OFFSET);
  h.ttl = repr.ttl;
  h.protocol = repr.protocol;
  h.src = repr.src;
  h.dst = repr.dst;
  if (repr.options.byteLength > 0) buf.set(repr.options, offset + IPV4_HEADER_LEN);
  if (opts.fillChecksum === false) h.checksum = 0;
  else h.fillChecksum();
  return hl;
}
