/**
 * What sock_diag (inet_diag) tells ss about one socket: struct inet_diag_msg and the
 * attributes ss asks for (INET_DIAG_SKMEMINFO, INET_DIAG_SKV6ONLY, INET_DIAG_SHUTDOWN,
 * INET_DIAG_CGROUP_ID). Each protocol fills these from its sockets (udp_diag_dump,
 * later tcp_diag); ss only formats them.
 */
import type { Kernel } from '../kernel/kernel.js';

/** sk_meminfo: the SK_MEMINFO_* vector `ss -m` prints as skmem:(…). */
export interface SkMeminfo {
  rmemAlloc: number;
  rcvbuf: number;
  wmemAlloc: number;
  sndbuf: number;
  fwdAlloc: number;
  wmemQueued: number;
  optmem: number;
  backlog: number;
  drops: number;
}

export interface InetDiagMsg {
  /** AF_INET (4) or AF_INET6 (6): the socket's family, not the address's. */
  family: 4 | 6;
  state: number;
  /** 16 bytes; an AF_INET socket's address is v4-mapped here and printed as IPv4. */
  localAddr: Uint8Array;
  localPort: number;
  remoteAddr: Uint8Array;
  remotePort: number;
  /** idiag_rqueue / idiag_wqueue. */
  rqueue: number;
  wqueue: number;
  uid: number;
  ino: number;
  /** sock_gen_cookie(). */
  cookie: number;
  /** Present for AF_INET6 sockets only. */
  v6only?: boolean;
  /** sk_shutdown: 1 RCV_SHUTDOWN, 2 SEND_SHUTDOWN. */
  shutdown: number;
  skmem: SkMeminfo;
  /** INET_DIAG_CGROUP_ID and INET_DIAG_SHUTDOWN are sent for full sockets only (not TIME_WAIT or request socks). */
  minisock?: boolean;
  /** idiag_timer (1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe), idiag_expires (ms), idiag_retrans. */
  timer?: { timer: number; expiresMs: number; retrans: number };
  /** INET_DIAG_CONG. */
  cong?: string;
  /** INET_DIAG_INFO: struct tcp_info, for full TCP sockets. */
  tcpInfo?: TcpInfo;
}

/** struct tcp_info (include/uapi/linux/tcp.h), the fields ss prints; times in µs unless named ms. */
export interface TcpInfo {
  state: number;
  /** TCPI_OPT_*: 1 TIMESTAMPS, 2 SACK, 4 WSCALE, 8 ECN, 16 ECN_SEEN, 32 SYN_DATA. */
  options: number;
  sndWscale: number;
  rcvWscale: number;
  rto: number;
  backoff: number;
  ato: number;
  sndMss: number;
  rcvMss: number;
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  lastDataSentMs: number;
  lastDataRecvMs: number;
  lastAckRecvMs: number;
  pmtu: number;
  rcvSsthresh: number;
  rtt: number;
  rttvar: number;
  sndSsthresh: number;
  sndCwnd: number;
  advmss: number;
  reordering: number;
  rcvRtt: number;
  rcvSpace: number;
  totalRetrans: number;
  /** Bytes per second; -1 for ~0 (unlimited). */
  pacingRate: number;
  maxPacingRate: number;
  bytesAcked: number;
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
  notsentBytes: number;
  minRtt: number;
  dataSegsIn: number;
  dataSegsOut: number;
  deliveryRate: number;
  deliveryRateAppLimited: boolean;
  busyTime: number;
  /** tcpi_rwnd_limited, tcpi_sndbuf_limited: µs of busy time the peer's window / the send buffer held data back. */
  rwndLimited: number;
  sndbufLimited: number;
  delivered: number;
  bytesSent: number;
  bytesRetrans: number;
  dsackDups: number;
  reordSeen: number;
  rcvOoopack: number;
  sndWnd: number;
}

const cookies = new WeakMap<object, number>();
const nextCookie = new WeakMap<Kernel, number>();

/**
 * sock_gen_cookie(): a socket's 64-bit cookie, taken from a host-wide counter the
 * first time anyone asks (usually ss), then fixed for the socket's life.
 */
export function sockGenCookie(kernel: Kernel, sk: object): number {
  let c = cookies.get(sk);
  if (c === undefined) {
    c = nextCookie.get(kernel) ?? 1;
    nextCookie.set(kernel, c + 1);
    cookies.set(sk, c);
  }
  return c;
}
