import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { E } from '../../src/include/errno.js';
import { PingSock } from '../../src/ipv4/ping.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { echoRequest, ip } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';

test('ping sockets are refused by default (ping_group_range "1 0"), as on Linux, even for gid 0', async (t) => {
  const ns = new Namespace();
  assert.equal(PingSock.create(ns, 4), -E.EACCES);
  const r = await ns.exec('sysctl net.ipv4.ping_group_range');
  assert.equal(r.stdout, 'net.ipv4.ping_group_range = 1\t0\n');
  const linux = inLinuxNetns([], ['sysctl net.ipv4.ping_group_range']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.equal(r.stdout, linux[0]?.stdout);
});

test('a ping socket owns its identifier: the kernel writes it into requests and routes replies by it', async () => {
  const ns = new Namespace();
  await ns.exec('sysctl -w net.ipv4.ping_group_range="0 2147483647"');
  const a = PingSock.create(ns, 4);
  const b = PingSock.create(ns, 4);
  assert.ok(a instanceof PingSock && b instanceof PingSock);
  assert.equal(a.bind(4242), 0);
  assert.equal(b.bind(4242), -E.EADDRINUSE);
  assert.equal(b.bind(4343), 0);
  assert.equal(a.sendto(ip('127.0.0.1'), echoRequest(1 /* overwritten */, 7)), 64);
  const reply = await a.recvAsync();
  assert.ok(reply !== null);
  assert.equal(reply.data[0], 0, 'an echo reply');
  assert.equal((reply.data[4] as number) * 256 + (reply.data[5] as number), 4242, 'with the socket’s identifier');
  assert.equal((reply.data[6] as number) * 256 + (reply.data[7] as number), 7);
  assert.equal(reply.from, ip('127.0.0.1'));
  assert.equal(b.recv(), null, 'the other socket sees nothing');
  assert.equal(a.sendto(ip('127.0.0.1'), new Uint8Array([13, 0, 0, 0, 0, 0, 0, 0])), -E.EINVAL, 'only echo requests');
});

test('IPv6 ping sockets: ICMPv6 echo over ::1, checksummed by the kernel', async () => {
  const ns = new Namespace();
  await ns.exec('sysctl -q -w net.ipv4.ping_group_range="0 0"');
  const s = PingSock.create(ns, 6);
  assert.ok(s instanceof PingSock);
  const req = new Uint8Array(16);
  req[0] = 128;
  req[7] = 1;
  assert.equal(s.sendto(IN6ADDR_LOOPBACK, req), 16);
  const reply = await s.recvAsync();
  assert.equal(reply?.data[0], 129);
  assert.equal(reply?.ttl, 64, 'the hop limit');
});
