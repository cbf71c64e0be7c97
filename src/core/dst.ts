/**
 * struct dst_entry: the route a packet follows. lo keeps it across loopbackXmit
 * (netif_keep_dst), so the receive side can deliver without a second lookup.
 * The routing layers fill in input/output; the core only carries it.
 */
import type { NetDevice } from './netdevice.js';
import type { SkBuff } from './skbuff.js';

export interface DstEntry {
  dev: NetDevice;
  /** Receive-side handler (ip_local_deliver for a local route). */
  input(skb: SkBuff): number;
  /** Send-side handler (ip_output). */
  output(skb: SkBuff): number;
  /** dst_ops->check: false once routes or addresses changed, so holders look up again. */
  check(): boolean;
}
