/**
 * The lonet shell: a small POSIX-like command language over the tools. It knows
 * words and quotes, `;`, `&&`, `||`, `cmd &` background jobs, `> FILE` and `>> FILE`, `wait`, `sleep`,
 * `exit`, `echo`, `true`, `false` and `help`; everything else is a tool from the
 * command table. The CLI, ns.exec and the browser terminal all run lines through it.
 */

import { strerror } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { fileWrite } from '../userland/files.js';
import { Capture, type Command, type CommandContext, type Input, type Output } from './command.js';

type Op = ';' | '&' | '&&' | '||' | '>' | '>>';
type Token = { word: string } | { op: Op };

export class ShellSyntaxError extends Error {}

/** Splits a line into words and operators, honouring '…', "…" and backslashes. */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      tokens.push({ op: ';' });
      i++;
      continue;
    }
    if (c === '#') break;
    if (c === '>') {
      const append = line[i + 1] === '>';
      tokens.push({ op: append ? '>>' : '>' });
      i += append ? 2 : 1;
      continue;
    }
    if (c === '&' || c === '|') {
      if (line[i + 1] === c) {
        tokens.push({ op: c === '&' ? '&&' : '||' });
        i += 2;
      } else if (c === '&') {
        tokens.push({ op: '&' });
        i++;
      } else {
        throw new ShellSyntaxError('pipes are not supported');
      }
      continue;
    }
    let word = '';
    while (i < line.length) {
      const ch = line[i] as string;
      if (' \t\n;&|>'.includes(ch)) break;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError("unexpected EOF while looking for matching `''");
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (ch === '"') {
        i++;
        for (;;) {
          if (i >= line.length) throw new ShellSyntaxError('unexpected EOF while looking for matching `"\'');
          const q = line[i] as string;
          if (q === '"') break;
          if (q === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) {
            word += line[i + 1];
            i += 2;
          } else {
            word += q;
            i++;
          }
        }
        i++;
      } else if (ch === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        word += ch;
        i++;
      }
    }
    tokens.push({ word });
  }
  return tokens;
}

/** `> FILE` or `>> FILE` after a command. */
export interface Redirect {
  path: string;
  append: boolean;
}

/** A pipeline-free command list: and-or chains, each run in the foreground or background. */
interface AndOr {
  commands: string[][];
  /** connectors[i] joins commands[i] and commands[i + 1]. */
  connectors: ('&&' | '||')[];
  background: boolean;
  /** Output redirections, by command index (absent when there are none). */
  redirects?: Record<number, Redirect>;
}

export function parse(line: string): AndOr[] {
  const list: AndOr[] = [];
  let current: AndOr = { commands: [], connectors: [], background: false };
  let words: string[] = [];
  let pending: '>' | '>>' | null = null;
  const endCommand = (op: string) => {
    if (words.length === 0) throw new ShellSyntaxError(`syntax error near unexpected token \`${op}'`);
    current.commands.push(words);
    words = [];
  };
  for (const t of tokenize(line)) {
    if (pending !== null) {
      if (!('word' in t)) throw new ShellSyntaxError(`syntax error near unexpected token \`${t.op}'`);
      current.redirects ??= {};
      current.redirects[current.commands.length] = { path: t.word, append: pending === '>>' };
      pending = null;
      continue;
    }
    if ('word' in t) {
      words.push(t.word);
      continue;
    }
    if (t.op === '>' || t.op === '>>') {
      pending = t.op;
      continue;
    }
    if (t.op === '&&' || t.op === '||') {
      endCommand(t.op);
      current.connectors.push(t.op);
      continue;
    }
    // ';' or '&' ends an and-or list; an empty ';' is harmless, an empty '&' is not.
    if (words.length === 0 && current.commands.length === 0) {
      if (t.op === '&') throw new ShellSyntaxError("syntax error near unexpected token `&'");
      continue;
    }
    endCommand(t.op);
    current.background = t.op === '&';
    list.push(current);
    current = { commands: [], connectors: [], background: false };
  }
  if (pending !== null) throw new ShellSyntaxError("syntax error near unexpected token `newline'");
  if (words.length > 0) current.commands.push(words);
  else if (current.connectors.length > 0) throw new ShellSyntaxError('syntax error: unexpected end of file');
  if (current.commands.length > 0) list.push(current);
  return list;
}

export interface ShellOptions {
  net: Net;
  commands: ReadonlyMap<string, Command>;
  stdout: Output;
  stderr: Output;
  /** The shell's standard input, which foreground commands read (see sharedInput). */
  stdin?: Input;
}

/**
 * One shell: its background jobs and last status persist across lines (the REPL's session).
 * A background job runs in a subshell, as sh forks one for `cmd &`: it starts with the
 * parent's `$?`, has no jobs of its own (so its `wait` returns at once) and its `exit` ends
 * only the job. With job control off, as in a script, sh starts background jobs with SIGINT
 * ignored: Ctrl-C interrupts the foreground command, never a job; hangup() ends the jobs.
 */
export class Shell {
  status = 0;
  /** Set by `exit`: the caller should stop reading lines. */
  exited = false;
  readonly #jobs = new Set<Promise<number>>();
  /** SIGHUP for this shell's jobs: what a closing terminal sends them. */
  #hup = new AbortController();

  constructor(readonly opts: ShellOptions) {}

  /** Runs one line; resolves with the status of its last foreground command. Aborting `signal` interrupts it. */
  async run(line: string, signal: AbortSignal = new AbortController().signal): Promise<number> {
    let list: AndOr[];
    try {
      list = parse(line);
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      this.opts.stderr.write(`lonet: ${e.message}\n`);
      this.status = 2;
      return 2;
    }
    for (const andOr of list) {
      if (this.exited) break;
      if (andOr.background) this.#spawn(andOr);
      else await this.#runAndOr(andOr, signal);
    }
    return this.status;
  }

  /**
   * Waits for every background job, as the `wait` builtin does: POSIX makes its status 0.
   * Aborting `signal` (Ctrl-C) ends the wait with 130, as a signal ends bash's; the jobs go on.
   */
  async wait(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return 130;
    let onAbort = () => {};
    const interrupted = new Promise<number>((resolve) => {
      onAbort = () => resolve(130);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      while (this.#jobs.size > 0) {
        const status = await Promise.race([Promise.all(this.#jobs).then(() => 0), interrupted]);
        if (status === 130) return status;
      }
      return 0;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** SIGHUP to every job (a terminal closing, or ns.exec's caller giving up): each stops as Ctrl-C stops it. */
  hangup(): void {
    this.#hup.abort();
    this.#hup = new AbortController();
  }

  /** `cmd &`: the and-or list runs in a subshell, on the hangup signal, reading /dev/null. */
  #spawn(andOr: AndOr): void {
    const sub = new Shell(this.opts);
    sub.status = this.status;
    const job = sub.#runAndOr(andOr, this.#hup.signal, false).then(() => sub.status);
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
    this.status = 0;
  }

  /** Runs an and-or list; `$?` follows each command, as the next one in the list sees it. */
  async #runAndOr(andOr: AndOr, signal: AbortSignal, foreground = true): Promise<void> {
    const run = (i: number) =>
      this.#runRedirected(andOr.commands[i] as string[], andOr.redirects?.[i], signal, foreground);
    this.status = await run(0);
    for (let i = 0; i < andOr.connectors.length; i++) {
      if (this.exited) break;
      const join = andOr.connectors[i];
      if ((join === '&&' && this.status !== 0) || (join === '||' && this.status === 0)) continue;
      this.status = await run(i + 1);
    }
  }

  /** A command whose output goes to a file: written when it ends (the files are in memory). */
  async #runRedirected(
    argv: string[],
    redirect: Redirect | undefined,
    signal: AbortSignal,
    foreground: boolean,
  ): Promise<number> {
    if (redirect === undefined) return this.#runCommand(argv, signal, foreground, this.opts.stdout);
    const { net, stderr } = this.opts;
    // The file is opened (and a `>` one emptied) before the command runs, as sh does.
    const open = fileWrite(net, redirect.path, '', redirect.append);
    if (open < 0) {
      stderr.write(`lonet: ${redirect.path}: ${strerror(open)}\n`);
      return 1;
    }
    const out = new Capture();
    const status = await this.#runCommand(argv, signal, foreground, out);
    const e = out.text === '' ? 0 : fileWrite(net, redirect.path, out.text, true);
    if (e < 0) {
      stderr.write(`lonet: ${redirect.path}: ${strerror(e)}\n`);
      return 1;
    }
    return status;
  }

  async #runCommand(
    argv: string[],
    signal: AbortSignal,
    foreground: boolean,
    stdout: Output,
    net = this.opts.net,
  ): Promise<number> {
    const { stderr } = this.opts;
    const expanded = argv.map((w) => w.replaceAll('$?', String(this.status)));
    const name = expanded[0] as string;
    switch (name) {
      case 'exit': {
        const code = expanded[1] === undefined ? this.status : Number.parseInt(expanded[1], 10);
        this.exited = true;
        return Number.isNaN(code) ? 2 : code & 0xff;
      }
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'echo':
        stdout.write(`${expanded.slice(1).join(' ')}\n`);
        return 0;
      case 'wait':
        return this.wait(signal);
      case 'sleep':
        return sleep(net, expanded, stderr, signal);
      case 'help':
        stdout.write(helpText(this.opts.commands));
        return 0;
    }
    const cmd = this.opts.commands.get(name);
    if (cmd === undefined) {
      stderr.write(`lonet: ${name}: command not found\n`);
      return 127;
    }
    const stdin = foreground ? this.opts.stdin : undefined;
    const exec = (a: string[], n: Net) => this.#runCommand(a, signal, foreground, stdout, n);
    const ctx: CommandContext = { argv: expanded, net, stdout, stderr, signal, exec, ...(stdin ? { stdin } : {}) };
    try {
      return await cmd(ctx);
    } catch (e) {
      // A tool bug must not take the shell down; say so as a shell would.
      stderr.write(`lonet: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
}

/** sleep NUMBER[smhd]...: on the kernel's clock, so a virtual clock decides when it ends. */
function sleep(net: Net, argv: string[], stderr: Output, signal: AbortSignal): Promise<number> {
  if (argv.length < 2) {
    stderr.write("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return Promise.resolve(1);
  }
  let seconds = 0;
  for (const arg of argv.slice(1)) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
    if (m === null) {
      stderr.write(`sleep: invalid time interval '${arg}'\nTry 'sleep --help' for more information.\n`);
      return Promise.resolve(1);
    }
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
    seconds += Number(m[1]) * unit;
  }
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(130);
    const timer = net.kernel.clock.setTimer(seconds * 1e9, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(0);
    });
    const onAbort = () => {
      timer.cancel();
      resolve(130);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function helpText(commands: ReadonlyMap<string, Command>): string {
  const tools = [...commands.keys()].sort().join(' ');
  return `lonet shell: Linux's loopback network path, in-process.
Tools: ${tools}
Builtins: echo exit false help sleep true wait
Syntax: cmd; cmd   cmd && cmd   cmd || cmd   cmd &   cmd > FILE   cmd >> FILE   'quoted words'   $?
`;
}
