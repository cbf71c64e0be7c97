/**
 * The TCP state every namespace has of its own (struct netns_ipv4's tcp parts and
 * inet_hashinfo): net.ipv4.tcp_* sysctls with Linux 6.18's stock defaults, the TcpExt
 * counters of /proc/net/netstat, and the socket tables — established (ehash, TIME_WAIT
 * included), listening (lhash) and bound ports (bhash).
 */
import type { Net } from '../../net/net.js';
import type { TcpRequestSock, TcpTimewaitSock } from './minisocks.js';
import type { TcpSock } from './sock.js';

export interface TcpSysctl {
  tcp_timestamps: number;
  tcp_sack: number;
  tcp_window_scaling: number;
  tcp_dsack: number;
  tcp_syncookies: number;
  tcp_max_syn_backlog: number;
  tcp_syn_retries: number;
  tcp_synack_retries: number;
  tcp_retries1: number;
  tcp_retries2: number;
  tcp_orphan_retries: number;
  tcp_fin_timeout: number;
  tcp_keepalive_time: number;
  tcp_keepalive_intvl: number;
  tcp_keepalive_probes: number;
  tcp_rfc1337: number;
  tcp_abort_on_overflow: number;
  tcp_tw_reuse: number;
  tcp_max_tw_buckets: number;
  tcp_slow_start_after_idle: number;
  /** RFC 1122's reading of the urgent pointer (the urgent byte itself) instead of BSD's. */
  tcp_stdurg: number;
  tcp_shrink_window: number;
  tcp_moderate_rcvbuf: number;
  tcp_reordering: number;
  tcp_max_reordering: number;
  tcp_recovery: number;
  tcp_early_retrans: number;
  tcp_tso_win_divisor: number;
  tcp_min_tso_segs: number;
  tcp_tso_rtt_log: number;
  tcp_ecn: number;
  tcp_adv_win_scale: number;
  tcp_app_win: number;
  tcp_min_snd_mss: number;
  tcp_base_mss: number;
  tcp_challenge_ack_limit: number;
  tcp_invalid_ratelimit: number;
  tcp_autocorking: number;
  tcp_rmem: [number, number, number];
  tcp_wmem: [number, number, number];
  tcp_congestion_control: string;
  tcp_fastopen: number;
  tcp_fastopen_blackhole_timeout_sec: number;
}

export function tcpSysctlDefaults(): TcpSysctl {
  return {
    tcp_timestamps: 1,
    tcp_sack: 1,
    tcp_window_scaling: 1,
    tcp_dsack: 1,
    tcp_syncookies: 1,
    tcp_max_syn_backlog: 2048,
    tcp_syn_retries: 6,
    tcp_synack_retries: 5,
    tcp_retries1: 3,
    tcp_retries2: 15,
    tcp_orphan_retries: 0,
    tcp_fin_timeout: 60,
    tcp_keepalive_time: 7200,
    tcp_keepalive_intvl: 75,
    tcp_keepalive_probes: 9,
    tcp_rfc1337: 0,
    tcp_abort_on_overflow: 0,
    tcp_tw_reuse: 2,
    tcp_max_tw_buckets: 131072,
    tcp_slow_start_after_idle: 1,
    tcp_stdurg: 0,
    tcp_shrink_window: 0,
    tcp_moderate_rcvbuf: 1,
    tcp_reordering: 3,
    tcp_max_reordering: 300,
    tcp_recovery: 1,
    tcp_early_retrans: 3,
    tcp_tso_win_divisor: 3,
    tcp_min_tso_segs: 2,
    tcp_tso_rtt_log: 9,
    tcp_ecn: 2,
    tcp_adv_win_scale: 1,
    tcp_app_win: 31,
    tcp_min_snd_mss: 48,
    tcp_base_mss: 1024,
    tcp_challenge_ack_limit: 2147483647,
    tcp_invalid_ratelimit: 500,
    tcp_autocorking: 1,
    // Stock values (a host may tune its own; a new namespace on a stock kernel shows these).
    tcp_rmem: [4096, 131072, 6291456],
    tcp_wmem: [4096, 16384, 4194304],
    tcp_congestion_control: 'cubic',
    // TFO_CLIENT_ENABLE; the blackhole detector is off by default since 5.14.
    tcp_fastopen: 1,
    tcp_fastopen_blackhole_timeout_sec: 0,
  };
}

/** /proc/net/netstat's TcpExt row, in Linux 6.18's order. */
export const TCPEXT_MIB_FIELDS = [
  'SyncookiesSent',
  'SyncookiesRecv',
  'SyncookiesFailed',
  'EmbryonicRsts',
  'PruneCalled',
  'RcvPruned',
  'OfoPruned',
  'OutOfWindowIcmps',
  'LockDroppedIcmps',
  'ArpFilter',
  'TW',
  'TWRecycled',
  'TWKilled',
  'PAWSActive',
  'PAWSEstab',
  'BeyondWindow',
  'TSEcrRejected',
  'PAWSOldAck',
  'PAWSTimewait',
  'DelayedACKs',
  'DelayedACKLocked',
  'DelayedACKLost',
  'ListenOverflows',
  'ListenDrops',
  'TCPHPHits',
  'TCPPureAcks',
  'TCPHPAcks',
  'TCPRenoRecovery',
  'TCPSackRecovery',
  'TCPSACKReneging',
  'TCPSACKReorder',
  'TCPRenoReorder',
  'TCPTSReorder',
  'TCPFullUndo',
  'TCPPartialUndo',
  'TCPDSACKUndo',
  'TCPLossUndo',
  'TCPLostRetransmit',
  'TCPRenoFailures',
  'TCPSackFailures',
  'TCPLossFailures',
  'TCPFastRetrans',
  'TCPSlowStartRetrans',
  'TCPTimeouts',
  'TCPLossProbes',
  'TCPLossProbeRecovery',
  'TCPRenoRecoveryFail',
  'TCPSackRecoveryFail',
  'TCPRcvCollapsed',
  'TCPBacklogCoalesce',
  'TCPDSACKOldSent',
  'TCPDSACKOfoSent',
  'TCPDSACKRecv',
  'TCPDSACKOfoRecv',
  'TCPAbortOnData',
  'TCPAbortOnClose',
  'TCPAbortOnMemory',
  'TCPAbortOnTimeout',
  'TCPAbortOnLinger',
  'TCPAbortFailed',
  'TCPMemoryPressures',
  'TCPMemoryPressuresChrono',
  'TCPSACKDiscard',
  'TCPDSACKIgnoredOld',
  'TCPDSACKIgnoredNoUndo',
  'TCPSpuriousRTOs',
  'TCPMD5NotFound',
  'TCPMD5Unexpected',
  'TCPMD5Failure',
  'TCPSackShifted',
  'TCPSackMerged',
  'TCPSackShiftFallback',
  'TCPBacklogDrop',
  'PFMemallocDrop',
  'TCPMinTTLDrop',
  'TCPDeferAcceptDrop',
  'IPReversePathFilter',
  'TCPTimeWaitOverflow',
  'TCPReqQFullDoCookies',
  'TCPReqQFullDrop',
  'TCPRetransFail',
  'TCPRcvCoalesce',
  'TCPOFOQueue',
  'TCPOFODrop',
  'TCPOFOMerge',
  'TCPChallengeACK',
  'TCPSYNChallenge',
  'TCPFastOpenActive',
  'TCPFastOpenActiveFail',
  'TCPFastOpenPassive',
  'TCPFastOpenPassiveFail',
  'TCPFastOpenListenOverflow',
  'TCPFastOpenCookieReqd',
  'TCPFastOpenBlackhole',
  'TCPSpuriousRtxHostQueues',
  'BusyPollRxPackets',
  'TCPAutoCorking',
  'TCPFromZeroWindowAdv',
  'TCPToZeroWindowAdv',
  'TCPWantZeroWindowAdv',
  'TCPSynRetrans',
  'TCPOrigDataSent',
  'TCPHystartTrainDetect',
  'TCPHystartTrainCwnd',
  'TCPHystartDelayDetect',
  'TCPHystartDelayCwnd',
  'TCPACKSkippedSynRecv',
  'TCPACKSkippedPAWS',
  'TCPACKSkippedSeq',
  'TCPACKSkippedFinWait2',
  'TCPACKSkippedTimeWait',
  'TCPACKSkippedChallenge',
  'TCPWinProbe',
  'TCPKeepAlive',
  'TCPMTUPFail',
  'TCPMTUPSuccess',
  'TCPDelivered',
  'TCPDeliveredCE',
  'TCPAckCompressed',
  'TCPZeroWindowDrop',
  'TCPRcvQDrop',
  'TCPWqueueTooBig',
  'TCPFastOpenPassiveAltKey',
  'TcpTimeoutRehash',
  'TcpDuplicateDataRehash',
  'TCPDSACKRecvSegs',
  'TCPDSACKIgnoredDubious',
  'TCPMigrateReqSuccess',
  'TCPMigrateReqFailure',
  'TCPPLBRehash',
  'TCPAORequired',
  'TCPAOBad',
  'TCPAOKeyNotFound',
  'TCPAOGood',
  'TCPAODroppedIcmps',
] as const;

export type TcpExtField = (typeof TCPEXT_MIB_FIELDS)[number];

export interface NetnsTcp {
  readonly sysctl: TcpSysctl;
  readonly ext: Record<TcpExtField, number>;
  /** Connected sockets and TIME_WAIT socks by 4-tuple key (inet_ehash). */
  readonly ehash: InetEhash<TcpSock | TcpTimewaitSock | TcpRequestSock>;
  /** Listening sockets by port (lhash2). */
  readonly lhash: Map<number, TcpSock[]>;
  /** Every socket holding a local port, by port (bhash): bind conflicts and ss. */
  readonly bhash: InetBindHash;
  /** TIME_WAIT socks alive (tw_count), bounded by tcp_max_tw_buckets. */
  twCount: number;
  /** Keys for ISNs, timestamp offsets and SYN cookies (net_secret, ts_secret, syncookie_secret). */
  readonly secret: Uint32Array;
}

/** One IPv4 tuple in the numeric index: its addresses, its key, what it holds, and the next tuple on the same ports. */
/**
 * What holds a port in bhash (inet_bind_bucket's owners): a socket, or the small record a
 * TIME_WAIT sock keeps of the one it replaced — what bind conflicts and port choice read.
 */
export interface TcpBindOwner {
  readonly family: 4 | 6;
  readonly localAddr: Uint8Array;
  readonly localPort: number;
  readonly v6only: boolean;
  readonly reuseAddr: boolean;
  readonly reusePort: boolean;
  readonly state: number;
  readonly remotePort: number;
}

const NO_OWNERS: readonly TcpBindOwner[] = [];

/**
 * inet_bind_hashbucket: the owners of each bound port. Most ports have one owner (a
 * connection's ephemeral port), which is kept as itself; a Set is made only when a second
 * owner arrives (a listener's accepted children, SO_REUSEADDR/REUSEPORT groups).
 */
export class InetBindHash {
  readonly #ports = new Map<number, TcpBindOwner | Set<TcpBindOwner>>();

  has(port: number): boolean {
    return this.#ports.has(port);
  }

  /** Who holds `port` (nobody: an empty list). */
  owners(port: number): Iterable<TcpBindOwner> {
    const o = this.#ports.get(port);
    return o === undefined ? NO_OWNERS : o instanceof Set ? o : [o];
  }

  /** Whether anyone holding `port` satisfies `pred` (no list made for a single owner). */
  some(port: number, pred: (o: TcpBindOwner) => boolean): boolean {
    const o = this.#ports.get(port);
    if (o === undefined) return false;
    if (!(o instanceof Set)) return pred(o);
    for (const x of o) if (pred(x)) return true;
    return false;
  }

  add(port: number, owner: TcpBindOwner): void {
    const o = this.#ports.get(port);
    if (o === undefined) this.#ports.set(port, owner);
    else if (o instanceof Set) o.add(owner);
    else if (o !== owner) this.#ports.set(port, new Set([o, owner]));
  }

  /** Drops `owner`'s hold on `port`; the port is free once nobody holds it. */
  delete(port: number, owner: TcpBindOwner): boolean {
    const o = this.#ports.get(port);
    if (o === undefined) return false;
    if (!(o instanceof Set)) {
      if (o !== owner) return false;
      this.#ports.delete(port);
      return true;
    }
    if (!o.delete(owner)) return false;
    if (o.size === 0) this.#ports.delete(port);
    return true;
  }
}

interface V4Entry<T> {
  readonly laddr: number;
  readonly raddr: number;
  readonly key: string;
  value: T;
  next: V4Entry<T> | null;
}

/**
 * The numbers in TcpSock.ehashKey's form for two IPv4 (v4-mapped) addresses,
 * `laddr:lport|raddr:rport` in decimal, into `out`; false for any other key (IPv6
 * addresses are 16 or more hex digits, which no IPv4 number reaches).
 */
function parseV4Key(key: string, out: number[]): boolean {
  let field = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= key.length; i++) {
    const c = i < key.length ? key.charCodeAt(i) : -1;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      if (++digits > 10) return false;
      continue;
    }
    const want = field === 0 || field === 2 ? 58 : field === 1 ? 124 : -1;
    if (digits === 0 || c !== want) return false;
    out[field++] = n;
    n = 0;
    digits = 0;
  }
  return field === 4;
}

/** Both ports in one int32: a small-integer Map key (lport * 65536 + rport is a double, hashed as one). */
function portsKey(lport: number, rport: number): number {
  return (lport << 16) | rport;
}

/**
 * inet_ehash: connected, TIME_WAIT and request socks by their 4-tuple key
 * (TcpSock.ehashKey). IPv4 tuples are indexed by number as well, so the receive path
 * (__inet_lookup_established) finds a socket without building and hashing a string.
 */
export class InetEhash<T> extends Map<string, T> {
  /** By local and remote port; tuples sharing both are chained (a hash chain, as Linux's). */
  readonly #v4 = new Map<number, V4Entry<T>>();
  readonly #parsed = [0, 0, 0, 0];

  override set(key: string, value: T): this {
    super.set(key, value);
    const m = this.#parsed;
    if (parseV4Key(key, m)) {
      const ports = portsKey(m[1] as number, m[3] as number);
      const head = this.#v4.get(ports);
      for (let e = head ?? null; e !== null; e = e.next) {
        if (e.key === key) {
          e.value = value;
          return this;
        }
      }
      this.#v4.set(ports, { laddr: m[0] as number, raddr: m[2] as number, key, value, next: head ?? null });
    }
    return this;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    const m = this.#parsed;
    if (had && parseV4Key(key, m)) {
      const ports = portsKey(m[1] as number, m[3] as number);
      let prev: V4Entry<T> | null = null;
      for (let e = this.#v4.get(ports) ?? null; e !== null; prev = e, e = e.next) {
        if (e.key !== key) continue;
        if (prev !== null) prev.next = e.next;
        else if (e.next !== null) this.#v4.set(ports, e.next);
        else this.#v4.delete(ports);
        break;
      }
    }
    return had;
  }

  override clear(): void {
    super.clear();
    this.#v4.clear();
  }

  /** The entry for an IPv4 4-tuple as this host sees it (local address and port first). */
  lookup4(laddr: number, lport: number, raddr: number, rport: number): T | undefined {
    for (let e = this.#v4.get(portsKey(lport, rport)) ?? null; e !== null; e = e.next) {
      if (e.laddr === laddr && e.raddr === raddr) return e.value;
    }
    return undefined;
  }
}

const tables = new WeakMap<Net, NetnsTcp>();

export function tcpNet(net: Net): NetnsTcp {
  let t = tables.get(net);
  if (t === undefined) {
    t = {
      sysctl: tcpSysctlDefaults(),
      ext: Object.fromEntries(TCPEXT_MIB_FIELDS.map((k) => [k, 0])) as Record<TcpExtField, number>,
      ehash: new InetEhash(),
      lhash: new Map(),
      bhash: new InetBindHash(),
      twCount: 0,
      secret: crypto.getRandomValues(new Uint32Array(8)),
    };
    tables.set(net, t);
  }
  return t;
}
