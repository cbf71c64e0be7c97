/**
 * net/bridge/br_input.c: the rx_handler a port's receive path calls. A frame is
 * learned (its source, on this port), then sent where the FDB says, flooded when it
 * does not know, and passed up to the bridge device itself when it is for the bridge
 * (one of its local addresses, a broadcast, a multicast).
 */
import { netifReceiveSkb } from '../../core/dev.js';
import { IFF, NET_RX, RX_HANDLER } from '../../core/if.js';
import { kfreeSkb, PACKET, type SkBuff } from '../../core/skbuff.js';
import { brFdbFind, brFdbUpdate } from './br-fdb.js';
import { brFlood, brForward } from './br-forward.js';
import {
  BR_FDB,
  BR_FLAG,
  BR_NO_STP,
  BR_PKT,
  BR_STATE,
  brPortGet,
  etherAddrEqual,
  isBroadcastEtherAddr,
  isLinkLocalEtherAddr,
  isMulticastEtherAddr,
  isValidEtherAddr,
  type NetBridge,
  thisCpuTstats,
} from './br-private.js';

function ethDest(skb: SkBuff): Uint8Array {
  return skb.head.subarray(skb.macHeader, skb.macHeader + 6);
}

function ethSource(skb: SkBuff): Uint8Array {
  return skb.head.subarray(skb.macHeader + 6, skb.macHeader + 12);
}

/**
 * br_pass_frame_up(): counted on the bridge (bytes after the Ethernet header, as
 * skb->len is there), then received again with the bridge as its device.
 */
function brPassFrameUp(br: NetBridge, skb: SkBuff): number {
  const st = thisCpuTstats(br);
  st.rxPackets++;
  st.rxBytes += skb.len;
  skb.dev = br.dev;
  return netifReceiveSkb(skb);
}

/** br_handle_frame_finish(). */
function brHandleFrameFinish(skb: SkBuff): number {
  const p = brPortGet(skb.dev as NonNullable<SkBuff['dev']>);
  if (p === null || p.state === BR_STATE.DISABLED) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const br = p.br;
  if (p.flags & BR_FLAG.LEARNING) brFdbUpdate(br, p, ethSource(skb));
  const promisc = Boolean(br.dev.flags & IFF.PROMISC);
  let localRcv = promisc;
  let pktType: number = BR_PKT.UNICAST;
  const dest = ethDest(skb);
  if (isMulticastEtherAddr(dest)) {
    if (isBroadcastEtherAddr(dest)) pktType = BR_PKT.BROADCAST;
    else {
      pktType = BR_PKT.MULTICAST;
      // No querier and no group database here: every multicast is flooded and seen locally.
      br.dev.stats.multicast++;
    }
    localRcv = true;
  }
  if (p.state === BR_STATE.LEARNING) {
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const dst = pktType === BR_PKT.UNICAST ? brFdbFind(br, dest) : null;
  if (dst !== null) {
    if (dst.flags & BR_FDB.LOCAL) return brPassFrameUp(br, skb);
    dst.used = br.dev.kernel.clock.now();
    if (dst.dst !== null) brForward(dst.dst, skb, localRcv);
    else if (!localRcv) kfreeSkb(skb);
  } else brFlood(br, skb, pktType, localRcv);
  if (localRcv) return brPassFrameUp(br, skb);
  return NET_RX.SUCCESS;
}

/**
 * br_handle_frame(): the port's rx_handler. Frames to the reserved 01:80:c2:00:00:0X
 * group stay on the port's own stack (STP's 00 is bridged while STP is off; Pause is
 * dropped); everything else is the bridge's.
 */
export function brHandleFrame(skb: SkBuff): number {
  if (skb.pktType === PACKET.LOOPBACK) return RX_HANDLER.PASS;
  if (!isValidEtherAddr(ethSource(skb))) {
    kfreeSkb(skb);
    return RX_HANDLER.CONSUMED;
  }
  const p = brPortGet(skb.dev as NonNullable<SkBuff['dev']>);
  if (p === null) return RX_HANDLER.PASS;
  const dest = ethDest(skb);
  if (isLinkLocalEtherAddr(dest)) {
    const low = dest[5] as number;
    const forward = (low === 0x00 && p.br.stpEnabled === BR_NO_STP) || (low !== 0x01 && p.br.groupFwdMask & (1 << low));
    if (low === 0x01) {
      kfreeSkb(skb);
      return RX_HANDLER.CONSUMED;
    }
    if (!forward) {
      if (p.state !== BR_STATE.DISABLED && p.flags & BR_FLAG.LEARNING) brFdbUpdate(p.br, p, ethSource(skb));
      return RX_HANDLER.PASS;
    }
  }
  switch (p.state) {
    case BR_STATE.DISABLED:
      if (etherAddrEqual(p.br.dev.devAddr, dest)) skb.pktType = PACKET.HOST;
      return RX_HANDLER.PASS;
    case BR_STATE.FORWARDING:
    case BR_STATE.LEARNING:
      if (etherAddrEqual(p.br.dev.devAddr, dest)) skb.pktType = PACKET.HOST;
      brHandleFrameFinish(skb);
      return RX_HANDLER.CONSUMED;
    default:
      kfreeSkb(skb);
      return RX_HANDLER.CONSUMED;
  }
}
