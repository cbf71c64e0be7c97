/**
 * pcapng (draft-ietf-opsawg-pcapng): a section header, one interface description block
 * per device, then an enhanced packet block per packet. The writer makes chunks (no
 * I/O, so Node streams and browser Blobs take them alike); the reader gives the same
 * records the pcap reader does, with the interface each came from.
 */
import { PcapError } from './pcap.js';

const BT = { SHB: 0x0a0d0d0a, IDB: 0x00000001, SPB: 0x00000003, EPB: 0x00000006 } as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT = { ENDOFOPT: 0, COMMENT: 1, SHB_USERAPPL: 4, IF_NAME: 2, IF_TSRESOL: 9, EPB_FLAGS: 2 } as const;

/** PACKET_* → the epb_flags direction bits (1 inbound, 2 outbound). */
function direction(pktType: number): number {
  return pktType === 4 ? 2 : 1;
}

const enc = new TextEncoder();

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Encodes options: each code, length, value padded to 4, then opt_endofopt. */
function options(opts: [number, Uint8Array][]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  let len = 4;
  for (const [, v] of opts) len += 4 + pad4(v.byteLength);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [code, v] of opts) {
    dv.setUint16(at, code, true);
    dv.setUint16(at + 2, v.byteLength, true);
    out.set(v, at + 4);
    at += 4 + pad4(v.byteLength);
  }
  return out;
}

/** A block: type, total length, body, total length again. */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.byteLength;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, total, true);
  out.set(body, 8);
  dv.setUint32(total - 4, total, true);
  return out;
}

export interface PcapngInterface {
  name: string;
  linktype: number;
  snaplen: number;
  comment?: string;
}

export interface PcapngPacket {
  tsNs: number;
  origLen: number;
  data: Uint8Array;
  pktType?: number;
}

/**
 * Writes little-endian pcapng with nanosecond timestamps (if_tsresol 9). Interfaces are
 * described the first time a packet uses them; interfaceFor() says which block to emit.
 */
export class PcapngWriter {
  readonly #ids = new Map<number, number>();
  readonly #snaplens: number[] = [];

  constructor(readonly application = 'lonet') {}

  sectionHeader(): Uint8Array {
    const opts = options([[OPT.SHB_USERAPPL, enc.encode(this.application)]]);
    const body = new Uint8Array(16 + opts.byteLength);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, BYTE_ORDER_MAGIC, true);
    dv.setUint16(4, 1, true);
    dv.setUint16(6, 0, true);
    // Section length unknown: -1, as a streaming writer must say.
    dv.setInt32(8, -1, true);
    dv.setInt32(12, -1, true);
    body.set(opts, 16);
    return block(BT.SHB, body);
  }

  /** The interface id for a key (an ifindex), and its description block if new. */
  interfaceFor(key: number, iface: PcapngInterface): { id: number; block: Uint8Array | null } {
    const have = this.#ids.get(key);
    if (have !== undefined) return { id: have, block: null };
    const id = this.#snaplens.length;
    this.#ids.set(key, id);
    this.#snaplens.push(iface.snaplen);
    const o: [number, Uint8Array][] = [[OPT.IF_NAME, enc.encode(iface.name)]];
    if (iface.comment !== undefined) o.push([OPT.COMMENT, enc.encode(iface.comment)]);
    o.push([OPT.IF_TSRESOL, Uint8Array.of(9)]);
    const opts = options(o);
    const body = new Uint8Array(8 + opts.byteLength);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, iface.linktype, true);
    dv.setUint32(4, iface.snaplen, true);
    body.set(opts, 8);
    return { id, block: block(BT.IDB, body) };
  }

  /** An enhanced packet block, cut to the interface's snaplen, with its direction flag. */
  packet(interfaceId: number, p: PcapngPacket): Uint8Array {
    const snap = this.#snaplens[interfaceId] ?? p.data.byteLength;
    const caplen = Math.min(p.data.byteLength, snap);
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, direction(p.pktType ?? 0), true);
    const opts = options(p.pktType === undefined ? [] : [[OPT.EPB_FLAGS, flags]]);
    const body = new Uint8Array(20 + pad4(caplen) + opts.byteLength);
    const dv = new DataView(body.buffer);
    const ts = BigInt(Math.round(p.tsNs));
    dv.setUint32(0, interfaceId, true);
    dv.setUint32(4, Number(ts >> 32n), true);
    dv.setUint32(8, Number(ts & 0xffffffffn), true);
    dv.setUint32(12, caplen, true);
    dv.setUint32(16, p.origLen, true);
    body.set(p.data.subarray(0, caplen), 20);
    body.set(opts, 20 + pad4(caplen));
    return block(BT.EPB, body);
  }
}

export interface PcapngReadInterface {
  linktype: number;
  snaplen: number;
  name: string | undefined;
  comment: string | undefined;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  unitsPerSec: bigint;
}

export interface PcapngRecord {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
  data: Uint8Array;
}

/** Whether these bytes start a pcapng section. */
export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === BT.SHB;
}

/** Reads a pcapng file's interfaces and packets (EPB and SPB), in either byte order. */
export function readPcapng(
  bytes: Uint8Array,
): { interfaces: PcapngReadInterface[]; records: PcapngRecord[] } | PcapError {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const interfaces: PcapngReadInterface[] = [];
  const records: PcapngRecord[] = [];
  const dec = new TextDecoder();
  let le = true;
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < 12) return new PcapError(`pcapng: truncated block at offset ${at}`, at);
    let type = dv.getUint32(at, le);
    if (dv.getUint32(at, true) === BT.SHB) {
      type = BT.SHB;
      const magic = dv.getUint32(at + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else return new PcapError(`pcapng: bad byte-order magic at offset ${at}`, at);
      interfaces.length = 0;
    }
    const total = dv.getUint32(at + 4, le);
    if (total < 12 || total % 4 !== 0 || at + total > bytes.byteLength) {
      return new PcapError(`pcapng: block at offset ${at} has a bad length ${total}`, at);
    }
    // Each block type's fixed fields must fit (libpcap: "block of type … has a length … < minimum").
    const min = type === BT.SHB ? 28 : type === BT.IDB ? 20 : type === BT.EPB ? 32 : type === BT.SPB ? 16 : 12;
    if (total < min)
      return new PcapError(`pcapng: block at offset ${at} is ${total} bytes, shorter than its type allows`, at);
    const body = at + 8;
    const end = at + total - 4;
    const opts = (from: number) => {
      const out = new Map<number, Uint8Array>();
      let o = from;
      while (o + 4 <= end) {
        const code = dv.getUint16(o, le);
        const len = dv.getUint16(o + 2, le);
        if (code === OPT.ENDOFOPT) break;
        if (o + 4 + len > end) break;
        out.set(code, bytes.subarray(o + 4, o + 4 + len));
        o += 4 + pad4(len);
      }
      return out;
    };
    if (type === BT.IDB) {
      const o = opts(body + 8);
      const res = o.get(OPT.IF_TSRESOL)?.[0] ?? 6;
      const unitsPerSec = res & 0x80 ? 2n ** BigInt(res & 0x7f) : 10n ** BigInt(res);
      const name = o.get(OPT.IF_NAME);
      const comment = o.get(OPT.COMMENT);
      interfaces.push({
        linktype: dv.getUint16(body, le),
        snaplen: dv.getUint32(body + 4, le),
        name: name === undefined ? undefined : dec.decode(name),
        comment: comment === undefined ? undefined : dec.decode(comment),
        unitsPerSec,
      });
    } else if (type === BT.EPB) {
      const id = dv.getUint32(body, le);
      const iface = interfaces[id];
      if (iface === undefined) return new PcapError(`pcapng: packet at offset ${at} names interface ${id}`, at);
      const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const caplen = dv.getUint32(body + 12, le);
      if (body + 20 + caplen > end) return new PcapError(`pcapng: packet at offset ${at} overruns its block`, at);
      const sec = ts / iface.unitsPerSec;
      const frac = ts % iface.unitsPerSec;
      records.push({
        interfaceId: id,
        tsSec: Number(sec),
        tsNsec: Number((frac * 1_000_000_000n) / iface.unitsPerSec),
        origLen: dv.getUint32(body + 16, le),
        data: bytes.subarray(body + 20, body + 20 + caplen),
      });
    } else if (type === BT.SPB) {
      const iface = interfaces[0];
      if (iface === undefined) return new PcapError(`pcapng: simple packet at offset ${at} before any interface`, at);
      const origLen = dv.getUint32(body, le);
      const caplen = Math.min(origLen, iface.snaplen || origLen, end - body - 4);
      records.push({ interfaceId: 0, tsSec: 0, tsNsec: 0, origLen, data: bytes.subarray(body + 4, body + 4 + caplen) });
    }
    at += total;
  }
  return { interfaces, records };
}
