/**
 * TCP Fast Open (RFC 7413) as net/ipv4/tcp_fastopen.c does it. The server side: a SYN with
 * a valid cookie (or any SYN when no cookie is required) gets a child socket at once, in
 * SYN_RECV, holding the SYN's data and sitting in the accept queue before the handshake
 * ends; the SYN-ACK acknowledges the data. Cookies are SipHash-2-4 of the SYN's source and
 * destination addresses under the listener's key (TCP_FASTOPEN_KEY) or the namespace's
 * (net.ipv4.tcp_fastopen_key), so they are the bytes Linux would give for the same key.
 * The number of children still in SYN_RECV is bounded by the listener's TCP_FASTOPEN qlen.
 */
import { E } from '../../include/errno.js';
import { siphash, siphashKey } from '../../include/siphash.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SysctlEntry } from '../../kernel/sysctl.js';
import type { Net } from '../../net/net.js';
import { TCPHDR, type TcpFastopenCookie, type TcpOption } from '../../wire/tcp.js';
import type { TcpCb } from './input.js';
import { type NetnsTcp, tcpNet } from './netns.js';
import type { TcpSock } from './sock.js';

/** net.ipv4.tcp_fastopen bits (include/net/tcp.h TFO_*). */
export const TFO = {
  CLIENT_ENABLE: 1,
  SERVER_ENABLE: 2,
  CLIENT_NO_COOKIE: 4,
  SERVER_COOKIE_NOT_REQD: 0x200,
  SERVER_WO_SOCKOPT1: 0x400,
} as const;

export const TCP_FASTOPEN_KEY_LENGTH = 16;
export const TCP_FASTOPEN_COOKIE_SIZE = 8;
/** tcpi_options' TCPI_OPT_SYN_DATA: data in our SYN was acked, or the peer's SYN data was taken. */
export const TCPI_OPT_SYN_DATA = 32;

/** What a socket keeps of Fast Open (the fastopen fields of tcp_sock and the listener's fastopenq). */
export interface TcpFastopen {
  /** fastopenq.max_qlen (TCP_FASTOPEN's value, capped by somaxconn): 0 = Fast Open off for this listener. */
  maxQlen: number;
  /** Children still in SYN_RECV (fastopenq.qlen). */
  qlen: number;
  /** fastopenq.ctx: TCP_FASTOPEN_KEY's primary and optional backup key; null = the namespace's. */
  keys: Uint8Array[] | null;
  /** TCP_FASTOPEN_NO_COOKIE. */
  noCookie: boolean;
  /** A passive child: the request sock until the handshake's ACK (tp->fastopen_rsk). */
  rsk: FastopenRsk | null;
  /** syn_data_acked: the SYN's data was taken (passive) or acked (active). */
  synDataAcked: boolean;
  /** TCP_FASTOPEN_CONNECT: connect() waits for the first write to send the SYN with it. */
  connect: boolean;
  /** DEFER_CONNECT: connect() returned 0 and sent nothing; the first write opens the connection. */
  deferConnect: boolean;
  /** tp->fastopen_req: the write riding in the SYN, while connect() runs. */
  req: FastopenRequest | null;
  /** The SYN carried the option (syn_fastopen, syn_fastopen_exp) or data (syn_data). */
  synFastopen: boolean;
  synFastopenExp: boolean;
  synData: boolean;
}

/** struct tcp_fastopen_request. */
export interface FastopenRequest {
  /** The cookie for the SYN: len 0 asks for one; null sends no option. */
  cookie: TcpFastopenCookie | null;
  /** The caller's data; null for a buffer the kernel cannot read (EFAULT on copy). */
  data: Uint8Array | null;
  /** How much of it went into the SYN. */
  copied: number;
}

/** What a passive child's request sock is, seen from here: its SYN-ACK can be sent again, and it can go. */
export interface FastopenRsk {
  readonly listener: TcpSock;
  /** When the first SYN-ACK left, -1 before (snt_synack). */
  readonly synackTime: number;
  /** Resends the SYN-ACK (inet_rtx_syn_ack). */
  resend(): void;
  /** Stops its SYN-ACK timer. */
  cancel(): void;
}

/** The socket's Fast Open state, made on first use. */
export function tfo(sk: TcpSock): TcpFastopen {
  let f = sk.fastopen;
  if (f === null) {
    f = {
      maxQlen: 0,
      qlen: 0,
      keys: null,
      noCookie: false,
      rsk: null,
      synDataAcked: false,
      connect: false,
      deferConnect: false,
      req: null,
      synFastopen: false,
      synFastopenExp: false,
      synData: false,
    };
    sk.fastopen = f;
  }
  return f;
}

/** The namespace's keys (net->ipv4.tcp_fastopen_ctx), null until set or first needed. */
const netKeys = new WeakMap<NetnsTcp, Uint8Array[]>();

/** tcp_fastopen_init_key_once(): a random key for the namespace, the first time one is needed. */
export function tcpFastopenInitKeyOnce(tn: NetnsTcp): void {
  if (!netKeys.has(tn)) netKeys.set(tn, [crypto.getRandomValues(new Uint8Array(TCP_FASTOPEN_KEY_LENGTH))]);
}

/** tcp_fastopen_get_ctx(): the listener's own keys, else the namespace's. */
function keysOf(sk: TcpSock): Uint8Array[] | undefined {
  return sk.fastopen?.keys ?? netKeys.get(sk.tn);
}

/** setsockopt(TCP_FASTOPEN_KEY): 16 bytes, or 32 for a backup key as well (tcp_fastopen_reset_cipher). */
export function tcpFastopenSetKey(sk: TcpSock, value: Uint8Array): number {
  const n = value.byteLength;
  if (n !== TCP_FASTOPEN_KEY_LENGTH && n !== 2 * TCP_FASTOPEN_KEY_LENGTH) return -E.EINVAL;
  const keys = [value.slice(0, TCP_FASTOPEN_KEY_LENGTH)];
  if (n === 2 * TCP_FASTOPEN_KEY_LENGTH) keys.push(value.slice(TCP_FASTOPEN_KEY_LENGTH));
  tfo(sk).keys = keys;
  return 0;
}

/** getsockopt(TCP_FASTOPEN_KEY): the keys in use, primary first (tcp_fastopen_get_cipher). */
export function tcpFastopenGetKey(sk: TcpSock): Uint8Array {
  const keys = keysOf(sk) ?? [];
  const out = new Uint8Array(keys.length * TCP_FASTOPEN_KEY_LENGTH);
  keys.forEach((k, i) => {
    out.set(k, i * TCP_FASTOPEN_KEY_LENGTH);
  });
  return out;
}

/** fastopen_queue_tune(): setsockopt(TCP_FASTOPEN, qlen) on a closed or listening socket. */
export function tcpFastopenSetQlen(sk: TcpSock, qlen: number, closedOrListening: boolean): number {
  if (qlen < 0 || !closedOrListening) return -E.EINVAL;
  tcpFastopenInitKeyOnce(sk.tn);
  tfo(sk).maxQlen = Math.min(qlen, sk.net.core.somaxconn);
  return 0;
}

/**
 * inet_listen()'s part: with TFO_SERVER_WO_SOCKOPT1 every listener takes Fast Open with
 * its backlog as the queue limit, unless TCP_FASTOPEN set one.
 */
export function tcpFastopenListen(sk: TcpSock, backlog: number): void {
  const s = sk.tn.sysctl.tcp_fastopen;
  if (s & TFO.SERVER_WO_SOCKOPT1 && s & TFO.SERVER_ENABLE && (sk.fastopen?.maxQlen ?? 0) === 0) {
    tfo(sk).maxQlen = Math.min(Math.max(backlog, 0), sk.net.core.somaxconn);
    tcpFastopenInitKeyOnce(sk.tn);
  }
}

/** __tcp_fastopen_cookie_gen_cipher(): SipHash of the SYN's saddr and daddr, the hash's bytes little-endian. */
function cookieGen(key: Uint8Array, v4: boolean, saddr: Uint8Array, daddr: Uint8Array): Uint8Array {
  const msg = v4
    ? new Uint8Array([...saddr.subarray(12, 16), ...daddr.subarray(12, 16)])
    : new Uint8Array([...saddr, ...daddr]);
  const h = siphash(msg, siphashKey(key));
  const out = new Uint8Array(TCP_FASTOPEN_COOKIE_SIZE);
  for (let i = 0; i < 8; i++) out[i] = Number((h >> BigInt(8 * i)) & 0xffn);
  return out;
}

function sameCookie(a: Uint8Array, b: TcpFastopenCookie): boolean {
  return b.len === a.byteLength && a.every((x, i) => b.val[i] === x);
}

/** tcp_fastopen_queue_check(): the listener takes Fast Open and has room for one more child in SYN_RECV. */
function queueCheck(sk: TcpSock): boolean {
  const q = sk.fastopen;
  if (q === null || q.maxQlen === 0) return false;
  if (q.qlen >= q.maxQlen) {
    sk.tn.ext.TCPFastOpenListenOverflow++;
    return false;
  }
  return true;
}

/** What tcp_try_fastopen() decided for a SYN. */
export interface FastopenVerdict {
  /** Make the child now (the cookie is good, or none is required). */
  child: boolean;
  /** The cookie for the SYN-ACK to carry: asked for, or the client's was stale. */
  cookie: TcpFastopenCookie | null;
}

/**
 * tcp_try_fastopen(): whether a SYN to a listener opens a child at once, and which cookie
 * the SYN-ACK carries. `v4`, `saddr` and `daddr` are the SYN's (the peer is saddr).
 */
export function tcpTryFastopen(
  sk: TcpSock,
  cb: TcpCb,
  v4: boolean,
  saddr: Uint8Array,
  daddr: Uint8Array,
): FastopenVerdict {
  const tn = sk.tn;
  const foc = cb.fastopen;
  const synData = cb.len > 0;
  if (foc !== undefined && foc.len === 0) tn.ext.TCPFastOpenCookieReqd++;
  if (!(tn.sysctl.tcp_fastopen & TFO.SERVER_ENABLE && (synData || foc !== undefined) && queueCheck(sk)))
    return { child: false, cookie: null };
  if (tn.sysctl.tcp_fastopen & TFO.SERVER_COOKIE_NOT_REQD || sk.fastopen?.noCookie === true) {
    tn.ext.TCPFastOpenPassive++;
    return { child: true, cookie: null };
  }
  const keys = keysOf(sk);
  if (foc === undefined || keys === undefined) return { child: false, cookie: null };
  const valid = cookieGen(keys[0] as Uint8Array, v4, saddr, daddr);
  const own: TcpFastopenCookie = { len: valid.byteLength, val: valid, exp: foc.exp };
  if (foc.len === 0) return { child: false, cookie: own };
  // tcp_fastopen_cookie_gen_check(): the primary key, then the backup.
  let match = 0;
  for (let i = 0; i < keys.length && match === 0; i++) {
    const c = i === 0 ? valid : cookieGen(keys[i] as Uint8Array, v4, saddr, daddr);
    if (sameCookie(c, foc)) match = i + 1;
  }
  if (match === 0) {
    tn.ext.TCPFastOpenPassiveFail++;
    return { child: false, cookie: own };
  }
  tn.ext.TCPFastOpenPassive++;
  if (match === 2) {
    // Good under the backup key: the SYN-ACK hands out the primary key's cookie.
    tn.ext.TCPFastOpenPassiveAltKey++;
    return { child: true, cookie: own };
  }
  return { child: true, cookie: null };
}

/**
 * tcp_fastopen_create_child()'s part after the socket exists: it counts against the
 * listener's queue, keeps its request sock, and takes the SYN's data (tcp_fastopen_add_skb).
 * Returns what rcv_nxt became, for the SYN-ACK to acknowledge.
 */
export function tcpFastopenInitChild(
  child: TcpSock,
  cb: TcpCb,
  rsk: FastopenRsk,
  queueData: (child: TcpSock, cb: TcpCb) => void,
  fin: (child: TcpSock) => void,
): number {
  const l = rsk.listener;
  tfo(l).qlen++;
  const f = tfo(child);
  f.rsk = rsk;
  // RFC 7323: the window in a SYN is never scaled.
  child.sndWnd = cb.window;
  child.maxWindow = child.sndWnd;
  if (cb.len > 0) {
    queueData(child, cb);
    f.synDataAcked = true;
  }
  if (cb.flags & TCPHDR.FIN) fin(child);
  return child.rcvNxt;
}

/**
 * reqsk_fastopen_remove(): the handshake is over (or the child died): the request sock
 * goes and the listener's queue has room again.
 */
export function tcpFastopenRemove(sk: TcpSock): void {
  const f = sk.fastopen;
  const rsk = f?.rsk ?? null;
  if (f === null || rsk === null) return;
  f.rsk = null;
  rsk.cancel();
  const q = rsk.listener.fastopen;
  if (q !== null && q.qlen > 0) q.qlen--;
}

/** The Fast Open option a SYN-ACK carries: a NOP pair pads a kind-34 option of 2 mod 4 bytes (tcp_options_write). */
export function fastopenOption(foc: TcpFastopenCookie): TcpOption[] {
  const o: TcpOption = { kind: 'fastopen', cookie: foc.val.subarray(0, foc.len), exp: foc.exp };
  const len = (foc.exp ? 4 : 2) + foc.len;
  return (len & 3) === 2 ? [o, { kind: 'nop' }, { kind: 'nop' }] : [o];
}

/** net.ipv4.tcp_fastopen_key: "%08x-%08x-%08x-%08x" per key, the backup after a comma (proc_tcp_fastopen_key). */
function keySysctl(): SysctlEntry {
  const words = (k: Uint8Array): string =>
    [0, 4, 8, 12]
      .map(
        (i) =>
          ((k[i] as number) |
            ((k[i + 1] as number) << 8) |
            ((k[i + 2] as number) << 16) |
            ((k[i + 3] as number) << 24)) >>>
          0,
      )
      .map((w) => w.toString(16).padStart(8, '0'))
      .join('-');
  const parse = (text: string): Uint8Array | null => {
    // sscanf("%x-%x-%x-%x"): four hex numbers, each kept as a little-endian u32.
    const m =
      /^\s*(?:0[xX])?([0-9a-fA-F]{1,8})-(?:0[xX])?([0-9a-fA-F]{1,8})-(?:0[xX])?([0-9a-fA-F]{1,8})-(?:0[xX])?([0-9a-fA-F]{1,8})/.exec(
        text,
      );
    if (m === null) return null;
    const out = new Uint8Array(TCP_FASTOPEN_KEY_LENGTH);
    for (let i = 0; i < 4; i++) {
      const w = Number.parseInt(m[i + 1] as string, 16);
      for (let b = 0; b < 4; b++) out[i * 4 + b] = (w >>> (8 * b)) & 0xff;
    }
    return out;
  };
  return {
    name: 'net.ipv4.tcp_fastopen_key',
    perNet: true,
    read: (_k: Kernel, net: Net) => {
      const keys = netKeys.get(tcpNet(net)) ?? [new Uint8Array(TCP_FASTOPEN_KEY_LENGTH)];
      return keys.map(words).join(',');
    },
    write: (_k: Kernel, net: Net, text: string) => {
      const [a, b] = text.trim().split(',', 2);
      const primary = parse(a ?? '');
      const backup = b === undefined ? undefined : parse(b);
      if (primary === null || backup === null) return -E.EINVAL;
      netKeys.set(tcpNet(net), backup === undefined ? [primary] : [primary, backup]);
      return 0;
    },
  };
}

/** The Fast Open sysctls that are not plain integers. */
export function tcpFastopenSysctls(): SysctlEntry[] {
  return [keySysctl()];
}

// ---- the client (active open) ----

/** What tcp_metrics keeps for Fast Open per destination (struct tcp_fastopen_metrics). */
interface FastopenMetrics {
  mss: number;
  cookie: TcpFastopenCookie | null;
  tryExp: number;
  synLoss: number;
}

const cookieCache = new WeakMap<NetnsTcp, Map<string, FastopenMetrics>>();

function metricsKey(sk: TcpSock): string {
  return `${[...sk.srcAddr].join('.')}>${[...sk.remoteAddr].join('.')}`;
}

function metrics(sk: TcpSock, create: boolean): FastopenMetrics | undefined {
  let m = cookieCache.get(sk.tn);
  if (m === undefined) {
    if (!create) return undefined;
    m = new Map();
    cookieCache.set(sk.tn, m);
  }
  let e = m.get(metricsKey(sk));
  if (e === undefined && create) {
    e = { mss: 0, cookie: null, tryExp: 0, synLoss: 0 };
    m.set(metricsKey(sk), e);
  }
  return e;
}

/** `ip tcp_metrics flush`: the namespace forgets every cached cookie. */
export function tcpFastopenCacheFlush(tn: NetnsTcp): void {
  cookieCache.get(tn)?.clear();
}

/**
 * tcp_fastopen_cookie_check(): the cached cookie and MSS for this destination, and whether
 * the SYN may carry data — with a cookie, or without one when none is required
 * (TFO_CLIENT_NO_COOKIE, TCP_FASTOPEN_NO_COOKIE). The cookie is null when the SYN should
 * carry no option.
 */
function cookieCheck(sk: TcpSock): { ok: boolean; cookie: TcpFastopenCookie | null; mss: number } {
  const m = metrics(sk, false);
  const mss = m?.mss ?? 0;
  let cookie: TcpFastopenCookie | null = null;
  if (m?.cookie != null) cookie = { ...m.cookie };
  else if (m !== undefined && m.tryExp === 1) cookie = { len: 0, val: new Uint8Array(0), exp: true };
  if (sk.tn.sysctl.tcp_fastopen & TFO.CLIENT_NO_COOKIE || sk.fastopen?.noCookie === true)
    return { ok: true, cookie: null, mss };
  if (cookie !== null && cookie.len > 0) return { ok: true, cookie, mss };
  return { ok: false, cookie: cookie ?? { len: 0, val: new Uint8Array(0), exp: false }, mss };
}

/**
 * tcp_fastopen_defer_connect(): with TCP_FASTOPEN_CONNECT and a cookie in hand, connect()
 * sends nothing and returns 0, so the first write goes in the SYN. Without a cookie the SYN
 * asks for one.
 */
export function tcpFastopenDeferConnect(sk: TcpSock): boolean {
  const f = sk.fastopen;
  if (f === null || !f.connect || f.req !== null) return false;
  const c = cookieCheck(sk);
  if (c.ok) {
    f.deferConnect = true;
    return true;
  }
  f.req = { cookie: c.cookie, data: null, copied: 0 };
  return false;
}

/**
 * tcp_send_syn_data()'s choice: how much of the pending write rides in the SYN (0: a plain
 * SYN, asking for a cookie if we have none). The MSS bound is the cached one, or ours,
 * less MAX_TCP_OPTION_SPACE.
 */
export function tcpFastopenSynSpace(sk: TcpSock, mtuMss: number): number {
  const f = sk.fastopen;
  const req = f?.req ?? null;
  if (f === null || req === null) return 0;
  const c = cookieCheck(sk);
  req.cookie = c.cookie;
  if (c.ok && c.mss > 0) sk.mssClamp = c.mss;
  const space = c.ok && req.data !== null ? Math.max(Math.min(mtuMss, c.mss || mtuMss) - 40, 0) : 0;
  const n = Math.min(space, req.data?.byteLength ?? 0);
  if (n === 0 && req.cookie !== null && req.cookie.len > 0) {
    // The fallback SYN asks again rather than presenting a cookie with no data behind it.
    req.cookie = { len: 0, val: new Uint8Array(0), exp: req.cookie.exp };
  }
  return n;
}

/**
 * The Fast Open option of a SYN (tcp_syn_options): the cookie or the request for one, only
 * on the first SYN; retransmitted SYNs go without it.
 */
export function fastopenSynOption(sk: TcpSock): TcpOption[] {
  const f = sk.fastopen;
  const c = f?.req?.cookie ?? null;
  if (f === null || c === null) return [];
  f.synFastopen = true;
  f.synFastopenExp = c.exp;
  return fastopenOption(c);
}

/** After the first SYN left: later SYNs carry no Fast Open option. */
export function tcpFastopenSynSent(sk: TcpSock, copied: number): void {
  const req = sk.fastopen?.req ?? null;
  if (req === null) return;
  req.copied = copied;
  req.cookie = null;
  if (copied > 0) (sk.fastopen as TcpFastopen).synData = true;
}

/**
 * tcp_rcv_fastopen_synack(): the SYN-ACK teaches the cache (its cookie, its MSS, whether a
 * SYN was lost). True when data sent in the SYN was not acknowledged: it must be sent again.
 */
export function tcpRcvFastopenSynack(sk: TcpSock, cb: TcpCb, dataUnacked: boolean): boolean {
  const f = sk.fastopen;
  if (f === null || !(f.synFastopen || f.synData)) return false;
  let cookie = cb.fastopen;
  let synDrop = false;
  let tryExp = 0;
  if (!f.synFastopen) cookie = undefined;
  else if (sk.totalRetrans > 0) synDrop = cookie === undefined && dataUnacked;
  else if (cookie === undefined && !f.synData) tryExp = f.synFastopenExp ? 2 : 1;
  // tcp_fastopen_cache_set().
  const m = metrics(sk, true) as FastopenMetrics;
  if (cb.mss !== undefined && cb.mss > 0) m.mss = cb.mss;
  if (cookie !== undefined && cookie.len > 0) m.cookie = cookie;
  else if (tryExp > m.tryExp && (m.cookie?.len ?? 0) <= 0 && m.cookie?.exp !== true) m.tryExp = tryExp;
  m.synLoss = synDrop ? m.synLoss + 1 : 0;
  if (dataUnacked) {
    sk.tn.ext.TCPFastOpenActiveFail++;
    return true;
  }
  f.synDataAcked = f.synData;
  if (f.synDataAcked) {
    sk.tn.ext.TCPFastOpenActive++;
    // SYN and data were counted as two deliveries.
    if (sk.delivered > 1) sk.delivered--;
  }
  return false;
}
