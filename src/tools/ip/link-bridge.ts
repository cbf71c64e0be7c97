/**
 * iproute2's ip/iplink_bridge.c and iplink_bridge_slave.c: printing IFLA_BR_* and
 * IFLA_BRPORT_* (`ip -d link`), and parsing `type bridge` options. The bridge tool's
 * `bridge link` prints the same port attributes (bridge/link.c print_protinfo).
 */
import type { LinkInfoData } from '../../core/rtnetlink.js';
import type { IpContext } from './common.js';
import { getInteger, invarg, nextArg } from './common.js';

/** The port states by number (bridge/link.c stp_states). */
export const STP_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;

/** Port attributes printed as on/off (print_on_off). */
const ON_OFF = new Set([
  'hairpin',
  'guard',
  'root_block',
  'fastleave',
  'learning',
  'flood',
  'proxy_arp',
  'proxy_arp_wifi',
  'mcast_fast_leave',
  'mcast_flood',
  'bcast_flood',
  'mcast_to_unicast',
  'neigh_suppress',
  'vlan_tunnel',
  'isolated',
  'locked',
]);

/** br_dump_bridge_id(): "8000.2:0:0:0:0:1". */
function bridgeIdText(id: Uint8Array): string {
  const hex = (b: number) => b.toString(16);
  return `${hex(id[0] as number).padStart(2, '0')}${hex(id[1] as number).padStart(2, '0')}.${Array.from(id.subarray(2), hex).join(':')}`;
}

/** _print_timer(): clock_t as "%4i.%.2i". */
function timerText(centis: number): string {
  return `${String(Math.floor(centis / 100)).padStart(4)}.${String(centis % 100).padStart(2, '0')}`;
}

function valueText(kind: string, name: string, v: number | string | Uint8Array): string {
  if (v instanceof Uint8Array) {
    if (v.length === 8) return bridgeIdText(v);
    return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(':');
  }
  if (typeof v === 'string') return v;
  if (name.endsWith('_timer')) return timerText(v);
  if (kind === 'bridge_slave') {
    if (name === 'state') return STP_STATES[v] ?? String(v);
    if (ON_OFF.has(name)) return v ? 'on' : 'off';
    if (name === 'port_id' || name === 'port_no') return `0x${v.toString(16)}`;
  }
  return String(v);
}

/** bridge_print_opt() / bridge_slave_print_opt(): "name value " for each attribute. */
export function bridgeInfoText(kind: string, data: LinkInfoData): string {
  let s = '';
  for (const [name, v] of data) {
    s += `${name} ${valueText(kind, name, v)} `;
    // The port's mask is printed twice, as a number and as the hex string of its bits.
    if (kind === 'bridge_slave' && name === 'group_fwd_mask' && typeof v === 'number')
      s += `group_fwd_mask_str 0x${v.toString(16)} `;
  }
  return s;
}

const BRIDGE_EXPLAIN = `Usage: ... bridge [ fdb_flush ]
		  [ forward_delay FORWARD_DELAY ]
		  [ hello_time HELLO_TIME ]
		  [ max_age MAX_AGE ]
		  [ ageing_time AGEING_TIME ]
		  [ stp_state STP_STATE ]
		  [ priority PRIORITY ]
		  [ group_fwd_mask MASK ]
		  [ group_address ADDRESS ]
		  [ no_linklocal_learn NO_LINKLOCAL_LEARN ]
		  [ vlan_filtering VLAN_FILTERING ]
		  [ vlan_protocol VLAN_PROTOCOL ]
		  [ vlan_default_pvid VLAN_DEFAULT_PVID ]
		  [ vlan_stats_enabled VLAN_STATS_ENABLED ]
		  [ vlan_stats_per_port VLAN_STATS_PER_PORT ]
		  [ mcast_snooping MULTICAST_SNOOPING ]
		  [ mcast_vlan_snooping MULTICAST_VLAN_SNOOPING ]
		  [ mcast_router MULTICAST_ROUTER ]
		  [ mcast_query_use_ifaddr MCAST_QUERY_USE_IFADDR ]
		  [ mcast_querier MULTICAST_QUERIER ]
		  [ mcast_hash_elasticity HASH_ELASTICITY ]
		  [ mcast_hash_max HASH_MAX ]
		  [ mcast_last_member_count LAST_MEMBER_COUNT ]
		  [ mcast_startup_query_count STARTUP_QUERY_COUNT ]
		  [ mcast_last_member_interval LAST_MEMBER_INTERVAL ]
		  [ mcast_membership_interval MEMBERSHIP_INTERVAL ]
		  [ mcast_querier_interval QUERIER_INTERVAL ]
		  [ mcast_query_interval QUERY_INTERVAL ]
		  [ mcast_query_response_interval QUERY_RESPONSE_INTERVAL ]
		  [ mcast_startup_query_interval STARTUP_QUERY_INTERVAL ]
		  [ mcast_stats_enabled MCAST_STATS_ENABLED ]
		  [ mcast_igmp_version IGMP_VERSION ]
		  [ mcast_mld_version MLD_VERSION ]
		  [ nf_call_iptables NF_CALL_IPTABLES ]
		  [ nf_call_ip6tables NF_CALL_IP6TABLES ]
		  [ nf_call_arptables NF_CALL_ARPTABLES ]

Where: VLAN_PROTOCOL := { 802.1Q | 802.1ad }
`;

/**
 * bridge_parse_opt(), the options lonet's bridge takes: ageing_time and stp_state
 * (clock_t and 0/1 as iproute2 sends them). Returns the IFLA_INFO_DATA, or -1.
 */
export function bridgeParseOpt(ctx: IpContext, args: string[]): Record<string, unknown> | number {
  const data: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'ageing_time' || a === 'stp_state') {
      const v = nextArg(ctx, args, i++);
      const n = getInteger(v);
      if (n === null || n < 0) invarg(ctx, `invalid ${a}`, v);
      data[a] = n;
    } else if (a === 'help') {
      ctx.stderr.write(BRIDGE_EXPLAIN);
      return -1;
    } else {
      ctx.stderr.write(`bridge: unknown command "${a}"?\n${BRIDGE_EXPLAIN}`);
      return -1;
    }
  }
  return data;
}
