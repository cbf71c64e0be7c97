/**
 * The rtnl_link registry (net/core/rtnetlink.c: rtnl_link_register, rtnl_newlink,
 * rtnl_dellink): device kinds register here, and `ip link add … type KIND` and
 * `ip link del` reach a driver only through what it registered, so core and the tools
 * never name a driver.
 *
 * Registering a kind (a driver's init, listed at the device level of init.ts):
 *
 *     export const dummyLinkOps: RtnlLinkOps = {
 *       kind: 'dummy',
 *       setup: dummySetup,            // alloc_netdev's setup: ops tables, flags, MTU limits
 *       netdevOps: dummyNetdevOps,    // its net_device_ops
 *     };
 *     export function dummyInit(kernel: Kernel) { rtnlLinkRegister(kernel, dummyLinkOps); }
 *
 * Everything else in RtnlLinkOps is optional: newlink for kinds that make more than one
 * device or need the request's arguments (veth's peer), dellink for kinds that take
 * others with them, getLinkNet for `link-netnsid`, fillInfo for `ip -d link`.
 */
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { NET_ADDR } from './if.js';
import { type ExtAck, NetDevice, type NetDeviceOps } from './netdevice.js';

/** What `ip link add` asked for beyond the kind: the IFLA_* attributes iproute2 sends. */
export interface LinkAttrs {
  /** IFLA_ADDRESS. */
  address?: Uint8Array;
  mtu?: number;
  txqlen?: number;
  numTxQueues?: number;
  numRxQueues?: number;
  /** IFLA_INFO_DATA: the kind's own arguments, already parsed by the tool. */
  data?: Record<string, unknown>;
}

/** struct rtnl_link_ops, the part lonet's drivers use. Returns are 0 or -errno. */
export interface RtnlLinkOps {
  kind: string;
  /** alloc_netdev's setup function. */
  setup(dev: NetDevice): void;
  netdevOps: NetDeviceOps;
  /** ->newlink(): register dev (and whatever comes with it). Default: register it in net. */
  newlink?(net: Net, dev: NetDevice, attrs: LinkAttrs, extack: ExtAck): number;
  /** ->dellink(): unregister dev; a kind may take others along (veth's peer). Default: dev alone. */
  dellink?(dev: NetDevice): void;
  /** ->get_link_net(): the namespace of the device this one is tied to (IFLA_LINK_NETNSID). */
  getLinkNet?(dev: NetDevice): Net | null;
  /** ->changelink(): `ip link set DEV type KIND …` with the kind's own arguments. */
  changelink?(dev: NetDevice, data: Record<string, unknown>, extack: ExtAck): number;
  /** ->fill_info(): IFLA_INFO_DATA, attribute by attribute in the kernel's order (`ip -d link`). */
  fillInfo?(dev: NetDevice): LinkInfoData;
  /** ->slave_kind and ->fill_slave_info(): what a master says about one of its ports. */
  slaveKind?: string;
  fillSlaveInfo?(dev: NetDevice, slave: NetDevice): LinkInfoData;
}

/** IFLA_INFO_DATA / IFLA_INFO_SLAVE_DATA: attribute names (iproute2's) and values, in order. */
export type LinkInfoData = [string, number | string | Uint8Array][];

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** link_ops: the registered kinds. */
    linkOps: Map<string, RtnlLinkOps>;
  }
}

declare module './netdevice.js' {
  interface NetDevice {
    /** dev->rtnl_link_ops: the kind that made it; absent for lo and blackhole_dev. */
    rtnlLinkOps?: RtnlLinkOps;
  }
}

/** rtnetlink_init(). */
export function rtnetlinkInit(kernel: Kernel): void {
  kernel.linkOps = new Map();
}

/** rtnl_link_register(): -EEXIST for a kind already taken. */
export function rtnlLinkRegister(kernel: Kernel, ops: RtnlLinkOps): number {
  if (kernel.linkOps.has(ops.kind)) return -E.EEXIST;
  kernel.linkOps.set(ops.kind, ops);
  return 0;
}

export function rtnlLinkUnregister(kernel: Kernel, ops: RtnlLinkOps): void {
  if (kernel.linkOps.get(ops.kind) === ops) kernel.linkOps.delete(ops.kind);
}

/** rtnl_create_link(): allocate a device of this kind with the request's attributes. */
export function rtnlCreateLink(kernel: Kernel, ops: RtnlLinkOps, name: string, attrs: LinkAttrs): NetDevice {
  const dev = new NetDevice(kernel, name, ops.setup, ops.netdevOps);
  dev.rtnlLinkOps = ops;
  if (attrs.numTxQueues !== undefined) dev.numTxQueues = attrs.numTxQueues;
  if (attrs.numRxQueues !== undefined) dev.numRxQueues = attrs.numRxQueues;
  if (attrs.mtu !== undefined) dev.mtu = attrs.mtu;
  if (attrs.txqlen !== undefined) dev.txQueueLen = attrs.txqlen;
  if (attrs.address !== undefined) {
    dev.devAddr.set(attrs.address.subarray(0, dev.addrLen));
    dev.addrAssignType = NET_ADDR.SET;
  }
  return dev;
}

/**
 * rtnl_newlink() for a new device: the kind must be registered (-EOPNOTSUPP, "Unknown
 * device type" otherwise), the name free (-EEXIST).
 */
export function rtnlNewlink(net: Net, kind: string, name: string, attrs: LinkAttrs, extack: ExtAck): number {
  const ops = net.kernel.linkOps.get(kind);
  if (ops === undefined) {
    extack.msg = 'Unknown device type';
    return -E.EOPNOTSUPP;
  }
  // No name given: named after its kind ("dummy%d"), numbered when it registers.
  const devName = name === '' ? `${kind}%d` : name;
  if (net.devGetByName(devName) !== undefined) return -E.EEXIST;
  const dev = rtnlCreateLink(net.kernel, ops, devName, attrs);
  if (ops.newlink !== undefined) return ops.newlink(net, dev, attrs, extack);
  return net.registerNetdevice(dev);
}

/**
 * rtnl_fill_link_netnsid() as RTM_NEWLINK notifications run it: the namespace of the
 * device this one is tied to gets an id in this one's (peernet2id_alloc).
 */
export function rtnlLinkNetnsidAlloc(dev: NetDevice): void {
  const linkNet = dev.rtnlLinkOps?.getLinkNet?.(dev) ?? null;
  if (linkNet !== null && dev.net !== null && linkNet !== dev.net) dev.net.peernet2idAlloc(linkNet);
}

/** rtnl_dellink(): only devices a kind made can be deleted (-EOPNOTSUPP for lo). */
export function rtnlDellink(dev: NetDevice): number {
  const ops = dev.rtnlLinkOps;
  if (ops === undefined) return -E.EOPNOTSUPP;
  if (ops.dellink !== undefined) ops.dellink(dev);
  else dev.net?.unregisterNetdevice(dev);
  return 0;
}

/**
 * do_set_master(): `ip link set DEV master M` (ifindex 0: nomaster). The old master
 * lets go first; a device that cannot be one (no ndo_add_slave) is -EOPNOTSUPP.
 */
export function doSetMaster(dev: NetDevice, ifindex: number, extack: ExtAck): number {
  let upper = dev.master;
  if (upper !== null) {
    if (upper.ifindex === ifindex) return 0;
    const del = upper.netdevOps.ndoDelSlave;
    if (del === undefined) return -E.EOPNOTSUPP;
    const err = del(upper, dev);
    if (err !== 0) return err;
  }
  if (ifindex !== 0) {
    upper = dev.net?.devGetByIndex(ifindex) ?? null;
    if (upper === null) return -E.EINVAL;
    const add = upper.netdevOps.ndoAddSlave;
    if (add === undefined) return -E.EOPNOTSUPP;
    return add(upper, dev, extack);
  }
  return 0;
}

/** NTF_SELF / NTF_MASTER (ndm_flags) and the NLM_F_* bits an FDB request carries. */
export const NTF = { SELF: 0x02, MASTER: 0x04, STICKY: 0x40 } as const;
export const NLM_F = { REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800 } as const;

/**
 * rtnl_fdb_add() / rtnl_fdb_del() (RTM_NEWNEIGH / RTM_DELNEIGH, AF_BRIDGE): a bridge
 * port's request goes to its master unless only NTF_SELF was asked; NTF_SELF goes to the
 * device's own handler. Devices without one would use ndo_dflt_fdb_add (their unicast
 * and multicast address lists), which lonet does not keep: EOPNOTSUPP.
 */
export function rtnlFdbChange(
  dev: NetDevice,
  addr: Uint8Array,
  state: number,
  ntf: number,
  nlFlags: number,
  add: boolean,
): number {
  let err = -E.EOPNOTSUPP;
  if ((!(ntf & (NTF.SELF | NTF.MASTER)) || ntf & NTF.MASTER) && dev.master !== null) {
    const ops = dev.master.netdevOps;
    err = (add ? ops.ndoFdbAdd?.(dev, addr, state, ntf, nlFlags) : ops.ndoFdbDel?.(dev, addr)) ?? -E.EOPNOTSUPP;
    if (err !== 0) return err;
  }
  if (ntf & NTF.SELF) {
    const ops = dev.netdevOps;
    err = (add ? ops.ndoFdbAdd?.(dev, addr, state, ntf, nlFlags) : ops.ndoFdbDel?.(dev, addr)) ?? -E.EOPNOTSUPP;
  }
  return err;
}
