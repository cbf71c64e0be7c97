/** UDP over IPv4 and IPv6: lengths that lie, checksums, ports with and without sockets, broadcast. */
import { packetTarget } from './stack.js';

export const udpTarget = packetTarget('udp', 'udp', 'UDP datagrams over IPv4 and IPv6 through udp_rcv to sockets');
