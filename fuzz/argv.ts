/**
 * Tools as a user types them: argv built from the tool's own grammar words mixed with
 * odd numbers, addresses and junk. A tool is called directly (not through the shell,
 * which would turn an exception into "lonet: ip: …"), on a virtual clock that the
 * runner moves forward so ping and sleep finish without waiting.
 *
 * Checked on every input: the tool never throws, resolves, exits 0–255 (the codes the
 * real tools use), writes text only; afterwards the namespace still works: its /proc
 * files read, and a UDP datagram over 127.0.0.1 is delivered or counted as dropped.
 */
import fc from 'fast-check';
import { Namespace } from '../src/api/namespace.js';
import { Kernel } from '../src/init.js';
import type { Net } from '../src/net/net.js';
import { procRead } from '../src/net/procfs.js';
import type { Command, Output } from '../src/tools/command.js';
import { UdpSock, v4Mapped } from '../src/transport/udp.js';
import { type FuzzTarget, invariant } from './harness.js';

/** Numbers and addresses where parsers go wrong: bounds, signs, bases, overflow. */
export const oddWords = fc.constantFrom(
  '0',
  '-1',
  '1',
  '67',
  '68',
  '1279',
  '1280',
  '1500',
  '65535',
  '65536',
  '4294967295',
  '4294967296',
  '18446744073709551616',
  '0x10',
  '010',
  '1e3',
  'NaN',
  'Infinity',
  '',
  ' ',
  '127.0.0.1',
  '127.0.0.1/8',
  '127.0.0.1/33',
  '127.1',
  '256.0.0.1',
  '0.0.0.0/0',
  '::1',
  '::1/128',
  '::1/129',
  'fe80::1%lo',
  '::ffff:127.0.0.1',
  ':::',
  'default',
  'all',
  'lo',
  'lo:1',
  'eth0',
  'a'.repeat(16),
  '\u00e9',
  '--',
  '-',
);

export interface ArgvInput {
  argv: string[];
}

/** Awaits `p` while moving the virtual clock in 100 ms steps; aborts what is still running after 30 virtual s. */
async function runBounded(net: Net, p: Promise<number>, ac: AbortController): Promise<number> {
  let done = false;
  let code = -1;
  let err: unknown;
  const settled = p.then(
    (c) => {
      done = true;
      code = c;
    },
    (e) => {
      done = true;
      err = e;
    },
  );
  for (let i = 0; i < 300 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    net.kernel.virtualClock.advance(100e6);
  }
  if (!done) ac.abort();
  for (let i = 0; i < 50 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    net.kernel.virtualClock.advance(100e6);
  }
  invariant(done, 'the tool did not finish after being interrupted');
  await settled;
  if (err !== undefined) throw err;
  return code;
}

class Text implements Output {
  text = '';
  write(t: string): void {
    invariant(typeof t === 'string', `wrote a ${typeof t}`);
    this.text += t;
  }
}

/** After any command the namespace still works: /proc reads, UDP is delivered or counted. */
export function checkNamespaceAlive(net: Net): void {
  for (const f of ['/proc/net/dev', '/proc/net/snmp', '/proc/net/snmp6', '/proc/net/softnet_stat']) {
    const t = procRead(net, f);
    invariant(typeof t === 'string' && t.length > 0, `${f} unreadable`);
  }
  const srv = new UdpSock(net, 4);
  const cli = new UdpSock(net, 4);
  const lo = v4Mapped(0x7f000001);
  if (srv.bind(lo, 0) !== 0) return; // 127.0.0.1 may have been deleted: EADDRNOTAVAIL is fine
  const before = {
    ...net.ipv4.mib.udp,
    ...net.ipv4.mib.ip,
    rx: net.lo.coreStats.rxDropped,
    tx: net.lo.coreStats.txDropped,
  };
  const n = cli.sendto(new Uint8Array(8), lo, srv.localPort);
  if (n === 8) {
    const got = srv.recv();
    const m = net.ipv4.mib;
    const dropped =
      m.udp.InErrors -
      before.InErrors +
      (m.ip.InAddrErrors - before.InAddrErrors) +
      (m.ip.InHdrErrors - before.InHdrErrors) +
      (m.ip.FragFails - before.FragFails) +
      (m.ip.OutDiscards - before.OutDiscards) +
      (net.lo.coreStats.rxDropped - before.rx) +
      (net.lo.coreStats.txDropped - before.tx);
    invariant(got !== null || dropped > 0, 'a UDP datagram over 127.0.0.1 vanished without a counter');
  } else {
    invariant(n < 0, `sendto returned ${n}`);
  }
  srv.close();
  cli.close();
}

/** A target running `commands` (chosen per input) with argv from `words`. */
export function argvTarget(
  name: string,
  covers: string,
  table: ReadonlyMap<string, Command>,
  argvArb: fc.Arbitrary<string[]>,
): FuzzTarget<ArgvInput> {
  return {
    name,
    covers,
    arbitrary: () => argvArb.map((argv) => ({ argv })),
    async check({ argv }) {
      const net = new Namespace({ kernel: new Kernel({ clock: 'virtual', cpus: 2 }) });
      const cmd = table.get(argv[0] as string);
      invariant(cmd !== undefined, `no command ${argv[0]}`);
      const stdout = new Text();
      const stderr = new Text();
      const ac = new AbortController();
      let code: number;
      try {
        code = await runBounded(
          net,
          Promise.resolve().then(() => cmd({ argv, net, stdout, stderr, signal: ac.signal })),
          ac,
        );
      } catch (e) {
        throw new Error(`${argv.join(' ')} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      invariant(Number.isInteger(code) && code >= 0 && code <= 255, `exit code ${code}`);
      checkNamespaceAlive(net);
      net.destroy();
    },
    show: ({ argv }) => JSON.stringify(argv),
  };
}
