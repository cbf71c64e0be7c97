/**
 * The shell's command language: lines of words, quotes, escapes, `;`, `&&`, `||`, `&`,
 * comments and `$?`. The parser either parses or raises ShellSyntaxError (which the
 * shell prints with status 2), and a whole line run in a namespace always comes back
 * with a status 0–255, background jobs included.
 */
import fc from 'fast-check';
import { Namespace } from '../src/api/namespace.js';
import { Kernel } from '../src/kernel/kernel.js';
import type { Output } from '../src/tools/command.js';
import { parse, ShellSyntaxError, tokenize } from '../src/tools/shell.js';
import { checkNamespaceAlive } from './argv.js';
import { type FuzzTarget, invariant } from './harness.js';

const pieces = fc.constantFrom(
  ' ',
  ' ',
  '\t',
  '\n',
  ';',
  '&',
  '&&',
  '||',
  '|',
  '#',
  "'",
  '"',
  '\\',
  '$?',
  'echo',
  'true',
  'false',
  'exit',
  'wait',
  'help',
  'sleep 0.1',
  'ip link show lo',
  'ip -s link',
  'ip link set lo down',
  'ip link set lo up',
  'ping -c 1 127.0.0.1',
  'cat /proc/net/snmp',
  'sysctl -n net.core.somaxconn',
  'nosuchtool',
  '0',
  '255',
  '256',
  '-1',
  'x',
);

const lineArb = fc.oneof(
  fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')),
  fc.array(fc.oneof(pieces, fc.string({ maxLength: 4 })), { maxLength: 8 }).map((p) => p.join(' ')),
);

class Sink implements Output {
  write(_t: string): void {}
}

export const shellTarget: FuzzTarget<string> = {
  name: 'shell',
  covers: "the shell's tokenizer and parser, and running whole lines with jobs and builtins",
  arbitrary: () => lineArb,
  async check(line) {
    for (const f of [tokenize, parse]) {
      try {
        f(line);
      } catch (e) {
        invariant(e instanceof ShellSyntaxError, `${f.name} threw ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
    const net = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
    const shell = net.shell({ stdout: new Sink(), stderr: new Sink() });
    const ac = new AbortController();
    const until = async (p: Promise<unknown>, rounds: number) => {
      let done = false;
      void p.finally(() => {
        done = true;
      });
      for (let i = 0; i < rounds && !done; i++) {
        await new Promise((r) => setImmediate(r));
        net.kernel.virtualClock.advance(100e6);
      }
      return done;
    };
    const run = shell.run(line, ac.signal);
    // A long sleep is fine; Ctrl-C must end it (the foreground, not the jobs).
    if (!(await until(run, 400))) ac.abort();
    invariant(await until(run, 50), 'the line did not finish after Ctrl-C');
    const code = await run;
    invariant(Number.isInteger(code) && code >= 0 && code <= 255, `status ${code}`);
    // The jobs go on after Ctrl-C; a hangup must end them.
    const jobs = shell.wait();
    if (!(await until(jobs, 400))) shell.hangup();
    invariant(await until(jobs, 50), 'the background jobs did not finish after a hangup');
    invariant((await jobs) === 0, 'wait without operands returns 0');
    checkNamespaceAlive(net);
    net.destroy();
  },
  show: (line) => JSON.stringify(line),
};
