/** cat(1) over lonet's /proc: `cat /proc/net/dev`, `cat /proc/sys/net/core/somaxconn`. */
import { strerror } from '../include/errno.js';
import { procRead } from '../net/procfs.js';
import type { CommandContext } from './command.js';

export function cat({ argv, net, stdout, stderr }: CommandContext): number {
  let code = 0;
  for (const path of argv.slice(1)) {
    const r = procRead(net, path);
    if (typeof r === 'number') {
      stderr.write(`cat: ${path}: ${strerror(r)}\n`);
      code = 1;
    } else {
      stdout.write(r);
    }
  }
  return code;
}
