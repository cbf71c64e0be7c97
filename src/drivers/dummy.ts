/**
 * drivers/net/dummy.c: a device that swallows what it is given. It counts what it
 * "sent", has no ARP and no queue, and always has carrier, so once up its operstate
 * stays UNKNOWN, as lo's does.
 */
import { IFF, IFF_PRIV, NETDEV_TX } from '../core/if.js';
import { NETIF_F, NETIF_F_GSO_SOFTWARE } from '../core/netdev-features.js';
import {
  devLstatsRead,
  type EthtoolOps,
  type NetDevice,
  type NetDeviceOps,
  type RtnlLinkStats64,
} from '../core/netdevice.js';
import { type LinkAttrs, type RtnlLinkOps, rtnlLinkRegister } from '../core/rtnetlink.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import type { Kernel } from '../kernel/kernel.js';
import { etherSetup, ethHwAddrRandom } from '../link/ether-setup.js';
import { ethMacAddr } from '../link/ethernet.js';
import type { Net } from '../net/net.js';

/** dummy_xmit(): count, then free. */
function dummyXmit(skb: SkBuff, dev: NetDevice): number {
  const lstats = dev.lstats[dev.kernel.curCpu];
  if (lstats !== undefined) {
    lstats.packets++;
    lstats.bytes += skb.len;
  }
  kfreeSkb(skb);
  return NETDEV_TX.OK;
}

/** dummy_get_stats64(): transmit counters only. */
function dummyGetStats64(dev: NetDevice, stats: RtnlLinkStats64): void {
  const { packets, bytes } = devLstatsRead(dev);
  stats.txPackets = packets;
  stats.txBytes = bytes;
}

export const dummyNetdevOps: NetDeviceOps = {
  ndoStartXmit: dummyXmit,
  ndoGetStats64: dummyGetStats64,
  ndoSetMacAddress: ethMacAddr,
};

export const dummyEthtoolOps: EthtoolOps = {
  getDrvinfo: () => ({ driver: 'dummy', version: '1.0', busInfo: '' }),
};

const DUMMY_FEATURES = NETIF_F.SG | NETIF_F.FRAGLIST | NETIF_F_GSO_SOFTWARE | NETIF_F.HW_CSUM | NETIF_F.HIGHDMA;

/** dummy_setup(): Ethernet without ARP or multicast, no queue, no MTU limits, a random MAC. */
export function dummySetup(dev: NetDevice): void {
  etherSetup(dev);
  dev.netdevOps = dummyNetdevOps;
  dev.ethtoolOps = dummyEthtoolOps;
  dev.flags |= IFF.NOARP;
  dev.flags &= ~IFF.MULTICAST;
  dev.privFlags |= IFF_PRIV.LIVE_ADDR_CHANGE | IFF_PRIV.NO_QUEUE;
  dev.lltx = true;
  dev.features |= DUMMY_FEATURES;
  dev.hwFeatures |= DUMMY_FEATURES;
  dev.minMtu = 0;
  dev.maxMtu = 0;
  dev.txQueueLen = 0;
}

export const dummyLinkOps: RtnlLinkOps = {
  kind: 'dummy',
  setup: dummySetup,
  netdevOps: dummyNetdevOps,
  newlink: (net: Net, dev: NetDevice, attrs: LinkAttrs) => {
    if (attrs.address === undefined) ethHwAddrRandom(dev);
    return net.registerNetdevice(dev);
  },
};

/** dummy_init_module(). */
export function dummyInit(kernel: Kernel): void {
  rtnlLinkRegister(kernel, dummyLinkOps);
}
