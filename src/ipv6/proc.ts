/** net/ipv6/proc.c: /proc/net/snmp6, one "%-32s\t%lu" line per counter, from live MIBs. */
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { ICMP6_TYPE_NAMES } from './icmp.js';
import { ICMP6_MIB_FIELDS, IP6_MIB_FIELDS, UDP6_MIB_FIELDS } from './netns.js';

const line = (name: string, v: number) => `${name.padEnd(32)}\t${v}\n`;

export function snmp6SeqShow(net: Net): string {
  const mib = net.ipv6.mib;
  let out = '';
  for (const f of IP6_MIB_FIELDS) out += line(`Ip6${f}`, mib.ip6[f]);
  for (const f of ICMP6_MIB_FIELDS) out += line(`Icmp6${f}`, mib.icmp6[f]);
  for (const [t, n] of ICMP6_TYPE_NAMES) out += line(`Icmp6In${n}`, mib.icmp6MsgIn[t] as number);
  for (const [t, n] of ICMP6_TYPE_NAMES) out += line(`Icmp6Out${n}`, mib.icmp6MsgOut[t] as number);
  // Then every type seen, by number: In first, then Out.
  mib.icmp6MsgIn.forEach((v, t) => {
    if (v !== 0) out += line(`Icmp6InType${t}`, v);
  });
  mib.icmp6MsgOut.forEach((v, t) => {
    if (v !== 0) out += line(`Icmp6OutType${t}`, v);
  });
  for (const f of UDP6_MIB_FIELDS) out += line(`Udp6${f}`, mib.udp6[f]);
  for (const f of UDP6_MIB_FIELDS) if (f !== 'IgnoredMulti') out += line(`UdpLite6${f}`, mib.udplite6[f]);
  return out;
}

export function ipv6ProcInit(): void {
  registerProcNet('snmp6', snmp6SeqShow);
}
