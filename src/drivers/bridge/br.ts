/**
 * net/bridge/br.c and br_netlink.c: the module's init (the rtnl_link kind "bridge"
 * and a netdevice notifier for events on ports) and what `ip -d link` reports about a
 * bridge (IFLA_BR_*) and its ports (IFLA_BRPORT_*).
 */
import { IFF, NETDEV } from '../../core/if.js';
import type { ExtAck, NetDevice } from '../../core/netdevice.js';
import { netifOperUp, registerNetdeviceNotifier } from '../../core/netdevice.js';
import { type LinkAttrs, type LinkInfoData, type RtnlLinkOps, rtnlLinkRegister } from '../../core/rtnetlink.js';
import { E } from '../../include/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Net } from '../../net/net.js';
import { brDevSetup, brNetdevOps } from './br-device.js';
import { brFdbAddLocal, brFdbChangeaddr, brGcSchedule } from './br-fdb.js';
import { brDelIf, brDevDelete, brMtuAutoAdjust, brPortCarrierCheck } from './br-if.js';
import { BR_FLAG, BR_GROUP_ADDRESS, brFromDev, brPortGet, type NetBridge, NS_PER_CLOCK_T } from './br-private.js';
import {
  brNotifyChangeaddr,
  brStpChangeBridgeId,
  brStpDisablePort,
  brStpEnablePort,
  brStpRecalculateBridgeId,
} from './br-stp.js';

/** br_device_event(): what happens to a port changes the bridge. */
function brDeviceEvent(event: number, dev: NetDevice): void {
  const p = brPortGet(dev);
  if (p === null) return;
  const br = p.br;
  switch (event) {
    case NETDEV.CHANGEMTU:
      brMtuAutoAdjust(br);
      break;
    case NETDEV.CHANGEADDR:
      brFdbChangeaddr(p, dev.devAddr);
      if (brStpRecalculateBridgeId(br)) brNotifyChangeaddr(br);
      break;
    case NETDEV.CHANGE:
      brPortCarrierCheck(p);
      break;
    case NETDEV.DOWN:
      if (br.dev.flags & IFF.UP) brStpDisablePort(p);
      break;
    case NETDEV.UP:
      if (br.dev.running && netifOperUp(dev)) brStpEnablePort(p);
      break;
    case NETDEV.UNREGISTER:
      brDelIf(br, dev);
      break;
  }
}

/** clock_t of a duration in nanoseconds. */
function clockT(ns: number): number {
  return Math.floor(ns / NS_PER_CLOCK_T);
}

/** br_timer_value(): what is left of a running timer, in clock_t (0 when not running). */
function timerValue(dev: NetDevice, expires: number): number {
  if (expires === 0) return 0;
  return clockT(Math.max(0, expires - dev.kernel.clock.now()));
}

function bridgeId(prio: number, addr: Uint8Array): Uint8Array {
  const id = new Uint8Array(8);
  id[0] = prio >> 8;
  id[1] = prio & 0xff;
  id.set(addr.subarray(0, 6), 2);
  return id;
}

/**
 * br_fill_info(). The multicast values are Linux's defaults: lonet has no IGMP/MLD
 * snooping, so a bridge behaves as Linux's does before any querier is heard (every
 * multicast frame is flooded and seen locally).
 */
function brFillInfo(dev: NetDevice): LinkInfoData {
  const br = brFromDev(dev) as NetBridge;
  return [
    ['forward_delay', clockT(br.forwardDelay)],
    ['hello_time', clockT(br.helloTime)],
    ['max_age', clockT(br.maxAge)],
    ['ageing_time', clockT(br.ageingTime)],
    ['stp_state', br.stpEnabled],
    ['priority', br.bridgePriority],
    ['vlan_filtering', 0],
    ['bridge_id', bridgeId(br.bridgePriority, br.bridgeIdAddr)],
    ['designated_root', bridgeId(br.bridgePriority, br.designatedRoot)],
    ['root_port', br.rootPort],
    ['root_path_cost', br.rootPathCost],
    ['topology_change', br.topologyChange],
    ['topology_change_detected', br.topologyChangeDetected],
    ['hello_timer', 0],
    ['tcn_timer', 0],
    ['topology_change_timer', 0],
    ['gc_timer', br.gcTimer !== null ? timerValue(dev, br.gcExpires) : 0],
    ['group_fwd_mask', br.groupFwdMask],
    ['group_address', BR_GROUP_ADDRESS],
    ['mcast_snooping', 1],
    ['no_linklocal_learn', 0],
    ['mcast_vlan_snooping', 0],
    ['mcast_router', 1],
    ['mcast_query_use_ifaddr', 0],
    ['mcast_querier', 0],
    ['mcast_hash_elasticity', 16],
    ['mcast_hash_max', 4096],
    ['mcast_last_member_count', 2],
    ['mcast_startup_query_count', 2],
    ['mcast_last_member_interval', 100],
    ['mcast_membership_interval', 26000],
    ['mcast_querier_interval', 25500],
    ['mcast_query_interval', 12500],
    ['mcast_query_response_interval', 1000],
    ['mcast_startup_query_interval', 3124],
    ['mcast_stats_enabled', 0],
    ['mcast_igmp_version', 2],
    ['mcast_mld_version', 1],
    ['nf_call_iptables', 0],
    ['nf_call_ip6tables', 0],
    ['nf_call_arptables', 0],
  ];
}

/** br_port_fill_attrs(). */
function brPortFillSlaveInfo(_br: NetDevice, dev: NetDevice): LinkInfoData {
  const p = brPortGet(dev);
  if (p === null) return [];
  const flag = (f: number) => (p.flags & f ? 1 : 0);
  return [
    ['state', p.state],
    ['priority', p.priority],
    ['cost', p.pathCost],
    ['hairpin', flag(BR_FLAG.HAIRPIN_MODE)],
    ['guard', 0],
    ['root_block', 0],
    ['fastleave', 0],
    ['learning', flag(BR_FLAG.LEARNING)],
    ['flood', flag(BR_FLAG.FLOOD)],
    ['port_id', p.portId],
    ['port_no', p.portNo],
    ['designated_port', p.designatedPort],
    ['designated_cost', p.designatedCost],
    ['designated_bridge', bridgeId(p.br.bridgePriority, p.designatedBridge)],
    ['designated_root', bridgeId(p.br.bridgePriority, p.designatedRoot)],
    ['hold_timer', 0],
    ['message_age_timer', 0],
    ['forward_delay_timer', timerValue(dev, p.forwardDelayExpires)],
    ['topology_change_ack', p.topologyChangeAck],
    ['config_pending', p.configPending],
    ['proxy_arp', 0],
    ['proxy_arp_wifi', 0],
    ['mcast_router', 1],
    ['mcast_fast_leave', 0],
    ['mcast_flood', flag(BR_FLAG.MCAST_FLOOD)],
    ['bcast_flood', flag(BR_FLAG.BCAST_FLOOD)],
    ['mcast_to_unicast', 0],
    ['neigh_suppress', 0],
    ['group_fwd_mask', 0],
    ['vlan_tunnel', 0],
    ['isolated', 0],
    ['locked', 0],
  ];
}

/** What `ip link add|set … type bridge` may change (br_changelink), in clock_t as iproute2 sends. */
function brChangelink(dev: NetDevice, data: Record<string, unknown>, extack: ExtAck): number {
  const br = brFromDev(dev) as NetBridge;
  const ageing = data.ageing_time;
  if (typeof ageing === 'number') {
    br.ageingTime = ageing * NS_PER_CLOCK_T;
    // br_set_ageing_time(): the collector is re-armed with the new interval.
    if (br.gcTimer !== null) brGcSchedule(br, 0);
  }
  const stp = data.stp_state;
  if (typeof stp === 'number' && stp !== 0) {
    extack.msg = 'STP is not available in lonet';
    return -E.EOPNOTSUPP;
  }
  return 0;
}

/**
 * br_dev_newlink(): registered; an address given makes the bridge id (and sticks),
 * otherwise the random one is a local FDB entry until a port's address replaces it.
 */
function brDevNewlink(net: Net, dev: NetDevice, attrs: LinkAttrs, extack: ExtAck): number {
  const err = net.registerNetdevice(dev);
  if (err !== 0) return err;
  const br = brFromDev(dev) as NetBridge;
  if (attrs.address !== undefined) brStpChangeBridgeId(br, attrs.address);
  else brFdbAddLocal(br, null, dev.devAddr);
  return brChangelink(dev, attrs.data ?? {}, extack);
}

export const brLinkOps: RtnlLinkOps = {
  kind: 'bridge',
  setup: brDevSetup,
  netdevOps: brNetdevOps,
  newlink: brDevNewlink,
  dellink: (dev) => brDevDelete(brFromDev(dev) as NetBridge),
  changelink: brChangelink,
  fillInfo: brFillInfo,
  slaveKind: 'bridge_slave',
  fillSlaveInfo: brPortFillSlaveInfo,
};

/** br_init() (module_init). */
export function brInit(kernel: Kernel): void {
  registerNetdeviceNotifier(kernel, brDeviceEvent);
  rtnlLinkRegister(kernel, brLinkOps);
}
