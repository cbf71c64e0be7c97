/**
 * Shared driving for the TCP robustness tests: a virtual-clock namespace, a connected pair
 * of TcpSocks, a loop that runs the stack until a condition holds (jumping to the next timer
 * whenever nothing moves), and readers for /proc/net/snmp and /proc/net/netstat.
 */
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import { procRead } from '../../src/net/procfs.js';
import { TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';

export const LO4 = v4Mapped(0x7f000001);
export const tick = () => new Promise<void>((r) => setImmediate(r));

export function virtualNs(): Namespace {
  return new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
}

/**
 * Runs until `done()`. `step()` returns true when it moved data; when neither it nor a macrotask
 * turn changed anything, the clock jumps to the next timer. Returns false if `limitNs` of virtual
 * time passed first (a hang), or if no timer is left while not done (a stall).
 */
export async function until(
  ns: Namespace,
  done: () => boolean,
  step: () => boolean,
  limitNs = 600e9,
): Promise<boolean> {
  const vc = ns.kernel.virtualClock;
  const start = vc.now();
  for (let i = 0; i < 1_000_000 && !done(); i++) {
    const moved = step();
    await tick();
    if (done()) break;
    if (!moved) {
      const next = vc.nextTimer();
      if (next === undefined || vc.now() - start > limitNs) return false;
      vc.advance(Math.max(1, next));
    }
  }
  return done();
}

/** Moves virtual time forward by `ns` nanoseconds, running every timer on the way. */
export async function advanceBy(ns: Namespace, by: number, step: () => boolean = () => false): Promise<void> {
  const vc = ns.kernel.virtualClock;
  const end = vc.now() + by;
  while (vc.now() < end) {
    const moved = step();
    await tick();
    if (moved) continue;
    const next = vc.nextTimer();
    vc.advance(Math.max(1, Math.min(next ?? end - vc.now(), end - vc.now())));
  }
}

/** A listener on 127.0.0.1:`port` and a client connected to it, established and accepted. */
export async function connectedPair(ns: Namespace, port = 8000): Promise<{ srv: TcpSock; cli: TcpSock; acc: TcpSock }> {
  const srv = new TcpSock(ns, 4);
  srv.bind(new Uint8Array(16), port);
  srv.listen(128);
  const cli = new TcpSock(ns, 4);
  cli.connect(LO4, port);
  let acc: TcpSock | null = null;
  const ok = await until(
    ns,
    () => acc !== null,
    () => {
      const a = srv.accept();
      if (typeof a !== 'number') acc = a;
      return false;
    },
  );
  if (!ok || acc === null) throw new Error('no connection');
  return { srv, cli, acc };
}

/** One row of /proc/net/snmp or /proc/net/netstat as a name → value map. */
export function mib(ns: Namespace, file: 'snmp' | 'netstat', prefix: string): Record<string, number> {
  const lines = (procRead(ns, `/proc/net/${file}`) as string).split('\n').filter((l) => l.startsWith(`${prefix}:`));
  const keys = (lines[0] ?? '').split(' ').slice(1);
  const vals = (lines[1] ?? '').split(' ').slice(1);
  return Object.fromEntries(keys.map((k, i) => [k, Number(vals[i])]));
}

/** A pattern that makes misplaced or altered bytes visible. */
export function pattern(size: number, salt = 0): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = ((i * 131) ^ (i >>> 8) ^ salt) & 0xff;
  return d;
}

/** A bulk transfer from `cli` to `acc`: returns a step for `until` and the progress so far. */
export function bulk(cli: TcpSock, acc: TcpSock, data: Uint8Array, read = () => true) {
  const out = new Uint8Array(data.byteLength);
  const st = { sent: 0, got: 0, sendErr: 0, recvErr: 0, out };
  const step = () => {
    let moved = false;
    if (st.sent < data.byteLength && st.sendErr === 0) {
      const n = cli.sendmsg(data.subarray(st.sent));
      if (n > 0) {
        st.sent += n;
        moved = true;
      } else if (n < 0 && n !== -11) st.sendErr = n;
    }
    while (read()) {
      const d = acc.recvmsg();
      if (typeof d === 'number') {
        if (d < 0 && d !== -11) st.recvErr = d;
        break;
      }
      if (d.byteLength === 0) break;
      out.set(d, st.got);
      st.got += d.byteLength;
      moved = true;
    }
    return moved;
  };
  return { st, step };
}
