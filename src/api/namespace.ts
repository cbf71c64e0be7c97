/**
 * Namespace: what users hold. A network namespace (struct net) with a shell attached:
 * `await ns.exec('ip -s link show lo')` runs lonet's tools against this namespace and
 * gives back what they printed. Later faces (ns.net, ns.dgram, ns.http) hang here too.
 */
import { type CaptureOptions, PacketCapture } from '../capture/capture.js';
import { Net, type NetOptions } from '../net/net.js';
import { Capture, type Input, type Output, sharedInput, type ToolResult } from '../tools/command.js';
import { commands } from '../tools/index.js';
import { Shell } from '../tools/shell.js';
import { type Dgram, dgramFor } from './dgram.js';

export interface ExecOptions {
  /** Aborting interrupts the running command, as Ctrl-C would. */
  signal?: AbortSignal;
  /** Standard input for the line's commands (`nc -u …` sends it); none is /dev/null. */
  input?: string | Uint8Array | Input;
}

export interface ShellStreams {
  stdout: Output;
  stderr: Output;
  stdin?: Input;
}

export type NamespaceOptions = NetOptions;

export class Namespace extends Net {
  #dgram: Dgram | undefined;

  /** node:dgram on this namespace: `ns.dgram.createSocket('udp4')`. */
  get dgram(): Dgram {
    this.#dgram ??= dgramFor(this);
    return this.#dgram;
  }

  /**
   * Runs a shell line (`ip link set lo down; ping -c 1 127.0.0.1 || echo down`) in this
   * namespace and resolves with its exit code and everything it printed, after any
   * `cmd &` jobs it started have finished too. Calls may run concurrently.
   */
  async exec(line: string, opts: ExecOptions = {}): Promise<ToolResult> {
    const stdout = new Capture();
    const stderr = new Capture();
    const shell = this.shell({
      stdout,
      stderr,
      ...(opts.input !== undefined ? { stdin: sharedInput(opts.input) } : {}),
    });
    const code = await shell.run(line, opts.signal);
    await shell.wait();
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  /**
   * Starts a packet capture on a device of this namespace (`lo` by default, or `any`):
   * an async iterable of packets with their timestamps, and pcap()/pcapng() streams of a
   * file's bytes. Throws FilterError for a bad filter, CaptureError for a missing device.
   */
  capture(opts: CaptureOptions = {}): PacketCapture {
    return new PacketCapture(this, opts);
  }

  /** A long-lived shell whose output streams as it is written (the CLI and the browser terminal). */
  shell(streams: ShellStreams): Shell {
    return new Shell({ net: this, commands, ...streams });
  }
}
