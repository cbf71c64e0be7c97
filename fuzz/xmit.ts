/**
 * Sends raw bytes through a namespace's lo with dev_queue_xmit. An IPv4 frame to an address
 * the host delivers to itself goes in as the host's own packet, with the route its output
 * would give it (ipRouteToSelf), so 127.0.0.1 frames reach the protocols; any other frame
 * goes in as an AF_PACKET socket sends it, with no route, and meets ip_route_input's
 * martian checks.
 */
import { devQueueXmit } from '../src/core/dev.js';
import { type SkBuff, skbFromBytes } from '../src/core/skbuff.js';
import { ipRouteToSelf } from '../src/ipv4/route.js';
import type { Net } from '../src/net/net.js';

export function xmitFrame(net: Net, bytes: Uint8Array, seen?: (skb: SkBuff) => void): number {
  const skb = skbFromBytes(bytes.slice());
  skb.dev = net.lo;
  if (bytes.length >= 34 && bytes[12] === 0x08 && bytes[13] === 0x00) {
    const daddr =
      (((bytes[30] as number) << 24) |
        ((bytes[31] as number) << 16) |
        ((bytes[32] as number) << 8) |
        (bytes[33] as number)) >>>
      0;
    skb.dst = ipRouteToSelf(net, daddr);
  }
  seen?.(skb);
  return devQueueXmit(skb);
}
