/**
 * What every ip object shares: iproute2's `matches()`, its number parsers, its
 * argument-error helpers (which exit like iproute2's exit(-1)) and its JSON writer,
 * so output and diagnostics are byte-for-byte iproute2's.
 */
import { inetPton6 } from '../../ipv6/addr.js';
import type { CommandContext } from '../command.js';

/** The global options of ip.c's main(), as counters where iproute2 counts them. */
export interface IpOptions {
  stats: number;
  details: number;
  json: boolean;
  pretty: boolean;
  oneline: boolean;
  brief: boolean;
  human: boolean;
  iec: boolean;
  /** preferred_family: -4, -6, -0 or -f NAME; 0 is AF_UNSPEC. */
  family: number;
  /** -all: `ip -all netns exec|delete`. */
  all: boolean;
}

/** iproute2's option globals before main() parses any. */
export function defaultIpOptions(): IpOptions {
  return {
    stats: 0,
    details: 0,
    json: false,
    pretty: false,
    oneline: false,
    brief: false,
    human: false,
    iec: false,
    family: AF.UNSPEC,
    all: false,
  };
}

export interface IpContext extends CommandContext {
  readonly opts: IpOptions;
}

/** An object's handler: returns what iproute2's do_* returns (0, or -1/-2 on failure). */
export type IpObject = (ctx: IpContext, args: string[]) => number | Promise<number>;

/** iproute2's exit() from deep inside a parser; `ip` turns it into the exit code. */
export class IpExit extends Error {
  constructor(readonly code: number) {
    super(`ip exit ${code}`);
  }
}

/** matches(): a non-empty prefix of `word`. */
export function matches(prefix: string, word: string): boolean {
  return prefix.length > 0 && word.startsWith(prefix);
}

/** Address families (include/linux/socket.h) the -f/-4/-6/-0 options select. */
export const AF = { UNSPEC: 0, INET: 2, INET6: 10, PACKET: 17 } as const;

/** strtol(arg, &end, 0) that must consume the whole string, as get_integer/get_s32 require. */
export function parseCLong(arg: string): bigint | null {
  const m = /^[\t\n\v\f\r ]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(arg);
  if (m === null) return null;
  const digits = m[2] as string;
  const v = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.startsWith('0')
      ? BigInt(`0o${digits.slice(1) || '0'}`)
      : BigInt(digits);
  return m[1] === '-' ? -v : v;
}

/** get_integer(): a C int, or null where iproute2 reports an invalid value. */
export function getInteger(arg: string): number | null {
  const v = parseCLong(arg);
  if (v === null || v > 0x7fffffffn || v < -0x80000000n) return null;
  return Number(v);
}

/** exit(-1) after printing, as iproute2's argument helpers do. */
export function die(ctx: IpContext, text: string): never {
  ctx.stderr.write(text);
  throw new IpExit(255);
}

/** invarg(): `msg` carries its own newline where iproute2's does (hence a blank line). */
export function invarg(ctx: IpContext, msg: string, arg: string): never {
  return die(ctx, `Error: argument "${arg}" is wrong: ${msg}\n`);
}

export function duparg(ctx: IpContext, key: string, arg: string): never {
  return die(ctx, `Error: duplicate "${key}": "${arg}" is the second value.\n`);
}

export function duparg2(ctx: IpContext, key: string, arg: string): never {
  return die(ctx, `Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`);
}

export function incompleteCommand(ctx: IpContext): never {
  return die(ctx, 'Command line is not complete. Try option "help"\n');
}

/** NEXT_ARG(): the word after args[i], or exit with "not complete". */
export function nextArg(ctx: IpContext, args: readonly string[], i: number): string {
  const a = args[i + 1];
  return a === undefined ? incompleteCommand(ctx) : a;
}

/** check_ifname(): what iproute2 itself refuses before asking the kernel. */
export function checkIfname(name: string): boolean {
  return name.length > 0 && new TextEncoder().encode(name).byteLength < 16 && !/[/\s]/.test(name);
}

// ---------------------------------------------------------------------------------
// Parsing addresses and prefixes (lib/utils.c: get_addr_1, get_prefix_1, get_netmask).

/** inet_prefix: an address with its family, length in bytes and prefix length in bits. */
export interface InetPrefix {
  family: number;
  data: Uint8Array;
  bitlen: number;
  /** PREFIXLEN_SPECIFIED: the argument had a "/LEN". */
  specified: boolean;
}

/** strtoul(s, &end, 0) that must consume all of `s`: null when it does not. */
export function strtoul0(s: string): number | null {
  const m = /^[\t\n\v\f\r ]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return null;
  const d = m[1] as string;
  if (/^0[xX]/.test(d)) return Number.parseInt(d.slice(2), 16);
  return d.startsWith('0') ? Number.parseInt(d, 8) : Number.parseInt(d, 10);
}

/** get_addr_ipv4(): one to four parts, each strtoul(…, 0) up to 255; missing parts are 0 ("127.1" is 127.1.0.0). */
export function getAddrIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const out = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    const n = strtoul0(p);
    if (n === null || n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** get_addr_1(): a colon means IPv6; the family asked for must agree. */
export function getAddr1(arg: string, family: number): InetPrefix | null {
  // "default" is the family's zero address; "any" and "all" have no bytes at all.
  if (arg === 'default' || arg === 'any' || arg === 'all') {
    const len = arg !== 'default' ? 0 : family === AF.INET ? 4 : family === AF.INET6 ? 16 : 0;
    return { family, data: new Uint8Array(len), bitlen: 0, specified: true };
  }
  if (arg.includes(':')) {
    if (family !== AF.UNSPEC && family !== AF.INET6) return null;
    const data = inetPton6(arg);
    return data === null ? null : { family: AF.INET6, data, bitlen: 128, specified: false };
  }
  if (family !== AF.UNSPEC && family !== AF.INET) return null;
  const data = getAddrIpv4(arg);
  return data === null ? null : { family: AF.INET, data, bitlen: 32, specified: false };
}

/** get_netmask(): a number of bits, or (IPv4) a contiguous dotted mask. */
function getNetmask(arg: string): number | null {
  const n = strtoul0(arg);
  if (n !== null) return n;
  const m = getAddrIpv4(arg);
  if (m === null || !arg.includes('.')) return null;
  const v = ((m[0] ?? 0) << 24) | ((m[1] ?? 0) << 16) | ((m[2] ?? 0) << 8) | (m[3] ?? 0);
  const bits = Math.clz32(~v);
  return (bits === 32 ? 0 : v << bits) === 0 ? bits : null;
}

export function getPrefix1(arg: string, family: number): InetPrefix | null {
  const slash = arg.indexOf('/');
  const p = getAddr1(slash < 0 ? arg : arg.slice(0, slash), family);
  if (p === null || slash < 0 || p.specified) return p;
  const bits = getNetmask(arg.slice(slash + 1));
  if (bits === null || bits > p.bitlen) return null;
  return { ...p, bitlen: bits, specified: true };
}

/** family_name_verbose(). */
function familyVerbose(family: number): string {
  return family === AF.INET ? 'inet' : family === AF.INET6 ? 'inet6' : 'any valid';
}

/** get_prefix(): exit(1) with iproute2's message when the argument is no prefix. */
export function getInetPrefix(ctx: IpContext, arg: string, family: number): InetPrefix {
  if (family === AF.PACKET) {
    ctx.stderr.write(`Error: "${arg}" may be inet prefix, but it is not allowed in this context.\n`);
    throw new IpExit(1);
  }
  const p = getPrefix1(arg, family);
  if (p !== null) return p;
  ctx.stderr.write(`Error: ${familyVerbose(family)} prefix is expected rather than "${arg}".\n`);
  throw new IpExit(1);
}

/** get_addr(): exit(1) with iproute2's message when the argument is no address. */
export function getInetAddr(ctx: IpContext, arg: string, family: number): InetPrefix {
  if (family === AF.PACKET) {
    ctx.stderr.write(`Error: "${arg}" may be inet address, but it is not allowed in this context.\n`);
    throw new IpExit(1);
  }
  const p = getAddr1(arg, family);
  if (p !== null) return p;
  ctx.stderr.write(`Error: ${familyVerbose(family)} address is expected rather than "${arg}".\n`);
  throw new IpExit(1);
}

/**
 * lib/json_writer.c: iproute2's own JSON printer. Pretty output puts a space inside
 * array brackets and indents four spaces per level, which JSON.stringify cannot do.
 */
export class JsonWriter {
  #out = '';
  #sep = '';
  #depth = 0;

  constructor(readonly pretty: boolean) {}

  get text(): string {
    return this.#out;
  }

  #eol(): void {
    if (this.pretty) this.#out += `\n${'    '.repeat(this.#depth)}`;
  }

  #eor(): void {
    this.#out += this.#sep;
    this.#sep = ',';
  }

  #begin(c: string): void {
    this.#eor();
    this.#out += c;
    this.#depth++;
    this.#sep = '';
  }

  #end(c: string): void {
    this.#depth--;
    if (this.#sep !== '') this.#eol();
    this.#out += c;
    this.#sep = ',';
  }

  name(name: string): this {
    this.#eor();
    this.#eol();
    this.#sep = '';
    this.#out += `${jsonString(name)}:${this.pretty ? ' ' : ''}`;
    return this;
  }

  startObject(): this {
    this.#begin('{');
    return this;
  }

  endObject(): this {
    this.#end('}');
    return this;
  }

  startArray(): this {
    this.#begin('[');
    if (this.pretty) this.#out += ' ';
    return this;
  }

  endArray(): this {
    if (this.pretty && this.#sep !== '') this.#out += ' ';
    this.#sep = '';
    this.#end(']');
    return this;
  }

  string(value: string): this {
    this.#eor();
    this.#out += jsonString(value);
    return this;
  }

  number(value: number): this {
    this.#eor();
    this.#out += String(value);
    return this;
  }

  /** jsonw_bool(): the literal true or false. */
  bool(value: boolean): this {
    this.#eor();
    this.#out += value ? 'true' : 'false';
    return this;
  }

  /** jsonw_null(): print_null()'s literal, as in `"not":null`. */
  null(): this {
    this.#eor();
    this.#out += 'null';
    return this;
  }

  /** jsonw_destroy() ends the document with a newline. */
  finish(): string {
    return `${this.#out}\n`;
  }
}

/** jsonw_puts(): only these characters are escaped. */
function jsonString(s: string): string {
  const esc: Record<string, string> = {
    '\t': '\\t',
    '\n': '\\n',
    '\r': '\\r',
    '\f': '\\f',
    '\b': '\\b',
    '\\': '\\\\',
    '"': '\\"',
  };
  return `"${s.replace(/[\t\n\r\f\b\\"]/g, (c) => esc[c] ?? c)}"`;
}
