/**
 * struct netns_ipv6: a namespace's IPv6 routes, route generation, neighbour entries,
 * sysctls and the counters of /proc/net/snmp6.
 */
import type { NeighTable } from '../core/neighbour.js';
import type { Ipv6DevconfNet } from './devconf.js';
import type { Fib6Table } from './route.js';

/** /proc/net/snmp6's Ip6 counters, in its order. */
export const IP6_MIB_FIELDS = [
  'InReceives',
  'InHdrErrors',
  'InTooBigErrors',
  'InNoRoutes',
  'InAddrErrors',
  'InUnknownProtos',
  'InTruncatedPkts',
  'InDiscards',
  'InDelivers',
  'OutForwDatagrams',
  'OutRequests',
  'OutDiscards',
  'OutNoRoutes',
  'ReasmTimeout',
  'ReasmReqds',
  'ReasmOKs',
  'ReasmFails',
  'FragOKs',
  'FragFails',
  'FragCreates',
  'InMcastPkts',
  'OutMcastPkts',
  'InOctets',
  'OutOctets',
  'InMcastOctets',
  'OutMcastOctets',
  'InBcastOctets',
  'OutBcastOctets',
  'InNoECTPkts',
  'InECT1Pkts',
  'InECT0Pkts',
  'InCEPkts',
  'OutTransmits',
] as const;

export const ICMP6_MIB_FIELDS = [
  'InMsgs',
  'InErrors',
  'OutMsgs',
  'OutErrors',
  'InCsumErrors',
  'OutRateLimitHost',
] as const;

export const UDP6_MIB_FIELDS = [
  'InDatagrams',
  'NoPorts',
  'InErrors',
  'OutDatagrams',
  'RcvbufErrors',
  'SndbufErrors',
  'InCsumErrors',
  'IgnoredMulti',
  'MemErrors',
] as const;

export type Ip6MibField = (typeof IP6_MIB_FIELDS)[number];
export type Icmp6MibField = (typeof ICMP6_MIB_FIELDS)[number];
export type Udp6MibField = (typeof UDP6_MIB_FIELDS)[number];

export interface Ipv6Mib {
  ip6: Record<Ip6MibField, number>;
  icmp6: Record<Icmp6MibField, number>;
  icmp6MsgIn: Uint32Array;
  icmp6MsgOut: Uint32Array;
  udp6: Record<Udp6MibField, number>;
  udplite6: Record<Udp6MibField, number>;
}

/** Zeroed counters, copied from one template per field list: a namespace is made in microseconds. */
const zeroTemplates = new WeakMap<readonly string[], Record<string, number>>();
function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  let t = zeroTemplates.get(keys);
  if (t === undefined) {
    t = Object.fromEntries(keys.map((k) => [k, 0]));
    zeroTemplates.set(keys, t);
  }
  return { ...t } as Record<K, number>;
}

export function ipv6MibNew(): Ipv6Mib {
  return {
    ip6: zeros(IP6_MIB_FIELDS),
    icmp6: zeros(ICMP6_MIB_FIELDS),
    icmp6MsgIn: new Uint32Array(256),
    icmp6MsgOut: new Uint32Array(256),
    udp6: zeros(UDP6_MIB_FIELDS),
    udplite6: zeros(UDP6_MIB_FIELDS),
  };
}

/** Per-namespace IPv6 settings (net.ipv6.*), Linux defaults. */
export interface Ipv6Sysctl {
  /** net.ipv6.conf.*.hop_limit */
  hop_limit: number;
  /** net.ipv6.auto_flowlabels */
  auto_flowlabels: number;
  /** net.ipv6.icmp.echo_ignore_all */
  echo_ignore_all: number;
  /** net.ipv6.icmp.ratelimit (ms) */
  ratelimit: number;
  /** net.ipv6.bindv6only: new IPv6 sockets are IPV6_V6ONLY. */
  bindv6only: number;
}

export interface NetnsIpv6 {
  readonly tables: Map<number, Fib6Table>;
  /** Bumped on any route or address change: cached routes compare it. */
  genid: number;
  readonly sysctl: Ipv6Sysctl;
  readonly mib: Ipv6Mib;
  readonly ndTbl: NeighTable;
  /** net.ipv6.conf.all and .default (devconf_all, devconf_dflt). */
  readonly devconf: Ipv6DevconfNet;
}
