/** The command table: every tool the shell can run, by the name users type. */
import { cat } from './cat.js';
import type { Command } from './command.js';
import { curl } from './curl.js';
import { ethtool } from './ethtool.js';
import { ifconfig } from './ifconfig.js';
import { ip } from './ip/index.js';
import { nc } from './nc.js';
import { ping } from './ping.js';
import { ss } from './ss.js';
import { sysctl } from './sysctl.js';
import { tc } from './tc.js';
import { tcpdump } from './tcpdump.js';

export const commands: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['cat', cat],
  ['curl', curl],
  ['ethtool', ethtool],
  ['ifconfig', ifconfig],
  ['ip', ip],
  ['nc', nc],
  ['ping', ping],
  ['ping6', ping],
  ['ss', ss],
  ['sysctl', sysctl],
  ['tc', tc],
  ['tcpdump', tcpdump],
]);
