/**
 * What Linux shows of TCP under /proc: /proc/net/tcp and /proc/net/tcp6
 * (tcp4_seq_show / tcp6_seq_show, listeners first, then the established table with
 * TIME_WAIT and request socks), /proc/net/netstat (TcpExt, IpExt, MPTcpExt), and the
 * net.ipv4.tcp_* sysctls.
 */
import { E } from '../../include/errno.js';
import { IPEXT_MIB_FIELDS } from '../../ipv4/snmp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { intSysctl, parseProcInt, type SysctlEntry } from '../../kernel/sysctl.js';
import type { Net } from '../../net/net.js';
import { registerProcNet } from '../../net/procfs.js';
import { tcpAvailableCongestion, tcpCongestionExists } from './cong.js';
import { tcpFastopenSysctls } from './fastopen.js';
import { TcpRequestSock, TcpTimewaitSock } from './minisocks.js';
import { type NetnsTcp, TCPEXT_MIB_FIELDS, type TcpSysctl, tcpNet } from './netns.js';
import { TCP, TcpSock } from './sock.js';
import { timerShown } from './timer.js';

/** A socket of any kind as /proc and ss see it. */
export type TcpEntry = TcpSock | TcpTimewaitSock | TcpRequestSock;

/** Listeners first, then the established table (request and TIME_WAIT socks included). */
export function tcpSockets(net: Net): TcpEntry[] {
  const tn = tcpNet(net);
  const out: TcpEntry[] = [];
  for (const list of tn.lhash.values()) out.push(...list);
  const seen = new Set<TcpEntry>(out);
  for (const e of tn.ehash.values()) {
    if (!seen.has(e)) out.push(e);
  }
  // Sockets closed by the application that are not hashed yet (none) and unconnected ones are not listed.
  return out;
}

/** The family a /proc file lists an entry under: AF_INET6 sockets go to tcp6 even when v4-mapped. */
export function entryFamily(e: TcpEntry): 4 | 6 {
  if (e instanceof TcpRequestSock) return e.listener.family;
  return e.family;
}

/** A __be32 printed with %08X on a little-endian machine. */
function hexBe32(a: Uint8Array, i: number): string {
  const v =
    ((a[i + 3] as number) << 24) | ((a[i + 2] as number) << 16) | ((a[i + 1] as number) << 8) | (a[i] as number);
  return (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

const hex = (v: number, w: number) => (v >>> 0).toString(16).toUpperCase().padStart(w, '0');

/** jiffies_delta_to_clock_t(): centiseconds (USER_HZ 100), never negative. */
function clockT(ns: number): number {
  return Math.max(0, Math.floor(ns / 1e7));
}

function addrs(e: TcpEntry, v6: boolean): [string, string] {
  let la: Uint8Array;
  let ra: Uint8Array;
  let lp: number;
  let rp: number;
  if (e instanceof TcpRequestSock) {
    la = e.laddr;
    ra = e.raddr;
    lp = e.lport;
    rp = e.rport;
  } else if (e instanceof TcpTimewaitSock) {
    la = e.localAddr;
    ra = e.remoteAddr;
    lp = e.localPort;
    rp = e.remotePort;
  } else {
    la = e.remotePort !== 0 ? e.srcAddr : e.localAddr;
    ra = e.remoteAddr;
    lp = e.localPort;
    rp = e.remotePort;
  }
  const f = (a: Uint8Array) => (v6 ? hexBe32(a, 0) + hexBe32(a, 4) + hexBe32(a, 8) + hexBe32(a, 12) : hexBe32(a, 12));
  return [`${f(la)}:${hex(lp, 4)}`, `${f(ra)}:${hex(rp, 4)}`];
}

function line(e: TcpEntry, i: number, v6: boolean, now: number): string {
  const [l, r] = addrs(e, v6);
  const sl = String(i).padStart(4);
  if (e instanceof TcpTimewaitSock) {
    return `${sl}: ${l} ${r} ${hex(e.substate, 2)} 00000000:00000000 03:${hex(clockT(e.expiresAt - now), 8)} 00000000     0        0 0 3 ${e.kptr}`;
  }
  if (e instanceof TcpRequestSock) {
    return `${sl}: ${l} ${r} ${hex(TCP.SYN_RECV, 2)} 00000000:00000000 01:${hex(clockT(e.expiresAt - now), 8)} ${hex(e.retrans, 8)}     0        0 0 1 ${e.listener.kptr}`;
  }
  const sk = e;
  const listen = sk.state === TCP.LISTEN;
  const tx = listen ? 0 : sk.sendQueueBytes;
  const rx = listen ? sk.cold.acceptQueue.length : Math.max(0, sk.rcvQueueBytes);
  let tr = 0;
  let when = 0;
  const shown = timerShown(sk.pendingTimer);
  if (shown === 1 || shown === 4) {
    tr = shown;
    when = clockT(sk.timeoutAt - now);
  } else if (sk.timers.keepalive?.pending === true) {
    tr = 2;
  }
  const ssthresh = listen ? 0 : sk.ssthresh >= 0x7fffffff ? -1 : sk.ssthresh;
  const quick = ((sk.ackQuick << 1) | (sk.ackPingpong >= 1 ? 1 : 0)) >>> 0;
  return `${sl}: ${l} ${r} ${hex(sk.state, 2)} ${hex(tx, 8)}:${hex(rx, 8)} ${hex(tr, 2)}:${hex(when, 8)} ${hex(sk.retransmits, 8)} ${String(0).padStart(5)} ${String(sk.probesOut).padStart(8)} ${sk.inode} 1 ${sk.kptr} ${clockT(sk.rto)} ${clockT(sk.ackAto)} ${quick} ${sk.cwnd} ${ssthresh}`;
}

function tcpSeqShow(net: Net, family: 4 | 6): string {
  const now = net.kernel.clock.now();
  const v6 = family === 6;
  let out = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    : `${'  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'.padEnd(149)}\n`;
  let i = 0;
  for (const e of tcpSockets(net)) {
    if (entryFamily(e) !== family) continue;
    if (e instanceof TcpSock && e.state === TCP.CLOSE) continue;
    const l = line(e, i++, v6, now);
    out += v6 ? `${l}\n` : `${l.padEnd(149)}\n`;
  }
  return out;
}

/** MPTcpExt: lonet has no MPTCP, so every counter is 0 — but the row is there, as in Linux. */
const MPTCPEXT_FIELDS =
  'MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK MPCapableFallbackSYNACK MPCapableSYNTXDrop MPCapableSYNTXDisabled MPCapableEndpAttempt MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound MPJoinSynRx MPJoinSynBackupRx MPJoinSynAckRx MPJoinSynAckBackupRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure MPJoinRejected MPJoinSynTx MPJoinSynTxCreatSkErr MPJoinSynTxBindErr MPJoinSynTxConnectErr DSSNotMatching DSSCorruptionFallback DSSCorruptionReset InfiniteMapTx InfiniteMapRx DSSNoMatchTCP DataCsumErr OFOQueueTail OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr AddAddrTx AddAddrTxDrop EchoAdd EchoAddTx EchoAddTxDrop PortAdd AddAddrDrop MPJoinPortSynRx MPJoinPortSynAckRx MPJoinPortAckRx MismatchPortSynRx MismatchPortAckRx RmAddr RmAddrDrop RmAddrTx RmAddrTxDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx MPFastcloseTx MPFastcloseRx MPRstTx MPRstRx SubflowStale SubflowRecover SndWndShared RcvWndShared RcvWndConflictUpdate RcvWndConflict MPCurrEstab Blackhole MPCapableDataFallback MD5SigFallback DssFallback SimultConnectFallback FallbackFailed WinProbe'.split(
    ' ',
  );

/** netstat_seq_show(). */
function netstatSeqShow(net: Net): string {
  const tn = tcpNet(net);
  const ipExt = net.ipv4.mib.ipExt;
  const row = (name: string, keys: readonly string[], vals: readonly number[]) =>
    `${name}: ${keys.join(' ')}\n${name}: ${vals.join(' ')}\n`;
  return (
    row(
      'TcpExt',
      TCPEXT_MIB_FIELDS,
      // IP counts its rp_filter drops in the same LINUX_MIB table; TcpExt is where they show.
      TCPEXT_MIB_FIELDS.map((f) => (f === 'IPReversePathFilter' ? net.ipv4.mib.rpFilter : tn.ext[f])),
    ) +
    row(
      'IpExt',
      IPEXT_MIB_FIELDS,
      IPEXT_MIB_FIELDS.map((f) => ipExt[f]),
    ) +
    row(
      'MPTcpExt',
      MPTCPEXT_FIELDS,
      MPTCPEXT_FIELDS.map(() => 0),
    )
  );
}

function tcpSysctls(): SysctlEntry[] {
  const h = (_k: Kernel, net: Net) => tcpNet(net).sysctl as unknown as Record<string, unknown>;
  const e = (name: keyof TcpSysctl, opts: Parameters<typeof intSysctl>[4] = {}) =>
    intSysctl(`net.ipv4.${name}`, true, h, name, opts);
  const vec = (name: 'tcp_rmem' | 'tcp_wmem'): SysctlEntry => ({
    name: `net.ipv4.${name}`,
    perNet: true,
    read: (_k, net) => tcpNet(net).sysctl[name].join('\t'),
    write: (_k, net, text) => {
      const parts = text
        .trim()
        .split(/\s+/)
        .map((p) => parseProcInt(p));
      if (parts.length === 0 || parts.some((p) => p === undefined || p < 1)) return -E.EINVAL;
      const cur = tcpNet(net).sysctl[name];
      const next: [number, number, number] = [cur[0], cur[1], cur[2]];
      parts.slice(0, 3).forEach((p, i) => {
        next[i] = p as number;
      });
      tcpNet(net).sysctl[name] = next;
      return 0;
    },
  });
  const cc: SysctlEntry = {
    name: 'net.ipv4.tcp_congestion_control',
    perNet: true,
    read: (_k, net) => tcpNet(net).sysctl.tcp_congestion_control,
    write: (_k, net, text) => {
      const name = text.trim();
      if (!tcpCongestionExists(name)) return -E.ENOENT;
      tcpNet(net).sysctl.tcp_congestion_control = name;
      return 0;
    },
  };
  const ro = (name: string, value: () => string): SysctlEntry => ({
    name: `net.ipv4.${name}`,
    perNet: true,
    read: value,
    write: () => -E.EACCES,
  });
  return [
    e('tcp_abort_on_overflow', { min: 0, max: 1 }),
    e('tcp_adv_win_scale', { min: -31, max: 31 }),
    ro('tcp_allowed_congestion_control', () => tcpAvailableCongestion().join(' ')),
    e('tcp_app_win', { min: 0, max: 31 }),
    e('tcp_autocorking', { min: 0, max: 1 }),
    ro('tcp_available_congestion_control', () => tcpAvailableCongestion().join(' ')),
    e('tcp_base_mss', { min: 1 }),
    e('tcp_challenge_ack_limit', { min: 0 }),
    cc,
    e('tcp_dsack', { min: 0, max: 1 }),
    e('tcp_early_retrans', { min: 0, max: 4 }),
    e('tcp_ecn', { min: 0, max: 2 }),
    e('tcp_fastopen'),
    e('tcp_fastopen_blackhole_timeout_sec', { min: 0 }),
    ...tcpFastopenSysctls(),
    e('tcp_fin_timeout', { min: 0 }),
    e('tcp_invalid_ratelimit', { min: 0 }),
    e('tcp_keepalive_intvl', { min: 1 }),
    e('tcp_keepalive_probes', { min: 1, max: 127 }),
    e('tcp_keepalive_time', { min: 1 }),
    e('tcp_max_reordering', { min: 1 }),
    e('tcp_min_tso_segs', { min: 1, max: 255 }),
    e('tcp_max_syn_backlog', { min: 0 }),
    e('tcp_max_tw_buckets', { min: 0 }),
    e('tcp_min_snd_mss', { min: 48, max: 65535 }),
    e('tcp_moderate_rcvbuf', { min: 0, max: 1 }),
    e('tcp_orphan_retries', { min: 0 }),
    e('tcp_recovery'),
    e('tcp_reordering', { min: 1 }),
    e('tcp_retries1', { min: 0, max: 255 }),
    e('tcp_retries2', { min: 0 }),
    e('tcp_rfc1337', { min: 0, max: 1 }),
    vec('tcp_rmem'),
    e('tcp_sack', { min: 0, max: 1 }),
    e('tcp_shrink_window', { min: 0, max: 1 }),
    e('tcp_slow_start_after_idle', { min: 0, max: 1 }),
    e('tcp_stdurg', { min: 0, max: 255 }),
    e('tcp_syn_retries', { min: 1, max: 127 }),
    e('tcp_synack_retries', { min: 0 }),
    e('tcp_syncookies', { min: 0, max: 2 }),
    e('tcp_timestamps', { min: 0, max: 2 }),
    e('tcp_tso_rtt_log', { min: 0, max: 255 }),
    e('tcp_tso_win_divisor', { min: 0, max: 255 }),
    e('tcp_tw_reuse', { min: 0, max: 2 }),
    e('tcp_window_scaling', { min: 0, max: 1 }),
    vec('tcp_wmem'),
  ];
}

let registered = false;

export function registerTcpProc(kernel: Kernel): void {
  for (const s of tcpSysctls()) kernel.registerSysctl(s);
  if (registered) return;
  registered = true;
  registerProcNet('tcp', (net) => tcpSeqShow(net, 4));
  registerProcNet('tcp6', (net) => tcpSeqShow(net, 6));
  registerProcNet('netstat', netstatSeqShow);
}

export type { NetnsTcp };
