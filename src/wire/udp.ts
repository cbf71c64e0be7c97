/**
 * The UDP header (RFC 768, Linux struct udphdr): a view over bytes and its meaning.
 * Checksums take the pseudo-header's addresses, so one view serves IPv4 and IPv6.
 */
import { csumFold, csumPartial, csumPseudo, csumPseudoPartial, type L4Checksum, type PseudoAddrs } from './checksum.js';
import { IPPROTO } from './ipv4.js';

export const UDP_HEADER_LEN = 8;

/** include/net/checksum.h: a computed checksum of 0 is sent as 0xffff, since 0 means "none". */
export const CSUM_MANGLED_0 = 0xffff;

/**
 * Why a datagram was refused (__udp4_lib_rcv / __udp6_lib_rcv): `truncated` and `bad-length`
 * are short_packet (InErrors), `bad-checksum` is csum_error (InCsumErrors and InErrors).
 */
export type UdpError = 'truncated' | 'bad-length' | 'bad-checksum';

export class UdpHeader {
  readonly view: DataView;

  /** A view over buf[offset…]; getters past the bytes present throw, so check first (`checkLen`). */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.max(0, buf.byteLength - offset));
  }

  /**
   * Whether the `len` bytes the IP layer delivered (default: the rest of buf) hold the
   * header and `length` bytes. Extra bytes are allowed: Linux trims to `length`.
   */
  checkLen(len = this.view.byteLength): UdpError | undefined {
    if (len < UDP_HEADER_LEN || len > this.view.byteLength) return 'truncated';
    const ulen = this.length;
    if (ulen > len || ulen < UDP_HEADER_LEN) return 'bad-length';
    return undefined;
  }

  /** source */
  get srcPort(): number {
    return this.view.getUint16(0);
  }
  set srcPort(v: number) {
    this.view.setUint16(0, v);
  }

  /** dest */
  get dstPort(): number {
    return this.view.getUint16(2);
  }
  set dstPort(v: number) {
    this.view.setUint16(2, v);
  }

  /** len: header plus payload. */
  get length(): number {
    return this.view.getUint16(4);
  }
  set length(v: number) {
    this.view.setUint16(4, v);
  }

  /** check: 0 means "no checksum" (IPv4 only). */
  get checksum(): number {
    return this.view.getUint16(6);
  }
  set checksum(v: number) {
    this.view.setUint16(6, v);
  }

  /** The bytes after the header, up to `length` (no copy). */
  get payload(): Uint8Array {
    return this.buf.subarray(this.offset + UDP_HEADER_LEN, this.offset + this.length);
  }

  /** The full checksum over pseudo-header, header and payload is correct (0 counts as correct: use `checksum` to tell). */
  verifyChecksum(addrs: PseudoAddrs): boolean {
    if (this.checksum === 0) return true;
    const len = this.length;
    return csumFold(csumPartial(this.buf, this.offset, len, csumPseudo(addrs, len, IPPROTO.UDP))) === 0;
  }

  /** udp4_hwcsum()/udp6 software path: the full checksum, 0 sent as CSUM_MANGLED_0. */
  fillChecksum(addrs: PseudoAddrs): void {
    const len = this.length;
    this.checksum = 0;
    this.checksum =
      csumFold(csumPartial(this.buf, this.offset, len, csumPseudo(addrs, len, IPPROTO.UDP))) || CSUM_MANGLED_0;
  }

  /** CHECKSUM_PARTIAL (udp_set_csum with offload): the folded pseudo-header sum, left for the device to finish. */
  fillChecksumPartial(addrs: PseudoAddrs): void {
    this.checksum = csumPseudoPartial(addrs, this.length, IPPROTO.UDP);
  }

  /** Whether the field holds exactly the CHECKSUM_PARTIAL value, as datagrams captured on lo do. */
  isChecksumPartial(addrs: PseudoAddrs): boolean {
    return this.checksum === csumPseudoPartial(addrs, this.length, IPPROTO.UDP);
  }
}

/** The meaning of a UDP header. `payload` is a view into the parsed bytes; len = 8 + payload. */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export interface UdpParseOptions {
  /** Verify the full checksum against this pseudo-header (default: not checked, as lo's CHECKSUM_UNNECESSARY). */
  verify?: PseudoAddrs;
  /** Refuse a zero checksum when verifying (IPv6 requires one, RFC 8200 §8.1). */
  requireChecksum?: boolean;
}

/**
 * Parses the datagram at buf[offset] of `len` bytes (the IP payload length; default: the
 * rest of buf). An error value, never a throw.
 */
export function parseUdp(
  buf: Uint8Array,
  offset = 0,
  len = buf.byteLength - offset,
  opts: UdpParseOptions = {},
): UdpRepr | UdpError {
  if (offset > buf.byteLength) return 'truncated';
  const h = new UdpHeader(buf, offset);
  const err = h.checkLen(len);
  if (err !== undefined) return err;
  if (opts.verify !== undefined) {
    if (h.checksum === 0 ? opts.requireChecksum === true : !h.verifyChecksum(opts.verify)) return 'bad-checksum';
  }
  return { srcPort: h.srcPort, dstPort: h.dstPort, payload: h.payload };
}

/**
 * Writes header and payload for `repr` at buf[offset] (the payload copied unless already in
 * place) and the checksum as asked. Returns the datagram length.
 */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, offset: number, csum: L4Checksum): number {
  const len = UDP_HEADER_LEN + repr.payload.byteLength;
  const h = new UdpHeader(buf, offset);
  h.srcPort = repr.srcPort;
  h.dstPort = repr.dstPort;
  h.length = len;
  h.checksum = 0;
  const at = offset + UDP_HEADER_LEN;
  if (!(repr.payload.buffer === buf.buffer && repr.payload.byteOffset === buf.byteOffset + at))
    buf.set(repr.payload, at);
  if (csum.mode === 'full') h.fillChecksum(csum.addrs);
  else if (csum.mode === 'partial') h.fillChecksumPartial(csum.addrs);
  return len;
}
