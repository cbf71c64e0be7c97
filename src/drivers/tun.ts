/**
 * drivers/net/tun.c, the L3 (IFF_TUN | IFF_NO_PI) flavour: a point-to-point device with
 * no link header and no ARP, whose other end is a file a program reads and writes.
 * What the stack transmits on it is queued for that reader (tun_net_xmit); what the
 * program writes enters the stack as if received (tun_get_user → netif_rx). This is
 * where packetdrill's remote end lives.
 */
import { netifRx } from '../core/dev.js';
import { skbTxTimestamp } from '../core/errqueue.js';
import { ARPHRD, IFF, NET_RX, NETDEV_TX } from '../core/if.js';
import { NETIF_F } from '../core/netdev-features.js';
import { NetDevice, type NetDeviceOps, type RtnlLinkStats64 } from '../core/netdevice.js';
import {
  kfreeSkb,
  SKB_GSO,
  SKB_MAX_HEAD,
  type SkBuff,
  skbChecksumHelp,
  skbCopyBits,
  skbFragsTruesize,
  skbFromBytes,
  skbHeadTruesize,
} from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import type { Net } from '../net/net.js';
import { IPPROTO } from '../wire/ipv4.js';

/** TUN_READQ_SIZE: packets a reader may leave unread before the device drops (tx_queue_len). */
const TUN_READQ_SIZE = 500;

/** A packet the stack transmitted, with the clock time it left. */
export interface TunFrame {
  data: Uint8Array;
  /** Kernel clock nanoseconds at transmit. */
  time: number;
}

/** struct tun_file + tun_struct: the reader's queue and its wakeup. */
export class TunFile {
  readonly queue: TunFrame[] = [];
  /** Called (synchronously, in the transmit path) when a frame is queued. */
  onFrame: ((frame: TunFrame) => void) | null = null;
  constructor(readonly dev: NetDevice) {}

  /** read(2) on the tun fd: the oldest frame, or undefined when none waits. */
  read(): TunFrame | undefined {
    return this.queue.shift();
  }

  /**
   * write(2) on the tun fd: one IP packet enters the stack. Returns bytes taken or -errno.
   * `gsoSize` is the virtio_net_hdr's (IFF_VNET_HDR): a TCP packet longer than that is
   * handed up as one GSO packet of that segment size.
   */
  write(packet: Uint8Array, gsoSize = 0): number {
    return tunGetUser(this, packet, gsoSize);
  }
}

const files = new WeakMap<NetDevice, TunFile>();

/** tun_net_xmit(): finish the checksum (the reader has no offload), queue for the reader. */
function tunNetXmit(skb: SkBuff, dev: NetDevice): number {
  const file = files.get(dev);
  if (file === undefined || file.queue.length >= dev.txQueueLen) {
    dev.stats.txDropped++;
    kfreeSkb(skb);
    return NETDEV_TX.OK;
  }
  skbChecksumHelp(skb);
  if (skb.txFlags !== 0) skbTxTimestamp(skb, dev.kernel.clock.realtime());
  const frame = { data: skbCopyBits(skb, 0, skb.len), time: dev.kernel.clock.now() };
  dev.stats.txPackets++;
  dev.stats.txBytes += skb.len;
  kfreeSkb(skb);
  file.queue.push(frame);
  file.onFrame?.(frame);
  return NETDEV_TX.OK;
}

/** NET_SKB_PAD + NET_IP_ALIGN on x86_64: the headroom tun_get_user reserves. */
const TUN_ALIGN = 64;

/**
 * tun_alloc_skb() for a write with no gso.hdr_len: a packet under a page goes in the head;
 * a bigger one puts SKB_MAX_HEAD(align) bytes there and the rest in page frags of up to
 * PAGE_ALLOC_COSTLY_ORDER. The truesize is what the socket it reaches is charged.
 */
function tunSkbTruesize(len: number): number {
  const linear = TUN_ALIGN + len < 4096 ? len : Math.min(SKB_MAX_HEAD - TUN_ALIGN, len);
  return skbHeadTruesize(TUN_ALIGN + linear) + skbFragsTruesize(len - linear);
}

/** virtio_net_hdr_to_skb(): TCP GSO only when the payload past the TCP header is longer than gso_size. */
function tunVnetGso(skb: SkBuff, packet: Uint8Array, version: number, gsoSize: number): void {
  const ihl = version === 4 ? ((packet[0] ?? 0) & 15) * 4 : 40;
  const proto = version === 4 ? packet[9] : packet[6];
  if (proto !== IPPROTO.TCP) return;
  // Without VIRTIO_NET_HDR_F_NEEDS_CSUM the payload offset is the transport offset + sizeof(tcphdr).
  if (packet.byteLength - (ihl + 20) <= gsoSize) return;
  skb.gsoSize = gsoSize;
  // Header must be checked and gso_segs computed: untrusted (SKB_GSO_DODGY).
  skb.gsoType = (version === 4 ? SKB_GSO.TCPV4 : SKB_GSO.TCPV6) | SKB_GSO.DODGY;
  skb.gsoSegs = 0;
}

/** tun_get_user(): the protocol comes from the IP version nibble (IFF_NO_PI). */
function tunGetUser(file: TunFile, packet: Uint8Array, gsoSize: number): number {
  const dev = file.dev;
  if (!dev.running) return -E.EIO;
  const version = (packet[0] ?? 0) >> 4;
  const protocol = version === 4 ? ETH_P.IP : version === 6 ? ETH_P.IPV6 : 0;
  if (protocol === 0) {
    dev.stats.rxDropped++;
    return -E.EINVAL;
  }
  const skb = skbFromBytes(packet.slice(), TUN_ALIGN);
  skb.truesize = tunSkbTruesize(packet.byteLength);
  if (gsoSize > 0) tunVnetGso(skb, packet, version, gsoSize);
  skb.dev = dev;
  skb.protocol = protocol;
  skb.macLen = 0;
  skb.networkHeader = skb.data;
  skb.macHeader = skb.data;
  if (netifRx(skb) === NET_RX.SUCCESS) {
    dev.stats.rxPackets++;
    dev.stats.rxBytes += packet.byteLength;
  } else dev.stats.rxDropped++;
  return packet.byteLength;
}

function tunGetStats64(dev: NetDevice, stats: RtnlLinkStats64): void {
  Object.assign(stats, dev.stats);
}

export const tunNetdevOps: NetDeviceOps = {
  ndoStartXmit: tunNetXmit,
  ndoGetStats64: tunGetStats64,
  ndoChangeMtu: () => 0,
};

/**
 * tun_net_init() for IFF_TUN: MTU 1500, no header, POINTOPOINT | NOARP | MULTICAST.
 * The features are those a reader gets after TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 |
 * TUN_F_TSO6 | TUN_F_TSO_ECN), as packetdrill asks: TCP hands it packets of several MSS
 * (GSO), which the reader sees whole; checksums are finished here.
 */
export function tunSetup(dev: NetDevice): void {
  dev.mtu = 1500;
  dev.minMtu = 68;
  dev.maxMtu = 65535;
  dev.hardHeaderLen = 0;
  dev.addrLen = 0;
  dev.type = ARPHRD.NONE;
  dev.flags = IFF.POINTOPOINT | IFF.NOARP | IFF.MULTICAST;
  dev.txQueueLen = TUN_READQ_SIZE;
  dev.hwFeatures = NETIF_F.SG | NETIF_F.HW_CSUM | NETIF_F.TSO | NETIF_F.TSO6 | NETIF_F.TSO_ECN;
  dev.features = dev.hwFeatures;
  dev.headerOps = null;
  dev.netdevOps = tunNetdevOps;
}

/** TUNSETIFF: make and register a tun device in `net`; returns its file, or -errno. */
export function tunAlloc(net: Net, name = 'tun0'): TunFile | number {
  const dev = new NetDevice(net.kernel, name, tunSetup, tunNetdevOps);
  const err = net.registerNetdevice(dev);
  if (err !== 0) return err;
  const file = new TunFile(dev);
  files.set(dev, file);
  return file;
}
