/**
 * ICMPv6 (RFC 4443, Linux struct icmp6hdr): a view over the message and its meaning. Unlike
 * ICMP for IPv4 its checksum covers the IPv6 pseudo-header, so checking needs the addresses.
 */
import { csumFold, csumIpv6Nofold, csumPartial } from './checksum.js';
import { NEXTHDR } from './ipv6.js';

/** include/uapi/linux/icmpv6.h ICMPV6_* (types and codes), plus ndisc.h's NDISC_* types. */
export const ICMPV6 = {
  // Error types.
  DEST_UNREACH: 1,
  PKT_TOOBIG: 2,
  TIME_EXCEED: 3,
  PARAMPROB: 4,
  ERRMSG_MAX: 127,
  // Informational types.
  INFOMSG_MASK: 0x80,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MGM_QUERY: 130,
  MGM_REPORT: 131,
  MGM_REDUCTION: 132,
  NDISC_ROUTER_SOLICITATION: 133,
  NDISC_ROUTER_ADVERTISEMENT: 134,
  NDISC_NEIGHBOUR_SOLICITATION: 135,
  NDISC_NEIGHBOUR_ADVERTISEMENT: 136,
  NDISC_REDIRECT: 137,
  MLD2_REPORT: 143,
  // Codes for DEST_UNREACH.
  NOROUTE: 0,
  ADM_PROHIBITED: 1,
  NOT_NEIGHBOUR: 2,
  ADDR_UNREACH: 3,
  PORT_UNREACH: 4,
  POLICY_FAIL: 5,
  REJECT_ROUTE: 6,
  // Codes for TIME_EXCEED.
  EXC_HOPLIMIT: 0,
  EXC_FRAGTIME: 1,
  // Codes for PARAMPROB.
  HDR_FIELD: 0,
  UNK_NEXTHDR: 1,
  UNK_OPTION: 2,
  HDR_INCOMP: 3,
} as const;

export const ICMPV6_HEADER_LEN = 8;

/**
 * Why an ICMPv6 message was refused (Icmp6InErrors in icmpv6_rcv, `bad-checksum` also
 * Icmp6InCsumErrors): `bad-quote` is an error message too short to quote an IPv6 header.
 */
export type Icmpv6Error = 'truncated' | 'bad-checksum' | 'bad-quote';

export class Icmpv6Header {
  readonly view: DataView;

  /** A view over the `len` bytes of the message at buf[offset] (default: the rest of buf). */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
    len = buf.byteLength - offset,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.max(0, len));
  }

  get len(): number {
    return this.view.byteLength;
  }

  checkLen(): Icmpv6Error | undefined {
    return this.view.byteLength < ICMPV6_HEADER_LEN ? 'truncated' : undefined;
  }

  get type(): number {
    return this.view.getUint8(0);
  }
  set type(v: number) {
    this.view.setUint8(0, v);
  }

  get code(): number {
    return this.view.getUint8(1);
  }
  set code(v: number) {
    this.view.setUint8(1, v);
  }

  get checksum(): number {
    return this.view.getUint16(2);
  }
  set checksum(v: number) {
    this.view.setUint16(2, v);
  }

  /** The 4 bytes after the checksum as a u32: the MTU of PKT_TOOBIG, the pointer of PARAMPROB. */
  get rest(): number {
    return this.view.getUint32(4);
  }
  set rest(v: number) {
    this.view.setUint32(4, v >>> 0);
  }

  /** icmp6_identifier */
  get id(): number {
    return this.view.getUint16(4);
  }
  set id(v: number) {
    this.view.setUint16(4, v);
  }

  /** icmp6_sequence */
  get sequence(): number {
    return this.view.getUint16(6);
  }
  set sequence(v: number) {
    this.view.setUint16(6, v);
  }

  /** The bytes after the 8-byte header (no copy). */
  get data(): Uint8Array {
    return this.buf.subarray(this.offset + ICMPV6_HEADER_LEN, this.offset + this.view.byteLength);
  }

  /** The checksum over pseudo-header and message is correct. */
  verifyChecksum(src: Uint8Array, dst: Uint8Array): boolean {
    return csumFold(icmpv6Sum(this, src, dst)) === 0;
  }

  fillChecksum(src: Uint8Array, dst: Uint8Array): void {
    this.checksum = 0;
    this.checksum = csumFold(icmpv6Sum(this, src, dst));
  }
}

function icmpv6Sum(h: Icmpv6Header, src: Uint8Array, dst: Uint8Array): number {
  return csumPartial(h.buf, h.offset, h.len, csumIpv6Nofold(src, dst, h.len, NEXTHDR.ICMP));
}

/** Echo request or reply. */
export interface Icmpv6EchoRepr {
  kind: 'echo';
  type: number;
  code: number;
  id: number;
  sequence: number;
  data: Uint8Array;
}

/**
 * An error (types below 128). `rest` is the MTU for PKT_TOOBIG, the pointer for PARAMPROB,
 * else unused; `data` is the quoted packet, starting with its IPv6 header.
 */
export interface Icmpv6ErrorRepr {
  kind: 'error';
  type: number;
  code: number;
  rest: number;
  data: Uint8Array;
}

/** Any other informational message (neighbour discovery, MLD, …), kept whole. */
export interface Icmpv6OtherRepr {
  kind: 'other';
  type: number;
  code: number;
  rest: number;
  data: Uint8Array;
}

/** `data` is a view into the parsed bytes. */
export type Icmpv6Repr = Icmpv6EchoRepr | Icmpv6ErrorRepr | Icmpv6OtherRepr;

/**
 * Parses the `len`-byte ICMPv6 message at buf[offset], verifying the checksum with the
 * IPv6 source and destination when they are given. An error value, never a throw.
 */
export function parseIcmpv6(
  buf: Uint8Array,
  offset = 0,
  len = buf.byteLength - offset,
  addrs?: { readonly src: Uint8Array; readonly dst: Uint8Array },
): Icmpv6Repr | Icmpv6Error {
  if (offset + len > buf.byteLength || len < ICMPV6_HEADER_LEN) return 'truncated';
  const h = new Icmpv6Header(buf, offset, len);
  if (addrs !== undefined && !h.verifyChecksum(addrs.src, addrs.dst)) return 'bad-checksum';
  const { type, code } = h;
  if (type === ICMPV6.ECHO_REQUEST || type === ICMPV6.ECHO_REPLY) {
    return { kind: 'echo', type, code, id: h.id, sequence: h.sequence, data: h.data };
  }
  const data = h.data;
  if (!(type & ICMPV6.INFOMSG_MASK)) {
    // icmpv6_notify(): an error must quote at least the offending packet's IPv6 header.
    if (data.byteLength < 40) return 'bad-quote';
    return { kind: 'error', type, code, rest: h.rest, data };
  }
  return { kind: 'other', type, code, rest: h.rest, data };
}

export function icmpv6Len(repr: Icmpv6Repr): number {
  return ICMPV6_HEADER_LEN + repr.data.byteLength;
}

/**
 * Writes `repr` at buf[offset] with its checksum over the pseudo-header of src and dst.
 * The data is copied unless it already sits right after the header. Returns the length.
 */
export function emitIcmpv6(
  repr: Icmpv6Repr,
  buf: Uint8Array,
  offset: number,
  addrs: { readonly src: Uint8Array; readonly dst: Uint8Array },
): number {
  const len = icmpv6Len(repr);
  const h = new Icmpv6Header(buf, offset, len);
  h.type = repr.type;
  h.code = repr.code;
  if (repr.kind === 'echo') {
    h.id = repr.id;
    h.sequence = repr.sequence;
  } else {
    h.rest = repr.rest;
  }
  const at = offset + ICMPV6_HEADER_LEN;
  if (!(repr.data.buffer === buf.buffer && repr.data.byteOffset === buf.byteOffset + at)) buf.set(repr.data, at);
  h.fillChecksum(addrs.src, addrs.dst);
  return len;
}
