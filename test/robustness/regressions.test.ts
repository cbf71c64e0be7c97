/** Inputs the fuzzer found, each kept as the test that it stays fixed. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromHex } from '../../fuzz/harness.js';
import { runFrames } from '../../fuzz/stack.js';
import { Namespace } from '../../src/api/namespace.js';
import { PcapError } from '../../src/capture/pcap.js';
import { readPcapng } from '../../src/capture/pcapng.js';
import { devGetStats, devSetMtu } from '../../src/core/netdevice.js';
import { E } from '../../src/include/errno.js';
import { Net } from '../../src/init.js';
import { procRead } from '../../src/net/procfs.js';
import { parseTcp } from '../../src/wire/tcp.js';
import { xmit } from '../helpers/frames.js';
import { inLinuxNetns } from '../helpers/linux.js';

function snmp6(net: Net): Record<string, number> {
  const lines = (procRead(net, '/proc/net/snmp6') as string).trimEnd().split('\n');
  return Object.fromEntries(lines.map((l) => l.split(/\s+/)).map(([k, v]) => [k as string, Number(v)]));
}

test('parseTcp with an offset past the end of the bytes says truncated instead of throwing RangeError', () => {
  const b = fromHex('00000000000000000000000008004500001c000000000011bccf7f0000017f00000100000000000801dc');
  assert.equal(parseTcp(b, 54), 'truncated');
  assert.equal(parseTcp(b, b.length + 1), 'truncated');
});

test('an IPv6 frame for another MAC is dropped in rx_otherhost_dropped, as IPv4 is (ip6_rcv_core)', async () => {
  const ns = new Namespace();
  // The fuzzer's frame: destination MAC 02:00:00:00:00:00, not lo's 00:00:00:00:00:00.
  const frame = fromHex(
    '02000000000000000000000086dd60042f61002006400000000000000000000000000000000100000000000000000000000000000001e2061f41f7bf3e7f9eb7a83b80100067002800000101080ab9886220989285c8',
  );
  xmit(ns, frame);
  await ns.kernel.settle();
  assert.equal(devGetStats(ns.lo).rxOtherhostDropped, 1);
  assert.equal(snmp6(ns).Ip6InReceives, 0, 'IPv6 never counted it');
  const { code, stdout } = await ns.exec('ip -s -s link show lo');
  assert.equal(code, 0);
  assert.match(stdout, /otherhost/, '`ip -s -s link` shows the column');
});

test('an IPv6 packet whose next header is NEXTHDR_NONE is counted in Ip6InDelivers, as Linux 6.18 counts it', async (t) => {
  const net = new Net();
  const frame = fromHex(
    `000000000000000000000000${'86dd'}6000000000083b40${'00'.repeat(15)}01${'00'.repeat(15)}01${'00'.repeat(8)}`,
  );
  xmit(net, frame);
  await net.kernel.settle();
  const s = snmp6(net);
  assert.deepEqual([s.Ip6InReceives, s.Ip6InDelivers, s.Ip6InUnknownProtos], [1, 1, 0]);
  // The same packet sent into a real namespace's lo with an IPv6 raw socket (IPPROTO_RAW: header included).
  const script = join(tmpdir(), `lonet-nh59-${process.pid}.py`);
  writeFileSync(
    script,
    [
      'import socket, struct',
      's = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)',
      "lo = bytes(15) + b'\\x01'",
      "s.sendto(struct.pack('!IHBB', 0x60000000, 8, 59, 64) + lo + lo + bytes(8), ('::1', 0))",
    ].join('\n'),
  );
  const linux = inLinuxNetns(['ip link set lo up', `python3 ${script}`], ['cat /proc/net/snmp6']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const l = Object.fromEntries(
    (linux[0]?.stdout ?? '')
      .trim()
      .split('\n')
      .map((x) => x.split(/\s+/))
      .map(([k, v]) => [k, Number(v)]),
  );
  assert.deepEqual([l.Ip6InReceives, l.Ip6InDelivers, l.Ip6InUnknownProtos], [1, 1, 0]);
});

test('devSetMtu refuses NaN, fractions and values no int holds with EINVAL, keeping the MTU', () => {
  const net = new Net();
  for (const bad of [Number.NaN, 1500.5, 2 ** 31, 2 ** 32, Number.POSITIVE_INFINITY]) {
    assert.equal(devSetMtu(net.lo, bad), -E.EINVAL, String(bad));
    assert.equal(net.lo.mtu, 65536);
  }
  assert.equal(devSetMtu(net.lo, 2 ** 31 - 1), 0, 'the largest int is a valid MTU for lo (no max_mtu)');
});

test('fuzzer inputs that once broke the ledger now balance: IPv6 other host, a fragment that is not a multiple of 8, martians', () => {
  for (const frames of [
    [
      '02000000000000000000000086dd60042f61002006400000000000000000000000000000000100000000000000000000000000000001e2061f41f7bf3e7f9eb7a83b80100067002800000101080ab9886220989285c8',
    ],
    [
      '00000000000000000000000086dd6000000000112c0000000000000000000000000000000001000000000000000000000000000000011100000100000000000000000009000000',
    ],
    [
      '0000000000000000000000000800470000240000000000114dc6e00000fb7f00000107070400000000000000000000089fe1',
      '00000000000000000000000008004500001c0000000000013be1000000007f0000010000edca12340001',
    ],
  ]) {
    for (const burst of [false, true]) runFrames({ frames: frames.map(fromHex), burst });
  }
});

test('a pcapng interface block too short for its fields is a PcapError, not a RangeError', () => {
  // The fuzzer's file: a section header, then a 12-byte interface description block at the very end.
  const b = fromHex(
    '0a0d0d0a2c0000004d3c2b1a01000000ffffffffffffffff040005006c6f6e6574000000000000002c000000010000000c00000001000000',
  );
  const r = readPcapng(b);
  assert.ok(r instanceof PcapError, String(r));
  assert.equal(r.offset, 44);
});

/** What a call throws, as name, code and message; 'ok' if it returns. */
function thrown(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    const err = e as Error & { code?: string };
    return `${err.name} ${err.code} ${err.message}`;
  }
}

test('ns.dgram checks recvBufferSize/sendBufferSize, setTTL and prints -0 as node:dgram does (differential fuzzing)', () => {
  const ns = new Namespace();
  const cases: [string, (d: typeof dgram) => unknown][] = [
    ['recvBufferSize {}', (d) => d.createSocket({ type: 'udp4', recvBufferSize: {} as number })],
    ['recvBufferSize -1', (d) => d.createSocket({ type: 'udp4', recvBufferSize: -1 })],
    ['sendBufferSize 1.5', (d) => d.createSocket({ type: 'udp6', sendBufferSize: 1.5 })],
    ['sendBufferSize 2^33', (d) => d.createSocket({ type: 'udp4', sendBufferSize: 2 ** 33 })],
    ['setTTL(0) unbound', (d) => d.createSocket('udp4').setTTL(0)],
    ['setTTL(NaN) unbound', (d) => d.createSocket('udp4').setTTL(Number.NaN)],
    ['setTTL(64) unbound', (d) => d.createSocket('udp4').setTTL(64)],
    ['connect(-0)', (d) => d.createSocket('udp4').connect(-0, '127.0.0.1')],
  ];
  for (const [name, call] of cases) {
    const real = thrown(() => call(dgram));
    assert.notEqual(real, 'ok', name);
    assert.equal(
      thrown(() => call(ns.dgram as unknown as typeof dgram)),
      real,
      name,
    );
  }
});
