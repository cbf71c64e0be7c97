/**
 * What every ip object shares: iproute2's `matches()`, its number parsers, its
 * argument-error helpers (which exit like iproute2's exit(-1)) and its JSON writer,
 * so output and diagnostics are byte-for-byte iproute2's.
 */
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
}

export interface IpContext extends CommandContext {
  readonly opts: IpOptions;
}

/** An object's handler: returns what iproute2's do_* returns (0, or -1/-2 on failure). */
export type IpObject = (ctx: IpContext, args: string[]) => number;

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
