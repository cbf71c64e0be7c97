/**
 * net/ipv4/af_inet.c inet_init() and the per-namespace IPv4 setup: every namespace
 * gets its FIB (tables appear as routes need them), the default rules, its SNMP
 * counters and its net.ipv4 sysctls; the kernel follows address and device events.
 */

import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { intSysctl, parseProcInt, type SysctlEntry } from '../kernel/sysctl.js';
import { type Net, type PernetOperations, registerPernetSubsys } from '../net/net.js';
import { arpInit, arpTblNew } from './arp.js';
import { devinetSysctlInit, ipv4DevconfNetNew } from './devconf.js';
import { ipFibInit } from './fib-frontend.js';
import { fib4DefaultRules } from './fib-rules.js';
import { icmpInit } from './icmp.js';
import { ipForwardInit } from './ip-forward.js';
import { ipFragmentInit } from './ip-fragment.js';
import { ipInputInit } from './ip-input.js';
import { ipv4SysctlDefaults } from './netns.js';
import { ipProcInit } from './proc.js';
import { ipv4MibNew } from './snmp.js';

const ipv4NetOps: PernetOperations = {
  name: 'ipv4',
  init(net: Net): void {
    net.ipv4 = {
      fibTables: new Map(),
      rules: fib4DefaultRules(),
      fibHasCustomRules: false,
      fibHasCustomLocalRoutes: false,
      rtGenid: 0,
      sysctl: ipv4SysctlDefaults(),
      mib: ipv4MibNew(),
      arpTbl: arpTblNew(net.kernel),
      devconf: ipv4DevconfNetNew(),
      pingGroupRange: [1, 0],
      ipLocalPortRange: [32768, 60999],
    };
  },
};

/** The per-namespace net.ipv4 sysctls with their proc_dointvec_minmax ranges. */
function ipv4Sysctls() {
  const h = (_k: Kernel, net: Net) => net.ipv4.sysctl as unknown as Record<string, unknown>;
  const e = (name: string, opts: Parameters<typeof intSysctl>[4] = {}) =>
    intSysctl(`net.ipv4.${name}`, true, h, name, opts);
  const pingGroupRange: SysctlEntry = {
    name: 'net.ipv4.ping_group_range',
    perNet: true,
    read: (_k, net) => net.ipv4.pingGroupRange.join('\t'),
    // ipv4_ping_group_range(): two gids; a low above the high means "nobody", stored as 1 0.
    write: (_k, net, text) => {
      const parts = text
        .trim()
        .split(/\s+/)
        .map((p) => parseProcInt(p));
      const [lo, hi] = parts;
      if (parts.length !== 2 || lo === undefined || hi === undefined || lo < 0 || hi < 0) return -E.EINVAL;
      net.ipv4.pingGroupRange = hi < lo ? [1, 0] : [lo, hi];
      return 0;
    },
  };
  const ipLocalPortRange: SysctlEntry = {
    name: 'net.ipv4.ip_local_port_range',
    perNet: true,
    read: (_k, net) => net.ipv4.ipLocalPortRange.join('\t'),
    // ipv4_local_port_range(): 1 ≤ low < high ≤ 65535, or EINVAL.
    write: (_k, net, text) => {
      const parts = text
        .trim()
        .split(/\s+/)
        .map((p) => parseProcInt(p));
      const [lo, hi] = parts;
      if (parts.length !== 2 || lo === undefined || hi === undefined || lo < 1 || hi > 65535 || lo >= hi)
        return -E.EINVAL;
      net.ipv4.ipLocalPortRange = [lo, hi];
      return 0;
    },
  };
  return [
    ipLocalPortRange,
    pingGroupRange,
    e('icmp_echo_ignore_all', { min: 0, max: 1 }),
    e('icmp_echo_ignore_broadcasts', { min: 0, max: 1 }),
    e('icmp_ignore_bogus_error_responses', { min: 0, max: 1 }),
    e('icmp_msgs_burst', { min: 0 }),
    e('icmp_msgs_per_sec', { min: 0 }),
    e('icmp_ratelimit', { min: 0 }),
    e('icmp_ratemask'),
    e('ip_default_ttl', { min: 1, max: 255 }),
    e('ip_no_pmtu_disc'),
    e('ipfrag_high_thresh', { min: 0 }),
    e('ipfrag_low_thresh', { min: 0 }),
    e('ipfrag_max_dist', { min: 0 }),
    e('ipfrag_time'),
  ];
}

export function inetInit(kernel: Kernel): void {
  for (const s of ipv4Sysctls()) kernel.registerSysctl(s);
  devinetSysctlInit(kernel);
  registerPernetSubsys(kernel, ipv4NetOps);
  ipFibInit(kernel);
  ipProcInit();
  ipInputInit(kernel);
  ipForwardInit();
  icmpInit(kernel);
  ipFragmentInit();
  arpInit(kernel);
}
