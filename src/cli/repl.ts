/** The interactive shell: readline with history, Ctrl-C interrupts the running command. */
import { createInterface } from 'node:readline';
import type { Namespace } from '../api/namespace.js';

export function repl(ns: Namespace): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: interactive ? 'lonet# ' : '',
    historySize: 1000,
    terminal: interactive,
  });
  let running: AbortController | null = null;
  const shell = ns.shell({
    stdout: { write: (t) => void process.stdout.write(t) },
    stderr: { write: (t) => void process.stderr.write(t) },
  });
  if (interactive) {
    process.stdout.write("lonet: Linux's loopback path in-process. Type 'help' for the tools, 'exit' to leave.\n");
  }
  rl.on('SIGINT', () => {
    if (running !== null) running.abort();
    else {
      process.stdout.write('^C\n');
      rl.prompt();
    }
  });
  return new Promise((resolve) => {
    const lines: string[] = [];
    let busy = false;
    const next = async () => {
      if (busy) return;
      busy = true;
      while (lines.length > 0 && !shell.exited) {
        const line = lines.shift() as string;
        running = new AbortController();
        await shell.run(line, running.signal);
        running = null;
      }
      busy = false;
      if (shell.exited) rl.close();
      else rl.prompt();
    };
    rl.on('line', (line) => {
      lines.push(line);
      void next();
    });
    rl.on('close', () => {
      // Leaving the terminal hangs up its jobs (they ignore Ctrl-C); a script on stdin waits for them.
      if (interactive) shell.hangup();
      void shell.wait().then(() => {
        process.exitCode = shell.status;
        resolve();
      });
    });
    rl.prompt();
  });
}
