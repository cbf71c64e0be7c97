/**
 * tcp_diag: what sock_diag tells ss about TCP sockets (inet_diag_dump_icsk, with
 * inet_sk_diag_fill for full sockets, inet_twsk_diag_fill for TIME_WAIT and
 * inet_req_diag_fill for request socks), and tcp_get_info(), the struct tcp_info
 * behind `ss -i` and getsockopt(TCP_INFO).
 */
import { type InetDiagMsg, type SkMeminfo, sockGenCookie, type TcpInfo } from '../../core/sock-diag.js';
import { tcpChronoStats } from './chrono.js';
import { TCPI_OPT_SYN_DATA } from './fastopen.js';
import { TcpRequestSock, TcpTimewaitSock } from './minisocks.js';
import { entryFamily, tcpSockets } from './proc.js';
import { TCP, TCP_ECN, type TcpSock, tcpRoute4 } from './sock.js';
import { TIMER, timerShown } from './timer.js';

const NO_SKMEM: SkMeminfo = {
  rmemAlloc: 0,
  rcvbuf: 0,
  wmemAlloc: 0,
  sndbuf: 0,
  fwdAlloc: 0,
  wmemQueued: 0,
  optmem: 0,
  backlog: 0,
  drops: 0,
};

/** jiffies_delta_to_msecs(): never negative. */
const ms = (ns: number) => Math.max(0, Math.floor(ns / 1e6));

/** tcp_diag_dump() for one family, in /proc/net/tcp's order (listeners, then the established table). */
export function tcpDiagDump(net: TcpSock['net'], family: 4 | 6): InetDiagMsg[] {
  const now = net.kernel.clock.now();
  const out: InetDiagMsg[] = [];
  for (const e of tcpSockets(net)) {
    if (entryFamily(e) !== family) continue;
    if (e instanceof TcpTimewaitSock) {
      out.push({
        family,
        state: TCP.TIME_WAIT,
        localAddr: e.localAddr,
        localPort: e.localPort,
        remoteAddr: e.remoteAddr,
        remotePort: e.remotePort,
        rqueue: 0,
        wqueue: 0,
        uid: 0,
        ino: 0,
        cookie: sockGenCookie(net.kernel, e),
        shutdown: 0,
        skmem: NO_SKMEM,
        minisock: true,
        timer: { timer: TIMER.TIME_WAIT, expiresMs: ms(e.expiresAt - now), retrans: 0 },
      });
    } else if (e instanceof TcpRequestSock) {
      out.push({
        family,
        state: TCP.SYN_RECV,
        localAddr: e.laddr,
        localPort: e.lport,
        remoteAddr: e.raddr,
        remotePort: e.rport,
        rqueue: 0,
        wqueue: 0,
        uid: 0,
        ino: 0,
        cookie: sockGenCookie(net.kernel, e),
        shutdown: 0,
        skmem: NO_SKMEM,
        minisock: true,
        timer: { timer: TIMER.RETRANS, expiresMs: ms(e.expiresAt - now), retrans: e.retrans },
      });
    } else if (e.state !== TCP.CLOSE) {
      out.push(inetSkDiagFill(e, now));
    }
  }
  return out;
}

function inetSkDiagFill(sk: TcpSock, now: number): InetDiagMsg {
  const listen = sk.state === TCP.LISTEN;
  let timer = { timer: 0, expiresMs: 0, retrans: 0 };
  if (timerShown(sk.pendingTimer) === TIMER.RETRANS) {
    timer = { timer: 1, expiresMs: ms(sk.timeoutAt - now), retrans: sk.retransmits };
  } else if (sk.pendingTimer === TIMER.PROBE0) {
    timer = { timer: 4, expiresMs: ms(sk.timeoutAt - now), retrans: sk.probesOut };
  } else if (sk.timers.keepalive?.pending === true) {
    timer = { timer: 2, expiresMs: ms(sk.cold.keepaliveAt - now), retrans: sk.probesOut };
  }
  const msg: InetDiagMsg = {
    family: sk.family,
    state: sk.state,
    localAddr: sk.remotePort !== 0 ? sk.srcAddr : sk.localAddr,
    localPort: sk.localPort,
    remoteAddr: sk.remoteAddr,
    remotePort: sk.remotePort,
    // tcp_diag_get_info(): a listener's queues are its accept backlog and its limit.
    rqueue: listen ? sk.cold.acceptQueue.length : Math.max(0, (sk.rcvNxt - sk.copiedSeq) | 0),
    wqueue: listen ? sk.cold.maxAckBacklog : sk.sendQueueBytes,
    uid: 0,
    // sock_i_ino(): a child still in the accept queue has no struct socket, so no inode yet.
    ino: sk.parent !== null ? 0 : sk.inode,
    cookie: sockGenCookie(sk.net.kernel, sk),
    shutdown: sk.shutdown,
    skmem: {
      rmemAlloc: sk.rmemAlloc,
      rcvbuf: sk.rcvbuf,
      wmemAlloc: sk.wmemAlloc,
      sndbuf: sk.sndbuf,
      fwdAlloc: sk.forwardAlloc,
      wmemQueued: sk.wmemQueued,
      optmem: 0,
      backlog: 0,
      drops: 0,
    },
    timer,
    cong: sk.ca.name,
    tcpInfo: tcpGetInfo(sk, now),
  };
  if (sk.family === 6 && (listen || sk.state === TCP.CLOSE)) msg.v6only = sk.v6only;
  return msg;
}

/** icsk_pmtu_cookie: the path MTU the MSS was last synced to (IPv4 caps it at IP_MAX_MTU). */
function pmtu(sk: TcpSock): number {
  if (!sk.v4) return sk.rt6?.mtu ?? 65536;
  const r = tcpRoute4(sk);
  return typeof r === 'number' ? 0 : Math.min(r.rt.mtu, 0xffff);
}

/**
 * tcp_update_pacing_rate(): Linux recomputes sk_pacing_rate on every ACK from cwnd,
 * mss and srtt; lonet does not pace, so the rate is computed here from the same inputs.
 */
function pacingRate(sk: TcpSock): number {
  // Not computed before the first RTT sample: sk_pacing_rate is still ~0 then.
  if (sk.srttUs === 0) return -1;
  let rate = sk.mssCache * 80_000;
  rate *= sk.cwnd < sk.ssthresh / 2 ? 200 : 120;
  rate *= Math.max(sk.cwnd, sk.packetsOut);
  if (sk.srttUs) rate = Math.floor(rate / sk.srttUs);
  return rate;
}

/** tcp_get_info(). */
export function tcpGetInfo(sk: TcpSock, now: number): TcpInfo {
  const listen = sk.state === TCP.LISTEN;
  const info: TcpInfo = {
    state: sk.state,
    options: 0,
    sndWscale: 0,
    rcvWscale: 0,
    rto: 0,
    backoff: 0,
    ato: 0,
    sndMss: 0,
    rcvMss: 0,
    // A listener's unacked/sacked are its accept queue and backlog.
    unacked: listen ? sk.cold.acceptQueue.length : sk.packetsOut,
    sacked: listen ? sk.cold.maxAckBacklog : sk.sackedOut,
    lost: 0,
    retrans: 0,
    lastDataSentMs: 0,
    lastDataRecvMs: 0,
    lastAckRecvMs: 0,
    pmtu: 0,
    rcvSsthresh: 0,
    rtt: 0,
    rttvar: 0,
    sndSsthresh: 0,
    sndCwnd: sk.cwnd,
    advmss: 0,
    reordering: sk.reordering,
    rcvRtt: 0,
    rcvSpace: 0,
    totalRetrans: 0,
    // A listener never paces: sk_pacing_rate stays ~0.
    pacingRate: listen ? -1 : pacingRate(sk),
    maxPacingRate: -1,
    bytesAcked: 0,
    bytesReceived: 0,
    segsOut: 0,
    segsIn: 0,
    notsentBytes: 0,
    minRtt: 0,
    dataSegsIn: 0,
    dataSegsOut: 0,
    deliveryRate: 0,
    deliveryRateAppLimited: false,
    busyTime: 0,
    rwndLimited: 0,
    sndbufLimited: 0,
    delivered: 0,
    bytesSent: 0,
    bytesRetrans: 0,
    dsackDups: 0,
    reordSeen: sk.rack.reordSeen,
    rcvOoopack: 0,
    sndWnd: 0,
  };
  if (listen) return info;
  // Linux learns tstamp_ok/sack_ok/wscale_ok from the SYN-ACK; before it only the SYN offered them.
  const synced = sk.state !== TCP.SYN_SENT;
  if (synced && sk.tstampOk) info.options |= 1;
  if (synced && sk.sackOk) info.options |= 2;
  if (sk.ecnFlags & TCP_ECN.OK) info.options |= 8;
  if (sk.ecnFlags & TCP_ECN.SEEN) info.options |= 16;
  if (sk.fastopen?.synDataAcked === true) info.options |= TCPI_OPT_SYN_DATA;
  if (synced && sk.wscaleOk) {
    info.options |= 4;
    info.sndWscale = sk.sndWscale;
    info.rcvWscale = sk.rcvWscale;
  }
  // icsk_rto is whole jiffies (HZ=1000 here): jiffies_to_usecs() of it.
  info.rto = Math.ceil(sk.rto / 1e6) * 1000;
  info.backoff = sk.backoff;
  info.ato = Math.floor(Math.min(sk.ackAto, 200e6) / 1e3);
  info.sndMss = sk.mssCache;
  info.rcvMss = sk.rcvMss;
  info.lost = sk.lostOut;
  info.retrans = sk.retransOut;
  info.lastDataSentMs = ms(now - sk.lastDataSent);
  info.lastDataRecvMs = ms(now - sk.ackLrcvtime);
  info.lastAckRecvMs = ms(now - sk.lastAckRecv);
  info.pmtu = pmtu(sk);
  info.rcvSsthresh = sk.rcvSsthresh;
  info.rtt = sk.srttUs >> 3;
  info.rttvar = sk.mdevUs >> 2;
  info.sndSsthresh = sk.ssthresh;
  info.advmss = sk.advmss;
  info.rcvRtt = sk.rcvRttUs;
  info.rcvSpace = sk.rcvqSpace;
  info.totalRetrans = sk.totalRetrans;
  info.bytesAcked = sk.bytesAcked;
  info.bytesReceived = sk.bytesReceived;
  info.segsOut = sk.segsOut;
  info.segsIn = sk.segsIn;
  info.notsentBytes = Math.max(0, (sk.writeSeq - sk.sndNxt) | 0);
  info.minRtt = sk.minRttUs === 0 ? 0xffffffff : sk.minRttUs;
  info.dataSegsIn = sk.dataSegsIn;
  info.dataSegsOut = sk.dataSegsOut;
  info.delivered = sk.delivered;
  info.bytesSent = sk.bytesSent;
  info.bytesRetrans = sk.bytesRetrans;
  info.sndWnd = sk.sndWnd;
  const chrono = tcpChronoStats(sk, now);
  info.busyTime = chrono.busy;
  info.rwndLimited = chrono.rwndLimited;
  info.sndbufLimited = chrono.sndbufLimited;
  return info;
}
