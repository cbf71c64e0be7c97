import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { inetPton6 } from '../../src/ipv6/addr.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { setNetHashMix, UDP_HTABLE_SIZE } from '../../src/transport/udp-proc.js';
import { haveBinary, inLinuxNetns, pythonHolder } from '../helpers/linux.js';

/**
 * The same sockets on both sides: unconnected, connected, v6only, dual-stack, v4-mapped,
 * with datagrams waiting (a 100-byte one, a 2000-byte and a 1-byte one, one to itself).
 */
const HOLDER = `
import socket, time
s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s1.bind(('127.0.0.1', 5353))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(('127.0.0.1', 40001)); c.connect(('127.0.0.1', 5353)); c.send(b'x' * 100)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(('::1', 5354))
d = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); d.bind(('::', 6000))
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('0.0.0.0', 7000))
c6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c6.bind(('::1', 40002)); c6.connect(('::1', 5354)); c6.send(b'y' * 2000); c6.send(b'z')
m = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); m.bind(('::ffff:127.0.0.1', 7001))
a.sendto(b'q', ('127.0.0.1', 7000))
# Delivery finishes in the kernel's softirq, which a loaded machine may run late: wait until
# IP has handed all four datagrams to UDP, which queues them (two over IPv4, two over IPv6;
# Udp InDatagrams would count them only when read).
def delivered():
    ip = [l.split()[1:] for l in open('/proc/net/snmp') if l.startswith('Ip: ')]
    v4 = dict(zip(ip[0], ip[1]))['InDelivers']
    v6 = [l.split()[1] for l in open('/proc/net/snmp6') if l.startswith('Ip6InDelivers')][0]
    return int(v4) >= 2 and int(v6) >= 2
for _ in range(1200):
    if delivered(): break
    time.sleep(0.05)
`;

/** The holder's sockets as system calls on lonet's UDP: nobody reads them either. */
function lonetSockets(ns: Namespace): UdpSock[] {
  const v4 = (a: string) => v4Mapped(a.split('.').reduce((x, p) => ((x << 8) | Number(p)) >>> 0, 0));
  const v6 = (a: string) => inetPton6(a) as Uint8Array;
  const sock = (family: 4 | 6, addr: Uint8Array, port: number, opts: { v6only?: boolean } = {}) => {
    const s = new UdpSock(ns, family);
    if (opts.v6only !== undefined) s.v6only = opts.v6only;
    assert.equal(s.bind(addr, port), 0);
    return s;
  };
  const s1 = sock(4, v4('127.0.0.1'), 5353);
  const c = sock(4, v4('127.0.0.1'), 40001);
  assert.equal(c.connect(v4('127.0.0.1'), 5353), 0);
  c.sendto(new Uint8Array(100), null, 0);
  const s6 = sock(6, v6('::1'), 5354, { v6only: true });
  const dual = sock(6, v6('::'), 6000);
  const a = sock(4, v4('0.0.0.0'), 7000);
  const c6 = sock(6, v6('::1'), 40002);
  assert.equal(c6.connect(v6('::1'), 5354), 0);
  c6.sendto(new Uint8Array(2000), null, 0);
  c6.sendto(new Uint8Array(1), null, 0);
  const m = sock(6, v6('::ffff:127.0.0.1'), 7001);
  a.sendto(new Uint8Array(1), v4('127.0.0.1'), 7000);
  return [s1, c, s6, dual, a, c6, m];
}

const COMMANDS = [
  'ss -uan',
  'ss -ua',
  'ss -u',
  'ss -uanl',
  'ss -uln',
  'ss -uan4',
  'ss -uan6',
  'ss -uanH',
  'ss -uanm',
  'ss -uane',
  'cat /proc/net/udp',
  'cat /proc/net/udp6',
];

/** Inode numbers, socket cookies and hashed pointers differ from host to host; their order does not. */
const PROC_LINE = /^(\s*\d+: \S+ \S+ \S+ \S+ \S+ \S+\s+\d+\s+\d+ )(\d+)( \d+ )[0-9a-f]{16}/;

function normalize(cmd: string, out: string): string {
  const lines = out.split('\n');
  const inodes = cmd.startsWith('cat')
    ? lines.map((l) => PROC_LINE.exec(l)?.[2]).filter((i) => i !== undefined)
    : [...out.matchAll(/ino:(\d+)/g)].map((m) => m[1] as string);
  const rank = (i: string) => [...new Set(inodes.map(Number))].sort((x, y) => x - y).indexOf(Number(i));
  if (cmd.startsWith('cat')) {
    return lines.map((l) => l.replace(PROC_LINE, (_, a, i, b) => `${a}I${rank(i)}${b}PTR`).trimEnd()).join('\n');
  }
  const t = out
    .replace(/ino:(\d+)/g, (_, i) => `ino:I${rank(i)}`)
    .replace(/sk:[0-9a-f]+/g, 'sk:K')
    .replace(/cgroup:\S+/g, 'cgroup:C');
  // -e lines change width with the inode numbers' digits: compare their words.
  return / -\S*e/.test(cmd) ? t.replace(/ +/g, ' ') : t;
}

test('ss -u and /proc/net/udp{,6} match a real Linux namespace holding the same sockets', async (t) => {
  if (!haveBinary('python3') || !haveBinary('ss')) return t.skip('needs python3 and ss');
  const holder = pythonHolder(HOLDER);
  const real = inLinuxNetns(['ip link set lo up', holder.setup], COMMANDS);
  holder.release();
  if (real === undefined) return t.skip('no Linux network namespaces here');
  const procUdp = real[COMMANDS.indexOf('cat /proc/net/udp')]?.stdout ?? '';
  const first = /^ *(\d+): [0-9A-F]{8}:([0-9A-F]{4})/m.exec(procUdp);
  assert.ok(first !== null, procUdp);
  const ns = new Namespace();
  // The real namespace's net_hash_mix, so the hash walk visits slots in the same order.
  setNetHashMix(ns, (Number(first[1]) - Number.parseInt(first[2] as string, 16)) & (UDP_HTABLE_SIZE - 1));
  const socks = lonetSockets(ns);
  for (const [i, cmd] of COMMANDS.entries()) {
    const mine = await ns.exec(cmd);
    const theirs = real[i] as { stdout: string; code: number };
    assert.equal(mine.code, theirs.code, cmd);
    assert.equal(normalize(cmd, mine.stdout), normalize(cmd, theirs.stdout), cmd);
  }
  // Linux pads each /proc/net/udp line to 127 characters (seq_setwidth + seq_pad).
  for (const l of (await ns.exec('cat /proc/net/udp')).stdout.split('\n').filter((x) => x.length > 0)) {
    assert.equal(l.length, 127);
  }
  for (const s of socks) s.close();
});

test('ss -uanm: reading gives the memory back as udp_rmem_release does, one page stays charged', async () => {
  const ns = new Namespace();
  const rx = ns.dgram.createSocket('udp4');
  rx.bind(9999, '127.0.0.1');
  await once(rx, 'listening');
  let read = 0;
  rx.on('message', () => read++);
  const tx = ns.dgram.createSocket('udp4');
  for (let i = 0; i < 3; i++) tx.send(Buffer.alloc(100), 9999, '127.0.0.1');
  // The messages are delivered on the next turn of the event loop; before that they wait in the queue.
  await new Promise((r) => tx.once('listening', r));
  await new Promise((r) => process.nextTick(r));
  const before = (await ns.exec('ss -uanmH sport = :9999')).code;
  assert.equal(before, 1, 'filters are not supported yet, and say so');
  const waiting = (await ns.exec('ss -uanm')).stdout;
  assert.match(waiting, /UNCONN 2496 +0 +127\.0\.0\.1:9999/);
  assert.match(waiting, /skmem:\(r2496,rb212992,t0,tb212992,f1600,w0,o0,bl0,d0\)/);
  while (read < 3) await once(rx, 'message');
  const after = (await ns.exec('ss -uanm')).stdout;
  assert.match(after, /UNCONN 0 +0 +127\.0\.0\.1:9999/);
  assert.match(after, /skmem:\(r0,rb212992,t0,tb212992,f4096,w0,o0,bl0,d0\)/);
  rx.close();
  tx.close();
});

test('ss: usage errors and help as iproute2 prints them', async () => {
  const ns = new Namespace();
  const bad = await ns.exec('ss -q');
  assert.equal(bad.code, 255);
  assert.ok(bad.stderr.startsWith("ss: invalid option -- 'q'\nUsage: ss [ OPTIONS ]\n"));
  const help = await ns.exec('ss -h');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {3}-u, --udp {11}display only UDP sockets$/m);
  assert.equal((await ns.exec('ss -V')).stdout, 'ss utility, iproute2-6.1.0\n');
  assert.equal(
    (await ns.exec('ss -uan')).stdout,
    'State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n',
    'no sockets: the header alone',
  );
  assert.equal((await ns.exec('ss -uanH')).stdout, '');
});

test('the tables other options select lay out their columns as ss does (a fresh namespace: no sockets)', async (t) => {
  const cmds = ['ss -x', 'ss -w', 'ss -0', 'ss -S', 'ss -M', 'ss -xa', 'ss -ut', 'ss -A udp', 'ss -uln6', 'ss -Htu'];
  const real = haveBinary('ss') ? inLinuxNetns([], cmds) : undefined;
  if (real === undefined) return t.skip('no Linux network namespaces here');
  const ns = new Namespace();
  for (const [i, cmd] of cmds.entries()) {
    const mine = await ns.exec(cmd);
    assert.deepEqual([mine.code, mine.stdout], [real[i]?.code, real[i]?.stdout], cmd);
  }
});
