/** IPv6 (+ extension headers, fragments) into lo: ipv6_rcv, the extension header walk, reassembly. */
import { packetTarget } from './stack.js';

export const ipv6Target = packetTarget(
  'ipv6',
  'ipv6',
  'IPv6 headers, extension headers and fragments through ipv6_rcv to the sockets',
);
