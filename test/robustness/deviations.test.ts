/**
 * Where the fuzzer's runs showed lonet differing from Linux 6.18 in a layer this work does
 * not own, kept as TODO tests (reported, not failing the suite) that compare with a real
 * namespace, so whoever fixes the layer sees them pass.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { RawSock } from '../../src/ipv4/raw.js';
import { procRead } from '../../src/net/procfs.js';
import { xmit } from '../helpers/frames.js';
import { echoRequest, ip, ipv4Frame, snmp } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';

/** A UDP datagram to port 53 from `src` to `dst`, as an AF_PACKET socket would send it into lo. */
function udpFrame(src: string, dst: string): Uint8Array {
  return ipv4Frame({ src: ip(src), dst: ip(dst), protocol: 17 }, Uint8Array.from([4, 210, 0, 53, 0, 8, 0, 0]));
}

const CASES = [
  '10.0.0.9>127.0.0.1',
  '127.0.0.1>127.0.0.1',
  '10.0.0.9>10.1.1.1',
  '10.1.1.1>10.1.1.1',
  '10.0.0.9>224.0.0.2',
];

test(
  'IPv4 frames injected into lo without a route: 127/8 destinations and local sources are martians, multicast is not InAddrErrors',
  {
    todo: 'src/ipv4/route.ts ipRouteInput: Linux drops these silently (martian_destination, fib_validate_source without accept_local, unjoined multicast); lonet delivers or counts InAddrErrors',
  },
  async (t) => {
    const ns = new Namespace();
    await ns.exec('ip addr add 10.1.1.1/32 dev lo');
    const mine: string[] = [];
    for (const c of CASES) {
      const [src, dst] = c.split('>') as [string, string];
      xmit(ns, udpFrame(src, dst));
      await ns.kernel.settle();
      const i = snmp(ns, 'Ip');
      mine.push(`${c} InReceives=${i.InReceives} InAddrErrors=${i.InAddrErrors} NoPorts=${snmp(ns, 'Udp').NoPorts}`);
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
        'def row(name):',
        "    lines = [l for l in open('/proc/net/snmp') if l.startswith(name + ':')]",
        '    return dict(zip(lines[0].split()[1:], map(int, lines[1].split()[1:])))',
        'for c, f in zip(cases, frames):',
        '    s.send(bytes.fromhex(f))',
        "    i, u = row('Ip'), row('Udp')",
        "    print(f\"{c} InReceives={i['InReceives']} InAddrErrors={i['InAddrErrors']} NoPorts={u['NoPorts']}\")",
      ].join('\n'),
    );
    const linux = inLinuxNetns(['ip link set lo up', 'ip addr add 10.1.1.1/32 dev lo'], [`python3 ${script}`]);
    if (linux === undefined) return t.skip('no Linux network namespace here');
    assert.deepEqual(mine, (linux[0]?.stdout ?? '').trim().split('\n'));
  },
);

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
