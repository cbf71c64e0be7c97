/**
 * A process's view of the socket layer: its file-descriptor table (struct files_struct)
 * and the system calls of net/socket.c, fs/read_write.c, fs/fcntl.c, fs/select.c and
 * fs/eventpoll.c over lonet's sockets. Calls return what the kernel returns: a value
 * ≥ 0, or -errno. A call that would sleep on a blocking file returns a promise that
 * settles when the socket wakes it (or its timeout passes) — in virtual time when the
 * kernel runs on the virtual clock. packetdrill and tools share this layer.
 */

import { type SockExtendedErr, sockDequeueErrSkb, sockErrq } from '../core/errqueue.js';
import { SOF_TIMESTAMPING } from '../core/ethtool.js';
import type { TcpInfo } from '../core/sock-diag.js';
import { E } from '../include/errno.js';
import type { Timer } from '../kernel/clock.js';
import type { Net } from '../net/net.js';
import { tcpCold } from '../transport/tcp/cold.js';
import { tcpGetInfo } from '../transport/tcp/diag.js';
import { tcpSetZerocopy, tcpZerocopyBegin, tcpZerocopyEnd } from '../transport/tcp/errqueue.js';
import { TFO, tcpFastopenGetKey, tcpFastopenSetKey, tcpFastopenSetQlen, tfo } from '../transport/tcp/fastopen.js';
import { TCP_MD5SIG_FLAG, tcpMd5Available, tcpMd5SetKey } from '../transport/tcp/md5.js';
import { SHUT, TCP, TcpSock } from '../transport/tcp/sock.js';
import { isV4Mapped } from '../transport/udp.js';
import { Pipe, PipeFile } from './pipe.js';
import { AF, EPOLL, F, IP_OPT, IPV6_OPT, MSG, O, POLL, SIOC, SO, SOCK, SOL, SPLICE_F, TCP_OPT } from './uapi.js';

/** struct sockaddr_in / sockaddr_in6, with the address in lonet's 16-byte form (v4-mapped for IPv4). */
export interface SockAddr {
  family: number;
  addr: Uint8Array;
  port: number;
}

/** struct linger. */
export interface Linger {
  onoff: number;
  linger: number;
}

/** struct tcp_md5sig: the peer (tcpm_addr), TCP_MD5SIG_FLAG_* and prefix length (TCP_MD5SIG_EXT), the key. */
export interface TcpMd5Sig {
  addr: SockAddr;
  flags: number;
  prefixlen: number;
  ifindex: number;
  key: Uint8Array;
}

export type SockoptValue = number | Linger | string | Uint8Array | TcpMd5Sig;

/** struct pollfd. */
export interface PollFd {
  fd: number;
  events: number;
  revents?: number;
}

/** struct epoll_event. */
export interface EpollEvent {
  events: number;
  data: number;
}

/** struct sock_extended_err (linux/errqueue.h), as IP_RECVERR / IPV6_RECVERR deliver it. */
export type { SockExtendedErr };

/** struct scm_timestamping: software, (legacy), hardware times in clock ns; 0 = none. */
export interface ScmTimestamping {
  ts: [number, number, number];
}

/** A control message recvmsg(2) delivers (struct cmsghdr and its data). */
export interface Cmsg {
  level: number;
  type: number;
  /** An int (TCP_CM_INQ), or the struct the level and type name. */
  data: number | ScmTimestamping | SockExtendedErr;
}

/** What recvmsg(2) fills in: the bytes, msg_flags and the control messages. */
export interface MsgHdr {
  data: Uint8Array;
  flags: number;
  control: Cmsg[];
}

/** A socket file: the socket and the file's own flags (f_flags). */
export class SocketFile {
  nonblock = false;
  /** Bumped on every wakeup, so edge-triggered epoll can tell news from old state. */
  wakeups = 0;
  constructor(
    readonly sk: TcpSock,
    readonly type: number,
  ) {}
}

interface EpollItem {
  fd: number;
  file: SocketFile;
  events: number;
  data: number;
  /** Wakeups already reported (EPOLLET), and whether EPOLLONESHOT disarmed it. */
  seen: number;
  disarmed: boolean;
}

/** struct eventpoll. */
export class EpollFile {
  readonly items = new Map<number, EpollItem>();
}

type File = SocketFile | EpollFile | PipeFile;

/** What a call returns: a value, -errno, or a promise of one when it sleeps. */
export type SysResult<T = number> = T | Promise<T>;

/** ~0 in the kernel's unsigned fields (tcpi_min_rtt before a sample, pacing rates). */
const U32_MAX = 0xffffffff;

export class Process {
  readonly #files = new Map<number, File>();
  /** Sleepers: each retries its call when woken and says whether it is done. */
  readonly #sleepers = new Set<() => boolean>();
  readonly #kick = () => this.wake();

  constructor(readonly net: Net) {}

  /** The open file at `fd`, if any. */
  file(fd: number): File | undefined {
    return this.#files.get(fd);
  }

  /** The socket at `fd`, if it is one. */
  sock(fd: number): TcpSock | undefined {
    const f = this.#files.get(fd);
    return f instanceof SocketFile ? f.sk : undefined;
  }

  /** Whether a call is asleep. */
  get sleeping(): boolean {
    return this.#sleepers.size > 0;
  }

  /** Wakes every sleeper to retry (the sockets' wakeups call it). */
  wake(): void {
    for (const f of this.#files.values()) if (f instanceof SocketFile) f.wakeups++;
    for (const s of [...this.#sleepers]) if (s()) this.#sleepers.delete(s);
  }

  /** get_unused_fd_flags(): the lowest free descriptor above stdio. */
  #install(f: File): number {
    let fd = 3;
    while (this.#files.has(fd)) fd++;
    this.#files.set(fd, f);
    return fd;
  }

  #socketFile(fd: number): SocketFile | number {
    const f = this.#files.get(fd);
    if (f === undefined) return -E.EBADF;
    if (!(f instanceof SocketFile)) return -E.ENOTSOCK;
    return f;
  }

  #watch(sk: TcpSock): void {
    sk.onDataReady = sk.onWriteSpace = sk.onStateChange = sk.onError = this.#kick;
  }

  /**
   * Sleeps until `attempt` returns something other than -EAGAIN, or `timeoutNs` passes
   * (then `onTimeout` gives the result). A call that can finish now never sleeps.
   */
  #sleep<T>(attempt: () => T | typeof AGAIN, timeoutNs = -1, onTimeout?: () => T): SysResult<T> {
    const first = attempt();
    if (first !== AGAIN) return first;
    return new Promise<T>((resolve) => {
      let timer: Timer | null = null;
      const sleeper = (): boolean => {
        const r = attempt();
        if (r === AGAIN) return false;
        timer?.cancel();
        resolve(r);
        return true;
      };
      this.#sleepers.add(sleeper);
      if (timeoutNs >= 0 && onTimeout !== undefined) {
        timer = this.net.kernel.clock.setTimer(timeoutNs, () => {
          if (!this.#sleepers.delete(sleeper)) return;
          resolve(onTimeout());
        });
      }
    });
  }

  // ---- sockets ----

  /** socket(2): TCP over IPv4 or IPv6. */
  socket(domain: number, type: number, protocol: number): number {
    const base = type & ~(SOCK.NONBLOCK | SOCK.CLOEXEC);
    if (domain !== AF.INET && domain !== AF.INET6) return -E.EAFNOSUPPORT;
    if (base !== SOCK.STREAM) return -E.ESOCKTNOSUPPORT;
    if (protocol !== 0 && protocol !== 6) return -E.EPROTONOSUPPORT;
    const sk = new TcpSock(this.net, domain === AF.INET ? 4 : 6);
    this.#watch(sk);
    const f = new SocketFile(sk, base);
    f.nonblock = (type & SOCK.NONBLOCK) !== 0;
    return this.#install(f);
  }

  #checkAddr(f: SocketFile, sa: SockAddr): number {
    if (f.sk.family === 4 && sa.family !== AF.INET) return -E.EAFNOSUPPORT;
    if (f.sk.family === 6 && sa.family !== AF.INET6) return -E.EINVAL;
    if (sa.family === AF.INET && !isV4Mapped(sa.addr)) return -E.EINVAL;
    return 0;
  }

  bind(fd: number, sa: SockAddr): number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const err = this.#checkAddr(f, sa);
    if (err !== 0) return err;
    return f.sk.bind(sa.addr, sa.port);
  }

  listen(fd: number, backlog: number): number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    return f.sk.listen(backlog);
  }

  /** accept4(2); `peer` gets the peer's address. */
  accept(fd: number, flags = 0, peer?: SockAddr): SysResult {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    return this.#sleep(() => {
      const r = f.sk.accept();
      if (r === -E.EAGAIN && !f.nonblock) return AGAIN;
      if (typeof r === 'number') return r;
      this.#watch(r);
      const child = new SocketFile(r, SOCK.STREAM);
      child.nonblock = (flags & SOCK.NONBLOCK) !== 0;
      if (peer !== undefined && r.peername !== null) {
        peer.family = r.family === 4 ? AF.INET : AF.INET6;
        peer.addr = r.peername.addr.slice();
        peer.port = r.peername.port;
      }
      return this.#install(child);
    });
  }

  /** connect(2): a blocking socket sleeps until the handshake ends. */
  connect(fd: number, sa: SockAddr): SysResult {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const err = this.#checkAddr(f, sa);
    if (err !== 0) return err;
    const sk = f.sk;
    const r = sk.connect(sa.addr, sa.port);
    if (r !== -E.EINPROGRESS || f.nonblock) return r;
    return this.#sleep(() => {
      if (sk.state === TCP.SYN_SENT || sk.state === TCP.SYN_RECV) return AGAIN;
      if (sk.state === TCP.ESTABLISHED || sk.state === TCP.CLOSE_WAIT) return 0;
      const e = sk.takeError();
      return e !== 0 ? e : -E.ECONNREFUSED;
    });
  }

  // ---- data ----

  /**
   * send(2)/sendto(2)/write(2): a blocking socket sleeps until everything is queued.
   * `data` null is a buffer whose address faults (packetdrill's NULL): the call fails
   * with EFAULT where tcp_sendmsg would first copy from it. MSG_FASTOPEN, or the first
   * write after a deferred TCP_FASTOPEN_CONNECT, connects to `sa` with the data in the SYN.
   */
  send(fd: number, data: Uint8Array | null, flags = 0, sa?: SockAddr): SysResult {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    if (flags & MSG.OOB) return -E.EOPNOTSUPP;
    const nonblock = f.nonblock || (flags & MSG.DONTWAIT) !== 0;
    const more = (flags & MSG.MORE) !== 0;
    const eor = (flags & MSG.EOR) !== 0;
    const sk = f.sk;
    let sent = 0;
    if (flags & MSG.FASTOPEN || sk.deferConnect) {
      if (sa !== undefined && flags & MSG.FASTOPEN) {
        const err = this.#checkAddr(f, sa);
        if (err !== 0) return err;
      }
      const r = sk.sendmsgFastopen(flags & MSG.FASTOPEN ? (sa?.addr ?? null) : null, sa?.port ?? 0, data);
      if (r < 0 && r !== -E.EINPROGRESS) return r;
      if (nonblock || data === null) return r;
      // A blocking caller waits for the handshake (inet_wait_for_connect), then writes the rest.
      sent = Math.max(r, 0);
      if (sent === data.byteLength) return sent;
    }
    if (data === null) return this.#sleep(() => sendFault(sk, nonblock));
    const uarg = flags & MSG.ZEROCOPY && data.byteLength > 0 ? tcpZerocopyBegin(sk) : null;
    const done = (r: number): number => {
      if (uarg !== null) tcpZerocopyEnd(sk, uarg, sent);
      return r;
    };
    return this.#sleep(() => {
      if (sk.state === TCP.SYN_SENT && sent > 0) return AGAIN;
      for (;;) {
        // Each piece but the last is followed by more, whatever the caller said.
        const r = sk.sendmsg(data.subarray(sent), more, eor);
        if (r >= 0) {
          sent += r;
          if (sent === data.byteLength) return done(sent);
          if (nonblock) return done(sent);
          continue;
        }
        if (r === -E.EAGAIN && !nonblock) {
          // SYN_SENT: sk_stream_wait_connect; a full buffer: sk_stream_wait_memory.
          return AGAIN;
        }
        return done(sent > 0 ? sent : r);
      }
    });
  }

  /** Whether `fd`'s next write opens its connection (a deferred TCP_FASTOPEN_CONNECT). */
  deferred(fd: number): boolean {
    const f = this.#socketFile(fd);
    return typeof f !== 'number' && f.sk.deferConnect;
  }

  /**
   * recv(2)/recvfrom(2)/read(2): returns the bytes read, or -errno. `fault` is a buffer
   * whose address faults: with data to copy the call fails with EFAULT and leaves it queued.
   */
  recv(fd: number, max: number, flags = 0, fault = false): SysResult<Uint8Array | number> {
    const pf = this.#files.get(fd);
    if (pf instanceof PipeFile) return this.#pipeRead(pf, max);
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    if (flags & MSG.OOB) return -E.EINVAL;
    const sk = f.sk;
    // tcp_recvmsg() hands MSG_ERRQUEUE to inet_recv_error().
    if (flags & MSG.ERRQUEUE) {
      const e = ipRecvError(sk, max);
      return typeof e === 'number' ? e : e.data;
    }
    const nonblock = f.nonblock || (flags & MSG.DONTWAIT) !== 0;
    const peek = (flags & MSG.PEEK) !== 0 || fault;
    return this.#sleep<Uint8Array | number>(() => {
      if (max === 0) return new Uint8Array(0);
      if (peek) {
        if (sk.readable === 0) return sk.recvWouldBlock && !nonblock ? AGAIN : sk.recvWouldBlock ? -E.EAGAIN : 0;
        return fault ? -E.EFAULT : peekBytes(sk, max);
      }
      const r = sk.recvmsg(max);
      if (r === -E.EAGAIN && !nonblock) return AGAIN;
      return r;
    });
  }

  /**
   * recvmsg(2): recv() plus what TCP puts in msg_control — TCP_CM_INQ when TCP_INQ is on
   * (tcp_inq_hint: bytes left to read, 1 after a FIN so the reader keeps going). With
   * MSG_ERRQUEUE it reads the error queue instead.
   */
  recvmsg(fd: number, max: number, flags = 0): SysResult<MsgHdr | number> {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const sk = f.sk;
    if (flags & MSG.ERRQUEUE) return ipRecvError(sk, max);
    const then = (r: Uint8Array | number): MsgHdr | number => {
      if (typeof r === 'number') return r;
      const control: Cmsg[] = [];
      if (sk.cold.recvmsgInq) {
        let inq = (sk.rcvNxt - sk.copiedSeq) | 0;
        if (inq === 0 && sk.shutdown & SHUT.RCV) inq = 1;
        control.push({ level: SOL.TCP, type: TCP_OPT.INQ, data: inq });
      }
      return { data: r, flags: 0, control };
    };
    const r = this.recv(fd, max, flags);
    return r instanceof Promise ? r.then(then) : then(r);
  }

  /** pipe(2): the read end's descriptor, then the write end's. */
  pipe(): [number, number] {
    const p = new Pipe();
    return [this.#install(new PipeFile(p, false)), this.#install(new PipeFile(p, true))];
  }

  /** pipe_read(): what the pipe holds, 0 once no writer is left, else -EAGAIN or a sleep. */
  #pipeRead(f: PipeFile, max: number): SysResult<Uint8Array | number> {
    if (f.write) return -E.EBADF;
    const p = f.pipe;
    return this.#sleep<Uint8Array | number>(() => {
      if (max === 0) return new Uint8Array(0);
      if (p.bytes > 0) {
        const out = p.take(max);
        // A splice waiting for room may go on.
        queueMicrotask(this.#kick);
        return out;
      }
      if (p.writers === 0) return 0;
      return f.nonblock ? -E.EAGAIN : AGAIN;
    });
  }

  /**
   * splice(2) from a TCP socket into a pipe (splice_file_to_pipe -> tcp_splice_read), the
   * one direction lonet has. Offsets must be NULL: neither end is seekable (-ESPIPE).
   */
  splice(fdIn: number, offIn: boolean, fdOut: number, offOut: boolean, len: number, flags: number): SysResult<number> {
    const fin = this.#files.get(fdIn);
    const fout = this.#files.get(fdOut);
    if (fin === undefined || fout === undefined) return -E.EBADF;
    // do_splice(): the in end must be readable and the out end writable.
    if ((fin instanceof PipeFile && fin.write) || (fout instanceof PipeFile && !fout.write)) return -E.EBADF;
    // Pipe to pipe and socket to socket are splices lonet does not do.
    if (!(fout instanceof PipeFile) || !(fin instanceof SocketFile)) return -E.EINVAL;
    if (offIn || offOut) return -E.ESPIPE;
    if (len === 0) return 0;
    const p = fout.pipe;
    if (p.readers === 0) return -E.EPIPE;
    const sk = fin.sk;
    // tcp_splice_read()'s timeo comes from the socket file's O_NONBLOCK alone;
    // SPLICE_F_NONBLOCK (which do_splice() adds for O_NONBLOCK) is for a full pipe.
    const nonblock = fin.nonblock;
    const pipeNonblock = nonblock || (flags & SPLICE_F.NONBLOCK) !== 0;
    return this.#sleep<number>(() => {
      // wait_for_space(): a full pipe waits for a reader.
      if (p.room === 0) return pipeNonblock ? -E.EAGAIN : AGAIN;
      const r = sk.spliceRead(Math.min(len, p.room), nonblock);
      if (r === -E.EAGAIN && !nonblock) return AGAIN;
      if (typeof r === 'number') return r;
      p.push(r);
      return r.byteLength;
    });
  }

  /** shutdown(2): SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2. */
  shutdown(fd: number, how: number): number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    if (how < 0 || how > 2) return -E.EINVAL;
    const sk = f.sk;
    if (sk.state === TCP.CLOSE || sk.state === TCP.LISTEN || sk.state === TCP.SYN_SENT) {
      if (sk.state !== TCP.LISTEN) return -E.ENOTCONN;
    }
    return sk.shutdownCall(how + 1);
  }

  close(fd: number): number {
    const f = this.#files.get(fd);
    if (f === undefined) return -E.EBADF;
    this.#files.delete(fd);
    if (f instanceof PipeFile) {
      if (f.write) f.pipe.writers--;
      else f.pipe.readers--;
      this.wake();
    }
    if (f instanceof SocketFile) {
      f.sk.close();
      for (const other of this.#files.values()) if (other instanceof EpollFile) other.items.delete(fd);
    }
    return 0;
  }

  // ---- options and control ----

  setsockopt(fd: number, level: number, name: number, value: SockoptValue): number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const sk = f.sk;
    const n = typeof value === 'number' ? value : 0;
    if (level === SOL.SOCKET) {
      switch (name) {
        case SO.REUSEADDR:
          sk.reuseAddr = n !== 0;
          return 0;
        case SO.REUSEPORT:
          sk.reusePort = n !== 0;
          return 0;
        case SO.SNDBUF:
          sk.setSndbuf(n);
          return 0;
        case SO.RCVBUF:
          sk.setRcvbuf(n);
          return 0;
        case SO.KEEPALIVE:
          sk.setKeepAlive(n !== 0);
          return 0;
        case SO.OOBINLINE:
          sk.urgInline = n !== 0;
          return 0;
        case SO.LINGER:
          if (typeof value !== 'object' || value instanceof Uint8Array || !('onoff' in value)) return -E.EINVAL;
          tcpCold(sk).linger = value.onoff !== 0 ? Math.max(0, value.linger) : null;
          return 0;
        case SO.ZEROCOPY:
          if (n < 0 || n > 1) return -E.EINVAL;
          tcpSetZerocopy(sk, n === 1);
          return 0;
        case SO.TIMESTAMPING:
          return sockSetTimestamping(sk, n);
      }
      return -E.ENOPROTOOPT;
    }
    if (level === SOL.IP) {
      switch (name) {
        case IP_OPT.TOS:
          // do_ip_setsockopt(): a stream socket keeps its ECN bits to itself.
          sk.tos = (n & 0xfc) | (sk.tos & 3);
          return 0;
        case IP_OPT.MTU_DISCOVER:
          if (n < 0 || n > 5) return -E.EINVAL;
          sk.pmtudisc = n;
          return 0;
        case IP_OPT.FREEBIND:
          sk.freebind = n !== 0;
          return 0;
      }
      return -E.ENOPROTOOPT;
    }
    // do_ipv6_setsockopt(): IPV6_FREEBIND sets the same inet flag as IP_FREEBIND.
    if (level === SOL.IPV6 && name === IPV6_OPT.FREEBIND && sk.family === 6) {
      sk.freebind = n !== 0;
      return 0;
    }
    if (level === SOL.TCP) {
      switch (name) {
        case TCP_OPT.NODELAY:
          sk.setNoDelay(n !== 0);
          return 0;
        case TCP_OPT.CORK:
          sk.setCork(n !== 0);
          return 0;
        case TCP_OPT.QUICKACK:
          sk.setQuickAck(n !== 0);
          return 0;
        case TCP_OPT.USER_TIMEOUT:
          if (n < 0) return -E.EINVAL;
          tcpCold(sk).userTimeout = n;
          return 0;
        case TCP_OPT.INQ:
          if (n < 0 || n > 1) return -E.EINVAL;
          tcpCold(sk).recvmsgInq = n === 1;
          return 0;
        case TCP_OPT.FASTOPEN:
          return tcpFastopenSetQlen(sk, n, sk.state === TCP.CLOSE || sk.state === TCP.LISTEN);
        case TCP_OPT.FASTOPEN_KEY:
          if (typeof value === 'string')
            return tcpFastopenSetKey(
              sk,
              Uint8Array.from(value, (c) => c.charCodeAt(0)),
            );
          return value instanceof Uint8Array ? tcpFastopenSetKey(sk, value) : -E.EINVAL;
        case TCP_OPT.FASTOPEN_NO_COOKIE:
          if (n < 0 || n > 1 || (sk.state !== TCP.CLOSE && sk.state !== TCP.LISTEN)) return -E.EINVAL;
          tfo(sk).noCookie = n === 1;
          return 0;
        case TCP_OPT.FASTOPEN_CONNECT:
          if (n < 0 || n > 1) return -E.EINVAL;
          if (!(sk.tn.sysctl.tcp_fastopen & TFO.CLIENT_ENABLE)) return -E.EOPNOTSUPP;
          if (sk.state !== TCP.CLOSE) return -E.EINVAL;
          tfo(sk).connect = n === 1;
          return 0;
        case TCP_OPT.MD5SIG:
        case TCP_OPT.MD5SIG_EXT:
          return tcpParseMd5Keys(sk, name === TCP_OPT.MD5SIG_EXT, value);
        case TCP_OPT.KEEPIDLE:
        case TCP_OPT.KEEPINTVL:
        case TCP_OPT.KEEPCNT:
          if (n < 1 || n > (name === TCP_OPT.KEEPCNT ? 127 : 32767)) return -E.EINVAL;
          if (name === TCP_OPT.KEEPIDLE) tcpCold(sk).keepaliveTime = n;
          else if (name === TCP_OPT.KEEPINTVL) tcpCold(sk).keepaliveIntvl = n;
          else tcpCold(sk).keepaliveProbes = n;
          return 0;
      }
      return -E.ENOPROTOOPT;
    }
    return -E.ENOPROTOOPT;
  }

  getsockopt(fd: number, level: number, name: number): SockoptValue | TcpInfoRecord | number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const sk = f.sk;
    if (level === SOL.SOCKET) {
      switch (name) {
        case SO.ERROR:
          return -sk.takeError();
        case SO.TYPE:
          return f.type;
        case SO.REUSEADDR:
          return sk.reuseAddr ? 1 : 0;
        case SO.OOBINLINE:
          return sk.urgInline ? 1 : 0;
        case SO.SNDBUF:
          return sk.sndbuf;
        case SO.RCVBUF:
          return sk.rcvbuf;
        case SO.ACCEPTCONN:
          return sk.state === TCP.LISTEN ? 1 : 0;
        case SO.DOMAIN:
          return sk.family === 4 ? AF.INET : AF.INET6;
        case SO.PROTOCOL:
          return 6;
        case SO.ZEROCOPY:
          return sk.errq?.zerocopy ? 1 : 0;
        case SO.TIMESTAMPING:
          return sk.errq?.tsflags ?? 0;
      }
      return -E.ENOPROTOOPT;
    }
    if (level === SOL.TCP) {
      switch (name) {
        case TCP_OPT.NODELAY:
          return sk.nodelay ? 1 : 0;
        case TCP_OPT.CORK:
          return sk.cork ? 1 : 0;
        case TCP_OPT.MAXSEG:
          return sk.state === TCP.CLOSE || sk.state === TCP.LISTEN ? 536 : sk.mssCache;
        case TCP_OPT.INFO:
          return tcpInfoRecord(sk);
        case TCP_OPT.INQ:
          return sk.cold.recvmsgInq ? 1 : 0;
        case TCP_OPT.FASTOPEN:
          return sk.fastopen?.maxQlen ?? 0;
        case TCP_OPT.FASTOPEN_KEY:
          return tcpFastopenGetKey(sk);
        case TCP_OPT.FASTOPEN_NO_COOKIE:
          return sk.fastopen?.noCookie === true ? 1 : 0;
        case TCP_OPT.FASTOPEN_CONNECT:
          return sk.fastopen?.connect === true ? 1 : 0;
        case TCP_OPT.USER_TIMEOUT:
          return sk.cold.userTimeout;
        case TCP_OPT.CONGESTION:
          return sk.ca.name;
      }
      return -E.ENOPROTOOPT;
    }
    if (level === SOL.IP && name === IP_OPT.TOS) return sk.tos;
    if (level === SOL.IP && name === IP_OPT.MTU_DISCOVER) return sk.pmtudisc;
    if (level === SOL.IP && name === IP_OPT.FREEBIND) return sk.freebind ? 1 : 0;
    if (level === SOL.IPV6 && name === IPV6_OPT.FREEBIND && sk.family === 6) return sk.freebind ? 1 : 0;
    if (level === SOL.IPV6 && name === IPV6_OPT.V6ONLY) return sk.v6only ? 1 : 0;
    return -E.ENOPROTOOPT;
  }

  /** fcntl(2): F_GETFL / F_SETFL (O_NONBLOCK), F_GETFD / F_SETFD. */
  fcntl(fd: number, cmd: number, arg = 0): number {
    const f = this.#files.get(fd);
    if (f === undefined) return -E.EBADF;
    if (!(f instanceof SocketFile)) return cmd === F.GETFL ? O.RDWR : 0;
    switch (cmd) {
      case F.GETFL:
        return O.RDWR | (f.nonblock ? O.NONBLOCK : 0);
      case F.SETFL:
        f.nonblock = (arg & O.NONBLOCK) !== 0;
        return 0;
      case F.GETFD:
      case F.SETFD:
        return 0;
    }
    return -E.EINVAL;
  }

  /** ioctl(2): SIOCINQ, SIOCOUTQ, SIOCOUTQNSD. */
  ioctl(fd: number, request: number): number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const sk = f.sk;
    switch (request) {
      case SIOC.INQ:
        return sk.state === TCP.LISTEN ? -E.EINVAL : sk.readable;
      case SIOC.OUTQ:
        return sk.state === TCP.LISTEN ? -E.EINVAL : sk.sendQueueBytes;
      case SIOC.OUTQNSD:
        return sk.state === TCP.LISTEN ? -E.EINVAL : Math.max(0, (sk.writeSeq - sk.sndNxt) | 0);
    }
    return -E.ENOTTY;
  }

  // ---- readiness ----

  /** tcp_poll(): the events a socket file has now. */
  pollMask(fd: number): number {
    const f = this.#files.get(fd);
    if (f === undefined) return POLL.NVAL;
    if (!(f instanceof SocketFile)) return 0;
    return tcpPoll(f.sk);
  }

  /** poll(2); a negative timeout sleeps until an event. */
  poll(fds: PollFd[], timeoutMs: number): SysResult {
    const check = (): number => {
      let n = 0;
      for (const p of fds) {
        const m = this.pollMask(p.fd) & (p.events | POLL.ERR | POLL.HUP | POLL.NVAL);
        p.revents = m;
        if (m !== 0) n++;
      }
      return n;
    };
    return this.#sleep(
      () => {
        const n = check();
        return n > 0 || timeoutMs === 0 ? n : AGAIN;
      },
      timeoutMs < 0 ? -1 : timeoutMs * 1e6,
      () => check(),
    );
  }

  epollCreate(size: number): number {
    if (size <= 0) return -E.EINVAL;
    return this.#install(new EpollFile());
  }

  epollCtl(epfd: number, op: number, fd: number, ev: EpollEvent | null): number {
    const ep = this.#files.get(epfd);
    if (!(ep instanceof EpollFile)) return ep === undefined ? -E.EBADF : -E.EINVAL;
    const f = this.#files.get(fd);
    if (f === undefined) return -E.EBADF;
    if (!(f instanceof SocketFile)) return -E.EPERM;
    const have = ep.items.get(fd);
    if (op === EPOLL.CTL_ADD) {
      if (have !== undefined) return -E.EEXIST;
      if (ev === null) return -E.EFAULT;
      ep.items.set(fd, { fd, file: f, events: ev.events, data: ev.data, seen: -1, disarmed: false });
      return 0;
    }
    if (have === undefined) return -E.ENOENT;
    if (op === EPOLL.CTL_DEL) {
      ep.items.delete(fd);
      return 0;
    }
    if (op === EPOLL.CTL_MOD) {
      if (ev === null) return -E.EFAULT;
      have.events = ev.events;
      have.data = ev.data;
      have.seen = -1;
      have.disarmed = false;
      return 0;
    }
    return -E.EINVAL;
  }

  /** epoll_wait(2): level-triggered unless EPOLLET; EPOLLONESHOT disarms after one report. */
  epollWait(epfd: number, events: EpollEvent[], maxevents: number, timeoutMs: number): SysResult {
    const ep = this.#files.get(epfd);
    if (!(ep instanceof EpollFile)) return ep === undefined ? -E.EBADF : -E.EINVAL;
    if (maxevents <= 0) return -E.EINVAL;
    const collect = (): number => {
      events.length = 0;
      for (const item of ep.items.values()) {
        if (events.length >= maxevents) break;
        if (item.disarmed) continue;
        const m = tcpPoll(item.file.sk) & (item.events | POLL.ERR | POLL.HUP);
        if (m === 0) continue;
        if (item.events & EPOLL.ET) {
          if (item.seen === item.file.wakeups) continue;
          item.seen = item.file.wakeups;
        }
        if (item.events & EPOLL.ONESHOT) item.disarmed = true;
        events.push({ events: m, data: item.data });
      }
      return events.length;
    };
    return this.#sleep(
      () => {
        const n = collect();
        return n > 0 || timeoutMs === 0 ? n : AGAIN;
      },
      timeoutMs < 0 ? -1 : timeoutMs * 1e6,
      () => collect(),
    );
  }

  /** getsockname(2) / getpeername(2). */
  getsockname(fd: number): SockAddr | number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const { addr, port } = f.sk.sockname;
    return { family: f.sk.family === 4 ? AF.INET : AF.INET6, addr: addr.slice(), port };
  }

  getpeername(fd: number): SockAddr | number {
    const f = this.#socketFile(fd);
    if (typeof f === 'number') return f;
    const p = f.sk.peername;
    if (p === null) return -E.ENOTCONN;
    return { family: f.sk.family === 4 ? AF.INET : AF.INET6, addr: p.addr.slice(), port: p.port };
  }

  /** Closes every descriptor, as exit(2) does. */
  exit(): void {
    for (const fd of [...this.#files.keys()]) this.close(fd);
    this.#sleepers.clear();
  }
}

/** The "would block" a sleeper's attempt returns (never seen by callers). */
const AGAIN: unique symbol = Symbol('EAGAIN');

/** tcp_poll(). */
export function tcpPoll(sk: TcpSock): number {
  const state = sk.state;
  if (state === TCP.LISTEN) return sk.cold.acceptQueue.length > 0 ? POLL.IN | POLL.RDNORM : 0;
  let mask = 0;
  const shutdown = sk.shutdown;
  if (shutdown === (SHUT.RCV | SHUT.SEND) || state === TCP.CLOSE) mask |= POLL.HUP;
  if (shutdown & SHUT.RCV) mask |= POLL.IN | POLL.RDNORM | POLL.RDHUP;
  if (state !== TCP.SYN_SENT && state !== TCP.SYN_RECV) {
    if (sk.readable > 0) mask |= POLL.IN | POLL.RDNORM;
    if (!(shutdown & SHUT.SEND)) {
      if (sk.writable && state !== TCP.CLOSE) mask |= POLL.OUT | POLL.WRNORM;
    } else mask |= POLL.OUT | POLL.WRNORM;
  }
  if (sk.err !== 0 || (sk.errq !== null && sk.errq.queue.length > 0)) mask |= POLL.ERR;
  return mask;
}

/**
 * sock_set_timestamping(). SOF_TIMESTAMPING_OPT_ID numbers a TCP socket's bytes from
 * snd_una (write_seq with OPT_ID_TCP), so it needs a connection. lonet has no PTP
 * hardware clock to bind to.
 */
function sockSetTimestamping(sk: TcpSock, val: number): number {
  const T = SOF_TIMESTAMPING;
  if (val < 0 || val >= T.TX_COMPLETION * 2) return -E.EINVAL;
  if (val & T.OPT_ID_TCP && !(val & T.OPT_ID)) return -E.EINVAL;
  const q = sockErrq(sk);
  if (val & T.OPT_ID && !(q.tsflags & T.OPT_ID)) {
    if (sk.state === TCP.CLOSE || sk.state === TCP.LISTEN) return -E.EINVAL;
    q.tskey = val & T.OPT_ID_TCP ? sk.writeSeq : sk.sndUna;
  }
  if (val & T.OPT_STATS && !(val & T.OPT_TSONLY)) return -E.EINVAL;
  if (val & T.BIND_PHC) return -E.EOPNOTSUPP;
  q.tsflags = val;
  return 0;
}

/**
 * tcp_v4_parse_md5_keys() / tcp_v6_parse_md5_keys(). Without an MD5 on this platform (a
 * browser) the option does not exist, as on a kernel built without CONFIG_TCP_MD5SIG.
 * lonet has no VRF devices, so a key bound to an L3 master is refused as Linux refuses
 * one bound to any other device.
 */
function tcpParseMd5Keys(sk: TcpSock, ext: boolean, value: SockoptValue): number {
  if (!tcpMd5Available()) return -E.ENOPROTOOPT;
  if (typeof value !== 'object' || value instanceof Uint8Array || !('key' in value)) return -E.EINVAL;
  const v4sock = sk.family === 4;
  if (value.addr.family !== (v4sock ? AF.INET : AF.INET6)) return -E.EINVAL;
  const v4 = v4sock || isV4Mapped(value.addr.addr);
  let prefixlen = v4 ? 32 : 128;
  if (ext && value.flags & TCP_MD5SIG_FLAG.PREFIX) {
    prefixlen = value.prefixlen;
    if (prefixlen > (v4 ? 32 : 128)) return -E.EINVAL;
  }
  if (ext && value.ifindex !== 0 && value.flags & TCP_MD5SIG_FLAG.IFINDEX) return -E.EINVAL;
  const keys = sk.md5Keys ?? [];
  const r = tcpMd5SetKey(keys, {
    family: v4 ? 4 : 6,
    addr: value.addr.addr.slice(),
    prefixlen,
    l3index: 0,
    flags: value.flags & TCP_MD5SIG_FLAG.IFINDEX,
    key: value.key.slice(),
  });
  if (r === 0) sk.md5Keys = keys.length > 0 ? keys : null;
  return r;
}

/** tcp_sendmsg() reaching copy_from_user with a faulting buffer, after its own checks. */
function sendFault(sk: TcpSock, nonblock: boolean): number | typeof AGAIN {
  const r = sk.sendmsg(new Uint8Array(0));
  if (r < 0) return r === -E.EAGAIN && !nonblock ? AGAIN : r;
  if (!sk.writable) return nonblock ? -E.EAGAIN : AGAIN;
  return -E.EFAULT;
}

/**
 * ip_recv_error() / ipv6_recv_error(): the oldest report on the error queue as a
 * message — its bytes (cut to `max`, MSG_TRUNC), its software stamp if the socket asks
 * for them (SOF_TIMESTAMPING_SOFTWARE), then IP_RECVERR / IPV6_RECVERR. Never sleeps.
 */
function ipRecvError(sk: TcpSock, max: number): MsgHdr | number {
  const skb = sockDequeueErrSkb(sk);
  if (skb === null) return -E.EAGAIN;
  let flags = MSG.ERRQUEUE;
  let copied = skb.len;
  if (copied > max) {
    flags |= MSG.TRUNC;
    copied = max;
  }
  const control: Cmsg[] = [];
  const tsflags = sk.errq?.tsflags ?? 0;
  if (skb.tstamp !== 0 && tsflags & SOF_TIMESTAMPING.SOFTWARE)
    control.push({ level: SOL.SOCKET, type: SO.TIMESTAMPING, data: { ts: [skb.tstamp, 0, 0] } });
  const v6 = sk.family === 6;
  control.push({
    level: v6 ? SOL.IPV6 : SOL.IP,
    type: v6 ? IPV6_OPT.RECVERR : IP_OPT.RECVERR,
    data: { ...skb.ee },
  });
  return { data: new Uint8Array(copied), flags, control };
}

/** MSG_PEEK: copies up to `max` queued bytes without taking them. */
function peekBytes(sk: TcpSock, max: number): Uint8Array {
  const n = Math.min(max, sk.readable);
  const out = new Uint8Array(n);
  let at = 0;
  for (const chunk of sk.rcvQueue) {
    if (at >= n) break;
    const take = Math.min(chunk.byteLength, n - at);
    out.set(chunk.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** struct tcp_info by its C field names, as TCP_INFO gives it (times in µs unless named). */
export type TcpInfoRecord = Record<string, number>;

/** getsockopt(TCP_INFO): tcp_get_info() under the names of include/uapi/linux/tcp.h. */
export function tcpInfoRecord(sk: TcpSock): TcpInfoRecord {
  const i: TcpInfo = tcpGetInfo(sk, sk.clock);
  return {
    tcpi_state: i.state,
    tcpi_ca_state: sk.caState,
    tcpi_retransmits: sk.retransmits,
    tcpi_probes: sk.probesOut,
    tcpi_backoff: i.backoff,
    tcpi_options: i.options,
    tcpi_snd_wscale: i.sndWscale,
    tcpi_rcv_wscale: i.rcvWscale,
    tcpi_delivery_rate_app_limited: i.deliveryRateAppLimited ? 1 : 0,
    tcpi_rto: i.rto,
    tcpi_ato: i.ato,
    tcpi_snd_mss: i.sndMss,
    tcpi_rcv_mss: i.rcvMss,
    tcpi_unacked: i.unacked,
    tcpi_sacked: i.sacked,
    tcpi_lost: i.lost,
    tcpi_retrans: i.retrans,
    tcpi_fackets: 0,
    tcpi_last_data_sent: i.lastDataSentMs,
    tcpi_last_ack_sent: 0,
    tcpi_last_data_recv: i.lastDataRecvMs,
    tcpi_last_ack_recv: i.lastAckRecvMs,
    tcpi_pmtu: i.pmtu,
    tcpi_rcv_ssthresh: i.rcvSsthresh,
    tcpi_rtt: i.rtt,
    tcpi_rttvar: i.rttvar,
    tcpi_snd_ssthresh: i.sndSsthresh,
    tcpi_snd_cwnd: i.sndCwnd,
    tcpi_advmss: i.advmss,
    tcpi_reordering: i.reordering,
    tcpi_rcv_rtt: i.rcvRtt,
    tcpi_rcv_space: i.rcvSpace,
    tcpi_total_retrans: i.totalRetrans,
    tcpi_pacing_rate: i.pacingRate < 0 ? 2 ** 64 - 1 : i.pacingRate,
    tcpi_max_pacing_rate: i.maxPacingRate < 0 ? 2 ** 64 - 1 : i.maxPacingRate,
    tcpi_bytes_acked: i.bytesAcked,
    tcpi_bytes_received: i.bytesReceived,
    tcpi_segs_out: i.segsOut,
    tcpi_segs_in: i.segsIn,
    tcpi_notsent_bytes: i.notsentBytes,
    tcpi_min_rtt: i.minRtt === U32_MAX ? U32_MAX : i.minRtt,
    tcpi_data_segs_in: i.dataSegsIn,
    tcpi_data_segs_out: i.dataSegsOut,
    tcpi_delivery_rate: i.deliveryRate,
    tcpi_busy_time: i.busyTime,
    tcpi_rwnd_limited: i.rwndLimited,
    tcpi_sndbuf_limited: i.sndbufLimited,
    tcpi_delivered: i.delivered,
    tcpi_bytes_sent: i.bytesSent,
    tcpi_bytes_retrans: i.bytesRetrans,
    tcpi_dsack_dups: i.dsackDups,
    tcpi_reord_seen: i.reordSeen,
    tcpi_rcv_ooopack: i.rcvOoopack,
    tcpi_snd_wnd: i.sndWnd,
    tcpi_rcv_wnd: sk.rcvWnd,
  };
}

/** Whether an IPv4 or IPv6 address came in `sa` (for tools that print it). */
export function sockaddrIsV4(sa: SockAddr): boolean {
  return sa.family === AF.INET;
}
