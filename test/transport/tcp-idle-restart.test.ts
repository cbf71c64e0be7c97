/**
 * Slow start after idle (RFC 2861, net.ipv4.tcp_slow_start_after_idle): a sender that sent
 * nothing for longer than its RTO no longer trusts the cwnd it had. Linux's
 * tcp_slow_start_after_idle_check() runs when new data is queued; tcp_cwnd_restart() halves
 * the cwnd once per RTO of idleness, down to the initial window of 10. `ss -ti` shows it.
 * (sch_netem is not in this host's kernel, so there is no real-Linux side to this test.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Namespace } from '../../src/api/namespace.js';
import { advanceBy, bulk, connectedPair, pattern, until, virtualNs } from '../robustness/tcp-drive.js';

/** The cwnd `ss -tin` prints for the connection whose peer is 127.0.0.1:8000 (the client). */
async function clientCwnd(ns: Namespace): Promise<number> {
  const lines = (await ns.exec('ss -tin')).stdout.split('\n');
  const at = lines.findIndex((l) => /127\.0\.0\.1:8000\s*$/.test(l));
  const m = /\bcwnd:(\d+)/.exec(lines[at + 1] ?? '');
  assert.ok(m, `no cwnd for the client in:\n${lines.join('\n')}`);
  return Number(m[1]);
}

/** A 4 MiB transfer over a 10 ms lo (so cwnd, not the buffers, is what grows), then `idleNs` of nothing. */
async function afterIdle(idleNs: number, sysctl?: string) {
  const ns = virtualNs();
  assert.equal((await ns.exec('tc qdisc add dev lo root netem delay 10ms')).code, 0);
  if (sysctl !== undefined) assert.equal((await ns.exec(`sysctl -q ${sysctl}`)).code, 0);
  const { cli, acc } = await connectedPair(ns);
  const data = pattern(4 << 20);
  const b = bulk(cli, acc, data);
  assert.ok(await until(ns, () => b.st.got === data.byteLength && cli.packetsOut === 0, b.step));
  const grown = await clientCwnd(ns);
  await advanceBy(ns, idleNs);
  assert.equal(cli.sendmsg(new Uint8Array(100)), 100);
  return { grown, now: await clientCwnd(ns), rto: cli.rto };
}

test('idle longer than the RTO: the next write finds the cwnd back at the initial 10', async () => {
  const r = await afterIdle(2e9);
  assert.ok(r.grown > 20, `slow start grew the cwnd during the transfer (${r.grown})`);
  assert.ok(r.rto < 1e9, 'the RTO is a fraction of the idle time');
  assert.equal(r.now, 10);
});

test('idle shorter than the RTO: the cwnd is kept', async () => {
  const r = await afterIdle(100e6);
  assert.ok(r.rto > 100e6, 'the RTO on a 20 ms RTT is at least 200 ms');
  assert.equal(r.now, r.grown);
});

test('net.ipv4.tcp_slow_start_after_idle=0: the cwnd survives any idle time', async () => {
  const r = await afterIdle(5e9, 'net.ipv4.tcp_slow_start_after_idle=0');
  assert.ok(r.grown > 20);
  assert.equal(r.now, r.grown);
});
