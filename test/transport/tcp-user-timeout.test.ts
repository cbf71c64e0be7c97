import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import { netem, qdiscReplace } from '../../src/sched/sch-api.js';
import { Process } from '../../src/socket/syscalls.js';
import { AF, SOCK, SOL, TCP_OPT } from '../../src/socket/uapi.js';
import { v4Mapped } from '../../src/transport/udp.js';

/**
 * A connection over lo whose every later packet is lost (netem loss 100%), with data
 * unacknowledged: the time, on the virtual clock, at which its next send fails with
 * ETIMEDOUT — or -1 if it is still alive after `horizonS` seconds.
 */
async function deathTime(userTimeoutMs: number | null, horizonS: number): Promise<number> {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  const proc = new Process(net);
  const vc = kernel.virtualClock;
  const lfd = proc.socket(AF.INET, SOCK.STREAM, 0);
  assert.equal(proc.bind(lfd, { family: AF.INET, addr: v4Mapped(0x7f000001), port: 8000 }), 0);
  assert.equal(proc.listen(lfd, 1), 0);
  const fd = proc.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
  assert.equal(proc.connect(fd, { family: AF.INET, addr: v4Mapped(0x7f000001), port: 8000 }), -E.EINPROGRESS);
  await new Promise((r) => setImmediate(r));
  if (userTimeoutMs !== null) assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.USER_TIMEOUT, userTimeoutMs), 0);
  qdiscReplace(net.lo, netem({ lossPercent: 100, seed: 1 }));
  const start = vc.now();
  assert.equal(proc.send(fd, new Uint8Array(100)), 100);
  while (vc.now() - start < horizonS * 1e9) {
    const next = vc.nextTimer();
    if (next === undefined) break;
    vc.advance(Math.max(1, next));
    await new Promise((r) => setImmediate(r));
    const r = proc.send(fd, new Uint8Array(1));
    if (r === -E.ETIMEDOUT) return (vc.now() - start) / 1e9;
  }
  return -1;
}

test('TCP_USER_TIMEOUT: an unacknowledged connection dies with ETIMEDOUT once the timeout passes, not after tcp_retries2', async () => {
  const t = await deathTime(3000, 60);
  // The RTO is clamped to what is left of the 3 s, so the end comes at 3 s, not at the next backoff.
  assert.ok(t >= 3 && t < 3.3, `died at ${t} s`);
  // Without it, tcp_retries2 (15) keeps the connection retrying far longer.
  assert.equal(await deathTime(null, 60), -1);
});
