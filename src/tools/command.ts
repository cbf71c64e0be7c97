/**
 * What every tool is: a function of argv that writes to stdout and stderr and returns
 * an exit code, run against one namespace. The shell (tools/shell.ts), the CLI, tests
 * and the browser page all run tools through this one interface.
 */
import type { Net } from '../net/net.js';

export interface Output {
  write(text: string): void;
}

/** Standard input: chunks as read(2) would return them, ending at EOF. */
export type Input = AsyncIterable<Uint8Array | string>;

/**
 * One open file description shared by every command of a shell, as a file descriptor
 * is: what one command reads is gone for the next, and a command that stops reading
 * early leaves the rest (it does not close the source).
 */
export function sharedInput(source: Input | string | Uint8Array): Input {
  const it =
    typeof source === 'string' || source instanceof Uint8Array
      ? (async function* () {
          yield source;
        })()
      : source[Symbol.asyncIterator]();
  let done = false;
  return {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (done) return { done: true, value: undefined };
        const r = await it.next();
        if (r.done === true) done = true;
        return r;
      },
      return: async () => ({ done: true, value: undefined }),
    }),
  };
}

export interface CommandContext {
  /** argv[0] is the command name, as typed. */
  readonly argv: readonly string[];
  readonly net: Net;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Aborted when the user interrupts (Ctrl-C) or the shell is closed. */
  readonly signal: AbortSignal;
  /** Standard input; absent means /dev/null (EOF at once). */
  readonly stdin?: Input;
  /**
   * Runs another command as execvp would, in namespace `net`, with this one's streams
   * (`ip netns exec`); absent where no shell is behind the tool.
   */
  readonly exec?: (argv: string[], net: Net) => Promise<number>;
}

export type Command = (ctx: CommandContext) => number | Promise<number>;

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An Output that keeps what was written. */
export class Capture implements Output {
  text = '';
  write(t: string): void {
    this.text += t;
  }
}

/** Runs one tool with captured output, for tests. */
export async function runTool(
  cmd: Command,
  net: Net,
  argv: readonly string[],
  signal?: AbortSignal,
): Promise<ToolResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await cmd({ argv, net, stdout, stderr, signal: signal ?? new AbortController().signal });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
