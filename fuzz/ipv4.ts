/** IPv4 (+ options, fragments) into lo: ip_rcv's checks, route input, reassembly, delivery. */
import { packetTarget } from './stack.js';

export const ipv4Target = packetTarget(
  'ipv4',
  'ipv4',
  'IPv4 headers, options and fragments through ip_rcv to the sockets',
);
