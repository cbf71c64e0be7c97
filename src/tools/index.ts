/** The command table: every tool the shell can run, by the name users type. */
import { cat } from './cat.js';
import type { Command } from './command.js';
import { sysctl } from './sysctl.js';

export const commands: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['cat', cat],
  ['sysctl', sysctl],
]);
