/**
 * net/ipv4/tcp_timer.c: the retransmission timer (RTO with exponential backoff, SYN
 * retries, giving up after tcp_retries2), the persist timer (zero-window probes), the
 * delayed-ACK timer and keepalive. Timers run on the kernel clock, real or virtual,
 * as softirq work on the socket's CPU. They never keep a Node process alive by
 * themselves (the API layer decides that), as kernel timers don't hold a process.
 */

import { E } from '../../include/errno.js';
import type { Timer } from '../../kernel/clock.js';
import type { Net } from '../../net/net.js';
import { tcpCold } from './cold.js';
import {
  LOCAL_DROP,
  tcpRetransmitSeg,
  tcpRetransmitSyn,
  tcpSendAck,
  tcpSendActiveReset,
  tcpSendKeepaliveProbe,
  tcpWriteWakeup,
} from './output.js';
import { tcpEnterLoss, tcpRackReoTimeout } from './recovery.js';
import {
  TCP,
  TCP_ATO_MIN,
  TCP_CA,
  TCP_DELACK_MAX,
  TCP_RTO_MAX,
  TCP_RTO_MIN_US,
  TCPCB,
  type TcpSock,
  type TxSeg,
  tcpDone,
} from './sock.js';

/**
 * What /proc/net/tcp's `tr` column shows for the pending timer; the RACK reordering and
 * tail loss probe timers share the retransmit timer (ICSK_TIME_REO_TIMEOUT,
 * ICSK_TIME_LOSS_PROBE) and show as it does.
 */
export const TIMER = {
  NONE: 0,
  RETRANS: 1,
  KEEPALIVE: 2,
  TIME_WAIT: 3,
  PROBE0: 4,
  LOSS_PROBE: 5,
  REO_TIMEOUT: 6,
} as const;

/** The `tr` /proc/net/tcp and inet_diag show for a pending write timer. */
export function timerShown(pending: number): number {
  return pending === TIMER.REO_TIMEOUT || pending === TIMER.LOSS_PROBE ? TIMER.RETRANS : pending;
}

/** What a socket timer runs on: the socket's namespace and CPU. */
interface TimerOwner {
  readonly net: Net;
  readonly cpu: number;
}

/**
 * A socket's struct timer_list (retransmit, delayed ACK, keepalive, TIME_WAIT): mod_timer()
 * and del_timer() only write the expiry, as Linux's are cheap list moves; the host timer is
 * re-armed only when the expiry moves earlier, and when it fires early (the expiry moved
 * later) it sleeps again for the rest. So a ping-pong connection arms one host timer per
 * RTO or ato, not two per segment. The expiry runs as softirq work on the owner's CPU.
 */
export class SkTimer<S extends TimerOwner = TcpSock> {
  #pending = false;
  #expires = 0;
  #host: Timer | null = null;
  #hostAt = 0;
  #fire(): void {
    this.#host = null;
    if (!this.#pending) return;
    const sk = this.sk;
    const clock = sk.net.kernel.clock;
    // A host timer may run a little before the expiry on the real clock (ms granularity).
    const now = clock.now();
    const left = this.#expires - now;
    if (left > (clock.virtual ? 0 : 1e6)) {
      this.#armHost(now, left);
      return;
    }
    this.#pending = false;
    if (!sk.net.alive) return;
    const fn = this.fn;
    sk.net.kernel.runOn(sk.cpu, () => fn(sk));
  }

  /** `fn` is a plain function of the socket, so an idle socket's timers hold no closures. */
  constructor(
    readonly sk: S,
    readonly fn: (sk: S) => void,
  ) {}

  /** timer_pending(). */
  get pending(): boolean {
    return this.#pending;
  }

  /** sk_reset_timer(): expire `delayNs` after `now` (the clock, unless the caller has just read it). */
  mod(delayNs: number, now = this.sk.net.kernel.clock.now()): void {
    const at = now + Math.max(0, delayNs);
    this.#pending = true;
    this.#expires = at;
    if (this.#host !== null && this.#hostAt <= at) return;
    this.#host?.cancel();
    this.#armHost(now, at - now);
  }

  /** sk_stop_timer(): the host timer is left to fire and find nothing to do. */
  cancel(): void {
    this.#pending = false;
  }

  /** del_timer_sync() when the socket is done: the host timer goes too, so it holds nothing. */
  kill(): void {
    this.#pending = false;
    this.#host?.cancel();
    this.#host = null;
  }

  #armHost(now: number, delayNs: number): void {
    const clock = this.sk.net.kernel.clock;
    this.#hostAt = now + delayNs;
    this.#host = clock.setTimer(delayNs, () => this.#fire());
    this.#host.unref();
  }
}

/** inet_csk_reset_xmit_timer(): (re)arm the retransmit or probe timer. */
export function inetCskResetXmitTimer(sk: TcpSock, what: number, whenNs: number, now = sk.clock): void {
  whenNs = Math.min(whenNs, TCP_RTO_MAX);
  sk.pendingTimer = what;
  sk.timeoutAt = now + whenNs;
  sk.timers.retrans ??= new SkTimer(sk, tcpWriteTimer);
  sk.timers.retrans.mod(whenNs, now);
}

/** tcp_write_timer(): the retransmit or zero-window probe timer went off. */
function tcpWriteTimer(sk: TcpSock): void {
  const pending = sk.pendingTimer;
  sk.pendingTimer = 0;
  sk.timeoutAt = 0;
  if (sk.state === TCP.CLOSE || sk.state === TCP.LISTEN) return;
  if (pending === TIMER.REO_TIMEOUT) {
    // tcp_rack_reo_timeout() sees its own timer pending, so the RTO it rearms keeps its offset.
    sk.pendingTimer = pending;
    tcpRackReoTimeout(sk);
  } else if (pending === TIMER.PROBE0) tcpProbeTimer(sk);
  else tcpRetransmitTimer(sk);
}

/** inet_csk_clear_xmit_timers(). */
export function inetCskClearXmitTimers(sk: TcpSock): void {
  sk.timers.retrans?.kill();
  sk.timers.delack?.kill();
  sk.pendingTimer = 0;
  sk.timeoutAt = 0;
  sk.ackPending = false;
}

/** Stop the retransmit timer when nothing is outstanding (tcp_rearm_rto with packets_out 0). */
export function tcpRearmRto(sk: TcpSock, now = sk.clock): void {
  if (sk.packetsOut === 0) {
    if (sk.pendingTimer === TIMER.RETRANS) {
      sk.timers.retrans?.cancel();
      sk.pendingTimer = 0;
      sk.timeoutAt = 0;
    }
    return;
  }
  inetCskResetXmitTimer(sk, TIMER.RETRANS, sk.rto, now);
}

/**
 * tcp_rearm_rto() as RACK calls it: while the REO or loss-probe timer stands in for the
 * RTO, the RTO keeps counting from the head's transmission (tcp_rto_delta_us).
 */
export function tcpRearmRtoOffset(sk: TcpSock): void {
  const head = sk.wq[0];
  if (sk.packetsOut === 0 || head === undefined) {
    tcpRearmRto(sk);
    return;
  }
  let rto = sk.rto;
  if (sk.pendingTimer === TIMER.REO_TIMEOUT || sk.pendingTimer === TIMER.LOSS_PROBE)
    rto = Math.max(sk.rto - (sk.clock - head.txTime), 1e3);
  inetCskResetXmitTimer(sk, TIMER.RETRANS, rto);
}

/** tcp_write_err(): give up on the connection with `errno`. */
export function tcpWriteErr(sk: TcpSock, errno: number): void {
  sk.err = errno;
  const cb = sk.onError;
  if (cb !== null) queueMicrotask(cb);
  tcpDone(sk);
}

/** tcp_retransmit_timer(). */
function tcpRetransmitTimer(sk: TcpSock): void {
  const s = sk.tn.sysctl;
  if (sk.packetsOut === 0) return;
  const head = sk.wq[0] as TxSeg | undefined;
  if (head === undefined) return;
  if (sk.state === TCP.SYN_SENT || sk.state === TCP.SYN_RECV) {
    // tcp_write_timeout(): a SYN_SENT socket gets tcp_syn_linear_timeouts (4) more tries on top of
    // tcp_syn_retries, so Linux 6.18 sends 10 retransmissions and gives up after ~131 s.
    const linear = sk.state === TCP.SYN_SENT;
    if (sk.retransmits >= s.tcp_syn_retries + (linear ? 4 : 0)) {
      tcpWriteErr(sk, E.ETIMEDOUT);
      return;
    }
    tcpRetransmitSyn(sk);
    sk.retransmits++;
    // tcp_syn_linear_timeouts (4): SYN_SENT's first retries keep the initial timeout, then back off.
    if (!linear || sk.retransmits > 4) sk.backoff++;
    inetCskResetXmitTimer(sk, TIMER.RETRANS, Math.min(sk.rto * 2 ** sk.backoff, TCP_RTO_MAX));
    return;
  }
  const limit = sk.orphan ? s.tcp_orphan_retries || 8 : s.tcp_retries2;
  // retransmits_timed_out(): TCP_USER_TIMEOUT, when set, replaces the retry count: the time
  // since the first retransmitted segment was first sent.
  const now = sk.clock;
  const expired =
    sk.cold.userTimeout > 0
      ? sk.retransmits > 0 && now - sk.retransStamp >= sk.cold.userTimeout * 1e6
      : sk.retransmits >= limit;
  if (expired) {
    sk.tn.ext.TCPAbortOnTimeout++;
    tcpSendActiveReset(sk);
    tcpWriteErr(sk, E.ETIMEDOUT);
    return;
  }
  if (sk.caState === TCP_CA.Recovery) sk.tn.ext[sk.sackOk ? 'TCPSackFailures' : 'TCPRenoFailures']++;
  else if (sk.caState === TCP_CA.Loss) sk.tn.ext.TCPLossFailures++;
  sk.tn.ext.TCPTimeouts++;
  tcpEnterLoss(sk);
  const first = sk.wq.find((seg) => !(seg.sacked & TCPCB.SACKED_ACKED) && seg.txTime >= 0);
  // retrans_stamp: when the first segment retransmitted was originally sent.
  if (sk.retransmits === 0) sk.retransStamp = first?.txTime ?? now;
  if (first !== undefined) tcpRetransmitSeg(sk, first);
  sk.backoff++;
  sk.retransmits++;
  sk.rto = Math.min(sk.rto * 2, TCP_RTO_MAX);
  // tcp_clamp_rto_to_user_timeout(): never wait past the user timeout.
  let when = sk.rto;
  if (sk.cold.userTimeout > 0)
    when = Math.min(when, Math.max(sk.cold.userTimeout * 1e6 - (now - sk.retransStamp), 1e6));
  inetCskResetXmitTimer(sk, TIMER.RETRANS, when);
}

/**
 * tcp_probe_timer(): data waits with nothing in flight — the peer's window is closed, or
 * this host's own queue dropped it. Probes go on while the peer answers, up to
 * tcp_retries2 unanswered ones, or until TCP_USER_TIMEOUT has passed since the first.
 */
function tcpProbeTimer(sk: TcpSock): void {
  const now = sk.clock;
  const hasData = sk.wq.some((seg) => seg.txTime < 0);
  if (sk.packetsOut > 0 || !hasData) {
    sk.probesOut = 0;
    sk.probesTstamp = 0;
    return;
  }
  const limit = sk.orphan ? sk.tn.sysctl.tcp_orphan_retries || 8 : sk.tn.sysctl.tcp_retries2;
  if (sk.probesTstamp === 0) sk.probesTstamp = now;
  else if (sk.cold.userTimeout > 0 && now - sk.probesTstamp >= sk.cold.userTimeout * 1e6) {
    tcpWriteErr(sk, E.ETIMEDOUT);
    return;
  }
  if (sk.probesOut >= limit) {
    tcpWriteErr(sk, E.ETIMEDOUT);
    return;
  }
  tcpSendProbe0(sk, now);
}

/** TCP_RESOURCE_PROBE_INTERVAL: how soon to try again after this host's queue dropped the probe. */
const TCP_RESOURCE_PROBE_INTERVAL = 500e6;

/** tcp_send_probe0(). */
function tcpSendProbe0(sk: TcpSock, now: number): void {
  const err = tcpWriteWakeup(sk);
  if (sk.packetsOut > 0 || !sk.wq.some((seg) => seg.txTime < 0)) {
    sk.probesOut = 0;
    sk.backoff = 0;
    sk.probesTstamp = 0;
    return;
  }
  sk.probesOut++;
  let timeout: number;
  if (err !== LOCAL_DROP) {
    if (sk.backoff < sk.tn.sysctl.tcp_retries2) sk.backoff++;
    timeout = Math.min(Math.max(sk.rto, TCP_RTO_MIN_US * 1e3) * 2 ** sk.backoff, TCP_RTO_MAX);
  } else {
    // Local congestion: senders take turns for the host's resources, without backing off.
    timeout = TCP_RESOURCE_PROBE_INTERVAL;
  }
  // tcp_clamp_probe0_to_user_timeout().
  if (sk.cold.userTimeout > 0 && sk.probesTstamp !== 0) {
    const left = sk.cold.userTimeout * 1e6 - (now - sk.probesTstamp);
    timeout = Math.min(timeout, Math.max(left, 1e6));
  }
  inetCskResetXmitTimer(sk, TIMER.PROBE0, timeout);
}

/** tcp_send_delayed_ack(): ACK within `ato` unless something else carries it first. */
export function tcpSendDelayedAck(sk: TcpSock, now = sk.clock): void {
  sk.ackPending = true;
  if (sk.timers.delack?.pending === true) return;
  // On a fast path the delay is capped by the RTT (never below TCP_DELACK_MIN, 40 ms). An
  // ato still 0 — no data received yet, as a FIN alone — means the next tick, as in Linux.
  let ato = sk.ackAto;
  if (ato > TCP_ATO_MIN) {
    let maxAto = sk.ackPingpong > 0 ? TCP_DELACK_MAX : 500e6;
    if (sk.srttUs !== 0) maxAto = Math.min(maxAto, Math.max((sk.srttUs >> 3) * 1e3, TCP_ATO_MIN));
    ato = Math.min(ato, maxAto);
  }
  sk.timers.delack ??= new SkTimer(sk, tcpDelackTimer);
  sk.timers.delack.mod(ato, now);
}

/** tcp_delack_timer(). */
function tcpDelackTimer(sk: TcpSock): void {
  if (!sk.ackPending || sk.state === TCP.CLOSE || sk.state === TCP.LISTEN) return;
  sk.tn.ext.DelayedACKs++;
  // A timed-out delayed ACK means the application is not answering: leave pingpong mode.
  sk.ackPingpong = 0;
  sk.ackAto = TCP_ATO_MIN;
  tcpSendAck(sk);
}

/** tcp_set_keepalive(). */
export function tcpSetKeepalive(sk: TcpSock, on: boolean): void {
  if (on !== sk.cold.keepalive) tcpCold(sk).keepalive = on;
  if (on && sk.state !== TCP.CLOSE && sk.state !== TCP.LISTEN) tcpResetKeepaliveTimer(sk, sk.keepaliveTimeNs());
  else if (!on) tcpResetKeepaliveTimer(sk, 0);
}

/** inet_csk_reset_keepalive_timer(); 0 deletes it. */
export function tcpResetKeepaliveTimer(sk: TcpSock, whenNs: number): void {
  if (whenNs <= 0) {
    // Deleted for good (keepalive off, or the socket is done): nothing may hold the socket.
    sk.timers.keepalive?.kill();
    return;
  }
  const now = sk.clock;
  tcpCold(sk).keepaliveAt = now + whenNs;
  // node:http's Agent turns keepalive on at every request on a reused socket: a field write.
  sk.timers.keepalive ??= new SkTimer(sk, tcpKeepaliveTimer);
  sk.timers.keepalive.mod(whenNs, now);
}

/** tcp_keepalive_timer(): probe an idle connection; give up after keepalive_probes. */
function tcpKeepaliveTimer(sk: TcpSock): void {
  if (!sk.cold.keepalive || (sk.state !== TCP.ESTABLISHED && sk.state !== TCP.CLOSE_WAIT && sk.state !== TCP.FIN_WAIT2))
    return;
  if (sk.packetsOut > 0 || sk.wq.length > 0) {
    tcpResetKeepaliveTimer(sk, sk.keepaliveTimeNs());
    return;
  }
  const idle = sk.clock - Math.max(sk.lastAckRecv, sk.lastDataRecv);
  const time = sk.keepaliveTimeNs();
  if (idle >= time) {
    if (sk.probesOut >= sk.keepaliveProbesN()) {
      tcpSendActiveReset(sk);
      tcpWriteErr(sk, E.ETIMEDOUT);
      return;
    }
    tcpSendKeepaliveProbe(sk);
    sk.probesOut++;
    tcpResetKeepaliveTimer(sk, sk.keepaliveIntvlNs());
    return;
  }
  tcpResetKeepaliveTimer(sk, time - idle);
}
