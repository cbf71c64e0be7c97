/**
 * drivers/net/loopback.c: the device every local packet crosses. Transmit hands the
 * packet straight back to the receive path on the same CPU; the route (dst) is kept so
 * the receiver need not look it up again.
 */
import { netifRxInternal } from '../core/dev.js';
import { skbTxTimestamp } from '../core/errqueue.js';
import { SOF_TIMESTAMPING } from '../core/ethtool.js';
import { ARPHRD, IFF, IFF_PRIV, LOOPBACK_IFINDEX, NET_RX, NETDEV_TX } from '../core/if.js';
import { NETIF_F, NETIF_F_GSO_SOFTWARE } from '../core/netdev-features.js';
import {
  devLstatsRead,
  type EthtoolOps,
  type EthtoolTsInfo,
  type HeaderOps,
  NetDevice,
  type NetDeviceOps,
  type RtnlLinkStats64,
} from '../core/netdevice.js';
import { kfreeSkb, type SkBuff, skbOrphan } from '../core/skbuff.js';
import { ETH_ALEN, ETH_HLEN } from '../include/if-ether.js';
import type { Kernel } from '../kernel/kernel.js';
import { ethHeaderOps, ethMacAddr, ethTypeTrans } from '../link/ethernet.js';
import { type Net, type PernetOperations, registerPernetDevice } from '../net/net.js';

/**
 * loopback_xmit(). Every step is Linux's: stamp, orphan (the sender's send-buffer
 * credit returns now and its writers wake), keep the route, classify, queue on this
 * CPU's backlog. Stats count the L3 length, and only what was queued; a drop is
 * invisible to the sender, which always gets NETDEV_TX_OK.
 */
export function loopbackXmit(skb: SkBuff, dev: NetDevice): number {
  dev.kernel.trace.loopbackXmit++;
  // skb_clear_tstamp(): a delivery time set by the sender is kept, anything else cleared.
  if (skb.tstampType === 0) skb.tstamp = 0;
  if (skb.txFlags !== 0) skbTxTimestamp(skb, dev.kernel.clock.realtime());
  skbOrphan(skb);
  // A frame too short to hold an Ethernet header cannot be classified: lo's receive
  // side drops it, and rx_dropped says so.
  if (skb.len < ETH_HLEN) {
    dev.coreStats.rxDropped++;
    kfreeSkb(skb);
    return NETDEV_TX.OK;
  }
  skb.protocol = ethTypeTrans(skb, dev);
  const len = skb.len;
  if (netifRxInternal(skb) === NET_RX.SUCCESS) {
    const lstats = dev.lstats[dev.kernel.curCpu];
    if (lstats !== undefined) {
      lstats.packets++;
      lstats.bytes += len;
    }
  }
  return NETDEV_TX.OK;
}

/** loopback_get_stats64(): lo receives exactly what it sends. */
function loopbackGetStats64(dev: NetDevice, stats: RtnlLinkStats64): void {
  const { packets, bytes } = devLstatsRead(dev);
  stats.rxPackets = packets;
  stats.txPackets = packets;
  stats.rxBytes = bytes;
  stats.txBytes = bytes;
}

export const loopbackOps: NetDeviceOps = {
  ndoStartXmit: loopbackXmit,
  ndoGetStats64: loopbackGetStats64,
  ndoSetMacAddress: ethMacAddr,
};

export const loopbackEthtoolOps: EthtoolOps = {
  // always_on: ethtool still reports "no" while the device is down (__ethtool_get_link).
  getLink: () => 1,
  getTsInfo: (_dev, info: EthtoolTsInfo) => {
    info.soTimestamping = SOF_TIMESTAMPING.TX_SOFTWARE | SOF_TIMESTAMPING.RX_SOFTWARE | SOF_TIMESTAMPING.SOFTWARE;
    info.phcIndex = -1;
    return 0;
  },
};

/** gen_lo_setup(): shared by lo and blackhole_dev. */
export function genLoSetup(
  dev: NetDevice,
  mtu: number,
  ethtoolOps: EthtoolOps | null,
  headerOps: HeaderOps | null,
  devOps: NetDeviceOps,
  destructor: ((dev: NetDevice) => void) | null,
): void {
  dev.mtu = mtu;
  dev.hardHeaderLen = ETH_HLEN;
  dev.minHeaderLen = ETH_HLEN;
  dev.addrLen = ETH_ALEN;
  dev.type = ARPHRD.LOOPBACK;
  dev.flags = IFF.LOOPBACK;
  dev.privFlags |= IFF_PRIV.LIVE_ADDR_CHANGE | IFF_PRIV.NO_QUEUE;
  // netif_keep_dst(): lo keeps the route on the packet.
  dev.privFlags &= ~(IFF_PRIV.XMIT_DST_RELEASE | IFF_PRIV.XMIT_DST_RELEASE_PERM);
  dev.lltx = true;
  dev.netnsImmutable = true;
  dev.hwFeatures = NETIF_F_GSO_SOFTWARE;
  dev.features =
    NETIF_F.SG |
    NETIF_F.FRAGLIST |
    NETIF_F_GSO_SOFTWARE |
    NETIF_F.HW_CSUM |
    NETIF_F.RXCSUM |
    NETIF_F.SCTP_CRC |
    NETIF_F.HIGHDMA |
    NETIF_F.LOOPBACK |
    NETIF_F.VLAN_CHALLENGED;
  dev.tsoMaxSize = 524280;
  dev.ethtoolOps = ethtoolOps;
  dev.headerOps = headerOps;
  dev.netdevOps = devOps;
  dev.privDestructor = destructor;
  // alloc_netdev(0, …): tx_queue_len 0 becomes IFF_NO_QUEUE with the default 1000.
  dev.txQueueLen = 0;
}

/** loopback_setup(): MTU 64 KiB, Ethernet header ops. */
export function loopbackSetup(dev: NetDevice): void {
  genLoSetup(dev, 64 * 1024, loopbackEthtoolOps, ethHeaderOps, loopbackOps, loopbackDevFree);
}

function loopbackDevFree(dev: NetDevice): void {
  if (dev.net !== null && dev.net.loopbackDev === dev) dev.net.loopbackDev = null;
}

/**
 * loopback_net_init(): lo is the first device of every namespace and must get
 * ifindex 1 (Linux BUG_ONs otherwise).
 */
export const loopbackNetOps: PernetOperations = {
  name: 'loopback',
  init(net: Net): void {
    const dev = new NetDevice(net.kernel, 'lo', loopbackSetup, loopbackOps);
    const err = net.registerNetdevice(dev);
    if (err !== 0) throw new Error(`loopback: Failed to register netdevice: ${err}`);
    if (dev.ifindex !== LOOPBACK_IFINDEX) throw new Error('BUG: lo did not get ifindex 1');
    net.loopbackDev = dev;
  },
};

/**
 * What net_dev_init does for lo: register it as a pernet device, so every namespace
 * gets it after its protocols' state. lo has no rtnl_link_ops (no `type` for
 * `ip link add`, no kind in `ip -d link`), as on Linux.
 */
export function loopbackInit(kernel: Kernel): void {
  registerPernetDevice(kernel, loopbackNetOps);
}
