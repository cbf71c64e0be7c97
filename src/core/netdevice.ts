/**
 * struct net_device and the calls that change it (net/core/dev.c: dev_open,
 * dev_close, dev_set_mtu, dev_change_name, dev_set_mac_address, dev_get_flags,
 * dev_get_stats). A driver fills in the fields and three ops tables; the core
 * knows nothing about what kind of device it is.
 */

import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { ARPHRD, IF_OPER, IFF, IFF_PRIV, IFNAMSIZ, NET_ADDR, NETDEV } from './if.js';
import type { NetdevFeatures } from './netdev-features.js';
import type { PacketType } from './packet-type.js';
import type { SkBuff } from './skbuff.js';

/** struct rtnl_link_stats64, field for field. */
export class RtnlLinkStats64 {
  rxPackets = 0;
  txPackets = 0;
  rxBytes = 0;
  txBytes = 0;
  rxErrors = 0;
  txErrors = 0;
  rxDropped = 0;
  txDropped = 0;
  multicast = 0;
  collisions = 0;
  rxLengthErrors = 0;
  rxOverErrors = 0;
  rxCrcErrors = 0;
  rxFrameErrors = 0;
  rxFifoErrors = 0;
  rxMissedErrors = 0;
  txAbortedErrors = 0;
  txCarrierErrors = 0;
  txFifoErrors = 0;
  txHeartbeatErrors = 0;
  txWindowErrors = 0;
  rxCompressed = 0;
  txCompressed = 0;
  rxNohandler = 0;
  rxOtherhostDropped = 0;
}

/** struct net_device_core_stats: drops the core itself counts on any device. */
export interface NetDeviceCoreStats {
  rxDropped: number;
  txDropped: number;
  rxNohandler: number;
  rxOtherhostDropped: number;
}

/** struct pcpu_lstats: a driver's per-CPU packet and byte counts. */
export interface PcpuLstats {
  packets: number;
  bytes: number;
}

/** struct net_device_ops, the part lonet's drivers use. Returns are 0 or -errno. */
export interface NetDeviceOps {
  ndoInit?(dev: NetDevice): number;
  ndoOpen?(dev: NetDevice): number;
  ndoStop?(dev: NetDevice): number;
  ndoStartXmit(skb: SkBuff, dev: NetDevice): number;
  ndoGetStats64?(dev: NetDevice, stats: RtnlLinkStats64): void;
  ndoSetMacAddress?(dev: NetDevice, addr: Uint8Array): number;
  ndoChangeMtu?(dev: NetDevice, mtu: number): number;
  /** The ifindex of the device this one is tied to (veth: its peer); absent means its own. */
  ndoGetIflink?(dev: NetDevice): number;
  /** `ip link set SLAVE master DEV`: a master (bridge) takes a port. */
  ndoAddSlave?(dev: NetDevice, slave: NetDevice, extack: ExtAck): number;
  ndoDelSlave?(dev: NetDevice, slave: NetDevice): number;
  /**
   * ndo_fdb_dump(): a bridge's forwarding entries (RTM_GETNEIGH, AF_BRIDGE), those of
   * port `filterDev` only, or with null the ones that belong to no port.
   */
  ndoFdbDump?(dev: NetDevice, filterDev: NetDevice | null): FdbDumpEntry[];
  /**
   * ndo_fdb_add() / ndo_fdb_del() of a master or of the device itself: `dev` is the port
   * (or the bridge) the entry is for; state NUD_*, ntf NTF_*, nlFlags NLM_F_{CREATE,EXCL,…}.
   */
  ndoFdbAdd?(dev: NetDevice, addr: Uint8Array, state: number, ntf: number, nlFlags: number): number;
  ndoFdbDel?(dev: NetDevice, addr: Uint8Array): number;
}

/** One RTM_NEWNEIGH of an FDB dump: ndm_ifindex, ndm_state (NUD_*), ndm_flags (NTF_*), NDA_*. */
export interface FdbDumpEntry {
  lladdr: Uint8Array;
  ifindex: number;
  state: number;
  flags: number;
  master: number;
  /** NDA_CACHEINFO: clock_t since last used and last updated. */
  used: number;
  updated: number;
}

/** rx_handler_func_t: may consume the frame (RX_HANDLER.CONSUMED) or let it pass on. */
export type RxHandler = (skb: SkBuff) => number;

/** struct ethtool_ts_info. */
export interface EthtoolTsInfo {
  soTimestamping: number;
  phcIndex: number;
  txTypes: number;
  rxFilters: number;
}

/** struct ethtool_ops, the part lonet's drivers use. */
export interface EthtoolOps {
  getLink?(dev: NetDevice): number;
  getTsInfo?(dev: NetDevice, info: EthtoolTsInfo): number;
  getDrvinfo?(dev: NetDevice): { driver: string; version: string; busInfo: string };
  getSsetCount?(dev: NetDevice): number;
  /** ETH_SS_STATS names and values, in the same order (ethtool -S). */
  getEthtoolStats?(dev: NetDevice): [string, number][];
  /** get_link_ksettings: speed in Mb/s (-1 unknown) and duplex (1 full, 0 half, 0xff unknown). */
  getLinkKsettings?(dev: NetDevice): { speed: number; duplex: number };
  /** ethtool -l: maximum and current RX/TX channels. */
  getChannels?(dev: NetDevice): { maxRx: number; maxTx: number; rxCount: number; txCount: number };
}

/** struct header_ops. create returns the header length pushed, or a negative length on failure. */
export interface HeaderOps {
  create(
    skb: SkBuff,
    dev: NetDevice,
    type: number,
    daddr: Uint8Array | null,
    saddr: Uint8Array | null,
    len: number,
  ): number;
  /** Copies the source hardware address into haddr; returns its length. */
  parse?(skb: SkBuff, haddr: Uint8Array): number;
}

export type NetdevNotifier = (event: number, dev: NetDevice) => void;

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** netdev_chain: told of every device event. */
    netdevChain: NetdevNotifier[];
    /** blackhole_dev: global, never registered, takes packets of routes whose device went away. */
    blackholeDev: NetDevice;
  }
}

/** register_netdevice_notifier(). */
export function registerNetdeviceNotifier(kernel: Kernel, fn: NetdevNotifier): void {
  kernel.netdevChain.push(fn);
}

/** unregister_netdevice_notifier(). */
export function unregisterNetdeviceNotifier(kernel: Kernel, fn: NetdevNotifier): void {
  const i = kernel.netdevChain.indexOf(fn);
  if (i >= 0) kernel.netdevChain.splice(i, 1);
}

/** call_netdevice_notifiers(). A copy: a notifier may unregister itself (or another) while the chain runs. */
export function callNetdeviceNotifiers(event: number, dev: NetDevice): void {
  for (const fn of [...dev.kernel.netdevChain]) fn(event, dev);
}

/** What the device layer calls on a root qdisc users attached (struct Qdisc; sched/ implements it). */
export interface DevQdisc {
  readonly id: string;
  /** Whether it has an enqueue (a noqueue made by tc has none). */
  readonly enqueues: boolean;
  /** __dev_xmit_skb(): enqueue, then run the queue; returns NET_XMIT_*. */
  devXmit(skb: SkBuff): number;
  /** qdisc_reset(): dev_deactivate drops what waits when the device goes down. */
  reset(): void;
}

export class NetDevice {
  name: string;
  ifindex = 0;
  iflink = 0;
  type: number = ARPHRD.ETHER;
  /** dev->flags as set by users and drivers; RUNNING/LOWER_UP are derived by devGetFlags. */
  flags = 0;
  /** Flags users asked for (PROMISC/ALLMULTI) apart from counts. */
  gflags = 0;
  privFlags: number = IFF_PRIV.XMIT_DST_RELEASE | IFF_PRIV.XMIT_DST_RELEASE_PERM;
  features: NetdevFeatures = 0n;
  hwFeatures: NetdevFeatures = 0n;
  wantedFeatures: NetdevFeatures = 0n;
  mtu = 1500;
  minMtu = 0;
  maxMtu = 0;
  hardHeaderLen = 0;
  minHeaderLen = 0;
  neededHeadroom = 0;
  addrLen = 0;
  devAddr = new Uint8Array(32);
  broadcast = new Uint8Array(32);
  addrAssignType: number = NET_ADDR.PERM;
  txQueueLen = 1000;
  numTxQueues = 1;
  numRxQueues = 1;
  gsoMaxSize = 65536;
  gsoMaxSegs = 65535;
  groMaxSize = 65536;
  gsoIpv4MaxSize = 65536;
  groIpv4MaxSize = 65536;
  tsoMaxSize = 65536;
  tsoMaxSegs = 65535;
  operstate: number = IF_OPER.UNKNOWN;
  /** IFLA_LINKMODE: 0 = DEFAULT, 1 = DORMANT. */
  linkmode = 0;
  group = 0;
  promiscuity = 0;
  allmulti = 0;
  /** __LINK_STATE_START: the device is open (netif_running). */
  running = false;
  /** !__LINK_STATE_NOCARRIER. */
  carrierOk = true;
  /** carrier_up_count + carrier_down_count (IFLA_CARRIER_CHANGES). */
  carrierChanges = 0;
  dormant = false;
  /** dev->lltx: the driver needs no TX lock. */
  lltx = false;
  /** dev->netns_immutable: cannot move to another namespace. */
  netnsImmutable = false;
  /** The root qdisc's kind (dev->qdisc): noop until the first up attaches the default (noqueue for IFF_NO_QUEUE). */
  qdisc = 'noop';
  /** The TX queue's qdisc now: dev_activate installs the root, dev_deactivate parks it on noop. */
  txqQdisc = 'noop';
  /** The root qdisc object when users attached one (handle ≠ 0); null for the defaults. */
  qdiscSched: DevQdisc | null = null;
  /** NETREG_*: 0 uninitialized, 1 registered, 2 unregistering, 3 unregistered. */
  regState = 0;

  netdevOps: NetDeviceOps;
  ethtoolOps: EthtoolOps | null = null;
  headerOps: HeaderOps | null = null;
  /** Per-CPU driver stats (dev->lstats), summed on read. */
  lstats: PcpuLstats[];
  /** dev->stats, for drivers that count there. */
  stats = new RtnlLinkStats64();
  coreStats: NetDeviceCoreStats = { rxDropped: 0, txDropped: 0, rxNohandler: 0, rxOtherhostDropped: 0 };
  /** IPv4 state (struct in_device); owned by ipv4/devinet.ts. */
  ipPtr: object | null = null;
  /** IPv6 state (struct inet6_dev); owned by ipv6/addrconf.ts. */
  ip6Ptr: object | null = null;
  /** Taps bound to this device (dev->ptype_all). */
  ptypeAll: PacketType[] = [];
  /** dev->rx_handler and its data: a master's hook on a port's receive path (the bridge's br_handle_frame). */
  rxHandler: RxHandler | null = null;
  rxHandlerData: unknown = null;
  /** netdev_master_upper_dev_get(): the master this device is enslaved to (IFLA_MASTER). */
  master: NetDevice | null = null;
  /** Called when the device is freed (dev->priv_destructor). */
  privDestructor: ((dev: NetDevice) => void) | null = null;

  readonly kernel: Kernel;
  /** The namespace; null only for the global blackhole_dev, which is never registered. */
  net: Net | null = null;

  constructor(kernel: Kernel, name: string, setup: (dev: NetDevice) => void, ops: NetDeviceOps) {
    this.kernel = kernel;
    this.name = name;
    this.netdevOps = ops;
    this.lstats = Array.from({ length: kernel.cpus.length }, () => ({ packets: 0, bytes: 0 }));
    // alloc_netdev: a device that asks for no queue gets IFF_NO_QUEUE and the default length.
    setup(this);
    if (this.txQueueLen === 0) {
      this.privFlags |= IFF_PRIV.NO_QUEUE;
      this.txQueueLen = 1000;
    }
  }
}

/** netif_oper_up(): UP or UNKNOWN both count as up. */
export function netifOperUp(dev: NetDevice): boolean {
  return dev.operstate === IF_OPER.UP || dev.operstate === IF_OPER.UNKNOWN;
}

/** dev_get_flags(): what SIOCGIFFLAGS and RTM_NEWLINK report. */
export function devGetFlags(dev: NetDevice): number {
  let flags =
    (dev.flags & ~(IFF.PROMISC | IFF.ALLMULTI | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT)) |
    (dev.gflags & (IFF.PROMISC | IFF.ALLMULTI));
  if (dev.running) {
    if (netifOperUp(dev)) flags |= IFF.RUNNING;
    if (dev.carrierOk) flags |= IFF.LOWER_UP;
    if (dev.dormant) flags |= IFF.DORMANT;
  }
  return flags;
}

/** The operstate rtnetlink reports: a device that is not open is DOWN. */
export function devReportedOperstate(dev: NetDevice): number {
  return dev.running ? dev.operstate : IF_OPER.DOWN;
}

/** dev_get_stats(): the driver's counters plus the core's own drops. */
export function devGetStats(dev: NetDevice): RtnlLinkStats64 {
  const s = new RtnlLinkStats64();
  if (dev.netdevOps.ndoGetStats64 !== undefined) dev.netdevOps.ndoGetStats64(dev, s);
  else Object.assign(s, dev.stats);
  s.rxDropped += dev.coreStats.rxDropped;
  s.txDropped += dev.coreStats.txDropped;
  s.rxNohandler += dev.coreStats.rxNohandler;
  s.rxOtherhostDropped += dev.coreStats.rxOtherhostDropped;
  return s;
}

/** dev_lstats_read(): sum the per-CPU counters. */
export function devLstatsRead(dev: NetDevice): PcpuLstats {
  let packets = 0;
  let bytes = 0;
  for (const s of dev.lstats) {
    packets += s.packets;
    bytes += s.bytes;
  }
  return { packets, bytes };
}

function notify(dev: NetDevice, event: number): void {
  callNetdeviceNotifiers(event, dev);
}

/** dev_open(): bring the device up and attach its default qdisc. */
export function devOpen(dev: NetDevice): number {
  if (dev.flags & IFF.UP) return 0;
  notify(dev, NETDEV.PRE_UP);
  dev.running = true;
  const err = dev.netdevOps.ndoOpen?.(dev) ?? 0;
  if (err !== 0) {
    dev.running = false;
    return err;
  }
  dev.flags |= IFF.UP;
  // dev_activate(): IFF_NO_QUEUE devices get noqueue.
  devActivate(dev);
  notify(dev, NETDEV.UP);
  return 0;
}

/**
 * dev_activate(): attach the default root qdisc (noqueue for IFF_NO_QUEUE) and use it,
 * once there is carrier: without it the TX queue stays on noop until the link watcher
 * sees carrier come (what is sent meanwhile is dropped at the queue, not by the driver).
 */
export function devActivate(dev: NetDevice): void {
  if (dev.qdisc === 'noop') dev.qdisc = dev.privFlags & IFF_PRIV.NO_QUEUE ? 'noqueue' : 'pfifo_fast';
  if (!dev.carrierOk) return;
  dev.txqQdisc = dev.qdisc;
}

/** dev_deactivate(): the TX queue parks on noop and the root qdisc's queue is dropped; dev->qdisc stays. */
export function devDeactivate(dev: NetDevice): void {
  dev.txqQdisc = 'noop';
  dev.qdiscSched?.reset();
}

/** dev_close(). */
export function devClose(dev: NetDevice): number {
  if (!(dev.flags & IFF.UP)) return 0;
  notify(dev, NETDEV.GOING_DOWN);
  dev.running = false;
  dev.netdevOps.ndoStop?.(dev);
  dev.flags &= ~IFF.UP;
  // dev->qdisc, which rtnetlink reports, keeps the root attached at the first up.
  devDeactivate(dev);
  notify(dev, NETDEV.DOWN);
  return 0;
}

export interface ExtAck {
  msg?: string;
}

/** dev_set_mtu_ext(): any MTU between min_mtu and max_mtu (0 = no limit). */
export function devSetMtu(dev: NetDevice, mtu: number, extack: ExtAck = {}): number {
  if (mtu === dev.mtu) return 0;
  // dev_set_mtu() takes an int: NaN or a fraction cannot arrive, and 2^31 and up arrive negative.
  if (!Number.isInteger(mtu) || mtu < 0 || mtu > 0x7fffffff || mtu < dev.minMtu) {
    extack.msg = 'mtu less than device minimum';
    return -E.EINVAL;
  }
  if (dev.maxMtu > 0 && mtu > dev.maxMtu) {
    extack.msg = 'mtu greater than device maximum';
    return -E.EINVAL;
  }
  const err = dev.netdevOps.ndoChangeMtu?.(dev, mtu) ?? 0;
  if (err !== 0) return err;
  dev.mtu = mtu;
  notify(dev, NETDEV.CHANGEMTU);
  return 0;
}

/** dev_valid_name(). */
export function devValidName(name: string): boolean {
  if (name.length === 0 || new TextEncoder().encode(name).byteLength >= IFNAMSIZ) return false;
  if (name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}

/** dev_alloc_name(): the lowest free number for a "name%d" pattern, or null if none. */
export function devAllocName(net: Net, pattern: string): string | null {
  for (let i = 0; i < 32768; i++) {
    const name = pattern.replace('%d', String(i));
    if (net.devGetByName(name) === undefined) return name;
  }
  return null;
}

/** dev_change_name(). Renaming lo while it is up is allowed on current kernels. */
export function devChangeName(dev: NetDevice, name: string): number {
  if (name === dev.name) return 0;
  if (!devValidName(name)) return -E.EINVAL;
  const net = dev.net;
  if (net === null) return -E.EINVAL;
  if (net.devGetByName(name) !== undefined) return -E.EEXIST;
  net.renameDevice(dev, name);
  notify(dev, NETDEV.CHANGENAME);
  return 0;
}

/** is_valid_ether_addr(): not multicast, not all zeros. */
export function isValidEtherAddr(addr: Uint8Array): boolean {
  return (addr[0] ?? 0) % 2 === 0 && addr.some((b) => b !== 0);
}

/** dev_set_mac_address(): a no-op when unchanged, else the driver decides. */
export function devSetMacAddress(dev: NetDevice, addr: Uint8Array): number {
  const setMac = dev.netdevOps.ndoSetMacAddress;
  if (setMac === undefined) return -E.EOPNOTSUPP;
  if (addr.byteLength !== dev.addrLen) return -E.EINVAL;
  if (dev.devAddr.subarray(0, dev.addrLen).every((b, i) => b === addr[i])) return 0;
  notify(dev, NETDEV.PRE_CHANGEADDR);
  const err = setMac(dev, addr);
  if (err !== 0) return err;
  dev.addrAssignType = NET_ADDR.SET;
  notify(dev, NETDEV.CHANGEADDR);
  return 0;
}

/** netdev_rx_handler_register(): one handler per device (-EBUSY if taken). */
export function netdevRxHandlerRegister(dev: NetDevice, handler: RxHandler, data: unknown): number {
  if (dev.rxHandler !== null) return -E.EBUSY;
  dev.rxHandlerData = data;
  dev.rxHandler = handler;
  return 0;
}

export function netdevRxHandlerUnregister(dev: NetDevice): void {
  dev.rxHandler = null;
  dev.rxHandlerData = null;
}

/** netdev_master_upper_dev_link(): one master per device (-EBUSY), never itself (-ELOOP). */
export function netdevMasterUpperDevLink(dev: NetDevice, upper: NetDevice): number {
  if (dev === upper || upper.master === dev) return -E.ELOOP;
  if (dev.master !== null) return -E.EBUSY;
  notify(dev, NETDEV.PRECHANGEUPPER);
  dev.master = upper;
  notify(dev, NETDEV.CHANGEUPPER);
  return 0;
}

export function netdevUpperDevUnlink(dev: NetDevice, upper: NetDevice): void {
  if (dev.master !== upper) return;
  notify(dev, NETDEV.PRECHANGEUPPER);
  dev.master = null;
  notify(dev, NETDEV.CHANGEUPPER);
}

/**
 * dev_set_promiscuity() / dev_set_allmulti(): counts of users who want every frame (or
 * every multicast); the first and the last one are logged as Linux logs them. The flags
 * users see (gflags) are not touched: a bridge port does not show PROMISC.
 */
export function devSetPromiscuity(dev: NetDevice, inc: number): number {
  const old = dev.promiscuity;
  dev.promiscuity = Math.max(0, old + inc);
  // dev->flags carries IFF_PROMISC while anyone wants it (a bridge reads it); users see gflags.
  if (dev.promiscuity > 0) dev.flags |= IFF.PROMISC;
  else dev.flags &= ~IFF.PROMISC;
  if ((old === 0) !== (dev.promiscuity === 0)) {
    dev.kernel.printk('info', `${dev.name}: ${dev.promiscuity ? 'entered' : 'left'} promiscuous mode`);
  }
  return 0;
}

export function devSetAllmulti(dev: NetDevice, inc: number): number {
  const old = dev.allmulti;
  dev.allmulti = Math.max(0, old + inc);
  if ((old === 0) !== (dev.allmulti === 0)) {
    dev.kernel.printk('info', `${dev.name}: ${dev.allmulti ? 'entered' : 'left'} allmulticast mode`);
  }
  return 0;
}

/** dev_change_tx_queue_len(). */
export function devChangeTxQueueLen(dev: NetDevice, len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) return -E.ERANGE;
  if (len === dev.txQueueLen) return 0;
  dev.txQueueLen = len;
  notify(dev, NETDEV.CHANGE_TX_QUEUE_LEN);
  return 0;
}

/** Formats a hardware address as ip and ifconfig print it. */
export function formatHwAddr(addr: Uint8Array, len: number): string {
  return Array.from(addr.subarray(0, len), (b) => b.toString(16).padStart(2, '0')).join(':');
}
