/**
 * The IPv4 SNMP MIBs (include/uapi/linux/snmp.h) as /proc/net/snmp shows them:
 * every packet IPv4 or ICMP drops increments the counter Linux would.
 */

/** Ip: row, in /proc/net/snmp column order (snmp4_ipstats_list after Forwarding/DefaultTTL). */
export const IP_MIB_FIELDS = [
  'InReceives',
  'InHdrErrors',
  'InAddrErrors',
  'ForwDatagrams',
  'InUnknownProtos',
  'InDiscards',
  'InDelivers',
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
  'OutTransmits',
] as const;

/** Counters /proc/net/netstat's IpExt row shows (a subset for now). */
export const IPEXT_MIB_FIELDS = [
  'InNoRoutes',
  'InTruncatedPkts',
  'InMcastPkts',
  'OutMcastPkts',
  'InBcastPkts',
  'OutBcastPkts',
  'InOctets',
  'OutOctets',
  'InMcastOctets',
  'OutMcastOctets',
  'InBcastOctets',
  'OutBcastOctets',
  'InCsumErrors',
  'InNoECTPkts',
  'InECT1Pkts',
  'InECT0Pkts',
  'InCEPkts',
  'ReasmOverlaps',
] as const;

/**
 * Icmp: row counters that are not per type; the per-type In/Out columns of that row
 * come from the IcmpMsg counters (icmpmibmap), as Linux prints them.
 */
export const ICMP_MIB_FIELDS = [
  'InMsgs',
  'InErrors',
  'InCsumErrors',
  'OutMsgs',
  'OutErrors',
  'OutRateLimitGlobal',
  'OutRateLimitHost',
] as const;

/** Tcp: row after its four constants (RtoAlgorithm 1, RtoMin 200, RtoMax 120000, MaxConn -1). */
export const TCP_MIB_FIELDS = [
  'ActiveOpens',
  'PassiveOpens',
  'AttemptFails',
  'EstabResets',
  'CurrEstab',
  'InSegs',
  'OutSegs',
  'RetransSegs',
  'InErrs',
  'OutRsts',
  'InCsumErrors',
] as const;

/** Udp: and UdpLite: rows. */
export const UDP_MIB_FIELDS = [
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

export type IpMibField = (typeof IP_MIB_FIELDS)[number];
export type TcpMibField = (typeof TCP_MIB_FIELDS)[number];
export type UdpMibField = (typeof UDP_MIB_FIELDS)[number];
export type IpExtMibField = (typeof IPEXT_MIB_FIELDS)[number];
export type IcmpMibField = (typeof ICMP_MIB_FIELDS)[number];

export interface Ipv4Mib {
  ip: Record<IpMibField, number>;
  ipExt: Record<IpExtMibField, number>;
  icmp: Record<IcmpMibField, number>;
  /** IcmpMsg: per ICMP type, packets in and out. */
  icmpMsgIn: Uint32Array;
  icmpMsgOut: Uint32Array;
  /** Transport counters live here too, as in struct netns_mib; the transports increment them. */
  tcp: Record<TcpMibField, number>;
  udp: Record<UdpMibField, number>;
  udplite: Record<UdpMibField, number>;
  /** LINUX_MIB_IPRPFILTER: packets rp_filter refused (netstat's TcpExt IPReversePathFilter). */
  rpFilter: number;
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

export function ipv4MibNew(): Ipv4Mib {
  return {
    ip: zeros(IP_MIB_FIELDS),
    ipExt: zeros(IPEXT_MIB_FIELDS),
    icmp: zeros(ICMP_MIB_FIELDS),
    icmpMsgIn: new Uint32Array(256),
    icmpMsgOut: new Uint32Array(256),
    tcp: zeros(TCP_MIB_FIELDS),
    udp: zeros(UDP_MIB_FIELDS),
    udplite: zeros(UDP_MIB_FIELDS),
    rpFilter: 0,
  };
}
