/**
 * net/ipv4/protocol.c: inet_protos, the table ip_local_deliver dispatches on by the
 * IP header's protocol number (ICMP 1, TCP 6, UDP 17). Global, like ptype_base.
 */
import type { SkBuff } from '../core/skbuff.js';
import type { Kernel } from '../kernel/kernel.js';

/** struct net_protocol. */
export interface NetProtocol {
  /** Takes ownership of the skb (data at the transport header); returns 0 or a negative "resubmit" code. */
  handler(skb: SkBuff): number;
  /** An ICMP error about a packet this protocol sent (err_handler); `info` is the ICMP type/code-specific value. */
  errHandler?(skb: SkBuff, type: number, code: number, info: number): void;
}

const tables = new WeakMap<Kernel, (NetProtocol | undefined)[]>();

function table(kernel: Kernel): (NetProtocol | undefined)[] {
  let t = tables.get(kernel);
  if (t === undefined) {
    t = [];
    tables.set(kernel, t);
  }
  return t;
}

/** inet_add_protocol(): false if the slot is taken. */
export function inetAddProtocol(kernel: Kernel, protocol: number, prot: NetProtocol): boolean {
  const t = table(kernel);
  if (t[protocol] !== undefined) return false;
  t[protocol] = prot;
  return true;
}

export function inetProtocol(kernel: Kernel, protocol: number): NetProtocol | undefined {
  return table(kernel)[protocol];
}
