/**
 * The small socks of net/ipv4/tcp_minisocks.c and inet_connection_sock.c: request socks
 * (a SYN received, SYN-ACK sent, waiting for the ACK), TIME_WAIT socks (what is left
 * of a closed connection for 60 s, or for tcp_fin_timeout in FIN_WAIT2), and the
 * listener's side of the handshake — tcp_conn_request with its SYN and accept queue
 * limits, and SYN cookies (net/ipv4/syncookies.c) when the SYN queue is full.
 */
import { sockErrqClone } from '../../core/errqueue.js';
import { E } from '../../include/errno.js';
import { flowi4 } from '../../ipv4/fib.js';
import { ipRouteOutputKey } from '../../ipv4/route.js';
import { formatIpv6 } from '../../ipv6/addr.js';
import { ip6RouteOutput } from '../../ipv6/route.js';
import type { Timer } from '../../kernel/clock.js';
import { getRandomU16 } from '../../kernel/random.js';
import type { Net } from '../../net/net.js';
import { IPPROTO } from '../../wire/ipv4.js';
import { TCPHDR, type TcpFastopenCookie } from '../../wire/tcp.js';
import { isV4Mapped, mappedV4 } from '../udp.js';
import { tcpCold, tcpColdClone } from './cold.js';
import { fastopenOption, tcpFastopenInitChild, tcpTryFastopen } from './fastopen.js';
import { queueRcv, type TcpCb, tcpFin, tcpInitTransfer, tcpRcvStateProcess, tcpRttEstimator } from './input.js';
import { tcpMd5DoLookup } from './md5.js';
import type { NetnsTcp, TcpBindOwner } from './netns.js';
import { type CtlFlow, synOptions, tcpInitializeRcvMss, tcpSelectInitialWindow, tcpSendCtl } from './output.js';
import { secureTcpSeq, secureTcpTsOff, tcpHash } from './secure.js';
import {
  ehashInsert,
  seqAfter,
  sharedAddr,
  TCP,
  TCP_ECN,
  TCP_TIMEOUT_INIT,
  TCP_TIMEWAIT_LEN,
  TCPOLEN_TSTAMP_ALIGNED,
  TcpSock,
  tcpDone,
  tcpSetState,
  unhash,
  wakeState,
  winFromSpace,
} from './sock.js';
import { inetCskClearXmitTimers, SkTimer, tcpResetKeepaliveTimer, tcpWriteErr } from './timer.js';

/**
 * struct tcp_timewait_sock: what TIME_WAIT needs of a connection, without the full socket,
 * which is freed (inet_twsk_hashdance): the sock takes its place in ehash and its port.
 */
export class TcpTimewaitSock {
  readonly isTimewait = true;
  readonly net: Net;
  readonly tn: NetnsTcp;
  readonly family: 4 | 6;
  readonly v4: boolean;
  readonly localAddr: Uint8Array;
  readonly localPort: number;
  readonly remoteAddr: Uint8Array;
  readonly remotePort: number;
  substate: number;
  rcvNxt: number;
  readonly sndNxt: number;
  tsRecent: number;
  tsRecentStamp: number;
  readonly tsOffset: number;
  readonly tstampOk: boolean;
  readonly rcvWnd: number;
  readonly rcvWscale: number;
  readonly key: string;
  /** The socket's %pK, as /proc/net/tcp keeps showing it. */
  readonly kptr: string;
  /** Its hold on the port in bhash (tw_tb), as the socket held it. */
  readonly bind: TcpBindOwner;
  expiresAt = 0;
  /** The CPU its timer runs on: the socket's. */
  readonly cpu: number;
  readonly #timer = new SkTimer<TcpTimewaitSock>(this, twTimerExpired);
  #dead = false;

  constructor(sk: TcpSock, substate: number) {
    this.net = sk.net;
    this.tn = sk.tn;
    this.family = sk.family;
    this.v4 = sk.v4;
    this.localAddr = sk.srcAddr;
    this.localPort = sk.localPort;
    this.remoteAddr = sk.remoteAddr;
    this.remotePort = sk.remotePort;
    this.substate = substate;
    this.rcvNxt = sk.rcvNxt;
    this.sndNxt = sk.sndNxt;
    this.tsRecent = sk.tsRecent;
    this.tsRecentStamp = sk.tsRecentStamp;
    this.tsOffset = sk.tsOffset;
    this.tstampOk = sk.tstampOk;
    this.rcvWnd = sk.rcvWnd;
    this.rcvWscale = sk.rcvWscale;
    this.key = sk.hashKey;
    this.kptr = sk.kptr;
    this.cpu = sk.cpu;
    this.bind = {
      family: sk.family,
      localAddr: sk.localAddr,
      localPort: sk.localPort,
      v6only: sk.v6only,
      reuseAddr: sk.reuseAddr,
      reusePort: sk.reusePort,
      // The closed socket's state, as it showed while it held the port itself.
      state: TCP.CLOSE,
      remotePort: sk.remotePort,
    };
  }

  get clock(): number {
    return this.net.kernel.clock.now();
  }

  get inode(): number {
    return 0;
  }

  /** inet_twsk_schedule(): die after `ns` (a later reschedule, the last ACK or a retransmitted FIN, moves only the expiry). */
  schedule(ns: number): void {
    const now = this.net.kernel.clock.now();
    this.expiresAt = now + ns;
    this.#timer.mod(ns, now);
  }

  /** inet_twsk_kill(): gone from the tables; the port is free. */
  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#timer.kill();
    const tn = this.tn;
    if (tn.ehash.get(this.key) === this) tn.ehash.delete(this.key);
    tn.twCount--;
    tn.bhash.delete(this.bind.localPort, this.bind);
  }

  flow(): CtlFlow {
    return {
      v4: this.v4,
      saddr: this.localAddr,
      daddr: this.remoteAddr,
      sport: this.localPort,
      dport: this.remotePort,
    };
  }

  /** tcp_v4_timewait_ack(). */
  sendAck(): void {
    const opts = this.tstampOk
      ? [
          { kind: 'nop' as const },
          { kind: 'nop' as const },
          {
            kind: 'timestamp' as const,
            tsval: (Math.floor(this.clock / 1e6) + this.tsOffset) >>> 0,
            tsecr: this.tsRecent,
          },
        ]
      : [];
    tcpSendCtl(this.net, this.flow(), {
      seq: this.sndNxt,
      ack: this.rcvNxt,
      flags: TCPHDR.ACK,
      window: Math.min(this.rcvWnd >>> this.rcvWscale, 65535),
      options: opts,
      data: [],
      len: 0,
    });
  }
}

/** The TIME_WAIT (or FIN_WAIT2) timer ran out: the sock goes. */
function twTimerExpired(tw: TcpTimewaitSock): void {
  if (tw.substate === TCP.TIME_WAIT) tw.tn.ext.TW++;
  tw.kill();
}

/**
 * tcp_time_wait(): the full socket goes; a TIME_WAIT sock takes its place in the
 * established table and keeps the port (TIME_WAIT for 60 s, or FIN_WAIT2 for `timeoNs`).
 */
export function timewaitEnter(sk: TcpSock, state: number, timeoNs: number): void {
  const tn = sk.tn;
  inetCskClearXmitTimers(sk);
  tcpResetKeepaliveTimer(sk, 0);
  if (tn.twCount >= tn.sysctl.tcp_max_tw_buckets) {
    tn.ext.TCPTimeWaitOverflow++;
    tcpDone(sk);
    return;
  }
  const tw = new TcpTimewaitSock(sk, state);
  // The port passes from the socket to the TIME_WAIT sock's record of it.
  if (tn.bhash.delete(sk.localPort, sk)) tn.bhash.add(sk.localPort, tw.bind);
  unhash(sk);
  tcpSetState(sk, TCP.CLOSE);
  sk.shutdown = 3;
  sk.wq.length = 0;
  sk.packetsOut = 0;
  tn.twCount++;
  if (tw.key !== '') tn.ehash.set(tw.key, tw);
  tw.schedule(state === TCP.TIME_WAIT ? TCP_TIMEWAIT_LEN : Math.max(timeoNs, 0));
  wakeState(sk);
}

/** tcp_timewait_state_process(): 'syn' when a new connection may take the 4-tuple. */
export function tcpTimewaitProcess(tw: TcpTimewaitSock, cb: TcpCb): 'done' | 'syn' {
  const rst = (cb.flags & TCPHDR.RST) !== 0;
  const syn = (cb.flags & TCPHDR.SYN) !== 0;
  const ack = (cb.flags & TCPHDR.ACK) !== 0;
  const fin = (cb.flags & TCPHDR.FIN) !== 0;
  const tn = tw.tn;
  const pawsReject = tw.tstampOk && cb.tsval !== undefined && ((cb.tsval - tw.tsRecent) | 0) < 0;
  if (tw.substate === TCP.FIN_WAIT2) {
    if (rst) {
      tw.kill();
      return 'done';
    }
    if (pawsReject || !ack || !seqAfter(cb.end, tw.rcvNxt) || cb.end === cb.seq) {
      if (!rst && pawsReject) tw.sendAck();
      return 'done';
    }
    if (!fin || cb.end !== (tw.rcvNxt + 1) >>> 0) {
      // New data to a socket nobody reads: reset.
      tcpSendReset(tw.net, tw.flow(), cb);
      tw.kill();
      return 'done';
    }
    tw.rcvNxt = (tw.rcvNxt + 1) >>> 0;
    tw.substate = TCP.TIME_WAIT;
    if (cb.tsval !== undefined) {
      tw.tsRecent = cb.tsval;
      tw.tsRecentStamp = tw.clock;
    }
    tw.sendAck();
    tw.schedule(TCP_TIMEWAIT_LEN);
    return 'done';
  }
  if (!pawsReject && cb.seq === tw.rcvNxt && (cb.end === cb.seq || rst)) {
    if (rst) {
      // RFC 1337 hazards are accepted unless net.ipv4.tcp_rfc1337 says otherwise.
      if (tn.sysctl.tcp_rfc1337 === 0) {
        tw.kill();
        return 'done';
      }
    }
    tw.schedule(TCP_TIMEWAIT_LEN);
    return 'done';
  }
  if (
    syn &&
    !rst &&
    !ack &&
    (seqAfter(cb.seq, tw.rcvNxt) || (tw.tstampOk && cb.tsval !== undefined && ((cb.tsval - tw.tsRecent) | 0) > 0))
  ) {
    return 'syn';
  }
  if (pawsReject) tn.ext.PAWSTimewait++;
  if (!rst) {
    // A retransmitted FIN (or anything else) gets the last ACK again and restarts the wait.
    if (fin) tw.schedule(TCP_TIMEWAIT_LEN);
    tw.sendAck();
  }
  return 'done';
}

/** tcp_v4_send_reset(): the answer to a segment nobody wants. */
export function tcpSendReset(net: TcpSock['net'], flow: CtlFlow, cb: TcpCb): void {
  if (cb.flags & TCPHDR.RST) return;
  const withAck = (cb.flags & TCPHDR.ACK) !== 0;
  net.ipv4.mib.tcp.OutRsts++;
  tcpSendCtl(net, flow, {
    seq: withAck ? cb.ack : 0,
    ack: withAck ? 0 : cb.end,
    flags: withAck ? TCPHDR.RST : TCPHDR.RST | TCPHDR.ACK,
    window: 0,
    options: [],
    data: [],
    len: 0,
  });
}

/** struct tcp_request_sock. */
export class TcpRequestSock {
  readonly isRequest = true;
  retrans = 0;
  timer: Timer | null = null;
  readonly key: string;
  /** When the first SYN-ACK left (snt_synack), -1 before: clock time 0 is a real time on the virtual clock. */
  synackTime = -1;
  expiresAt = 0;
  /** What the SYN-ACK acknowledges (tcp_rsk(req)->rcv_nxt): past the SYN's data when Fast Open took it. */
  rcvNxt: number;

  constructor(
    readonly listener: TcpSock,
    readonly v4: boolean,
    readonly laddr: Uint8Array,
    readonly lport: number,
    readonly raddr: Uint8Array,
    readonly rport: number,
    readonly irs: number,
    readonly iss: number,
    readonly opts: ReqOptions,
  ) {
    this.key = TcpSock.ehashKey(laddr, lport, raddr, rport);
    this.rcvNxt = (irs + 1) >>> 0;
  }

  get inode(): number {
    return 0;
  }

  flow(): CtlFlow {
    return { v4: this.v4, saddr: this.laddr, daddr: this.raddr, sport: this.lport, dport: this.rport };
  }

  /** Drop it (the handshake failed, or its child took over). */
  unlink(): void {
    this.timer?.cancel();
    this.timer = null;
    const tn = this.listener.tn;
    if (tn.ehash.get(this.key) === this) {
      tn.ehash.delete(this.key);
      tcpCold(this.listener).synQueueLen--;
    }
  }
}

interface ReqOptions {
  mss: number;
  advmss: number;
  wscaleOk: boolean;
  sndWscale: number;
  rcvWscale: number;
  rcvWnd: number;
  windowClamp: number;
  sackOk: boolean;
  tstampOk: boolean;
  tsRecent: number;
  tsOffset: number;
  /** inet_rsk(req)->ecn_ok: the SYN asked for ECN (ECE|CWR) and net.ipv4.tcp_ecn allows it. */
  ecnOk: boolean;
}

/** tcp_synack_timer / inet_rtx_syn_ack: resend the SYN-ACK with backoff; give up after tcp_synack_retries. */
function reqskArmTimer(req: TcpRequestSock): void {
  const sk = req.listener;
  const delay = Math.min(TCP_TIMEOUT_INIT * 2 ** req.retrans, 120e9);
  req.expiresAt = sk.clock + delay;
  req.timer = sk.net.kernel.clock.setTimer(delay, () => {
    req.timer = null;
    if (!sk.net.alive) return;
    sk.net.kernel.runOn(sk.cpu, () => {
      if (req.retrans >= sk.tn.sysctl.tcp_synack_retries || sk.state !== TCP.LISTEN) {
        req.unlink();
        return;
      }
      req.retrans++;
      sk.net.ipv4.mib.tcp.RetransSegs++;
      sk.tn.ext.TCPSynRetrans++;
      sendSynack(req, null);
      reqskArmTimer(req);
    });
  });
  req.timer.unref();
}

function sendSynack(req: TcpRequestSock, tsecr: number | null, foc: TcpFastopenCookie | null = null): void {
  const sk = req.listener;
  const o = req.opts;
  // tcp_synack_options(): a signed SYN-ACK has no room for timestamps and SACK blocks both.
  const md5 = tcpMd5DoLookup(sk.md5Keys, req.raddr);
  if (md5 !== null && o.sackOk) o.tstampOk = false;
  const ts = o.tstampOk ? { val: (Math.floor(sk.clock / 1e6) + o.tsOffset) >>> 0, ecr: tsecr ?? o.tsRecent } : null;
  if (req.synackTime < 0) req.synackTime = sk.clock;
  const options = synOptions(o.advmss, o.sackOk, ts, o.wscaleOk ? o.rcvWscale : null);
  tcpSendCtl(
    sk.net,
    req.flow(),
    {
      seq: req.iss,
      ack: req.rcvNxt,
      // tcp_ecn_make_synack(): ECE alone accepts the peer's ECN.
      flags: TCPHDR.SYN | TCPHDR.ACK | (o.ecnOk ? TCPHDR.ECE : 0),
      window: Math.min(o.rcvWnd, 65535),
      options: foc === null ? options : [...options, ...fastopenOption(foc)],
      data: [],
      len: 0,
    },
    md5,
  );
}

/**
 * tcp_fastopen_synack_timer(): a Fast Open child resends its SYN-ACK until the handshake's
 * ACK comes, with one try more than tcp_synack_retries, then gives up (ETIMEDOUT).
 */
function fastopenSynackTimer(req: TcpRequestSock, child: TcpSock): void {
  const delay = Math.min(TCP_TIMEOUT_INIT * 2 ** req.retrans, 120e9);
  req.expiresAt = child.clock + delay;
  req.timer = child.net.kernel.clock.setTimer(delay, () => {
    req.timer = null;
    if (!child.net.alive || child.fastopen?.rsk == null) return;
    child.net.kernel.runOn(child.cpu, () => {
      if (req.retrans >= child.tn.sysctl.tcp_synack_retries + 1) {
        tcpWriteErr(child, child.cold.softErr || E.ETIMEDOUT);
        return;
      }
      req.retrans++;
      child.net.ipv4.mib.tcp.RetransSegs++;
      child.tn.ext.TCPSynRetrans++;
      sendSynack(req, null);
      fastopenSynackTimer(req, child);
    });
  });
  req.timer.unref();
}

/**
 * tcp_conn_request()'s Fast Open branch: the child is made from the SYN alone (state
 * SYN_RECV, the SYN's data queued), the SYN-ACK acknowledges that data, and the child goes
 * straight into the accept queue.
 */
function fastopenCreateChild(req: TcpRequestSock, cb: TcpCb, foc: TcpFastopenCookie | null): void {
  const l = req.listener;
  const child = createChild(req, cb, true);
  req.rcvNxt = tcpFastopenInitChild(
    child,
    cb,
    {
      listener: l,
      get synackTime() {
        return req.synackTime;
      },
      resend: () => {
        l.net.ipv4.mib.tcp.RetransSegs++;
        sendSynack(req, null);
      },
      cancel: () => {
        req.timer?.cancel();
        req.timer = null;
      },
    },
    (c, seg) => {
      c.dataSegsIn++;
      queueRcv(c, seg.data, seg.len, seg.truesize);
    },
    tcpFin,
  );
  child.rcvWup = child.rcvNxt;
  sendSynack(req, null, foc);
  fastopenSynackTimer(req, child);
  tcpCold(l).acceptQueue.push(child);
  l.dataReady();
}

/**
 * dst_metric_advmss() of the route to the peer (ipv4_default_advmss / ip6_default_advmss):
 * the route's MTU − 40 (IPv4) or − 60 (IPv6); lo's MTU when no route is found.
 */
function advmssFor(sk: TcpSock, v4: boolean, laddr: Uint8Array, raddr: Uint8Array): number {
  let mtu = sk.net.loopbackDev?.mtu ?? 65536;
  if (v4) {
    const rt = ipRouteOutputKey(sk.net, flowi4({ daddr: mappedV4(raddr), saddr: mappedV4(laddr), proto: IPPROTO.TCP }));
    if (typeof rt !== 'number') mtu = rt.mtu;
    return Math.max(Math.min(mtu, 0xffff) - 40, 256);
  }
  const rt6 = ip6RouteOutput(sk.net, { daddr: raddr.slice(), saddr: laddr.slice(), oif: 0, proto: IPPROTO.TCP });
  if (typeof rt6 !== 'number') mtu = rt6.mtu;
  return Math.max(Math.min(mtu, 0xffff + 40) - 60, 1220);
}

const MSSTAB = [536, 1300, 1440, 1460];
const COOKIEBITS = 24;
const COOKIEMASK = (1 << COOKIEBITS) - 1;

/** tcp_cookie_time(): minutes. */
function cookieTime(sk: TcpSock): number {
  return Math.floor(sk.clock / 60e9) & 0xff;
}

/** secure_tcp_syn_cookie(). */
function cookieMake(
  sk: TcpSock,
  saddr: Uint8Array,
  daddr: Uint8Array,
  sport: number,
  dport: number,
  sseq: number,
  data: number,
): number {
  const count = cookieTime(sk);
  const h1 = tcpHash(sk.tn.secret, 4, saddr, sport, daddr, dport, 0);
  const h2 = tcpHash(sk.tn.secret, 6, saddr, sport, daddr, dport, count);
  return (h1 + sseq + (count << COOKIEBITS) + ((h2 + data) & COOKIEMASK)) >>> 0;
}

/** check_tcp_syn_cookie(): the MSS index, or -1. */
function cookieCheck(
  sk: TcpSock,
  cookie: number,
  saddr: Uint8Array,
  daddr: Uint8Array,
  sport: number,
  dport: number,
  sseq: number,
): number {
  const count = cookieTime(sk);
  const h1 = tcpHash(sk.tn.secret, 4, saddr, sport, daddr, dport, 0);
  const c = (cookie - h1 - sseq) >>> 0;
  const diff = (count - (c >>> COOKIEBITS)) & 0xff;
  if (diff >= 2) return -1;
  const h2 = tcpHash(sk.tn.secret, 6, saddr, sport, daddr, dport, (count - diff) & 0xff);
  const idx = ((c - h2) >>> 0) & COOKIEMASK;
  return idx < MSSTAB.length ? idx : -1;
}

/**
 * tcp_conn_request(): a SYN for a listener. The accept queue full → ListenOverflows;
 * the SYN queue full → SYN cookies (or a drop without them).
 */
export function tcpConnRequest(
  sk: TcpSock,
  cb: TcpCb,
  v4: boolean,
  laddr: Uint8Array,
  lport: number,
  raddr: Uint8Array,
  rport: number,
): void {
  const tn = sk.tn;
  const s = tn.sysctl;
  let wantCookie = s.tcp_syncookies === 2;
  if (!wantCookie && sk.cold.synQueueLen >= Math.max(sk.cold.maxAckBacklog, 1)) {
    if (s.tcp_syncookies) {
      wantCookie = true;
      tn.ext.TCPReqQFullDoCookies++;
      if (!sk.cold.synFloodWarned) {
        // tcp_syn_flood_action(): once per listener, naming its own bound address.
        tcpCold(sk).synFloodWarned = true;
        const addr =
          isV4Mapped(sk.localAddr) || sk.family === 4
            ? `${formatV4(mappedV4(sk.localAddr))}:${lport}`
            : `[${formatIpv6(sk.localAddr)}]:${lport}`;
        if (sk.net.kernel.netRatelimit())
          sk.net.kernel.printk('info', `TCP: Possible SYN flooding on port ${addr}. Sending cookies.`);
      }
    } else {
      tn.ext.TCPReqQFullDrop++;
      tn.ext.ListenDrops++;
      return;
    }
  }
  if (sk.cold.acceptQueue.length > sk.cold.maxAckBacklog) {
    tn.ext.ListenOverflows++;
    tn.ext.ListenDrops++;
    return;
  }
  const advmss = advmssFor(sk, v4, laddr, raddr);
  const tstampOk = s.tcp_timestamps !== 0 && cb.tsval !== undefined;
  const sackOk = s.tcp_sack !== 0 && cb.sackOk;
  const wscaleOk = s.tcp_window_scaling !== 0 && cb.wscale !== undefined;
  const ecnOk = s.tcp_ecn !== 0 && (cb.flags & (TCPHDR.ECE | TCPHDR.CWR)) === (TCPHDR.ECE | TCPHDR.CWR);
  const mssForWin = advmss - (tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
  const full = winFromSpace(sk, sk.rcvbuf);
  const w = tcpSelectInitialWindow(tn, sk.net, full, mssForWin, wscaleOk, sk.cold.rcvbufLocked ? full : 0);
  const peerMss = cb.mss ?? 536;
  let iss: number;
  let tsOffset = secureTcpTsOff(tn, laddr, raddr);
  let mss = peerMss;
  if (wantCookie) {
    let idx = 0;
    for (let i = MSSTAB.length - 1; i >= 0; i--) {
      if (peerMss >= (MSSTAB[i] as number)) {
        idx = i;
        break;
      }
    }
    mss = MSSTAB[idx] as number;
    iss = cookieMake(sk, raddr, laddr, rport, lport, cb.seq, idx);
    tn.ext.SyncookiesSent++;
    if (tstampOk) {
      // cookie_init_timestamp(): window scale and SACK ride in the TS value's low 6 bits.
      const now = (Math.floor(sk.clock / 1e6) + tsOffset) >>> 0;
      const opt = (wscaleOk ? Math.min(cb.wscale as number, 14) : 0xf) | (sackOk ? 0x10 : 0) | (ecnOk ? 0x20 : 0);
      let ts = ((now & ~0x3f) | opt) >>> 0;
      if (seqAfter(ts, now)) ts = (ts - 64) >>> 0;
      tsOffset = (ts - Math.floor(sk.clock / 1e6)) >>> 0;
    }
  } else {
    iss = secureTcpSeq(tn, laddr, lport, raddr, rport, sk.net);
  }
  const req = new TcpRequestSock(sk, v4, laddr.slice(), lport, raddr.slice(), rport, cb.seq, iss, {
    mss,
    advmss,
    wscaleOk,
    sndWscale: wscaleOk ? Math.min(cb.wscale as number, 14) : 0,
    rcvWscale: wscaleOk ? w.wscale : 0,
    rcvWnd: w.rcvWnd,
    windowClamp: w.windowClamp,
    sackOk,
    tstampOk,
    tsRecent: cb.tsval ?? 0,
    tsOffset,
    // tcp_ecn_create_request() (a cookie keeps it only in the timestamp: TS_OPT_ECN).
    ecnOk: ecnOk && (!wantCookie || tstampOk),
  });
  if (!wantCookie) {
    const fo = tcpTryFastopen(sk, cb, v4, raddr, laddr);
    if (fo.child) {
      fastopenCreateChild(req, cb, fo.cookie);
      return;
    }
    sendSynack(req, null, fo.cookie);
  } else sendSynack(req, null);
  if (wantCookie) return;
  tn.ehash.set(req.key, req);
  tcpCold(sk).synQueueLen++;
  reqskArmTimer(req);
}

function formatV4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** tcp_check_req(): the segment that should complete a request sock's handshake. */
export function tcpCheckReq(req: TcpRequestSock, cb: TcpCb): void {
  const sk = req.listener;
  const rst = (cb.flags & TCPHDR.RST) !== 0;
  const syn = (cb.flags & TCPHDR.SYN) !== 0;
  if (syn && !rst && cb.seq === req.irs) {
    // The SYN again: our SYN-ACK was lost (or is slow). Send it again.
    sk.net.ipv4.mib.tcp.RetransSegs++;
    sendSynack(req, cb.tsval ?? null);
    return;
  }
  if (rst) {
    sk.tn.ext.EmbryonicRsts++;
    req.unlink();
    return;
  }
  if (!(cb.flags & TCPHDR.ACK)) return;
  if (cb.ack !== (req.iss + 1) >>> 0) {
    tcpSendReset(sk.net, req.flow(), cb);
    return;
  }
  if (sk.state !== TCP.LISTEN) {
    req.unlink();
    tcpSendReset(sk.net, req.flow(), cb);
    return;
  }
  if (sk.cold.acceptQueue.length > sk.cold.maxAckBacklog) {
    // The accept queue overflowed: drop the ACK; the SYN-ACK timer will try again.
    sk.tn.ext.ListenOverflows++;
    sk.tn.ext.ListenDrops++;
    if (sk.tn.sysctl.tcp_abort_on_overflow) {
      req.unlink();
      tcpSendReset(sk.net, req.flow(), cb);
    }
    return;
  }
  req.unlink();
  createChild(req, cb);
}

/** cookie_v4_check(): an ACK with no request sock may carry a valid SYN cookie. */
export function cookieCheckAck(
  sk: TcpSock,
  cb: TcpCb,
  v4: boolean,
  laddr: Uint8Array,
  lport: number,
  raddr: Uint8Array,
  rport: number,
): boolean {
  const tn = sk.tn;
  if (!tn.sysctl.tcp_syncookies || !(cb.flags & TCPHDR.ACK) || cb.flags & (TCPHDR.RST | TCPHDR.SYN)) return false;
  const seq = (cb.seq - 1) >>> 0;
  const cookie = (cb.ack - 1) >>> 0;
  const idx = cookieCheck(sk, cookie, raddr, laddr, rport, lport, seq);
  if (idx < 0) {
    tn.ext.SyncookiesFailed++;
    return false;
  }
  tn.ext.SyncookiesRecv++;
  if (sk.cold.acceptQueue.length > sk.cold.maxAckBacklog) {
    tn.ext.ListenOverflows++;
    tn.ext.ListenDrops++;
    return true;
  }
  const advmss = advmssFor(sk, v4, laddr, raddr);
  let wscaleOk = false;
  let sndWscale = 0;
  let sackOk = false;
  const tstampOk = cb.tsecr !== undefined && cb.tsecr !== 0 && tn.sysctl.tcp_timestamps !== 0;
  if (tstampOk) {
    const opt = (cb.tsecr as number) & 0x3f;
    const ws = opt & 0xf;
    wscaleOk = ws !== 0xf;
    sndWscale = wscaleOk ? ws : 0;
    sackOk = (opt & 0x10) !== 0;
  }
  const mssForWin = advmss - (tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
  const full = winFromSpace(sk, sk.rcvbuf);
  const w = tcpSelectInitialWindow(tn, sk.net, full, mssForWin, wscaleOk, sk.cold.rcvbufLocked ? full : 0);
  const req = new TcpRequestSock(sk, v4, laddr.slice(), lport, raddr.slice(), rport, seq, cookie, {
    mss: MSSTAB[idx] as number,
    advmss,
    wscaleOk,
    sndWscale,
    rcvWscale: wscaleOk ? w.wscale : 0,
    rcvWnd: w.rcvWnd,
    windowClamp: w.windowClamp,
    sackOk,
    tstampOk,
    tsRecent: cb.tsval ?? 0,
    tsOffset: tstampOk ? ((cb.tsecr as number) - Math.floor(sk.clock / 1e6)) >>> 0 : 0,
    // cookie_ecn_ok(): TS_OPT_ECN in the echoed timestamp.
    ecnOk: tstampOk && ((cb.tsecr as number) & 0x20) !== 0 && tn.sysctl.tcp_ecn !== 0,
  });
  createChild(req, cb);
  return true;
}

/**
 * tcp_create_openreq_child() + tcp_v4_syn_recv_sock(): the accepted connection's socket.
 * A Fast Open child (`fastopen`) stays in SYN_RECV and is queued by its caller.
 */
function createChild(req: TcpRequestSock, cb: TcpCb, fastopen = false): TcpSock {
  const l = req.listener;
  const o = req.opts;
  const c = new TcpSock(l.net, l.family);
  c.v6only = l.v6only;
  c.errq = sockErrqClone(l);
  // sk_clone_lock() copies the listener: SO_REUSEADDR/SO_REUSEPORT too, which bind conflicts read.
  c.reuseAddr = l.reuseAddr;
  c.reusePort = l.reusePort;
  // tcp_v4_syn_recv_sock(): the listener's key for this peer is copied to the child.
  const md5 = tcpMd5DoLookup(l.md5Keys, req.raddr);
  if (md5 !== null) c.md5Keys = [{ ...md5 }];
  c.v4 = req.v4;
  c.localAddr = c.srcAddr = sharedAddr(req.laddr);
  c.remoteAddr = sharedAddr(req.raddr);
  c.remotePort = req.rport;
  c.inetIdGen.next = getRandomU16();
  c.iss = req.iss;
  // pushed_seq starts at write_seq (tcp_create_openreq_child), so forced_push counts from here.
  c.sndUna = c.sndNxt = c.sndSml = c.writeSeq = c.pushedSeq = (req.iss + 1) >>> 0;
  c.irs = req.irs;
  c.rcvNxt = c.rcvWup = c.copiedSeq = (req.irs + 1) >>> 0;
  c.tstampOk = o.tstampOk;
  c.sackOk = o.sackOk;
  c.ecnFlags = o.ecnOk ? TCP_ECN.OK : 0;
  c.wscaleOk = o.wscaleOk;
  c.sndWscale = o.sndWscale;
  c.rcvWscale = o.rcvWscale;
  c.tsRecent = cb.tsval ?? o.tsRecent;
  c.tsRecentStamp = o.tstampOk ? c.clock : 0;
  c.tsOffset = o.tsOffset;
  c.advmss = o.advmss;
  c.mssClamp = o.mss;
  c.tcpHeaderLen = 20 + (o.tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
  c.mssCache = Math.max(48, Math.min(o.mss, o.advmss) - (o.tstampOk ? TCPOLEN_TSTAMP_ALIGNED : 0));
  tcpInitializeRcvMss(c);
  c.rcvWnd = o.rcvWnd;
  c.rcvSsthresh = o.rcvWnd;
  c.windowClamp = o.windowClamp;
  c.sndWnd = cb.window << c.sndWscale;
  c.sndWl1 = cb.seq;
  c.maxWindow = c.sndWnd;
  c.sndbuf = l.sndbuf;
  c.rcvbuf = l.rcvbuf;
  c.nodelay = l.nodelay;
  tcpColdClone(c, l);
  c.ca.init(c);
  // tcp_create_openreq_child(): lrcvtime starts at the handshake.
  c.ackLrcvtime = c.clock;
  if (req.synackTime >= 0) tcpRttEstimator(c, (c.clock - req.synackTime) / 1e3);
  c.localPort = req.lport;
  l.tn.bhash.add(req.lport, c);
  ehashInsert(c, req.key);
  c.state = TCP.SYN_RECV;
  if (!fastopen) tcpSetState(c, TCP.ESTABLISHED);
  l.net.ipv4.mib.tcp.PassiveOpens++;
  tcpInitTransfer(c);
  c.parent = l;
  if (fastopen) {
    c.segsIn = 1;
    return c;
  }
  tcpCold(l).acceptQueue.push(c);
  // segs_in = 1 for the SYN (tcp_create_openreq_child); the SYN-ACK's delivery counts (tcp_rcv_state_process).
  c.segsIn = 1;
  c.delivered = 1;
  // The rest of the ACK (data, FIN) is the child's.
  if (cb.len > 0 || cb.flags & TCPHDR.FIN) tcpRcvStateProcess(c, cb);
  else c.segsIn++;
  l.dataReady();
  return c;
}
