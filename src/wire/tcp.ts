/**
 * The TCP header (RFC 9293, Linux struct tcphdr) and its options: a view over bytes and
 * their meaning. The state machine lives in `transport/tcp/`.
 */
import { csumFold, csumPartial, csumPseudo, csumPseudoPartial, type L4Checksum, type PseudoAddrs } from './checksum.js';
import { IPPROTO } from './ipv4.js';

export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
/** MAX_TCP_OPTION_SPACE */
export const MAX_TCP_OPTION_SPACE = 40;

/** include/net/tcp.h TCPHDR_*: the flag bits as tcp_flag_byte() sees them, plus AccECN's AE bit. */
export const TCPHDR = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  /** The former NS bit, the low bit of byte 12. */
  AE: 0x100,
} as const;

/** include/net/tcp.h TCPOPT_*: option kinds. */
export const TCPOPT = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW: 3,
  SACK_PERM: 4,
  SACK: 5,
  TIMESTAMP: 8,
  MD5SIG: 19,
  AO: 29,
  MPTCP: 30,
  FASTOPEN: 34,
  EXP: 254,
} as const;

/** include/net/tcp.h TCPOLEN_*: option lengths, kind and length bytes included. */
export const TCPOLEN = {
  MSS: 4,
  WINDOW: 3,
  SACK_PERM: 2,
  TIMESTAMP: 10,
  MD5SIG: 18,
  SACK_BASE: 2,
  SACK_PERBLOCK: 8,
  FASTOPEN_BASE: 2,
  EXP_FASTOPEN_BASE: 4,
} as const;

/** TCPOPT_FASTOPEN_MAGIC: the experimental option 254 is Fast Open when its first two bytes say so (RFC 6994). */
export const TCPOPT_FASTOPEN_MAGIC = 0xf989;

/**
 * struct tcp_fastopen_cookie as tcp_parse_fastopen_option() leaves it: `len` 0 is a cookie
 * request, 4 to 16 a cookie; `exp` for the experimental option 254.
 */
export interface TcpFastopenCookie {
  len: number;
  val: Uint8Array;
  exp: boolean;
}

/**
 * Why a segment was refused (tcp_v4_rcv / tcp_v6_rcv): `bad-doff` (doff below 5) and
 * `bad-checksum` are InErrs (the latter InCsumErrors too); `truncated` is a discard.
 */
export type TcpError = 'truncated' | 'bad-doff' | 'bad-checksum';

export class TcpHeader {
  readonly #len: number;

  /** A view over the `len`-byte segment at buf[offset] (default: the rest of buf). */
  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
    len = buf.byteLength - offset,
  ) {
    // Fields are read and written byte by byte: a DataView per segment costs more than the reads.
    this.#len = Math.max(0, Math.min(len, buf.byteLength - offset));
  }

  /** A DataView over the segment, for callers that want one. */
  get view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, this.#len);
  }

  #u8(k: number): number {
    if (k >= this.#len) throw new RangeError('Offset is outside the bounds of the DataView');
    return this.buf[this.offset + k] as number;
  }

  #u16(k: number): number {
    return (this.#u8(k) << 8) | this.#u8(k + 1);
  }

  #u32(k: number): number {
    return ((this.#u8(k) << 24) | (this.#u8(k + 1) << 16) | (this.#u8(k + 2) << 8) | this.#u8(k + 3)) >>> 0;
  }

  #set8(k: number, v: number): void {
    if (k >= this.#len) throw new RangeError('Offset is outside the bounds of the DataView');
    this.buf[this.offset + k] = v;
  }

  #set16(k: number, v: number): void {
    this.#set8(k + 1, v);
    this.#set8(k, v >>> 8);
  }

  #set32(k: number, v: number): void {
    this.#set8(k + 3, v);
    this.#set8(k, v >>> 24);
    this.#set8(k + 1, v >>> 16);
    this.#set8(k + 2, v >>> 8);
  }

  /** Segment length: header, options and payload. */
  get len(): number {
    return this.#len;
  }

  checkLen(): TcpError | undefined {
    if (this.len < TCP_HEADER_LEN) return 'truncated';
    if (this.doff < 5) return 'bad-doff';
    if (this.len < this.headerLen) return 'truncated';
    return undefined;
  }

  /** source */
  get srcPort(): number {
    return this.#u16(0);
  }
  set srcPort(v: number) {
    this.#set16(0, v);
  }

  /** dest */
  get dstPort(): number {
    return this.#u16(2);
  }
  set dstPort(v: number) {
    this.#set16(2, v);
  }

  get seq(): number {
    return this.#u32(4);
  }
  set seq(v: number) {
    this.#set32(4, v >>> 0);
  }

  /** ack_seq */
  get ackSeq(): number {
    return this.#u32(8);
  }
  set ackSeq(v: number) {
    this.#set32(8, v >>> 0);
  }

  /** Data offset: header length in 32-bit words. */
  get doff(): number {
    return this.#u8(12) >> 4;
  }
  set doff(v: number) {
    this.#set8(12, ((v & 0xf) << 4) | (this.#u8(12) & 0xf));
  }

  get headerLen(): number {
    return this.doff * 4;
  }

  /** The three reserved bits between doff and AE. */
  get res1(): number {
    return (this.#u8(12) >> 1) & 7;
  }

  /** TCPHDR_* bits: byte 13, and AE from byte 12. */
  get flags(): number {
    return ((this.#u8(12) & 1) << 8) | this.#u8(13);
  }
  set flags(v: number) {
    this.#set8(12, (this.#u8(12) & 0xfe) | ((v >> 8) & 1));
    this.#set8(13, v & 0xff);
  }

  get fin(): boolean {
    return (this.#u8(13) & TCPHDR.FIN) !== 0;
  }
  get syn(): boolean {
    return (this.#u8(13) & TCPHDR.SYN) !== 0;
  }
  get rst(): boolean {
    return (this.#u8(13) & TCPHDR.RST) !== 0;
  }
  get psh(): boolean {
    return (this.#u8(13) & TCPHDR.PSH) !== 0;
  }
  get ack(): boolean {
    return (this.#u8(13) & TCPHDR.ACK) !== 0;
  }
  get urg(): boolean {
    return (this.#u8(13) & TCPHDR.URG) !== 0;
  }
  get ece(): boolean {
    return (this.#u8(13) & TCPHDR.ECE) !== 0;
  }
  get cwr(): boolean {
    return (this.#u8(13) & TCPHDR.CWR) !== 0;
  }

  /** The raw, unscaled window field. */
  get window(): number {
    return this.#u16(14);
  }
  set window(v: number) {
    this.#set16(14, v);
  }

  /** check */
  get checksum(): number {
    return this.#u16(16);
  }
  set checksum(v: number) {
    this.#set16(16, v);
  }

  /** urg_ptr */
  get urgPtr(): number {
    return this.#u16(18);
  }
  set urgPtr(v: number) {
    this.#set16(18, v);
  }

  /** The option bytes (no copy). */
  get options(): Uint8Array {
    return this.buf.subarray(this.offset + TCP_HEADER_LEN, this.offset + this.headerLen);
  }

  /** The bytes after header and options (no copy). */
  get payload(): Uint8Array {
    return this.buf.subarray(this.offset + this.headerLen, this.offset + this.len);
  }

  /** The full checksum over pseudo-header and segment is correct. */
  verifyChecksum(addrs: PseudoAddrs): boolean {
    return csumFold(csumPartial(this.buf, this.offset, this.len, csumPseudo(addrs, this.len, IPPROTO.TCP))) === 0;
  }

  /** The full checksum, as tcp_v4_send_check would leave it with CHECKSUM_NONE. */
  fillChecksum(addrs: PseudoAddrs): void {
    this.checksum = 0;
    this.checksum = csumFold(csumPartial(this.buf, this.offset, this.len, csumPseudo(addrs, this.len, IPPROTO.TCP)));
  }

  /** __tcp_v4_send_check with CHECKSUM_PARTIAL: `th->check = ~tcp_v4_check(len, saddr, daddr, 0)`. */
  fillChecksumPartial(addrs: PseudoAddrs): void {
    this.checksum = csumPseudoPartial(addrs, this.len, IPPROTO.TCP);
  }

  /** Whether the field holds exactly the CHECKSUM_PARTIAL value, as segments captured on lo do. */
  isChecksumPartial(addrs: PseudoAddrs): boolean {
    return this.checksum === csumPseudoPartial(addrs, this.len, IPPROTO.TCP);
  }
}

/** A SACK block: [start, end) in sequence space. */
export interface TcpSackBlock {
  start: number;
  end: number;
}

/**
 * One option, in wire order so that emit gives back the same bytes. `unknown` is a kind
 * Linux ignores, or a known kind with the wrong length (tcp_parse_options skips those);
 * `unparsed` holds the bytes after EOL or after a malformed length, where Linux stops.
 */
export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; mss: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: TcpSackBlock[] }
  | { kind: 'timestamp'; tsval: number; tsecr: number }
  | { kind: 'fastopen'; cookie: Uint8Array; exp: boolean }
  | { kind: 'unknown'; type: number; data: Uint8Array }
  | { kind: 'unparsed'; data: Uint8Array };

function be16(b: Uint8Array, k: number): number {
  return (b[k]! << 8) | b[k + 1]!;
}

function be32(b: Uint8Array, k: number): number {
  return ((b[k]! << 24) | (b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!) >>> 0;
}

/** Parses option bytes the way tcp_parse_options() reads them; never fails. */
export function parseTcpOptions(bytes: Uint8Array): TcpOption[] {
  const out: TcpOption[] = [];
  const n = bytes.byteLength;
  let i = 0;
  while (i < n) {
    const kind = bytes[i]!;
    if (kind === TCPOPT.EOL) {
      out.push({ kind: 'eol' });
      i++;
      break;
    }
    if (kind === TCPOPT.NOP) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    // "silly options" and partial options end the parse.
    if (i + 2 > n) break;
    const size = bytes[i + 1]!;
    if (size < 2 || i + size > n) break;
    const at = i + 2;
    if (kind === TCPOPT.MSS && size === TCPOLEN.MSS) out.push({ kind: 'mss', mss: be16(bytes, at) });
    else if (kind === TCPOPT.WINDOW && size === TCPOLEN.WINDOW) out.push({ kind: 'wscale', shift: bytes[at]! });
    else if (kind === TCPOPT.SACK_PERM && size === TCPOLEN.SACK_PERM) out.push({ kind: 'sack-permitted' });
    else if (kind === TCPOPT.TIMESTAMP && size === TCPOLEN.TIMESTAMP) {
      out.push({ kind: 'timestamp', tsval: be32(bytes, at), tsecr: be32(bytes, at + 4) });
    } else if (
      kind === TCPOPT.SACK &&
      size >= TCPOLEN.SACK_BASE + TCPOLEN.SACK_PERBLOCK &&
      (size - TCPOLEN.SACK_BASE) % TCPOLEN.SACK_PERBLOCK === 0
    ) {
      const blocks: TcpSackBlock[] = [];
      for (let b = at; b < i + size; b += 8) blocks.push({ start: be32(bytes, b), end: be32(bytes, b + 4) });
      out.push({ kind: 'sack', blocks });
    } else if (kind === TCPOPT.FASTOPEN)
      out.push({ kind: 'fastopen', cookie: bytes.subarray(at, i + size), exp: false });
    else if (kind === TCPOPT.EXP && size >= TCPOLEN.EXP_FASTOPEN_BASE && be16(bytes, at) === TCPOPT_FASTOPEN_MAGIC)
      out.push({ kind: 'fastopen', cookie: bytes.subarray(at + 2, i + size), exp: true });
    else out.push({ kind: 'unknown', type: kind, data: bytes.subarray(at, i + size) });
    i += size;
  }
  if (i < n) out.push({ kind: 'unparsed', data: bytes.subarray(i) });
  return out;
}

/** Bytes `options` take on the wire, before padding to 4. */
export function tcpOptionsLen(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
      case 'nop':
        n += 1;
        break;
      case 'mss':
        n += TCPOLEN.MSS;
        break;
      case 'wscale':
        n += TCPOLEN.WINDOW;
        break;
      case 'sack-permitted':
        n += TCPOLEN.SACK_PERM;
        break;
      case 'sack':
        n += TCPOLEN.SACK_BASE + TCPOLEN.SACK_PERBLOCK * o.blocks.length;
        break;
      case 'timestamp':
        n += TCPOLEN.TIMESTAMP;
        break;
      case 'fastopen':
        n += (o.exp ? TCPOLEN.EXP_FASTOPEN_BASE : TCPOLEN.FASTOPEN_BASE) + o.cookie.byteLength;
        break;
      case 'unknown':
        n += 2 + o.data.byteLength;
        break;
      case 'unparsed':
        n += o.data.byteLength;
        break;
    }
  }
  return n;
}

/** An option's kind and length bytes at buf[i]; returns where its value goes. */
function kindLen(buf: Uint8Array, i: number, kind: number, len: number): number {
  buf[i] = kind;
  buf[i + 1] = len;
  return i + 2;
}

/** Writes `options` at buf[offset] and zero (EOL) padding to a multiple of 4; returns the padded length. */
export function emitTcpOptions(options: readonly TcpOption[], buf: Uint8Array, offset: number): number {
  // Byte stores past the end would be dropped silently: refuse, as a DataView would.
  if (offset + ((tcpOptionsLen(options) + 3) & ~3) > buf.length) throw new RangeError('TCP options past the buffer');
  let i = offset;
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        buf[i++] = TCPOPT.EOL;
        break;
      case 'nop':
        buf[i++] = TCPOPT.NOP;
        break;
      case 'mss':
        i = kindLen(buf, i, TCPOPT.MSS, TCPOLEN.MSS);
        buf[i++] = o.mss >>> 8;
        buf[i++] = o.mss;
        break;
      case 'wscale':
        i = kindLen(buf, i, TCPOPT.WINDOW, TCPOLEN.WINDOW);
        buf[i++] = o.shift;
        break;
      case 'sack-permitted':
        i = kindLen(buf, i, TCPOPT.SACK_PERM, TCPOLEN.SACK_PERM);
        break;
      case 'sack':
        i = kindLen(buf, i, TCPOPT.SACK, TCPOLEN.SACK_BASE + TCPOLEN.SACK_PERBLOCK * o.blocks.length);
        for (const b of o.blocks) {
          put32(buf, i, b.start);
          put32(buf, i + 4, b.end);
          i += 8;
        }
        break;
      case 'timestamp':
        i = kindLen(buf, i, TCPOPT.TIMESTAMP, TCPOLEN.TIMESTAMP);
        put32(buf, i, o.tsval);
        put32(buf, i + 4, o.tsecr);
        i += 8;
        break;
      case 'fastopen':
        if (o.exp) {
          i = kindLen(buf, i, TCPOPT.EXP, TCPOLEN.EXP_FASTOPEN_BASE + o.cookie.byteLength);
          buf[i++] = TCPOPT_FASTOPEN_MAGIC >>> 8;
          buf[i++] = TCPOPT_FASTOPEN_MAGIC & 0xff;
        } else i = kindLen(buf, i, TCPOPT.FASTOPEN, TCPOLEN.FASTOPEN_BASE + o.cookie.byteLength);
        buf.set(o.cookie, i);
        i += o.cookie.byteLength;
        break;
      case 'unknown':
        i = kindLen(buf, i, o.type, 2 + o.data.byteLength);
        buf.set(o.data, i);
        i += o.data.byteLength;
        break;
      case 'unparsed':
        buf.set(o.data, i);
        i += o.data.byteLength;
        break;
    }
  }
  while ((i - offset) % 4 !== 0) buf[i++] = TCPOPT.EOL;
  return i - offset;
}

/**
 * What struct tcp_options_received would take from a segment's options: the last of each
 * kind wins, as in tcp_parse_options(). Absent values are undefined. Which ones count (MSS,
 * wscale and SACK-permitted only on a SYN; wscale clamped to 14) is the TCP layer's call.
 */
export interface TcpOptionsReceived {
  mss: number | undefined;
  wscale: number | undefined;
  sackOk: boolean;
  tsval: number | undefined;
  tsecr: number | undefined;
  sack: TcpSackBlock[] | undefined;
  /** A well-formed Fast Open option (kind 34, or 254 with the magic): an even length, 0 or 4..16 bytes. */
  fastopen: TcpFastopenCookie | undefined;
  /** Where a TCP MD5 signature option's 16-byte digest starts in the parsed buffer, or -1. */
  md5: number;
}

/** tcp_parse_fastopen_option(): odd or out-of-range lengths count as no option. */
function fastopenCookie(cookie: Uint8Array, exp: boolean): TcpFastopenCookie | undefined {
  const len = cookie.byteLength;
  if (len & 1 || (len !== 0 && (len < 4 || len > 16))) return undefined;
  return { len, val: cookie.slice(), exp };
}

export function tcpOptionsReceived(options: readonly TcpOption[]): TcpOptionsReceived {
  const r: TcpOptionsReceived = {
    mss: undefined,
    wscale: undefined,
    sackOk: false,
    tsval: undefined,
    tsecr: undefined,
    sack: undefined,
    fastopen: undefined,
    md5: -1,
  };
  for (const o of options) {
    if (o.kind === 'mss') r.mss = o.mss;
    else if (o.kind === 'wscale') r.wscale = o.shift;
    else if (o.kind === 'sack-permitted') r.sackOk = true;
    else if (o.kind === 'timestamp') {
      r.tsval = o.tsval;
      r.tsecr = o.tsecr;
    } else if (o.kind === 'sack') r.sack = o.blocks;
    else if (o.kind === 'fastopen') r.fastopen = fastopenCookie(o.cookie, o.exp);
  }
  return r;
}

/** The meaning of a TCP header. `payload` is a view into the parsed bytes. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ackSeq: number;
  /** TCPHDR_* bits. */
  flags: number;
  window: number;
  urgPtr: number;
  options: TcpOption[];
  payload: Uint8Array;
}

export interface TcpParseOptions {
  /** Verify the full checksum against this pseudo-header (default: not checked, as lo's CHECKSUM_UNNECESSARY). */
  verify?: PseudoAddrs;
}

/**
 * Parses the `len`-byte segment at buf[offset] (len: the IP payload length; default: the
 * rest of buf). An error value, never a throw.
 */
export function parseTcp(
  buf: Uint8Array,
  offset = 0,
  len = buf.byteLength - offset,
  opts: TcpParseOptions = {},
): TcpRepr | TcpError {
  // An offset past the end (a negative len) is truncated too, not a RangeError.
  if (len < 0 || offset + len > buf.byteLength) return 'truncated';
  const h = new TcpHeader(buf, offset, len);
  const err = h.checkLen();
  if (err !== undefined) return err;
  if (opts.verify !== undefined && !h.verifyChecksum(opts.verify)) return 'bad-checksum';
  return {
    srcPort: h.srcPort,
    dstPort: h.dstPort,
    seq: h.seq,
    ackSeq: h.ackSeq,
    flags: h.flags,
    window: h.window,
    urgPtr: h.urgPtr,
    options: parseTcpOptions(h.options),
    payload: h.payload,
  };
}

/** The header length `repr` emits: 20 plus its options padded to 4. */
export function tcpHeaderLen(repr: TcpRepr): number {
  return TCP_HEADER_LEN + ((tcpOptionsLen(repr.options) + 3) & ~3);
}

/**
 * Writes header, options and payload for `repr` at buf[offset] (the payload copied unless
 * already in place) and the checksum as asked. Returns the segment length.
 */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, offset: number, csum: L4Checksum): number {
  const hl = tcpHeaderLen(repr);
  if (hl > TCP_MAX_HEADER_LEN) throw new RangeError(`TCP options of ${hl - TCP_HEADER_LEN} bytes`);
  const len = hl + repr.payload.byteLength;
  // The view throws, as a DataView would, when buf cannot hold the segment.
  const h = new TcpHeader(buf, offset, len);
  emitTcpHeader(buf, offset, repr.srcPort, repr.dstPort, repr.seq, repr.ackSeq, repr.flags, repr.window, hl);
  h.urgPtr = repr.urgPtr;
  emitTcpOptions(repr.options, buf, offset + TCP_HEADER_LEN);
  const at = offset + hl;
  if (!(repr.payload.buffer === buf.buffer && repr.payload.byteOffset === buf.byteOffset + at))
    buf.set(repr.payload, at);
  if (csum.mode === 'full') h.fillChecksum(csum.addrs);
  else if (csum.mode === 'partial') h.fillChecksumPartial(csum.addrs);
  return len;
}

/**
 * Writes the fixed 20 bytes of a header at buf[offset]: doff for an `hl`-byte header, the
 * flags (AE in byte 12), zero checksum and urgent pointer. emitTcp starts with it; senders
 * that write their options themselves call it alone.
 */
export function emitTcpHeader(
  buf: Uint8Array,
  offset: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ackSeq: number,
  flags: number,
  window: number,
  hl: number,
): void {
  buf[offset] = srcPort >>> 8;
  buf[offset + 1] = srcPort;
  buf[offset + 2] = dstPort >>> 8;
  buf[offset + 3] = dstPort;
  put32(buf, offset + 4, seq >>> 0);
  put32(buf, offset + 8, ackSeq >>> 0);
  buf[offset + 12] = ((hl >> 2) << 4) | ((flags >> 8) & 1);
  buf[offset + 13] = flags;
  buf[offset + 14] = window >>> 8;
  buf[offset + 15] = window;
  put32(buf, offset + 16, 0);
}

/** The timestamp option as Linux aligns it after the handshake (TCPOLEN_TSTAMP_ALIGNED): NOP, NOP, TS. */
export function emitTcpTimestampAligned(buf: Uint8Array, offset: number, tsval: number, tsecr: number): void {
  buf[offset] = TCPOPT.NOP;
  buf[offset + 1] = TCPOPT.NOP;
  buf[offset + 2] = TCPOPT.TIMESTAMP;
  buf[offset + 3] = TCPOLEN.TIMESTAMP;
  put32(buf, offset + 4, tsval);
  put32(buf, offset + 8, tsecr);
}

function put32(buf: Uint8Array, k: number, v: number): void {
  buf[k] = v >>> 24;
  buf[k + 1] = v >>> 16;
  buf[k + 2] = v >>> 8;
  buf[k + 3] = v;
}

/**
 * tcp_parse_options() straight into `r`, with no option list: the same result as
 * tcpOptionsReceived(parseTcpOptions(buf.subarray(start, end))), for the receive path.
 */
export function tcpParseOptionsInto(buf: Uint8Array, start: number, end: number, r: TcpOptionsReceived): void {
  r.mss = undefined;
  r.wscale = undefined;
  r.sackOk = false;
  r.tsval = undefined;
  r.tsecr = undefined;
  r.sack = undefined;
  r.fastopen = undefined;
  r.md5 = -1;
  let i = start;
  while (i < end) {
    const kind = buf[i] as number;
    if (kind === TCPOPT.EOL) break;
    if (kind === TCPOPT.NOP) {
      i++;
      continue;
    }
    if (i + 2 > end) break;
    const size = buf[i + 1] as number;
    if (size < 2 || i + size > end) break;
    const at = i + 2;
    if (kind === TCPOPT.TIMESTAMP && size === TCPOLEN.TIMESTAMP) {
      r.tsval = be32(buf, at);
      r.tsecr = be32(buf, at + 4);
    } else if (kind === TCPOPT.MSS && size === TCPOLEN.MSS) r.mss = be16(buf, at);
    else if (kind === TCPOPT.WINDOW && size === TCPOLEN.WINDOW) r.wscale = buf[at] as number;
    else if (kind === TCPOPT.SACK_PERM && size === TCPOLEN.SACK_PERM) r.sackOk = true;
    else if (
      kind === TCPOPT.SACK &&
      size >= TCPOLEN.SACK_BASE + TCPOLEN.SACK_PERBLOCK &&
      (size - TCPOLEN.SACK_BASE) % TCPOLEN.SACK_PERBLOCK === 0
    ) {
      const blocks: TcpSackBlock[] = [];
      for (let b = at; b < i + size; b += 8) blocks.push({ start: be32(buf, b), end: be32(buf, b + 4) });
      r.sack = blocks;
    } else if (kind === TCPOPT.FASTOPEN) r.fastopen = fastopenCookie(buf.subarray(at, i + size), false);
    else if (kind === TCPOPT.EXP && size >= TCPOLEN.EXP_FASTOPEN_BASE && be16(buf, at) === TCPOPT_FASTOPEN_MAGIC)
      r.fastopen = fastopenCookie(buf.subarray(at + 2, i + size), true);
    else if (kind === TCPOPT.MD5SIG && size === TCPOLEN.MD5SIG) r.md5 = at;
    i += size;
  }
}
