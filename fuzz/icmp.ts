/** ICMP and ICMPv6 messages (echo, errors quoting IP packets, unknown types) to raw and ping sockets. */
import { packetTarget } from './stack.js';

export const icmpTarget = packetTarget(
  'icmp',
  'icmp',
  'ICMP and ICMPv6 messages through icmp_rcv / icmpv6_rcv to raw and ping sockets',
);
