/**
 * The DNS message (RFC 1035 §4, AAAA from RFC 3596, SRV from RFC 2782): parse and emit,
 * with name compression followed on parse (and never emitted). What the namespace's
 * resolver sends to its nameserver over UDP, and what a server written with dgram answers.
 */

/** RR TYPE values. */
export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  ANY: 255,
} as const;

export const DNS_CLASS_IN = 1;

/** RCODE values. */
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Header flag bits (the 16-bit word after the ID). */
export const DNS_FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080 } as const;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/** A resource record; `data` is decoded for the types above, else the raw RDATA. */
export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: DnsRData;
}

export type DnsRData =
  | string // A, AAAA (the address), NS, CNAME, PTR (the name)
  | { priority: number; weight: number; port: number; name: string } // SRV
  | { priority: number; exchange: string } // MX
  | string[] // TXT
  | Uint8Array; // anything else

export interface DnsMessage {
  id: number;
  flags: number;
  /** The low four bits of the flags word. */
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export class DnsFormatError extends Error {}

function formatAaaa(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] as number) << 8) | (b[i + 1] as number));
  // RFC 5952: the longest run of two or more zero words becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function parseAaaa(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let head = s;
  let tail = '';
  const dc = s.indexOf('::');
  if (dc >= 0) {
    head = s.slice(0, dc);
    tail = s.slice(dc + 2);
  }
  const hw = head === '' ? [] : head.split(':');
  const tw = tail === '' ? [] : tail.split(':');
  if (dc < 0 && hw.length !== 8) throw new DnsFormatError(`bad IPv6 address ${s}`);
  const words = [...hw, ...new Array<string>(8 - hw.length - tw.length).fill('0'), ...tw];
  words.forEach((w, i) => {
    const v = Number.parseInt(w, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw new DnsFormatError(`bad IPv6 address ${s}`);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

class Reader {
  at = 0;
  constructor(readonly b: Uint8Array) {}
  u8(): number {
    if (this.at + 1 > this.b.length) throw new DnsFormatError('truncated message');
    return this.b[this.at++] as number;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return ((this.u16() << 16) >>> 0) + this.u16();
  }
  /** A domain name at `at`, following compression pointers (backwards only, so no loops). */
  name(): string {
    const labels: string[] = [];
    let at = this.at;
    let jumped = false;
    let limit = at;
    for (;;) {
      if (at >= this.b.length) throw new DnsFormatError('truncated name');
      const len = this.b[at] as number;
      if ((len & 0xc0) === 0xc0) {
        if (at + 1 >= this.b.length) throw new DnsFormatError('truncated pointer');
        const ptr = ((len & 0x3f) << 8) | (this.b[at + 1] as number);
        if (!jumped) this.at = at + 2;
        if (ptr >= limit) throw new DnsFormatError('forward compression pointer');
        jumped = true;
        limit = ptr;
        at = ptr;
        continue;
      }
      if (len & 0xc0) throw new DnsFormatError('bad label type');
      if (len === 0) {
        if (!jumped) this.at = at + 1;
        break;
      }
      if (at + 1 + len > this.b.length) throw new DnsFormatError('truncated label');
      labels.push(String.fromCharCode(...this.b.subarray(at + 1, at + 1 + len)));
      at += 1 + len;
    }
    return labels.join('.');
  }
  bytes(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new DnsFormatError('truncated rdata');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

function readRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const rdlen = r.u16();
  const end = r.at + rdlen;
  if (end > r.b.length) throw new DnsFormatError('truncated rdata');
  let data: DnsRData;
  switch (type) {
    case DNS_TYPE.A:
      if (rdlen !== 4) throw new DnsFormatError('bad A record');
      data = Array.from(r.bytes(4)).join('.');
      break;
    case DNS_TYPE.AAAA:
      if (rdlen !== 16) throw new DnsFormatError('bad AAAA record');
      data = formatAaaa(r.bytes(16));
      break;
    case DNS_TYPE.NS:
    case DNS_TYPE.CNAME:
    case DNS_TYPE.PTR:
      data = r.name();
      break;
    case DNS_TYPE.MX:
      data = { priority: r.u16(), exchange: r.name() };
      break;
    case DNS_TYPE.SRV:
      data = { priority: r.u16(), weight: r.u16(), port: r.u16(), name: r.name() };
      break;
    case DNS_TYPE.TXT: {
      const parts: string[] = [];
      while (r.at < end) parts.push(new TextDecoder().decode(r.bytes(r.u8())));
      data = parts;
      break;
    }
    default:
      data = r.bytes(rdlen).slice();
  }
  if (r.at !== end) throw new DnsFormatError('rdata length mismatch');
  return { name, type, class: cls, ttl, data };
}

export function parseDnsMessage(bytes: Uint8Array): DnsMessage {
  const r = new Reader(bytes);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  const ar = r.u16();
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const section = (n: number) => Array.from({ length: n }, () => readRecord(r));
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  return { id, flags, rcode: flags & 0xf, questions, answers, authorities, additionals };
}

class Writer {
  parts: number[] = [];
  u8(v: number): void {
    this.parts.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v >> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  name(n: string): void {
    for (const label of n.split('.').filter((l) => l !== '')) {
      const b = new TextEncoder().encode(label);
      if (b.length > 63) throw new DnsFormatError(`label too long in ${n}`);
      this.u8(b.length);
      for (const c of b) this.u8(c);
    }
    this.u8(0);
  }
}

function writeRdata(w: Writer, rec: DnsRecord): void {
  const sub = new Writer();
  const d = rec.data;
  if (d instanceof Uint8Array) for (const c of d) sub.u8(c);
  else if (rec.type === DNS_TYPE.A) for (const p of (d as string).split('.')) sub.u8(Number(p));
  else if (rec.type === DNS_TYPE.AAAA) for (const c of parseAaaa(d as string)) sub.u8(c);
  else if (typeof d === 'string') sub.name(d);
  else if (Array.isArray(d))
    for (const s of d) {
      const b = new TextEncoder().encode(s);
      sub.u8(b.length);
      for (const c of b) sub.u8(c);
    }
  else if ('exchange' in d) {
    sub.u16(d.priority);
    sub.name(d.exchange);
  } else {
    sub.u16(d.priority);
    sub.u16(d.weight);
    sub.u16(d.port);
    sub.name(d.name);
  }
  w.u16(sub.parts.length);
  w.parts.push(...sub.parts);
}

export function emitDnsMessage(m: Partial<DnsMessage> & { id: number }): Uint8Array {
  const w = new Writer();
  const q = m.questions ?? [];
  const an = m.answers ?? [];
  const ns = m.authorities ?? [];
  const ar = m.additionals ?? [];
  w.u16(m.id);
  w.u16(((m.flags ?? 0) & ~0xf) | (m.rcode ?? (m.flags ?? 0) & 0xf));
  w.u16(q.length);
  w.u16(an.length);
  w.u16(ns.length);
  w.u16(ar.length);
  for (const x of q) {
    w.name(x.name);
    w.u16(x.type);
    w.u16(x.class);
  }
  for (const rec of [...an, ...ns, ...ar]) {
    w.name(rec.name);
    w.u16(rec.type);
    w.u16(rec.class);
    w.u32(rec.ttl);
    writeRdata(w, rec);
  }
  return Uint8Array.from(w.parts);
}

/** A standard recursive query for one name and type, as a stub resolver sends it. */
export function dnsQuery(id: number, name: string, type: number): Uint8Array {
  return emitDnsMessage({ id, flags: DNS_FLAG.RD, questions: [{ name, type, class: DNS_CLASS_IN }] });
}
