#!/usr/bin/env node
/**
 * The `lonet` command. With no arguments, an interactive shell in a fresh namespace;
 * `-c 'cmd; cmd'` runs a line; `script FILE` runs a file; `tour` walks through lo.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Namespace } from '../api/namespace.js';
import { Kernel } from '../init.js';
import { sharedInput } from '../tools/command.js';
import { repl } from './repl.js';
import { run } from './run.js';
import { tour } from './tour.js';

const HELP = `Usage: lonet [options]                 interactive shell in a fresh namespace
       lonet [options] -c 'CMD; CMD'    run commands, exit with the last one's status
       lonet [options] script FILE      run the commands in FILE
       lonet [options] tour [PCAP]      a guided tour of lo, its capture written to PCAP
                                        (default lonet-demo.pcap)
       lonet [options] run [--strict] [--publish PORT[:HOSTPORT]]... FILE...
                                        run Node programs (.mjs/.js/.cjs) in one namespace:
                                        node:net, node:http, node:dgram, node:dns and fetch
                                        are lonet's; --strict makes any host TCP/UDP socket
                                        an error; --publish forwards 127.0.0.1:HOSTPORT on
                                        the host to PORT in the namespace
       lonet packetdrill [OPTIONS] SCRIPT.pkt...
                                        run packetdrill scripts against lonet's TCP

Options:
  -c, --command LINE   run LINE and exit
      --bare           start in a bare namespace (lo down, no addresses), as 'ip netns add' makes
      --cpus N         number of CPUs (default 2)
  -h, --help           show this help
  -V, --version        print the version
`;

function fail(msg: string): never {
  process.stderr.write(`lonet: ${msg}\n${HELP}`);
  process.exit(2);
}

/** Exits once stdout has drained, so piped output is never cut short. */
function exitWith(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

async function main(): Promise<void> {
  // packetdrill has its own options (config.c's), so it is dispatched before lonet's are parsed.
  if (process.argv[2] === 'packetdrill') {
    const { packetdrill } = await import('../tools/packetdrill/index.js');
    const out = { write: (t: string) => void process.stdout.write(t) };
    const err = { write: (t: string) => void process.stderr.write(t) };
    return exitWith(await packetdrill(process.argv.slice(3), out, err));
  }
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        command: { type: 'string'; short: 'c' };
        bare: { type: 'boolean' };
        cpus: { type: 'string' };
        help: { type: 'boolean'; short: 'h' };
        version: { type: 'boolean'; short: 'V' };
        strict: { type: 'boolean' };
        publish: { type: 'string'; multiple: true };
      };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      options: {
        command: { type: 'string', short: 'c' },
        bare: { type: 'boolean' },
        cpus: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        strict: { type: 'boolean' },
        publish: { type: 'string', multiple: true },
      },
      allowPositionals: true,
    });
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return void process.stdout.write(`lonet ${pkg.version}\n`);
  }
  const cpus = values.cpus === undefined ? 2 : Number(values.cpus);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) fail(`--cpus takes a whole number from 1 to 64`);
  const ns = new Namespace({ kernel: new Kernel({ cpus }), bare: values.bare === true });
  const streams = {
    stdout: { write: (t: string) => void process.stdout.write(t) },
    stderr: { write: (t: string) => void process.stderr.write(t) },
  };

  if (values.command !== undefined) {
    if (positionals.length > 0) fail(`unexpected argument '${positionals[0]}'`);
    const shell = ns.shell({ ...streams, stdin: sharedInput(process.stdin) });
    const code = await shell.run(values.command);
    await shell.wait();
    return exitWith(code);
  }
  const [verb, ...rest] = positionals;
  if (verb !== 'run' && (values.strict || values.publish !== undefined)) fail('--strict and --publish go with run');
  if (verb === undefined) return repl(ns);
  if (verb === 'tour') return exitWith(await tour(ns, rest[0] !== undefined ? { pcap: rest[0] } : {}));
  // The programs run on: the process ends, as node's does, when nothing is left to do.
  if (verb === 'run') {
    if (rest.length === 0) fail('run needs a FILE');
    const publish: { port: number; hostPort: number }[] = [];
    for (const p of values.publish ?? []) {
      const m = /^(\d+)(?::(\d+))?$/.exec(p);
      const port = Number(m?.[1]);
      const hostPort = m?.[2] === undefined ? port : Number(m[2]);
      if (m === null || port < 1 || port > 65535 || hostPort > 65535)
        fail(`--publish takes PORT[:HOSTPORT], not '${p}'`);
      publish.push({ port, hostPort });
    }
    return run(ns, rest, { strict: values.strict === true, publish });
  }
  if (verb === 'script') {
    const file = rest[0];
    if (file === undefined) fail('script needs a FILE');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(
        `lonet: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(e)}\n`,
      );
      return exitWith(127);
    }
    const shell = ns.shell({ ...streams, stdin: sharedInput(process.stdin) });
    let code = 0;
    for (const line of text.split('\n')) {
      code = await shell.run(line);
      if (shell.exited) break;
    }
    await shell.wait();
    return exitWith(code);
  }
  fail(`unknown command '${verb}'`);
}

await main();
