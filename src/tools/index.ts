/** The command table: every tool the shell can run, by the name users type. */
import { bridge } from './bridge.js';
import { cat } from './cat.js';
import type { Command } from './command.js';
import { curl } from './curl.js';
import { dig } from './dig.js';
import { ethtool } from './ethtool.js';
import { getent } from './getent.js';
import { ifconfig } from './ifconfig.js';
import { ip } from './ip/index.js';
import { nc } from './nc.js';
import { nslookup } from './nslookup.js';
import { nstat } from './nstat.js';
import { ping } from './ping.js';
import { ss } from './ss.js';
import { sysctl } from './sysctl.js';
import { tc } from './tc.js';
import { tcpdump } from './tcpdump.js';

export const commands: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['bridge', bridge],
  ['cat', cat],
  ['curl', curl],
  ['dig', dig],
  ['ethtool', ethtool],
  ['getent', getent],
  ['ifconfig', ifconfig],
  ['ip', ip],
  ['nc', nc],
  ['nslookup', nslookup],
  ['nstat', nstat],
  ['ping', ping],
  ['ping6', ping],
  ['ss', ss],
  ['sysctl', sysctl],
  ['tc', tc],
  ['tcpdump', tcpdump],
]);
