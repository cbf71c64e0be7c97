/** cat(1) over lonet's /proc and the namespace's /etc/hosts and /etc/resolv.conf. */
import { strerror } from '../include/errno.js';
import { fileRead } from '../userland/files.js';
import type { CommandContext } from './command.js';

export function cat({ argv, net, stdout, stderr }: CommandContext): number {
  let code = 0;
  for (const path of argv.slice(1)) {
    const r = fileRead(net, path);
    if (typeof r === 'number') {
      stderr.write(`cat: ${path}: ${strerror(r)}\n`);
      code = 1;
    } else {
      stdout.write(r);
    }
  }
  return code;
}
