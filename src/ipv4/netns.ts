/**
 * struct netns_ipv4: the IPv4 state every namespace has of its own: FIB tables and
 * rules, the route generation that invalidates cached routes, per-namespace
 * net.ipv4 sysctls and the SNMP counters of /proc/net/snmp.
 */
import type { NeighTable } from '../core/neighbour.js';
import type { Ipv4DevconfNet } from './devconf.js';
import type { FibTable } from './fib.js';
import type { FibRule } from './fib-rules.js';
import type { Ipv4Mib } from './snmp.js';

/** Per-namespace net.ipv4.* sysctls, with Linux 6.18's defaults. */
export interface Ipv4Sysctl {
  icmp_echo_ignore_all: number;
  icmp_echo_ignore_broadcasts: number;
  icmp_ignore_bogus_error_responses: number;
  icmp_ratelimit: number;
  icmp_ratemask: number;
  icmp_msgs_per_sec: number;
  icmp_msgs_burst: number;
  ip_default_ttl: number;
  ip_no_pmtu_disc: number;
  ipfrag_high_thresh: number;
  ipfrag_low_thresh: number;
  ipfrag_time: number;
  ipfrag_max_dist: number;
}

export function ipv4SysctlDefaults(): Ipv4Sysctl {
  return {
    icmp_echo_ignore_all: 0,
    icmp_echo_ignore_broadcasts: 1,
    icmp_ignore_bogus_error_responses: 1,
    icmp_ratelimit: 1000,
    icmp_ratemask: 6168,
    icmp_msgs_per_sec: 1000,
    icmp_msgs_burst: 50,
    ip_default_ttl: 64,
    ip_no_pmtu_disc: 0,
    ipfrag_high_thresh: 4194304,
    ipfrag_low_thresh: 3145728,
    ipfrag_time: 30,
    ipfrag_max_dist: 64,
  };
}

export interface NetnsIpv4 {
  readonly fibTables: Map<number, FibTable>;
  readonly rules: FibRule[];
  /**
   * fib_has_custom_rules: set once a rule is added or deleted. Until then Linux looks
   * routes up in main merged with local, so `ip route get` reports table main for
   * local routes too.
   */
  fibHasCustomRules: boolean;
  /**
   * fib_has_custom_local_routes: set once a user adds a local route (inet_rtm_newroute).
   * From then on fib_validate_source looks the source up in the FIB instead of only
   * asking whether it is one of this namespace's addresses.
   */
  fibHasCustomLocalRoutes: boolean;
  /** rt_genid: bumped by rt_cache_flush(); a cached route from an older generation is stale. */
  rtGenid: number;
  readonly sysctl: Ipv4Sysctl;
  readonly mib: Ipv4Mib;
  /** net.ipv4.ip_local_port_range: where ephemeral ports come from. */
  ipLocalPortRange: [number, number];
  /** net.ipv4.ping_group_range: the group ids allowed to open ping sockets ("1 0", nobody, by default). */
  pingGroupRange: [number, number];
  /** net.ipv4.conf.all and .default (devconf_all, devconf_dflt). */
  readonly devconf: Ipv4DevconfNet;
  /** arp_tbl's entries for this namespace. */
  readonly arpTbl: NeighTable;
}
