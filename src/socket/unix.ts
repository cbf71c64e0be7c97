/**
 * AF_UNIX SOCK_STREAM (net/unix/af_unix.c): sockets named by a path in a per-namespace
 * table instead of the host's file system. No packet ever reaches a device: connect()
 * makes an embryo sock, pairs it with the caller and queues it on the listener; a write
 * builds skbs charged to the writer (skb_set_owner_w) and appends them to the peer's
 * receive queue; reading frees them, which gives the writer its send-buffer credit back.
 * ss -x and /proc/net/unix read the table through unixDiagDump().
 */

import { pageAlign, SKB_MAX_HEAD, skbHeadTruesize } from '../core/skbuff.js';
import { getNextIno, Sock } from '../core/sock.js';
import { E } from '../include/errno.js';
import { TCP_STATE } from '../include/tcp-states.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';

/** sk_shutdown bits (RCV_SHUTDOWN, SEND_SHUTDOWN). */
export const UNIX_SHUT = { RCV: 1, SEND: 2 } as const;

/** UNIX_PATH_MAX: sun_path's size; a name must leave room for its NUL. */
export const UNIX_PATH_MAX = 108;

/**
 * The name libuv (Node 20) gives the kernel for a pipe path: a path cut to fit sun_path
 * with its NUL; an abstract name ('\0…') padded with NULs to the whole of sun_path,
 * since it passes sizeof(struct sockaddr_un) — `ss -x` then shows '@name@@@…'.
 */
export function libuvSunPath(path: string): string {
  return path[0] === '\0' ? path.slice(0, UNIX_PATH_MAX).padEnd(UNIX_PATH_MAX, '\0') : path.slice(0, UNIX_PATH_MAX - 1);
}

/** node:fs where there is one (Node 20.16+), nothing in a browser. */
type HostFs = {
  statSync(p: string, o: { throwIfNoEntry: false }): { isDirectory(): boolean } | undefined;
};
const hostFs = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:fs',
) as HostFs | undefined;

/**
 * A pathname socket's name is a path of the host's file system, which the program's other
 * paths are in too: its directory must exist there (ENOENT, ENOTDIR as the path walk gives
 * them), and a file already there takes the name. The socket itself stays in the
 * namespace's table; this layer makes no file (the net face marks a pipe server's name
 * with one). Without a host file system every name is free.
 */
function hostPathState(path: string): 'free' | 'taken' | number {
  if (hostFs === undefined) return 'free';
  try {
    if (hostFs.statSync(path, { throwIfNoEntry: false }) !== undefined) return 'taken';
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
    const st = hostFs.statSync(dir, { throwIfNoEntry: false });
    if (st === undefined) return -E.ENOENT;
    return st.isDirectory() ? 'free' : -E.ENOTDIR;
  } catch (e) {
    // A component that is a file: ENOTDIR; no permission to look: EACCES.
    const code = (e as { code?: string }).code;
    return code === 'ENOTDIR' ? -E.ENOTDIR : code === 'EACCES' ? -E.EACCES : -E.ENOENT;
  }
}

/** One skb in a receive queue: the bytes, how far the reader got, whose send buffer it is charged to. */
interface UnixSkb {
  data: Uint8Array;
  off: number;
  truesize: number;
  owner: UnixSock;
}

/** The namespace's name table (unix_table plus the bound names of the file system). */
export interface NetnsUnix {
  /** Bound names, as the file system (or the abstract namespace) holds them. */
  readonly names: Map<string, UnixSock>;
  /** Every live sock, embryos included, in creation order (the table unix_diag walks). */
  readonly socks: Set<UnixSock>;
}

const tables = new WeakMap<Net, NetnsUnix>();

export function unixNet(net: Net): NetnsUnix {
  let t = tables.get(net);
  if (t === undefined) {
    t = { names: new Map(), socks: new Set() };
    tables.set(net, t);
  }
  return t;
}

/** UNIX_SKB_FRAGS_SZ: 32 KiB of page fragments per skb. */
const UNIX_SKB_FRAGS_SZ = 32768;

/**
 * How unix_stream_sendmsg cuts `len` bytes into one skb: the bytes it carries and its
 * truesize (head from kmalloc, the rest in page fragments). Checked against `ss -xm`
 * on Linux 6.18: 1 byte → 768, 3776 → 4352, 3777 → 4864, 36544 → 37120.
 */
export function unixSkbSize(len: number, sndbuf: number): { size: number; truesize: number } {
  let size = Math.min(len, (sndbuf >> 1) - 64);
  size = Math.min(size, SKB_MAX_HEAD + UNIX_SKB_FRAGS_SZ);
  const dataLen = Math.min(size, pageAlign(Math.max(0, size - SKB_MAX_HEAD)));
  return { size, truesize: skbHeadTruesize(size - dataLen) + pageAlign(dataLen) };
}

export class UnixSock extends Sock {
  /** sk_state: CLOSE (unconnected), LISTEN or ESTABLISHED, as unix_diag reports it. */
  state: number = TCP_STATE.CLOSE;
  /** unix_sk(sk)->addr: the bound name (an accepted sock shares its listener's). */
  path: string | null = null;
  /** unix_peer(sk). */
  peer: UnixSock | null = null;
  /** sk_receive_queue: data skbs, or for a listener the embryos waiting for accept(). */
  readonly receiveQueue: UnixSkb[] = [];
  readonly acceptQueue: UnixSock[] = [];
  /** sk_max_ack_backlog. */
  maxAckBacklog = 0;
  shutdown = 0;
  /** Set when a write met a full send buffer; cleared when the writer is woken. */
  #writeBlocked = false;
  #dead = false;
  /** sk->sk_socket: an embryo has none until accept() grafts one. */
  #hasSocket: boolean;
  /** Called (asynchronously) when the socket's state changes (unix_state_change). */
  onStateChange: (() => void) | null = null;

  /** What %pK prints for this sock in /proc/net/unix: a hashed pointer, random per boot on Linux. */
  readonly kptr = Math.floor(Math.random() * 2 ** 32);

  constructor(net: Net, withInode = true) {
    super(net, withInode);
    this.#hasSocket = withInode;
    unixNet(net).socks.add(this);
  }

  /** Bytes waiting to be read (unix_inq_len), or for a listener the embryos queued. */
  get readable(): number {
    let n = 0;
    for (const skb of this.receiveQueue) n += skb.data.byteLength - skb.off;
    return n;
  }

  /** unix_outq_len(): truesize of what this sock wrote that its peer has not read. */
  get outq(): number {
    return this.wmemAlloc;
  }

  /** unix_writable(): a quarter of the send buffer or less is in use. */
  get writable(): boolean {
    return this.state !== TCP_STATE.LISTEN && this.wmemAlloc * 4 <= this.sndbuf;
  }

  /** unix_bind(): claim a name; EADDRINUSE if it exists (even a stale one), EINVAL if already named. */
  bind(path: string): number {
    if (this.path !== null) return -E.EINVAL;
    // A path needs room for its NUL; an abstract name (leading NUL) may fill sun_path.
    if (path.length === 0 || path.length > (path[0] === '\0' ? UNIX_PATH_MAX : UNIX_PATH_MAX - 1)) return -E.EINVAL;
    const names = unixNet(this.net).names;
    if (names.has(path)) return -E.EADDRINUSE;
    if (path[0] !== '\0') {
      // unix_bind_bsd(): the directories are looked up first; an existing file is EADDRINUSE.
      const st = hostPathState(path);
      if (st === 'taken') return -E.EADDRINUSE;
      if (typeof st === 'number') return st;
    }
    names.set(path, this);
    this.path = path;
    return 0;
  }

  /** unix_listen(): only a bound, unconnected stream socket may listen; backlog capped by somaxconn. */
  listen(backlog: number): number {
    if (this.path === null) return -E.EINVAL;
    if (this.state !== TCP_STATE.CLOSE && this.state !== TCP_STATE.LISTEN) return -E.EINVAL;
    const somaxconn = this.net.core.somaxconn;
    this.maxAckBacklog = backlog >>> 0 > somaxconn ? somaxconn : backlog;
    this.state = TCP_STATE.LISTEN;
    return 0;
  }

  /**
   * unix_stream_connect() without blocking: ENOENT for no such name, ECONNREFUSED for a
   * name whose socket is not listening, EAGAIN when the accept queue is over its backlog.
   * On success both ends are ESTABLISHED at once and the embryo waits in the accept queue.
   */
  connect(path: string): number {
    if (this.state === TCP_STATE.ESTABLISHED) return -E.EISCONN;
    if (this.state === TCP_STATE.LISTEN) return -E.EINVAL;
    const other = unixNet(this.net).names.get(path);
    // unix_find_bsd() fails the path lookup with ENOENT; unix_find_abstract() refuses.
    // A file of the host's at the path is no socket of this namespace: Linux refuses a
    // connect to a non-socket inode with ECONNREFUSED.
    if (other === undefined) return path[0] === '\0' || hostPathState(path) === 'taken' ? -E.ECONNREFUSED : -E.ENOENT;
    if (other.#dead || other.state !== TCP_STATE.LISTEN || other.shutdown & UNIX_SHUT.RCV) return -E.ECONNREFUSED;
    // unix_recvq_full(): the queue may hold one more than the backlog.
    if (other.acceptQueue.length > other.maxAckBacklog) return -E.EAGAIN;
    const newsk = new UnixSock(this.net, false);
    newsk.path = other.path;
    newsk.peer = this;
    newsk.state = TCP_STATE.ESTABLISHED;
    newsk.sndbuf = other.sndbuf;
    this.peer = newsk;
    this.state = TCP_STATE.ESTABLISHED;
    other.acceptQueue.push(newsk);
    other.dataReady();
    return 0;
  }

  /** unix_accept(): the oldest embryo, now given its struct socket (and inode). */
  accept(): UnixSock | number {
    if (this.state !== TCP_STATE.LISTEN) return -E.EINVAL;
    const sk = this.acceptQueue.shift();
    if (sk === undefined) return -E.EAGAIN;
    sk.ino = getNextIno(this.net.kernel);
    sk.#hasSocket = true;
    return sk;
  }

  /**
   * unix_stream_sendmsg() with MSG_DONTWAIT: skbs are cut and charged to this sock while
   * sk_wmem_alloc is below sk_sndbuf (so the last may overshoot it); what was sent, or
   * EAGAIN if nothing fit, EPIPE once either side shut the direction down.
   */
  sendmsg(data: Uint8Array, _more = false): number {
    const err = this.takeError();
    if (err !== 0) return err;
    const peer = this.peer;
    if (this.state !== TCP_STATE.ESTABLISHED || peer === null) return this.shutdown ? -E.EPIPE : -E.ENOTCONN;
    if (this.shutdown & UNIX_SHUT.SEND || peer.#dead || peer.shutdown & UNIX_SHUT.RCV) return -E.EPIPE;
    let sent = 0;
    while (sent < data.byteLength) {
      if (this.wmemAlloc >= this.sndbuf) {
        this.#writeBlocked = true;
        break;
      }
      const { size, truesize } = unixSkbSize(data.byteLength - sent, this.sndbuf);
      // The reader may keep the bytes after the writer reuses its buffer: copy, as the kernel does.
      peer.receiveQueue.push({ data: data.slice(sent, sent + size), off: 0, truesize, owner: this });
      this.wmemAlloc += truesize;
      sent += size;
    }
    if (sent > 0) peer.dataReady();
    return sent > 0 ? sent : -E.EAGAIN;
  }

  /**
   * unix_stream_read_generic() with MSG_DONTWAIT: up to `max` bytes across skbs; 0 at
   * end of stream, a pending error first, EAGAIN when there is nothing yet.
   */
  recvmsg(max = 65536): Uint8Array | number {
    const q = this.receiveQueue;
    if (q.length === 0) {
      const err = this.takeError();
      if (err !== 0) return err;
      if (this.shutdown & UNIX_SHUT.RCV || this.state !== TCP_STATE.ESTABLISHED) return 0;
      return -E.EAGAIN;
    }
    const parts: Uint8Array[] = [];
    let n = 0;
    while (n < max && q.length > 0) {
      const skb = q[0] as UnixSkb;
      const take = Math.min(max - n, skb.data.byteLength - skb.off);
      parts.push(skb.data.subarray(skb.off, skb.off + take));
      skb.off += take;
      n += take;
      if (skb.off === skb.data.byteLength) {
        q.shift();
        skbFree(skb);
      }
    }
    if (parts.length === 1) return parts[0] as Uint8Array;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /** unix_shutdown(): this side's `how`, mirrored on the peer (our SEND is its RCV). */
  shutdownCall(how: number): number {
    if (this.state !== TCP_STATE.ESTABLISHED && this.state !== TCP_STATE.LISTEN) return -E.ENOTCONN;
    this.shutdown |= how;
    const peer = this.peer;
    if (peer !== null && !peer.#dead) {
      let peerMode = 0;
      if (how & UNIX_SHUT.RCV) peerMode |= UNIX_SHUT.SEND;
      if (how & UNIX_SHUT.SEND) peerMode |= UNIX_SHUT.RCV;
      peer.shutdown |= peerMode;
      peer.stateChange();
      if (peerMode & UNIX_SHUT.RCV) peer.dataReady();
    }
    return 0;
  }

  /**
   * unix_release_sock(): the peer is shut down both ways, and reset if this side left
   * data unread (or was an embryo nobody accepted); queued embryos are released too.
   * An abstract name goes with its socket; a path name stays until unlinked.
   */
  close(): void {
    if (this.#dead) return;
    const wasListener = this.state === TCP_STATE.LISTEN;
    this.#dead = true;
    this.state = TCP_STATE.CLOSE;
    this.shutdown = UNIX_SHUT.RCV | UNIX_SHUT.SEND;
    const t = unixNet(this.net);
    t.socks.delete(this);
    if (this.path?.startsWith('\0') && t.names.get(this.path) === this) t.names.delete(this.path);
    const peer = this.peer;
    const unread = this.receiveQueue.length > 0;
    for (const skb of this.receiveQueue.splice(0)) skbFree(skb);
    if (peer !== null && !peer.#dead) {
      peer.shutdown = UNIX_SHUT.RCV | UNIX_SHUT.SEND;
      if (unread || this.ino === 0) peer.reportError(E.ECONNRESET);
      peer.stateChange();
      peer.dataReady();
      peer.wakeWriter(true);
    }
    if (wasListener) for (const embryo of this.acceptQueue.splice(0)) embryo.close();
    this.onDataReady = this.onError = this.onWriteSpace = this.onStateChange = null;
  }

  /** socket.resetAndDestroy() sets SO_LINGER 0; AF_UNIX has nothing to reset with. */
  linger = -1;

  /** TCP_NODELAY and SO_KEEPALIVE mean nothing here; libuv ignores them on pipes. */
  setNoDelay(_on: boolean): void {}
  setKeepAlive(_on: boolean, _idle = 0): void {}

  /** sk_state_change(). */
  stateChange(): void {
    const cb = this.onStateChange;
    if (cb !== null) queueMicrotask(cb);
  }

  /** unix_write_space(): wake a blocked writer once it may write again (or must learn it cannot). */
  wakeWriter(force = false): void {
    if (!this.#writeBlocked || (!force && !this.writable)) return;
    this.#writeBlocked = false;
    const cb = this.onWriteSpace;
    if (cb !== null) queueMicrotask(cb);
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** One line of /proc/net/unix, as unix_seq_show() prints it. */
  seqShow(): string {
    const established = this.state === TCP_STATE.ESTABLISHED;
    // sk_refcnt: the socket's own two, plus the live peer's unix_peer() reference.
    const refcnt = 2 + (this.peer !== null && !this.peer.#dead ? 1 : 0);
    const flags = this.state === TCP_STATE.LISTEN ? SO_ACCEPTCON : 0;
    const st = this.#hasSocket ? (established ? SS_CONNECTED : SS_UNCONNECTED) : established ? SS_CONNECTING : 4;
    const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
    let line = `${this.kptr.toString(16).padStart(16, '0')}: ${hex(refcnt, 8)} ${hex(0, 8)} ${hex(flags, 8)} ${hex(SOCK_STREAM, 4)} ${hex(st, 2)} ${String(this.ino).padStart(5)}`;
    if (this.path !== null)
      line += ` ${this.path[0] === '\0' ? `@${this.path.slice(1).replaceAll('\0', '@')}` : this.path}`;
    return `${line}\n`;
  }
}

const SOCK_STREAM = 1;
/** __SO_ACCEPTCON, and the socket states (SS_*) /proc/net/unix shows. */
const SO_ACCEPTCON = 1 << 16;
const SS_UNCONNECTED = 1;
const SS_CONNECTING = 2;
const SS_CONNECTED = 3;

/** /proc/net/unix: every sock of the namespace (embryos too, with inode 0). */
export function unixSeqShow(net: Net): string {
  let out = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  for (const sk of unixNet(net).socks) out += sk.seqShow();
  return out;
}

registerProcNet('unix', unixSeqShow);

/** consume_skb → sock_wfree(): the writer gets the truesize back. */
function skbFree(skb: UnixSkb): void {
  skb.owner.wmemAlloc -= skb.truesize;
  skb.owner.wakeWriter();
}

/** unlink(2) of a bound path: the name goes; a socket still using it keeps working. */
export function unixUnlink(net: Net, path: string): number {
  const names = unixNet(net).names;
  if (!names.has(path)) return -E.ENOENT;
  names.delete(path);
  return 0;
}

/** What unix_diag tells ss about one sock (struct unix_diag_msg and its attributes). */
export interface UnixDiagMsg {
  state: number;
  ino: number;
  /** UNIX_DIAG_NAME: the bound name, if any. */
  name: string | null;
  /** UNIX_DIAG_PEER: the peer's inode, 0 if none (or an unaccepted embryo). */
  peer: number;
  /** UNIX_DIAG_RQLEN: bytes queued, or for a listener the connections waiting. */
  rqueue: number;
  /** Bytes of truesize unread by the peer, or for a listener its backlog. */
  wqueue: number;
  shutdown: number;
  /** UNIX_DIAG_ICONS: for a listener, the inodes of the connecting peers queued on it. */
  icons: number[];
  skmem: { rmemAlloc: number; rcvbuf: number; wmemAlloc: number; sndbuf: number };
}

/** unix_diag_dump() over SOCK_STREAM socks: those with an inode (sk_diag_dump skips embryos). */
export function unixDiagDump(net: Net): UnixDiagMsg[] {
  const out: UnixDiagMsg[] = [];
  for (const sk of unixNet(net).socks) {
    if (sk.ino === 0) continue;
    const listening = sk.state === TCP_STATE.LISTEN;
    out.push({
      state: sk.state,
      ino: sk.ino,
      name: sk.path,
      peer: sk.peer !== null && !sk.peer.dead ? sk.peer.ino : 0,
      rqueue: listening ? sk.acceptQueue.length : sk.readable,
      wqueue: listening ? sk.maxAckBacklog : sk.outq,
      shutdown: sk.shutdown,
      icons: listening ? sk.acceptQueue.map((e) => e.peer?.ino ?? 0) : [],
      // Stream skbs are charged to the writer, so a reader's sk_rmem_alloc stays 0.
      skmem: { rmemAlloc: 0, rcvbuf: sk.rcvbuf, wmemAlloc: sk.wmemAlloc, sndbuf: sk.sndbuf },
    });
  }
  return out;
}
