/**
 * Namespace: what users hold. A network namespace (struct net) with a shell attached:
 * `await ns.exec('ip -s link show lo')` runs lonet's tools against this namespace and
 * gives back what they printed. The faces (ns.net, ns.dgram, ns.http, ns.tls,
 * ns.https, ns.http2, ns.fetch) hang here too.
 */
import { readFileSync } from 'node:fs';
import './node-crypto.js';
import { type CaptureOptions, PacketCapture } from '../capture/capture.js';
import { Net } from '../init.js';
import type { NetOptions } from '../net/net.js';
import { Capture, type Input, type Output, sharedInput, type ToolResult } from '../tools/command.js';
import { commands } from '../tools/index.js';
import { Shell } from '../tools/shell.js';
import type { HostsFile } from '../userland/hosts.js';
import type { ResolvConf } from '../userland/resolv-conf.js';
import { etcOf } from '../userland/resolver.js';
import { type Dgram, dgramFor } from './dgram.js';
import { type DnsModule, dnsFor } from './dns.js';
import { dispatcherFor, type Fetch, fetchFor } from './fetch.js';
import { type HttpModule, httpFor } from './http.js';
import { type Http2Module, http2For } from './http2.js';
import { type HttpsModule, httpsFor } from './https.js';
import { type NetModule, netFor } from './net.js';
import { type Published, type PublishOptions, publish } from './publish.js';
import { haveNodeTls, type TlsModule, tlsFor, tlsIsNodeOnly } from './tls.js';

export interface ExecOptions {
  /**
   * Aborting interrupts the running command, as Ctrl-C would, and ends the line's `cmd &`
   * jobs too (they ignore Ctrl-C, as sh's background jobs do: the abort also hangs them up).
   */
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
  #dns: DnsModule | undefined;
  #netModule: NetModule | undefined;

  #http: HttpModule | undefined;
  #tls: TlsModule | undefined;
  #https: HttpsModule | undefined;
  #http2: Http2Module | undefined;
  #dispatcher: ReturnType<typeof dispatcherFor> | undefined;
  #fetch: Fetch | undefined;

  /** node:net on this namespace: `ns.net.createServer(...)`, `ns.net.connect(8080, '127.0.0.1')`. */
  get net(): NetModule {
    this.#netModule ??= netFor(this);
    return this.#netModule;
  }

  /** node:http on this namespace: real http.Server and Agent over `ns.net`. */
  get http(): HttpModule {
    this.#http ??= httpFor(this, this.net);
    return this.#http;
  }

  /** node:tls on this namespace: Node's own TLS (OpenSSL) over `ns.net` sockets. */
  get tls(): TlsModule {
    this.#tls ??= tlsFor(this.net);
    return this.#tls;
  }

  /** node:https on this namespace: node:https's Server and Agent over `ns.tls`. */
  get https(): HttpsModule {
    if (!haveNodeTls()) throw tlsIsNodeOnly('ns.https');
    this.#https ??= httpsFor(this.net, this.tls);
    return this.#https;
  }

  /** node:http2 on this namespace: Node's nghttp2 sessions over `ns.net` / `ns.tls`. */
  get http2(): Http2Module {
    if (!haveNodeTls()) throw tlsIsNodeOnly('ns.http2');
    this.#http2 ??= http2For(this.net, this.tls);
    return this.#http2;
  }

  /** An undici dispatcher that connects through this namespace (for undici's own API). */
  get dispatcher(): ReturnType<typeof dispatcherFor> {
    this.#dispatcher ??= dispatcherFor(this.net, haveNodeTls() ? this.tls : undefined);
    return this.#dispatcher;
  }

  /** WHATWG fetch over this namespace: `await ns.fetch('http://127.0.0.1:8080/')`. */
  get fetch(): Fetch {
    this.#fetch ??= fetchFor(this.dispatcher, this.net, haveNodeTls() ? this.tls : undefined);
    return this.#fetch;
  }

  /** A file of the host, for the shell's `curl --cacert FILE` (Node only). */
  readHostFile(path: string): Uint8Array {
    return readFileSync(path);
  }

  /** The TLS library under ns.tls, as curl names it in its messages ("OpenSSL/3.0.15"). */
  get tlsLibrary(): string {
    return `OpenSSL/${(process.versions.openssl ?? '').replace(/\+.*/, '')}`;
  }

  /** node:dgram on this namespace: `ns.dgram.createSocket('udp4')`. */
  get dgram(): Dgram {
    this.#dgram ??= dgramFor(this);
    return this.#dgram;
  }

  /** node:dns on this namespace: its /etc/hosts, then its nameservers over lonet UDP. */
  get dns(): DnsModule {
    this.#dns ??= dnsFor(this);
    return this.#dns;
  }

  /** This namespace's /etc/hosts: `ns.hosts.set('db.test', '127.0.0.2')`; `.text` is the file. */
  get hosts(): HostsFile {
    return etcOf(this).hosts;
  }

  /** This namespace's /etc/resolv.conf: `ns.resolvConf.setNameservers(['127.0.0.53'])`; `.text` is the file. */
  get resolvConf(): ResolvConf {
    return etcOf(this).resolvConf;
  }

  /**
   * Forwards a host port on 127.0.0.1 (`hostPort`, by default the same number) to `port`
   * in this namespace, so a browser or curl on the host reaches the app under test.
   * Resolves once the host port listens; `close()` it when done.
   */
  publish(port: number, opts: PublishOptions = {}): Promise<Published> {
    return publish(this, port, opts);
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
    const hangup = () => shell.hangup();
    opts.signal?.addEventListener('abort', hangup, { once: true });
    try {
      const code = await shell.run(line, opts.signal);
      // Jobs the line started after the abort are hung up as well.
      if (opts.signal?.aborted) shell.hangup();
      await shell.wait();
      return { code, stdout: stdout.text, stderr: stderr.text };
    } finally {
      opts.signal?.removeEventListener('abort', hangup);
    }
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
