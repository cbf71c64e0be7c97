import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import { Process } from '../../src/socket/syscalls.js';
import { AF, IP_OPT, SOCK, SOL, TCP_OPT } from '../../src/socket/uapi.js';

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
