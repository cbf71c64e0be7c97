/**
 * Every fuzz target, in the order `npm run fuzz` runs them. A new parser or input path
 * (the node:net face, say) is one more file and one more entry here.
 */
import { apiTarget } from './api.js';
import { configTarget } from './config.js';
import { dgramTarget } from './dgram.js';
import { ethernetTarget } from './ethernet.js';
import { filterTarget } from './filter.js';
import type { FuzzTarget } from './harness.js';
import { icmpTarget } from './icmp.js';
import { ipArgsTarget } from './ip-args.js';
import { ipv4Target } from './ipv4.js';
import { ipv6Target } from './ipv6.js';
import { pcapTarget } from './pcap.js';
import { pcapngTarget } from './pcapng.js';
import { shellTarget } from './shell.js';
import { tcpTarget } from './tcp.js';
import { toolsTarget } from './tools.js';
import { udpTarget } from './udp.js';

export const targets: readonly FuzzTarget<never>[] = [
  ethernetTarget,
  ipv4Target,
  ipv6Target,
  icmpTarget,
  udpTarget,
  tcpTarget,
  configTarget,
  pcapTarget,
  pcapngTarget,
  filterTarget,
  shellTarget,
  ipArgsTarget,
  toolsTarget,
  apiTarget,
  dgramTarget,
] as FuzzTarget<never>[];
