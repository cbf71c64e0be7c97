/**
 * Congestion control modules (net/ipv4/tcp_cong.c, tcp_cubic.c): Reno and CUBIC, the
 * default, chosen by net.ipv4.tcp_congestion_control when a socket is created. CUBIC
 * here has no HyStart (on lo an RTT of microseconds never trips it in practice).
 */
import type { TcpSock } from './sock.js';

export interface CongestionOps {
  readonly name: string;
  init(sk: TcpSock): void;
  /** The new ssthresh after a loss. */
  ssthresh(sk: TcpSock): number;
  /** Grow cwnd for `acked` newly acknowledged segments. */
  congAvoid(sk: TcpSock, acked: number): void;
  /** Entering the Loss state (an RTO): forget the epoch. */
  onLoss(sk: TcpSock): void;
}

/** tcp_slow_start(): cwnd grows by what was acked, up to ssthresh; returns what is left over. */
export function tcpSlowStart(sk: TcpSock, acked: number): number {
  const cwnd = Math.min(sk.cwnd + acked, sk.ssthresh);
  acked -= cwnd - sk.cwnd;
  sk.cwnd = cwnd;
  return acked;
}

/** tcp_cong_avoid_ai(): one more segment per `w` acked. */
export function tcpCongAvoidAi(sk: TcpSock, w: number, acked: number): void {
  if (sk.cwndCnt >= w) {
    sk.cwndCnt = 0;
    sk.cwnd++;
  }
  sk.cwndCnt += acked;
  if (sk.cwndCnt >= w) {
    const delta = Math.floor(sk.cwndCnt / w);
    sk.cwndCnt -= delta * w;
    sk.cwnd += delta;
  }
}

/** tcp_is_cwnd_limited(): only a flow that used its window may grow it. */
function cwndLimited(sk: TcpSock): boolean {
  if (sk.cwnd < sk.ssthresh) return sk.cwnd < 2 * sk.maxPacketsOut;
  return sk.cwndLimited;
}

export const reno: CongestionOps = {
  name: 'reno',
  init() {},
  ssthresh: (sk) => Math.max(sk.cwnd >> 1, 2),
  congAvoid(sk, acked) {
    if (!cwndLimited(sk)) return;
    if (sk.cwnd < sk.ssthresh) {
      acked = tcpSlowStart(sk, acked);
      if (acked === 0) return;
    }
    tcpCongAvoidAi(sk, sk.cwnd, acked);
  },
  onLoss() {},
};

const BICTCP_BETA_SCALE = 1024;
const BETA = 717;
const BIC_SCALE = 41;
const CUBE_RTT_SCALE = BIC_SCALE * 10;
const BETA_SCALE = Math.floor((8 * (BICTCP_BETA_SCALE + BETA)) / 3 / (BICTCP_BETA_SCALE - BETA));
const CUBE_FACTOR = 2 ** 40 / CUBE_RTT_SCALE;
const BICTCP_HZ = 10;

function cubicReset(sk: TcpSock): void {
  sk.caPriv = {
    cnt: 0,
    lastMaxCwnd: 0,
    lastCwnd: 0,
    lastTime: 0,
    origin: 0,
    K: 0,
    delayMin: 0,
    epochStart: 0,
    ackCnt: 0,
    tcpCwnd: 0,
  };
}

/** bictcp_update(): the cubic function's target cwnd → how many ACKs per increment. */
function bictcpUpdate(sk: TcpSock, acked: number): void {
  const ca = sk.caPriv as Record<string, number>;
  const cwnd = sk.cwnd;
  const now = sk.clock / 1e6; // ms stand in for jiffies
  ca.ackCnt = (ca.ackCnt ?? 0) + acked;
  if (ca.lastCwnd === cwnd && now - (ca.lastTime ?? 0) <= 1000 / 32) return;
  ca.lastCwnd = cwnd;
  ca.lastTime = now;
  if (ca.epochStart === 0) {
    ca.epochStart = now;
    ca.ackCnt = acked;
    ca.tcpCwnd = cwnd;
    if ((ca.lastMaxCwnd ?? 0) <= cwnd) {
      ca.K = 0;
      ca.origin = cwnd;
    } else {
      ca.K = Math.cbrt(CUBE_FACTOR * ((ca.lastMaxCwnd ?? 0) - cwnd));
      ca.origin = ca.lastMaxCwnd ?? 0;
    }
  }
  // t in units of 1/1024 s since the epoch, plus the minimum delay.
  const t = (((now - (ca.epochStart ?? 0)) * 1000 + (ca.delayMin ?? 0)) * 2 ** BICTCP_HZ) / 1e6;
  const K = ca.K ?? 0;
  const offs = t < K ? K - t : t - K;
  const delta = (CUBE_RTT_SCALE * offs * offs * offs) / 2 ** (10 + 3 * BICTCP_HZ);
  const target = t < K ? (ca.origin ?? 0) - delta : (ca.origin ?? 0) + delta;
  let cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
  if (ca.lastMaxCwnd === 0 && cnt > 20) cnt = 20;
  // TCP friendliness: never slower than Reno would be.
  const d = Math.floor((cwnd * BETA_SCALE) / 8);
  while ((ca.ackCnt ?? 0) > d && d > 0) {
    ca.ackCnt = (ca.ackCnt ?? 0) - d;
    ca.tcpCwnd = (ca.tcpCwnd ?? 0) + 1;
  }
  if ((ca.tcpCwnd ?? 0) > cwnd) {
    const maxCnt = Math.floor(cwnd / ((ca.tcpCwnd ?? 0) - cwnd));
    if (cnt > maxCnt) cnt = maxCnt;
  }
  ca.cnt = Math.max(cnt, 2);
}

export const cubic: CongestionOps = {
  name: 'cubic',
  init: cubicReset,
  ssthresh(sk) {
    const ca = sk.caPriv as Record<string, number>;
    ca.epochStart = 0;
    if (sk.cwnd < (ca.lastMaxCwnd ?? 0))
      ca.lastMaxCwnd = Math.floor((sk.cwnd * (BICTCP_BETA_SCALE + BETA)) / (2 * BICTCP_BETA_SCALE));
    else ca.lastMaxCwnd = sk.cwnd;
    return Math.max(Math.floor((sk.cwnd * BETA) / BICTCP_BETA_SCALE), 2);
  },
  congAvoid(sk, acked) {
    if (!cwndLimited(sk)) return;
    if (sk.cwnd < sk.ssthresh) {
      acked = tcpSlowStart(sk, acked);
      if (acked === 0) return;
    }
    bictcpUpdate(sk, acked);
    tcpCongAvoidAi(sk, (sk.caPriv as Record<string, number>).cnt ?? 2, acked);
  },
  onLoss: cubicReset,
};

const modules = new Map<string, CongestionOps>([
  ['cubic', cubic],
  ['reno', reno],
]);

/** The available modules, as net.ipv4.tcp_available_congestion_control lists them. */
export function tcpAvailableCongestion(): string[] {
  return ['reno', 'cubic'];
}

export function tcpCongestion(name: string): CongestionOps {
  return modules.get(name) ?? cubic;
}

export function tcpCongestionExists(name: string): boolean {
  return modules.has(name);
}
