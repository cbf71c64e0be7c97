/**
 * ICMP for IPv4 (RFC 792, Linux struct icmphdr): a view over the message and its meaning.
 * Which messages to send or answer is `ipv4/icmp.ts`'s business.
 */
import { csumFold, csumPartial } from './checksum.js';

/** include/uapi/linux/icmp.h: types and codes share one ICMP_* namespace there, as here. */
export const ICMP = {
  // Types.
  ECHOREPLY: 0,
  DEST_UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO: 8,
  TIME_EXCEEDED: 11,
  PARAMETERPROB: 12,
  TIMESTAMP: 13,
  TIMESTAMPREPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  ADDRESS: 17,
  ADDRESSREPLY: 18,
  NR_ICMP_TYPES: 18,
  // Codes for DEST_UNREACH.
  NET_UNREACH: 0,
  HOST_UNREACH: 1,
  PROT_UNREACH: 2,
  PORT_UNREACH: 3,
  FRAG_NEEDED: 4,
  SR_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  HOST_ISOLATED: 8,
  NET_ANO: 9,
  HOST_ANO: 10,
  NET_UNR_TOS: 11,
  HOST_UNR_TOS: 12,
  PKT_FILTERED: 13,
  PREC_VIOLATION: 14,
  PREC_CUTOFF: 15,
  NR_ICMP_UNREACH: 15,
  // Codes for REDIRECT.
  REDIR_NET: 0,
  REDIR_HOST: 1,
  REDIR_NETTOS: 2,
  REDIR_HOSTTOS: 3,
  // Codes for TIME_EXCEEDED.
  EXC_TTL: 0,
  EXC_FRAGTIME: 1,
} as const;

/** The fixed part: type, code, checksum and the 4-byte "rest of header" (icmphdr->un). */
export const ICMP_HEADER_LEN = 8;

/**
 * Why an ICMP message was refused (all InErrors in icmp_rcv, `bad-checksum` also InCsumErrors):
 * `bad-quote` is an error message whose quoted datagram lacks its IP header and 8 bytes.
 */
export type IcmpError = 'truncated' | 'bad-checksum' | 'bad-quote';

export class IcmpHeader {
  readonly view: DataView;

  /** A view over the `len` bytes of the message at buf[offset] (default: the rest of buf). */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
    len = buf.byteLength - offset,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.max(0, len));
  }

  /** Message length: header plus data. */
  get len(): number {
    return this.view.byteLength;
  }

  checkLen(): IcmpError | undefined {
    return this.view.byteLength < ICMP_HEADER_LEN ? 'truncated' : undefined;
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

  /** The 4 bytes after the checksum as a u32: un.gateway, or the `info` icmp_send() puts there. */
  get rest(): number {
    return this.view.getUint32(4);
  }
  set rest(v: number) {
    this.view.setUint32(4, v >>> 0);
  }

  /** un.echo.id */
  get id(): number {
    return this.view.getUint16(4);
  }
  set id(v: number) {
    this.view.setUint16(4, v);
  }

  /** un.echo.sequence */
  get sequence(): number {
    return this.view.getUint16(6);
  }
  set sequence(v: number) {
    this.view.setUint16(6, v);
  }

  /** un.frag.mtu: the next-hop MTU of a FRAG_NEEDED (RFC 1191). */
  get mtu(): number {
    return this.view.getUint16(6);
  }
  set mtu(v: number) {
    this.view.setUint16(6, v);
  }

  /** The octet a PARAMETERPROB points at. */
  get pointer(): number {
    return this.view.getUint8(4);
  }
  set pointer(v: number) {
    this.view.setUint8(4, v);
  }

  /** Everything after the 8-byte header (no copy): echo data, or the quoted datagram. */
  get data(): Uint8Array {
    return this.buf.subarray(this.offset + ICMP_HEADER_LEN, this.offset + this.view.byteLength);
  }

  /** The checksum over the whole message is correct. */
  verifyChecksum(): boolean {
    return csumFold(csumPartial(this.buf, this.offset, this.len)) === 0;
  }

  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = csumFold(csumPartial(this.buf, this.offset, this.len));
  }
}

/** Whether `type` is an error message, which quotes the datagram that caused it. */
export function icmpIsErr(type: number): boolean {
  return (
    type === ICMP.DEST_UNREACH ||
    type === ICMP.SOURCE_QUENCH ||
    type === ICMP.REDIRECT ||
    type === ICMP.TIME_EXCEEDED ||
    type === ICMP.PARAMETERPROB
  );
}

/** Echo request (ICMP.ECHO) or reply (ICMP.ECHOREPLY). */
export interface IcmpEchoRepr {
  kind: 'echo';
  type: number;
  code: number;
  id: number;
  sequence: number;
  data: Uint8Array;
}

/**
 * An error (DEST_UNREACH, SOURCE_QUENCH, REDIRECT, TIME_EXCEEDED, PARAMETERPROB). `rest` is
 * the u32 after the checksum: the MTU in its low 16 bits for FRAG_NEEDED, the pointer in
 * its top byte for PARAMETERPROB, the gateway for REDIRECT. `data` is the quoted datagram,
 * starting with its IP header (read it with parseIpv4(data, 0, { allowTruncated: true })).
 */
export interface IcmpErrorRepr {
  kind: 'error';
  type: number;
  code: number;
  rest: number;
  data: Uint8Array;
}

/** Any other message, kept whole so it can be emitted again. */
export interface IcmpOtherRepr {
  kind: 'other';
  type: number;
  code: number;
  rest: number;
  data: Uint8Array;
}

/** `data` is a view into the parsed bytes. */
export type IcmpRepr = IcmpEchoRepr | IcmpErrorRepr | IcmpOtherRepr;

/**
 * Parses the `len`-byte ICMP message at buf[offset] (len: the IP payload length); verifies
 * the checksum unless told not to. An error value, never a throw.
 */
export function parseIcmp(
  buf: Uint8Array,
  offset = 0,
  len = buf.byteLength - offset,
  opts: { verifyChecksum?: boolean } = {},
): IcmpRepr | IcmpError {
  if (offset + len > buf.byteLength || len < ICMP_HEADER_LEN) return 'truncated';
  const h = new IcmpHeader(buf, offset, len);
  if (opts.verifyChecksum !== false && !h.verifyChecksum()) return 'bad-checksum';
  const { type, code } = h;
  if (type === ICMP.ECHO || type === ICMP.ECHOREPLY) {
    return { kind: 'echo', type, code, id: h.id, sequence: h.sequence, data: h.data };
  }
  const data = h.data;
  if (icmpIsErr(type)) {
    // icmp_unreach() and icmp_socket_deliver(): the quoted IP header (ihl >= 5) and 8 bytes of it.
    const ihl = data.byteLength > 0 ? data[0]! & 0xf : 0;
    if (data.byteLength < 20 || ihl < 5 || data.byteLength < ihl * 4 + 8) return 'bad-quote';
    return { kind: 'error', type, code, rest: h.rest, data };
  }
  return { kind: 'other', type, code, rest: h.rest, data };
}

/** Bytes `repr` emits: 8 plus its data. */
export function icmpLen(repr: IcmpRepr): number {
  return ICMP_HEADER_LEN + repr.data.byteLength;
}

/**
 * Writes `repr` at buf[offset] with its checksum. The data is copied unless it already sits
 * right after the header. Returns the message length.
 */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, offset = 0): number {
  const len = icmpLen(repr);
  const h = new IcmpHeader(buf, offset, len);
  h.type = repr.type;
  h.code = repr.code;
  if (repr.kind === 'echo') {
    h.id = repr.id;
    h.sequence = repr.sequence;
  } else {
    h.rest = repr.rest;
  }
  copyUnlessInPlace(repr.data, buf, offset + ICMP_HEADER_LEN);
  h.fillChecksum();
  return len;
}

/** buf.set(src, at), skipped when src is already those bytes. */
function copyUnlessInPlace(src: Uint8Array, buf: Uint8Array, at: number): void {
  if (src.buffer === buf.buffer && src.byteOffset === buf.byteOffset + at) return;
  buf.set(src, at);
}
