/**
 * ss(8) from iproute2 6.1: sockets as sock_diag reports them, laid out by ss's column
 * engine as it does when stdout is not a terminal (each column as wide as its widest
 * cell, "Process" heading the extension column whether or not -p is given — hence
 * "PortProcess"). Protocols plug in as tables (udp now, tcp next), each a dump of
 * InetDiagMsg in the kernel's order.
 */

import type { InetDiagMsg, TcpInfo } from '../core/sock-diag.js';
import { TCP_STATE } from '../include/tcp-states.js';
import { formatIpv4 } from '../ipv4/devinet.js';
import { formatIpv6, ipv6AddrAny } from '../ipv6/addr.js';
import type { Net } from '../net/net.js';
import { type UnixDiagMsg, unixDiagDump } from '../socket/unix.js';
import { tcpDiagDump } from '../transport/tcp/diag.js';
import { udpDiagDump } from '../transport/udp-proc.js';
import type { CommandContext } from './command.js';
import { TCP_SERVICES, UDP_SERVICES } from './services.js';

/** SS_* states: the kernel's TCP_* numbering, with ss's UNKNOWN and MAX around it. */
const SS = { UNKNOWN: 0, ...TCP_STATE, MAX: 12 } as const;

const SS_ALL = (1 << SS.MAX) - 1;
const SS_CONN = SS_ALL & ~((1 << SS.LISTEN) | (1 << SS.CLOSE) | (1 << SS.TIME_WAIT) | (1 << SS.SYN_RECV));

/**
 * ss's socket tables (default_dbs[]) and the states each shows when none are asked
 * for. Only udp (and tcp, once it plugs in) have sockets in lonet; the others exist
 * so the options that select them lay out columns as ss does, over no sockets.
 */
type Db =
  | 'udp'
  | 'tcp'
  | 'dccp'
  | 'mptcp'
  | 'raw'
  | 'unix_st'
  | 'unix_dg'
  | 'unix_sq'
  | 'packet_r'
  | 'packet_dg'
  | 'netlink'
  | 'sctp'
  | 'vsock_st'
  | 'vsock_dg'
  | 'xdp';

const DB_STATES: Record<Db, number> = {
  udp: 1 << SS.ESTABLISHED,
  tcp: SS_CONN,
  dccp: SS_CONN,
  mptcp: SS_CONN,
  raw: 1 << SS.ESTABLISHED,
  unix_st: SS_CONN,
  unix_dg: 1 << SS.CLOSE,
  unix_sq: SS_CONN,
  packet_r: 1 << SS.CLOSE,
  packet_dg: 1 << SS.CLOSE,
  netlink: 1 << SS.CLOSE,
  sctp: SS_CONN,
  vsock_st: SS_CONN,
  vsock_dg: SS_CONN,
  xdp: 1 << SS.CLOSE,
};

const INET_DBS: readonly Db[] = ['tcp', 'mptcp', 'udp', 'dccp', 'sctp', 'raw'];

/** filter_db_parse()'s names, for -A. */
const DB_NAMES: Record<string, readonly Db[]> = {
  all: [
    'udp',
    'dccp',
    'tcp',
    'mptcp',
    'raw',
    'unix_st',
    'unix_dg',
    'unix_sq',
    'packet_r',
    'packet_dg',
    'netlink',
    'sctp',
    'vsock_st',
    'vsock_dg',
    'xdp',
  ],
  inet: ['udp', 'dccp', 'tcp', 'mptcp', 'sctp', 'raw'],
  udp: ['udp'],
  dccp: ['dccp'],
  tcp: ['tcp'],
  mptcp: ['mptcp'],
  sctp: ['sctp'],
  raw: ['raw'],
  unix: ['unix_st', 'unix_dg', 'unix_sq'],
  unix_stream: ['unix_st'],
  u_str: ['unix_st'],
  unix_dgram: ['unix_dg'],
  u_dgr: ['unix_dg'],
  unix_seqpacket: ['unix_sq'],
  u_seq: ['unix_sq'],
  packet: ['packet_r', 'packet_dg'],
  packet_raw: ['packet_r'],
  p_raw: ['packet_r'],
  packet_dgram: ['packet_dg'],
  p_dgr: ['packet_dg'],
  netlink: ['netlink'],
  vsock: ['vsock_st', 'vsock_dg'],
  vsock_stream: ['vsock_st'],
  v_str: ['vsock_st'],
  vsock_dgram: ['vsock_dg'],
  v_dgr: ['vsock_dg'],
  xdp: ['xdp'],
};

/** The short options that select tables. */
const DB_OPTS: Record<string, readonly Db[]> = {
  t: ['tcp'],
  u: ['udp'],
  d: ['dccp'],
  M: ['mptcp'],
  S: ['sctp'],
  w: ['raw'],
  x: ['unix_st', 'unix_dg', 'unix_sq'],
  '0': ['packet_r', 'packet_dg'],
};

const SSTATE_NAME: Record<number, string> = {
  [SS.UNKNOWN]: 'UNKNOWN',
  [SS.ESTABLISHED]: 'ESTAB',
  [SS.SYN_SENT]: 'SYN-SENT',
  [SS.SYN_RECV]: 'SYN-RECV',
  [SS.FIN_WAIT1]: 'FIN-WAIT-1',
  [SS.FIN_WAIT2]: 'FIN-WAIT-2',
  [SS.TIME_WAIT]: 'TIME-WAIT',
  [SS.CLOSE]: 'UNCONN',
  [SS.CLOSE_WAIT]: 'CLOSE-WAIT',
  [SS.LAST_ACK]: 'LAST-ACK',
  [SS.LISTEN]: 'LISTEN',
  [SS.CLOSING]: 'CLOSING',
};

/**
 * A protocol as ss sees it: its netid, the states shown when none are asked for
 * (default_dbs[]), its service names, and its sock_diag dump for one family.
 */
export interface SsTable {
  netid: string;
  defaultStates: number;
  services: ReadonlyMap<number, string>;
  dump(net: Net, family: 4 | 6): InetDiagMsg[];
}

/** In ss's print order (udp_show before tcp_show). */
export const SS_TABLES: Record<'udp' | 'tcp', SsTable | null> = {
  udp: { netid: 'udp', defaultStates: 1 << SS.ESTABLISHED, services: UDP_SERVICES, dump: udpDiagDump },
  tcp: { netid: 'tcp', defaultStates: SS_CONN, services: TCP_SERVICES, dump: tcpDiagDump },
};

const USAGE = `Usage: ss [ OPTIONS ]
       ss [ OPTIONS ] [ FILTER ]
   -h, --help          this message
   -V, --version       output version information
   -n, --numeric       don't resolve service names
   -r, --resolve       resolve host names
   -a, --all           display all sockets
   -l, --listening     display listening sockets
   -o, --options       show timer information
   -e, --extended      show detailed socket information
   -m, --memory        show socket memory usage
   -p, --processes     show process using socket
   -T, --threads       show thread using socket
   -i, --info          show internal TCP information
       --tipcinfo      show internal tipc socket information
   -s, --summary       show socket usage summary
       --tos           show tos and priority information
       --cgroup        show cgroup information
   -b, --bpf           show bpf filter socket information
   -E, --events        continually display sockets as they are destroyed
   -Z, --context       display task SELinux security contexts
   -z, --contexts      display task and socket SELinux security contexts
   -N, --net           switch to the specified network namespace name

   -4, --ipv4          display only IP version 4 sockets
   -6, --ipv6          display only IP version 6 sockets
   -0, --packet        display PACKET sockets
   -t, --tcp           display only TCP sockets
   -M, --mptcp         display only MPTCP sockets
   -S, --sctp          display only SCTP sockets
   -u, --udp           display only UDP sockets
   -d, --dccp          display only DCCP sockets
   -w, --raw           display only RAW sockets
   -x, --unix          display only Unix domain sockets
       --tipc          display only TIPC sockets
       --vsock         display only vsock sockets
       --xdp           display only XDP sockets
   -f, --family=FAMILY display sockets of type FAMILY
       FAMILY := {inet|inet6|link|unix|netlink|vsock|tipc|xdp|help}

   -K, --kill          forcibly close sockets, display what was closed
   -H, --no-header     Suppress header line
   -O, --oneline       socket's data printed on a single line
       --inet-sockopt  show various inet socket options

   -A, --query=QUERY, --socket=QUERY
       QUERY := {all|inet|tcp|mptcp|udp|raw|unix|unix_dgram|unix_stream|unix_seqpacket|packet|packet_raw|packet_dgram|netlink|dccp|sctp|vsock_stream|vsock_dgram|tipc|xdp}[,QUERY]

   -D, --diag=FILE     Dump raw information about TCP sockets to FILE
   -F, --filter=FILE   read filter information from FILE
       FILTER := [ state STATE-FILTER ] [ EXPRESSION ]
       STATE-FILTER := {all|connected|synchronized|bucket|big|TCP-STATES}
         TCP-STATES := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|closed|close-wait|last-ack|listening|closing}
          connected := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
       synchronized := {established|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
             bucket := {syn-recv|time-wait}
                big := {established|syn-sent|fin-wait-{1,2}|closed|close-wait|last-ack|listening|closing}
`;

// ---- the column engine (ss.c: out, field_next, render_calc_width, render) ----

const COL = {
  NETID: 0,
  STATE: 1,
  RECVQ: 2,
  SENDQ: 3,
  ADDR: 4,
  SERV: 5,
  RADDR: 6,
  RSERV: 7,
  EXT: 8,
  PROC: 9,
  MAX: 10,
} as const;

interface Column {
  right: boolean;
  header: string;
  ldelim: string;
  disabled: boolean;
  width: number;
  maxLen: number;
}

function makeColumns(): Column[] {
  const c = (right: boolean, header: string, ldelim: string): Column => ({
    right,
    header,
    ldelim,
    disabled: false,
    width: 0,
    maxLen: 0,
  });
  // iproute2 6.1: "Process" sits over COL_EXT, the last column has no header.
  return [
    c(false, 'Netid', ''),
    c(false, 'State', ' '),
    c(false, 'Recv-Q', ' '),
    c(false, 'Send-Q', ' '),
    c(true, 'Local Address:', ' '),
    c(false, 'Port', ''),
    c(true, 'Peer Address:', ' '),
    c(false, 'Port', ''),
    c(false, 'Process', ''),
    c(false, '', ''),
  ];
}

/** The buffered fields: tokens in order, each tagged with its column. */
class Fields {
  readonly tokens: { col: number; text: string }[] = [];
  current = 0;
  #text = '';

  constructor(readonly columns: Column[]) {}

  out(s: string): void {
    if (!(this.columns[this.current] as Column).disabled) this.#text += s;
  }

  /** field_flush + advance. */
  next(): void {
    const f = this.columns[this.current] as Column;
    if (!f.disabled) {
      this.tokens.push({ col: this.current, text: this.#text });
      if (this.#text.length > f.maxLen) f.maxLen = this.#text.length;
    }
    this.#text = '';
    this.current = this.current === COL.MAX - 1 ? 0 : this.current + 1;
  }

  set(id: number): void {
    while (this.current !== id) this.next();
  }

  /** render(): the token in progress is printed but, never flushed, does not widen its column. */
  render(): string {
    const cols = this.columns;
    const tokens = [...this.tokens];
    if (this.#text.length > 0 || this.current !== 0 || tokens.length > 0) {
      if (!(cols[this.current] as Column).disabled) tokens.push({ col: this.current, text: this.#text });
    }
    if (tokens.length === 0) return '';
    // render_calc_width() in compact mode: widths are content widths, plus the delimiter.
    let first = true;
    for (const c of cols) {
      if (c.disabled) continue;
      c.width = !first && c.maxLen ? c.maxLen + c.ldelim.length : c.maxLen;
      if (c.width) first = false;
    }
    let out = '';
    let lineStarted = false;
    let f = 0;
    while (f < COL.MAX && !(cols[f] as Column).width) f++;
    for (const t of tokens) {
      const c = cols[f] as Column;
      let printed = 0;
      if (lineStarted) {
        out += c.ldelim;
        printed = c.ldelim.length;
      }
      lineStarted = true;
      if (c.width && c.right) {
        const s = c.width - t.text.length - printed;
        if (s > 0) {
          out += ' '.repeat(s);
          printed += s;
        }
      }
      out += t.text;
      printed += t.text.length;
      if (c.width && !c.right && c.width - printed > 0) out += ' '.repeat(c.width - printed);
      do {
        if (f === COL.MAX - 1) {
          out += '\n';
          f = 0;
          lineStarted = false;
        } else {
          f++;
        }
      } while ((cols[f] as Column).disabled);
    }
    if (lineStarted) out += '\n';
    return out;
  }
}

// ---- options ----

interface Options {
  numeric: boolean;
  extended: boolean;
  memory: boolean;
  info: boolean;
  options: boolean;
  processes: boolean;
  header: boolean;
  oneline: boolean;
  dbs: Set<Db>;
  families: Set<4 | 6>;
  stateFilter: number;
  filterStates: number;
}

const LONG: Record<string, string> = {
  numeric: 'n',
  all: 'a',
  listening: 'l',
  extended: 'e',
  memory: 'm',
  processes: 'p',
  ipv4: '4',
  ipv6: '6',
  tcp: 't',
  udp: 'u',
  dccp: 'd',
  mptcp: 'M',
  sctp: 'S',
  raw: 'w',
  unix: 'x',
  packet: '0',
  'no-header': 'H',
  oneline: 'O',
  help: 'h',
  version: 'V',
  options: 'o',
  info: 'i',
  resolve: 'r',
};

type Parsed = Options | { exit: number; stdout?: string; stderr?: string };

function parse(argv: readonly string[]): Parsed {
  const o: Options = {
    numeric: false,
    extended: false,
    memory: false,
    info: false,
    options: false,
    processes: false,
    header: true,
    oneline: false,
    dbs: new Set(),
    families: new Set(),
    stateFilter: 0,
    filterStates: 0,
  };
  let doDefault = true;
  const flags: string[] = [];
  const operands: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i] as string;
    if (w === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const [name, value] = w.slice(2).split(/=(.*)/s) as [string, string | undefined];
      if (name === 'query' || name === 'socket' || name === 'family') {
        const arg = value ?? argv[++i];
        if (arg === undefined) return { exit: 255, stderr: `ss: option '--${name}' requires an argument\n${USAGE}` };
        flags.push(name === 'family' ? 'f' : 'A', arg);
        continue;
      }
      const short = LONG[name];
      if (short === undefined) return { exit: 255, stderr: `ss: unrecognized option '${w}'\n${USAGE}` };
      flags.push(short);
    } else if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const c = w[j] as string;
        flags.push(c);
        if (c === 'A' || c === 'f') {
          const arg = j + 1 < w.length ? w.slice(j + 1) : argv[++i];
          if (arg === undefined) return { exit: 255, stderr: `ss: option requires an argument -- '${c}'\n${USAGE}` };
          flags.push(arg);
          break;
        }
      }
    } else {
      operands.push(w);
    }
  }
  let sawQuery = false;
  const addDbs = (dbs: readonly Db[], enable = true) => {
    for (const db of dbs) {
      if (enable) {
        o.filterStates |= DB_STATES[db];
        o.dbs.add(db);
      } else o.dbs.delete(db);
    }
    doDefault = false;
  };
  const addFamily = (af: 4 | 6) => {
    // filter_af_set(): the family's default states join the filter too.
    o.families.add(af);
    o.filterStates |= SS_CONN;
    doDefault = false;
  };
  for (let k = 0; k < flags.length; k++) {
    const f = flags[k] as string;
    const table = DB_OPTS[f];
    if (table !== undefined) {
      addDbs(table);
      continue;
    }
    switch (f) {
      case 'A': {
        const query = flags[++k] as string;
        // The first -A starts from no tables and, unless states were chosen, the connected ones.
        if (!sawQuery) {
          o.dbs.clear();
          if (o.stateFilter === 0) o.stateFilter = SS_CONN;
          sawQuery = true;
        }
        for (const q of query.split(',')) {
          const off = q.startsWith('!');
          const dbs = DB_NAMES[off ? q.slice(1) : q];
          if (dbs === undefined) return { exit: 255, stderr: `ss: wrong set of sockets ${query}\n${USAGE}` };
          addDbs(dbs, !off);
        }
        break;
      }
      case 'f': {
        const fam = flags[++k] as string;
        if (fam === 'inet') addFamily(4);
        else if (fam === 'inet6') addFamily(6);
        else if (fam === 'help') return { exit: 255, stderr: USAGE };
        else return { exit: 255, stderr: `ss: "${fam}" is invalid family\n${USAGE}` };
        break;
      }
      case 'n':
        o.numeric = true;
        break;
      case 'r':
        break;
      case 'o':
        o.options = true;
        break;
      case 'i':
        o.info = true;
        break;
      case 'a':
        o.stateFilter = SS_ALL;
        break;
      case 'l':
        o.stateFilter = (1 << SS.LISTEN) | (1 << SS.CLOSE);
        break;
      case 'e':
        o.extended = true;
        break;
      case 'm':
        o.memory = true;
        break;
      case 'p':
        o.processes = true;
        break;
      case 'H':
        o.header = false;
        break;
      case 'O':
        o.oneline = true;
        break;
      case '4':
      case '6':
        addFamily(f === '4' ? 4 : 6);
        break;
      case 'h':
        return { exit: 0, stdout: USAGE };
      case 'V':
        return { exit: 0, stdout: 'ss utility, iproute2-6.1.0\n' };
      default:
        return { exit: 255, stderr: `ss: invalid option -- '${f}'\n${USAGE}` };
    }
  }
  // The state filter: `state S` and `exclude S`, as many as given, before any expression.
  let sawStates = false;
  while (operands.length > 0 && (operands[0] === 'state' || operands[0] === 'exclude' || operands[0] === 'excl')) {
    const word = operands.shift() as string;
    const name = operands.shift();
    if (name === undefined) return { exit: 255, stderr: 'Command line is not complete. Try option "help"\n' };
    const bits = scanState(name);
    if (bits === null) return { exit: 255, stderr: `ss: wrong state name: ${name}\n` };
    if (word === 'state') {
      if (!sawStates) o.stateFilter = 0;
      o.stateFilter |= bits;
    } else {
      if (!sawStates) o.stateFilter = SS_ALL;
      o.stateFilter &= ~bits;
    }
    sawStates = true;
  }
  if (operands.length > 0) {
    return { exit: 1, stderr: `ss: filter expressions ("${operands.join(' ')}") are not supported by lonet yet\n` };
  }
  if (doDefault) {
    if (o.stateFilter === 0) o.stateFilter = SS_CONN;
    for (const db of DB_NAMES.all as readonly Db[]) o.dbs.add(db);
  }
  if (o.stateFilter !== 0) o.filterStates = o.stateFilter;
  // filter_merge_defaults(): an inet table alone covers both families; a family alone, the inet tables.
  if (o.families.size === 0) o.families.add(4).add(6);
  else if (!INET_DBS.some((db) => o.dbs.has(db))) for (const db of INET_DBS) o.dbs.add(db);
  return o;
}

/** scan_state(): a state name or group, as bits; null for a name ss does not know. */
function scanState(name: string): number | null {
  const n = name.toLowerCase();
  const groups: Record<string, number> = {
    close: 1 << SS.CLOSE,
    closed: 1 << SS.CLOSE,
    'syn-rcv': 1 << SS.SYN_RECV,
    all: SS_ALL,
    connected: SS_ALL & ~((1 << SS.CLOSE) | (1 << SS.LISTEN)),
    synchronized: SS_ALL & ~((1 << SS.CLOSE) | (1 << SS.LISTEN) | (1 << SS.SYN_SENT)),
    bucket: (1 << SS.SYN_RECV) | (1 << SS.TIME_WAIT),
    big: SS_ALL & ~((1 << SS.SYN_RECV) | (1 << SS.TIME_WAIT)),
    unknown: 1 << SS.UNKNOWN,
    established: 1 << SS.ESTABLISHED,
    'syn-sent': 1 << SS.SYN_SENT,
    'syn-recv': 1 << SS.SYN_RECV,
    'fin-wait-1': 1 << SS.FIN_WAIT1,
    'fin-wait-2': 1 << SS.FIN_WAIT2,
    'time-wait': 1 << SS.TIME_WAIT,
    unconnected: 1 << SS.CLOSE,
    'close-wait': 1 << SS.CLOSE_WAIT,
    'last-ack': 1 << SS.LAST_ACK,
    listening: 1 << SS.LISTEN,
    closing: 1 << SS.CLOSING,
  };
  return groups[n] ?? null;
}

// ---- printing one socket (inet_show_sock) ----

/** printf's %g: six significant digits, trailing zeros dropped, exponent form outside 1e-4..1e6. */
export function fmtG(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const t = v.toFixed(Math.max(0, 5 - exp));
  return t.includes('.') ? t.replace(/\.?0+$/, '') : t;
}

/** %.3g, for sprint_bw's units. */
function fmt3g(v: number): string {
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(3)))));
  if (exp >= 3) return fmtG(Number(v.toPrecision(3)));
  const t = v.toFixed(Math.max(0, 2 - exp));
  return t.includes('.') ? t.replace(/\.?0+$/, '') : t;
}

/** sprint_bw(): bits per second, raw with -n, else with a unit. */
function sprintBw(o: Options, bw: number): string {
  if (o.numeric) return bw.toFixed(0);
  if (bw >= 1e12) return `${fmt3g(bw / 1e12)}T`;
  if (bw >= 1e9) return `${fmt3g(bw / 1e9)}G`;
  if (bw >= 1e6) return `${fmt3g(bw / 1e6)}M`;
  if (bw >= 1e3) return `${fmt3g(bw / 1e3)}k`;
  return fmtG(bw);
}

/** print_ms_timer(). */
function printMsTimer(timeout: number): string {
  let secs = Math.floor(timeout / 1000);
  const minutes = Math.floor(secs / 60);
  secs %= 60;
  let msecs = timeout % 1000;
  let buf = '';
  if (minutes) {
    msecs = 0;
    buf = `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    buf += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) buf += `${String(msecs).padStart(3, '0')}ms`;
  return buf;
}

const TIMER_NAMES = ['off', 'on', 'keepalive', 'timewait', 'persist', 'unknown'];

/** tcp_show_info() + tcp_stats_print(): the -i line, from INET_DIAG_INFO and INET_DIAG_CONG. */
function tcpStats(o: Options, m: InetDiagMsg, t: TcpInfo): string {
  let out = '';
  if (o.options) {
    if (t.options & 1) out += ' ts';
    if (t.options & 2) out += ' sack';
    if (t.options & 8) out += ' ecn';
    if (t.options & 16) out += ' ecnseen';
    if (t.options & 32) out += ' fastopen';
  }
  if (m.cong !== undefined) out += ` ${m.cong}`;
  if (t.options & 4) out += ` wscale:${t.sndWscale},${t.rcvWscale}`;
  if (t.rto && t.rto !== 3000000) out += ` rto:${fmtG(t.rto / 1000)}`;
  if (t.backoff) out += ` backoff:${t.backoff}`;
  if (t.rtt) out += ` rtt:${fmtG(t.rtt / 1000)}/${fmtG(t.rttvar / 1000)}`;
  if (t.ato) out += ` ato:${fmtG(t.ato / 1000)}`;
  if (t.sndMss) out += ` mss:${t.sndMss}`;
  if (t.pmtu) out += ` pmtu:${t.pmtu}`;
  if (t.rcvMss) out += ` rcvmss:${t.rcvMss}`;
  if (t.advmss) out += ` advmss:${t.advmss}`;
  if (t.sndCwnd) out += ` cwnd:${t.sndCwnd}`;
  if (t.sndSsthresh < 0xffff && t.sndSsthresh) out += ` ssthresh:${t.sndSsthresh}`;
  if (t.bytesSent) out += ` bytes_sent:${t.bytesSent}`;
  if (t.bytesRetrans) out += ` bytes_retrans:${t.bytesRetrans}`;
  if (t.bytesAcked) out += ` bytes_acked:${t.bytesAcked}`;
  if (t.bytesReceived) out += ` bytes_received:${t.bytesReceived}`;
  if (t.segsOut) out += ` segs_out:${t.segsOut}`;
  if (t.segsIn) out += ` segs_in:${t.segsIn}`;
  if (t.dataSegsOut) out += ` data_segs_out:${t.dataSegsOut}`;
  if (t.dataSegsIn) out += ` data_segs_in:${t.dataSegsIn}`;
  if (t.rtt > 0 && t.sndMss && t.sndCwnd) out += ` send ${sprintBw(o, (t.sndCwnd * t.sndMss * 8e6) / t.rtt)}bps`;
  if (t.lastDataSentMs) out += ` lastsnd:${t.lastDataSentMs}`;
  if (t.lastDataRecvMs) out += ` lastrcv:${t.lastDataRecvMs}`;
  if (t.lastAckRecvMs) out += ` lastack:${t.lastAckRecvMs}`;
  if (t.pacingRate > 0) {
    out += ` pacing_rate ${sprintBw(o, t.pacingRate * 8)}bps`;
    if (t.maxPacingRate > 0) out += `/${sprintBw(o, t.maxPacingRate * 8)}bps`;
  }
  if (t.deliveryRate) out += ` delivery_rate ${sprintBw(o, t.deliveryRate * 8)}bps`;
  if (t.delivered) out += ` delivered:${t.delivered}`;
  if (t.deliveryRateAppLimited) out += ' app_limited';
  if (t.busyTime) {
    out += ` busy:${Math.floor(t.busyTime / 1000)}ms`;
    if (t.rwndLimited)
      out += ` rwnd_limited:${Math.floor(t.rwndLimited / 1000)}ms(${((100 * t.rwndLimited) / t.busyTime).toFixed(1)}%)`;
    if (t.sndbufLimited)
      out += ` sndbuf_limited:${Math.floor(t.sndbufLimited / 1000)}ms(${((100 * t.sndbufLimited) / t.busyTime).toFixed(1)}%)`;
  }
  if (t.unacked) out += ` unacked:${t.unacked}`;
  if (t.retrans || t.totalRetrans) out += ` retrans:${t.retrans}/${t.totalRetrans}`;
  if (t.lost) out += ` lost:${t.lost}`;
  if (t.sacked && m.state !== SS.LISTEN) out += ` sacked:${t.sacked}`;
  if (t.dsackDups) out += ` dsack_dups:${t.dsackDups}`;
  if (t.reordering !== 3) out += ` reordering:${t.reordering}`;
  if (t.reordSeen) out += ` reord_seen:${t.reordSeen}`;
  if (t.rcvRtt) out += ` rcv_rtt:${fmtG(t.rcvRtt / 1000)}`;
  if (t.rcvSpace) out += ` rcv_space:${t.rcvSpace}`;
  if (t.rcvSsthresh) out += ` rcv_ssthresh:${t.rcvSsthresh}`;
  if (t.notsentBytes) out += ` notsent:${t.notsentBytes}`;
  if (t.minRtt && t.minRtt !== 0xffffffff) out += ` minrtt:${fmtG(t.minRtt / 1000)}`;
  if (t.rcvOoopack) out += ` rcv_ooopack:${t.rcvOoopack}`;
  if (t.sndWnd) out += ` snd_wnd:${t.sndWnd}`;
  return out;
}

function isEphemeral(net: Net, port: number): boolean {
  const [min, max] = net.ipv4.ipLocalPortRange;
  return port >= min && port <= max;
}

function service(net: Net, o: Options, table: SsTable, port: number): string {
  if (port === 0) return '*';
  if (!o.numeric && !isEphemeral(net, port)) {
    const name = table.services.get(port);
    if (name !== undefined) return name;
  }
  return String(port);
}

function hostText(m: InetDiagMsg, a: Uint8Array): string {
  if (m.family === 4)
    return formatIpv4(((a[12] ?? 0) << 24) | ((a[13] ?? 0) << 16) | ((a[14] ?? 0) << 8) | (a[15] ?? 0));
  if (!m.v6only && ipv6AddrAny(a)) return '*';
  return `[${formatIpv6(a)}]`;
}

function showSock(net: Net, o: Options, table: SsTable, m: InetDiagMsg, fields: Fields): void {
  fields.set(COL.NETID);
  fields.out(table.netid);
  fields.set(COL.STATE);
  fields.out(SSTATE_NAME[m.state] ?? 'UNKNOWN');
  fields.set(COL.RECVQ);
  fields.out(String(m.rqueue).padEnd(6));
  fields.set(COL.SENDQ);
  fields.out(String(m.wqueue).padEnd(6));
  fields.set(COL.ADDR);
  for (const [addr, port] of [
    [m.localAddr, m.localPort],
    [m.remoteAddr, m.remotePort],
  ] as const) {
    fields.out(`${hostText(m, addr)}:`);
    fields.next();
    fields.out(service(net, o, table, port));
    fields.next();
  }
  // -p finds owners through /proc/*/fd; lonet's sockets belong to no process, so none is shown.
  if (o.options && m.timer !== undefined && m.timer.timer !== 0) {
    const t = m.timer;
    fields.out(` timer:(${TIMER_NAMES[Math.min(t.timer, 5)]},${printMsTimer(t.expiresMs)},${t.retrans})`);
  }
  if (o.extended) {
    if (m.uid) fields.out(` uid:${m.uid}`);
    fields.out(` ino:${m.ino}`);
    fields.out(` sk:${m.cookie.toString(16)}`);
    // INET_DIAG_CGROUP_ID: every full socket here is in the root cgroup; minisocks have none.
    if (!m.minisock) fields.out(' cgroup:/');
    if (m.family === 6 && m.v6only !== undefined) fields.out(` v6only:${m.v6only ? 1 : 0}`);
    if (!m.minisock) fields.out(` ${m.shutdown & 1 ? '-' : '<'}-${m.shutdown & 2 ? '-' : '>'}`);
  }
  if (o.memory || (o.info && table.netid !== 'udp')) {
    if (!o.oneline) fields.out('\n\t');
    if (o.memory && !m.minisock) {
      const k = m.skmem;
      fields.out(
        ` skmem:(r${k.rmemAlloc},rb${k.rcvbuf},t${k.wmemAlloc},tb${k.sndbuf},f${k.fwdAlloc},w${k.wmemQueued},o${k.optmem},bl${k.backlog},d${k.drops})`,
      );
    }
    if (o.info && m.tcpInfo !== undefined) fields.out(tcpStats(o, m, m.tcpInfo));
  }
}

/**
 * unix_show_sock() + unix_stats_print(): "name inode" and "* peer-inode" (ss does not
 * look the peer's name up over netlink); an abstract name's NULs print as '@'. -e adds
 * the shutdown arrows and a listener's queued peers; lonet's names live in no file
 * system, so the UNIX_DIAG_VFS "ino:… dev:…" a path has on Linux is never there.
 */
function showUnixSock(o: Options, m: UnixDiagMsg, fields: Fields): void {
  fields.set(COL.NETID);
  fields.out('u_str');
  fields.set(COL.STATE);
  fields.out(SSTATE_NAME[m.state] ?? 'UNKNOWN');
  fields.set(COL.RECVQ);
  fields.out(String(m.rqueue).padEnd(6));
  fields.set(COL.SENDQ);
  fields.out(String(m.wqueue).padEnd(6));
  fields.set(COL.ADDR);
  fields.out(`${m.name === null ? '*' : m.name.replaceAll('\0', '@')} `);
  fields.next();
  fields.out(String(m.ino));
  fields.next();
  fields.out('* ');
  fields.next();
  fields.out(String(m.peer));
  fields.next();
  if (o.memory) {
    const k = m.skmem;
    fields.out(` skmem:(r${k.rmemAlloc},rb${k.rcvbuf},t${k.wmemAlloc},tb${k.sndbuf},f0,w0,o0,bl0,d0)`);
  }
  if (o.extended) {
    fields.out(` ${m.shutdown & 1 ? '-' : '<'}-${m.shutdown & 2 ? '-' : '>'}`);
    if (m.state === SS.LISTEN) fields.out(` peers:${m.icons.map((i) => ` ${i}`).join('')}`);
  }
}

export function ss(ctx: CommandContext): number {
  const o = parse(ctx.argv);
  if ('exit' in o) {
    if (o.stdout !== undefined) ctx.stdout.write(o.stdout);
    if (o.stderr !== undefined) ctx.stderr.write(o.stderr);
    return o.exit;
  }
  const columns = makeColumns();
  const states = o.filterStates;
  if (o.dbs.size === 1) (columns[COL.NETID] as Column).disabled = true;
  if (!(states & (states - 1))) (columns[COL.STATE] as Column).disabled = true;
  const fields = new Fields(columns);
  if (o.header) {
    while (fields.current !== COL.MAX - 1) {
      fields.out((columns[fields.current] as Column).header);
      fields.next();
    }
  }
  // unix_show() runs before raw, udp and tcp, as in ss's main().
  // Without a state asked for, a stream socket shows in its own table's states (an
  // unbound one stays hidden by plain `ss -x` on Linux, though u_dgr's UNCONN is wanted).
  if (o.dbs.has('unix_st')) {
    const st = o.stateFilter !== 0 ? o.stateFilter : DB_STATES.unix_st;
    for (const m of unixDiagDump(ctx.net)) if (st & (1 << m.state)) showUnixSock(o, m, fields);
  }
  for (const db of ['udp', 'tcp'] as const) {
    const table = SS_TABLES[db];
    if (!o.dbs.has(db) || table === null) continue;
    for (const family of [4, 6] as const) {
      if (!o.families.has(family)) continue;
      for (const m of table.dump(ctx.net, family)) {
        if (states & (1 << m.state)) showSock(ctx.net, o, table, m, fields);
      }
    }
  }
  ctx.stdout.write(fields.render());
  return 0;
}
