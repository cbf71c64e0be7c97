/**
 * net/bridge/br_device.c: the bridge as a device. What the local stack sends through
 * it is switched like a frame arriving on a port (broadcast and multicast flooded, a
 * known unicast sent to its port, an unknown one flooded); it has no queue, a random
 * address until a port gives it one, and its MTU follows its ports.
 */
import { IFF_PRIV, NETDEV_TX } from '../../core/if.js';
import { NETIF_F, NETIF_F_GSO_SOFTWARE } from '../../core/netdev-features.js';
import type { EthtoolOps, NetDevice, NetDeviceOps, RtnlLinkStats64 } from '../../core/netdevice.js';
import { NTF } from '../../core/rtnetlink.js';
import { kfreeSkb, type SkBuff, skbPull, skbResetMacHeader } from '../../core/skbuff.js';
import { E } from '../../include/errno.js';
import { ETH_HLEN, ETH_MAX_MTU } from '../../include/if-ether.js';
import { etherSetup, ethHwAddrRandom } from '../../link/ether-setup.js';
import { brFdbAdd, brFdbDelete, brFdbDump, brFdbFind } from './br-fdb.js';
import { brFlood, brForward } from './br-forward.js';
import { brAddIf, brDelIf } from './br-if.js';
import {
  BR_DEFAULT_AGEING_TIME,
  BR_FORWARD_DELAY,
  BR_HELLO_TIME,
  BR_MAX_AGE,
  BR_NO_STP,
  BR_PKT,
  brFromDev,
  brPortGet,
  brSet,
  etherAddrEqual,
  isBroadcastEtherAddr,
  isMulticastEtherAddr,
  isValidEtherAddr,
  type NetBridge,
  type NetBridgePort,
  thisCpuTstats,
} from './br-private.js';
import { brStpChangeBridgeId, brStpDisableBridge, brStpEnableBridge } from './br-stp.js';

function priv(dev: NetDevice): NetBridge {
  return brFromDev(dev) as NetBridge;
}

/** br_dev_xmit(): counted, then switched. */
export function brDevXmit(skb: SkBuff, dev: NetDevice): number {
  const br = priv(dev);
  if (skb.len < ETH_HLEN) {
    kfreeSkb(skb);
    return NETDEV_TX.OK;
  }
  const st = thisCpuTstats(br);
  st.txPackets++;
  st.txBytes += skb.len;
  skbResetMacHeader(skb);
  const dest = skb.head.subarray(skb.macHeader, skb.macHeader + 6);
  skbPull(skb, ETH_HLEN);
  if (isBroadcastEtherAddr(dest)) brFlood(br, skb, BR_PKT.BROADCAST, false);
  else if (isMulticastEtherAddr(dest)) brFlood(br, skb, BR_PKT.MULTICAST, false);
  else {
    const dst = brFdbFind(br, dest);
    if (dst === null) brFlood(br, skb, BR_PKT.UNICAST, false);
    else if (dst.dst !== null) brForward(dst.dst, skb, false);
    else kfreeSkb(skb);
  }
  return NETDEV_TX.OK;
}

/** dev_get_tstats64(): dev->stats (multicast, drops) plus the per-CPU counts. */
function brGetStats64(dev: NetDevice, stats: RtnlLinkStats64): void {
  Object.assign(stats, dev.stats);
  for (const st of priv(dev).tstats) {
    stats.rxPackets += st.rxPackets;
    stats.rxBytes += st.rxBytes;
    stats.txPackets += st.txPackets;
    stats.txBytes += st.txBytes;
  }
}

/** br_set_mac_address(): any valid address; STP and the FDB follow. */
function brSetMacAddress(dev: NetDevice, addr: Uint8Array): number {
  if (!isValidEtherAddr(addr)) return -E.EADDRNOTAVAIL;
  if (dev.regState !== 1) return -E.EBUSY;
  if (!etherAddrEqual(dev.devAddr, addr)) brStpChangeBridgeId(priv(dev), addr);
  return 0;
}

export const brNetdevOps: NetDeviceOps = {
  ndoOpen: (dev) => {
    brStpEnableBridge(priv(dev));
    return 0;
  },
  ndoStop: (dev) => {
    brStpDisableBridge(priv(dev));
    return 0;
  },
  ndoStartXmit: brDevXmit,
  ndoGetStats64: brGetStats64,
  ndoSetMacAddress: brSetMacAddress,
  // br_change_mtu(): a user's MTU sticks (BROPT_MTU_SET_BY_USER).
  ndoChangeMtu: (dev, mtu) => {
    dev.mtu = mtu;
    priv(dev).mtuSetByUser = true;
    return 0;
  },
  ndoAddSlave: (dev, slave, extack) => brAddIf(priv(dev), slave, extack),
  ndoDelSlave: (dev, slave) => brDelIf(priv(dev), slave),
  ndoFdbDump: (dev, filterDev) => brFdbDump(priv(dev), filterDev),
  // br_fdb_add() / br_fdb_delete(): for the bridge itself, or for one of its ports.
  ndoFdbAdd: (dev, addr, state, ntf, nlFlags) => {
    const target = brFdbTarget(dev);
    return target === null
      ? -E.EINVAL
      : brFdbAdd(target.br, target.port, addr, state, (ntf & NTF.STICKY) !== 0, nlFlags);
  },
  ndoFdbDel: (dev, addr) => {
    const target = brFdbTarget(dev);
    return target === null ? -E.EINVAL : brFdbDelete(target.br, target.port, addr);
  },
};

/** The bridge and port an FDB request names: the bridge device itself, or a port ("not a bridge port": null). */
function brFdbTarget(dev: NetDevice): { br: NetBridge; port: NetBridgePort | null } | null {
  const br = brFromDev(dev);
  if (br !== null) return { br, port: null };
  const port = brPortGet(dev);
  if (port === null) {
    dev.kernel.printk('info', `bridge: RTM_NEWNEIGH ${dev.name} not a bridge port`);
    return null;
  }
  return { br: port.br, port };
}

/** br_get_link_ksettings(): the fastest port that is up, else unknown. */
const brEthtoolOps: EthtoolOps = {
  getLink: (dev) => (dev.carrierOk ? 1 : 0),
  getDrvinfo: () => ({ driver: 'bridge', version: '2.3', busInfo: 'N/A' }),
  getLinkKsettings: (dev) => {
    let speed = -1;
    for (const p of priv(dev).ports) {
      const ks = p.dev.running ? p.dev.ethtoolOps?.getLinkKsettings?.(p.dev) : undefined;
      if (ks !== undefined && ks.speed !== -1 && (speed === -1 || speed < ks.speed)) speed = ks.speed;
    }
    return { speed, duplex: 0xff };
  },
};

/** COMMON_FEATURES. */
const COMMON_FEATURES = NETIF_F.SG | NETIF_F.FRAGLIST | NETIF_F.HIGHDMA | NETIF_F.HW_CSUM | NETIF_F_GSO_SOFTWARE;

/** br_dev_setup(): random address, Ethernet, no queue, STP off, 802.1D timers. */
export function brDevSetup(dev: NetDevice): void {
  ethHwAddrRandom(dev);
  etherSetup(dev);
  dev.netdevOps = brNetdevOps;
  dev.ethtoolOps = brEthtoolOps;
  dev.privFlags = IFF_PRIV.EBRIDGE | IFF_PRIV.NO_QUEUE;
  dev.features = COMMON_FEATURES | NETIF_F.HW_VLAN_CTAG_TX;
  dev.hwFeatures = COMMON_FEATURES | NETIF_F.HW_VLAN_CTAG_TX;
  dev.lltx = true;
  dev.netnsImmutable = true;
  dev.maxMtu = ETH_MAX_MTU;
  const br: NetBridge = {
    dev,
    ports: [],
    fdb: new Map(),
    fdbList: [],
    bridgePriority: 0x8000,
    bridgeIdAddr: new Uint8Array(6),
    designatedRoot: new Uint8Array(6),
    rootPort: 0,
    rootPathCost: 0,
    stpEnabled: BR_NO_STP,
    ageingTime: BR_DEFAULT_AGEING_TIME,
    forwardDelay: BR_FORWARD_DELAY,
    helloTime: BR_HELLO_TIME,
    maxAge: BR_MAX_AGE,
    topologyChange: 0,
    topologyChangeDetected: 0,
    groupFwdMask: 0,
    mtuSetByUser: false,
    gcTimer: null,
    gcExpires: 0,
    tstats: Array.from({ length: dev.kernel.cpus.length }, () => ({
      rxPackets: 0,
      rxBytes: 0,
      txPackets: 0,
      txBytes: 0,
    })),
  };
  brSet(dev, br);
}
