import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/api/node-crypto.js';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import type { VirtualClock } from '../../src/kernel/clock.js';
import { Process, type SockAddr } from '../../src/socket/syscalls.js';
import { AF, SOCK, SOL, TCP_OPT } from '../../src/socket/uapi.js';
import { tcpNet } from '../../src/transport/tcp/netns.js';

const LO = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]);
const at = (port: number): SockAddr => ({ family: AF.INET, addr: LO, port });
const md5sig = (key: string) => ({
  addr: at(0),
  flags: 0,
  prefixlen: 0,
  ifindex: 0,
  key: new TextEncoder().encode(key),
});

/** A listener and a client over lo, each with the key given (or none), on the virtual clock. */
function world(serverKey: string | null, clientKey: string | null) {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  const proc = new Process(net);
  const l = proc.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
  if (serverKey !== null) assert.equal(proc.setsockopt(l, SOL.TCP, TCP_OPT.MD5SIG, md5sig(serverKey)), 0);
  assert.equal(proc.bind(l, at(8080)), 0);
  assert.equal(proc.listen(l, 8), 0);
  const c = proc.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
  if (clientKey !== null) assert.equal(proc.setsockopt(c, SOL.TCP, TCP_OPT.MD5SIG, md5sig(clientKey)), 0);
  assert.equal(proc.connect(c, at(8080)), -E.EINPROGRESS);
  (kernel.clock as VirtualClock).advance(100e6);
  return { proc, l, c, ext: tcpNet(net).ext };
}

test('TCP MD5 (RFC 2385): with the same key on both ends the connection is made and carries data', () => {
  const { proc, l, c, ext } = world('secret', 'secret');
  const s = proc.accept(l) as number;
  assert.ok(s >= 0, 'the signed handshake completes');
  assert.equal(proc.send(c, new Uint8Array(3000).fill(7), 0), 3000);
  assert.deepEqual(proc.recv(s, 10000, 0), new Uint8Array(3000).fill(7));
  assert.deepEqual([ext.TCPMD5NotFound, ext.TCPMD5Unexpected, ext.TCPMD5Failure], [0, 0, 0]);
});

test('TCP MD5: a wrong key, a missing signature and an unexpected one are dropped and counted as Linux counts them', () => {
  assert.ok((world('secret', 'other').proc.accept(3) as number) < 0);
  assert.equal(world('secret', 'other').ext.TCPMD5Failure > 0, true, 'TCPMD5Failure');
  assert.equal(world('secret', null).ext.TCPMD5NotFound > 0, true, 'TCPMD5NotFound');
  assert.equal(world(null, 'secret').ext.TCPMD5Unexpected > 0, true, 'TCPMD5Unexpected');
});

test('TCP_MD5SIG refuses what Linux refuses: a wrong family, an over-long key, deleting a key that is not there', () => {
  const proc = new Process(new Net({ kernel: new Kernel({ clock: 'virtual' }) }));
  const fd = proc.socket(AF.INET, SOCK.STREAM, 0);
  const v6 = { ...md5sig('k'), addr: { family: AF.INET6, addr: new Uint8Array(16), port: 0 } };
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.MD5SIG, v6), -E.EINVAL);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.MD5SIG, { ...md5sig('k'), key: new Uint8Array(81) }), -E.EINVAL);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.MD5SIG, { ...md5sig(''), key: new Uint8Array(0) }), -E.ENOENT);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.MD5SIG, md5sig('k')), 0);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.MD5SIG, { ...md5sig(''), key: new Uint8Array(0) }), 0);
});
