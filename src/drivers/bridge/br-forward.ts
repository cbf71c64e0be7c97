/**
 * net/bridge/br_forward.c: out of one port (a known destination) or all of them
 * (flooding), never back out of the port a frame came in on, and only through ports
 * that forward. Each copy leaves with dev_queue_xmit on the port's device, so its
 * qdisc, taps and counters see it as they see any transmit.
 */
import { devQueueXmit } from '../../core/dev.js';
import { kfreeSkb, type SkBuff, skbPush } from '../../core/skbuff.js';
import { ETH_HLEN } from '../../include/if-ether.js';
import { BR_FLAG, BR_PKT, BR_STATE, type NetBridge, type NetBridgePort } from './br-private.js';

/** VLAN_HLEN: is_skb_forwardable leaves room for one tag. */
const VLAN_HLEN = 4;

/** should_deliver(): forwarding, and not where it came from (unless hairpin). */
function shouldDeliver(p: NetBridgePort, skb: SkBuff): boolean {
  return (Boolean(p.flags & BR_FLAG.HAIRPIN_MODE) || skb.dev !== p.dev) && p.state === BR_STATE.FORWARDING;
}

/** br_dev_queue_push_xmit(): the Ethernet header back on; too big for the port is dropped. */
function brDevQueuePushXmit(skb: SkBuff): void {
  skbPush(skb, ETH_HLEN);
  const dev = skb.dev;
  if (dev === null || !(dev.running && skb.len <= dev.mtu + ETH_HLEN + VLAN_HLEN)) {
    kfreeSkb(skb);
    return;
  }
  skb.dst = null;
  devQueueXmit(skb);
}

/** __br_forward() + br_forward_finish(). */
function __brForward(to: NetBridgePort, skb: SkBuff): void {
  skb.dev = to.dev;
  skb.tstamp = 0;
  brDevQueuePushXmit(skb);
}

/** deliver_clone(): a copy goes, the original stays for local delivery. */
function deliverClone(to: NetBridgePort, skb: SkBuff): void {
  __brForward(to, skb.clone());
}

/** br_forward(): to the port the FDB named. */
export function brForward(to: NetBridgePort, skb: SkBuff, localRcv: boolean): void {
  if (shouldDeliver(to, skb)) {
    if (localRcv) deliverClone(to, skb);
    else __brForward(to, skb);
    return;
  }
  if (!localRcv) kfreeSkb(skb);
}

/**
 * br_flood(): every port that floods this kind of frame. All but the last get a
 * clone; the last gets the frame itself unless it is also delivered locally.
 */
export function brFlood(br: NetBridge, skb: SkBuff, pktType: number, localRcv: boolean): void {
  let prev: NetBridgePort | null = null;
  const fromBridge = skb.dev === br.dev;
  for (const p of br.ports) {
    if (pktType === BR_PKT.UNICAST && !(p.flags & BR_FLAG.FLOOD)) continue;
    if (pktType === BR_PKT.MULTICAST && !(p.flags & BR_FLAG.MCAST_FLOOD) && !fromBridge) continue;
    if (pktType === BR_PKT.BROADCAST && !(p.flags & BR_FLAG.BCAST_FLOOD) && !fromBridge) continue;
    if (!shouldDeliver(p, skb)) continue;
    if (prev !== null) deliverClone(prev, skb);
    prev = p;
  }
  if (prev === null) {
    if (!localRcv) kfreeSkb(skb);
    return;
  }
  if (localRcv) deliverClone(prev, skb);
  else __brForward(prev, skb);
}
