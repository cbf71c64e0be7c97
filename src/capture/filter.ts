/**
 * pcap-filter(7) expressions, the commonly used subset: `host`, `net`, `port`,
 * `portrange`, `src`/`dst`, the protocol names, `and`/`or`/`not`, parentheses, `len`,
 * `less`/`greater`, `proto N` and byte-offset tests (`tcp[tcpflags] & tcp-syn != 0`).
 * Compiled to a plain predicate over the captured bytes, with BPF's rules: comparisons
 * are unsigned 32-bit, and a load past the captured bytes rejects the whole packet.
 * Errors carry libpcap's wording, so tcpdump can print them as it does.
 */
import { LINKTYPE } from './pcap.js';

/** What the filter sees of a packet: its captured bytes, wire length and link type. */
export interface FilterPacket {
  data: Uint8Array;
  /** Length on the wire (`len`). */
  len: number;
  linktype: number;
}

export type FilterFn = (p: FilterPacket) => boolean;

/** An expression libpcap would refuse; `message` is what tcpdump prints after "tcpdump: ". */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

const SYNTAX = "can't parse filter expression: syntax error";

const ETHERTYPE = { IP: 0x0800, ARP: 0x0806, REVARP: 0x8035, IPV6: 0x86dd } as const;
const PROTO_NUM: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, icmp6: 58, sctp: 132 };

/** Named constants pcap-filter accepts in arithmetic. */
const CONSTANTS: Record<string, number> = {
  tcpflags: 13,
  'tcp-fin': 0x01,
  'tcp-syn': 0x02,
  'tcp-rst': 0x04,
  'tcp-push': 0x08,
  'tcp-ack': 0x10,
  'tcp-urg': 0x20,
  'tcp-ece': 0x40,
  'tcp-cwr': 0x80,
  icmptype: 0,
  icmpcode: 1,
  'icmp-echoreply': 0,
  'icmp-unreach': 3,
  'icmp-sourcequench': 4,
  'icmp-redirect': 5,
  'icmp-echo': 8,
  'icmp-routeradvert': 9,
  'icmp-routersolicit': 10,
  'icmp-timxceed': 11,
  'icmp-paramprob': 12,
  'icmp-tstamp': 13,
  'icmp-tstampreply': 14,
  'icmp-ireq': 15,
  'icmp-ireqreply': 16,
  'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0,
  icmp6code: 1,
  'icmp6-destinationunreach': 1,
  'icmp6-packettoobig': 2,
  'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4,
  'icmp6-echo': 128,
  'icmp6-echoreply': 129,
  'icmp6-neighborsolicit': 135,
  'icmp6-neighboradvert': 136,
};

/** The few service names a filter may use instead of a port number (/etc/services). */
const SERVICES: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  https: 443,
  mdns: 5353,
};

const PROTOS = new Set(['ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp']);
const DIRS = new Set(['src', 'dst']);
const TYPES = new Set(['host', 'net', 'port', 'portrange', 'proto']);
const RELOPS = new Set(['=', '==', '!=', '<', '<=', '>', '>=']);

/** A load beyond the captured bytes: BPF returns 0 for the whole program. */
class OutOfBounds {}
const OOB = new OutOfBounds();

/** The packet's link and network layer, worked out once per packet. */
interface Decoded {
  d: Uint8Array;
  v: DataView;
  len: number;
  /** Offset of the link header (always 0) and of the network layer. */
  l3: number;
  ethertype: number;
  /** Ethernet addresses' offsets, or -1 on a cooked link. */
  ethSrc: number;
  ethDst: number;
}

function decode(p: FilterPacket): Decoded {
  const d = p.data;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let l3 = 14;
  let ethertype = -1;
  let ethSrc = -1;
  let ethDst = -1;
  if (p.linktype === LINKTYPE.ETHERNET) {
    if (d.byteLength >= 14) ethertype = v.getUint16(12);
    ethDst = 0;
    ethSrc = 6;
  } else if (p.linktype === LINKTYPE.LINUX_SLL2) {
    l3 = 20;
    if (d.byteLength >= 2) ethertype = v.getUint16(0);
  } else if (p.linktype === LINKTYPE.LINUX_SLL) {
    l3 = 16;
    if (d.byteLength >= 16) ethertype = v.getUint16(14);
  } else if (p.linktype === LINKTYPE.RAW) {
    l3 = 0;
    const ver = d.byteLength > 0 ? (d[0] as number) >> 4 : 0;
    ethertype = ver === 4 ? ETHERTYPE.IP : ver === 6 ? ETHERTYPE.IPV6 : -1;
  }
  return { d, v, len: p.len, l3, ethertype, ethSrc, ethDst };
}

function u8(x: Decoded, off: number): number {
  if (off < 0 || off >= x.d.byteLength) throw OOB;
  return x.d[off] as number;
}
function u16(x: Decoded, off: number): number {
  if (off < 0 || off + 2 > x.d.byteLength) throw OOB;
  return x.v.getUint16(off);
}
function u32(x: Decoded, off: number): number {
  if (off < 0 || off + 4 > x.d.byteLength) throw OOB;
  return x.v.getUint32(off);
}

type Pred = (x: Decoded) => boolean;
/**
 * An arithmetic value. `guard` is the protocol test a load brings along (tcp[…] needs an
 * unfragmented IPv4 TCP packet); libpcap keeps the left operand's through arithmetic and
 * drops the right one's (gen_arth), then tests both sides' before comparing (gen_relation).
 */
type Val = ((x: Decoded) => number) & { guard?: Pred };

function withGuard(v: (x: Decoded) => number, guard: Pred | undefined): Val {
  const out: Val = v;
  if (guard !== undefined) out.guard = guard;
  return out;
}

const isIp: Pred = (x) => x.ethertype === ETHERTYPE.IP;
const isIp6: Pred = (x) => x.ethertype === ETHERTYPE.IPV6;
const isArp: Pred = (x) => x.ethertype === ETHERTYPE.ARP;
const isRarp: Pred = (x) => x.ethertype === ETHERTYPE.REVARP;

/** IPv4 and not a later fragment: where a transport header can be read. */
const ipFirstFrag: Pred = (x) => (u16(x, x.l3 + 6) & 0x1fff) === 0;
const ipProto =
  (n: number): Pred =>
  (x) =>
    isIp(x) && u8(x, x.l3 + 9) === n;
/** ip6 proto N: the next header, or the one after a fragment header (libpcap does that much too). */
const ip6Proto =
  (n: number): Pred =>
  (x) => {
    if (!isIp6(x)) return false;
    const nh = u8(x, x.l3 + 6);
    return nh === n || (nh === 44 && u8(x, x.l3 + 40) === n);
  };
const ipHdrLen = (x: Decoded) => (u8(x, x.l3) & 0x0f) * 4;

const or =
  (a: Pred, b: Pred): Pred =>
  (x) =>
    a(x) || b(x);
const and =
  (a: Pred, b: Pred): Pred =>
  (x) =>
    a(x) && b(x);
const not =
  (a: Pred): Pred =>
  (x) =>
    !a(x);

function parseNumber(s: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return Number.parseInt(s, 8);
  if (/^\d+$/.test(s)) return Number.parseInt(s, 10);
  return undefined;
}

function parseIpv4(s: string): number[] | undefined {
  if (!/^\d+(\.\d+){0,3}$/.test(s)) return undefined;
  const parts = s.split('.').map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts;
}

/** An IPv6 address (RFC 4291 text forms, with an embedded IPv4 tail), or undefined. */
function parseIpv6(s: string): Uint8Array | undefined {
  if (!s.includes(':')) return undefined;
  let head = s;
  let v4: number[] | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined || v4.length !== 4) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const a = groups(halves[0] as string);
  const b = halves.length === 2 ? groups(halves[1] as string) : [];
  const fill = 8 - a.length - b.length;
  if (halves.length === 1 ? a.length !== 8 : fill < 1) return undefined;
  const all = [...a, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...b];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i] as string;
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

function parseMac(s: string): Uint8Array | undefined {
  const m =
    /^([0-9a-f]{1,2})[:.-]([0-9a-f]{1,2})[:.-]([0-9a-f]{1,2})[:.-]([0-9a-f]{1,2})[:.-]([0-9a-f]{1,2})[:.-]([0-9a-f]{1,2})$/i.exec(
      s,
    );
  if (m === null) return undefined;
  return Uint8Array.from(m.slice(1).map((h) => Number.parseInt(h, 16)));
}

function bytesAt(x: Decoded, off: number, want: Uint8Array): boolean {
  if (off < 0 || off + want.byteLength > x.d.byteLength) throw OOB;
  for (let i = 0; i < want.byteLength; i++) if (x.d[off + i] !== want[i]) return false;
  return true;
}

/** Masked comparison of `n` bytes at `off` against `want`, under `mask` (a prefix mask). */
function maskedAt(x: Decoded, off: number, want: Uint8Array, mask: Uint8Array): boolean {
  if (off < 0 || off + want.byteLength > x.d.byteLength) throw OOB;
  for (let i = 0; i < want.byteLength; i++) {
    if (((x.d[off + i] as number) & (mask[i] as number)) !== want[i]) return false;
  }
  return true;
}

function prefixMask(bytes: number, bits: number): Uint8Array {
  const m = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++)
    m[i] = bits >= (i + 1) * 8 ? 0xff : bits <= i * 8 ? 0 : (0xff << (8 - (bits - i * 8))) & 0xff;
  return m;
}

type Tok = { kind: 'word' | 'num' | 'op'; text: string };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const ops = [
    '&&',
    '||',
    '<<',
    '>>',
    '<=',
    '>=',
    '!=',
    '==',
    '(',
    ')',
    '[',
    ']',
    ':',
    '!',
    '=',
    '<',
    '>',
    '+',
    '-',
    '*',
    '/',
    '%',
    '&',
    '|',
    '^',
  ];
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z0-9_.]/.test(c) || (c === ':' && src[i + 1] === ':') || c === '\\') {
      let j = i + (c === '\\' ? 1 : 0);
      const startsAlpha = /[A-Za-z_]/.test(src[j] ?? '');
      while (j < src.length) {
        const ch = src[j] as string;
        if (/[A-Za-z0-9_.:]/.test(ch)) j++;
        else if (ch === '-' && startsAlpha && /[A-Za-z0-9]/.test(src[j + 1] ?? '')) j++;
        else if (ch === '/' && /[.:]/.test(src.slice(i, j)) && /\d/.test(src[j + 1] ?? '')) j++;
        else break;
      }
      const text = src.slice(c === '\\' ? i + 1 : i, j);
      // One lone colon is the size separator of ip[x:2], not an address.
      const colons = text.split(':').length - 1;
      if (colons === 1 && !text.includes('::')) {
        const [a, b] = text.split(':') as [string, string];
        toks.push({ kind: parseNumber(a) !== undefined ? 'num' : 'word', text: a });
        toks.push({ kind: 'op', text: ':' });
        if (b !== '') toks.push({ kind: parseNumber(b) !== undefined ? 'num' : 'word', text: b });
      } else {
        toks.push({ kind: parseNumber(text) !== undefined ? 'num' : 'word', text });
      }
      i = j;
      continue;
    }
    const op = ops.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new FilterError(SYNTAX);
    toks.push({ kind: 'op', text: op });
    i += op.length;
  }
  return toks;
}

/** Qualifiers of a primitive, inherited by a bare id that follows `and`/`or`. */
interface Quals {
  proto: string | undefined;
  dir: 'src' | 'dst' | 'src or dst' | 'src and dst' | undefined;
  type: string | undefined;
}

class Parser {
  private i = 0;
  private last: Quals | undefined;

  constructor(private readonly toks: Tok[]) {}

  private peek(k = 0): Tok | undefined {
    return this.toks[this.i + k];
  }
  private is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.text === text && t.kind !== 'num';
  }
  private take(): Tok {
    const t = this.toks[this.i++];
    if (t === undefined) throw new FilterError(SYNTAX);
    return t;
  }
  private expect(text: string): void {
    if (!this.is(text)) throw new FilterError(SYNTAX);
    this.i++;
  }

  parse(): Pred {
    if (this.toks.length === 0) return () => true;
    const p = this.or();
    if (this.i !== this.toks.length) throw new FilterError(SYNTAX);
    return p;
  }

  /** `and` and `or` bind equally and associate left to right (pcap-filter(7)): a or b and c = (a or b) and c. */
  private or(): Pred {
    let p = this.not();
    for (;;) {
      if (this.is('or') || this.is('||')) {
        this.i++;
        p = or(p, this.not());
      } else if (this.is('and') || this.is('&&')) {
        this.i++;
        p = and(p, this.not());
      } else return p;
    }
  }

  private not(): Pred {
    if (this.is('not') || this.is('!')) {
      this.i++;
      return not(this.not());
    }
    return this.primary();
  }

  private primary(): Pred {
    const t = this.peek();
    if (t === undefined) throw new FilterError(SYNTAX);
    if (t.text === '(' && t.kind === 'op') {
      // `(` may open an arithmetic expression too: `(ip[2:2] - 20) > 100`.
      const save = this.i;
      this.i++;
      try {
        const p = this.or();
        this.expect(')');
        if (!this.atRelop()) return p;
      } catch (e) {
        if (!(e instanceof FilterError) || e.message !== SYNTAX) throw e;
      }
      this.i = save;
      return this.relation();
    }
    if (this.startsArith()) return this.relation();
    if (t.kind === 'word' && (t.text === 'less' || t.text === 'greater')) {
      this.i++;
      const n = this.take();
      const v = parseNumber(n.text);
      if (v === undefined) throw new FilterError(SYNTAX);
      return t.text === 'less' ? (x) => x.len <= v : (x) => x.len >= v;
    }
    return this.qualified();
  }

  private atRelop(): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === 'op' && (RELOPS.has(t.text) || '+-*/%&|^<<>>'.includes(t.text));
  }

  /** Whether the next tokens begin arithmetic rather than a primitive. */
  private startsArith(): boolean {
    const t = this.peek();
    if (t === undefined) return false;
    if (t.kind === 'num') {
      const n = this.peek(1);
      return n !== undefined && n.kind === 'op' && n.text !== ')' && n.text !== '(';
    }
    if (t.kind !== 'word') return t.text === '-';
    if (t.text === 'len' && !(this.peek(1)?.kind === 'word')) return true;
    return PROTOS.has(t.text) && this.is('[', 1);
  }

  private relation(): Pred {
    const a = this.arith(0);
    const op = this.take();
    if (op.kind !== 'op' || !RELOPS.has(op.text)) throw new FilterError(SYNTAX);
    const b = this.arith(0);
    let cmp: Pred;
    switch (op.text) {
      case '=':
      case '==':
        cmp = (x) => a(x) === b(x);
        break;
      case '!=':
        cmp = (x) => a(x) !== b(x);
        break;
      case '<':
        cmp = (x) => a(x) < b(x);
        break;
      case '<=':
        cmp = (x) => a(x) <= b(x);
        break;
      case '>':
        cmp = (x) => a(x) > b(x);
        break;
      default:
        cmp = (x) => a(x) >= b(x);
    }
    // The protocol tests run first, so a load is only made where its protocol is.
    const ga = a.guard;
    const gb = b.guard;
    if (ga !== undefined && gb !== undefined) return (x) => ga(x) && gb(x) && cmp(x);
    if (ga !== undefined) return (x) => ga(x) && cmp(x);
    if (gb !== undefined) return (x) => gb(x) && cmp(x);
    return cmp;
  }

  /** Precedence climbing with libpcap's levels: | ^, &, << >>, + -, * / %. */
  private arith(level: number): Val {
    const levels = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
    if (level === levels.length) return this.unary();
    let a = this.arith(level + 1);
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.kind !== 'op' || !(levels[level] as string[]).includes(t.text)) return a;
      this.i++;
      const b = this.arith(level + 1);
      const l = a;
      const guard = l.guard;
      switch (t.text) {
        case '|':
          a = (x) => (l(x) | b(x)) >>> 0;
          break;
        case '^':
          a = (x) => (l(x) ^ b(x)) >>> 0;
          break;
        case '&':
          a = (x) => (l(x) & b(x)) >>> 0;
          break;
        case '<<':
          a = (x) => (b(x) > 31 ? 0 : (l(x) << b(x)) >>> 0);
          break;
        case '>>':
          a = (x) => (b(x) > 31 ? 0 : l(x) >>> b(x));
          break;
        case '+':
          a = (x) => (l(x) + b(x)) >>> 0;
          break;
        case '-':
          a = (x) => (l(x) - b(x)) >>> 0;
          break;
        case '*':
          a = (x) => Math.imul(l(x), b(x)) >>> 0;
          break;
        case '/':
          // BPF division by zero rejects the packet.
          a = (x) => {
            const d = b(x);
            if (d === 0) throw OOB;
            return Math.floor(l(x) / d) >>> 0;
          };
          break;
        default:
          a = (x) => {
            const d = b(x);
            if (d === 0) throw OOB;
            return (l(x) % d) >>> 0;
          };
      }
      a = withGuard(a, guard);
    }
  }

  private unary(): Val {
    const t = this.take();
    if (t.kind === 'op' && t.text === '-') {
      const v = this.unary();
      return withGuard((x) => -v(x) >>> 0, v.guard);
    }
    if (t.kind === 'op' && t.text === '(') {
      const v = this.arith(0);
      this.expect(')');
      return v;
    }
    if (t.kind === 'num') {
      const n = (parseNumber(t.text) as number) >>> 0;
      return () => n;
    }
    if (t.kind === 'word') {
      if (t.text === 'len') return (x) => x.len >>> 0;
      const c = CONSTANTS[t.text];
      if (c !== undefined) return () => c;
      if (PROTOS.has(t.text) && this.is('[')) return this.load(t.text);
    }
    throw new FilterError(SYNTAX);
  }

  /** proto[expr] and proto[expr:size]. */
  private load(proto: string): Val {
    this.expect('[');
    const off = this.arith(0);
    let size = 1;
    if (this.is(':')) {
      this.i++;
      const s = this.take();
      size = parseNumber(s.text) ?? 0;
      if (size !== 1 && size !== 2 && size !== 4) throw new FilterError('data size must be 1, 2, or 4');
    }
    this.expect(']');
    const read = size === 1 ? u8 : size === 2 ? u16 : u32;
    // The layer's start, and the protocol test that goes with the load.
    let base: (x: Decoded) => number;
    let guard: Pred;
    switch (proto) {
      case 'ether':
      case 'link':
        base = () => 0;
        guard = () => true;
        break;
      case 'ip':
        base = (x) => x.l3;
        guard = isIp;
        break;
      case 'ip6':
        base = (x) => x.l3;
        guard = isIp6;
        break;
      case 'arp':
      case 'rarp':
        base = (x) => x.l3;
        guard = proto === 'arp' ? isArp : isRarp;
        break;
      case 'icmp6':
        // Right after the fixed header only: unlike the icmp6 primitive, no fragment header.
        base = (x) => x.l3 + 40;
        guard = (x) => isIp6(x) && u8(x, x.l3 + 6) === 58;
        break;
      default: {
        // tcp[], udp[], icmp[], sctp[]: IPv4 only, first fragment, after the IP options.
        const n = PROTO_NUM[proto] as number;
        base = (x) => x.l3 + ipHdrLen(x);
        guard = (x) => ipProto(n)(x) && ipFirstFrag(x);
      }
    }
    const inner = off.guard;
    return withGuard((x) => read(x, base(x) + off(x)) >>> 0, inner === undefined ? guard : (x) => guard(x) && inner(x));
  }

  /** [proto] [dir] [type] id, or a bare protocol name, or an id inheriting qualifiers. */
  private qualified(): Pred {
    const q: Quals = { proto: undefined, dir: undefined, type: undefined };
    let any = false;
    let t = this.peek();
    if (t?.kind === 'word' && PROTOS.has(t.text)) {
      q.proto = t.text;
      this.i++;
      any = true;
      t = this.peek();
    }
    if (t?.kind === 'word' && (t.text === 'broadcast' || t.text === 'multicast' || t.text === 'protochain')) {
      this.i++;
      if (t.text === 'protochain') {
        const id = this.take();
        const n = parseNumber(id.text) ?? PROTO_NUM[id.text];
        if (n === undefined) throw new FilterError(`unknown ip proto '${id.text}'`);
        return protochain(q.proto, n);
      }
      return castPred(q.proto, t.text);
    }
    if (t?.kind === 'word' && DIRS.has(t.text)) {
      this.i++;
      q.dir = t.text as 'src' | 'dst';
      any = true;
      if ((this.is('or') || this.is('and')) && (this.is('src', 1) || this.is('dst', 1))) {
        q.dir = this.is('or') ? 'src or dst' : 'src and dst';
        this.i += 2;
      }
      t = this.peek();
    }
    if (t?.kind === 'word' && TYPES.has(t.text)) {
      q.type = t.text;
      this.i++;
      any = true;
    }
    if (q.proto !== undefined && q.dir === undefined && q.type === undefined) {
      // A bare protocol: `tcp`, `ip6`; unless an id follows (`ether 00:…` is not valid either).
      const n = this.peek();
      if (n === undefined || n.kind === 'op' || ['and', 'or', 'not'].includes(n.text)) {
        return this.protoPrim(q.proto);
      }
      throw new FilterError(SYNTAX);
    }
    if (!any) {
      // A bare id after and/or keeps the previous primitive's qualifiers (`port 80 or 443`).
      const n = this.peek();
      if (this.last !== undefined && n !== undefined && n.kind !== 'op') return this.id(this.last, this.take().text);
      // On its own, an address means `host`; a word cannot stand alone.
      if (n !== undefined && (parseIpv4(n.text)?.length === 4 || parseIpv6(n.text) !== undefined)) {
        this.i++;
        return this.id({ proto: undefined, dir: undefined, type: 'host' }, n.text);
      }
      throw new FilterError(SYNTAX);
    }
    if (q.type === undefined) q.type = 'host';
    this.last = q;
    if (q.type === 'portrange') {
      const a = this.take();
      if (a.kind === 'num' && this.is('-')) {
        this.i++;
        const b = this.take();
        return this.id(q, `${a.text}-${b.text}`);
      }
      return this.id(q, a.text);
    }
    const id = this.take();
    if (id.kind === 'op') throw new FilterError(SYNTAX);
    return this.id(q, id.text);
  }

  private protoPrim(proto: string): Pred {
    switch (proto) {
      case 'ip':
        return isIp;
      case 'ip6':
        return isIp6;
      case 'arp':
        return isArp;
      case 'rarp':
        return isRarp;
      case 'ether':
      case 'link':
        return () => true;
      case 'icmp':
        return ipProto(1);
      case 'icmp6':
        return ip6Proto(58);
      default: {
        const n = PROTO_NUM[proto] as number;
        return or(ipProto(n), ip6Proto(n));
      }
    }
  }

  private id(q: Quals, text: string): Pred {
    switch (q.type) {
      case 'host':
        return this.host(q, text);
      case 'net':
        return this.net(q, text);
      case 'port':
        return portPred(q, text, false);
      case 'portrange':
        return portPred(q, text, true);
      default:
        return this.protoNum(q, text);
    }
  }

  private protoNum(q: Quals, text: string): Pred {
    const n = parseNumber(text) ?? PROTO_NUM[text];
    if (n === undefined) throw new FilterError(`unknown ip proto '${text}'`);
    if (q.proto === 'ip') return ipProto(n);
    if (q.proto === 'ip6') return ip6Proto(n);
    if (q.proto === 'ether' || q.proto === 'link') {
      const et =
        parseNumber(text) ?? ({ ip: 0x800, ip6: 0x86dd, arp: 0x806, rarp: 0x8035 } as Record<string, number>)[text];
      if (et === undefined) throw new FilterError(`unknown ether proto '${text}'`);
      return (x) => x.ethertype === et;
    }
    if (q.proto === undefined) return or(ipProto(n), ip6Proto(n));
    throw new FilterError(`'${q.proto}' modifier applied to proto`);
  }

  private host(q: Quals, text: string): Pred {
    const mac = q.proto === 'ether' || q.proto === 'link' ? parseMac(text) : undefined;
    if (q.proto === 'ether' || q.proto === 'link') {
      if (mac === undefined) throw new FilterError(`unknown ether host '${text}'`);
      return dirPred(q, (x, which) => {
        const off = which === 'src' ? x.ethSrc : x.ethDst;
        return off >= 0 && bytesAt(x, off, mac);
      });
    }
    if (q.proto !== undefined && !['ip', 'ip6', 'arp', 'rarp'].includes(q.proto)) {
      throw new FilterError(`'${q.proto}' modifier applied to host`);
    }
    let v4 = parseIpv4(text);
    const v6 = parseIpv6(text);
    // The hosts table lonet has: 127.0.0.1 localhost (Debian's gives ::1 no such name).
    if (text === 'localhost') v4 = [127, 0, 0, 1];
    if (v6 !== undefined) {
      if (q.proto !== undefined && q.proto !== 'ip6')
        throw new FilterError(`'${q.proto}' modifier applied to ip6 host`);
      const a6 = v6;
      const p6 = dirPred(q, (x, which) => bytesAt(x, x.l3 + (which === 'src' ? 8 : 24), a6));
      return v4 === undefined ? and(isIp6, p6) : or(this.host4(q, v4), and(isIp6, p6));
    }
    if (v4 === undefined) throw new FilterError(`unknown host '${text}'`);
    if (q.proto === 'ip6') throw new FilterError("'ip6' modifier applied to ip host");
    // A host with fewer than four parts is a 32-bit number written short, as inet_aton reads it: 1.2.3 is 0.1.2.3.
    while (v4.length < 4) v4 = [0, ...v4];
    return this.host4(q, v4);
  }

  private host4(q: Quals, v4: number[]): Pred {
    const a = Uint8Array.from(v4);
    const ip = and(
      isIp,
      dirPred(q, (x, which) => bytesAt(x, x.l3 + (which === 'src' ? 12 : 16), a)),
    );
    const arpLike = (is: Pred) =>
      and(
        is,
        dirPred(q, (x, which) => bytesAt(x, x.l3 + (which === 'src' ? 14 : 24), a)),
      );
    if (q.proto === 'ip') return ip;
    if (q.proto === 'arp') return arpLike(isArp);
    if (q.proto === 'rarp') return arpLike(isRarp);
    return or(ip, or(arpLike(isArp), arpLike(isRarp)));
  }

  private net(q: Quals, text: string): Pred {
    if (q.proto !== undefined && !['ip', 'ip6', 'arp', 'rarp'].includes(q.proto)) {
      throw new FilterError(`'${q.proto}' modifier applied to net`);
    }
    let mask: number | undefined;
    let addr = text;
    let maskText: string | undefined;
    const slash = text.indexOf('/');
    if (slash >= 0) {
      addr = text.slice(0, slash);
      mask = Number(text.slice(slash + 1));
    } else if (this.is('mask')) {
      this.i++;
      maskText = this.take().text;
    }
    const v6 = parseIpv6(addr);
    if (v6 !== undefined) {
      const bits = mask ?? 128;
      if (bits > 128) throw new FilterError('mask length must be <= 128');
      const m = prefixMask(16, bits);
      for (let i = 0; i < 16; i++) {
        if (((v6[i] as number) & ~(m[i] as number)) !== 0) throw new FilterError(`non-network bits set in "${text}"`);
      }
      return and(
        isIp6,
        dirPred(q, (x, which) => maskedAt(x, x.l3 + (which === 'src' ? 8 : 24), v6, m)),
      );
    }
    const v4 = parseIpv4(addr);
    if (v4 === undefined) throw new FilterError(`unknown network '${text}'`);
    let bits: number;
    let m: Uint8Array;
    if (maskText !== undefined) {
      const mm = parseIpv4(maskText);
      if (mm === undefined || mm.length !== 4) throw new FilterError(`invalid netmask ${maskText}`);
      m = Uint8Array.from(mm);
    } else {
      // `net 10.1` is 10.1.0.0/16: the dotted parts given are the network.
      bits = mask ?? v4.length * 8;
      if (bits > 32) throw new FilterError('mask length must be <= 32');
      m = prefixMask(4, bits);
    }
    const a = Uint8Array.from([...v4, 0, 0, 0].slice(0, 4));
    for (let i = 0; i < 4; i++) {
      if (((a[i] as number) & ~(m[i] as number)) !== 0) throw new FilterError(`non-network bits set in "${text}"`);
    }
    const ip = and(
      isIp,
      dirPred(q, (x, which) => maskedAt(x, x.l3 + (which === 'src' ? 12 : 16), a, m)),
    );
    if (q.proto === 'ip') return ip;
    const arp = (is: Pred) =>
      and(
        is,
        dirPred(q, (x, which) => maskedAt(x, x.l3 + (which === 'src' ? 14 : 24), a, m)),
      );
    if (q.proto === 'arp') return arp(isArp);
    if (q.proto === 'rarp') return arp(isRarp);
    return or(ip, or(arp(isArp), arp(isRarp)));
  }
}

/**
 * [ether|ip|ip6] broadcast / multicast. IP broadcast uses the netmask libpcap is given:
 * none for a file (0), so only 0.0.0.0 and 255.255.255.255 count.
 */
function castPred(proto: string | undefined, what: string): Pred {
  const bcast = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  if (proto === undefined || proto === 'ether' || proto === 'link') {
    return what === 'broadcast'
      ? (x) => x.ethDst >= 0 && bytesAt(x, x.ethDst, bcast)
      : (x) => x.ethDst >= 0 && (u8(x, x.ethDst) & 1) === 1;
  }
  if (proto === 'ip') {
    if (what === 'multicast') return (x) => isIp(x) && u8(x, x.l3 + 16) >= 224;
    return (x) => isIp(x) && (u32(x, x.l3 + 16) === 0 || u32(x, x.l3 + 16) === 0xffffffff);
  }
  if (proto === 'ip6' && what === 'multicast') return (x) => isIp6(x) && u8(x, x.l3 + 24) === 0xff;
  throw new FilterError(
    what === 'broadcast'
      ? 'only link-layer/IP broadcast filters supported'
      : 'link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel',
  );
}

/** [ip|ip6] protochain N: the protocol, found past IPv6 extension headers (and AH). */
function protochain(proto: string | undefined, n: number): Pred {
  const v4: Pred = (x) => isIp(x) && u8(x, x.l3 + 9) === n;
  const v6: Pred = (x) => {
    if (!isIp6(x)) return false;
    let nh = u8(x, x.l3 + 6);
    let at = x.l3 + 40;
    for (let hops = 0; hops < 16; hops++) {
      if (nh === n) return true;
      if (nh === 0 || nh === 43 || nh === 60) {
        const next = u8(x, at);
        at += (u8(x, at + 1) + 1) * 8;
        nh = next;
      } else if (nh === 44) {
        nh = u8(x, at);
        at += 8;
      } else if (nh === 51) {
        const next = u8(x, at);
        at += (u8(x, at + 1) + 2) * 4;
        nh = next;
      } else return false;
    }
    return false;
  };
  if (proto === 'ip') return v4;
  if (proto === 'ip6') return v6;
  return or(v4, v6);
}

/** Applies a direction qualifier to a per-side test. */
function dirPred(q: Quals, side: (x: Decoded, which: 'src' | 'dst') => boolean): Pred {
  switch (q.dir) {
    case 'src':
      return (x) => side(x, 'src');
    case 'dst':
      return (x) => side(x, 'dst');
    case 'src and dst':
      return (x) => side(x, 'src') && side(x, 'dst');
    default:
      return (x) => side(x, 'src') || side(x, 'dst');
  }
}

function parsePort(s: string): number {
  const n = parseNumber(s) ?? SERVICES[s];
  if (n === undefined) throw new FilterError(`unknown port '${s}'`);
  if (n > 65535) throw new FilterError(`illegal port number ${n} > 65535`);
  return n;
}

function portPred(q: Quals, text: string, range: boolean): Pred {
  let lo: number;
  let hi: number;
  if (range) {
    const m = /^([^-]+)-([^-]+)$/.exec(text);
    if (m === null) {
      lo = parsePort(text);
      hi = lo;
    } else {
      lo = parsePort(m[1] as string);
      hi = parsePort(m[2] as string);
      if (lo > hi) [lo, hi] = [hi, lo];
    }
  } else {
    lo = parsePort(text);
    hi = lo;
  }
  const protos =
    q.proto === undefined
      ? [6, 17, 132]
      : q.proto === 'tcp'
        ? [6]
        : q.proto === 'udp'
          ? [17]
          : q.proto === 'sctp'
            ? [132]
            : q.proto === 'ip' || q.proto === 'ip6'
              ? [6, 17, 132]
              : null;
  if (protos === null) throw new FilterError(`'${q.proto}' modifier applied to ${range ? 'portrange' : 'port'}`);
  const inRange = (p: number) => p >= lo && p <= hi;
  const v4: Pred = (x) => {
    if (!isIp(x) || !protos.includes(u8(x, x.l3 + 9)) || !ipFirstFrag(x)) return false;
    const th = x.l3 + ipHdrLen(x);
    return dirPred(q, (y, which) => inRange(u16(y, th + (which === 'src' ? 0 : 2))))(x);
  };
  const v6: Pred = (x) => {
    if (!isIp6(x) || !protos.includes(u8(x, x.l3 + 6))) return false;
    const th = x.l3 + 40;
    return dirPred(q, (y, which) => inRange(u16(y, th + (which === 'src' ? 0 : 2))))(x);
  };
  if (q.proto === 'ip') return v4;
  if (q.proto === 'ip6') return v6;
  return or(v4, v6);
}

/**
 * Compiles an expression (the words after tcpdump's options, joined by spaces) into a
 * predicate. An empty expression accepts everything. Throws FilterError as libpcap would.
 */
export function compileFilter(expression: string): FilterFn {
  const pred = new Parser(tokenize(expression)).parse();
  return (p) => {
    try {
      return pred(decode(p));
    } catch (e) {
      if (e === OOB) return false;
      throw e;
    }
  };
}
