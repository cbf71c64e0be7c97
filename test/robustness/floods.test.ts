/**
 * Floods the existing tests do not cover (the backlog: test/core/backlog.test.ts; UDP over
 * IPv4: test/transport/udp.test.ts): UDP over ::1 into a socket that does not read, and
 * echo requests past a raw ICMP socket that does not read.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Net } from '../../src/init.js';
import { RawSock } from '../../src/ipv4/raw.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { procRead } from '../../src/net/procfs.js';
import { UdpSock } from '../../src/transport/udp.js';
import { echoRequest, ip } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';

function python(name: string, lines: string[]): string {
  const p = join(tmpdir(), `lonet-${name}-${process.pid}.py`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

const snmpRow = (text: string, row: string) => text.split('\n').filter((l) => l.startsWith(`${row}: `))[1];

test('20,000 datagrams to ::1 at a socket that does not read: 92 fit, 19,908 Udp6RcvbufErrors, as on Linux', async (t) => {
  const net = new Net();
  const sink = new UdpSock(net, 6);
  assert.equal(sink.bind(IN6ADDR_LOOPBACK, 6000), 0);
  const cli = new UdpSock(net, 6);
  for (let i = 0; i < 20000; i++) assert.equal(cli.sendto(new Uint8Array(1000), IN6ADDR_LOOPBACK, 6000), 1000);
  let n = 0;
  while (sink.recv() !== null) n++;
  const m = net.ipv6.mib.udp6;
  assert.deepEqual([n, m.InDatagrams, m.RcvbufErrors, m.InErrors, m.OutDatagrams], [92, 92, 19908, 19908, 20000]);
  const script = python('udp6flood', [
    'import socket',
    "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::1', 6000)); s.setblocking(False)",
    'c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
    "for i in range(20000): c.sendto(bytes(1000), ('::1', 6000))",
    'n = 0',
    'while True:',
    '    try: s.recv(65535); n += 1',
    '    except BlockingIOError: break',
    'print(n)',
  ]);
  const linux = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`, 'cat /proc/net/snmp6']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const udp6 = (text: string) => text.split('\n').filter((l) => l.startsWith('Udp6'));
  assert.equal(linux[0]?.stdout.trim(), String(n));
  assert.deepEqual(udp6(procRead(net, '/proc/net/snmp6') as string), udp6(linux[1]?.stdout ?? ''));
});

test('2000 echo requests past a raw ICMP socket that does not read: its queue stops at rcvbuf, ICMP answers every one', async (t) => {
  const net = new Net();
  const sink = new RawSock(net, 1);
  const tx = new RawSock(net, 1);
  for (let i = 0; i < 2000; i++) assert.equal(tx.sendto(ip('127.0.0.1'), echoRequest(0x1234, i)), 64);
  await net.kernel.settle();
  const q = sink.queue;
  // __sock_queue_rcv_skb refuses once rmem_alloc >= rcvbuf: at most one packet over.
  assert.ok(q.rmemAlloc < q.rcvbuf + 1024, `rmem ${q.rmemAlloc}, rcvbuf ${q.rcvbuf}`);
  let n = 0;
  while (sink.recv() !== null) n++;
  assert.equal(n + q.drops, 4000, 'every request and reply was queued or counted in sk_drops');
  // Linux 6.18 fits 256 (a truesize of 832 per packet); lonet's smaller truesize fits more.
  assert.ok(n >= 256 && n < 320, `${n} queued`);
  // Raw sockets get clones: ICMP itself saw and answered everything.
  const icmp = snmpRow(procRead(net, '/proc/net/snmp') as string, 'Icmp');
  const script = python('rawflood', [
    'import socket, struct',
    'def csum(b):',
    "    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16",
    '    return ~s & 0xffff',
    'sink = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)',
    'tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)',
    'for i in range(2000):',
    '    data = bytes(range(56))',
    "    c = csum(struct.pack('!BBHHH', 8, 0, 0, 0x1234, i) + data)",
    "    tx.sendto(struct.pack('!BBHHH', 8, 0, c, 0x1234, i) + data, ('127.0.0.1', 0))",
    'sink.setblocking(False)',
    'n = 0',
    'while True:',
    '    try: sink.recv(65535); n += 1',
    '    except BlockingIOError: break',
    'print(n)',
  ]);
  const linux = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`, 'cat /proc/net/snmp']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.equal(icmp, snmpRow(linux[1]?.stdout ?? '', 'Icmp'), 'the same Icmp row: 4000 in, 2000 echos, 2000 replies');
  assert.equal(linux[0]?.stdout.trim(), '256');
});
