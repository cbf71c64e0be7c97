import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import type { VirtualClock } from '../../src/kernel/clock.js';
import { type Cmsg, type MsgHdr, Process, type SockAddr } from '../../src/socket/syscalls.js';
import { AF, F, IP_OPT, MSG, O, POLL, SO, SOCK, SOL } from '../../src/socket/uapi.js';

/** A client and an accepted server socket over lo on the virtual clock, both non-blocking. */
function connected() {
  const kernel = new Kernel({ clock: 'virtual' });
  const clock = kernel.clock as VirtualClock;
  const proc = new Process(new Net({ kernel }));
  const lo: SockAddr = {
    family: AF.INET,
    addr: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]),
    port: 8080,
  };
  const l = proc.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
  assert.equal(proc.bind(l, lo), 0);
  assert.equal(proc.listen(l, 8), 0);
  const c = proc.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
  assert.equal(proc.connect(c, lo), -E.EINPROGRESS);
  const s = proc.accept(l) as number;
  assert.ok(s >= 0);
  assert.equal(proc.fcntl(s, F.SETFL, O.NONBLOCK), 0);
  return { clock, proc, c, s };
}

function errqueue(proc: Process, fd: number): MsgHdr | number {
  return proc.recvmsg(fd, 0, MSG.ERRQUEUE) as MsgHdr | number;
}

const recverr = (m: MsgHdr) => m.control.find((x: Cmsg) => x.level === SOL.IP && x.type === IP_OPT.RECVERR)?.data;

test('MSG_ZEROCOPY: each send completes on the error queue once acknowledged, adjacent ranges merged, POLLERR until read', () => {
  const { clock, proc, c, s } = connected();
  assert.equal(proc.setsockopt(c, SOL.SOCKET, SO.ZEROCOPY, 2), -E.EINVAL);
  assert.equal(proc.setsockopt(c, SOL.SOCKET, SO.ZEROCOPY, 1), 0);
  assert.equal(proc.getsockopt(c, SOL.SOCKET, SO.ZEROCOPY), 1);
  assert.equal(errqueue(proc, c), -E.EAGAIN, 'nothing reported before a send');
  assert.equal(proc.send(c, new Uint8Array(3000), MSG.ZEROCOPY), 3000);
  assert.equal(proc.send(c, new Uint8Array(10), MSG.ZEROCOPY), 10);
  // The receiver's delayed ACK acknowledges both.
  clock.advance(300e6);
  assert.equal(proc.pollMask(c) & POLL.ERR, POLL.ERR);
  const m = errqueue(proc, c) as MsgHdr;
  assert.equal(m.flags, MSG.ERRQUEUE);
  // SO_EE_ORIGIN_ZEROCOPY, ids 0..1, SO_EE_CODE_ZEROCOPY_COPIED: lonet copies, as lo makes Linux do.
  assert.deepEqual(recverr(m), { errno: 0, origin: 5, type: 0, code: 1, info: 0, data: 1 });
  assert.equal(proc.pollMask(c) & POLL.ERR, 0);
  assert.equal(errqueue(proc, c), -E.EAGAIN);
  // Without MSG_ZEROCOPY a send takes no id; the next zerocopy send gets id 2.
  assert.equal(proc.send(c, new Uint8Array(10), 0), 10);
  assert.equal(proc.send(c, new Uint8Array(10), MSG.ZEROCOPY), 10);
  clock.advance(300e6);
  assert.deepEqual(recverr(errqueue(proc, c) as MsgHdr), { errno: 0, origin: 5, type: 0, code: 1, info: 2, data: 2 });
  assert.equal(proc.recv(s, 100000, 0) instanceof Uint8Array, true);
});

test('SO_TIMESTAMPING with OPT_ID: the last byte of a write is stamped when queued, sent and acknowledged', () => {
  const { clock, proc, c } = connected();
  const flags = (1 << 8) | (1 << 1) | (1 << 9) | (1 << 4) | (1 << 7); // TX_SCHED|TX_SOFTWARE|TX_ACK|SOFTWARE|OPT_ID
  assert.equal(proc.setsockopt(c, SOL.SOCKET, SO.TIMESTAMPING, 1 << 20), -E.EINVAL);
  assert.equal(proc.setsockopt(c, SOL.SOCKET, SO.TIMESTAMPING, flags), 0);
  clock.advance(10e6);
  assert.equal(proc.send(c, new Uint8Array(100), 0), 100);
  const sent = clock.realtime();
  clock.advance(300e6);
  const got = [0, 1, 2].map(() => errqueue(proc, c) as MsgHdr);
  assert.equal(errqueue(proc, c), -E.EAGAIN);
  // SCM_TSTAMP_SCHED, SCM_TSTAMP_SND, SCM_TSTAMP_ACK; ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, key 99.
  assert.deepEqual(
    got.map((m) => recverr(m)),
    [1, 0, 2].map((info) => ({ errno: E.ENOMSG, origin: 4, type: 0, code: 0, info, data: 99 })),
  );
  for (const m of got) {
    assert.equal(m.flags, MSG.ERRQUEUE | MSG.TRUNC, 'a copy of the packet, cut to the empty buffer');
    assert.equal(m.control[0]?.type, SO.TIMESTAMPING);
  }
  const ts = (m: MsgHdr) => (m.control[0]?.data as { ts: number[] }).ts[0] as number;
  // lo sends at once and the receiver, in quickack mode, ACKs at once: all three stamps are now.
  for (const m of got) assert.equal(ts(m), sent);
});

test('a buffer address that faults gives EFAULT where the copy would happen, and leaves the data queued', () => {
  const { proc, c, s } = connected();
  assert.equal(proc.send(c, null, 0), -E.EFAULT);
  assert.equal(proc.recv(s, 10, 0, true), -E.EAGAIN, 'nothing to copy yet: the usual EAGAIN');
  assert.equal(proc.send(c, new Uint8Array(5), 0), 5);
  assert.equal(proc.recv(s, 10, 0, true), -E.EFAULT);
  assert.equal((proc.recv(s, 10, 0) as Uint8Array).byteLength, 5);
});
