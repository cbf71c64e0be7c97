import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import { Process } from '../../src/socket/syscalls.js';
import { AF, IP_OPT, IPV6_OPT, SOCK, SOL, TCP_OPT } from '../../src/socket/uapi.js';

test("IP_TOS keeps a stream socket's ECN bits, IP_MTU_DISCOVER takes 0..5, TCP_INQ 0 or 1 — as Linux answers", () => {
  const proc = new Process(new Net({ kernel: new Kernel({ clock: 'virtual' }) }));
  const fd = proc.socket(AF.INET, SOCK.STREAM, 0);
  assert.equal(proc.setsockopt(fd, SOL.IP, IP_OPT.TOS, 0x13), 0);
  assert.equal(proc.getsockopt(fd, SOL.IP, IP_OPT.TOS), 0x10);
  assert.equal(proc.getsockopt(fd, SOL.IP, IP_OPT.MTU_DISCOVER), 1);
  assert.equal(proc.setsockopt(fd, SOL.IP, IP_OPT.MTU_DISCOVER, 0), 0);
  assert.equal(proc.getsockopt(fd, SOL.IP, IP_OPT.MTU_DISCOVER), 0);
  assert.equal(proc.setsockopt(fd, SOL.IP, IP_OPT.MTU_DISCOVER, 6), -E.EINVAL);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.INQ, 2), -E.EINVAL);
  assert.equal(proc.setsockopt(fd, SOL.TCP, TCP_OPT.INQ, 1), 0);
  assert.equal(proc.getsockopt(fd, SOL.TCP, TCP_OPT.INQ), 1);
});

test('IP_FREEBIND / IPV6_FREEBIND let bind() name an address this host lacks; without them EADDRNOTAVAIL', () => {
  const proc = new Process(new Net({ kernel: new Kernel({ clock: 'virtual' }) }));
  // TEST-NET-1 and the documentation prefix: on no interface, never on any wire here.
  const v4 = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  const v6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const a = proc.socket(AF.INET, SOCK.STREAM, 0);
  assert.equal(proc.bind(a, { family: AF.INET, addr: v4, port: 8080 }), -E.EADDRNOTAVAIL);
  assert.equal(proc.getsockopt(a, SOL.IP, IP_OPT.FREEBIND), 0);
  assert.equal(proc.setsockopt(a, SOL.IP, IP_OPT.FREEBIND, 1), 0);
  assert.equal(proc.getsockopt(a, SOL.IP, IP_OPT.FREEBIND), 1);
  assert.equal(proc.bind(a, { family: AF.INET, addr: v4, port: 8080 }), 0);
  // An IPv4 socket has no SOL_IPV6 options.
  assert.equal(proc.setsockopt(a, SOL.IPV6, IPV6_OPT.FREEBIND, 1), -E.ENOPROTOOPT);
  const b = proc.socket(AF.INET6, SOCK.STREAM, 0);
  assert.equal(proc.bind(b, { family: AF.INET6, addr: v6, port: 8080 }), -E.EADDRNOTAVAIL);
  assert.equal(proc.setsockopt(b, SOL.IPV6, IPV6_OPT.FREEBIND, 1), 0);
  assert.equal(proc.getsockopt(b, SOL.IP, IP_OPT.FREEBIND), 1);
  assert.equal(proc.bind(b, { family: AF.INET6, addr: v6, port: 8080 }), 0);
});

test('pipe() gives two ends; splice() wants a socket in and the write end out, offsets NULL', () => {
  const proc = new Process(new Net({ kernel: new Kernel({ clock: 'virtual' }) }));
  const sk = proc.socket(AF.INET, SOCK.STREAM, 0);
  const [r, w] = proc.pipe();
  assert.deepEqual([r, w], [sk + 1, sk + 2]);
  assert.equal(proc.splice(sk, false, r, false, 10, 0), -E.EBADF);
  assert.equal(proc.splice(w, false, w, false, 10, 0), -E.EBADF);
  assert.equal(proc.splice(sk, true, w, false, 10, 0), -E.ESPIPE);
  // A socket never connected: tcp_splice_read() finds it in CLOSE.
  assert.equal(proc.splice(sk, false, w, false, 10, 0), -E.ENOTCONN);
  assert.equal(proc.close(r), 0);
  assert.equal(proc.splice(sk, false, w, false, 10, 0), -E.EPIPE);
});
