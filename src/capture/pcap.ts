/**
 * The classic pcap file format (libpcap 2.4, draft-ietf-opsawg-pcap): a 24-byte global
 * header, then per packet a 16-byte record header and the captured bytes. Bytes in, bytes
 * out, no I/O: a Node stream or a browser Blob takes the writer's chunks alike.
 */

/** Microsecond timestamps; read as 0xd4c3b2a1 when the file's byte order is the other one. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** Nanosecond timestamps. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** The pcapng section header block type, which this reader recognises only to say so. */
const PCAPNG_MAGIC = 0x0a0d0d0a;

export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** LINKTYPE_* values (tcpdump.org/linktypes.html); Linux lo captures are ETHERNET. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const;

/** tcpdump's default snaplen (MAXIMUM_SNAPLEN), as in the sample capture. */
export const MAXIMUM_SNAPLEN = 262144;

export interface PcapFileHeader {
  /** Timestamps in nanoseconds (magic 0xa1b23c4d) rather than microseconds. */
  nanosecond: boolean;
  /** The file's byte order. */
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  /** GMT offset in seconds; always 0 in practice. */
  thiszone: number;
  sigfigs: number;
  snaplen: number;
  linktype: number;
}

export interface PcapRecord {
  tsSec: number;
  /** The fraction of the second in nanoseconds, whichever resolution the file has. */
  tsNsec: number;
  /** The packet's length on the wire; `data.byteLength` is the captured length. */
  origLen: number;
  /** The captured bytes (a view into the file's bytes when read). */
  data: Uint8Array;
}

/** A file or record the reader refuses, with where in the bytes it went wrong. */
export class PcapError extends Error {
  override readonly name = 'PcapError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Records are bounded by this, or the snaplen if larger (libpcap's max_snaplen_for_dlt sanity check). */
const MAX_CAPLEN = MAXIMUM_SNAPLEN;

/**
 * Reads records one by one from the file's bytes, without copying them. Iterating stops at
 * the first bad record; `error` then says why (check it after the loop, like Go's
 * bufio.Scanner). `next()` gives the error value directly instead.
 */
export class PcapReader implements Iterable<PcapRecord> {
  /** Why reading stopped before the end of the bytes, once it has. */
  error: PcapError | undefined;
  private pos = PCAP_GLOBAL_HEADER_LEN;
  private readonly view: DataView;

  private constructor(
    readonly bytes: Uint8Array,
    readonly header: PcapFileHeader,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Checks the global header; an error value for anything that is not pcap 2.x. */
  static open(bytes: Uint8Array): PcapReader | PcapError {
    if (bytes.byteLength < PCAP_GLOBAL_HEADER_LEN) {
      return new PcapError(`pcap: file of ${bytes.byteLength} bytes is shorter than the 24-byte header`, 0);
    }
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magicLe = v.getUint32(0, true);
    let littleEndian: boolean;
    let nanosecond: boolean;
    if (magicLe === PCAP_MAGIC || magicLe === PCAP_MAGIC_NSEC) {
      littleEndian = true;
      nanosecond = magicLe === PCAP_MAGIC_NSEC;
    } else {
      const magicBe = v.getUint32(0, false);
      if (magicBe !== PCAP_MAGIC && magicBe !== PCAP_MAGIC_NSEC) {
        const what = magicBe === PCAPNG_MAGIC ? 'a pcapng file, not pcap' : 'not a pcap file';
        return new PcapError(`pcap: ${what} (magic 0x${magicBe.toString(16).padStart(8, '0')})`, 0);
      }
      littleEndian = false;
      nanosecond = magicBe === PCAP_MAGIC_NSEC;
    }
    const header: PcapFileHeader = {
      nanosecond,
      littleEndian,
      versionMajor: v.getUint16(4, littleEndian),
      versionMinor: v.getUint16(6, littleEndian),
      thiszone: v.getInt32(8, littleEndian),
      sigfigs: v.getUint32(12, littleEndian),
      snaplen: v.getUint32(16, littleEndian),
      linktype: v.getUint32(20, littleEndian),
    };
    if (header.versionMajor !== 2) {
      return new PcapError(`pcap: unsupported version ${header.versionMajor}.${header.versionMinor}`, 4);
    }
    return new PcapReader(bytes, header);
  }

  /** The next record, undefined at a clean end, or the error that stops reading. */
  next(): PcapRecord | PcapError | undefined {
    if (this.error !== undefined) return this.error;
    const at = this.pos;
    const left = this.bytes.byteLength - at;
    if (left === 0) return undefined;
    const le = this.header.littleEndian;
    if (left < PCAP_RECORD_HEADER_LEN) {
      return this.fail(`pcap: truncated record header at offset ${at} (${left} of 16 bytes)`, at);
    }
    const tsSec = this.view.getUint32(at, le);
    const tsFrac = this.view.getUint32(at + 4, le);
    const caplen = this.view.getUint32(at + 8, le);
    const origLen = this.view.getUint32(at + 12, le);
    const max = Math.max(this.header.snaplen, MAX_CAPLEN);
    if (caplen > max) return this.fail(`pcap: record at offset ${at} has caplen ${caplen}, more than ${max}`, at);
    if (tsFrac >= (this.header.nanosecond ? 1e9 : 1e6)) {
      return this.fail(`pcap: record at offset ${at} has a fraction of a second of ${tsFrac}`, at);
    }
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (caplen > this.bytes.byteLength - start) {
      const have = this.bytes.byteLength - start;
      return this.fail(`pcap: truncated record at offset ${at}: caplen ${caplen}, ${have} bytes left`, at);
    }
    this.pos = start + caplen;
    return {
      tsSec,
      tsNsec: this.header.nanosecond ? tsFrac : tsFrac * 1000,
      origLen,
      data: this.bytes.subarray(start, start + caplen),
    };
  }

  *[Symbol.iterator](): Iterator<PcapRecord> {
    for (;;) {
      const r = this.next();
      if (r === undefined || r instanceof PcapError) return;
      yield r;
    }
  }

  private fail(message: string, offset: number): PcapError {
    this.error = new PcapError(message, offset);
    return this.error;
  }
}

/** Opens a pcap file's bytes: a reader, or why it is not one. */
export function openPcap(bytes: Uint8Array): PcapReader | PcapError {
  return PcapReader.open(bytes);
}

/** Reads a whole file: header and every record, or the first error. */
export function readPcap(bytes: Uint8Array): { header: PcapFileHeader; records: PcapRecord[] } | PcapError {
  const reader = PcapReader.open(bytes);
  if (reader instanceof PcapError) return reader;
  const records: PcapRecord[] = [];
  for (;;) {
    const r = reader.next();
    if (r === undefined) return { header: reader.header, records };
    if (r instanceof PcapError) return r;
    records.push(r);
  }
}

/**
 * Writes pcap incrementally: `fileHeader()` once, then `record()` per packet, each a new
 * chunk. Packets longer than the snaplen are cut to it, their origLen kept. Defaults are
 * what tcpdump on Linux x86 writes: little-endian, microseconds, snaplen 262144, Ethernet.
 */
export class PcapWriter {
  readonly header: PcapFileHeader;

  constructor(header: Partial<PcapFileHeader> = {}) {
    this.header = {
      nanosecond: header.nanosecond ?? false,
      littleEndian: header.littleEndian ?? true,
      versionMajor: header.versionMajor ?? 2,
      versionMinor: header.versionMinor ?? 4,
      thiszone: header.thiszone ?? 0,
      sigfigs: header.sigfigs ?? 0,
      snaplen: header.snaplen ?? MAXIMUM_SNAPLEN,
      linktype: header.linktype ?? LINKTYPE.ETHERNET,
    };
  }

  /** The 24-byte global header. */
  fileHeader(): Uint8Array {
    const h = this.header;
    const le = h.littleEndian;
    const out = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
    const v = new DataView(out.buffer);
    v.setUint32(0, h.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC, le);
    v.setUint16(4, h.versionMajor, le);
    v.setUint16(6, h.versionMinor, le);
    v.setInt32(8, h.thiszone, le);
    v.setUint32(12, h.sigfigs, le);
    v.setUint32(16, h.snaplen, le);
    v.setUint32(20, h.linktype, le);
    return out;
  }

  /** One record: its 16-byte header and the captured bytes, as one chunk. */
  record(rec: PcapRecord): Uint8Array {
    const le = this.header.littleEndian;
    const caplen = Math.min(rec.data.byteLength, this.header.snaplen);
    const out = new Uint8Array(PCAP_RECORD_HEADER_LEN + caplen);
    const v = new DataView(out.buffer);
    v.setUint32(0, rec.tsSec >>> 0, le);
    v.setUint32(4, this.header.nanosecond ? rec.tsNsec : Math.floor(rec.tsNsec / 1000), le);
    v.setUint32(8, caplen, le);
    v.setUint32(12, rec.origLen >>> 0, le);
    out.set(rec.data.subarray(0, caplen), PCAP_RECORD_HEADER_LEN);
    return out;
  }
}

/** A whole file's bytes: the global header and every record. */
export function writePcap(header: Partial<PcapFileHeader>, records: Iterable<PcapRecord>): Uint8Array {
  const w = new PcapWriter(header);
  const chunks = [w.fileHeader()];
  let len = PCAP_GLOBAL_HEADER_LEN;
  for (const r of records) {
    const c = w.record(r);
    chunks.push(c);
    len += c.byteLength;
  }
  const out = new Uint8Array(len);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
