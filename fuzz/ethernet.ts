/** Any bytes as an Ethernet frame on lo: short frames, unknown ethertypes, other hosts' MACs. */
import { packetTarget } from './stack.js';

export const ethernetTarget = packetTarget(
  'ethernet',
  'any',
  'Ethernet frames of any ethertype and length through loopback_xmit, the backlog and eth_type_trans',
);
