/**
 * ping(8) from iputils 20221126, as root with net.ipv4.ping_group_range "1 0": a raw
 * ICMP socket, a random echo id, iputils' payload (a struct timeval, then 0x10, 0x11, …),
 * its ICMP_FILTER, its token-bucket pinger and its exit timers, all on the kernel's clock.
 * The code follows ping/ping.c and ping/ping_common.c closely so that every line, error
 * and exit code matches; where lonet lacks a kernel facility (the socket error queue,
 * SO_BINDTODEVICE on raw sockets) the comment says what stands in for it.
 */
import { E, strerror } from '../include/errno.js';
import { inDevGet } from '../ipv4/devinet.js';
import { flowi4, RTN } from '../ipv4/fib.js';
import { inetAddrType } from '../ipv4/fib-frontend.js';
import { type RawDatagram, RawSock } from '../ipv4/raw.js';
import { ipRouteOutputKey, RTCF } from '../ipv4/route.js';
import { formatIpv6, inetPton6, ipv6AddrEqual } from '../ipv6/addr.js';
import { in6DevGet } from '../ipv6/addrconf.js';
import { Raw6Sock } from '../ipv6/raw.js';
import { ip6RouteOutput } from '../ipv6/route.js';
import type { Clock, Timer } from '../kernel/clock.js';
import type { Net } from '../net/net.js';
import { csumFold, csumPartial } from '../wire/checksum.js';
import { ICMP, IcmpHeader } from '../wire/icmp.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import { IPPROTO } from '../wire/ipv4.js';
import { NEXTHDR } from '../wire/ipv6.js';
import type { Command, CommandContext, Output } from './command.js';

const VERSION = `ping from iputils 20221126
libcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes
`;

const USAGE = `
Usage
  ping [options] <destination>

Options:
  <destination>      dns name or ip address
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
  -n                 no dns name resolution
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

For more details see ping(8).
`;

/** getopt(3) string of iputils 20221126's main(). */
const OPTSTRING = 'h?4bRT:6F:N:aABc:CdDe:fi:I:l:Lm:M:nOp:qQ:rs:S:t:UvVw:W:';

/** ping.h */
const MAXWAIT = 10;
const MININTERVAL = 10;
const MAX_DUP_CHK = 0x10000;
const DEFDATALEN = 56;
/** sizeof(struct timeval) on a 64-bit Linux: the timestamp at the head of the data. */
const TIMEVAL_LEN = 16;
const INT_MAX = 0x7fffffff;
const LONG_MAX = 9223372036854775807n;

/** error(3): "ping: msg\n" on stderr. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Options as main() leaves them. */
interface Options {
  family: 0 | 4 | 6;
  npackets: number;
  interval: number;
  intervalSet: boolean;
  preload: number;
  deadline: number;
  lingertime: number;
  datalen: number;
  ttl: number;
  ttlSet: boolean;
  /** -M: IP_PMTUDISC_* to set, -1 for the socket's default. */
  pmtudisc: number;
  tos: number;
  device: string | null;
  source: number;
  strictSource: boolean;
  broadcast: boolean;
  quiet: boolean;
  flood: boolean;
  numeric: boolean;
  ptimeofday: boolean;
  outstanding: boolean;
  latency: boolean;
  verbose: boolean;
  audible: boolean;
  ident: number;
  pattern: string | null;
  targets: string[];
}

/** error(3): a warning when `code` is 0, otherwise the exit. */
type ErrorFn = {
  (code: 0, errno: number, msg: string): void;
  (code: number, errno: number, msg: string): never;
};

function makeError(stderr: Output): ErrorFn {
  return ((code: number, errno: number, msg: string): void => {
    stderr.write(errno ? `ping: ${msg}: ${strerror(errno)}\n` : `ping: ${msg}\n`);
    if (code !== 0) throw new Exit(code);
  }) as ErrorFn;
}

/**
 * glibc getopt with GNU argument permutation: options may follow operands
 * (`ping 127.0.0.1 -c 1`), values may be attached (`-c3`), `--` ends options.
 */
function* getopt(
  argv: readonly string[],
  optstring: string,
  err: (msg: string) => void,
): Generator<{ opt: string; arg: string } | { operand: string }> {
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      for (const rest of argv.slice(i + 1)) yield { operand: rest };
      return;
    }
    if (!word.startsWith('-') || word === '-') {
      yield { operand: word };
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const c = word[j] as string;
      const at = c === ':' ? -1 : optstring.indexOf(c);
      if (at < 0) {
        err(`invalid option -- '${c}'`);
        yield { opt: '?', arg: '' };
        continue;
      }
      if (optstring[at + 1] !== ':') {
        yield { opt: c, arg: '' };
        continue;
      }
      let arg: string;
      if (j + 1 < word.length) arg = word.slice(j + 1);
      else if (i + 1 < argv.length) arg = argv[++i] as string;
      else {
        err(`option requires an argument -- '${c}'`);
        yield { opt: '?', arg: '' };
        break;
      }
      yield { opt: c, arg };
      break;
    }
  }
}

/** strtol_or_err(): base 10, whole string, within [min, max]; failures exit 1. */
function strtolOrErr(str: string, min: bigint, max: bigint, error: ErrorFn): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(str);
  if (m === null) return error(1, 0, `invalid argument: '${str}'`);
  const v = BigInt(m[1] as string);
  if (v > LONG_MAX || v < -LONG_MAX - 1n) return error(1, E.ERANGE, `invalid argument: '${str}'`);
  if (v < min || v > max) return error(1, 0, `invalid argument: '${str}': out of range: ${min} <= value <= ${max}`);
  return Number(v);
}

/**
 * ping_strtod(): strtod in the C locale. Trailing garbage is only warned about (the
 * "will become fatal" wording is iputils'); nothing numeric, or out of range, is fatal.
 */
function pingStrtod(str: string, what: string, error: ErrorFn): number {
  const m = /^[ \t\n\v\f\r]*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))/i.exec(str);
  if (str === '') return error(2, 0, `${what}: ${str}`);
  const num = m === null ? 0 : Number((m[1] as string).replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
  if (!Number.isFinite(num)) return error(2, E.ERANGE, `${what}: ${str}`);
  const rest = m === null ? str : str.slice((m[0] as string).length);
  if (rest !== '') {
    error(0, 0, `option argument contains garbage: ${rest}`);
    error(0, 0, 'this will become fatal error in the future');
  }
  return num;
}

/** inet_aton(): a, a.b, a.b.c or a.b.c.d, each part decimal, octal (0…) or hex (0x…). */
export function inetAton(s: string): number | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : Number.parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = Number.parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return null;
    vals.push(v);
  }
  const last = vals.pop() as number;
  if (vals.some((v) => v > 255) || last >= 2 ** (8 * (4 - vals.length))) return null;
  let addr = 0;
  for (const [i, v] of vals.entries()) addr += v * 2 ** (24 - 8 * i);
  return (addr + last) >>> 0;
}

export function inetNtoa(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** A well-formed IPv6 literal (inet_pton(AF_INET6)); a %scope suffix is allowed. */
function isIpv6Literal(s: string): boolean {
  const addr = s.replace(/%[^%]+$/, '');
  if (!/^[0-9a-fA-F:.]+$/.test(addr) || !addr.includes(':')) return false;
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const all = halves.flatMap(groups);
  let n = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes('.')) {
      if (inetAton(g) === null || g.split('.').length !== 4) return false;
      n += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) n++;
    else return false;
  }
  return halves.length === 2 ? n < 8 : n === 8;
}

/** What getaddrinfo() finds: lonet knows the names a stock /etc/hosts holds. */
type Resolved = { family: 4; addr: number; canon: string | null } | { family: 6; text: string; canon: string | null };

const HOSTS4 = new Map([['localhost', 0x7f000001]]);
const HOSTS6 = new Map([
  ['ip6-localhost', '::1'],
  ['ip6-loopback', '::1'],
]);

/** getaddrinfo(): a gai error text, or the first address of the wanted family. */
function getaddrinfo(name: string, family: 0 | 4 | 6): Resolved | string {
  const v4 = inetAton(name);
  if (v4 !== null)
    return family === 6 ? 'Address family for hostname not supported' : { family: 4, addr: v4, canon: null };
  if (isIpv6Literal(name)) {
    return family === 4 ? 'Address family for hostname not supported' : { family: 6, text: name, canon: null };
  }
  const key = name.toLowerCase().replace(/\.$/, '');
  const a4 = HOSTS4.get(key);
  const a6 = HOSTS6.get(key);
  if (a4 !== undefined && family !== 6) return { family: 4, addr: a4, canon: key };
  if (a6 !== undefined && family !== 4) return { family: 6, text: a6, canon: key };
  if (a4 !== undefined || a6 !== undefined) return 'Address family for hostname not supported';
  return 'Name or service not known';
}

/** getnameinfo() without NI_NUMERICHOST: the /etc/hosts name of an address, or "". */
function reverseName(addr: number): string {
  for (const [name, a] of HOSTS4) if (a === addr) return name;
  return '';
}

/** printf("%g"): six significant digits, trailing zeros dropped. */
function fmtG(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  let s: string;
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const en = Number(e);
    s = `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  } else {
    s = x.toPrecision(6);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  }
  return s;
}

/** llsqrt(): Newton's integer square root, as ping_common.c computes mdev. */
function llsqrt(a: bigint): bigint {
  let prev = LONG_MAX;
  let x = a;
  if (x > 0n) {
    while (x < prev) {
      prev = x;
      x = (x + a / x) / 2n;
    }
  }
  return x;
}

/** "%ld.%03ld" of a microsecond count, with C's truncating division. */
function msec3(us: number): string {
  const q = Math.trunc(us / 1000);
  const r = us - q * 1000;
  return `${q}.${String(r).padStart(3, '0')}`;
}

/** One address family's socket work: what ping4_func_set / ping6_func_set are in iputils. */
/** A received datagram: IPv4 raw sockets give the whole packet; IPv6 ones the ICMPv6 message, sender and hop limit. */
type PingDatagram = RawDatagram & { from?: Uint8Array; hopLimit?: number; ifindex?: number };

interface PingProto {
  /** The PING line. */
  readonly header: string;
  /** send_probe(): 0, or -errno. */
  sendProbe(seq: number, payload: Uint8Array): number;
  /** receive_error_msg() stand-in for a failed send: >0 net errors, <=0 minus local errors. */
  sendError(err: number): number;
  /** parse_reply(): true when the datagram was not ours. */
  parseReply(d: PingDatagram): boolean;
  recv(): PingDatagram | null;
  recvAsync(): Promise<PingDatagram | null>;
  close(): void;
}

/** struct ping_rts: the run's state and counters, named as in iputils. */
class PingRun {
  ntransmitted = 0;
  nreceived = 0;
  nrepeats = 0;
  nchecksum = 0;
  nerrors = 0;
  tmin = Number.MAX_SAFE_INTEGER;
  tmax = 0;
  tsum = 0;
  tsum2 = 0;
  /** Smoothed RTT ×8 (µs), the "ewma". */
  rtt = 0;
  rttAddend = 0;
  pipesize = -1;
  acked = 0;
  exiting = false;
  timing: boolean;
  interval: number;
  opt: Options;
  outpack: Uint8Array;
  readonly rcvd = new Uint8Array(MAX_DUP_CHK / 8);
  startTime = 0;
  curTime = 0;
  curTimeSet = false;
  tokens = 0;
  oomCount = 0;
  waittime = 0;
  exitTimer: Timer | null = null;
  /** Wakes the main loop from its wait (SIGALRM / SIGINT interrupting recvmsg). */
  wake: (() => void) | null = null;
  proto!: PingProto;

  constructor(
    readonly ctx: CommandContext,
    readonly clock: Clock,
    opt: Options,
  ) {
    this.opt = opt;
    this.interval = opt.interval;
    this.timing = opt.datalen >= TIMEVAL_LEN;
    this.outpack = new Uint8Array(8 + opt.datalen);
  }

  get out(): Output {
    return this.ctx.stdout;
  }

  rcvdTest(seq: number): boolean {
    const b = seq % MAX_DUP_CHK;
    return ((this.rcvd[b >> 3] as number) & (1 << (b & 7))) !== 0;
  }
  rcvdSet(seq: number): void {
    const b = seq % MAX_DUP_CHK;
    this.rcvd[b >> 3] = (this.rcvd[b >> 3] as number) | (1 << (b & 7));
  }
  rcvdClear(seq: number): void {
    const b = seq % MAX_DUP_CHK;
    this.rcvd[b >> 3] = (this.rcvd[b >> 3] as number) & ~(1 << (b & 7));
  }

  /** in_flight(): requests not yet answered, from the 16-bit acked sequence. */
  inFlight(): number {
    const diff = (this.ntransmitted - this.acked) & 0xffff;
    return diff <= 0x7fff ? diff : this.ntransmitted - this.nreceived - this.nerrors;
  }

  acknowledge(seq: number): void {
    const diff = (this.ntransmitted - seq) & 0xffff;
    if (diff <= 0x7fff) {
      if (diff + 1 > this.pipesize) this.pipesize = diff + 1;
      const ahead = ((seq - this.acked) << 16) >> 16;
      if (ahead > 0 || ((this.ntransmitted - this.acked) & 0xffff) > 0x7fff) this.acked = seq;
    }
  }

  advanceNtransmitted(): void {
    this.ntransmitted++;
    if (((this.ntransmitted - this.acked) & 0xffff) > 0x7fff) this.acked = (this.ntransmitted + 1) & 0xffff;
  }

  /** print_timestamp() for -D: gettimeofday() as "[sec.usec] ". */
  printTimestamp(): void {
    if (!this.opt.ptimeofday) return;
    const ns = this.clock.realtime();
    const sec = Math.floor(ns / 1e9);
    const usec = Math.floor((ns - sec * 1e9) / 1000);
    this.out.write(`[${sec}.${String(usec).padStart(6, '0')}] `);
  }

  /** Milliseconds between two monotonic stamps, as pinger() computes them from timespecs. */
  static msBetween(a: number, b: number): number {
    const sa = Math.floor(a / 1e9);
    const sb = Math.floor(b / 1e9);
    return (sa - sb) * 1000 + Math.trunc((a - sa * 1e9 - (b - sb * 1e9)) / 1e6);
  }

  /** The echo request for sequence `seq`: header, timeval (gettimeofday), pattern. */
  buildProbe(seq: number): Uint8Array {
    const pkt = this.outpack;
    // struct icmphdr, written in place; the ICMPv6 echo request has the same layout and the
    // kernel checksums it (raw ICMPv6).
    const ident = this.opt.ident;
    pkt[0] = this.opt.family === 6 ? ICMPV6.ECHO_REQUEST : ICMP.ECHO;
    pkt[1] = 0;
    pkt[4] = ident >>> 8;
    pkt[5] = ident;
    pkt[6] = (seq >>> 8) & 0xff;
    pkt[7] = seq & 0xff;
    if (this.timing) {
      const ns = this.clock.realtime();
      const sec = Math.floor(ns / 1e9);
      const usec = Math.floor((ns - sec * 1e9) / 1000);
      // struct timeval in host (little-endian) order: two 64-bit longs.
      writeU32le(pkt, 8, sec >>> 0);
      writeU32le(pkt, 12, Math.floor(sec / 2 ** 32));
      writeU32le(pkt, 16, usec);
      writeU32le(pkt, 20, 0);
    }
    if (this.opt.family !== 6) {
      pkt[2] = 0;
      pkt[3] = 0;
      const check = csumFold(csumPartial(pkt, 0, pkt.byteLength));
      pkt[2] = check >>> 8;
      pkt[3] = check;
    }
    return pkt;
  }

  /** pinger(): send if the token bucket allows; returns ms until it should be called again. */
  pinger(): number {
    const opt = this.opt;
    if (this.exiting || (opt.npackets && this.ntransmitted >= opt.npackets && !opt.deadline)) return 1000;
    const now = this.clock.now();
    if (!this.curTimeSet) {
      this.curTime = now;
      this.curTimeSet = true;
      this.tokens = this.interval * (opt.preload - 1);
    } else {
      let ntokens = PingRun.msBetween(now, this.curTime);
      if (!this.interval) {
        // Unlimited flood: with nothing answered, 100 packets a second at most.
        if (ntokens < MININTERVAL && this.inFlight() >= opt.preload) return MININTERVAL - ntokens;
      }
      ntokens += this.tokens;
      const tmp = this.interval * opt.preload;
      if (tmp < ntokens) ntokens = tmp;
      if (ntokens < this.interval) return this.interval - ntokens;
      this.curTime = now;
      this.tokens = ntokens - this.interval;
    }

    if (opt.outstanding && this.ntransmitted > 0 && !this.rcvdTest(this.ntransmitted)) {
      this.printTimestamp();
      this.out.write(`no answer yet for icmp_seq=${this.ntransmitted % MAX_DUP_CHK}\n`);
    }

    for (;;) {
      const seq = this.ntransmitted + 1;
      this.rcvdClear(seq);
      const r = this.proto.sendProbe(seq, this.buildProbe(seq));
      if (r === 0) {
        this.oomCount = 0;
        this.advanceNtransmitted();
        if (!opt.quiet && opt.flood) this.out.write('.');
        return this.interval - this.tokens;
      }
      let i: number;
      if (r === -E.ENOBUFS || r === -E.ENOMEM) {
        // Device queue overflow or OOM: back off, and give up after the linger time.
        this.tokens = 0;
        this.rttAddend += this.rtt < 8 * 50000 ? Math.trunc(this.rtt / 8) : 50000;
        const nores = Math.min(Math.max(Math.trunc(this.interval / 2), MININTERVAL), 500);
        this.oomCount++;
        if (this.oomCount * nores < opt.lingertime) return nores;
        i = 0;
      } else if (r === -E.EAGAIN) {
        this.tokens += this.interval;
        return MININTERVAL;
      } else {
        i = this.proto.sendError(r);
        if (i > 0) i = 0;
      }
      // Hard local error: pretend the packet was sent.
      this.advanceNtransmitted();
      if (i === 0 && !opt.quiet) {
        if (opt.flood) this.out.write('E');
        else this.ctx.stderr.write(`ping: sendmsg: ${strerror(r)}\n`);
      }
      this.tokens = 0;
      return Math.max(this.interval, MININTERVAL);
    }
  }

  /** schedule_exit(): after the last probe, wait 2×max RTT (at least an interval) or -W. */
  scheduleExit(next: number): number {
    const opt = this.opt;
    if (!(opt.npackets && this.ntransmitted >= opt.npackets && !opt.deadline)) return next;
    if (this.waittime) return next;
    if (this.nreceived) {
      this.waittime = 2 * this.tmax;
      if (this.waittime < 1000 * this.interval) this.waittime = 1000 * this.interval;
    } else this.waittime = opt.lingertime * 1000;
    if (next < 0 || next < this.waittime / 1000) next = Math.trunc(this.waittime / 1000);
    // setitimer(ITIMER_REAL) with 0 disarms: iputils then waits on, and so do we.
    if (this.waittime > 0) this.exitTimer = this.clock.setTimer(this.waittime * 1000, () => this.sigexit());
    return next;
  }

  sigexit(): void {
    this.exiting = true;
    this.wake?.();
  }

  /**
   * gather_statistics(): count the reply, keep RTT statistics, print its line.
   * Returns true when nothing more is to be printed for it (quiet).
   */
  gatherStatistics(
    icmp: Uint8Array,
    cc: number,
    seq: number,
    hops: number,
    csfailed: boolean,
    recv: { sec: number; usec: number },
    from: string,
    wrongSource: boolean,
  ): boolean {
    const opt = this.opt;
    let triptime = 0;
    this.nreceived++;
    if (!csfailed) this.acknowledge(seq);
    if (this.timing && cc >= 8 + TIMEVAL_LEN) {
      const sec = readU32le(icmp, 8) + (readU32le(icmp, 12) | 0) * 2 ** 32;
      const usec = readU32le(icmp, 16) + (readU32le(icmp, 20) | 0) * 2 ** 32;
      triptime = (recv.sec - sec) * 1000000 + (recv.usec - usec);
      if (triptime < 0) {
        this.ctx.stderr.write(`ping: Warning: time of day goes back (${triptime}us), taking countermeasures\n`);
        triptime = 0;
        opt.latency = true;
      }
      if (!csfailed) {
        this.tsum += triptime;
        this.tsum2 += triptime * triptime;
        if (triptime < this.tmin) this.tmin = triptime;
        if (triptime > this.tmax) this.tmax = triptime;
        if (!this.rtt) this.rtt = triptime * 8;
        else this.rtt += triptime - Math.trunc(this.rtt / 8);
      }
    }
    let dupflag = false;
    if (csfailed) {
      this.nchecksum++;
      this.nreceived--;
    } else if (this.rcvdTest(seq)) {
      this.nrepeats++;
      this.nreceived--;
      dupflag = true;
    } else {
      this.rcvdSet(seq);
    }
    if (opt.quiet) return true;
    if (opt.flood) {
      this.out.write(csfailed ? '\bC' : '\b \b');
      return false;
    }
    this.printTimestamp();
    let line = `${cc} bytes from ${from}: icmp_seq=${seq}`;
    if (hops >= 0) line += ` ttl=${hops}`;
    if (cc < opt.datalen + 8) {
      this.out.write(`${line} (truncated)\n`);
      return true;
    }
    if (this.timing) {
      if (triptime >= 100000 - 50) line += ` time=${Math.trunc((triptime + 500) / 1000)} ms`;
      else if (triptime >= 10000 - 5)
        line += ` time=${Math.trunc((triptime + 50) / 1000)}.${Math.trunc(((triptime + 50) % 1000) / 100)} ms`;
      else if (triptime >= 1000)
        line += ` time=${Math.trunc((triptime + 5) / 1000)}.${String(Math.trunc(((triptime + 5) % 1000) / 10)).padStart(2, '0')} ms`;
      else line += ` time=${msec3(triptime)} ms`;
    }
    if (dupflag && (!opt.broadcast || opt.verbose)) line += ' (DUP!)';
    if (csfailed) line += ' (BAD CHECKSUM!)';
    if (wrongSource) line += ' (DIFFERENT ADDRESS!)';
    this.out.write(line);
    return false;
  }

  /** contains_pattern_in_payload(): the data after the timeval is what we sent. */
  containsPattern(data: Uint8Array): boolean {
    for (let i = TIMEVAL_LEN; i < this.opt.datalen; i++) {
      if (data[i] !== this.outpack[8 + i]) return false;
    }
    return true;
  }

  /** finish(): the statistics; the exit code is 0 with any reply, else 1. */
  finish(): number {
    const opt = this.opt;
    const elapsed = Math.max(0, this.curTime - this.startTime);
    const sec = Math.floor(elapsed / 1e9);
    const nsec = elapsed - sec * 1e9;
    let s = '\n';
    s += `--- ${this.hostname} ping statistics ---\n`;
    s += `${this.ntransmitted} packets transmitted, ${this.nreceived} received`;
    if (this.nrepeats) s += `, +${this.nrepeats} duplicates`;
    if (this.nchecksum) s += `, +${this.nchecksum} corrupted`;
    if (this.nerrors) s += `, +${this.nerrors} errors`;
    if (this.ntransmitted) {
      const loss = Math.fround(((this.ntransmitted - this.nreceived) * 100.0) / this.ntransmitted);
      s += `, ${fmtG(loss)}% packet loss`;
      s += `, time ${1000 * sec + Math.trunc((nsec + 500000) / 1000000)}ms`;
    }
    s += '\n';
    let comma = '';
    if (this.nreceived && this.timing) {
      const total = this.nreceived + this.nrepeats;
      const tmavg = Math.trunc(this.tsum / total);
      let tmvar: bigint;
      if (this.tsum < INT_MAX) {
        // The order matters for small times: the square of the sum is divided first, in integers.
        const sq = (BigInt(this.tsum) * BigInt(this.tsum)) / BigInt(total);
        tmvar = BigInt(Math.trunc((this.tsum2 - Number(sq)) / total));
      } else tmvar = BigInt(Math.trunc(this.tsum2 / total)) - BigInt(tmavg) * BigInt(tmavg);
      const tmdev = Number(llsqrt(tmvar));
      s += `rtt min/avg/max/mdev = ${msec3(this.tmin)}/${msec3(tmavg)}/${msec3(this.tmax)}/${msec3(tmdev)} ms`;
      comma = ', ';
    }
    if (this.pipesize > 1) {
      s += `${comma}pipe ${this.pipesize}`;
      comma = ', ';
    }
    if (this.nreceived && (!this.interval || opt.flood) && this.ntransmitted > 1) {
      const ipg = Math.trunc((1000000 * sec + Math.trunc(nsec / 1000)) / (this.ntransmitted - 1)) | 0;
      const ewma = Math.trunc(this.rtt / 8);
      s += `${comma}ipg/ewma ${Math.trunc(ipg / 1000)}.${String(ipg % 1000).padStart(3, '0')}/${Math.trunc(this.rtt / 8000)}.${String(ewma % 1000).padStart(3, '0')} ms`;
    }
    s += '\n';
    this.out.write(s);
    return !this.nreceived || (opt.deadline && this.nreceived < opt.npackets) ? 1 : 0;
  }

  hostname = '';

  /** Waits up to `ms` for a datagram, an exit timer or an interrupt; null if none came. */
  #pending: Promise<PingDatagram | null> | null = null;
  async waitPacket(ms: number): Promise<PingDatagram | null> {
    if (this.exiting) return null;
    // A reply already queued (lo answers within the send) is read at once: recvmsg does not sleep.
    if (this.#pending === null) {
      const d = this.proto.recv();
      if (d !== null) return d;
    }
    // One read stays outstanding across waits, so a datagram is never lost to a timeout.
    this.#pending ??= this.proto.recvAsync();
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimer(ms * 1e6, () => resolve('timeout'));
      this.wake = () => resolve('timeout');
    });
    const r = await Promise.race([this.#pending, timeout]);
    timer?.cancel();
    this.wake = null;
    if (r === 'timeout') return null;
    this.#pending = null;
    return r;
  }

  /** main_loop(): send on schedule, read replies, until a count, a deadline or a signal. */
  async mainLoop(): Promise<number> {
    const opt = this.opt;
    const onAbort = () => this.sigexit();
    this.ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (this.ctx.signal.aborted) this.exiting = true;
    let spins = 0;
    try {
      for (;;) {
        if (this.exiting) break;
        if (opt.npackets && this.nreceived + this.nerrors >= opt.npackets) break;
        if (opt.deadline && this.nerrors) break;
        let next: number;
        let burst = 0;
        do {
          next = this.pinger();
          next = this.scheduleExit(next);
          // A negative -i sends without pause, as in C; return to the event loop now and then.
        } while (next <= 0 && ++burst < 64);
        next = Math.max(next, 0);
        // recvmsg() cannot wait less than a tick: with a reply due, sleep MININTERVAL.
        const sch = Math.max(this.interval, MININTERVAL);
        if (next < sch && next <= MININTERVAL && this.inFlight()) next = MININTERVAL;
        // Let the event loop breathe (Ctrl-C, other tools) when replies come back at once.
        if (++spins % 16 === 0) await yieldMacrotask();
        let d = await this.waitPacket(next);
        while (d !== null) {
          // Not ours (another ping's reply): iputils would install its BPF filter; nothing to do here.
          this.proto.parseReply(d);
          if (this.inFlight() === 0) break;
          d = this.proto.recv();
        }
      }
    } finally {
      this.ctx.signal.removeEventListener('abort', onAbort);
      this.exitTimer?.cancel();
    }
    return this.finish();
  }
}

function yieldMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/** ICMP error descriptions (pr_icmph) for errors quoting one of our requests. */
function prIcmph(type: number, code: number, info: number, addr: (a: number) => string = inetNtoa): string {
  switch (type) {
    case ICMP.DEST_UNREACH: {
      const names = [
        'Destination Net Unreachable',
        'Destination Host Unreachable',
        'Destination Protocol Unreachable',
        'Destination Port Unreachable',
        `Frag needed and DF set (mtu = ${info & 0xffff})`,
        'Source Route Failed',
        'Destination Net Unknown',
        'Destination Host Unknown',
        'Source Host Isolated',
        'Destination Net Prohibited',
        'Destination Host Prohibited',
        'Destination Net Unreachable for Type of Service',
        'Destination Host Unreachable for Type of Service',
        'Packet filtered',
        'Precedence Violation',
        'Precedence Cutoff',
      ];
      return `${names[code] ?? `Dest Unreachable, Bad Code: ${code}`}\n`;
    }
    case ICMP.TIME_EXCEEDED:
      return code === 0
        ? 'Time to live exceeded\n'
        : code === 1
          ? 'Frag reassembly time exceeded\n'
          : `Time exceeded, Bad Code: ${code}\n`;
    case ICMP.PARAMETERPROB:
      return `Parameter problem: pointer = ${info >>> 24}\n`;
    case ICMP.SOURCE_QUENCH:
      return 'Source Quench\n';
    case ICMP.REDIRECT: {
      const names = [
        'Redirect Network',
        'Redirect Host',
        'Redirect Type of Service and Network',
        'Redirect Type of Service and Host',
      ];
      return `${names[code] ?? `Redirect, Bad Code: ${code}`}(New nexthop: ${addr(info >>> 0)})\n`;
    }
    default:
      return `Bad ICMP type: ${type}\n`;
  }
}

/** ping4_run(): resolve the source like iputils' probe connect(), set the socket up. */
function ping4Setup(run: PingRun, net: Net, whereto: number, hops: number[], error: ErrorFn) {
  const opt = run.opt;
  const sock = new RawSock(net, IPPROTO.ICMP);
  let source = opt.source;
  let oif = 0;
  let multicast = false;
  try {
    if (!opt.strictSource) {
      if (opt.device !== null) {
        // SO_BINDTODEVICE on the probe (and the raw socket, which lonet cannot bind).
        const dev = net.devGetByName(opt.device);
        if (dev === undefined) error(2, E.ENODEV, `SO_BINDTODEVICE ${opt.device}`);
        oif = dev?.ifindex ?? 0;
      }
      // connect() of a UDP probe to port 1025 picks the source and reports route errors.
      const fl4 = flowi4({ daddr: hops[0] ?? whereto, oif, tos: opt.tos, proto: IPPROTO.UDP });
      let rt = ipRouteOutputKey(net, fl4);
      // The probe has no SO_BROADCAST yet: connect() to a broadcast address is EACCES, -b or not.
      if (typeof rt !== 'number' && rt.rtFlags & RTCF.BROADCAST) rt = -E.EACCES;
      if (rt === -E.EACCES) {
        if (!opt.broadcast)
          error(2, 0, 'Do you want to ping broadcast? Then -b. If not, check your local firewall rules');
        run.ctx.stderr.write('WARNING: pinging broadcast address\n');
        rt = ipRouteOutputKey(net, flowi4({ daddr: hops[0] ?? whereto, oif, tos: opt.tos, proto: IPPROTO.UDP }));
      }
      if (typeof rt === 'number') error(2, -rt, 'connect');
      source = fl4.saddr;
      if (opt.device !== null) {
        const dev = net.devGetByName(opt.device.split(':')[0] as string);
        const match =
          (dev && inDevGet(dev)?.ifaList.some((ifa) => ifa.label === opt.device && ifa.local === source)) ?? false;
        if (!match) error(0, 0, `Warning: source address might be selected on device other than: ${opt.device}`);
      }
    } else if (opt.device !== null && net.devGetByName(opt.device) === undefined) {
      error(2, E.ENODEV, `SO_BINDTODEVICE ${opt.device}`);
    }
    if (whereto === 0) whereto = source;
    multicast = opt.broadcast || whereto >>> 28 === 0xe;
    if (opt.strictSource) {
      // raw_bind(): only an address of this host.
      const t = inetAddrType(net, source);
      if (t !== RTN.LOCAL && t !== RTN.MULTICAST && t !== RTN.BROADCAST) error(2, E.EADDRNOTAVAIL, 'bind');
      sock.boundAddr = source;
    }
    // ICMP_FILTER: only replies and the errors that may quote our requests get through.
    sock.icmpFilter =
      ~(
        (1 << ICMP.SOURCE_QUENCH) |
        (1 << ICMP.DEST_UNREACH) |
        (1 << ICMP.TIME_EXCEEDED) |
        (1 << ICMP.PARAMETERPROB) |
        (1 << ICMP.REDIRECT) |
        (1 << ICMP.ECHOREPLY)
      ) >>> 0;
    // iputils builds source routes with IP_OPTIONS; the kernel here refuses them as Linux did.
    if (hops.length > 0) error(2, E.EPERM, 'record route');
    if (opt.broadcast) sock.broadcast = true;
    if (opt.pmtudisc >= 0) sock.pmtudisc = opt.pmtudisc;
    sock.tos = opt.tos;
    if (opt.ttlSet) {
      if (opt.ttl < 1) error(2, E.EINVAL, 'cannot set unicast time-to-live');
      sock.ttl = opt.ttl;
    }
  } catch (e) {
    sock.close();
    throw e;
  }

  let header = `PING ${run.hostname} (${inetNtoa(whereto)}) `;
  if (opt.device !== null || opt.strictSource) header += `from ${inetNtoa(source)} ${opt.device ?? ''}: `;
  header += `${opt.datalen}(${opt.datalen + 8 + 20}) bytes of data.\n`;

  const from = (addr: number) => {
    const num = inetNtoa(addr);
    const name = run.exiting || opt.numeric ? '' : reverseName(addr);
    return name ? `${name} (${num})` : num;
  };

  const proto: PingProto = {
    header,
    sendProbe(_seq, payload) {
      const r = sock.sendto(whereto, payload);
      return r < 0 ? r : r === payload.byteLength ? 0 : -E.EIO;
    },
    sendError(err) {
      // ip_append_data() queues a local error (IP_RECVERR) when the datagram exceeds
      // 64 KiB; raw_sendmsg's own length check and route errors queue nothing.
      if (err === -E.EMSGSIZE && 8 + opt.datalen <= 0xffff) {
        if (opt.quiet) return -1;
        const fl4 = flowi4({ daddr: whereto, saddr: sock.boundAddr, tos: opt.tos, proto: IPPROTO.ICMP });
        const rt = ipRouteOutputKey(net, fl4);
        const mtu = typeof rt === 'number' ? 0 : rt.mtu;
        if (opt.flood) run.out.write('E');
        else run.ctx.stderr.write(`ping: local error: message too long, mtu=${mtu}\n`);
        run.nerrors++;
        return -1;
      }
      // The error queue is empty: recvmsg(MSG_ERRQUEUE) fails with EAGAIN, a silent local error.
      return -1;
    },
    parseReply(d) {
      const buf = d.data;
      const ihl = (buf[0] ?? 0) & 0xf;
      const hlen = ihl * 4;
      let cc = buf.byteLength;
      if (cc < hlen + 8 || ihl < 5) {
        if (opt.verbose) run.ctx.stderr.write(`ping: packet too short (${cc} bytes) from ${from(readU32(buf, 12))}\n`);
        return true;
      }
      const replyTtl = buf[8] as number;
      const src = readU32(buf, 12);
      cc -= hlen;
      const icmp = buf.subarray(hlen);
      const csfailed = csumFold(csumPartial(icmp, 0, cc)) !== 0;
      if (icmp[0] === ICMP.ECHOREPLY) {
        if ((((icmp[4] as number) << 8) | (icmp[5] as number)) !== opt.ident) return true;
        if (!run.containsPattern(icmp.subarray(8))) return true;
        const wrongSource = !multicast && src !== whereto;
        const recvNs = opt.latency ? run.clock.realtime() : d.tstamp;
        const rsec = Math.floor(recvNs / 1e9);
        const recv = { sec: rsec, usec: Math.floor((recvNs - rsec * 1e9) / 1000) };
        const seq = ((icmp[6] as number) << 8) | (icmp[7] as number);
        // Quiet and flood output never names the sender: no address text to make then.
        const who = opt.quiet || opt.flood ? '' : from(src);
        if (run.gatherStatistics(icmp, cc, seq, replyTtl, csfailed, recv, who, wrongSource)) return false;
        if (opt.audible) run.out.write('\x07');
        if (!opt.flood) run.out.write('\n');
        return false;
      }
      const h = new IcmpHeader(icmp);
      if (
        h.type === ICMP.SOURCE_QUENCH ||
        h.type === ICMP.REDIRECT ||
        h.type === ICMP.DEST_UNREACH ||
        h.type === ICMP.TIME_EXCEEDED ||
        h.type === ICMP.PARAMETERPROB
      ) {
        const inner = icmp.subarray(8);
        const ihl1 = ((inner[0] ?? 0) & 0xf) * 4;
        if (cc < 8 + 20 + 8 || cc < 8 + ihl1 + 8) return true;
        const icp1 = new IcmpHeader(inner, ihl1, 8);
        if (icp1.type !== ICMP.ECHO || readU32(inner, 16) !== whereto || icp1.id !== opt.ident) return true;
        if (h.type === ICMP.REDIRECT || h.type === ICMP.SOURCE_QUENCH) {
          // Not errors (no error queue entry): shown from the raw socket, and not ours.
          if (opt.quiet || opt.flood) return true;
          run.printTimestamp();
          run.out.write(`From ${from(src)}: icmp_seq=${icp1.sequence} ${csfailed ? '(BAD CHECKSUM)' : ''}`);
          run.out.write(prIcmph(h.type, h.code, h.rest, from));
          return true;
        }
        // Linux reports this through the error queue (IP_RECVERR); lonet's raw socket has
        // none, so the raw copy stands in for ping4_receive_error_msg().
        run.acknowledge(icp1.sequence);
        run.nerrors++;
        if (opt.quiet) return false;
        if (opt.flood) run.out.write('\bE');
        else {
          run.printTimestamp();
          run.out.write(`From ${from(src)} icmp_seq=${icp1.sequence} ${prIcmph(h.type, h.code, h.rest)}`);
        }
        return false;
      }
      return false;
    },
    recv: () => sock.recv(),
    recvAsync: () => sock.recvAsync(),
    close: () => sock.close(),
  };
  return proto;
}

function readU32le(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24)) >>>
    0
  );
}

function writeU32le(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

function readU32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

/**
 * ping6_run(): a raw ICMPv6 socket (the kernel checksums what it sends) with an
 * ICMP6_FILTER; a probe connect() picks the source and reports route errors (with
 * lo down, ::1 is gone: "connect: Cannot assign requested address").
 */
function ping6Setup(run: PingRun, net: Net, target: string, error: ErrorFn): PingProto | undefined {
  const opt = run.opt;
  const pct = target.lastIndexOf('%');
  const whereto = inetPton6(pct < 0 ? target : target.slice(0, pct));
  if (whereto === null) {
    error(2, 0, `${target}: Name or service not known`);
    return undefined;
  }
  const needsScope = ipv6NeedsScopeId(whereto);
  // getaddrinfo's sin6_scope_id (__inet6_scopeid_pton): a device name for a link-local
  // address, else a number; anything else is not a name it knows.
  let scopeId = 0;
  if (pct >= 0) {
    const name = target.slice(pct + 1);
    const dev = needsScope ? net.devGetByName(name) : undefined;
    if (dev !== undefined) scopeId = dev.ifindex;
    else if (/^\d+$/.test(name) && Number(name) <= 0xffffffff) scopeId = Number(name);
    else {
      error(2, 0, `${target}: Name or service not known`);
      return undefined;
    }
  }
  let oif = 0;
  if (opt.device !== null) {
    const dev = net.devGetByName(opt.device);
    if (dev === undefined) error(2, E.ENODEV, `SO_BINDTODEVICE ${opt.device}`);
    oif = dev?.ifindex ?? 0;
  }
  // The kernel takes the scope of a link-local destination as its outgoing device.
  const scopeOif = needsScope && scopeId !== 0 ? scopeId : 0;
  const fl6 = { daddr: whereto, saddr: new Uint8Array(16), oif: oif || scopeOif, proto: NEXTHDR.UDP };
  const rt = ip6RouteOutput(net, fl6);
  if (typeof rt === 'number') {
    error(2, -rt, 'connect');
    return undefined;
  }
  let source = fl6.saddr;
  if (opt.device !== null) {
    // iputils 20221126 leaves a link-local first hop's family unset when a device is
    // given: its probe connect() is a disconnect, and the source it reads back is ::.
    if (needsScope) source = new Uint8Array(16);
    const dev = net.devGetByName(opt.device);
    const mine = (dev === undefined ? [] : (in6DevGet(dev)?.addrList ?? [])).some((a) => ipv6AddrEqual(a.addr, source));
    if (!mine) error(0, 0, `Warning: source address might be selected on device other than: ${opt.device}`);
  }
  const sock = new Raw6Sock(net, NEXTHDR.ICMP);
  // ICMP6_FILTER: block everything but replies and the errors that may quote our requests.
  sock.icmp6Filter.fill(0xffffffff);
  for (const t of [ICMPV6.ECHO_REPLY, ICMPV6.DEST_UNREACH, ICMPV6.PKT_TOOBIG, ICMPV6.TIME_EXCEED, ICMPV6.PARAMPROB]) {
    sock.icmp6Filter[t >> 5] = ((sock.icmp6Filter[t >> 5] as number) & ~(1 << (t & 31))) >>> 0;
  }
  if (opt.ttlSet) sock.hopLimit = opt.ttl;
  sock.bindDevIfindex = oif;
  /** getnameinfo(NI_NUMERICHOST): a link-local address with its scope's device name. */
  const scoped = (addr: Uint8Array, scope: number): string => {
    const text = formatIpv6(addr);
    if (scope === 0) return text;
    const name = ipv6NeedsScopeId(addr) ? net.devGetByIndex(scope)?.name : undefined;
    return `${text}%${name ?? scope}`;
  };
  let header = `PING ${run.hostname}(${scoped(whereto, scopeId)}) `;
  if (opt.device !== null || opt.strictSource) header += `from ${formatIpv6(source)} ${opt.device ?? ''}: `;
  header += `${opt.datalen} data bytes\n`;
  const proto: PingProto = {
    header,
    sendProbe(_seq, payload) {
      const r = sock.sendto(whereto, payload, scopeOif);
      return r < 0 ? r : r === payload.byteLength ? 0 : -E.EIO;
    },
    sendError() {
      return -1;
    },
    parseReply(d) {
      const icmp = d.data;
      const cc = icmp.byteLength;
      if (cc < 8) return true;
      const h = new IcmpHeader(icmp);
      // recvmsg's sin6_scope_id: the arriving device, for a link-local sender.
      const src = d.from ?? new Uint8Array(16);
      const from = scoped(src, ipv6NeedsScopeId(src) ? (d.ifindex ?? 0) : 0);
      if (h.type === ICMPV6.ECHO_REPLY) {
        if (h.id !== opt.ident) return true;
        if (!run.containsPattern(icmp.subarray(8))) return true;
        const recvNs = opt.latency ? run.clock.realtime() : d.tstamp;
        const rsec = Math.floor(recvNs / 1e9);
        const recv = { sec: rsec, usec: Math.floor((recvNs - rsec * 1e9) / 1000) };
        if (run.gatherStatistics(icmp, cc, h.sequence, d.hopLimit ?? 0, false, recv, from, false)) return false;
        if (opt.audible) run.out.write('\x07');
        if (!opt.flood) run.out.write('\n');
        return false;
      }
      if (
        h.type !== ICMPV6.DEST_UNREACH &&
        h.type !== ICMPV6.PKT_TOOBIG &&
        h.type !== ICMPV6.TIME_EXCEED &&
        h.type !== ICMPV6.PARAMPROB
      )
        return true;
      // An error quoting one of our requests. Linux reports it through the error queue
      // (IPV6_RECVERR); lonet's raw socket has none, so the raw copy stands in for
      // ping6_receive_error_msg().
      if (cc < 8 + 40 + 8) return true;
      const inner = icmp.subarray(8);
      if (formatIpv6(inner.subarray(24, 40)) !== formatIpv6(whereto) || inner[6] !== NEXTHDR.ICMP) return true;
      const req = new IcmpHeader(inner, 40, 8);
      if (req.type !== ICMPV6.ECHO_REQUEST || req.id !== opt.ident) return true;
      run.acknowledge(req.sequence);
      run.nerrors++;
      if (opt.quiet) return false;
      if (opt.flood) run.out.write('\bE');
      else {
        run.printTimestamp();
        run.out.write(`From ${from} icmp_seq=${req.sequence} ${print6Icmp(h.type, h.code, h.rest >>> 0)}\n`);
      }
      return false;
    },
    recv: () => sock.recv(),
    recvAsync: () => sock.recvAsync(),
    close: () => sock.close(),
  };
  return proto;
}

/** __ipv6_addr_needs_scope_id(): link-local unicast, and link- or interface-local multicast. */
function ipv6NeedsScopeId(a: Uint8Array): boolean {
  if (a[0] === 0xfe && ((a[1] as number) & 0xc0) === 0x80) return true;
  return a[0] === 0xff && (((a[1] as number) & 0xf) === 1 || ((a[1] as number) & 0xf) === 2);
}

/** print6_icmp(): iputils' words for an ICMPv6 error. */
function print6Icmp(type: number, code: number, info: number): string {
  switch (type) {
    case ICMPV6.DEST_UNREACH:
      return `Destination unreachable: ${
        [
          'No route',
          'Administratively prohibited',
          'Beyond scope of source address',
          'Address unreachable',
          'Port unreachable',
        ][code] ?? `Unknown code ${code}`
      }`;
    case ICMPV6.PKT_TOOBIG:
      return `Packet too big: mtu=${info}${code ? `, code=${code}` : ''}`;
    case ICMPV6.TIME_EXCEED:
      return `Time exceeded: ${code === 0 ? 'Hop limit' : code === 1 ? 'Defragmentation failure' : `code ${code}`}`;
    case ICMPV6.PARAMPROB:
      return `Parameter problem: ${
        ['Wrong header field ', 'Unknown header ', 'Unknown option '][code] ?? `code ${code} `
      }at ${info}`;
    default:
      return `unknown icmp type: ${type}`;
  }
}

/** main(): options, then the name, then the family's run. */
async function pingMain(ctx: CommandContext): Promise<number> {
  const error = makeError(ctx.stderr);
  const argv0 = ctx.argv[0] ?? 'ping';
  const opt: Options = {
    family: argv0.endsWith('4') ? 4 : argv0.endsWith('6') ? 6 : 0,
    npackets: 0,
    interval: 1000,
    intervalSet: false,
    preload: 1,
    deadline: 0,
    lingertime: MAXWAIT * 1000,
    datalen: DEFDATALEN,
    ttl: 0,
    ttlSet: false,
    pmtudisc: -1,
    tos: 0,
    device: null,
    source: 0,
    strictSource: false,
    broadcast: false,
    quiet: false,
    flood: false,
    numeric: false,
    ptimeofday: false,
    outstanding: false,
    latency: false,
    verbose: false,
    audible: false,
    ident: -1,
    pattern: null,
    targets: [],
  };
  const usage = () => {
    ctx.stderr.write(USAGE);
    throw new Exit(2);
  };
  for (const o of getopt(ctx.argv, OPTSTRING, (m) => ctx.stderr.write(`ping: ${m}\n`))) {
    if ('operand' in o) {
      opt.targets.push(o.operand);
      continue;
    }
    const arg = o.arg;
    switch (o.opt) {
      case '4':
        if (opt.family === 6) error(2, 0, 'only one -4 or -6 option may be specified');
        opt.family = 4;
        break;
      case '6':
        if (opt.family === 4) error(2, 0, 'only one -4 or -6 option may be specified');
        opt.family = 6;
        break;
      case 'b':
        opt.broadcast = true;
        break;
      case 'c':
        opt.npackets = strtolOrErr(arg, 1n, LONG_MAX, error);
        break;
      case 'D':
        opt.ptimeofday = true;
        break;
      case 'e':
        opt.ident = strtolOrErr(arg, 0n, 0xffffn, error);
        break;
      case 'f':
        opt.flood = true;
        opt.numeric = true;
        break;
      case 'i': {
        const v = pingStrtod(arg, 'bad timing interval', error);
        if (v > INT_MAX / 1000) error(2, 0, `bad timing interval: ${arg}`);
        opt.interval = Math.trunc(v * 1000);
        opt.intervalSet = true;
        break;
      }
      case 'I': {
        if (arg.includes(':')) {
          // An IPv6 source (with an optional %device): for the IPv6 path.
          if (!isIpv6Literal(arg)) error(2, 0, `invalid source address: ${arg}`);
          opt.strictSource = true;
          break;
        }
        const a = /^\d+\.\d+\.\d+\.\d+$/.test(arg) ? inetAton(arg) : null;
        if (a !== null) {
          opt.source = a;
          opt.strictSource = true;
        } else opt.device = arg;
        break;
      }
      case 'l':
        opt.preload = strtolOrErr(arg, 1n, BigInt(MAX_DUP_CHK), error);
        break;
      case 'm':
        strtolOrErr(arg, 0n, BigInt(INT_MAX), error);
        break;
      case 'M':
        if (!['do', 'dont', 'want', 'probe'].includes(arg)) error(2, 0, `invalid -M argument: ${arg}`);
        opt.pmtudisc = ['dont', 'want', 'do', 'probe'].indexOf(arg);
        break;
      case 'n':
        opt.numeric = true;
        break;
      case 'O':
        opt.outstanding = true;
        break;
      case 'p':
        opt.pattern = arg;
        break;
      case 'q':
        opt.quiet = true;
        break;
      case 'Q': {
        const hex = /^0[xX]/.test(arg);
        const m = (hex ? /^0[xX]([+-]?[0-9a-fA-F]*)$/ : /^\s*([+-]?\d*)$/).exec(arg);
        if (m === null || m[1] === '' || m[1] === undefined) error(2, 0, `bad TOS value: ${arg}`);
        const tos = Number.parseInt(m?.[1] ?? '0', hex ? 16 : 10);
        if (tos > 255) error(2, 0, `the decimal value of TOS bits must be in range 0-255: ${tos}`);
        opt.tos = tos;
        break;
      }
      case 's':
        opt.datalen = strtolOrErr(arg, 0n, BigInt(INT_MAX), error);
        break;
      case 'S':
        strtolOrErr(arg, 1n, BigInt(INT_MAX), error);
        break;
      case 't':
        opt.ttl = strtolOrErr(arg, 0n, 255n, error);
        opt.ttlSet = true;
        break;
      case 'T':
        if (!['tsonly', 'tsandaddr', 'tsprespec'].includes(arg)) error(2, 0, `invalid timestamp type: ${arg}`);
        break;
      case 'U':
        opt.latency = true;
        break;
      case 'v':
        opt.verbose = true;
        break;
      case 'V':
        ctx.stdout.write(VERSION);
        return 0;
      case 'w':
        opt.deadline = strtolOrErr(arg, 0n, BigInt(INT_MAX), error);
        break;
      case 'W': {
        const v = pingStrtod(arg, 'bad linger time', error);
        // 20221126 refuses only negative and huge values: -W 0 is accepted.
        if (v < 0 || v > INT_MAX / 1000) error(2, 0, `bad linger time: ${arg}`);
        opt.lingertime = Math.trunc(v * 1000);
        break;
      }
      case 'a':
        opt.audible = true;
        break;
      // Accepted and without effect on lo: -A -B -C -d -F -L -N -r -R.
      case 'A':
      case 'B':
      case 'C':
      case 'd':
      case 'F':
      case 'L':
      case 'N':
      case 'r':
      case 'R':
        break;
      default:
        usage();
    }
  }
  if (opt.targets.length === 0) error(1, E.EDESTADDRREQ, 'usage error');
  if (opt.flood && !opt.intervalSet) opt.interval = 0;

  const net = ctx.net;
  const run = new PingRun(ctx, net.kernel.clock, opt);
  // setup(): without -p the data counts up from 0, timestamp area included.
  for (let i = 0; i < opt.datalen; i++) run.outpack[8 + i] = i & 0xff;
  if (opt.pattern !== null) fillPattern(run, opt.pattern, error);

  const target = opt.targets[opt.targets.length - 1] as string;
  const res = getaddrinfo(target, opt.family);
  if (typeof res === 'string') error(2, 0, `${target}: ${res}`);
  const dest = res as Resolved;
  // From here on the family is the destination's (`ping ::1` is ping -6 ::1).
  opt.family = dest.family;

  // The echo id: random for a raw socket, unless -e chose one.
  if (opt.ident < 0) opt.ident = Math.floor(Math.random() * 0x10000);

  let proto: PingProto | undefined;
  if (dest.family === 4) {
    const hops: number[] = [];
    if (opt.targets.length > 1) {
      for (const t of opt.targets.slice(0, -1)) {
        const h = getaddrinfo(t, 4);
        if (typeof h === 'string') error(2, 0, `${t}: ${h}`);
        else if (h.family === 4) hops.push(h.addr);
      }
    }
    if (dest.canon === null && opt.targets.length === 1) opt.numeric = true;
    run.hostname = dest.canon ?? target;
    proto = ping4Setup(run, net, dest.addr, hops, error);
  } else {
    run.hostname = dest.canon ?? target;
    proto = ping6Setup(run, net, dest.text, error);
  }
  if (proto === undefined) return 2;
  run.proto = proto;
  try {
    ctx.stdout.write(proto.header);
    run.startTime = net.kernel.clock.now();
    let deadlineTimer: Timer | undefined;
    if (opt.deadline) deadlineTimer = net.kernel.clock.setTimer(opt.deadline * 1e9, () => run.sigexit());
    try {
      return await run.mainLoop();
    } finally {
      deadlineTimer?.cancel();
    }
  } finally {
    proto.close();
  }
}

/** fill(): -p's hex pattern repeated over the data, and the PATTERN line. */
function fillPattern(run: PingRun, patp: string, error: ErrorFn): void {
  for (let i = 0; i < patp.length; i++) {
    if (!/[0-9a-fA-F]/.test(patp[i] as string))
      error(2, 0, `patterns must be specified as hex digits: ${patp.slice(i)}`);
  }
  const pat: number[] = [];
  for (let i = 0; i + 1 <= patp.length && pat.length < 16; i += 2) pat.push(Number.parseInt(patp.slice(i, i + 2), 16));
  const bp = run.outpack.subarray(8);
  const ii = pat.length;
  if (ii > 0) {
    const size = run.opt.datalen;
    const max = size < ii + 8 ? 0 : size - ii + 8;
    for (let kk = 0; kk <= max; kk += ii)
      for (let jj = 0; jj < ii; jj++) if (jj + kk < bp.length) bp[jj + kk] = pat[jj] as number;
  }
  if (!run.opt.quiet) {
    let s = 'PATTERN: 0x';
    for (let jj = 0; jj < ii; jj++) s += ((bp[jj] ?? 0) & 0xff).toString(16).padStart(2, '0');
    run.out.write(`${s}\n`);
  }
}

export const ping: Command = async (ctx) => {
  try {
    return await pingMain(ctx);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
};
