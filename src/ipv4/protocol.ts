/**
 * net/ipv4/protocol.c (inet_protos) and net/ipv6/protocol.c (inet6_protos): the tables
 * ip_local_deliver and ip6_input dispatch on by protocol number (ICMP 1, TCP 6,
 * UDP 17, ICMPv6 58). Global per kernel, like ptype_base.
 */
import type { SkBuff } from '../core/skbuff.js';
import type { Kernel } from '../kernel/kernel.js';

/** struct net_protocol / inet6_protocol. */
export interface NetProtocol {
  /** Takes ownership of the skb (data at the transport header). */
  handler(skb: SkBuff): number;
  /** An ICMP error about a packet this protocol sent (err_handler). */
  errHandler?(skb: SkBuff, type: number, code: number, info: number): void;
}

/** One protocol table per kernel and family. */
function protocolTable() {
  const tables = new WeakMap<Kernel, (NetProtocol | undefined)[]>();
  const get = (kernel: Kernel) => {
    let t = tables.get(kernel);
    if (t === undefined) {
      t = [];
      tables.set(kernel, t);
    }
    return t;
  };
  return {
    /** inet_add_protocol(): false if the slot is taken. */
    add(kernel: Kernel, protocol: number, prot: NetProtocol): boolean {
      const t = get(kernel);
      if (t[protocol] !== undefined) return false;
      t[protocol] = prot;
      return true;
    },
    get(kernel: Kernel, protocol: number): NetProtocol | undefined {
      return get(kernel)[protocol];
    },
  };
}

const inetProtos = protocolTable();
const inet6Protos = protocolTable();

export const inetAddProtocol = inetProtos.add;
export const inetProtocol = inetProtos.get;
export const inet6AddProtocol = inet6Protos.add;
export const inet6Protocol = inet6Protos.get;
