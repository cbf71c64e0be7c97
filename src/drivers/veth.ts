/**
 * drivers/net/veth.c: a virtual Ethernet cable. Devices come in pairs; what one
 * transmits, the other receives at once through netif_rx (no XDP here), and each side
 * has carrier only while both are up. The ends may sit in different namespaces.
 */
import { NET_XMIT, netifRxInternal } from '../core/dev.js';
import { IFF, IFF_PRIV, NET_RX, NETDEV_TX } from '../core/if.js';
import { netifCarrierOff, netifCarrierOn } from '../core/link-watch.js';
import { NETIF_F, NETIF_F_GSO_ENCAP_ALL, NETIF_F_GSO_SOFTWARE } from '../core/netdev-features.js';
import {
  devLstatsRead,
  type EthtoolOps,
  type ExtAck,
  type NetDevice,
  type NetDeviceOps,
  type RtnlLinkStats64,
} from '../core/netdevice.js';
import {
  type LinkAttrs,
  type RtnlLinkOps,
  rtnlCreateLink,
  rtnlLinkNetnsidAlloc,
  rtnlLinkRegister,
} from '../core/rtnetlink.js';
import { kfreeSkb, type SkBuff, skbOrphan } from '../core/skbuff.js';
import { E, errnoName, strerror } from '../include/errno.js';
import { ETH_HLEN, ETH_MAX_MTU, ETH_MIN_MTU } from '../include/if-ether.js';
import type { Kernel } from '../kernel/kernel.js';
import { etherSetup, ethHwAddrRandom } from '../link/ether-setup.js';
import { ethMacAddr, ethTypeTrans } from '../link/ethernet.js';
import type { Net } from '../net/net.js';

/** VLAN_HLEN: is_skb_forwardable leaves room for one tag. */
const VLAN_HLEN = 4;

/** struct veth_priv: the peer (null once it is gone). */
interface VethPriv {
  peer: NetDevice | null;
}

const privs = new WeakMap<NetDevice, VethPriv>();

function vethPeer(dev: NetDevice): NetDevice | null {
  return privs.get(dev)?.peer ?? null;
}

/** What `ip link add … type veth peer …` asks for the other end. */
export interface VethPeerInfo {
  name?: string;
  /** The namespace of the peer (`peer … netns NS`); the device's own by default. */
  net?: Net;
  address?: Uint8Array;
  mtu?: number;
  txqlen?: number;
}

/**
 * is_skb_forwardable(): the receiver must be up, and the frame fit its MTU plus the
 * link header and one VLAN tag.
 */
function isSkbForwardable(dev: NetDevice, skb: SkBuff): boolean {
  if (!(dev.flags & IFF.UP)) return false;
  return skb.len <= dev.mtu + dev.hardHeaderLen + VLAN_HLEN;
}

/**
 * __dev_forward_skb() + __netif_rx(): scrub what belonged to the sender's side (the
 * route, the socket; across namespaces the mark too), classify for the receiver, and
 * queue on this CPU's backlog.
 */
function vethForwardSkb(rcv: NetDevice, skb: SkBuff): number {
  if (!isSkbForwardable(rcv, skb)) {
    rcv.coreStats.rxDropped++;
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  skb.dst = null;
  skb.skbIif = 0;
  skb.ignoreDf = false;
  skb.priority = 0;
  skbOrphan(skb);
  if (skb.dev?.net !== rcv.net) skb.mark = 0;
  skb.protocol = ethTypeTrans(skb, rcv);
  return netifRxInternal(skb);
}

/**
 * veth_xmit(): straight into the peer's receive path; counted on success, dropped otherwise
 * (NET_XMIT_DROP, which a datagram sender hears as ENOBUFS).
 */
function vethXmit(skb: SkBuff, dev: NetDevice): number {
  const rcv = vethPeer(dev);
  if (rcv === null || skb.len < ETH_HLEN) {
    kfreeSkb(skb);
    dev.coreStats.txDropped++;
    return NET_XMIT.DROP;
  }
  const length = skb.len;
  if (vethForwardSkb(rcv, skb) === NET_RX.SUCCESS) {
    const lstats = dev.lstats[dev.kernel.curCpu];
    if (lstats !== undefined) {
      lstats.packets++;
      lstats.bytes += length;
    }
    return NETDEV_TX.OK;
  }
  dev.coreStats.txDropped++;
  return NET_XMIT.DROP;
}

/** veth_get_stats64(): what this end sent, and as received what the peer sent. */
function vethGetStats64(dev: NetDevice, stats: RtnlLinkStats64): void {
  const tx = devLstatsRead(dev);
  stats.txPackets = tx.packets;
  stats.txBytes = tx.bytes;
  const peer = vethPeer(dev);
  if (peer !== null) {
    const rx = devLstatsRead(peer);
    stats.rxPackets = rx.packets;
    stats.rxBytes = rx.bytes;
  }
}

/** veth_open(): carrier on both ends once the peer is up too. */
function vethOpen(dev: NetDevice): number {
  const peer = vethPeer(dev);
  if (peer === null) return -E.ENOTCONN;
  if (peer.flags & IFF.UP) {
    netifCarrierOn(dev);
    netifCarrierOn(peer);
  }
  return 0;
}

/** veth_close(): carrier off on both ends. */
function vethClose(dev: NetDevice): number {
  netifCarrierOff(dev);
  const peer = vethPeer(dev);
  if (peer !== null) netifCarrierOff(peer);
  return 0;
}

export const vethNetdevOps: NetDeviceOps = {
  ndoOpen: vethOpen,
  ndoStop: vethClose,
  ndoStartXmit: vethXmit,
  ndoGetStats64: vethGetStats64,
  ndoSetMacAddress: ethMacAddr,
  ndoGetIflink: (dev) => vethPeer(dev)?.ifindex ?? 0,
};

/** ethtool -S: the peer's ifindex, then each RX and TX queue's counters (XDP's, all 0 without XDP). */
const VETH_RQ_STATS = ['xdp_packets', 'xdp_bytes', 'drops', 'xdp_redirect', 'xdp_drops', 'xdp_tx', 'xdp_tx_errors'];
const VETH_TQ_STATS = ['xdp_xmit', 'xdp_xmit_errors'];

export const vethEthtoolOps: EthtoolOps = {
  getLink: (dev) => (dev.carrierOk ? 1 : 0),
  getDrvinfo: () => ({ driver: 'veth', version: '1.0', busInfo: '' }),
  // veth_get_link_ksettings(): a fixed 10 Gb/s full duplex (a bridge port's cost 2).
  getLinkKsettings: () => ({ speed: 10000, duplex: 1 }),
  getSsetCount: (dev) => 1 + realRxQueues(dev) * VETH_RQ_STATS.length + realTxQueues(dev) * VETH_TQ_STATS.length,
  getEthtoolStats: (dev) => {
    const out: [string, number][] = [['peer_ifindex', vethPeer(dev)?.ifindex ?? 0]];
    for (let q = 0; q < realRxQueues(dev); q++) for (const s of VETH_RQ_STATS) out.push([`rx_queue_${q}_${s}`, 0]);
    for (let q = 0; q < realTxQueues(dev); q++) for (const s of VETH_TQ_STATS) out.push([`tx_queue_${q}_${s}`, 0]);
    return out;
  },
  getChannels: (dev) => ({
    maxRx: dev.numRxQueues,
    maxTx: dev.numTxQueues,
    rxCount: realRxQueues(dev),
    txCount: realTxQueues(dev),
  }),
};

/** real_num_rx/tx_queues: veth starts with one of each, whatever it may grow to. */
function realRxQueues(_dev: NetDevice): number {
  return 1;
}
function realTxQueues(_dev: NetDevice): number {
  return 1;
}

/** VETH_FEATURES, the part lonet names. */
const VETH_FEATURES =
  NETIF_F.SG |
  NETIF_F.FRAGLIST |
  NETIF_F.HW_CSUM |
  NETIF_F.RXCSUM |
  NETIF_F.SCTP_CRC |
  NETIF_F.HIGHDMA |
  NETIF_F_GSO_SOFTWARE |
  NETIF_F_GSO_ENCAP_ALL |
  NETIF_F.HW_VLAN_CTAG_TX |
  NETIF_F.HW_VLAN_CTAG_RX |
  NETIF_F.HW_VLAN_STAG_TX |
  NETIF_F.HW_VLAN_STAG_RX;

/** veth_setup(): an Ethernet device with no queue, MTU 68..65535, one queue pair per CPU. */
export function vethSetup(dev: NetDevice): void {
  etherSetup(dev);
  dev.privFlags &= ~IFF_PRIV.TX_SKB_SHARING;
  dev.privFlags |= IFF_PRIV.LIVE_ADDR_CHANGE | IFF_PRIV.NO_QUEUE;
  dev.netdevOps = vethNetdevOps;
  dev.ethtoolOps = vethEthtoolOps;
  dev.lltx = true;
  dev.features |= VETH_FEATURES;
  dev.hwFeatures = VETH_FEATURES;
  dev.minMtu = ETH_MIN_MTU;
  dev.maxMtu = ETH_MAX_MTU;
  dev.tsoMaxSize = 524280;
  // veth_get_num_queues(): as many as there are CPUs.
  dev.numTxQueues = dev.kernel.cpus.length;
  dev.numRxQueues = dev.kernel.cpus.length;
  dev.txQueueLen = 0;
}

/**
 * veth_newlink(): the peer is made and registered first (so it gets the lower ifindex),
 * in its own namespace if asked, then this end; both start without carrier. Names not
 * given are "veth%d".
 */
function vethNewlink(net: Net, dev: NetDevice, attrs: LinkAttrs, _extack: ExtAck): number {
  const info = (attrs.data?.peer ?? {}) as VethPeerInfo;
  const peerNet = info.net ?? net;
  if (!peerNet.alive) return -E.EINVAL;
  const peerName = info.name ?? 'veth%d';
  if (peerNet.devGetByName(peerName) !== undefined) return -E.EEXIST;
  const peerAttrs: LinkAttrs = {};
  if (info.address !== undefined) peerAttrs.address = info.address;
  if (info.mtu !== undefined) peerAttrs.mtu = info.mtu;
  if (info.txqlen !== undefined) peerAttrs.txqlen = info.txqlen;
  const peer = rtnlCreateLink(dev.kernel, vethLinkOps, peerName, peerAttrs);
  if (info.address === undefined) ethHwAddrRandom(peer);
  if (attrs.address === undefined) ethHwAddrRandom(dev);
  // Carrier goes off once each is registered: counted, and seen by the link watcher.
  let err = peerNet.registerNetdevice(peer);
  if (err !== 0) return err;
  netifCarrierOff(peer);
  err = net.registerNetdevice(dev);
  if (err !== 0) {
    peerNet.unregisterNetdevice(peer);
    return err;
  }
  netifCarrierOff(dev);
  // veth_disable_gro(): GRO stays off by default, as veth always had it.
  for (const d of [peer, dev]) {
    d.features &= ~NETIF_F.GRO;
    d.wantedFeatures &= ~NETIF_F.GRO;
  }
  privs.set(dev, { peer });
  privs.set(peer, { peer: dev });
  rtnlLinkNetnsidAlloc(peer);
  rtnlLinkNetnsidAlloc(dev);
  return 0;
}

/** veth_dellink(): the peer goes too, wherever it is. */
function vethDellink(dev: NetDevice): void {
  const priv = privs.get(dev);
  const peer = priv?.peer ?? null;
  dev.net?.unregisterNetdevice(dev);
  if (priv !== undefined) priv.peer = null;
  if (peer !== null) {
    const peerPriv = privs.get(peer);
    if (peerPriv !== undefined) peerPriv.peer = null;
    peer.net?.unregisterNetdevice(peer);
  }
}

export const vethLinkOps: RtnlLinkOps = {
  kind: 'veth',
  setup: vethSetup,
  netdevOps: vethNetdevOps,
  newlink: vethNewlink,
  dellink: vethDellink,
  getLinkNet: (dev) => vethPeer(dev)?.net ?? null,
};

/** The other end of a veth device, or null. */
export function vethPeerOf(dev: NetDevice): NetDevice | null {
  return dev.rtnlLinkOps === vethLinkOps ? vethPeer(dev) : null;
}

/** veth_init() (module_init). */
export function vethInit(kernel: Kernel): void {
  rtnlLinkRegister(kernel, vethLinkOps);
}

/** One end of a pair for vethPair(). */
export interface VethEnd {
  net: Net;
  name: string;
  /** A MAC, "02:00:00:00:00:01"; random (locally administered) when absent. */
  address?: string;
}

function parseMac(mac: string): Uint8Array {
  const bytes = mac.split(':').map((b) => Number.parseInt(b, 16));
  if (bytes.length !== 6 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new TypeError(`not a MAC address: ${mac}`);
  }
  return Uint8Array.from(bytes);
}

/**
 * A veth pair between two namespaces in one call, as
 * `ip link add A type veth peer name B netns NS` makes it: both ends down, no
 * addresses. Throws an Error with the errno's code (EEXIST, …) if the kernel refuses.
 */
export function vethPair(a: VethEnd, b: VethEnd): [NetDevice, NetDevice] {
  const ops = vethLinkOps;
  const dev = rtnlCreateLink(
    a.net.kernel,
    ops,
    a.name,
    a.address !== undefined ? { address: parseMac(a.address) } : {},
  );
  const peer: VethPeerInfo = { name: b.name, net: b.net };
  if (b.address !== undefined) peer.address = parseMac(b.address);
  if (a.net.devGetByName(a.name) !== undefined)
    throw Object.assign(new Error(`${a.name}: File exists`), { code: 'EEXIST' });
  const err = vethNewlink(
    a.net,
    dev,
    { ...(a.address !== undefined ? { address: dev.devAddr.slice(0, 6) } : {}), data: { peer } },
    {},
  );
  if (err !== 0)
    throw Object.assign(new Error(`veth pair ${a.name}/${b.name}: ${strerror(err)}`), { code: errnoName(err) });
  return [dev, vethPeer(dev) as NetDevice];
}
