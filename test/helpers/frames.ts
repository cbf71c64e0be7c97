/** Raw Ethernet frames and a packet-socket-like receiver, for driving lo below IP. */
import { devAddPack, devQueueXmit } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import type { PacketType } from '../../src/core/packet-type.js';
import { kfreeSkb, type SkBuff, skbFromBytes } from '../../src/core/skbuff.js';
import { ipRouteToSelf } from '../../src/ipv4/route.js';
import type { Net } from '../../src/net/net.js';

/** ETH_P_802_EX1, the IEEE local experimental ethertype: no protocol of the stack claims it. */
export const ETH_P_802_EX1 = 0x88b5;

/** A frame with zero MACs, the given ethertype and `payload` bytes after the header. */
export function frame(ethertype: number, payload = 46): Uint8Array {
  const f = new Uint8Array(14 + payload);
  f[12] = ethertype >> 8;
  f[13] = ethertype & 0xff;
  for (let i = 14; i < f.length; i++) f[i] = i & 0xff;
  return f;
}

/**
 * Sends bytes through net's lo with dev_queue_xmit, as an AF_PACKET socket does: no route
 * comes with them. Returns its result. `hash` is the flow hash.
 */
export function xmit(net: Net, bytes: Uint8Array, hash = 0): number {
  const skb = skbFromBytes(bytes);
  skb.dev = net.lo;
  skb.hash = hash;
  return devQueueXmit(skb);
}

/**
 * Sends bytes into lo as this host's own packet: an IPv4 frame to an address the host
 * delivers to itself carries the route its output would give it (lo keeps the sender's
 * dst), so no martian check sees it, as with a raw IP_HDRINCL socket on Linux. Use xmit()
 * for what an AF_PACKET socket sends: no route, so ip_route_input judges it.
 */
export function xmitAsHost(net: Net, bytes: Uint8Array, hash = 0): number {
  const skb = skbFromBytes(bytes);
  skb.dev = net.lo;
  skb.hash = hash;
  if (bytes.length >= 34 && bytes[12] === 0x08 && bytes[13] === 0x00) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    skb.dst = ipRouteToSelf(net, v.getUint32(30));
  }
  return devQueueXmit(skb);
}

/** A receiver for one ethertype on lo (AF_PACKET, SOCK_RAW, htons(type)): records what arrives. */
export function listen(net: Net, type: number): { received: SkBuff[]; pt: PacketType } {
  const received: SkBuff[] = [];
  const pt: PacketType = {
    type,
    dev: net.lo,
    func: (skb) => {
      received.push(skb);
      kfreeSkb(skb);
      return NET_RX.SUCCESS;
    },
  };
  devAddPack(net.kernel, pt);
  return { received, pt };
}
