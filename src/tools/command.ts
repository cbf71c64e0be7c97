/**
 * What every tool is: a function of argv that writes to stdout and stderr and returns
 * an exit code, run against one namespace. The shell (tools/shell.ts), the CLI, tests
 * and the browser page all run tools through this one interface.
 */
import type { Net } from '../net/net.js';

export interface Output {
  write(text: string): void;
}

export interface CommandContext {
  /** argv[0] is the command name, as typed. */
  readonly argv: readonly string[];
  readonly net: Net;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Aborted when the user interrupts (Ctrl-C) or the shell is closed. */
  readonly signal: AbortSignal;
}

export type Command = (ctx: CommandContext) => number | Promise<number>;

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one tool with captured output: for tests and for ns.exec. */
export async function runTool(cmd: Command, net: Net, argv: readonly string[], signal?: AbortSignal): Promise<ToolResult> {
  let stdout = '';
  let stderr = '';
  const code = await cmd({
    argv,
    net,
    stdout: { write: (t) => void (stdout += t) },
    stderr: { write: (t) => void (stderr += t) },
    signal: signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}
