/**
 * The cold part of a TCP socket: state that a connection opened, used and closed never
 * touches — a listener's queues, keepalive, SO_LINGER, TCP_USER_TIMEOUT and other options
 * few programs set, rate-limit stamps of rare events.
 *
 * Every socket starts with the one shared TCP_COLD, frozen, holding the defaults; the first
 * write goes through tcpCold(sk), which gives the socket its own copy. Reads go straight to
 * `sk.cold.field`. So 100 k idle connections pay one pointer each for all of this, instead
 * of a field each (and, for a time in ns, a boxed double each).
 *
 * New TCP state that most connections never use (a feature's option, its stamps) belongs
 * here, not in TcpSock: add the field with its default below, read `sk.cold.x`, write
 * `tcpCold(sk).x = v`. A write to sk.cold without tcpCold() throws (the shared copy is
 * frozen), so the mistake cannot pass silently.
 */

import type { TcpSock } from './sock.js';

export class TcpCold {
  /** A listener: its backlog (sk_max_ack_backlog), queue of accepted children and request socks. */
  maxAckBacklog = 0;
  readonly acceptQueue: TcpSock[] = [];
  /** Request socks waiting for the handshake's ACK (reqsk_queue len). */
  synQueueLen = 0;
  /** The "Possible SYN flooding" message was logged for this listener. */
  synFloodWarned = false;
  /** SO_KEEPALIVE, and TCP_KEEPIDLE / KEEPINTVL / KEEPCNT (0 = the sysctl). */
  keepalive = false;
  keepaliveTime = 0;
  keepaliveIntvl = 0;
  keepaliveProbes = 0;
  /** When the keepalive timer fires (ns), for ss -o's timer:(keepalive,…). */
  keepaliveAt = 0;
  /** SO_LINGER: null = off, else seconds (0 → close sends RST). */
  linger: number | null = null;
  /** TCP_USER_TIMEOUT (icsk_user_timeout), ms; 0 = the retry counts decide. */
  userTimeout = 0;
  /** TCP_INQ (recvmsg_inq): each recvmsg() says in a TCP_CM_INQ cmsg how many bytes are left. */
  recvmsgInq = false;
  /** Whether the application fixed SO_SNDBUF / SO_RCVBUF (SOCK_*BUF_LOCK): no autotuning. */
  sndbufLocked = false;
  rcvbufLocked = false;
  /** A soft error from ICMP (sk_err_soft), reported if the connection times out. */
  softErr = 0;
  /** When the last rate-limited out-of-window ACK went (last_oow_ack_time). */
  lastOowAck = 0;
}

/** The defaults, shared by every socket that has written none of its cold state. */
export const TCP_COLD: Readonly<TcpCold> = Object.freeze(new TcpCold());
Object.freeze(TCP_COLD.acceptQueue);

/** The socket's own cold state, made on first write. */
export function tcpCold(sk: TcpSock): TcpCold {
  if (sk.cold === TCP_COLD) sk.cold = new TcpCold();
  return sk.cold as TcpCold;
}

/** What a passive child takes of its listener's cold state (sk_clone_lock copies the socket; not its queues). */
const INHERITED = [
  'sndbufLocked',
  'rcvbufLocked',
  'keepalive',
  'keepaliveTime',
  'keepaliveIntvl',
  'keepaliveProbes',
  'linger',
] as const;

/**
 * sk_clone_lock() for the cold part. Every listener has its own (its queue), but most set
 * none of the options a child inherits: the child then shares the defaults.
 */
export function tcpColdClone(child: TcpSock, listener: TcpSock): void {
  const l = listener.cold;
  if (INHERITED.every((k) => l[k] === TCP_COLD[k])) return;
  const c = tcpCold(child) as Record<(typeof INHERITED)[number], unknown>;
  for (const k of INHERITED) c[k] = l[k];
}
