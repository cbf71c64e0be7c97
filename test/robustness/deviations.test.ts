/**
 * Where the fuzzer's runs showed lonet differing from Linux 6.18, each compared with a real
 * namespace: what lonet does now is what Linux does (martians, raw socket queues, IP options).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { RawSock } from '../../src/ipv4/raw.js';
import { procRead } from '../../src/net/procfs.js';
import { xmit, xmitAsHost } from '../helpers/frames.js';
import { echoRequest, ip, ipv4Frame, snmp } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';
import { mib } from './tcp-drive.js';

/** A UDP datagram to port 53 from `src` to `dst`, as an AF_PACKET socket would send it into lo. */
function udpFrame(src: string, dst: string): Uint8Array {
  return ipv4Frame({ src: ip(src), dst: ip(dst), protocol: 17 }, Uint8Array.from([4, 210, 0, 53, 0, 8, 0, 0]));
}

/**
 * src>dst pairs sent into lo as an AF_PACKET socket sends them (no route comes with them),
 * after `ip addr add 10.1.1.1/32 dev lo`. On Linux 6.18 (checked with this test's script):
 * 127/8 destinations are martian_destination and 127/8 or local sources martian_source,
 * counted only in /proc/net/stat/rt_cache; 224.0.0.2 is a group lo has not joined, dropped
 * uncounted; 224.0.0.1 (joined when lo came up) and 255.255.255.255 are delivered
 * (InMcastPkts, InBcastPkts); 8.8.8.8 has no route and forwarding is off: InAddrErrors.
 */
const CASES = [
  '10.0.0.9>127.0.0.1',
  '127.0.0.1>127.0.0.1',
  '10.0.0.9>10.1.1.1',
  '10.1.1.1>10.1.1.1',
  '10.0.0.9>224.0.0.2',
  '10.0.0.9>224.0.0.1',
  '127.0.0.1>10.1.1.1',
  '10.1.1.1>127.0.0.1',
  '10.0.0.9>8.8.8.8',
  '127.0.0.1>8.8.8.8',
  '10.0.0.9>255.255.255.255',
  '0.0.0.0>10.1.1.1',
  '10.0.0.9>0.0.0.0',
  '224.0.0.5>10.1.1.1',
];

/** in_martian_dst and in_martian_src summed over the CPUs' rows of /proc/net/stat/rt_cache. */
function martians(text: string): [number, number] {
  const [head, ...rows] = text.trim().split('\n');
  const cols = (head ?? '').split(/ +/);
  const sum = (name: string) =>
    rows.reduce((n, r) => n + Number.parseInt(r.trim().split(/ +/)[cols.indexOf(name)] ?? '0', 16), 0);
  return [sum('in_martian_dst'), sum('in_martian_src')];
}

test('IPv4 frames injected into lo without a route: 127/8 destinations and local sources are martians, multicast is not InAddrErrors', async (t) => {
  const ns = new Namespace();
  await ns.exec('ip addr add 10.1.1.1/32 dev lo');
  const mine: string[] = [];
  let [dst0, src0] = martians(String(procRead(ns, '/proc/net/stat/rt_cache')));
  for (const c of CASES) {
    const [src, dst] = c.split('>') as [string, string];
    xmit(ns, udpFrame(src, dst));
    await ns.kernel.settle();
    const i = snmp(ns, 'Ip');
    const x = mib(ns, 'netstat', 'IpExt');
    const [dst1, src1] = martians(String(procRead(ns, '/proc/net/stat/rt_cache')));
    mine.push(
      `${c} InReceives=${i.InReceives} InAddrErrors=${i.InAddrErrors} NoPorts=${snmp(ns, 'Udp').NoPorts} ` +
        `InMcastPkts=${x.InMcastPkts} InBcastPkts=${x.InBcastPkts} martian_dst+${dst1 - dst0} martian_src+${src1 - src0}`,
    );
    [dst0, src0] = [dst1, src1];
  }
  const script = join(tmpdir(), `lonet-inject-${process.pid}.py`);
  const hex = CASES.map((c) => Buffer.from(udpFrame(...(c.split('>') as [string, string]))).toString('hex'));
  writeFileSync(
    script,
    [
      'import socket',
      `cases = ${JSON.stringify(CASES)}`,
      `frames = ${JSON.stringify(hex)}`,
      "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('lo', 0))",
      'def row(path, name):',
      "    lines = [l for l in open(path) if l.startswith(name + ':')]",
      '    return dict(zip(lines[0].split()[1:], map(int, lines[1].split()[1:])))',
      'def martians():',
      "    head, *rows = open('/proc/net/stat/rt_cache').read().split('\\n')[:-1]",
      '    cols = head.split()',
      "    return [sum(int(r.split()[cols.index(n)], 16) for r in rows) for n in ('in_martian_dst', 'in_martian_src')]",
      'd0, s0 = martians()',
      'for c, f in zip(cases, frames):',
      '    s.send(bytes.fromhex(f))',
      "    i, u, x = row('/proc/net/snmp', 'Ip'), row('/proc/net/snmp', 'Udp'), row('/proc/net/netstat', 'IpExt')",
      '    d1, s1 = martians()',
      "    print(f\"{c} InReceives={i['InReceives']} InAddrErrors={i['InAddrErrors']} NoPorts={u['NoPorts']} \"",
      "          f\"InMcastPkts={x['InMcastPkts']} InBcastPkts={x['InBcastPkts']} martian_dst+{d1 - d0} martian_src+{s1 - s0}\")",
      '    d0, s0 = d1, s1',
    ].join('\n'),
  );
  const linux = inLinuxNetns(['ip link set lo up', 'ip addr add 10.1.1.1/32 dev lo'], [`python3 ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(mine, (linux[0]?.stdout ?? '').trim().split('\n'));
});

test('the same frames sent as this host sends them (with the route its output gives them) are delivered', async () => {
  const ns = new Namespace();
  await ns.exec('ip addr add 10.1.1.1/32 dev lo');
  // lo keeps the sender's route: ip_rcv_finish never asks ip_route_input, so no martian check.
  for (const c of ['127.0.0.1>127.0.0.1', '10.1.1.1>10.1.1.1', '10.1.1.1>127.0.0.1']) {
    const [src, dst] = c.split('>') as [string, string];
    xmitAsHost(ns, udpFrame(src, dst));
  }
  await ns.kernel.settle();
  assert.equal(snmp(ns, 'Udp').NoPorts, 3, 'each reached UDP and found no socket on port 53');
  assert.deepEqual(martians(String(procRead(ns, '/proc/net/stat/rt_cache'))), [0, 0]);
});

test("/proc/net/stat/rt_cache is laid out as this machine's Linux prints it: a header, then a row per CPU", (t) => {
  let linux: string;
  try {
    linux = readFileSync('/proc/net/stat/rt_cache', 'utf8');
  } catch {
    return t.skip('no /proc/net/stat/rt_cache here');
  }
  const ns = new Namespace();
  const mine = String(procRead(ns, '/proc/net/stat/rt_cache')).split('\n');
  const theirs = linux.split('\n');
  assert.equal(mine[0], theirs[0]);
  // Values differ; the columns do not: every cell is 8 hex digits, padded under its name.
  const shape = (row: string | undefined) => (row ?? '').replace(/[0-9a-f]{8}/g, 'XXXXXXXX');
  assert.equal(shape(mine[1]), shape(theirs[1]));
  assert.equal(mine.filter((l) => l !== '').length, 1 + ns.kernel.cpus.length);
});

test('a raw ICMP socket that does not read holds 256 of 4000 echo packets, as Linux 6.18 (truesize 832 each)', async () => {
  const ns = new Namespace();
  const sink = new RawSock(ns, 1);
  const tx = new RawSock(ns, 1);
  for (let i = 0; i < 2000; i++) tx.sendto(ip('127.0.0.1'), echoRequest(0x1234, i));
  await ns.kernel.settle();
  let n = 0;
  while (sink.recv() !== null) n++;
  assert.equal(n, 256);
  assert.ok(procRead(ns, '/proc/net/snmp'));
});

test('an IPv4 header whose record-route option is 2 bytes long is InHdrErrors, as ip_options_compile finds it', async (t) => {
  const ns = new Namespace();
  await ns.exec('ip addr add 10.1.1.1/32 dev lo');
  const f = ipv4Frame(
    { src: ip('10.0.0.9'), dst: ip('10.1.1.1'), protocol: 17, options: Uint8Array.from([7, 2, 4, 0]) },
    Uint8Array.from([4, 210, 0, 53, 0, 8, 0, 0]),
  );
  xmit(ns, f);
  await ns.kernel.settle();
  const mine = [snmp(ns, 'Ip').InHdrErrors, snmp(ns, 'Udp').NoPorts];
  const script = join(tmpdir(), `lonet-ipopt-${process.pid}.py`);
  writeFileSync(
    script,
    [
      'import socket',
      "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('lo', 0))",
      `s.send(bytes.fromhex('${Buffer.from(f).toString('hex')}'))`,
    ].join('\n'),
  );
  const linux = inLinuxNetns(
    ['ip link set lo up', 'ip addr add 10.1.1.1/32 dev lo', `python3 ${script}`],
    ['cat /proc/net/snmp'],
  );
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const rows = (linux[0]?.stdout ?? '').split('\n');
  const row = (name: string) => {
    const [h, v] = rows.filter((l) => l.startsWith(`${name}: `));
    return Object.fromEntries(
      (h ?? '')
        .split(' ')
        .slice(1)
        .map((k, i) => [k, Number((v ?? '').split(' ')[i + 1])]),
    );
  };
  assert.deepEqual(mine, [row('Ip').InHdrErrors, row('Udp').NoPorts], 'Linux: InHdrErrors 1, not delivered');
});
