/**
 * packetdrill's script language (google/packetdrill lexer.l and parser.y): a script is
 * option lines (`--tolerance_usecs=10000`) and then events, each a time and an action —
 * a packet (`< S 0:0(0) win 65535 <mss 1460>`), a system call (`connect(3, ..., ...) = 0`),
 * a shell command in backquotes or a `%{ … }%` code block. Times are microseconds.
 */

export class ScriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Where an event happens: RELATIVE and RELATIVE_RANGE are to the event before (parser.y's event_time). */
export type TimeType = 'absolute' | 'relative' | 'any' | 'absolute-range' | 'relative-range';

export type Expr =
  | { k: 'num'; v: number }
  | { k: 'word'; v: string }
  | { k: 'str'; v: string }
  | { k: 'ellipsis' }
  | { k: 'array'; items: Expr[] }
  | { k: 'struct'; fields: StructField[] }
  | { k: 'binop'; op: '|' | '&' | '-' | '<<'; a: Expr; b: Expr };

/** A field of `{…}`: named (`msg_iov(1)=[…]`, `fd=4`) or positional (`{..., 40}`). */
export interface StructField {
  name: string | null;
  /** The count in `msg_iov(1)=`, when written. */
  arg: Expr | null;
  value: Expr;
}

export interface TcpOptionSpec {
  kind: 'mss' | 'wscale' | 'sackOK' | 'nop' | 'eol' | 'TS' | 'sack' | 'FO' | 'FOEXP' | 'md5' | 'ECN' | 'unknown';
  mss?: number;
  wscale?: number;
  tsval?: number;
  tsecr?: number;
  blocks?: [number, number][];
  cookie?: string;
  /** An md5 option's digest bytes, written into the packet as they are (packetdrill does not sign). */
  digest?: number[];
  text: string;
}

export interface PacketSpec {
  dir: '<' | '>';
  /** What `[…]` asked of the IP header: ecn codepoint, a whole tos byte, a flow label. */
  ecn: 'noecn' | 'ect0' | 'ect1' | 'ce' | 'ect01' | null;
  tos: number | null;
  flowlabel: number | null;
  flags: string;
  seq: number;
  end: number;
  len: number;
  ack: number | null;
  win: number | null;
  urg: number | null;
  /** null: `<...>`, options not checked. */
  options: TcpOptionSpec[] | null;
  /** Protocols other than TCP are parsed as far as naming them. */
  proto: 'tcp' | 'icmp' | 'udp';
  text: string;
}

export interface SyscallSpec {
  name: string;
  args: Expr[];
  /** The expected return: a number, or an expression (`= 0x2 (flags O_RDWR)`). */
  ret: Expr;
  errno: string | null;
  /** Microseconds after the start by which a blocking call must return (`...0.100`), or null. */
  endUsecs: number | null;
}

export type Action =
  | { type: 'packet'; packet: PacketSpec }
  | { type: 'syscall'; call: SyscallSpec }
  | { type: 'command'; command: string }
  | { type: 'code'; code: string };

export interface ScriptEvent {
  line: number;
  timeType: TimeType;
  usecs: number;
  usecsEnd: number;
  action: Action;
}

export interface Script {
  /** `--name=value` lines before the events. */
  options: [string, string][];
  events: ScriptEvent[];
}

type Tok =
  | { t: 'num'; v: number; text: string; line: number; at: number }
  | { t: 'word'; v: string; line: number; at: number }
  | { t: 'str'; v: string; line: number; at: number }
  | { t: 'cmd'; v: string; line: number; at: number }
  | { t: 'code'; v: string; line: number; at: number }
  | { t: 'opt'; v: string; line: number; at: number }
  | { t: 'punct'; v: string; line: number; at: number }
  | { t: 'eof'; line: number; at: number };

/** lexer.l, as far as the scripts need it. Packets are re-read from the source text. */
export function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  let lineStart = true;
  const n = src.length;
  while (i < n) {
    const c = src[i] as string;
    if (c === '\n') {
      line++;
      i++;
      lineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
      continue;
    }
    const at = i;
    const startLine = line;
    if (lineStart && c === '-' && src[i + 1] === '-') {
      let j = i;
      while (j < n && src[j] !== '\n') j++;
      toks.push({ t: 'opt', v: src.slice(i, j).trim(), line, at });
      i = j;
      continue;
    }
    lineStart = false;
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new ScriptError(line, 'unterminated backquoted command');
      const v = src.slice(i + 1, end);
      for (const ch of v) if (ch === '\n') line++;
      toks.push({ t: 'cmd', v, line: startLine, at });
      i = end + 1;
      continue;
    }
    if (c === '%' && src[i + 1] === '{') {
      const end = src.indexOf('}%', i + 2);
      if (end < 0) throw new ScriptError(line, 'unterminated %{ code block');
      const v = src.slice(i + 2, end);
      for (const ch of v) if (ch === '\n') line++;
      toks.push({ t: 'code', v, line: startLine, at });
      i = end + 2;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < n && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < n) {
          const e = src[j + 1] as string;
          const hex = e === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(src.slice(j + 2, j + 4)) : null;
          if (hex !== null) {
            // \xHH: one byte, as a C string literal has it (TCP_FASTOPEN_KEY's key).
            v += String.fromCharCode(Number.parseInt(hex[0], 16));
            j += 2 + hex[0].length;
            continue;
          }
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === '0' ? '\0' : e;
          j += 2;
        } else v += src[j++];
      }
      toks.push({ t: 'str', v, line, at });
      i = j + 1;
      continue;
    }
    if (c === '.' && src[i + 1] === '.' && src[i + 2] === '.') {
      toks.push({ t: 'punct', v: '...', line, at });
      i += 3;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+\.\d+|\d+|\.\d+)/.exec(src.slice(i, i + 40));
    if (num !== null && /[\d.]/.test(c)) {
      const text = num[0];
      toks.push({ t: 'num', v: text.startsWith('0x') ? Number.parseInt(text, 16) : Number(text), text, line, at });
      i += text.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j] as string)) j++;
      toks.push({ t: 'word', v: src.slice(i, j), line, at });
      i = j;
      continue;
    }
    if (c === '<' && src[i + 1] === '<') {
      toks.push({ t: 'punct', v: '<<', line, at });
      i += 2;
      continue;
    }
    toks.push({ t: 'punct', v: c, line, at });
    i++;
  }
  toks.push({ t: 'eof', line, at: n });
  return toks;
}

class Parser {
  #i = 0;
  constructor(
    readonly src: string,
    readonly toks: Tok[],
  ) {}

  get peek(): Tok {
    return this.toks[this.#i] as Tok;
  }

  next(): Tok {
    return this.toks[this.#i++] as Tok;
  }

  isPunct(v: string, k = 0): boolean {
    const t = this.toks[this.#i + k];
    return t !== undefined && t.t === 'punct' && t.v === v;
  }

  expectPunct(v: string): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v) throw new ScriptError(t.line, `syntax error: expected '${v}'`);
  }

  /** Skips tokens up to the first one past `offset` in the source. */
  skipTo(offset: number): void {
    while (this.peek.t !== 'eof' && this.peek.at < offset) this.#i++;
  }

  script(): Script {
    const options: [string, string][] = [];
    const events: ScriptEvent[] = [];
    for (;;) {
      const t = this.peek;
      if (t.t === 'eof') break;
      if (t.t === 'opt') {
        this.next();
        const m = /^--([^=\s]+)(?:=(\S*))?/.exec(t.v.replace(/\/\/.*$/, '').trim());
        if (m === null) throw new ScriptError(t.line, `bad option line: ${t.v}`);
        options.push([m[1] as string, (m[2] ?? '').trim()]);
        continue;
      }
      // The init and cleanup commands are backquoted commands without a time.
      if (t.t === 'cmd') {
        this.next();
        events.push({
          line: t.line,
          timeType: 'relative',
          usecs: 0,
          usecsEnd: 0,
          action: { type: 'command', command: t.v },
        });
        continue;
      }
      events.push(this.event());
    }
    return { options, events };
  }

  time(): number {
    const t = this.next();
    if (t.t !== 'num') throw new ScriptError(t.line, 'syntax error: expected a time');
    return Math.round(t.v * 1e6);
  }

  event(): ScriptEvent {
    const first = this.peek;
    const line = first.line;
    let timeType: TimeType;
    let usecs = 0;
    let usecsEnd = 0;
    if (this.isPunct('*')) {
      this.next();
      timeType = 'any';
    } else if (this.isPunct('+')) {
      this.next();
      usecs = this.time();
      timeType = 'relative';
      if (this.isPunct('~')) {
        this.next();
        this.expectPunct('+');
        usecsEnd = this.time();
        timeType = 'relative-range';
      }
    } else {
      usecs = this.time();
      timeType = 'absolute';
      if (this.isPunct('~')) {
        this.next();
        usecsEnd = this.time();
        timeType = 'absolute-range';
      }
    }
    let endUsecs: number | null = null;
    if (this.isPunct('...')) {
      this.next();
      endUsecs = this.time();
    }
    const t = this.peek;
    let action: Action;
    if (t.t === 'punct' && (t.v === '<' || t.v === '>')) {
      let eol = this.src.indexOf('\n', t.at);
      if (eol < 0) eol = this.src.length;
      const text = this.src
        .slice(t.at, eol)
        .replace(/\/\/.*$/, '')
        .trim();
      action = { type: 'packet', packet: parsePacket(text, t.line) };
      this.skipTo(eol);
    } else if (t.t === 'cmd') {
      this.next();
      action = { type: 'command', command: t.v };
    } else if (t.t === 'code') {
      this.next();
      action = { type: 'code', code: t.v };
    } else if (t.t === 'word') {
      action = { type: 'syscall', call: this.syscall(endUsecs) };
    } else throw new ScriptError(t.line, 'syntax error: expected a packet, system call, command or code');
    return { line, timeType, usecs, usecsEnd, action };
  }

  syscall(endUsecs: number | null): SyscallSpec {
    const name = (this.next() as { v: string }).v;
    this.expectPunct('(');
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      args.push(this.expr());
      while (this.isPunct(',')) {
        this.next();
        args.push(this.expr());
      }
    }
    this.expectPunct(')');
    this.expectPunct('=');
    const ret = this.expr();
    let errno: string | null = null;
    const w = this.peek;
    if (w.t === 'word' && /^E[A-Z0-9]+$/.test(w.v)) {
      this.next();
      errno = w.v;
    }
    if (this.isPunct('(')) {
      // The errno's text or a note: `(Operation now in progress)`, `(flags O_RDWR)`.
      let depth = 0;
      do {
        const x = this.next();
        if (x.t === 'eof') break;
        if (x.t === 'punct' && x.v === '(') depth++;
        if (x.t === 'punct' && x.v === ')') depth--;
      } while (depth > 0);
    }
    return { name, args, ret, errno, endUsecs };
  }

  expr(): Expr {
    let a = this.unary();
    for (;;) {
      const t = this.peek;
      // No + or -: a following event's time (`= 4` then `+0 …`) must not be read as a sum.
      if (t.t === 'punct' && (t.v === '|' || t.v === '&' || t.v === '<<')) {
        this.next();
        a = { k: 'binop', op: t.v, a, b: this.unary() };
      } else return a;
    }
  }

  unary(): Expr {
    const t = this.next();
    if (t.t === 'num') return { k: 'num', v: t.v };
    if (t.t === 'str') {
      if (this.isPunct('...')) this.next();
      return { k: 'str', v: t.v };
    }
    if (t.t === 'word') {
      // htons(8080), inet_addr("…") and the like: a call inside an expression.
      if (this.isPunct('(')) {
        this.next();
        const inner: Expr[] = [];
        if (!this.isPunct(')')) {
          inner.push(this.expr());
          while (this.isPunct(',')) {
            this.next();
            inner.push(this.expr());
          }
        }
        this.expectPunct(')');
        return { k: 'struct', fields: [{ name: `${t.v}()`, arg: null, value: { k: 'array', items: inner } }] };
      }
      return { k: 'word', v: t.v };
    }
    if (t.t === 'punct') {
      if (t.v === '...') return { k: 'ellipsis' };
      if (t.v === '-') {
        const x = this.unary();
        if (x.k === 'num') return { k: 'num', v: -x.v };
        return { k: 'binop', op: '-', a: { k: 'num', v: 0 }, b: x };
      }
      if (t.v === '(') {
        const x = this.expr();
        this.expectPunct(')');
        return x;
      }
      if (t.v === '[') {
        const items: Expr[] = [];
        if (!this.isPunct(']')) {
          items.push(this.expr());
          while (this.isPunct(',')) {
            this.next();
            items.push(this.expr());
          }
        }
        this.expectPunct(']');
        return { k: 'array', items };
      }
      if (t.v === '{') {
        const fields: StructField[] = [];
        while (!this.isPunct('}')) {
          fields.push(this.field());
          if (this.isPunct(',')) this.next();
          else break;
        }
        this.expectPunct('}');
        return { k: 'struct', fields };
      }
    }
    throw new ScriptError(t.line, `syntax error in expression near '${'v' in t ? t.v : 'end of file'}'`);
  }

  field(): StructField {
    const t = this.peek;
    if (t.t === 'word') {
      // name=value or name(arg)=value; otherwise a positional value.
      if (this.isPunct('=', 1)) {
        this.next();
        this.next();
        return { name: t.v, arg: null, value: this.expr() };
      }
      if (this.isPunct('(', 1)) {
        const save = this.#i;
        this.next();
        this.next();
        const arg = this.isPunct(')') ? null : this.expr();
        if (this.isPunct(')') && this.isPunct('=', 1)) {
          this.next();
          this.next();
          return { name: t.v, arg, value: this.expr() };
        }
        this.#i = save;
      }
    }
    return { name: null, arg: null, value: this.expr() };
  }
}

/** Parses a whole script. */
export function parseScript(src: string): Script {
  return new Parser(src, lex(src)).script();
}

const ECN_WORDS = new Set(['noecn', 'ect0', 'ect1', 'ce', 'ect01']);

/** tcp_packet_spec and friends, from a packet line's text (`< S. 0:0(0) ack 1 win 5792 <mss 1460>`). */
export function parsePacket(text: string, line: number): PacketSpec {
  let s = text.slice(1).trim();
  const dir = text[0] as '<' | '>';
  const spec: PacketSpec = {
    dir,
    ecn: null,
    tos: null,
    flowlabel: null,
    flags: '',
    seq: 0,
    end: 0,
    len: 0,
    ack: null,
    win: null,
    urg: null,
    options: [],
    proto: 'tcp',
    text,
  };
  const fail = (why: string): never => {
    throw new ScriptError(line, `syntax error in packet: ${why}: ${text}`);
  };
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) fail('unterminated [');
    const words = s
      .slice(1, close)
      .trim()
      .split(/[\s,]+/);
    for (let k = 0; k < words.length; k++) {
      const w = words[k] as string;
      if (ECN_WORDS.has(w)) spec.ecn = w as PacketSpec['ecn'];
      else if (w === 'tos') spec.tos = Number(words[++k]);
      else if (w === 'flowlabel') spec.flowlabel = Number(words[++k]);
      else if (w === 'ttl' || w === 'hlim') k++;
      else if (w !== '') fail(`unknown [${w}]`);
    }
    s = s.slice(close + 1).trim();
  }
  if (/^(icmp|udp)\b/.test(s)) {
    spec.proto = s.startsWith('icmp') ? 'icmp' : 'udp';
    return spec;
  }
  // Flags, '-' for none; a digit is AccECN's ACE field (`.5`, `P5.`).
  const m = /^([FSRPUEWA.0-7-]+)\s+(\d+):(\d+)\((\d+)\)\s*(.*)$/.exec(s);
  if (m === null) return fail('expected flags and seq:end(len)');
  spec.flags = m[1] as string;
  spec.seq = Number(m[2]) >>> 0;
  spec.end = Number(m[3]) >>> 0;
  spec.len = Number(m[4]);
  let rest = (m[5] as string).trim();
  for (;;) {
    const kv = /^(ack|win|urg)\s+(\d+)\s*/.exec(rest);
    if (kv === null) break;
    spec[kv[1] as 'ack' | 'win' | 'urg'] = Number(kv[2]) >>> 0;
    rest = rest.slice(kv[0].length);
  }
  if (rest.startsWith('<...>')) {
    spec.options = null;
    rest = rest.slice(5).trim();
  } else if (rest.startsWith('<')) {
    const close = rest.lastIndexOf('>');
    if (close < 0) fail('unterminated <options>');
    spec.options = rest
      .slice(1, close)
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '')
      .map((o) => parseOption(o, line));
    rest = rest.slice(close + 1).trim();
  }
  if (rest !== '') fail(`unexpected '${rest}'`);
  return spec;
}

function parseOption(o: string, line: number): TcpOptionSpec {
  const w = o.split(/\s+/);
  const k = w[0] as string;
  const num = (x: string | undefined): number => {
    const v = Number(x);
    if (x === undefined || !Number.isFinite(v)) throw new ScriptError(line, `bad TCP option: ${o}`);
    return v;
  };
  switch (k) {
    case 'mss':
      return { kind: 'mss', mss: num(w[1]), text: o };
    case 'wscale':
      return { kind: 'wscale', wscale: num(w[1]), text: o };
    case 'sackOK':
      return { kind: 'sackOK', text: o };
    case 'nop':
      return { kind: 'nop', text: o };
    case 'eol':
      return { kind: 'eol', text: o };
    case 'TS': {
      const t = /^TS val (\d+) ecr (\d+)$/.exec(o);
      if (t === null) throw new ScriptError(line, `bad TCP option: ${o}`);
      return { kind: 'TS', tsval: Number(t[1]) >>> 0, tsecr: Number(t[2]) >>> 0, text: o };
    }
    case 'sack': {
      const blocks: [number, number][] = [];
      for (const b of w.slice(1)) {
        const p = /^(\d+):(\d+)$/.exec(b);
        if (p === null) throw new ScriptError(line, `bad SACK block: ${b}`);
        blocks.push([Number(p[1]) >>> 0, Number(p[2]) >>> 0]);
      }
      return { kind: 'sack', blocks, text: o };
    }
    case 'FO':
      return { kind: 'FO', cookie: w[1] ?? '', text: o };
    case 'FOEXP':
      return { kind: 'FOEXP', cookie: w[1] ?? '', text: o };
    case 'md5': {
      // new_md5_option(): the digest as the script writes it, up to 16 bytes of hex.
      const hex = w[1] ?? '';
      if (!/^([0-9a-fA-F]{2}){0,16}$/.test(hex))
        throw new ScriptError(line, 'TCP MD5 digest is not a valid hex string');
      return { kind: 'md5', digest: (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)), text: o };
    }
    case 'ECN':
      return { kind: 'ECN', text: o };
  }
  return { kind: 'unknown', text: o };
}
