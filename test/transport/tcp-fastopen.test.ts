/**
 * TCP Fast Open: the sysctls read and parse as Linux's do (checked against a real
 * namespace), and the cookies are the ones Linux computes — the selftests' TFO_COOKIE
 * values for their addresses and key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { siphash, siphashKey } from '../../src/include/siphash.js';
import { Kernel } from '../../src/init.js';
import { Process } from '../../src/socket/syscalls.js';
import { AF, MSG, SO, SOCK, SOL, TCP_OPT } from '../../src/socket/uapi.js';
import { haveBinary, inLinuxNetns } from '../helpers/linux.js';

const SEQUENCE = [
  'sysctl net.ipv4.tcp_fastopen net.ipv4.tcp_fastopen_key net.ipv4.tcp_fastopen_blackhole_timeout_sec',
  'sysctl -w net.ipv4.tcp_fastopen=0x202',
  'cat /proc/sys/net/ipv4/tcp_fastopen',
  'sysctl -w net.ipv4.tcp_fastopen=010',
  'cat /proc/sys/net/ipv4/tcp_fastopen',
  'sysctl -w net.ipv4.tcp_fastopen=08',
  'sysctl -w net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,1-2-3-4',
  'cat /proc/sys/net/ipv4/tcp_fastopen_key',
  'sysctl -w net.ipv4.tcp_fastopen_key=0xabc-0-0-ffffffff',
  'sysctl net.ipv4.tcp_fastopen_key',
  'sysctl -w net.ipv4.tcp_fastopen_key=nonsense',
  'sysctl -w net.ipv4.tcp_fastopen_blackhole_timeout_sec=-1',
];

test('Fast Open sysctls: defaults, C base-0 numbers, the key format — as a real Linux namespace shows them', async (t) => {
  const ns = new Namespace();
  const lonet: Awaited<ReturnType<Namespace['exec']>>[] = [];
  for (const cmd of SEQUENCE) lonet.push(await ns.exec(cmd));
  // Without a reference, at least Linux's values as recorded from 6.18.
  assert.equal(
    lonet[0]?.stdout,
    'net.ipv4.tcp_fastopen = 1\nnet.ipv4.tcp_fastopen_key = 00000000-00000000-00000000-00000000\nnet.ipv4.tcp_fastopen_blackhole_timeout_sec = 0\n',
  );
  assert.equal(lonet[2]?.stdout, '514\n');
  assert.equal(lonet[4]?.stdout, '8\n');
  assert.equal(lonet[5]?.code, 1);
  assert.equal(lonet[7]?.stdout, 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000001-00000002-00000003-00000004\n');
  assert.equal(lonet[9]?.stdout, 'net.ipv4.tcp_fastopen_key = 00000abc-00000000-00000000-ffffffff\n');
  assert.equal(lonet[10]?.code, 1);
  const linux = inLinuxNetns([], SEQUENCE);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  SEQUENCE.forEach((cmd, i) => {
    assert.deepEqual(lonet[i], linux[i], cmd);
  });
});

test('SipHash-2-4 gives the reference vector and the selftests’ Fast Open cookies', () => {
  const hex = (v: bigint) => {
    let s = '';
    for (let i = 0; i < 8; i++) s += ((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
    return s;
  };
  // The SipHash paper's vector: key 00..0f, message 00..0e.
  const k = siphashKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  assert.equal(
    hex(
      siphash(
        Uint8Array.from({ length: 15 }, (_, i) => i),
        k,
      ),
    ),
    'e545be4961ca29a1',
  );
  // ksft_runner.sh's TFO_COOKIE: key a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4, SYN 192.0.2.1 -> 192.168.0.1.
  const key = siphashKey(
    Uint8Array.from([...'a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4'.matchAll(/../g)].map((m) => Number.parseInt(m[0], 16))),
  );
  assert.equal(hex(siphash(Uint8Array.from([192, 0, 2, 1, 192, 168, 0, 1]), key)), '3021b9d889017eeb');
  assert.equal(hex(siphash(Uint8Array.from([192, 0, 2, 1, 192, 168, 0, 1]), [0n, 0n])), 'b7c12350a90dc8f5');
});

/**
 * The same program on both stacks: a Fast Open listener on 127.0.0.1:8080 and two clients
 * that sendto(MSG_FASTOPEN). The first has no cookie: its SYN asks for one and the data
 * waits for the handshake. The second sends its data in the SYN, which the server takes
 * before the handshake ends. What each call returns, TCPI_OPT_SYN_DATA on both ends and
 * the TcpExt counters are compared with the real kernel's. A third client, after the
 * server's key changed, presents a stale cookie: the server takes only the SYN, and the
 * client sends its data again after the handshake.
 */
const PY = `
import socket, struct, json, subprocess
MSG_FASTOPEN = 0x20000000
out = []
def syn_data(s):
    return struct.unpack('B', s.getsockopt(6, 11, 8)[5:6])[0] & 32
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', 8080)); l.setsockopt(6, 23, 5); l.listen(5)
for i in range(3):
    if i == 2:
        subprocess.run(['sysctl', '-q', 'net.ipv4.tcp_fastopen_key=1-2-3-4'])
    c = socket.socket(); c.setblocking(False)
    try:
        r = c.sendto(b'hello', MSG_FASTOPEN, ('127.0.0.1', 8080))
    except BlockingIOError:
        r = 'EINPROGRESS'
    a, _ = l.accept()
    if r == 'EINPROGRESS':
        c.setblocking(True); c.send(b'hello')
    out.append([r, a.recv(100).decode(), syn_data(a), syn_data(c)])
    c.close(); a.close()
out.append(subprocess.run(['nstat', '-az', 'TcpExtTCPFastOpen*'], capture_output=True, text=True).stdout)
print(json.dumps(out))
`;

test('sendto(MSG_FASTOPEN) over lo: cookie, then data in the SYN — what a real kernel returns and counts', async (t) => {
  const ns = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
  assert.equal((await ns.exec('sysctl -q net.ipv4.tcp_fastopen=3')).code, 0);
  const p = new Process(ns);
  const lo = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
  const synData = (fd: number) =>
    ((p.getsockopt(fd, SOL.TCP, TCP_OPT.INFO) as Record<string, number>).tcpi_options ?? 0) & 32;
  const l = p.socket(AF.INET, SOCK.STREAM, 0);
  p.setsockopt(l, SOL.SOCKET, SO.REUSEADDR, 1);
  assert.equal(p.bind(l, { family: AF.INET, addr: lo, port: 8080 }), 0);
  assert.equal(p.setsockopt(l, SOL.TCP, TCP_OPT.FASTOPEN, 5), 0);
  assert.equal(p.listen(l, 5), 0);
  const out: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    // A new server key makes the client's cookie stale: its SYN data is not taken and goes again.
    if (i === 2) assert.equal((await ns.exec('sysctl -q net.ipv4.tcp_fastopen_key=1-2-3-4')).code, 0);
    const c = p.socket(AF.INET, SOCK.STREAM | SOCK.NONBLOCK, 0);
    const hello = new TextEncoder().encode('hello');
    let r: number | string = (await p.send(c, hello, MSG.FASTOPEN, {
      family: AF.INET,
      addr: lo,
      port: 8080,
    })) as number;
    if (r === -115) r = 'EINPROGRESS';
    const a = (await p.accept(l)) as number;
    if (r === 'EINPROGRESS') assert.equal(await p.send(c, hello), 5);
    const got = (await p.recv(a, 100)) as Uint8Array;
    out.push([r, new TextDecoder().decode(got), synData(a), synData(c)]);
    p.close(c);
    p.close(a);
  }
  out.push((await ns.exec('nstat -az TcpExtTCPFastOpen*')).stdout);
  assert.deepEqual(out.slice(0, 3), [
    ['EINPROGRESS', 'hello', 0, 0],
    [5, 'hello', 32, 32],
    [5, 'hello', 0, 0],
  ]);
  if (!haveBinary('python3') || !haveBinary('nstat')) return t.skip('needs python3 and nstat');
  const script = join(mkdtempSync(join(tmpdir(), 'lonet-tfo-')), 'tfo.py');
  writeFileSync(script, PY);
  const linux = inLinuxNetns(['ip link set lo up', 'sysctl -q net.ipv4.tcp_fastopen=3'], [`python3 ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(out, JSON.parse(linux[0]?.stdout ?? 'null'));
});
