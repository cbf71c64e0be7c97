/**
 * net/ethernet/eth.c: building the link header on send (eth_header) and classifying
 * a frame on receive (eth_type_trans), for Ethernet-like devices such as lo.
 */

import { IFF, IFF_PRIV } from '../core/if.js';
import { type HeaderOps, isValidEtherAddr, type NetDevice } from '../core/netdevice.js';
import { PACKET, type SkBuff, skbPull, skbPush, skbResetMacHeader } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { ETH_ALEN, ETH_HLEN, ETH_P } from '../include/if-ether.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';

/**
 * eth_header(): push 14 bytes; source = the device address unless given. A given
 * destination is used as is (on lo the neighbour entry holds lo's own address);
 * with none, a LOOPBACK or NOARP device gets zeros. Returns the header length, or
 * its negative when the destination is still to be resolved.
 */
export function ethHeader(
  skb: SkBuff,
  dev: NetDevice,
  type: number,
  daddr: Uint8Array | null,
  saddr: Uint8Array | null,
  len: number,
): number {
  const at = skbPush(skb, ETH_HLEN);
  const b = skb.head;
  // struct ethhdr written in place (every packet out comes here): h_proto, h_source, h_dest.
  const proto = type !== ETH_P.ETH_802_3 && type !== ETH_P.ETH_802_2 ? type : len;
  b[at + 12] = proto >>> 8;
  b[at + 13] = proto & 0xff;
  copyEtherAddr(b, at + ETH_ALEN, saddr ?? dev.devAddr);
  if (daddr !== null) {
    copyEtherAddr(b, at, daddr);
    return ETH_HLEN;
  }
  if (dev.flags & (IFF.LOOPBACK | IFF.NOARP)) {
    b.fill(0, at, at + ETH_ALEN);
    return ETH_HLEN;
  }
  return -ETH_HLEN;
}

/** ether_addr_copy(): the first six bytes of `addr` (EthernetHeader's dst/src setters, without the view). */
function copyEtherAddr(b: Uint8Array, at: number, addr: Uint8Array): void {
  if (addr.byteLength < ETH_ALEN) {
    b.set(addr, at);
    return;
  }
  b[at] = addr[0] as number;
  b[at + 1] = addr[1] as number;
  b[at + 2] = addr[2] as number;
  b[at + 3] = addr[3] as number;
  b[at + 4] = addr[4] as number;
  b[at + 5] = addr[5] as number;
}

/** eth_header_parse(): the source address of a received frame. */
export function ethHeaderParse(skb: SkBuff, haddr: Uint8Array): number {
  haddr.set(skb.head.subarray(skb.macHeader + ETH_ALEN, skb.macHeader + 2 * ETH_ALEN));
  return ETH_ALEN;
}

export const ethHeaderOps: HeaderOps = { create: ethHeader, parse: ethHeaderParse };

function isMulticastEtherAddr(buf: Uint8Array, at: number): boolean {
  return ((buf[at] as number) & 1) === 1;
}

function etherAddrEqual(buf: Uint8Array, at: number, addr: Uint8Array): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (buf[at + i] !== addr[i]) return false;
  return true;
}

/**
 * eth_type_trans(): set skb.dev, pull the Ethernet header, classify the frame for this
 * host (pkt_type) and return its protocol: the ethertype of an Ethernet II frame,
 * ETH_P_802_3 for raw 802.3 (payload starts 0xFFFF), otherwise ETH_P_802_2.
 * The caller makes sure 14 bytes are there.
 */
export function ethTypeTrans(skb: SkBuff, dev: NetDevice): number {
  skb.dev = dev;
  skbResetMacHeader(skb);
  const at = skb.data;
  skbPull(skb, ETH_HLEN);
  const buf = skb.head;
  if (!etherAddrEqual(buf, at, dev.devAddr)) {
    if (isMulticastEtherAddr(buf, at)) {
      skb.pktType = etherAddrEqual(buf, at, dev.broadcast) ? PACKET.BROADCAST : PACKET.MULTICAST;
    } else {
      skb.pktType = PACKET.OTHERHOST;
    }
  } else {
    skb.pktType = PACKET.HOST;
  }
  const proto = ((buf[at + 12] as number) << 8) | (buf[at + 13] as number);
  if (proto >= ETH_P.ETH_802_3_MIN) return proto;
  if (skb.headlen >= 2 && buf[skb.data] === 0xff && buf[skb.data + 1] === 0xff) return ETH_P.ETH_802_3;
  return ETH_P.ETH_802_2;
}

/** eth_prepare_mac_addr_change + eth_commit_mac_addr_change (eth_mac_addr). */
export function ethMacAddr(dev: NetDevice, addr: Uint8Array): number {
  if (!(dev.privFlags & IFF_PRIV.LIVE_ADDR_CHANGE) && dev.running) return -E.EBUSY;
  if (!isValidEtherAddr(addr)) return -E.EADDRNOTAVAIL;
  dev.devAddr.set(addr.subarray(0, dev.addrLen));
  return 0;
}

export { ETHERNET_HEADER_LEN };
