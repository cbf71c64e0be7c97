/**
 * Script packets on the wire: building an inbound TCP/IP packet from a script line with
 * live values (run_packet.c's map_inbound_packet), reading what lonet sent into script
 * space (map_outbound_live_packet) and comparing it field by field in packetdrill's
 * order (verify_outbound_live_headers, _tcp_options, _payload), so the first field that
 * differs is the one packetdrill would name.
 */
import { csumFold, csumPartial, csumPseudo, ipFastCsum } from '../../wire/checksum.js';
import { IPPROTO } from '../../wire/ipv4.js';
import { parseTcpOptions, TCPHDR, type TcpOption } from '../../wire/tcp.js';
import type { PacketSpec, TcpOptionSpec } from './parse.js';

/** IP_ECN bits of the tos byte for `[ect0]` and friends. */
const ECN_BITS: Record<string, number> = { noecn: 0, ect1: 1, ect0: 2, ce: 3 };

/** TCP flag letters as packetdrill spells them (is_tcp_flag_set). */
const FLAG_BITS: Record<string, number> = {
  F: TCPHDR.FIN,
  S: TCPHDR.SYN,
  R: TCPHDR.RST,
  P: TCPHDR.PSH,
  '.': TCPHDR.ACK,
  U: TCPHDR.URG,
  E: TCPHDR.ECE,
  W: TCPHDR.CWR,
  A: TCPHDR.AE,
};

export function flagBits(flags: string): number {
  let f = 0;
  for (const c of flags) f |= FLAG_BITS[c] ?? 0;
  return f;
}

export function flagString(bits: number): string {
  let s = '';
  for (const c of ['F', 'S', 'R', 'P', 'E', 'W', 'A', 'U']) if (bits & (FLAG_BITS[c] as number)) s += c;
  if (bits & TCPHDR.ACK) s += '.';
  return s === '' ? '-' : s;
}

/** The addresses a packet goes between; 4 bytes (IPv4) or 16 (IPv6). */
export interface Endpoints {
  v4: boolean;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
}

/** A script option as wire bytes (tcp_options.c's encoding), TS values as given. */
export function optionBytes(o: TcpOptionSpec, tsecr?: number): number[] {
  switch (o.kind) {
    case 'nop':
      return [1];
    case 'eol':
      return [0];
    case 'mss':
      return [2, 4, ((o.mss ?? 0) >> 8) & 255, (o.mss ?? 0) & 255];
    case 'wscale':
      return [3, 3, o.wscale ?? 0];
    case 'sackOK':
      return [4, 2];
    case 'TS':
      return [8, 10, ...be32(o.tsval ?? 0), ...be32(tsecr ?? o.tsecr ?? 0)];
    case 'sack': {
      const out = [5, 2 + 8 * (o.blocks?.length ?? 0)];
      for (const [a, b] of o.blocks ?? []) out.push(...be32(a), ...be32(b));
      return out;
    }
    case 'FO': {
      const c = fastopenCookieBytes(o.cookie ?? '');
      return [34, 2 + c.length, ...c];
    }
    case 'FOEXP': {
      // The experimental option 254 with Fast Open's magic 0xF989.
      const c = fastopenCookieBytes(o.cookie ?? '');
      return [254, 4 + c.length, 0xf9, 0x89, ...c];
    }
    default:
      return [];
  }
}

/** A Fast Open cookie as scripts write it: hex digits, two per byte (`FO abcd1234`); empty is a cookie request. */
export function fastopenCookieBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16) & 255);
  return out;
}

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** The option block of a script packet, padded to 4 with NOPs? No: packetdrill requires 4-byte multiples and pads with EOL. */
export function scriptOptionLen(spec: PacketSpec): number {
  if (spec.options === null) return 0;
  let n = 0;
  for (const o of spec.options) n += optionBytes(o).length;
  return (n + 3) & ~3;
}

/** Builds the bytes of an inbound packet: IP header, TCP header with options, zero payload. */
export function buildInbound(
  spec: PacketSpec,
  ep: Endpoints,
  seq: number,
  ack: number,
  options: number[],
  ttl: number,
): Uint8Array {
  const optLen = (options.length + 3) & ~3;
  const tcpLen = 20 + optLen + spec.len;
  const ipLen = ep.v4 ? 20 : 40;
  const buf = new Uint8Array(ipLen + tcpLen);
  const tos = spec.tos ?? (spec.ecn !== null ? (ECN_BITS[spec.ecn] ?? 0) : 0);
  if (ep.v4) {
    buf[0] = 0x45;
    buf[1] = tos;
    buf[2] = (buf.length >> 8) & 255;
    buf[3] = buf.length & 255;
    buf[6] = 0x40; // DF, as packetdrill's packets carry
    buf[8] = ttl;
    buf[9] = IPPROTO.TCP;
    buf.set(ep.src, 12);
    buf.set(ep.dst, 16);
    const c = ipFastCsum(buf, 0, 5);
    buf[10] = c >> 8;
    buf[11] = c & 255;
  } else {
    const fl = spec.flowlabel ?? 0;
    const w = ((6 << 28) | (tos << 20) | (fl & 0xfffff)) >>> 0;
    buf.set(be32(w), 0);
    buf[4] = (tcpLen >> 8) & 255;
    buf[5] = tcpLen & 255;
    buf[6] = IPPROTO.TCP;
    buf[7] = ttl;
    buf.set(ep.src, 8);
    buf.set(ep.dst, 24);
  }
  const t = ipLen;
  buf[t] = ep.sport >> 8;
  buf[t + 1] = ep.sport & 255;
  buf[t + 2] = ep.dport >> 8;
  buf[t + 3] = ep.dport & 255;
  buf.set(be32(seq >>> 0), t + 4);
  buf.set(be32(ack >>> 0), t + 8);
  const bits = flagBits(spec.flags);
  buf[t + 12] = (((20 + optLen) / 4) << 4) | (bits & TCPHDR.AE ? 1 : 0);
  buf[t + 13] = bits & 0xff;
  const win = spec.win ?? 0;
  buf[t + 14] = (win >> 8) & 255;
  buf[t + 15] = win & 255;
  const urg = spec.urg ?? 0;
  buf[t + 18] = (urg >> 8) & 255;
  buf[t + 19] = urg & 255;
  buf.set(options, t + 20);
  const addrs = ep.v4 ? { src: num4(ep.src), dst: num4(ep.dst) } : { src: ep.src, dst: ep.dst };
  const sum = csumPartial(buf, t, tcpLen, csumPseudo(addrs, tcpLen, IPPROTO.TCP));
  const c = csumFold(sum);
  buf[t + 16] = c >> 8;
  buf[t + 17] = c & 255;
  return buf;
}

function num4(a: Uint8Array): number {
  return (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
}

/** A transmitted frame, decoded. */
export interface LivePacket {
  v4: boolean;
  tos: number;
  ttl: number;
  flowlabel: number;
  ihl: number;
  /** IPv4 total length, or IPv6 payload length. */
  ipLen: number;
  protocol: number;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  doff: number;
  res1: number;
  window: number;
  urg: number;
  options: TcpOption[];
  optionBytes: Uint8Array;
  payload: Uint8Array;
}

/** Decodes an IP/TCP frame; a string says why it is not one. */
export function parseLive(b: Uint8Array): LivePacket | string {
  const version = (b[0] ?? 0) >> 4;
  let v4: boolean;
  let off: number;
  let tos: number;
  let ttl: number;
  let flowlabel = 0;
  let ihl = 0;
  let ipLen: number;
  let protocol: number;
  let src: Uint8Array;
  let dst: Uint8Array;
  if (version === 4) {
    v4 = true;
    ihl = (b[0] as number) & 15;
    off = ihl * 4;
    tos = b[1] as number;
    ipLen = ((b[2] as number) << 8) | (b[3] as number);
    ttl = b[8] as number;
    protocol = b[9] as number;
    src = b.slice(12, 16);
    dst = b.slice(16, 20);
  } else if (version === 6) {
    v4 = false;
    off = 40;
    const w = (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
    tos = (w >>> 20) & 0xff;
    flowlabel = w & 0xfffff;
    ipLen = ((b[4] as number) << 8) | (b[5] as number);
    protocol = b[6] as number;
    ttl = b[7] as number;
    src = b.slice(8, 24);
    dst = b.slice(24, 40);
  } else return `not an IP packet (version ${version})`;
  if (protocol !== IPPROTO.TCP) return `IP protocol ${protocol}, not TCP`;
  const t = off;
  if (b.length < t + 20) return 'truncated TCP header';
  const r32 = (k: number) =>
    (((b[k] as number) << 24) | ((b[k + 1] as number) << 16) | ((b[k + 2] as number) << 8) | (b[k + 3] as number)) >>>
    0;
  const doff = (b[t + 12] as number) >> 4;
  const optionBytes = b.slice(t + 20, t + doff * 4);
  return {
    v4,
    tos,
    ttl,
    flowlabel,
    ihl,
    ipLen,
    protocol,
    src,
    dst,
    sport: ((b[t] as number) << 8) | (b[t + 1] as number),
    dport: ((b[t + 2] as number) << 8) | (b[t + 3] as number),
    seq: r32(t + 4),
    ack: r32(t + 8),
    flags: (b[t + 13] as number) | ((b[t + 12] as number) & 1 ? TCPHDR.AE : 0),
    res1: ((b[t + 12] as number) >> 1) & 7,
    doff,
    window: ((b[t + 14] as number) << 8) | (b[t + 15] as number),
    urg: ((b[t + 18] as number) << 8) | (b[t + 19] as number),
    options: parseTcpOptions(optionBytes),
    optionBytes,
    payload: b.slice(t + doff * 4),
  };
}

/** An option as packetdrill prints it. */
export function optionString(o: TcpOption): string {
  switch (o.kind) {
    case 'nop':
      return 'nop';
    case 'eol':
      return 'eol';
    case 'mss':
      return `mss ${o.mss}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'timestamp':
      return `TS val ${o.tsval} ecr ${o.tsecr}`;
    case 'sack':
      return `sack ${o.blocks.map((x) => `${x.start >>> 0}:${x.end >>> 0}`).join(' ')}`;
    case 'fastopen': {
      const hex = [...o.cookie].map((b) => b.toString(16).padStart(2, '0')).join('');
      const name = o.exp ? 'FOEXP' : 'FO';
      return hex === '' ? name : `${name} ${hex}`;
    }
    case 'unknown':
      return `kind ${o.type}`;
    default:
      return '?';
  }
}

/** A live packet in script space, as packetdrill's packet_to_string prints it. */
export function liveString(p: LivePacket, seq: number, ack: number, sack: (n: number) => number): string {
  const len = p.payload.length;
  let s = `${flagString(p.flags)} ${seq >>> 0}:${(seq + len) >>> 0}(${len})`;
  if (p.flags & TCPHDR.ACK) s += ` ack ${ack >>> 0}`;
  s += ` win ${p.window}`;
  if (p.options.length > 0)
    s += ` <${p.options
      .map((o) =>
        o.kind === 'sack'
          ? optionString({ kind: 'sack', blocks: o.blocks.map((x) => ({ start: sack(x.start), end: sack(x.end) })) })
          : optionString(o),
      )
      .join(',')}>`;
  return s;
}
