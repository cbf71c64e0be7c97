/**
 * tcpdump(8), as tcpdump 4.99 with libpcap 1.10 on Linux: live capture on a device of
 * the namespace (or `any`) through a packet tap, -r to read pcap/pcapng files, -w to
 * write pcap, pcap-filter expressions, and the printer in tcpdump/print.ts. Messages,
 * the stderr header and the closing counts are the real tool's. Files are the host's
 * (Node); in a browser -r and -w report the file as missing.
 */

import { type CapturedPacket, CaptureError, defaultCaptureDevice, PacketCapture } from '../capture/capture.js';
import { compileFilter, FilterError, type FilterFn } from '../capture/filter.js';
import { LINKTYPE, MAXIMUM_SNAPLEN, openPcap, PcapError, PcapWriter } from '../capture/pcap.js';
import { isPcapng, readPcapng } from '../capture/pcapng.js';
import type { Net } from '../net/net.js';
import type { CommandContext } from './command.js';
import { DEFAULT_PRINT_OPTIONS, Printer, type PrintOptions } from './tcpdump/print.js';

const VERSION = `tcpdump version 4.99.3
libpcap version 1.10.3 (with TPACKET_V3)
`;

const USAGE = `Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
`;

/** Options that take an argument, in getopt's string for tcpdump 4.99. */
const WITH_ARG = new Set([
  'B',
  'c',
  'C',
  'E',
  'F',
  'G',
  'i',
  'j',
  'm',
  'M',
  'Q',
  'r',
  's',
  'T',
  'V',
  'w',
  'W',
  'y',
  'z',
  'Z',
]);
const FLAGS = new Set([...'AbdDefhHIJKlLnNOpqStuUvxX#']);

const LINKTYPE_NAMES: Record<number, string> = {
  [LINKTYPE.ETHERNET]: 'EN10MB (Ethernet)',
  [LINKTYPE.RAW]: 'RAW (Raw IP)',
  [LINKTYPE.LINUX_SLL]: 'LINUX_SLL (Linux cooked v1)',
  [LINKTYPE.LINUX_SLL2]: 'LINUX_SLL2 (Linux cooked v2)',
  [LINKTYPE.NULL]: 'NULL (BSD loopback)',
};

interface Options {
  print: PrintOptions;
  count: number;
  device: string | undefined;
  read: string | undefined;
  write: string | undefined;
  snaplen: number;
  nano: boolean;
  expression: string;
  /** -D: list the devices instead of capturing. */
  list: boolean;
  /** --count: with -r, only the number of packets that match. */
  countOnly: boolean;
  /** -# / --number: each line starts with the packet's number. */
  number: boolean;
  /** -F FILE: the expression comes from a file. */
  filterFile: string | undefined;
  /** -Q: which direction to capture. */
  direction: 'in' | 'out' | 'inout';
  /** Not -p: the device is put in promiscuous mode while the capture runs. */
  promisc: boolean;
}

/** A command-line error: getopt's (followed by the usage text) or tcpdump's own (message only). */
class Usage {
  constructor(
    readonly message: string,
    readonly showUsage = true,
  ) {}
}

function parseArgs(argv: readonly string[]): Options | Usage | 'help' | 'version' {
  const print: PrintOptions = { ...DEFAULT_PRINT_OPTIONS };
  const o: Options = {
    print,
    count: 0,
    device: undefined,
    read: undefined,
    write: undefined,
    snaplen: MAXIMUM_SNAPLEN,
    nano: false,
    expression: '',
    list: false,
    countOnly: false,
    number: false,
    filterFile: undefined,
    direction: 'inout',
    promisc: true,
  };
  const rest: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      if (a === '--version') return 'version';
      if (a === '--help') return 'help';
      if (a === '--nano' || a === '--time-stamp-precision=nano') o.nano = true;
      else if (a === '--micro' || a === '--time-stamp-precision=micro') o.nano = false;
      else if (a === '--count') o.countOnly = true;
      else if (a === '--number') o.number = true;
      else if (a === '--immediate-mode' || a === '--print') {
        // Accepted; output is immediate already.
      } else return new Usage(`tcpdump: unrecognized option '${a}'\n`);
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      if (WITH_ARG.has(c)) {
        let val = a.slice(j + 1);
        if (val === '') {
          const next = argv[++i];
          if (next === undefined) return new Usage(`tcpdump: option requires an argument -- '${c}'\n`);
          val = next;
        }
        const err = applyArg(o, c, val);
        if (err !== null) return err;
        break;
      }
      if (!FLAGS.has(c)) return new Usage(`tcpdump: invalid option -- '${c}'\n`);
      switch (c) {
        case 'h':
          return 'help';
        case 'e':
          print.e = true;
          break;
        case 'p':
          o.promisc = false;
          break;
        case 'q':
          print.q = true;
          break;
        case 'v':
          print.v++;
          break;
        case 'x':
          print.x++;
          break;
        case 'X':
          print.X++;
          break;
        case 'A':
          print.A = true;
          break;
        case 't':
          print.t++;
          break;
        case 'S':
          print.S = true;
          break;
        case 'n':
          print.n = true;
          break;
        case 'D':
          o.list = true;
          break;
        case '#':
          o.number = true;
          break;
        default:
        // -l, -p, -U and the rest change nothing here.
      }
    }
  }
  o.expression = rest.join(' ');
  print.nano = o.nano;
  return o;
}

function applyArg(o: Options, c: string, val: string): Usage | null {
  switch (c) {
    case 'c': {
      const n = /^\d+$/.test(val) ? Number(val) : Number.NaN;
      if (!(n > 0)) return new Usage(`tcpdump: invalid packet count ${val}\n`, false);
      o.count = n;
      return null;
    }
    case 'i':
      o.device = val;
      return null;
    case 'Q':
      if (val !== 'in' && val !== 'out' && val !== 'inout') {
        return new Usage(`tcpdump: unknown capture direction \`${val}'\n`, false);
      }
      o.direction = val;
      return null;
    case 'r':
      o.read = val;
      return null;
    case 'F':
      o.filterFile = val;
      return null;
    case 'w':
      o.write = val;
      return null;
    case 's': {
      const n = /^\d+$/.test(val) ? Number(val) : Number.NaN;
      if (Number.isNaN(n) || n > 262144) return new Usage(`tcpdump: invalid snaplen ${val}\n`, false);
      o.snaplen = n === 0 ? MAXIMUM_SNAPLEN : n;
      return null;
    }
    default:
      return null;
  }
}

/** node:fs/promises when running in Node; undefined in a browser. */
async function hostFs(): Promise<typeof import('node:fs/promises') | undefined> {
  const spec = 'node:fs/promises';
  try {
    return (await import(/* @vite-ignore */ spec)) as typeof import('node:fs/promises');
  } catch {
    return undefined;
  }
}

function errnoText(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EISDIR') return 'Is a directory';
  return (e as Error).message;
}

/** A pcap file being written: the header first, then records as they come. */
class DumpFile {
  readonly #w: PcapWriter;
  #chunks: Uint8Array[] = [];

  private constructor(
    readonly fh: import('node:fs/promises').FileHandle,
    linktype: number,
    snaplen: number,
    nano: boolean,
  ) {
    this.#w = new PcapWriter({ linktype, snaplen, nanosecond: nano });
    this.#chunks.push(this.#w.fileHeader());
  }

  static async open(path: string, linktype: number, snaplen: number, nano: boolean): Promise<DumpFile | string> {
    const fs = await hostFs();
    if (fs === undefined) return `${path}: No such file or directory`;
    try {
      return new DumpFile(await fs.open(path, 'w'), linktype, snaplen, nano);
    } catch (e) {
      return `${path}: ${errnoText(e)}`;
    }
  }

  add(p: { tsSec: number; tsNsec: number; origLen: number; data: Uint8Array }): void {
    this.#chunks.push(this.#w.record(p));
  }

  async flush(): Promise<void> {
    const chunks = this.#chunks;
    this.#chunks = [];
    for (const c of chunks) await this.fh.write(c);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh.close();
  }
}

/**
 * read_infile(): with -F the expression is the file's text ('#' starts a comment) and
 * the command line's expression is ignored. A string is the error message.
 */
async function expressionOf(o: Options): Promise<string | { error: string }> {
  if (o.filterFile === undefined) return o.expression;
  const fs = await hostFs();
  try {
    if (fs === undefined) throw Object.assign(new Error('no file system'), { code: 'ENOENT' });
    const text = await fs.readFile(o.filterFile, 'utf8');
    return text.replace(/#[^\n]*/g, (c) => ' '.repeat(c.length));
  } catch (e) {
    return { error: `can't open ${o.filterFile}: ${errnoText(e)}` };
  }
}

/** Everything standard input holds, as bytes (text chunks as UTF-8). */
async function readAll(stdin: CommandContext['stdin']): Promise<Uint8Array> {
  if (stdin === undefined) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for await (const c of stdin) parts.push(typeof c === 'string' ? new TextEncoder().encode(c) : c);
  const out = new Uint8Array(parts.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** -#: "%5u  " before the packet's lines. */
function numbered(o: Options, n: number, text: string): string {
  return o.number ? `${String(n).padStart(5)}  ${text}` : text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function tcpdump(ctx: CommandContext): Promise<number> {
  const { argv, stdout, stderr } = ctx;
  const o = parseArgs(argv);
  if (o === 'version') {
    stdout.write(`${VERSION}OpenSSL 3.0.19 27 Jan 2026\n`);
    return 0;
  }
  if (o === 'help') {
    // -h is asked for: the usage goes to stdout (print_usage(stdout)).
    stdout.write(`${VERSION}OpenSSL 3.0.19 27 Jan 2026\n${USAGE}`);
    return 0;
  }
  if (o instanceof Usage) {
    stderr.write(o.showUsage ? `${o.message}${VERSION}OpenSSL 3.0.19 27 Jan 2026\n${USAGE}` : o.message);
    return 1;
  }
  if (o.list) return listDevices(ctx);
  if (o.read !== undefined) return readFile(ctx, o);
  return live(ctx, o);
}

/**
 * -D: pcap_findalldevs() order: up non-loopback devices, `any`, then up loopback ones
 * (a down lo is not listed). The host's own pseudo-devices (nflog, dbus…) have no lonet twin.
 */
function listDevices({ net, stdout }: CommandContext): number {
  const lines = findAllDevs(net).map(
    (d) =>
      `${d.name}${d.name === 'any' ? ' (Pseudo-device that captures on all interfaces) [Up, Running]' : d.loopback ? ' [Up, Running, Loopback]' : ' [Up, Running, Connected]'}`,
  );
  stdout.write(lines.map((l, i) => `${i + 1}.${l}\n`).join(''));
  return 0;
}

/** The devices pcap_findalldevs() would give, in its order. */
function findAllDevs(net: Net): { name: string; loopback: boolean }[] {
  const up = net.devices.filter((d) => (d.flags & 0x1) !== 0);
  return [
    ...up.filter((d) => (d.flags & 0x8) === 0).map((d) => ({ name: d.name, loopback: false })),
    { name: 'any', loopback: false },
    ...up.filter((d) => (d.flags & 0x8) !== 0).map((d) => ({ name: d.name, loopback: true })),
  ];
}

function ifNamer(net: Net): (ifindex: number) => string {
  return (i) => net.devGetByIndex(i)?.name ?? '?';
}

async function readFile(ctx: CommandContext, o: Options): Promise<number> {
  const { net, stdout, stderr } = ctx;
  const path = o.read as string;
  let bytes: Uint8Array;
  if (path === '-') {
    // -r -: the capture comes on standard input (none is /dev/null: an empty file).
    bytes = await readAll(ctx.stdin);
  } else {
    const fs = await hostFs();
    try {
      if (fs === undefined) throw Object.assign(new Error('no file system'), { code: 'ENOENT' });
      bytes = new Uint8Array(await fs.readFile(path));
    } catch (e) {
      stderr.write(`tcpdump: ${path}: ${errnoText(e)}\n`);
      return 1;
    }
  }
  let linktype: number;
  let snaplen: number;
  let records: { tsSec: number; tsNsec: number; origLen: number; data: Uint8Array }[];
  let fileError: PcapError | undefined;
  if (isPcapng(bytes)) {
    const r = readPcapng(bytes);
    if (r instanceof PcapError) {
      stderr.write(`tcpdump: ${r.message}\n`);
      return 1;
    }
    const first = r.interfaces[0];
    linktype = first?.linktype ?? LINKTYPE.ETHERNET;
    snaplen = first?.snaplen || MAXIMUM_SNAPLEN;
    records = r.records;
  } else {
    const reader = openPcap(bytes);
    if (reader instanceof PcapError) {
      // libpcap reads the 4-byte magic, then the rest of the 24-byte header.
      const magic = bytes.byteLength >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : 0;
      const known = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magic);
      if (bytes.byteLength < 4) {
        stderr.write(`tcpdump: truncated dump file; tried to read 4 file header bytes, only got ${bytes.byteLength}\n`);
      } else if (known && bytes.byteLength < 24) {
        stderr.write(
          `tcpdump: truncated dump file; tried to read 24 file header bytes, only got ${bytes.byteLength - 4}\n`,
        );
      } else stderr.write('tcpdump: unknown file format\n');
      return 1;
    }
    linktype = reader.header.linktype;
    snaplen = reader.header.snaplen;
    records = [...reader];
    fileError = reader.error;
  }
  stderr.write(
    `reading from file ${path}, link-type ${LINKTYPE_NAMES[linktype] ?? `${linktype}`}, snapshot length ${snaplen}\n`,
  );
  // Cooked captures name interfaces by index; tcpdump looks them up here, not where captured.
  if (linktype === LINKTYPE.LINUX_SLL2) stderr.write('Warning: interface names might be incorrect\n');
  const expression = await expressionOf(o);
  if (typeof expression !== 'string') {
    stderr.write(`tcpdump: ${expression.error}\n`);
    return 1;
  }
  let filter: FilterFn | null = null;
  try {
    if (expression.trim() !== '') filter = compileFilter(expression);
  } catch (e) {
    if (!(e instanceof FilterError)) throw e;
    stderr.write(`tcpdump: ${e.message}\n`);
    return 1;
  }
  let dump: DumpFile | undefined;
  if (o.write !== undefined) {
    const d = await DumpFile.open(o.write, linktype, snaplen, o.nano);
    if (typeof d === 'string') {
      stderr.write(`tcpdump: ${d}\n`);
      return 1;
    }
    dump = d;
  }
  const printer = new Printer(o.print, linktype, ifNamer(net));
  let n = 0;
  for (const r of records) {
    if (filter !== null && !filter({ data: r.data, len: r.origLen, linktype })) continue;
    n++;
    if (dump !== undefined) dump.add(r);
    else if (!o.countOnly) stdout.write(numbered(o, n, printer.print(r)));
    if (o.count > 0 && n >= o.count) break;
  }
  await dump?.close();
  if (o.countOnly && dump === undefined) stdout.write(`${plural(n, 'packet')}\n`);
  if (fileError !== undefined && !(o.count > 0 && n >= o.count)) {
    const left = bytes.byteLength - fileError.offset;
    const why =
      left < 16
        ? `tried to read 16 header bytes, only got ${left}`
        : `tried to read ${new DataView(bytes.buffer, bytes.byteOffset + fileError.offset + 8, 4).getUint32(0, true)} captured bytes, only got ${left - 16}`;
    stderr.write(`tcpdump: pcap_loop: truncated dump file; ${why}\n`);
    return 1;
  }
  return 0;
}

async function live(ctx: CommandContext, o: Options): Promise<number> {
  const { net, stdout, stderr, signal } = ctx;
  // No await before the tap exists unless -F needs the file: a `tcpdump &` sees what follows it.
  const expression = o.filterFile === undefined ? o.expression : await expressionOf(o);
  if (typeof expression !== 'string') {
    stderr.write(`tcpdump: ${expression.error}\n`);
    return 1;
  }
  let device = o.device ?? defaultCaptureDevice(net);
  if (o.device !== undefined && /^\d+$/.test(o.device)) {
    // -i N: the Nth device of the -D list.
    const pick = findAllDevs(net)[Number(o.device) - 1];
    if (pick === undefined) {
      stderr.write('tcpdump: Invalid adapter index\n');
      return 1;
    }
    device = pick.name;
  }
  let cap: PacketCapture;
  try {
    // Only an explicit `-i` asks for LINUX_SLL2 on `any`; a device tcpdump picked itself keeps v1.
    cap = new PacketCapture(net, {
      device,
      cooked: o.device === undefined ? 'sll' : 'sll2',
      direction: o.direction,
      promisc: o.promisc,
      filter: expression,
      snaplen: o.snaplen,
      signal,
    });
  } catch (e) {
    if (e instanceof CaptureError) {
      stderr.write(`tcpdump: ${e.message}\n(No such device exists)\n`);
      return 1;
    }
    if (e instanceof FilterError) {
      stderr.write(`tcpdump: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  let dump: DumpFile | undefined;
  if (o.write !== undefined) {
    const d = await DumpFile.open(o.write, cap.linktype, cap.snaplen, o.nano);
    if (typeof d === 'string') {
      cap.close();
      stderr.write(`tcpdump: ${d}\n`);
      return 1;
    }
    dump = d;
  }
  if (cap.linktype === LINKTYPE.LINUX_SLL2) stderr.write('tcpdump: data link type LINUX_SLL2\n');
  if (o.print.v === 0 && o.write === undefined) {
    stderr.write('tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n');
  } else stderr.write('tcpdump: ');
  stderr.write(
    `listening on ${cap.device}, link-type ${LINKTYPE_NAMES[cap.linktype]}, snapshot length ${cap.snaplen} bytes\n`,
  );
  const printer = new Printer(o.print, cap.linktype, ifNamer(net));
  let n = 0;
  try {
    for (;;) {
      const p: CapturedPacket | undefined = await cap.next();
      if (p === undefined) break;
      n++;
      const rec = { tsSec: Math.floor(p.tsNs / 1e9), tsNsec: p.tsNs % 1e9, origLen: p.origLen, data: p.data };
      if (dump !== undefined) {
        dump.add(rec);
        await dump.flush();
      } else stdout.write(numbered(o, n, printer.print(rec)));
      if (o.count > 0 && n >= o.count) break;
    }
  } finally {
    cap.close();
    await dump?.close();
  }
  // cleanup() on SIGINT: a line may have been cut short, so a newline first (when printing).
  if (signal.aborted && !(o.count > 0 && n >= o.count) && dump === undefined) stdout.write('\n');
  // libpcap's recv() fails with ENETDOWN once the device is gone.
  if (cap.error !== undefined) stderr.write('tcpdump: pcap_loop: The interface disappeared\n');
  stderr.write(
    `${plural(n, 'packet')} captured\n${plural(cap.stats.received, 'packet')} received by filter\n${plural(cap.stats.dropped, 'packet')} dropped by kernel\n`,
  );
  return cap.error !== undefined ? 1 : 0;
}
