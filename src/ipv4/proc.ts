/** net/ipv4/proc.c: /proc/net/snmp, rendered from the namespace's live MIB counters. */
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { ipv4ForwardingAll } from './devconf.js';
import { ICMP_MIB_MAP } from './icmp.js';
import { IP_MIB_FIELDS, TCP_MIB_FIELDS, UDP_MIB_FIELDS } from './snmp.js';

function row(name: string, fields: readonly string[], values: readonly (number | string)[]): string {
  return `${name}: ${fields.join(' ')}\n${name}: ${values.join(' ')}\n`;
}

/** snmp_seq_show_ipstats + icmp + icmpmsg + tcp/udp/udplite. */
export function snmpSeqShow(net: Net): string {
  const mib = net.ipv4.mib;
  const sys = net.ipv4.sysctl;
  // Forwarding is 1 when forwarding, 2 when not (RFC 1213).
  let out = row(
    'Ip',
    ['Forwarding', 'DefaultTTL', ...IP_MIB_FIELDS],
    [ipv4ForwardingAll(net) ? 1 : 2, sys.ip_default_ttl, ...IP_MIB_FIELDS.map((f) => mib.ip[f])],
  );
  // icmp_put(): three In counters, In per type, four Out counters, Out per type.
  const ic = mib.icmp;
  out += row(
    'Icmp',
    [
      'InMsgs',
      'InErrors',
      'InCsumErrors',
      ...ICMP_MIB_MAP.map(([, n]) => `In${n}`),
      'OutMsgs',
      'OutErrors',
      'OutRateLimitGlobal',
      'OutRateLimitHost',
      ...ICMP_MIB_MAP.map(([, n]) => `Out${n}`),
    ],
    [
      ic.InMsgs,
      ic.InErrors,
      ic.InCsumErrors,
      ...ICMP_MIB_MAP.map(([t]) => mib.icmpMsgIn[t] as number),
      ic.OutMsgs,
      ic.OutErrors,
      ic.OutRateLimitGlobal,
      ic.OutRateLimitHost,
      ...ICMP_MIB_MAP.map(([t]) => mib.icmpMsgOut[t] as number),
    ],
  );
  // IcmpMsg lists only the types seen, In before Out, by type number; no row if none.
  const names: string[] = [];
  const values: number[] = [];
  for (const [dir, counts] of [
    ['In', mib.icmpMsgIn],
    ['Out', mib.icmpMsgOut],
  ] as const) {
    counts.forEach((v, type) => {
      if (v === 0) return;
      names.push(`${dir}Type${type}`);
      values.push(v);
    });
  }
  if (names.length > 0) out += row('IcmpMsg', names, values);
  out += row(
    'Tcp',
    ['RtoAlgorithm', 'RtoMin', 'RtoMax', 'MaxConn', ...TCP_MIB_FIELDS],
    [1, 200, 120000, -1, ...TCP_MIB_FIELDS.map((f) => mib.tcp[f])],
  );
  out += row(
    'Udp',
    UDP_MIB_FIELDS,
    UDP_MIB_FIELDS.map((f) => mib.udp[f]),
  );
  out += row(
    'UdpLite',
    UDP_MIB_FIELDS,
    UDP_MIB_FIELDS.map((f) => mib.udplite[f]),
  );
  return out;
}

export function ipProcInit(): void {
  registerProcNet('snmp', snmpSeqShow);
}
