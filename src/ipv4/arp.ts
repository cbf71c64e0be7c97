/**
 * net/ipv4/arp.c: IPv4 over Ethernet finds its next hop's MAC with ARP. arp_tbl's
 * constructor decides which entries need it (not lo, NOARP devices, broadcast or
 * multicast next hops); arp_solicit broadcasts "who-has" (unicast once the entry was
 * valid); arp_rcv answers requests for our addresses (arp_ignore), learns the sender,
 * and completes entries from replies. Per-device settings (arp_ignore, arp_announce,
 * arp_notify, arp_accept) and the neighbour parms are sysctls, as net.ipv4.conf.DEV.*
 * and net.ipv4.neigh.DEV.*.
 */
import { devAddPack, devQueueXmit } from '../core/dev.js';
import { ARPHRD, IFF, NET_RX, NETDEV } from '../core/if.js';
import {
  NEIGH_UPDATE_F,
  type Neighbour,
  type NeighOps,
  NeighTable,
  NUD,
  NUD_VALID,
  neighEventNs,
  neighSysctlEntries,
  neighUpdate,
} from '../core/neighbour.js';
import { formatHwAddr, type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import { allocSkb, consumeSkb, ipHdr, kfreeSkb, PACKET, pskbMayPull, type SkBuff, skbPut } from '../core/skbuff.js';
import { ETH_P } from '../include/if-ether.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { registerProcNet, registerSysctlDir } from '../net/procfs.js';
import { ARP_ETH_IP_LEN, ARPOP, ArpHeader } from '../wire/arp.js';
import { ICMP } from '../wire/icmp.js';
import { type Ipv4DevconfKey, inDevMaxconf, inDevOrconf } from './devconf.js';
import { formatIpv4, type InDevice, inDevGet, RT_SCOPE } from './devinet.js';
import { RTN } from './fib.js';
import { inetAddrType } from './fib-frontend.js';
import { icmpSend } from './icmp.js';
import { inetSelectAddr, ipv4IsLoopback, ipv4IsMulticast } from './route.js';

/** The ARP part of struct ipv4_devconf, per device and for "all" and "default". */
/** IN_DEV_ARP_IGNORE / _ANNOUNCE / _ACCEPT: the larger of `all` and the device's (0 without IPv4). */
function inDevArpMaxconf(dev: NetDevice, key: Ipv4DevconfKey): number {
  const inDev = inDevGet(dev);
  return inDev === null ? 0 : inDevMaxconf(inDev, key);
}

/** IN_DEV_ARP_NOTIFY / IN_DEV_ARP_EVICT_NOCARRIER: `all` or the device's. */
function inDevArpOrconf(dev: NetDevice, key: Ipv4DevconfKey): boolean {
  const inDev = inDevGet(dev);
  return inDev !== null && inDevOrconf(inDev, key);
}

/** arp_mc_map() for Ethernet: 01:00:5e and the group's low 23 bits. */
function ipEthMcMap(addr: number): Uint8Array {
  return Uint8Array.of(0x01, 0x00, 0x5e, (addr >>> 16) & 0x7f, (addr >>> 8) & 0xff, addr & 0xff);
}

const keyToAddr = (k: Uint8Array) =>
  (((k[0] as number) << 24) | ((k[1] as number) << 16) | ((k[2] as number) << 8) | (k[3] as number)) >>> 0;

/** arp_constructor(): what kind of next hop this is decides whether it needs ARP at all. */
function arpConstructor(n: Neighbour): void {
  const dev = n.dev;
  const addr = keyToAddr(n.key);
  const type = dev.net !== null ? inetAddrType(dev.net as Net, addr) : RTN.UNICAST;
  if (dev.headerOps === null) {
    n.nudState = NUD.NOARP;
    return;
  }
  if (type === RTN.MULTICAST && dev.addrLen === 6) {
    n.nudState = NUD.NOARP;
    n.ha = ipEthMcMap(addr);
  } else if (dev.flags & (IFF.NOARP | IFF.LOOPBACK)) {
    n.nudState = NUD.NOARP;
    n.ha = dev.devAddr.slice(0, dev.addrLen);
  } else if (type === RTN.BROADCAST || dev.flags & IFF.POINTOPOINT) {
    n.nudState = NUD.NOARP;
    n.ha = dev.broadcast.slice(0, dev.addrLen);
  }
}

/**
 * arp_create() + arp_xmit(): an ARP packet in an Ethernet frame. No destination MAC means
 * broadcast; no target MAC means zeros in the packet (a request).
 */
export function arpSend(
  type: number,
  destIp: number,
  dev: NetDevice,
  srcIp: number,
  destHw: Uint8Array | null,
  srcHw: Uint8Array | null,
  targetHw: Uint8Array | null,
): void {
  if (dev.flags & IFF.NOARP) return;
  const hlen = dev.hardHeaderLen;
  const skb = allocSkb(ARP_ETH_IP_LEN, hlen + 2);
  const at = skbPut(skb, ARP_ETH_IP_LEN);
  skb.networkHeader = at;
  skb.dev = dev;
  skb.protocol = ETH_P.ARP;
  const src = srcHw ?? dev.devAddr;
  const dst = destHw ?? dev.broadcast;
  if (dev.headerOps !== null && dev.headerOps.create(skb, dev, ETH_P.ARP, dst, src, skb.len) < 0) {
    kfreeSkb(skb);
    return;
  }
  const arp = new ArpHeader(skb.head, at);
  arp.hrd = dev.type === ARPHRD.LOOPBACK ? ARPHRD.ETHER : dev.type;
  arp.pro = ETH_P.IP;
  arp.hln = dev.addrLen;
  arp.pln = 4;
  arp.op = type;
  arp.sha = src;
  arp.sip = srcIp;
  if (targetHw !== null) arp.tha = targetHw;
  else skb.head.fill(0, at + 18, at + 24);
  arp.tip = destIp;
  devQueueXmit(skb);
}

/**
 * arp_solicit(): who-has the entry's address. The source address is the waiting packet's
 * when it is ours (arp_announce 0), in the target's subnet (1), or the device's primary
 * address for the target (2). The first ucast_solicit probes of an entry that was valid
 * go to its known MAC; the others are broadcast.
 */
function arpSolicit(n: Neighbour, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev.net as Net;
  const target = keyToAddr(n.key);
  let saddr = 0;
  const announce = inDevArpMaxconf(dev, 'arp_announce');
  if (announce === 0) {
    if (skb !== null) {
      const s = ipHdr(skb).src;
      if (inetAddrType(net, s) === RTN.LOCAL) saddr = s;
    }
  } else if (announce === 1 && skb !== null) {
    const s = ipHdr(skb).src;
    if (inetAddrType(net, s) === RTN.LOCAL && inetAddrOnlink(inDevGet(dev), target, s)) saddr = s;
  }
  if (saddr === 0) saddr = inetSelectAddr(dev, target, RT_SCOPE.LINK);
  const p = n.tbl.parms(dev);
  let probes = n.probes - p.ucast_probes;
  let dstHw: Uint8Array | null = null;
  if (probes < 0) dstHw = n.ha.slice();
  else {
    probes -= p.app_probes;
    // Application probes go to a user-space daemon (arpd) lonet does not have.
    if (probes < 0) return;
  }
  arpSend(ARPOP.REQUEST, target, dev, saddr, dstHw, dev.devAddr, null);
}

/** inet_addr_onlink(): are both addresses within one of the device's subnets? */
function inetAddrOnlink(inDev: InDevice | null, a: number, b: number): boolean {
  for (const ifa of inDev?.ifaList ?? []) {
    if (((a ^ ifa.address) & ifa.mask) === 0 && ((b ^ ifa.address) & ifa.mask) === 0) return true;
  }
  return false;
}

/** arp_error_report() → ipv4_link_failure(): the sender hears "host unreachable". */
function arpErrorReport(_n: Neighbour, skb: SkBuff): void {
  icmpSend(skb, ICMP.DEST_UNREACH, ICMP.HOST_UNREACH, 0);
  kfreeSkb(skb);
}

export const arpOps: NeighOps = {
  construct: arpConstructor,
  solicit: arpSolicit,
  errorReport: arpErrorReport,
};

/** A fresh arp_tbl for a namespace. */
export function arpTblNew(kernel: Kernel): NeighTable {
  const tbl = new NeighTable('inet', kernel);
  tbl.ops = arpOps;
  return tbl;
}

/**
 * arp_ignore(): 0 answers for any local address; 1 only for one on the receiving device;
 * 2 also wants the sender in that address's subnet; 3 wants scope link or wider;
 * 8 never answers.
 */
function arpIgnore(dev: NetDevice, sip: number, tip: number): boolean {
  const inDev = inDevGet(dev);
  const confirm = (withSip: boolean, scope: number) =>
    (inDev?.ifaList ?? []).some(
      (ifa) => ifa.local === tip && ifa.scope <= scope && (!withSip || ((sip ^ ifa.address) & ifa.mask) === 0),
    );
  switch (inDevArpMaxconf(dev, 'arp_ignore')) {
    case 1:
      return !confirm(false, RT_SCOPE.HOST);
    case 2:
      return !confirm(true, RT_SCOPE.HOST);
    case 3:
      return !confirm(false, RT_SCOPE.LINK);
    case 8:
      return true;
    default:
      return false;
  }
}

/** arp_is_garp(): an announcement of the sender's own address (tip == sip, unicast). */
function arpIsGarp(net: Net, op: number, sip: number, tip: number, sha: Uint8Array, tha: Uint8Array): boolean {
  let isGarp = tip === sip;
  if (isGarp && op === ARPOP.REPLY) isGarp = sha.every((b, i) => b === tha[i]);
  return isGarp && inetAddrType(net, sip) === RTN.UNICAST;
}

/** arp_process(): answer requests for us, then learn from what the sender told us. */
function arpProcess(net: Net, skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  if (inDevGet(dev) === null) return dropArp(skb);
  const arp = new ArpHeader(skb.head, skb.data);
  const op = arp.op;
  if (op !== ARPOP.REQUEST && op !== ARPOP.REPLY) return dropArp(skb);
  const sha = arp.sha.slice();
  const tha = arp.tha.slice();
  const sip = arp.sip;
  const tip = arp.tip;
  if (ipv4IsMulticast(tip) || ipv4IsLoopback(tip)) return dropArp(skb);
  const tbl = net.ipv4.arpTbl;
  // RFC 2131 duplicate address detection: a probe from 0.0.0.0 gets a reply if it is ours.
  if (sip === 0) {
    if (op === ARPOP.REQUEST && inetAddrType(net, tip) === RTN.LOCAL && !arpIgnore(dev, sip, tip)) {
      arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.devAddr, sha);
    }
    consumeSkb(skb);
    return NET_RX.SUCCESS;
  }
  // ip_route_input_noref(tip, sip): a request for one of our addresses, from a sender that is not us.
  if (op === ARPOP.REQUEST && inetAddrType(net, tip) === RTN.LOCAL && inetAddrType(net, sip) !== RTN.LOCAL) {
    if (skb.pktType === PACKET.HOST) tbl.stats.rcvProbesUcast++;
    else tbl.stats.rcvProbesMcast++;
    if (!arpIgnore(dev, sip, tip)) {
      neighEventNs(tbl, sha, Uint8Array.of(sip >>> 24, (sip >>> 16) & 255, (sip >>> 8) & 255, sip & 255), dev);
      arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.devAddr, sha);
    }
    consumeSkb(skb);
    return NET_RX.SUCCESS;
  }
  const key = Uint8Array.of(sip >>> 24, (sip >>> 16) & 255, (sip >>> 8) & 255, sip & 255);
  let n = tbl.lookup(key, dev);
  const accept = inDevArpMaxconf(dev, 'arp_accept');
  const isGarp = n !== undefined || accept !== 0 ? arpIsGarp(net, op, sip, tip, sha, tha) : false;
  if (accept !== 0 && n === undefined) {
    // Unsolicited ARP creates an entry only when arp_accept says so.
    if (isGarp || (op === ARPOP.REPLY && inetAddrType(net, sip) === RTN.UNICAST)) n = tbl.lookupOrCreate(key, dev);
  }
  if (n !== undefined) {
    const now = dev.kernel.clock.now();
    const override = now > n.updated + tbl.parms(dev).locktime * 1e6 || isGarp;
    // Broadcast replies and requests do not prove the sender reachable.
    const state = op !== ARPOP.REPLY || skb.pktType !== PACKET.HOST ? NUD.STALE : NUD.REACHABLE;
    neighUpdate(n, sha, state, override ? NEIGH_UPDATE_F.OVERRIDE : 0);
  }
  consumeSkb(skb);
  return NET_RX.SUCCESS;
}

function dropArp(skb: SkBuff): number {
  kfreeSkb(skb);
  return NET_RX.DROP;
}

/** arp_rcv(): sanity checks (not for a NOARP device, nor another host's frame), then arp_process. */
function arpRcv(skb: SkBuff, dev: NetDevice): number {
  const net = dev.net as Net | null;
  if (net === null || dev.flags & IFF.NOARP || skb.pktType === PACKET.OTHERHOST || skb.pktType === PACKET.LOOPBACK) {
    consumeSkb(skb);
    return NET_RX.SUCCESS;
  }
  if (!pskbMayPull(skb, ARP_ETH_IP_LEN)) return dropArp(skb);
  const arp = new ArpHeader(skb.head, skb.data);
  if (arp.hln !== dev.addrLen || arp.pln !== 4) return dropArp(skb);
  if (arp.hrd !== ARPHRD.ETHER || arp.pro !== ETH_P.IP) return dropArp(skb);
  return arpProcess(net, skb);
}

const arpPacketType: PacketType = { type: ETH_P.ARP, dev: null, func: (skb, dev) => arpRcv(skb, dev) };

/** inetdev_send_gratuitous_arp(): "who-has X tell X" for each of the device's addresses. */
export function inetdevSendGratuitousArp(dev: NetDevice): void {
  for (const ifa of inDevGet(dev)?.ifaList ?? []) {
    arpSend(ARPOP.REQUEST, ifa.local, dev, ifa.local, null, dev.devAddr, null);
  }
}

/** ATF_COM / ATF_PERM as /proc/net/arp's Flags column shows them (arp_state_to_flags). */
function arpStateToFlags(n: Neighbour): number {
  if (n.nudState & NUD.PERMANENT) return 0x6;
  if (n.nudState & NUD_VALID) return 0x2;
  return 0;
}

/** /proc/net/arp (arp_seq_show): entries that are more than NOARP. */
function arpSeqShow(net: Net): string {
  let out = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  for (const n of net.ipv4.arpTbl.entries) {
    if (!(n.nudState & ~NUD.NOARP)) continue;
    const ip = formatIpv4(keyToAddr(n.key)).padEnd(16);
    const hatype = `0x${n.dev.type.toString(16)}`.padEnd(12);
    const flags = `0x${arpStateToFlags(n).toString(16)}`.padEnd(12);
    out += `${ip} ${hatype}${flags}${formatHwAddr(n.ha, n.dev.addrLen).padEnd(17)}     *        ${n.dev.name}\n`;
  }
  return out;
}

/**
 * net.ipv4.neigh.DEV.* for each device with IPv4, and init_net's net.ipv4.neigh.default
 * (neigh_sysctl_register); the conf.DEV.arp_* settings are devconf's.
 */
function arpSysctlInit(): void {
  registerSysctlDir('net.ipv4.neigh.', (net) => {
    const tbl = net.ipv4.arpTbl;
    const out = net.isInitNet ? neighSysctlEntries(tbl, null, 'net.ipv4.neigh.default') : [];
    for (const dev of net.devices)
      if (inDevGet(dev) !== null) out.push(...neighSysctlEntries(tbl, dev, `net.ipv4.neigh.${dev.name}`));
    return out;
  });
}

/**
 * arp_netdev_event() and the ARP part of inetdev_event(): a device going down or away
 * takes its entries; carrier loss takes all but PERMANENT ones (arp_evict_nocarrier); a
 * new MAC flushes them; UP and a new MAC announce our addresses when arp_notify is set,
 * and NOTIFY_PEERS always does.
 */
function arpNetdevEvent(event: number, dev: NetDevice): void {
  const net = dev.net as Net | null;
  if (net === null || net.ipv4 === undefined) return;
  const tbl = net.ipv4.arpTbl;
  switch (event) {
    case NETDEV.UNREGISTER:
      tbl.flushDev(dev);
      tbl.releaseParms(dev);
      break;
    case NETDEV.DOWN:
      tbl.flushDev(dev);
      break;
    case NETDEV.CHANGE:
      if (!dev.carrierOk && inDevArpOrconf(dev, 'arp_evict_nocarrier')) tbl.flushDev(dev, true);
      break;
    case NETDEV.CHANGEADDR:
      tbl.flushDev(dev);
      if (inDevArpOrconf(dev, 'arp_notify')) inetdevSendGratuitousArp(dev);
      break;
    case NETDEV.UP:
      if (inDevArpOrconf(dev, 'arp_notify')) inetdevSendGratuitousArp(dev);
      break;
    case NETDEV.NOTIFY_PEERS:
      inetdevSendGratuitousArp(dev);
      break;
  }
}

/** arp_init(): the packet handler, /proc/net/arp and the device events. */
export function arpInit(kernel: Kernel): void {
  devAddPack(kernel, arpPacketType);
  registerProcNet('arp', arpSeqShow);
  registerNetdeviceNotifier(kernel, arpNetdevEvent);
  arpSysctlInit();
}
