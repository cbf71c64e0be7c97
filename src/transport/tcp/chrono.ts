/**
 * tcp_chrono (net/ipv4/tcp_output.c): how long a connection has had data to send, and of
 * that, how long the peer's window or the send buffer held it back — tcpi_busy_time,
 * tcpi_rwnd_limited and tcpi_sndbuf_limited, ss -i's busy:/rwnd_limited:/sndbuf_limited:.
 * One chronograph runs at a time, the most interesting condition winning.
 */
import type { TcpSock } from './sock.js';

export const TCP_CHRONO = { UNSPEC: 0, BUSY: 1, RWND_LIMITED: 2, SNDBUF_LIMITED: 3 } as const;

/** tcp_chrono_set(): close the running period into its total, open one of `type`. */
function tcpChronoSet(sk: TcpSock, type: number, now: number): void {
  const old = sk.chronoType;
  if (old > TCP_CHRONO.UNSPEC) sk.chronoStat[old - 1] = (sk.chronoStat[old - 1] as number) + (now - sk.chronoStart);
  sk.chronoStart = now;
  sk.chronoType = type;
}

/** tcp_chrono_start(): a more interesting condition takes over the chronograph. */
export function tcpChronoStart(sk: TcpSock, type: number, now: number): void {
  if (type > sk.chronoType) tcpChronoSet(sk, type, now);
}

/** tcp_chrono_stop(): idle once nothing is queued, else back to plain busy if `type` was running. */
export function tcpChronoStop(sk: TcpSock, type: number, now: number): void {
  if (sk.wq.length === 0) tcpChronoSet(sk, TCP_CHRONO.UNSPEC, now);
  else if (type === sk.chronoType) tcpChronoSet(sk, TCP_CHRONO.BUSY, now);
}

/** tcp_get_info_chrono_stats(): each total in µs, the running period included; busy is their sum. */
export function tcpChronoStats(sk: TcpSock, now: number): { busy: number; rwndLimited: number; sndbufLimited: number } {
  const ns = sk.chronoStat.map((t, i) => t + (sk.chronoType === i + 1 ? now - sk.chronoStart : 0));
  const us = ns.map((t) => Math.floor(t / 1e3));
  return {
    busy: (us[0] as number) + (us[1] as number) + (us[2] as number),
    rwndLimited: us[1] as number,
    sndbufLimited: us[2] as number,
  };
}
