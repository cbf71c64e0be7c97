/**
 * Runs one packetdrill script against a fresh lonet host on the virtual clock, as
 * packetdrill runs one against the kernel in a fresh network namespace: a tun device
 * holds the remote end (local 192.168.0.1/16, remote 192.0.2.1 through the gateway),
 * `<` packets are written into it, what lonet transmits on it is read back and matched
 * against `>` lines, system calls go through a process's descriptor table, and
 * backquoted commands run in lonet's shell. Time is the kernel's virtual clock, so a
 * script's timers fire exactly when Linux's would, with no sleeping.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import '../../api/node-crypto.js';
import { type TunFile, tunAlloc } from '../../drivers/tun.js';
import { E, errnoName, strerror } from '../../include/errno.js';
import { Kernel, Net } from '../../init.js';
import { formatIpv6, inetPton6 } from '../../ipv6/addr.js';
import type { VirtualClock } from '../../kernel/clock.js';
import {
  type Cmsg,
  type EpollEvent,
  type Linger,
  type MsgHdr,
  type PollFd,
  Process,
  type SockAddr,
  type SockoptValue,
  tcpInfoRecord,
} from '../../socket/syscalls.js';
import { AF, MSG, SOL, SYMBOLS } from '../../socket/uapi.js';
import { TCP } from '../../transport/tcp/sock.js';
import { TCPHDR, TCPOPT } from '../../wire/tcp.js';
import type { Command, Output } from '../command.js';
import { Shell } from '../shell.js';
import {
  buildInbound,
  type Endpoints,
  fastopenCookieBytes,
  flagBits,
  type LivePacket,
  liveString,
  optionBytes,
  optionString,
  parseLive,
  scriptOptionLen,
} from './packet.js';
import { type Expr, type PacketSpec, parseScript, ScriptError, type ScriptEvent, type SyscallSpec } from './parse.js';
import { runAsserts } from './python.js';

export type IpVersion = 'ipv4' | 'ipv4-mapped-ipv6' | 'ipv6';

export interface Config {
  ipVersion: IpVersion;
  localIp: string;
  remoteIp: string;
  gatewayIp: string;
  netmaskIp: string;
  mtu: number;
  /** --mss: inbound TCP packets carry it as the virtio_net_hdr gso_size (0: none). */
  mss: number;
  toleranceUsecs: number;
  tolerancePercent: number;
  defines: Map<string, string>;
  bindPort: number;
  connectPort: number;
}

/** config.c's defaults, and ksft_runner.sh's local address. */
export function defaultConfig(ipVersion: IpVersion = 'ipv4'): Config {
  const v6 = ipVersion === 'ipv6';
  return {
    ipVersion,
    localIp: v6 ? 'fd3d:fa7b:d17d::1' : '192.168.0.1',
    remoteIp: v6 ? '2001:db8::1/32' : '192.0.2.1/24',
    gatewayIp: v6 ? 'fd3d:fa7b:d17d:8888::1' : '192.168.0.2',
    netmaskIp: '255.255.0.0',
    mtu: 1500,
    mss: 0,
    toleranceUsecs: 4000,
    tolerancePercent: 12.5,
    defines: new Map(),
    bindPort: 8080,
    connectPort: 8080,
  };
}

/** How a script ended: passed, or the first mismatch with its line. */
export interface RunResult {
  ok: boolean;
  line: number;
  error: string;
  /** The lonet feature whose absence made it fail, when the failure says so. */
  lacks: string | null;
}

class Failure extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly lacks: string | null = null,
  ) {
    super(message);
  }
}

/** One connection the script talks about (struct socket in run_packet.c). */
interface Conn {
  localPort: number;
  remotePort: number;
  scriptLocalIsn: number;
  liveLocalIsn: number | null;
  scriptRemoteIsn: number;
  liveRemoteIsn: number;
  /** Script TS val -> live TS val, from outbound packets. */
  tsMap: Map<number, number>;
  firstTs: { script: number; live: number } | null;
  fd: number | null;
}

interface Pending {
  line: number;
  call: SyscallSpec;
  startUsecs: number;
  endUsecs: number;
  done: boolean;
}

const IP4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/;

function parseIp(s: string): Uint8Array | null {
  const m = IP4.exec(s);
  if (m !== null) return Uint8Array.from(m.slice(1, 5).map(Number));
  return inetPton6(s);
}

function mapped(a: Uint8Array): Uint8Array {
  if (a.length === 16) return a;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(a, 12);
  return out;
}

/** ip_prefix_normalize(): `192.0.2.1/24` as the route `192.0.2.0/24`. */
function normalizePrefix(s: string, defaultLen: number): string {
  const [ip = '', len] = s.split('/');
  const plen = len === undefined ? defaultLen : Number(len);
  const a = parseIp(ip);
  if (a === null) return s;
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, plen - i * 8));
    a[i] = (a[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${a.length === 4 ? a.join('.') : formatIpv6(a)}/${plen}`;
}

function prefixLen(mask: Uint8Array): number {
  let n = 0;
  for (const b of mask) for (let k = 7; k >= 0; k--) if (b & (1 << k)) n++;
  return n;
}

/** A buffer argument written NULL. */
function isNull(e: Expr): boolean {
  return e.k === 'word' && e.v === 'NULL';
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** sizeof(struct cmsghdr), struct sock_extended_err and struct scm_timestamping on x86_64. */
const CMSG_HDR = 16;
const SOCK_EE_LEN = 16;
const SCM_TIMESTAMPING_LEN = 48;

/** CMSG_SPACE(len): header and data, each aligned to 8 bytes. */
function cmsgSpace(len: number): number {
  return CMSG_HDR + ((len + 7) & ~7);
}

/** The data length of a control message lonet delivered. */
function cmsgDataLen(c: Cmsg): number {
  if (typeof c.data === 'number') return 4;
  if ('ts' in c.data) return SCM_TIMESTAMPING_LEN;
  return SOCK_EE_LEN + (c.level === SOL.IP ? 16 : 28);
}

/** sock_extended_err's fields, by their script names, in the order packetdrill checks them. */
const EE_FIELDS = [
  ['ee_errno', 'errno'],
  ['ee_origin', 'origin'],
  ['ee_type', 'type'],
  ['ee_code', 'code'],
  ['ee_info', 'info'],
  ['ee_data', 'data'],
] as const;

/** Names the %{ }% code may use besides tcpi_*: include/net/tcp.h and uapi values. */
const CODE_NAMES: Record<string, number> = {
  TCP_ESTABLISHED: TCP.ESTABLISHED,
  TCP_SYN_SENT: TCP.SYN_SENT,
  TCP_SYN_RECV: TCP.SYN_RECV,
  TCP_FIN_WAIT1: TCP.FIN_WAIT1,
  TCP_FIN_WAIT2: TCP.FIN_WAIT2,
  TCP_TIME_WAIT: TCP.TIME_WAIT,
  TCP_CLOSE: TCP.CLOSE,
  TCP_CLOSE_WAIT: TCP.CLOSE_WAIT,
  TCP_LAST_ACK: TCP.LAST_ACK,
  TCP_LISTEN: TCP.LISTEN,
  TCP_CLOSING: TCP.CLOSING,
  TCPI_OPT_TIMESTAMPS: 1,
  TCPI_OPT_SACK: 2,
  TCPI_OPT_WSCALE: 4,
  TCPI_OPT_ECN: 8,
  TCPI_OPT_ECN_SEEN: 16,
  TCPI_OPT_SYN_DATA: 32,
  TCP_CA_Open: 0,
  TCP_CA_Disorder: 1,
  TCP_CA_CWR: 2,
  TCP_CA_Recovery: 3,
  TCP_CA_Loss: 4,
};

export class Run {
  readonly kernel = new Kernel({ clock: 'virtual' });
  readonly clock = this.kernel.clock as VirtualClock;
  readonly net = new Net({ kernel: this.kernel });
  readonly proc = new Process(this.net);
  readonly cfg: Config;
  readonly dir: string;
  readonly log: Output;
  tun!: TunFile;
  #start = 0;
  #v4: boolean;
  #domain: number;
  #local: Uint8Array;
  #remote: Uint8Array;
  /** Script fd -> live fd. */
  #fds = new Map<number, number>();
  #conns: Conn[] = [];
  #current: Conn | null = null;
  #listening = false;
  #connecting: number | null = null;
  #nextPort = 40000 + Math.floor(Math.random() * 20000);
  #pending: Pending | null = null;
  #asyncFailure: Failure | null = null;
  #lastEventUsecs: number | null = null;
  #lastEventAnchored = false;
  #sysctlRestore: [string, string][] = [];
  #line = 0;

  constructor(cfg: Config, dir: string, log: Output) {
    this.cfg = cfg;
    this.dir = dir;
    this.log = log;
    this.#v4 = cfg.ipVersion !== 'ipv6';
    this.#domain = cfg.ipVersion === 'ipv4' ? AF.INET : AF.INET6;
    const local = parseIp(cfg.localIp);
    const remote = parseIp(cfg.remoteIp.replace(/\/.*$/, ''));
    if (local === null || remote === null) throw new Failure(0, 'bad --local_ip or --remote_ip');
    this.#local = local;
    this.#remote = remote;
  }

  get nowUsecs(): number {
    return Math.round((this.clock.now() - this.#start) / 1e3);
  }

  /** netdev.c's local_netdev_new(): tun0 up, the local address, a route to the remote prefix. */
  async setup(): Promise<void> {
    const tun = tunAlloc(this.net, 'tun0');
    if (typeof tun === 'number') throw new Failure(0, `tun: ${strerror(-tun)}`);
    this.tun = tun;
    const cfg = this.cfg;
    const mask = parseIp(cfg.netmaskIp);
    const plen = this.#v4 ? prefixLen(mask ?? new Uint8Array(4)) : 48;
    const fam = this.#v4 ? '-4' : '-6';
    const remotePrefix = normalizePrefix(cfg.remoteIp, this.#v4 ? 24 : 48);
    const lines = [
      `ip link set tun0 up`,
      ...(cfg.mtu !== 1500 ? [`ip link set tun0 mtu ${cfg.mtu}`] : []),
      `ip ${fam} addr add ${cfg.localIp}/${plen} dev tun0`,
      `ip ${fam} route add ${remotePrefix} via ${cfg.gatewayIp} dev tun0`,
    ];
    for (const l of lines) {
      const r = await this.#sh(l);
      if (r.code !== 0) throw new Failure(0, `setup: '${l}' failed: ${r.err.trim()}`);
    }
    await this.#settle();
    this.#start = this.clock.now();
  }

  async #sh(line: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const { commands } = await import('../index.js');
    const shell = new Shell({
      net: this.net,
      commands,
      stdout: {
        write: (t) => {
          out += t;
        },
      },
      stderr: {
        write: (t) => {
          err += t;
        },
      },
    });
    const code = await shell.run(line);
    await shell.wait();
    return { code, out, err };
  }

  /** Lets wakeups (microtasks) and ksoftirqd (macrotasks) run. */
  async #settle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }

  /** Moves the clock to script time `usecs`, one timer at a time so wakeups see the right time. */
  async #advanceTo(usecs: number, until?: () => boolean): Promise<boolean> {
    const target = this.#start + usecs * 1e3;
    for (;;) {
      // Wakeups queued by what just happened run before the clock moves on.
      await this.#settle();
      if (until?.()) return true;
      const now = this.clock.now();
      if (now >= target) return false;
      const next = this.clock.nextTimer();
      const step = next === undefined ? target - now : Math.min(next, target - now);
      this.clock.advance(Math.max(step, 0));
    }
  }

  #fail(msg: string, lacks: string | null = null): never {
    throw new Failure(this.#line, msg, lacks);
  }

  async run(src: string): Promise<RunResult> {
    try {
      const script = parseScript(this.#define(src));
      for (const [k, v] of script.options) this.#option(k, v);
      await this.setup();
      for (const ev of script.events) {
        this.#line = ev.line;
        this.#checkAsync();
        await this.#event(ev);
        this.#checkAsync();
      }
      // Give a blocking call still asleep up to a second (await_idle_thread).
      if (this.#pending !== null && !this.#pending.done) {
        const p = this.#pending;
        await this.#advanceTo(this.nowUsecs + 1e6, () => p.done);
        this.#checkAsync();
        if (!p.done) throw new Failure(p.line, 'runtime error: exiting while a blocking system call is in progress');
      }
      return { ok: true, line: 0, error: '', lacks: null };
    } catch (e) {
      if (e instanceof Failure) return { ok: false, line: e.line, error: e.message, lacks: e.lacks };
      if (e instanceof ScriptError) return { ok: false, line: e.line, error: e.message, lacks: null };
      throw e;
    } finally {
      this.proc.exit();
    }
  }

  /** -D NAME=VALUE: words replaced in the script's text, as the lexer's definitions are. */
  #define(src: string): string {
    let out = src;
    for (const [k, v] of this.cfg.defines) out = out.replace(new RegExp(`\\b${k}\\b`, 'g'), v);
    return out;
  }

  #option(name: string, value: string): void {
    switch (name) {
      case 'tolerance_usecs':
        this.cfg.toleranceUsecs = Number(value);
        return;
      case 'mtu':
        this.cfg.mtu = Number(value);
        return;
      case 'mss':
        this.cfg.mss = Number(value);
        return;
      case 'ip_version':
        // ksft_runner.sh picks the version from this line; the run itself keeps the one it was given.
        return;
      case 'bind_port':
        this.cfg.bindPort = Number(value);
        return;
      case 'connect_port':
        this.cfg.connectPort = Number(value);
        return;
    }
    // Options about packetdrill's own buffers and wire modes change nothing here.
  }

  #checkAsync(): void {
    if (this.#asyncFailure !== null) throw this.#asyncFailure;
  }

  async #event(ev: ScriptEvent): Promise<void> {
    const a = ev.action;
    const anchored = a.type === 'packet' && a.packet.dir === '<';
    // adjust_relative_event_times(): consecutive inbound packets are anchored to the script times.
    let usecs = ev.usecs;
    let usecsEnd = ev.usecsEnd;
    if (ev.timeType === 'relative' || ev.timeType === 'relative-range' || ev.timeType === 'any') {
      const offset =
        this.#lastEventUsecs !== null && this.#lastEventAnchored && anchored ? this.#lastEventUsecs : this.nowUsecs;
      usecs += offset;
      usecsEnd += offset;
      if (a.type === 'syscall' && a.call.endUsecs !== null && ev.timeType === 'relative') a.call.endUsecs += offset;
    }
    const last = this.#lastEventUsecs;
    switch (a.type) {
      case 'packet':
        if (a.packet.dir === '<') {
          await this.#advanceTo(usecs);
          this.#inject(a.packet);
        } else await this.#outbound(a.packet, ev, usecs, usecsEnd, last);
        break;
      case 'syscall':
        await this.#awaitIdle();
        await this.#advanceTo(usecs);
        await this.#syscall(a.call, usecs);
        break;
      case 'command':
        await this.#advanceTo(usecs);
        await this.#command(a.command);
        break;
      case 'code':
        await this.#advanceTo(usecs);
        this.#code(a.code);
        break;
    }
    this.#lastEventUsecs = ev.timeType === 'any' ? this.nowUsecs : usecs;
    this.#lastEventAnchored = anchored;
  }

  // ---- time checks ----

  /** verify_time(): within tolerance_usecs, or 12.5% of the gap since the last event if larger. */
  #verifyTime(
    type: ScriptEvent['timeType'],
    usecs: number,
    usecsEnd: number,
    actual: number,
    last: number | null,
    what: string,
  ): string | null {
    if (type === 'any') return null;
    let tol = this.cfg.toleranceUsecs;
    if (last !== null) tol = Math.max(tol, Math.floor((this.cfg.tolerancePercent / 100) * (usecs - last)));
    const s = (u: number) => (u / 1e6).toFixed(6);
    if (type === 'absolute-range' || type === 'relative-range') {
      if (actual < usecs - tol || actual > usecsEnd + tol)
        return `timing error: expected ${what} in time range ${s(usecs)}~${s(usecsEnd)} sec but happened at ${s(actual)} sec`;
      return null;
    }
    if (actual < usecs - tol || actual > usecs + tol)
      return `timing error: expected ${what} at ${s(usecs)} sec but happened at ${s(actual)} sec; tolerance ${s(tol)} sec`;
    return null;
  }

  // ---- packets ----

  #endpoints(conn: Conn): Endpoints {
    return {
      v4: this.#v4,
      src: this.#remote,
      dst: this.#local,
      sport: conn.remotePort,
      dport: conn.localPort,
    };
  }

  #inject(spec: PacketSpec): void {
    if (spec.proto !== 'tcp')
      this.#fail(`cannot inject ${spec.proto} packets`, `${spec.proto.toUpperCase()} packet injection`);
    const bits = spec.flags;
    const syn = bits.includes('S');
    const ackf = bits.includes('.');
    let conn = this.#current;
    if (syn && !ackf && this.#listening) {
      // handle_listen_for_script_packet(): a SYN to the listener is a new connection.
      conn = {
        localPort: this.cfg.bindPort,
        remotePort: this.#nextPort++,
        scriptLocalIsn: 0,
        liveLocalIsn: null,
        scriptRemoteIsn: spec.seq,
        liveRemoteIsn: spec.seq,
        tsMap: new Map(),
        firstTs: null,
        fd: null,
      };
      this.#conns.push(conn);
      this.#current = conn;
    }
    if (conn === null) this.#fail('no matching socket for script packet');
    if (syn && ackf) {
      conn.scriptRemoteIsn = spec.seq;
      conn.liveRemoteIsn = spec.seq;
    }
    // remote_seq_script_to_live_offset() / local_seq_script_to_live_offset(): a SYN's numbers
    // are absolute; after it, sequence numbers count from the ISNs (script 1 = ISN + 1).
    const liveLocal = conn.liveLocalIsn ?? 0;
    const ackOff = (syn ? liveLocal - conn.scriptLocalIsn : liveLocal) >>> 0;
    const seq = (spec.seq + (syn ? 0 : conn.liveRemoteIsn)) >>> 0;
    const ack = ackf ? (spec.ack ?? 0) + ackOff : 0;
    if (spec.win === null) this.#fail('window must be specified for inbound packets');
    const opts: number[] = [];
    for (const o of spec.options ?? []) {
      if (o.kind === 'TS') {
        let ecr = o.tsecr ?? 0;
        if (ackf) {
          const live = conn.tsMap.get(ecr);
          if (live !== undefined) ecr = live;
          else if (conn.firstTs !== null) ecr = (ecr - conn.firstTs.script + conn.firstTs.live) >>> 0;
          else if (ecr !== 0)
            this.#fail(
              `unable to infer live TS ecr for script TS ecr ${ecr}; no matching or preceding outbound TS val`,
            );
        }
        opts.push(...optionBytes(o, ecr));
      } else if (o.kind === 'sack') {
        opts.push(
          ...optionBytes({ ...o, blocks: (o.blocks ?? []).map(([x, y]) => [(x + ackOff) >>> 0, (y + ackOff) >>> 0]) }),
        );
      }
      // TCPOPT_MD5SIG with the script's digest bytes as they are: packetdrill does not sign.
      else if (o.kind === 'md5') opts.push(TCPOPT.MD5SIG, 2 + (o.digest ?? []).length, ...(o.digest ?? []));
      else if (o.kind === 'ECN') this.#fail(`cannot send option ${o.text}`, 'AccECN');
      else if (o.kind === 'unknown') this.#fail(`unknown TCP option ${o.text}`);
      else opts.push(...optionBytes(o));
    }
    while (opts.length % 4 !== 0) opts.push(0);
    const bytes = buildInbound(spec, this.#endpoints(conn), seq, ack >>> 0, opts, 64);
    // linux_tun_write(): every TCP packet goes with the configured MSS as its GSO size.
    const r = this.tun.write(bytes, this.cfg.mss);
    if (r < 0) this.#fail(`tun write: ${strerror(-r)}`);
  }

  #connFor(p: LivePacket): Conn | undefined {
    return this.#conns.find((c) => c.localPort === p.sport && c.remotePort === p.dport);
  }

  async #outbound(
    spec: PacketSpec,
    ev: ScriptEvent,
    usecs: number,
    usecsEnd: number,
    last: number | null,
  ): Promise<void> {
    const deadline = ev.timeType === 'any' ? this.nowUsecs + 600e6 : Math.max(usecs, usecsEnd) + 2e6;
    let live: LivePacket | null = null;
    let time = 0;
    let conn: Conn | undefined;
    while (live === null) {
      await this.#advanceTo(deadline, () => this.tun.queue.length > 0);
      const frame = this.tun.read();
      if (frame === undefined) {
        this.#fail(`timed out waiting for packet: expected ${spec.text}`);
      }
      const p = parseLive(frame.data);
      if (typeof p === 'string') continue;
      if (!equal(p.dst, this.#remote)) continue;
      conn = this.#connFor(p);
      if (conn === undefined && p.flags & TCPHDR.SYN && !(p.flags & TCPHDR.ACK) && this.#connecting !== null) {
        // handle_connect_for_script_packet(): the SYN of the last connect() names the connection.
        conn = {
          localPort: p.sport,
          remotePort: p.dport,
          scriptLocalIsn: spec.seq,
          liveLocalIsn: p.seq,
          scriptRemoteIsn: 0,
          liveRemoteIsn: 0,
          tsMap: new Map(),
          firstTs: null,
          fd: this.#connecting,
        };
        this.#conns.push(conn);
        this.#current = conn;
        this.#connecting = null;
      }
      // Only the socket under test is matched (find_socket_for_live_packet); packets of
      // other sockets, such as a closed one's RST, are passed over.
      if (conn === undefined || (conn !== this.#current && this.#current !== null)) continue;
      live = p;
      time = Math.round((frame.time - this.#start) / 1e3);
    }
    if (conn === undefined) return;
    if (spec.proto !== 'tcp') this.#fail(`expected a ${spec.proto} packet`, `${spec.proto.toUpperCase()} packets`);
    live = await this.#aggregate(spec, live, conn, deadline);
    const wantSyn = spec.flags.includes('S');
    const wantAck = spec.flags.includes('.');
    if (wantSyn && wantAck && conn.liveLocalIsn === null) {
      conn.scriptLocalIsn = spec.seq;
      conn.liveLocalIsn = live.seq;
    }
    // tcp_convert_seq_number(): the inverse of the inbound mapping, by whether the live packet is a SYN.
    const liveSyn = (live.flags & TCPHDR.SYN) !== 0;
    const liveLocal = conn.liveLocalIsn ?? 0;
    const localOff = (liveSyn ? conn.scriptLocalIsn - liveLocal : -liveLocal) >>> 0;
    const remoteOff = (liveSyn ? 0 : -conn.liveRemoteIsn) >>> 0;
    const seq = (live.seq + localOff) >>> 0;
    const ack = live.flags & TCPHDR.ACK ? (live.ack + remoteOff) >>> 0 : live.ack;
    const sackMap = (n: number) => (n + remoteOff) >>> 0;
    // TS val into script space (map_outbound_live_packet).
    const liveTs = live.options.find((o) => o.kind === 'timestamp');
    const scriptTs = spec.options?.find((o) => o.kind === 'TS');
    if (liveTs !== undefined && liveTs.kind === 'timestamp' && scriptTs?.tsval !== undefined) {
      conn.tsMap.set(scriptTs.tsval, liveTs.tsval);
      conn.firstTs ??= { script: scriptTs.tsval, live: liveTs.tsval };
    }
    const err = this.#compare(spec, live, seq, ack, sackMap);
    const timeErr = err === null ? this.#verifyTime(ev.timeType, usecs, usecsEnd, time, last, 'outbound packet') : null;
    if (err !== null || timeErr !== null) {
      const s = (u: number) => (u / 1e6).toFixed(6);
      this.#fail(
        `${err ?? timeErr}\n  script packet: ${s(usecs)} ${spec.text.slice(2)}\n  actual packet: ${s(time)} ${liveString(live, seq, ack, sackMap)}`,
      );
    }
  }

  /**
   * do_outbound_script_packet()'s aggregation: packetdrill sniffs further packets of the
   * connection until their payload adds up to the script's, so a script's one TSO packet
   * matches the several a sender's cwnd, pacing or GSO limits split it into. Each fragment
   * must follow the previous one (verify_packet_fragments): same ports, flags, ack, window
   * and options length, the next sequence number, and — all but the last — the same length.
   * The aggregate is the first fragment with the whole payload and the last one's PSH/FIN.
   */
  async #aggregate(spec: PacketSpec, first: LivePacket, conn: Conn, deadline: number): Promise<LivePacket> {
    let total = first.payload.length;
    if (total >= spec.len) return first;
    const parts = [first];
    let prev = first;
    while (total < spec.len) {
      await this.#advanceTo(deadline, () => this.tun.queue.length > 0);
      const frame = this.tun.read();
      if (frame === undefined) break;
      const p = parseLive(frame.data);
      if (typeof p === 'string' || !equal(p.dst, this.#remote) || this.#connFor(p) !== conn) continue;
      const same = TCPHDR.SYN | TCPHDR.RST | TCPHDR.ACK | TCPHDR.URG | TCPHDR.ECE;
      const why =
        (p.flags & same) !== (prev.flags & same)
          ? 'aggregate candidate flags differ'
          : p.seq !== (prev.seq + prev.payload.length) >>> 0
            ? `aggregate candidate field tcp_seq: expected: ${(prev.seq + prev.payload.length) >>> 0} vs actual: ${p.seq}`
            : p.ack !== prev.ack || p.window !== prev.window || p.doff !== prev.doff
              ? 'aggregate candidate header differs'
              : total + p.payload.length < spec.len && p.payload.length !== prev.payload.length
                ? `fragment payload: expected ${prev.payload.length} bytes vs actual ${p.payload.length} bytes; total payload: expected ${spec.len} bytes vs actual ${total + p.payload.length} bytes`
                : null;
      if (why !== null) this.#fail(why);
      parts.push(p);
      total += p.payload.length;
      prev = p;
    }
    if (total !== spec.len) this.#fail(`live packet payload: expected ${spec.len} bytes vs actual ${total} bytes`);
    const payload = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      payload.set(part.payload, at);
      at += part.payload.length;
    }
    const tail = TCPHDR.PSH | TCPHDR.FIN;
    return {
      ...first,
      ipLen: first.ipLen + total - first.payload.length,
      flags: (first.flags & ~tail) | (prev.flags & tail),
      payload,
    };
  }

  /** verify_outbound_live_packet(), in its order; null when everything matches. */
  #compare(spec: PacketSpec, p: LivePacket, seq: number, ack: number, sackMap: (n: number) => number): string | null {
    const field = (name: string, want: number, got: number) =>
      want === got
        ? null
        : `live packet field ${name}: expected: ${want} (0x${want.toString(16)}) vs actual: ${got} (0x${got.toString(16)})`;
    const optLen = spec.options === null ? p.optionBytes.length : scriptOptionLen(spec);
    const tcpLen = 20 + optLen + spec.len;
    const bits = flagBits(spec.flags);
    const flag = (name: string, bit: number) => field(name, bits & bit ? 1 : 0, p.flags & bit ? 1 : 0);
    const checks: (() => string | null)[] = p.v4
      ? [
          () => field('ipv4_version', 4, 4),
          () => field('ipv4_protocol', 6, p.protocol),
          () => field('ipv4_header_length', 5, p.ihl),
          () => field('ipv4_total_length', 20 + tcpLen, p.ipLen),
        ]
      : [() => field('ipv6_payload_len', tcpLen, p.ipLen), () => field('ipv6_next_header', 6, p.protocol)];
    checks.push(
      () => this.#checkTos(spec, p.tos),
      () => field('tcp_data_offset', (20 + optLen) / 4, p.doff),
      () => flag('tcp_fin', TCPHDR.FIN),
      () => flag('tcp_syn', TCPHDR.SYN),
      () => flag('tcp_rst', TCPHDR.RST),
      () => flag('tcp_psh', TCPHDR.PSH),
      () => flag('tcp_ack', TCPHDR.ACK),
      () => flag('tcp_urg', TCPHDR.URG),
      () => flag('tcp_ece', TCPHDR.ECE),
      () => flag('tcp_cwr', TCPHDR.CWR),
      () => flag('tcp_ae', TCPHDR.AE),
      () => field('tcp_reserved_bits', 0, p.res1),
      () => field('tcp_seq', spec.seq, seq),
      () => field('tcp_ack_seq', spec.ack ?? 0, ack),
      () => (spec.win === null ? null : field('tcp_window', spec.win, p.window)),
      () => field('tcp_urg_ptr', spec.urg ?? 0, p.urg),
      () => (!p.v4 && spec.flowlabel ? this.#checkFlowlabel(p.flowlabel) : null),
      () => this.#checkOptions(spec, p, sackMap),
      () => (p.payload.every((b) => b === 0) ? null : 'incorrect outbound data payload'),
    );
    for (const c of checks) {
      const e = c();
      if (e !== null) return e;
    }
    return null;
  }

  #checkTos(spec: PacketSpec, tos: number): string | null {
    if (spec.tos !== null)
      return spec.tos === tos
        ? null
        : `live packet field tos: expected: ${spec.tos} (0x${spec.tos.toString(16)}) vs actual: ${tos} (0x${tos.toString(16)})`;
    if (spec.ecn === null) return null;
    const ecn = tos & 3;
    if (spec.ecn === 'ect01')
      return ecn === 1 || ecn === 2
        ? null
        : `live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: 0x${ecn.toString(16)}`;
    const want = { noecn: 0, ect1: 1, ect0: 2, ce: 3 }[spec.ecn];
    return want === ecn
      ? null
      : `live packet field ip_ecn: expected: ${want} (0x${want.toString(16)}) vs actual: ${ecn} (0x${ecn.toString(16)})`;
  }

  #flowlabel: number | null = null;

  #checkFlowlabel(live: number): string | null {
    if (live === 0) return 'flowlabel unmarked in the live packet';
    this.#flowlabel ??= live;
    return null;
  }

  /** verify_outbound_live_tcp_options(): same kinds in the same order, same values (TS values unchecked). */
  #checkOptions(spec: PacketSpec, p: LivePacket, sackMap: (n: number) => number): string | null {
    if (spec.options === null) return null;
    const want = spec.options;
    const got = p.options.filter((o) => o.kind !== 'unparsed' || o.data.length > 0);
    const kindOf: Record<string, string> = {
      nop: 'nop',
      eol: 'eol',
      mss: 'mss',
      wscale: 'wscale',
      sackOK: 'sack-permitted',
      TS: 'timestamp',
      sack: 'sack',
      FO: 'fastopen',
      FOEXP: 'fastopen',
    };
    const n = Math.max(want.length, got.length);
    for (let i = 0; i < n; i++) {
      const w = want[i];
      const g = got[i];
      // Trailing EOL padding on either side is not an option.
      if (w === undefined && g?.kind === 'eol') continue;
      if (g === undefined && w?.kind === 'eol') continue;
      if (w === undefined || g === undefined || kindOf[w.kind] !== g.kind) return 'bad outbound TCP options';
      const bad = (): string =>
        `bad value in outbound TCP option: expected: ${w.text} actual: ${g.kind === 'sack' ? optionString({ kind: 'sack', blocks: g.blocks.map((b) => ({ start: sackMap(b.start), end: sackMap(b.end) })) }) : optionString(g)}`;
      if (g.kind === 'mss' && g.mss !== w.mss) return bad();
      if (g.kind === 'wscale' && g.shift !== w.wscale) return bad();
      if (g.kind === 'fastopen') {
        // The cookie's bytes and which encoding (34, or 254 with the magic) both count.
        const c = fastopenCookieBytes(w.cookie ?? '');
        if (g.exp !== (w.kind === 'FOEXP') || c.length !== g.cookie.length || c.some((b, k) => g.cookie[k] !== b))
          return bad();
      }
      if (g.kind === 'sack') {
        const blocks = w.blocks ?? [];
        if (blocks.length !== g.blocks.length) return bad();
        for (let k = 0; k < blocks.length; k++) {
          const b = g.blocks[k] as { start: number; end: number };
          const [s, e] = blocks[k] as [number, number];
          if (sackMap(b.start) !== s || sackMap(b.end) !== e) return bad();
        }
      }
    }
    return null;
  }

  // ---- system calls ----

  #num(e: Expr): number {
    switch (e.k) {
      case 'num':
        return e.v;
      case 'word': {
        // Errno names stand for their values too (ee_errno=ENOMSG).
        const v = SYMBOLS.get(e.v) ?? (e.v in E ? E[e.v as keyof typeof E] : undefined);
        if (v === undefined) this.#fail(`unknown symbol ${e.v}`, e.v);
        return v;
      }
      case 'binop': {
        const a = this.#num(e.a);
        const b = this.#num(e.b);
        if (e.op === '|') return (a | b) >>> 0;
        if (e.op === '&') return (a & b) >>> 0;
        if (e.op === '<<') return a * 2 ** b;
        return a - b;
      }
      case 'array':
        if (e.items.length === 1) return this.#num(e.items[0] as Expr);
        break;
      case 'struct': {
        const f = e.fields[0];
        if (e.fields.length === 1 && f?.name === 'htons()')
          return this.#num((f.value as { items: Expr[] }).items[0] as Expr);
        break;
      }
    }
    return this.#fail(`expected a number, got ${JSON.stringify(e)}`);
  }

  #fd(e: Expr): number {
    const s = this.#num(e);
    return this.#fds.get(s) ?? s;
  }

  #sockaddr(kind: 'bind' | 'connect'): SockAddr {
    const ip = kind === 'bind' ? this.#local : this.#remote;
    const port = kind === 'bind' ? this.cfg.bindPort : this.cfg.connectPort;
    return { family: this.#domain, addr: mapped(ip), port };
  }

  #field(e: Expr, name: string): Expr | undefined {
    if (e.k !== 'struct') return undefined;
    return e.fields.find((f) => f.name === name)?.value;
  }

  /** The total length of an iovec array, `[{..., 40}, {..., 100}]`. */
  #iovLen(e: Expr | undefined): number {
    if (e === undefined || e.k !== 'array') return 0;
    let n = 0;
    for (const it of e.items) {
      if (it.k !== 'struct') continue;
      const len = it.fields.find((f) => f.name === 'iov_len') ?? it.fields[1];
      if (len !== undefined) n += this.#num(len.value);
    }
    return n;
  }

  #sockopt(e: Expr, optlen?: Expr): SockoptValue {
    if (e.k === 'array' && e.items.length === 1) return this.#num(e.items[0] as Expr);
    if (e.k === 'num') return e.v;
    if (e.k === 'str') {
      // The kernel copies optlen bytes of a string: fewer, or the string and zeros after it.
      if (optlen === undefined || optlen.k !== 'num') return e.v;
      return e.v.padEnd(optlen.v, '\0').slice(0, optlen.v);
    }
    if (e.k === 'struct') {
      const on = this.#field(e, 'onoff') ?? this.#field(e, 'l_onoff');
      const lg = this.#field(e, 'linger') ?? this.#field(e, 'l_linger');
      if (on !== undefined && lg !== undefined) return { onoff: this.#num(on), linger: this.#num(lg) } satisfies Linger;
    }
    return this.#fail(`unsupported option value ${JSON.stringify(e)}`);
  }

  async #awaitIdle(): Promise<void> {
    const p = this.#pending;
    if (p === null || p.done) return;
    await this.#advanceTo(this.nowUsecs + 1e6, () => p.done);
    this.#checkAsync();
    if (!p.done) this.#fail('blocking system call while another blocking system call is already in progress');
  }

  async #syscall(call: SyscallSpec, startUsecs: number): Promise<void> {
    const line = this.#line;
    const r = this.#invoke(call);
    const check = (v: number): void => this.#checkResult(call, v, line);
    if (!(r instanceof Promise)) {
      check(r);
      return;
    }
    if (call.endUsecs !== null) {
      // A blocking call (`...end`): the script goes on while it sleeps; its return is checked when it wakes.
      const p: Pending = { line, call, startUsecs, endUsecs: call.endUsecs, done: false };
      this.#pending = p;
      r.then((v) => {
        p.done = true;
        try {
          check(v);
          const err = this.#verifyTime('absolute', p.endUsecs, 0, this.nowUsecs, p.startUsecs, 'system call return');
          if (err !== null) throw new Failure(line, err);
        } catch (e) {
          if (e instanceof Failure) this.#asyncFailure ??= e;
          else throw e;
        }
      });
      await this.#settle();
      return;
    }
    // Written as non-blocking but sleeps: packetdrill's main thread would sleep in it.
    let value: number | null = null;
    r.then((v) => {
      value = v;
    });
    await this.#advanceTo(this.nowUsecs + 600e6, () => value !== null);
    if (value === null) this.#fail(`${call.name} never returned`);
    check(value);
  }

  #checkResult(call: SyscallSpec, got: number, line: number): void {
    const want = this.#num(call.ret);
    const fail = (msg: string, lacks: string | null = null) => {
      throw new Failure(line, msg, lacks);
    };
    if (got < 0) {
      const name = errnoName(-got) ?? String(-got);
      // end_syscall(): with no errno written (`= -1 (Invalid Argument)`), any errno will do.
      if (want === -1 && (call.errno === null || call.errno === name)) return;
      const lacks = got === -E.ENOPROTOOPT || got === -E.EOPNOTSUPP ? this.#lacksFor(call) : null;
      fail(
        `runtime error in ${call.name} call: Expected result ${want}${call.errno !== null ? ` ${call.errno}` : ''} but got -1 with errno ${-got} (${strerror(-got)})`,
        lacks,
      );
    }
    if (want === -1 && call.errno !== null)
      fail(`runtime error in ${call.name} call: Expected result -1 ${call.errno} but got ${got}`);
    if (got !== want) fail(`runtime error in ${call.name} call: Expected result ${want} but got ${got}`);
  }

  /** The feature an option or flag lonet refused stands for. */
  #lacksFor(call: SyscallSpec): string | null {
    const words = JSON.stringify(call.args);
    const table: [RegExp, string][] = [
      [/TCP_FASTOPEN|MSG_FASTOPEN/, 'Fast Open'],
      [/ZEROCOPY/, 'MSG_ZEROCOPY'],
      [/TCP_INQ/, 'TCP_INQ'],
      [/TIMESTAMPING/, 'SO_TIMESTAMPING for TCP'],
      [/TCP_USER_TIMEOUT/, 'TCP_USER_TIMEOUT'],
      [/TCP_MD5SIG/, 'TCP MD5 signatures (RFC 2385)'],
      [/SO_MARK/, 'SO_MARK'],
      [/IP_TOS|IPV6_TCLASS/, 'IP_TOS / IPV6_TCLASS on TCP sockets'],
      [/IP_MTU_DISCOVER/, 'IP_MTU_DISCOVER on TCP sockets'],
      [/IP_FREEBIND/, 'IP_FREEBIND'],
      [/MSG_EOR/, 'MSG_EOR'],
      [/TCP_NOTSENT_LOWAT/, 'TCP_NOTSENT_LOWAT'],
    ];
    for (const [re, what] of table) if (re.test(words)) return what;
    return null;
  }

  /** Runs one call; a promise when it sleeps. Fills new fds into the script's fd map. */
  #invoke(call: SyscallSpec): number | Promise<number> {
    const a = call.args;
    const arg = (i: number): Expr => a[i] ?? { k: 'ellipsis' };
    const proc = this.proc;
    const newFd = (r: number): number => {
      if (r >= 0) {
        const want = this.#num(call.ret);
        if (want >= 0) this.#fds.set(want, r);
        return want >= 0 ? want : r;
      }
      return r;
    };
    const len = (r: Uint8Array | number): number => (typeof r === 'number' ? r : r.byteLength);
    const then = <T>(r: T | Promise<T>, f: (v: T) => number): number | Promise<number> =>
      r instanceof Promise ? r.then(f) : f(r);
    switch (call.name) {
      case 'socket': {
        const type = this.#num(arg(1));
        const proto = this.#num(arg(2));
        return newFd(proc.socket(this.#domain, type, proto));
      }
      case 'bind':
        return proc.bind(this.#fd(arg(0)), this.#sockaddr('bind'));
      case 'listen': {
        const r = proc.listen(this.#fd(arg(0)), this.#num(arg(1)));
        if (r === 0) this.#listening = true;
        return r;
      }
      case 'accept':
      case 'accept4': {
        const flags = call.name === 'accept4' ? this.#num(arg(3)) : 0;
        return then(proc.accept(this.#fd(arg(0)), flags), (r) => {
          const fd = newFd(r);
          if (r >= 0 && this.#current !== null) this.#current.fd = r;
          return fd;
        });
      }
      case 'connect': {
        const fd = this.#fd(arg(0));
        const to = arg(1);
        if (to.k === 'word' && to.v === 'AF_UNSPEC')
          this.#fail('connect(AF_UNSPEC)', 'connect(AF_UNSPEC) (tcp_disconnect)');
        this.#connecting = fd;
        return proc.connect(fd, this.#sockaddr('connect'));
      }
      case 'write':
      case 'send':
      case 'sendto': {
        const n = this.#num(arg(2));
        const flags = call.name === 'write' ? 0 : this.#num(arg(3));
        const fd = this.#fd(arg(0));
        // sendto's `...` address is the remote end.
        if (call.name === 'sendto' && flags & MSG.FASTOPEN) this.#connecting = fd;
        return this.#send(fd, n, flags, isNull(arg(1)), call.name === 'sendto' ? this.#sockaddr('connect') : undefined);
      }
      case 'sendmsg': {
        const msg = arg(1);
        const control = this.#field(msg, 'msg_control');
        if (control !== undefined && !(control.k === 'array' && control.items.length === 0))
          this.#fail('sendmsg with control messages', 'cmsgs on TCP sendmsg (SO_TIMESTAMPING)');
        const n = this.#iovLen(this.#field(msg, 'msg_iov'));
        return this.#send(this.#fd(arg(0)), n, this.#num(arg(2)));
      }
      case 'read':
      case 'recv':
      case 'recvfrom': {
        const flags = call.name === 'read' ? 0 : this.#num(arg(3));
        return then(proc.recv(this.#fd(arg(0)), this.#num(arg(2)), flags, isNull(arg(1))), len);
      }
      case 'recvmsg': {
        const msg = arg(1);
        const n = this.#iovLen(this.#field(msg, 'msg_iov'));
        return then(proc.recvmsg(this.#fd(arg(0)), n, this.#num(arg(2))), (r) => {
          if (typeof r === 'number') return r;
          this.#checkMsghdr(msg, r);
          return r.data.byteLength;
        });
      }
      case 'close': {
        const fd = this.#fd(arg(0));
        const r = proc.close(fd);
        return r;
      }
      case 'shutdown':
        return proc.shutdown(this.#fd(arg(0)), this.#num(arg(1)));
      case 'setsockopt':
        return proc.setsockopt(this.#fd(arg(0)), this.#num(arg(1)), this.#num(arg(2)), this.#sockopt(arg(3), a[4]));
      case 'getsockopt': {
        const v = proc.getsockopt(this.#fd(arg(0)), this.#num(arg(1)), this.#num(arg(2)));
        if (typeof v === 'number' && v < 0) return v;
        const want = arg(3);
        if (want.k === 'array' && want.items.length === 1 && typeof v === 'number') {
          const w = this.#num(want);
          if (w !== v) this.#fail(`Bad getsockopt optval: expected: ${w} actual: ${v}`);
        }
        return 0;
      }
      case 'fcntl':
        return proc.fcntl(this.#fd(arg(0)), this.#num(arg(1)), a.length > 2 ? this.#num(arg(2)) : 0);
      case 'ioctl': {
        const r = proc.ioctl(this.#fd(arg(0)), this.#num(arg(1)));
        if (r < 0) return r;
        const want = arg(2);
        if (want.k === 'array' && want.items.length === 1 && this.#num(want) !== r)
          this.#fail(`Bad ioctl optval: expected: ${this.#num(want)} actual: ${r}`);
        return 0;
      }
      case 'poll': {
        const list = arg(0);
        if (list.k !== 'array') this.#fail('poll: expected an array of pollfd');
        const fds: PollFd[] = list.items.map((it) => ({
          fd: this.#fd(this.#field(it, 'fd') ?? { k: 'num', v: -1 }),
          events: this.#num(this.#field(it, 'events') ?? { k: 'num', v: 0 }),
        }));
        return then(proc.poll(fds, this.#num(arg(2))), (r) => {
          list.items.forEach((it, i) => {
            const want = this.#field(it, 'revents');
            if (want !== undefined && this.#num(want) !== fds[i]?.revents)
              this.#fail(`poll: expected revents ${this.#num(want)} but got ${fds[i]?.revents}`);
          });
          return r;
        });
      }
      case 'epoll_create':
        return newFd(proc.epollCreate(this.#num(arg(0))));
      case 'epoll_ctl': {
        const ev = arg(3);
        const events = this.#field(ev, 'events');
        const data =
          this.#field(ev, 'u64') ?? this.#field(ev, 'u32') ?? this.#field(ev, 'fd') ?? this.#field(ev, 'ptr');
        return proc.epollCtl(
          this.#fd(arg(0)),
          this.#num(arg(1)),
          this.#fd(arg(2)),
          events === undefined ? null : { events: this.#num(events), data: data === undefined ? 0 : this.#num(data) },
        );
      }
      case 'epoll_wait': {
        const out: EpollEvent[] = [];
        return then(proc.epollWait(this.#fd(arg(0)), out, this.#num(arg(2)), this.#num(arg(3))), (r) => {
          const want = arg(1);
          const first = out[0];
          const we = this.#field(want, 'events');
          if (r > 0 && first !== undefined && we !== undefined && this.#num(we) !== first.events)
            this.#fail(`epoll_wait: expected events ${this.#num(we)} but got ${first.events}`);
          return r;
        });
      }
      case 'pipe': {
        // pipe([5, 6]): the script's numbers for the read and write ends.
        const want = arg(0);
        if (want.k !== 'array' || want.items.length !== 2) this.#fail('pipe: expected an array of two fds');
        const [r, w] = proc.pipe();
        this.#fds.set(this.#num(want.items[0] as Expr), r);
        this.#fds.set(this.#num(want.items[1] as Expr), w);
        return 0;
      }
      case 'splice':
        return proc.splice(
          this.#fd(arg(0)),
          !isNull(arg(1)),
          this.#fd(arg(2)),
          !isNull(arg(3)),
          this.#num(arg(4)),
          this.#num(arg(5)),
        );
    }
    return this.#fail(`unsupported system call: ${call.name}`, call.name);
  }

  /**
   * What packetdrill checks after recvmsg: msg_flags, then each control message against
   * the script's (level, type, length, data). The script's list also sizes msg_control, so
   * what does not fit is cut off with MSG_CTRUNC, as put_cmsg does.
   */
  #checkMsghdr(msg: Expr, got: MsgHdr): void {
    const want = this.#field(msg, 'msg_control');
    const wantList = want?.k === 'array' ? want.items : [];
    let room = 0;
    for (const c of wantList) room += cmsgSpace(this.#cmsgDataLen(c));
    let flags = got.flags;
    const control: Cmsg[] = [];
    for (const c of got.control) {
      const space = cmsgSpace(cmsgDataLen(c));
      if (space > room) {
        flags |= MSG.CTRUNC;
        break;
      }
      room -= space;
      control.push(c);
    }
    const wantFlags = this.#num(this.#field(msg, 'msg_flags') ?? { k: 'num', v: 0 });
    const hex = (v: number) => `0x${(v >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
    const fail = (why: string) => this.#fail(`runtime error in recvmsg call: ${why}`);
    if (wantFlags !== flags) fail(`Expected msg_flags ${hex(wantFlags)} but got ${hex(flags)}`);
    const count = Math.min(wantList.length, control.length);
    for (let i = 0; i < count; i++) {
      const e = wantList[i] as Expr;
      const a = control[i] as Cmsg;
      const level = this.#num(this.#field(e, 'cmsg_level') ?? { k: 'num', v: -1 });
      const type = this.#num(this.#field(e, 'cmsg_type') ?? { k: 'num', v: -1 });
      if (level !== a.level) fail(`Bad level in cmsg ${i}: expected=${level} actual=${a.level}`);
      if (type !== a.type) fail(`Bad type in cmsg ${i}: expected=${type} actual=${a.type}`);
      const elen = CMSG_HDR + this.#cmsgDataLen(e);
      const alen = CMSG_HDR + cmsgDataLen(a);
      if (elen !== alen) fail(`Bad len in cmsg ${i}: expected=${elen} actual=${alen}`);
      const data = this.#field(e, 'cmsg_data') ?? { k: 'num', v: 0 };
      if (typeof a.data === 'number') {
        const v = this.#num(data);
        if (v !== a.data) fail(`Bad data in cmsg ${i}: expected=${v} actual=${a.data}`);
      } else if ('ts' in a.data) {
        // scm_timestamping: a time the script gives (not 0) must be within the tolerance.
        const sec = this.#num(this.#field(data, 'scm_sec') ?? { k: 'num', v: 0 });
        const nsec = this.#num(this.#field(data, 'scm_nsec') ?? { k: 'num', v: 0 });
        if (sec === 0 && nsec === 0) continue;
        const expUsecs = sec * 1e6 + Math.trunc(nsec / 1e3);
        // The stamp is CLOCK_REALTIME; the script's clock started at #start (monotonic).
        const startReal = this.#start + this.clock.realtime() - this.clock.now();
        const actUsecs = Math.trunc((a.data.ts[0] - startReal) / 1e3);
        if (Math.abs(expUsecs - actUsecs) > this.cfg.toleranceUsecs)
          fail(`Bad timestamp 0 in scm_timestamping ${i}: expected=${expUsecs} actual=${actUsecs}`);
      } else {
        const ee = a.data;
        for (const [name, key] of EE_FIELDS) {
          const f = this.#field(data, name);
          const v = f === undefined ? 0 : this.#num(f);
          if (v !== ee[key]) fail(`Bad ${key} in extended err ${i}: expected=${v} actual=${ee[key]}`);
        }
      }
    }
    if (control.length > wantList.length) fail(`received more than ${count} cmsgs`);
    if (control.length < wantList.length) fail(`received only ${count} cmsgs`);
  }

  /** The data length of a script cmsg: an int, a struct scm_timestamping, or sock_extended_err + sockaddr. */
  #cmsgDataLen(e: Expr): number {
    const data = this.#field(e, 'cmsg_data');
    if (data === undefined || data.k !== 'struct') return 4;
    if (this.#field(data, 'ee_errno') !== undefined) {
      const level = this.#num(this.#field(e, 'cmsg_level') ?? { k: 'num', v: 0 });
      return SOCK_EE_LEN + (level === SOL.IP ? 16 : 28);
    }
    return SCM_TIMESTAMPING_LEN;
  }

  /** A NULL buffer is passed on as a faulting address, as packetdrill hands the kernel NULL. */
  #send(fd: number, n: number, flags: number, fault = false, sa?: SockAddr): number | Promise<number> {
    // A deferred TCP_FASTOPEN_CONNECT's first write sends the SYN: that names the connection.
    if (this.proc.deferred(fd)) this.#connecting = fd;
    return this.proc.send(fd, fault ? null : new Uint8Array(n), flags, sa);
  }

  // ---- commands and code ----

  /**
   * A backquoted command is a small /bin/sh script: each line runs in lonet's shell, after
   * what /bin/sh would have done first that lonet's shell does not (`$((…))` arithmetic,
   * output thrown away to /dev/null). `./x.sh` runs the file beside the script; the
   * selftests' set_sysctls.py and its restore script are done here.
   */
  async #command(text: string): Promise<void> {
    for (const raw of text.replace(/\\\r?\n/g, ' ').split('\n')) {
      const line = expandShell(raw.trim());
      if (line === '' || line.startsWith('#')) continue;
      await this.#commandLine(line);
    }
  }

  async #commandLine(cmd: string): Promise<void> {
    const words = cmd.split(/\s+/);
    const first = words[0] ?? '';
    if (first.endsWith('set_sysctls.py')) {
      for (const w of words.slice(1)) {
        const m = /^\/proc\/sys\/([^=]+)=(.*)$/.exec(w);
        if (m === null) this.#fail(`set_sysctls.py: bad argument ${w}`);
        const name = (m[1] as string).replace(/\//g, '.');
        const old = await this.#sh(`sysctl -n ${name}`);
        if (old.code !== 0) this.#fail(`${cmd}: ${old.err.trim()}`, name);
        this.#sysctlRestore.push([name, old.out.trim()]);
        const r = await this.#sh(`sysctl -q ${name}=${m[2]}`);
        if (r.code !== 0) this.#fail(`${cmd}: ${r.err.trim()}`, name);
      }
      return;
    }
    if (/^\/tmp\/sysctl_restore_/.test(first)) {
      for (const [name, value] of this.#sysctlRestore.splice(0).reverse())
        await this.#sh(`sysctl -q ${name}="${value}"`);
      return;
    }
    if (first.startsWith('./') && first.endsWith('.sh')) {
      let body: string;
      try {
        body = readFileSync(join(this.dir, first), 'utf8');
      } catch {
        return this.#fail(`${first}: No such file or directory`);
      }
      await this.#command(body);
      return;
    }
    await this.#shell(cmd);
  }

  /**
   * grep(1) reading files: each file is read in lonet's shell (cat), and with several
   * files each matching line is prefixed with its file's name, as grep prints them.
   */
  async #grepFiles(cmd: string): Promise<{ code: number; out: string; err: string }> {
    const words = [...cmd.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0]);
    let i = 1;
    while (i < words.length && (words[i] as string).startsWith('-')) i++;
    const files = words.slice(i + 1);
    const stage = words.slice(0, i + 1).join(' ');
    if (files.length === 0) return grepFilter(stage, '');
    let out = '';
    let err = '';
    let code = 1;
    for (const file of files) {
      const c = await this.#sh(`cat ${file}`);
      if (c.code !== 0) {
        err += `grep: ${file}: No such file or directory\n`;
        if (code === 1) code = 2;
        continue;
      }
      const g = grepFilter(stage, c.out);
      if (g.code === 0) code = 0;
      out += files.length > 1 ? g.out.replace(/^(?=.)/gm, `${file}:`) : g.out;
    }
    return { code, out, err };
  }

  async #shell(line: string): Promise<void> {
    let r: { code: number; out: string; err: string };
    try {
      const [first, ...filters] = splitPipeline(line);
      r = /^grep\s/.test(first ?? '') ? await this.#grepFiles(first as string) : await this.#sh(first ?? '');
      // /bin/sh's pipeline: what the command printed goes through each grep in turn.
      for (const f of filters) {
        const g = grepFilter(f, r.out);
        r = { code: g.code, out: g.out, err: r.err + g.err };
      }
    } catch (e) {
      return this.#fail(`command '${line}' failed: ${(e as Error).message}`, 'shell pipes and redirections');
    }
    if (r.code !== 0) {
      const tool = line.split(/\s+/)[0] ?? line;
      const sysctl = /cannot stat \/proc\/sys\/(\S+):/.exec(r.err);
      const qdisc = /qdisc kind is unknown/.test(r.err) ? /root (\w+)/.exec(line) : null;
      const lacks = /command not found/.test(r.err)
        ? `the ${tool} command`
        : sysctl !== null
          ? (sysctl[1] as string).replace(/\//g, '.')
          : qdisc !== null
            ? `the ${qdisc[1]} qdisc`
            : /pipes/.test(r.err)
              ? 'shell pipes'
              : null;
      this.#fail(`command '${line}' failed with exit ${r.code}: ${r.err.trim()}`, lacks);
    }
  }

  #code(code: string): void {
    const fd = this.#current?.fd ?? null;
    const sk = fd === null ? undefined : this.proc.sock(fd);
    const info = sk === undefined ? null : tcpInfoRecord(sk);
    // SO_MEMINFO's sk_meminfo, as packetdrill names its slots.
    const meminfo: Record<string, number> =
      sk === undefined
        ? {}
        : {
            SK_MEMINFO_RMEM_ALLOC: sk.rmemAlloc,
            SK_MEMINFO_RCVBUF: sk.rcvbuf,
            SK_MEMINFO_WMEM_ALLOC: sk.wmemAlloc,
            SK_MEMINFO_SNDBUF: sk.sndbuf,
            SK_MEMINFO_FWD_ALLOC: sk.forwardAlloc,
            SK_MEMINFO_WMEM_QUEUED: sk.wmemQueued,
          };
    const err = runAsserts(code, (name) => {
      if (name in CODE_NAMES) return CODE_NAMES[name];
      if (name in meminfo) return meminfo[name];
      if (info !== null && name in info) return info[name];
      return undefined;
    });
    if (err !== null) {
      const m = /NameError: name '(\w+)'/.exec(err);
      this.#fail(err, m !== null ? (m[1] as string) : null);
    }
  }
}

/**
 * What /bin/sh does to a line before lonet's shell sees it: `$((…))` integer arithmetic,
 * and redirections to /dev/null dropped (lonet's shell collects the output anyway).
 */
export function expandShell(line: string): string {
  const out = line.replace(/\$\(\(([\d\s+\-*/()]+)\)\)/g, (_m, expr: string) => {
    const v = runAsserts(`assert 0, ${expr}`, () => undefined);
    const m = /^AssertionError: (-?\d+(\.\d+)?)$/.exec(v ?? '');
    return m !== null ? String(Math.trunc(Number(m[1]))) : _m;
  });
  return out
    .replace(/\s*\d?>\s*\/dev\/null/g, '')
    .replace(/\s*2>&1/g, '')
    .trim();
}

/** A /bin/sh pipeline's commands: split at `|` outside quotes (`||` is not a pipe). */
export function splitPipeline(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '|' && line[i + 1] === '|') {
      cur += '||';
      i++;
      continue;
    } else if (c === '|') {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

/**
 * grep(1) as a pipeline stage over text: -q, -v, -c, -i, -E, -F, -w and one pattern
 * (a basic regular expression unless -E or -F). Exit 0 if a line matched, 1 if none.
 */
export function grepFilter(cmd: string, input: string): { code: number; out: string; err: string } {
  const words: string[] = [];
  for (const m of cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  if (words[0] !== 'grep') return { code: 127, out: '', err: `${words[0]}: command not found\n` };
  const flags = new Set<string>();
  let pattern: string | null = null;
  for (const w of words.slice(1)) {
    if (pattern === null && w.startsWith('-') && w.length > 1) for (const c of w.slice(1)) flags.add(c);
    else if (pattern === null) pattern = w;
  }
  if (pattern === null) return { code: 2, out: '', err: 'Usage: grep [OPTION]... PATTERNS [FILE]...\n' };
  let src: string;
  if (flags.has('F')) src = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  else if (flags.has('E')) src = pattern;
  // A basic regular expression: ( ) { } | + ? are literal unless escaped.
  else src = pattern.replace(/\\([(){}|+?])|([(){}|+?])/g, (_m, esc: string, lit: string) => esc ?? `\\${lit}`);
  if (flags.has('w')) src = `(?<![\\w])(?:${src})(?![\\w])`;
  const re = new RegExp(src, flags.has('i') ? 'i' : '');
  const lines = input.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const hits = lines.filter((l) => re.test(l) !== flags.has('v'));
  const code = hits.length > 0 ? 0 : 1;
  if (flags.has('q')) return { code, out: '', err: '' };
  if (flags.has('c')) return { code, out: `${hits.length}\n`, err: '' };
  return { code, out: hits.map((l) => `${l}\n`).join(''), err: '' };
}

/** Runs a script file under one configuration. */
export async function runScript(path: string, cfg: Config, log: Output): Promise<RunResult> {
  const src = readFileSync(path, 'utf8');
  const run = new Run(cfg, dirname(path), log);
  return run.run(src);
}

export type { Command };
