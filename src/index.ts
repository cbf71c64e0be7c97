/** lonet: Linux's loopback network path, in-process. */
export type {
  BindOptions as DgramBindOptions,
  Dgram,
  RemoteInfo,
  Socket as DgramSocket,
  SocketOptions as DgramSocketOptions,
} from './api/dgram.js';
export { type ExecOptions, Namespace, type NamespaceOptions } from './api/namespace.js';
export {
  type CapturedPacket,
  CaptureError,
  type CaptureOptions,
  type CaptureStats,
  PacketCapture,
} from './capture/capture.js';
export { compileFilter, FilterError, type FilterPacket } from './capture/filter.js';
export { LINKTYPE, openPcap, PcapError, PcapReader, PcapWriter, readPcap, writePcap } from './capture/pcap.js';
export { isPcapng, PcapngWriter, readPcapng } from './capture/pcapng.js';
export { devAddPack, devQueueXmit, devRemovePack, netifRx } from './core/dev.js';
export { IFF, NET_RX, NETDEV_TX } from './core/if.js';
export { devClose, devGetFlags, devGetStats, devOpen, devSetMtu, NetDevice } from './core/netdevice.js';
export type { PacketType } from './core/packet-type.js';
export { allocSkb, CHECKSUM, PACKET, SkBuff, skbFromBytes } from './core/skbuff.js';
export { type VethEnd, vethPair } from './drivers/veth.js';
export { ETH_HLEN, ETH_P } from './include/if-ether.js';
export { Kernel, Net } from './init.js';
export { type Clock, RealClock, VirtualClock } from './kernel/clock.js';
export type { KernelOptions } from './kernel/kernel.js';

export { procRead } from './net/procfs.js';
export {
  bfifo,
  type NetemOptions,
  netem,
  pfifo,
  type QdiscSpec,
  qdiscDelete,
  qdiscReplace,
  qdiscRoot,
} from './sched/sch-api.js';
export { Qdisc } from './sched/sch-generic.js';
export type { Command, CommandContext, ToolResult } from './tools/command.js';
export { commands } from './tools/index.js';
export { Shell } from './tools/shell.js';
