/**
 * net/bridge/br_private.h: the bridge (struct net_bridge), its ports (struct
 * net_bridge_port) and its forwarding database entries, with the kernel's constants.
 * Times are the kernel clock's nanoseconds; Linux keeps jiffies and reports clock_t
 * (centiseconds), which is what `ip -d link` and `bridge -s fdb` print.
 */
import type { NetDevice } from '../../core/netdevice.js';

export { isValidEtherAddr } from '../../core/netdevice.js';

import type { Timer } from '../../kernel/clock.js';

/** BR_STATE_*: the port states (include/uapi/linux/if_bridge.h). */
export const BR_STATE = { DISABLED: 0, LISTENING: 1, LEARNING: 2, FORWARDING: 3, BLOCKING: 4 } as const;

/** stp_enabled. */
export const BR_NO_STP = 0;

/** Port flags (BR_LEARNING …): a new port has learning and the three kinds of flooding on. */
export const BR_FLAG = {
  HAIRPIN_MODE: 1 << 0,
  LEARNING: 1 << 5,
  FLOOD: 1 << 6,
  MCAST_FLOOD: 1 << 13,
  BCAST_FLOOD: 1 << 15,
} as const;

/** BR_FDB_* entry flags. */
export const BR_FDB = { LOCAL: 1 << 0, STATIC: 1 << 1, STICKY: 1 << 2, ADDED_BY_USER: 1 << 3 } as const;

/** What br_handle_frame_finish and br_dev_xmit decide a frame is. */
export const BR_PKT = { UNICAST: 0, MULTICAST: 1, BROADCAST: 2 } as const;

/** USER_HZ: the unit of the times netlink reports (clock_t). */
export const USER_HZ = 100;
export const NS_PER_CLOCK_T = 1e9 / USER_HZ;
/** The 802.1D defaults (br_dev_setup), in nanoseconds. */
export const BR_DEFAULT_AGEING_TIME = 300e9;
export const BR_MAX_AGE = 20e9;
export const BR_HELLO_TIME = 2e9;
export const BR_FORWARD_DELAY = 15e9;
/** BR_PORT_BITS: a port id is the priority's top bits over the port number. */
export const BR_PORT_BITS = 10;
export const BR_MAX_PORTS = 1 << BR_PORT_BITS;
/** 01:80:c2:00:00:00, the bridge group address (eth_stp_addr). */
export const BR_GROUP_ADDRESS = Uint8Array.of(0x01, 0x80, 0xc2, 0x00, 0x00, 0x00);

export interface FdbEntry {
  addr: Uint8Array;
  /** The port it was learned on; null for the bridge's own address. */
  dst: NetBridgePort | null;
  flags: number;
  /** Clock nanoseconds when last seen as a source / used as a destination. */
  updated: number;
  used: number;
}

/** struct net_bridge_port. */
export interface NetBridgePort {
  br: NetBridge;
  dev: NetDevice;
  portNo: number;
  portId: number;
  priority: number;
  pathCost: number;
  state: number;
  flags: number;
  designatedRoot: Uint8Array;
  designatedBridge: Uint8Array;
  designatedPort: number;
  designatedCost: number;
  topologyChangeAck: number;
  configPending: number;
  /** When forward_delay_timer fires (clock ns), or 0 when it is not running. */
  forwardDelayExpires: number;
}

/** struct net_bridge. */
export interface NetBridge {
  dev: NetDevice;
  /** port_list: list_add_rcu puts each new port first. */
  ports: NetBridgePort[];
  /** fdb_hash_tbl, keyed by the MAC as text, and fdb_list (hlist_add_head: newest first). */
  fdb: Map<string, FdbEntry>;
  fdbList: FdbEntry[];
  /** bridge_id: priority (0x8000) and the address STP knows the bridge by. */
  bridgePriority: number;
  bridgeIdAddr: Uint8Array;
  designatedRoot: Uint8Array;
  rootPort: number;
  rootPathCost: number;
  stpEnabled: number;
  ageingTime: number;
  forwardDelay: number;
  helloTime: number;
  maxAge: number;
  topologyChange: number;
  topologyChangeDetected: number;
  groupFwdMask: number;
  /** BROPT_MTU_SET_BY_USER. */
  mtuSetByUser: boolean;
  /** gc_work: the FDB cleanup, and when it next runs (clock ns). */
  gcTimer: Timer | null;
  gcExpires: number;
  /** Per-CPU software counters (dev->tstats). */
  tstats: { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number }[];
}

const ports = new WeakMap<NetDevice, NetBridgePort>();
const bridges = new WeakMap<NetDevice, NetBridge>();

/** br_port_get_rtnl(): the port a device is, or null. */
export function brPortGet(dev: NetDevice): NetBridgePort | null {
  return ports.get(dev) ?? null;
}

export function brPortSet(dev: NetDevice, p: NetBridgePort | null): void {
  if (p === null) ports.delete(dev);
  else ports.set(dev, p);
}

/** netdev_priv() of a bridge device. */
export function brFromDev(dev: NetDevice): NetBridge | null {
  return bridges.get(dev) ?? null;
}

export function brSet(dev: NetDevice, br: NetBridge): void {
  bridges.set(dev, br);
}

export function macKey(addr: Uint8Array): string {
  return Array.from(addr.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function etherAddrEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** memcmp() of two MACs. */
export function etherAddrCmp(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 6; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export function isMulticastEtherAddr(addr: Uint8Array): boolean {
  return ((addr[0] as number) & 1) === 1;
}

export function isBroadcastEtherAddr(addr: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (addr[i] !== 0xff) return false;
  return true;
}

/** is_link_local_ether_addr(): 01:80:c2:00:00:0X. */
export function isLinkLocalEtherAddr(addr: Uint8Array): boolean {
  return (
    addr[0] === 0x01 &&
    addr[1] === 0x80 &&
    addr[2] === 0xc2 &&
    addr[3] === 0 &&
    addr[4] === 0 &&
    ((addr[5] as number) & 0xf0) === 0
  );
}

/** this_cpu_ptr(dev->tstats). */
export function thisCpuTstats(br: NetBridge): NetBridge['tstats'][number] {
  return br.tstats[br.dev.kernel.curCpu] as NetBridge['tstats'][number];
}
