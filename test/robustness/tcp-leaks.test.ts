/**
 * 100,000 TCP connections opened and closed in one namespace (batches of 2,000, TIME_WAIT
 * left to expire in virtual time): afterwards no socket is left in any table, /proc/net/tcp
 * lists only the listener, and the heap returns to within 10 % of where it stood after the
 * first batch (measured after a full GC).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { procRead } from '../../src/net/procfs.js';
import { TCP, TcpSock } from '../../src/transport/tcp/sock.js';
import { advanceBy, LO4, mib, until, virtualNs } from './tcp-drive.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

test('100,000 connections opened and closed: every table empties and the heap comes back within 10 %', async () => {
  const ns = virtualNs();
  const srv = new TcpSock(ns, 4);
  srv.bind(new Uint8Array(16), 8000);
  srv.listen(4096);
  const BATCH = 2000;
  let baseline = 0;
  for (let round = 0; round < 50; round++) {
    const clis: TcpSock[] = [];
    for (let i = 0; i < BATCH; i++) {
      const c = new TcpSock(ns, 4);
      assert.equal(c.connect(LO4, 8000), -115, 'EINPROGRESS');
      clis.push(c);
    }
    const accs: TcpSock[] = [];
    assert.ok(
      await until(
        ns,
        () => accs.length === BATCH,
        () => {
          let moved = false;
          for (let a = srv.accept(); typeof a !== 'number'; a = srv.accept()) {
            accs.push(a);
            moved = true;
          }
          return moved;
        },
      ),
      `round ${round}: ${accs.length} accepted`,
    );
    // The client closes first (its side goes to TIME_WAIT), the server on reading the FIN.
    for (const c of clis) c.close();
    await advanceBy(ns, 1e6);
    for (const a of accs) {
      assert.equal(a.recvmsg(), 0, 'end of stream');
      a.close();
    }
    // TIME_WAIT's 60 s in one jump: its timers need nothing from the softirq in between.
    ns.kernel.virtualClock.advance(61e9);
    await advanceBy(ns, 1e6);
    for (const c of clis) assert.equal(c.state, TCP.CLOSE);
    if (round === 0) baseline = heapAfterGc();
  }
  const rows = (procRead(ns, '/proc/net/tcp') as string).trim().split('\n');
  assert.equal(rows.length, 2, 'the header and the listener: no TIME_WAIT, no orphan left');
  const tcp = mib(ns, 'snmp', 'Tcp');
  assert.deepEqual([tcp.ActiveOpens, tcp.PassiveOpens, tcp.CurrEstab, tcp.AttemptFails], [100_000, 100_000, 0, 0]);
  srv.close();
  const after = heapAfterGc();
  assert.ok(after < baseline * 1.1, `heap ${(after / 1e6).toFixed(1)} MB vs ${(baseline / 1e6).toFixed(1)} MB`);
});
