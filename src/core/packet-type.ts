/**
 * struct packet_type: a receive handler for one ethertype (ip_rcv for ETH_P_IP), or
 * for every packet (a tap: tcpdump's packet socket with ETH_P_ALL).
 */
import type { NetDevice } from './netdevice.js';
import type { SkBuff } from './skbuff.js';

export interface PacketType {
  /** Ethertype in host order, or ETH_P_ALL for a tap. */
  type: number;
  /** Only packets on this device (packet socket bound to an interface); null for any. */
  dev: NetDevice | null;
  /**
   * Handles the packet. Taps get a shared skb and must not change it; protocol
   * handlers own the skb they are given. Returns NET_RX_SUCCESS or NET_RX_DROP.
   */
  func(skb: SkBuff, dev: NetDevice, pt: PacketType, origDev: NetDevice): number;
}
