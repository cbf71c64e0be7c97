import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import { type NetemOptions, netem, qdiscReplace } from '../../src/sched/sch-api.js';
import { TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';

const tick = () => new Promise((r) => setImmediate(r));

/** Runs the stack in virtual time until `done`: whenever nothing moves, jump to the next timer. */
async function until(ns: Namespace, done: () => boolean, step: () => void): Promise<void> {
  const vc = ns.kernel.virtualClock;
  for (let i = 0; i < 100_000 && !done(); i++) {
    const before = progress(step);
    await tick();
    if (done()) break;
    if (!before()) {
      const next = vc.nextTimer();
      if (next === undefined) throw new Error('stalled with no timer pending');
      vc.advance(Math.max(1, next));
    }
  }
  assert.ok(done(), 'finished');
}

let moved = false;
function progress(step: () => void): () => boolean {
  moved = false;
  step();
  return () => moved;
}

/** A 10 MiB transfer over 127.0.0.1 through lo's netem qdisc, in virtual time. */
async function transfer(opts: NetemOptions) {
  const ns = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
  const srv = new TcpSock(ns, 4);
  srv.bind(new Uint8Array(16), 8000);
  srv.listen(128);
  const cli = new TcpSock(ns, 4);
  cli.connect(v4Mapped(0x7f000001), 8000);
  let acc: TcpSock | null = null;
  await until(
    ns,
    () => acc !== null,
    () => {
      const a = srv.accept();
      if (typeof a !== 'number') acc = a;
    },
  );
  qdiscReplace(ns.lo, netem({ ...opts, seed: 7 }));
  const size = 10 << 20;
  const data = new Uint8Array(size).map((_, i) => (i * 131) >>> 3);
  const out = new Uint8Array(size);
  let sent = 0;
  let got = 0;
  await until(
    ns,
    () => got === size,
    () => {
      if (sent < size) {
        const n = cli.sendmsg(data.subarray(sent));
        if (n > 0) sent += n;
      }
      for (;;) {
        const d = (acc as unknown as TcpSock).recvmsg();
        if (typeof d === 'number') break;
        out.set(d, got);
        got += d.byteLength;
        moved = true;
      }
    },
  );
  assert.ok(Buffer.from(out).equals(Buffer.from(data)), 'every byte, in order');
  const netstat = (await ns.exec('cat /proc/net/netstat')).stdout.split('\n');
  const keys = (netstat[0] ?? '').split(' ');
  const vals = (netstat[1] ?? '').split(' ');
  const ext = (k: string) => Number(vals[keys.indexOf(k)]);
  const snmp = (await ns.exec('cat /proc/net/snmp')).stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const tk = (snmp[0] ?? '').split(' ');
  const tv = (snmp[1] ?? '').split(' ');
  return { ext, retransSegs: Number(tv[tk.indexOf('RetransSegs')]), cli, acc: acc as unknown as TcpSock };
}

for (const loss of [1, 10, 30]) {
  test(`10 MiB complete intact under netem loss ${loss}% (seeded, virtual time); retransmissions are counted`, async () => {
    const r = await transfer({ lossPercent: loss });
    assert.ok(r.retransSegs > 0, 'RetransSegs counts the repairs');
    assert.equal(r.retransSegs, r.cli.totalRetrans + r.acc.totalRetrans, 'the Tcp row agrees with the sockets');
    assert.ok(r.ext('TCPTimeouts') + r.ext('TCPFastRetrans') > 0);
    assert.ok(r.cli.totalRetrans > 0);
  });
}

test('10 MiB complete intact under 25% reordering and under 5% duplication', async () => {
  const reordered = await transfer({ reorderPercent: 25, delayNs: 10e6 });
  assert.ok(reordered.ext('TCPFastRetrans') > 0, 'reordering beyond the dupthresh looks like loss to SACK recovery');
  const duplicated = await transfer({ duplicatePercent: 5 });
  assert.equal(duplicated.retransSegs, 0, 'duplicates need no retransmission');
});
