/** Sends raw bytes through a namespace's lo with dev_queue_xmit, as an AF_PACKET socket would. */
import { devQueueXmit } from '../src/core/dev.js';
import { type SkBuff, skbFromBytes } from '../src/core/skbuff.js';
import type { Net } from '../src/net/net.js';

export function xmitFrame(net: Net, bytes: Uint8Array, seen?: (skb: SkBuff) => void): number {
  const skb = skbFromBytes(bytes.slice());
  skb.dev = net.lo;
  seen?.(skb);
  return devQueueXmit(skb);
}
