/**
 * The numbers programs pass to socket system calls, as x86_64 Linux's uapi headers
 * define them (linux/socket.h, asm-generic/socket.h, linux/tcp.h, linux/in.h,
 * asm-generic/fcntl.h, asm-generic/poll.h, linux/eventpoll.h, linux/sockios.h).
 */

export const AF = { UNSPEC: 0, UNIX: 1, INET: 2, INET6: 10 } as const;

export const SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;

export const SOL = { IP: 0, SOCKET: 1, TCP: 6, UDP: 17, IPV6: 41 } as const;

export const SO = {
  DEBUG: 1,
  REUSEADDR: 2,
  TYPE: 3,
  ERROR: 4,
  DONTROUTE: 5,
  BROADCAST: 6,
  SNDBUF: 7,
  RCVBUF: 8,
  KEEPALIVE: 9,
  OOBINLINE: 10,
  NO_CHECK: 11,
  PRIORITY: 12,
  LINGER: 13,
  REUSEPORT: 15,
  RCVLOWAT: 18,
  SNDLOWAT: 19,
  RCVTIMEO: 20,
  SNDTIMEO: 21,
  TIMESTAMP: 29,
  ACCEPTCONN: 30,
  SNDBUFFORCE: 32,
  RCVBUFFORCE: 33,
  MARK: 36,
  TIMESTAMPNS: 35,
  TIMESTAMPING: 37,
  PROTOCOL: 38,
  DOMAIN: 39,
  ZEROCOPY: 60,
} as const;

export const TCP_OPT = {
  NODELAY: 1,
  MAXSEG: 2,
  CORK: 3,
  KEEPIDLE: 4,
  KEEPINTVL: 5,
  KEEPCNT: 6,
  SYNCNT: 7,
  LINGER2: 8,
  DEFER_ACCEPT: 9,
  WINDOW_CLAMP: 10,
  INFO: 11,
  QUICKACK: 12,
  CONGESTION: 13,
  MD5SIG: 14,
  THIN_LINEAR_TIMEOUTS: 16,
  USER_TIMEOUT: 18,
  REPAIR: 19,
  FASTOPEN: 23,
  TIMESTAMP: 24,
  NOTSENT_LOWAT: 25,
  FASTOPEN_CONNECT: 30,
  FASTOPEN_KEY: 33,
  MD5SIG_EXT: 32,
  FASTOPEN_NO_COOKIE: 34,
  INQ: 36,
  TX_DELAY: 37,
} as const;

export const IP_OPT = { TOS: 1, TTL: 2, MTU_DISCOVER: 10, RECVERR: 11, FREEBIND: 15 } as const;
export const IPV6_OPT = { UNICAST_HOPS: 16, V6ONLY: 26, RECVERR: 25, TCLASS: 67, FREEBIND: 78 } as const;

/** SPLICE_F_* (linux/splice.h). */
export const SPLICE_F = { MOVE: 1, NONBLOCK: 2, MORE: 4, GIFT: 8 } as const;

export const MSG = {
  OOB: 0x1,
  PEEK: 0x2,
  DONTROUTE: 0x4,
  CTRUNC: 0x8,
  TRUNC: 0x20,
  DONTWAIT: 0x40,
  EOR: 0x80,
  WAITALL: 0x100,
  NOSIGNAL: 0x4000,
  MORE: 0x8000,
  ERRQUEUE: 0x2000,
  ZEROCOPY: 0x4000000,
  FASTOPEN: 0x20000000,
} as const;

export const SHUT_HOW = { RD: 0, WR: 1, RDWR: 2 } as const;

export const F = { GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4 } as const;
export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, NONBLOCK: 0o4000 } as const;

/** SIOCINQ is FIONREAD and SIOCOUTQ is TIOCOUTQ on Linux; SIOCOUTQNSD is its own. */
export const SIOC = { INQ: 0x541b, OUTQ: 0x5411, OUTQNSD: 0x894b } as const;

export const POLL = {
  IN: 0x1,
  PRI: 0x2,
  OUT: 0x4,
  ERR: 0x8,
  HUP: 0x10,
  NVAL: 0x20,
  RDNORM: 0x40,
  RDBAND: 0x80,
  WRNORM: 0x100,
  WRBAND: 0x200,
  MSG: 0x400,
  RDHUP: 0x2000,
} as const;

export const EPOLL = {
  CTL_ADD: 1,
  CTL_DEL: 2,
  CTL_MOD: 3,
  EXCLUSIVE: 1 << 28,
  WAKEUP: 1 << 29,
  ONESHOT: 1 << 30,
  ET: 0x80000000,
} as const;

/** Every name above by its spelling in C, for interpreters of programs' source (packetdrill). */
export const SYMBOLS: ReadonlyMap<string, number> = new Map<string, number>([
  ...prefixed('AF_', AF),
  ...prefixed('PF_', AF),
  ...prefixed('SOCK_', SOCK),
  ...prefixed('SOL_', SOL),
  ['IPPROTO_IP', 0],
  ['IPPROTO_TCP', 6],
  ['IPPROTO_UDP', 17],
  ['IPPROTO_IPV6', 41],
  ['IPPROTO_ICMP', 1],
  ['IPPROTO_ICMPV6', 58],
  ...prefixed('SO_', SO),
  ...prefixed('TCP_', TCP_OPT),
  ...prefixed('IP_', IP_OPT),
  ...prefixed('IPV6_', IPV6_OPT),
  ...prefixed('MSG_', MSG),
  ...prefixed('SHUT_', SHUT_HOW),
  ...prefixed('F_', F),
  ...prefixed('O_', O),
  ...prefixed('SPLICE_F_', SPLICE_F),
  ['TCP_CM_INQ', TCP_OPT.INQ],
  ['SIOCINQ', SIOC.INQ],
  ['SIOCOUTQ', SIOC.OUTQ],
  ['SIOCOUTQNSD', SIOC.OUTQNSD],
  ['FIONREAD', SIOC.INQ],
  ...prefixed('POLL', POLL),
  ['EPOLL_CTL_ADD', EPOLL.CTL_ADD],
  ['EPOLL_CTL_DEL', EPOLL.CTL_DEL],
  ['EPOLL_CTL_MOD', EPOLL.CTL_MOD],
  ['EPOLLIN', POLL.IN],
  ['EPOLLPRI', POLL.PRI],
  ['EPOLLOUT', POLL.OUT],
  ['EPOLLERR', POLL.ERR],
  ['EPOLLHUP', POLL.HUP],
  ['EPOLLRDNORM', POLL.RDNORM],
  ['EPOLLWRNORM', POLL.WRNORM],
  ['EPOLLRDHUP', POLL.RDHUP],
  ['EPOLLEXCLUSIVE', EPOLL.EXCLUSIVE],
  ['EPOLLONESHOT', EPOLL.ONESHOT],
  ['EPOLLET', EPOLL.ET],
  ['IP_PMTUDISC_DONT', 0],
  ['IP_PMTUDISC_WANT', 1],
  ['IP_PMTUDISC_DO', 2],
  ['IP_PMTUDISC_PROBE', 3],
  // SOF_TIMESTAMPING_* (linux/net_tstamp.h)
  ['SOF_TIMESTAMPING_TX_HARDWARE', 1 << 0],
  ['SOF_TIMESTAMPING_TX_SOFTWARE', 1 << 1],
  ['SOF_TIMESTAMPING_RX_HARDWARE', 1 << 2],
  ['SOF_TIMESTAMPING_RX_SOFTWARE', 1 << 3],
  ['SOF_TIMESTAMPING_SOFTWARE', 1 << 4],
  ['SOF_TIMESTAMPING_OPT_ID', 1 << 7],
  ['SOF_TIMESTAMPING_TX_SCHED', 1 << 8],
  ['SOF_TIMESTAMPING_TX_ACK', 1 << 9],
  ['SOF_TIMESTAMPING_OPT_CMSG', 1 << 10],
  ['SOF_TIMESTAMPING_OPT_TSONLY', 1 << 11],
  ['SOF_TIMESTAMPING_OPT_STATS', 1 << 12],
  ['SCM_TSTAMP_SND', 0],
  ['SCM_TSTAMP_SCHED', 1],
  ['SCM_TSTAMP_ACK', 2],
  ['SCM_TIMESTAMPING', SO.TIMESTAMPING],
  ['SO_EE_ORIGIN_TIMESTAMPING', 4],
  ['SO_EE_ORIGIN_ZEROCOPY', 5],
  ['SO_EE_CODE_ZEROCOPY_COPIED', 1],
  ['TCP_CA_Open', 0],
  ['TCP_CA_Disorder', 1],
  ['TCP_CA_CWR', 2],
  ['TCP_CA_Recovery', 3],
  ['TCP_CA_Loss', 4],
]);

function prefixed(prefix: string, table: Record<string, number>): [string, number][] {
  return Object.entries(table).map(([k, v]) => [prefix + k, v]);
}
