/**
 * lo going down and up, and its MTU changing, under live UDP and ping traffic: each send
 * gets what Linux gives (a silent drop on a downed lo, EADDRNOTAVAIL once ::1 is gone,
 * ENETUNREACH once 127.0.0.1 is gone), nothing hangs, and nothing throws.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { errnoName } from '../../src/core/errno.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { inLinuxNetns } from '../helpers/linux.js';

/**
 * The same steps as a python3 script for a real namespace: after each change, a 10-byte
 * UDP datagram to 127.0.0.1 and to ::1, one on a connected socket, a 3000-byte one (fragmented
 * below MTU 3028), then what each server reads. Prints one line per step.
 */
const PY = `import socket, subprocess, errno, time
def sh(c): subprocess.run(c.split(), check=True)
def res(f):
    try:
        r = f()
        return 'ok' if r is None else str(r)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
srv4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv4.bind(('127.0.0.1', 5000)); srv4.setblocking(False)
srv6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); srv6.bind(('::1', 5001)); srv6.setblocking(False)
c4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
cc4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); cc4.connect(('127.0.0.1', 5000))
def settle():
    # Until every CPU's backlog is empty (softnet_stat's 12th column): a loaded machine may
    # leave the sends' softirq work to ksoftirqd, after the send calls have returned.
    for _ in range(2000):
        if all(int(l.split()[11], 16) == 0 for l in open('/proc/net/softnet_stat')): return
        time.sleep(0.005)
def step(name):
    out = [name,
      res(lambda: c4.sendto(b'x'*10, ('127.0.0.1', 5000))),
      res(lambda: c6.sendto(b'x'*10, ('::1', 5001))),
      res(lambda: cc4.send(b'y'*10)),
      res(lambda: c4.sendto(b'z'*3000, ('127.0.0.1', 5000))),
    ]
    settle()
    out += [
      res(lambda: len(srv4.recv(65535))),
      res(lambda: len(srv6.recv(65535))),
    ]
    for s in (srv4, srv6):
        while res(lambda: s.recv(65535)) != 'EAGAIN': pass
    print(' '.join(out))
${['up', 'down', 'up-again', 'mtu1500', 'mtu1279', 'mtu67', 'mtu65536']
  .map((s, i) => (i === 0 ? `step('${s}')` : `sh('${cmd(s)}'); step('${s}')`))
  .join('\n')}
`;

function cmd(step: string): string {
  if (step === 'down') return 'ip link set lo down';
  if (step === 'up-again') return 'ip link set lo up';
  return `ip link set lo mtu ${step.slice(3)}`;
}

/** What Linux 6.18 printed for PY (uname -r 6.18.44), kept for hosts without network namespaces. */
const LINUX = [
  'up 10 10 10 3000 10 10',
  'down 10 EADDRNOTAVAIL 10 3000 EAGAIN EAGAIN',
  'up-again 10 10 10 3000 10 10',
  'mtu1500 10 10 10 3000 10 10',
  'mtu1279 10 EADDRNOTAVAIL 10 3000 10 EAGAIN',
  'mtu67 ENETUNREACH EADDRNOTAVAIL ENETUNREACH ENETUNREACH EAGAIN EAGAIN',
  'mtu65536 ENETUNREACH EADDRNOTAVAIL ENETUNREACH ENETUNREACH EAGAIN EAGAIN',
];

const res = (n: number) => (n >= 0 ? String(n) : (errnoName(-n) ?? String(n)));

test('UDP over lo while it goes down, up, and through MTUs 1500, 1279, 67: the results Linux gives, step by step', async (t) => {
  const ns = new Namespace();
  const lo4 = v4Mapped(0x7f000001);
  const srv4 = new UdpSock(ns, 4);
  assert.equal(srv4.bind(lo4, 5000), 0);
  const srv6 = new UdpSock(ns, 6);
  assert.equal(srv6.bind(IN6ADDR_LOOPBACK, 5001), 0);
  const c4 = new UdpSock(ns, 4);
  const c6 = new UdpSock(ns, 6);
  const cc4 = new UdpSock(ns, 4);
  assert.equal(cc4.connect(lo4, 5000), 0);
  const lines: string[] = [];
  for (const step of ['up', 'down', 'up-again', 'mtu1500', 'mtu1279', 'mtu67', 'mtu65536']) {
    if (step !== 'up') {
      const r = await ns.exec(cmd(step));
      assert.equal(r.code, 0, `${cmd(step)}: ${r.stderr}`);
    }
    const out = [
      step,
      res(c4.sendto(new Uint8Array(10), lo4, 5000)),
      res(c6.sendto(new Uint8Array(10), IN6ADDR_LOOPBACK, 5001)),
      res(cc4.sendto(new Uint8Array(10), null, 0)),
      res(c4.sendto(new Uint8Array(3000), lo4, 5000)),
    ];
    await ns.kernel.settle();
    for (const s of [srv4, srv6]) {
      const d = s.recv();
      out.push(d === null ? 'EAGAIN' : String(d.data.length));
      while (s.recv() !== null);
    }
    lines.push(out.join(' '));
  }
  assert.deepEqual(lines, LINUX);
  const script = join(tmpdir(), `lonet-downup-${process.pid}.py`);
  writeFileSync(script, PY);
  const linux = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here (compared with the recorded 6.18 output)');
  assert.deepEqual(lines, (linux[0]?.stdout ?? '').trim().split('\n'), linux[0]?.stderr);
});

/** Moves a virtual clock by `ms` in 100 ms steps, letting timers' callbacks run between steps. */
async function advance(k: Kernel, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    await new Promise((r) => setImmediate(r));
    k.virtualClock.advance(100e6);
  }
  await new Promise((r) => setImmediate(r));
}

/**
 * The real side waits for states, not times: lo goes down once echo 2 is answered and up once
 * ping counts echo 3 as sent (its SIGQUIT status line, "2/3 packets"), so a loaded machine
 * cannot move the outage onto another echo. A 2 s interval leaves room for that polling.
 */
const PING_SH = `ping -c 4 -i 2 127.0.0.1 > OUT 2>&1 &
p=$!
until grep -q 'icmp_seq=2 ' OUT; do sleep 0.02; done
ip link set lo down
until grep -q '/3 packets' OUT; do kill -QUIT $p; sleep 0.1; done
ip link set lo up; wait
echo "rc=$?"; cat OUT
ip link set lo down
ping -c 1 -W 1 127.0.0.1 2>&1; echo "rc=$?"
ping -6 -c 1 -W 1 ::1 2>&1; echo "rc=$?"
ip link set lo up
ip link set lo mtu 1000
ping -c 1 -s 2000 127.0.0.1 2>&1; echo "rc=$?"
`;

/** The lines that do not depend on timing: replies by sequence number, summaries, errors, exit codes. */
const stable = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^(rc=|PING|ping:|\d+ packets|\d+ bytes from)/.test(l))
    .map((l) => l.replace(/ time=[\d.]+ ms/, '').replace(/, time \d+ms/, ''));

test('ping through lo going down and up mid-run loses exactly the echo sent while down; a downed or shrunk lo gives Linux’s answers', async (t) => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  let out = '';
  const run = ns.exec('ping -c 4 -i 1 127.0.0.1').then((r) => {
    out += `rc=${r.code}\n${r.stdout}${r.stderr}`;
  });
  await advance(kernel, 1500);
  assert.equal((await ns.exec('ip link set lo down')).code, 0);
  await advance(kernel, 1000);
  assert.equal((await ns.exec('ip link set lo up')).code, 0);
  await advance(kernel, 5000);
  await run;
  for (const line of [
    'ip link set lo down',
    'ping -c 1 -W 1 127.0.0.1',
    'ping -6 -c 1 -W 1 ::1',
    'ip link set lo up',
    'ip link set lo mtu 1000',
    'ping -c 1 -s 2000 127.0.0.1',
  ]) {
    const p = ns.exec(line);
    await advance(kernel, 2000);
    const r = await p;
    if (line.startsWith('ping')) out += `${r.stdout}${r.stderr}rc=${r.code}\n`;
  }
  const mine = stable(out);
  assert.deepEqual(mine, [
    'rc=0',
    'PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.',
    '64 bytes from 127.0.0.1: icmp_seq=1 ttl=64',
    '64 bytes from 127.0.0.1: icmp_seq=2 ttl=64',
    '64 bytes from 127.0.0.1: icmp_seq=4 ttl=64',
    '4 packets transmitted, 3 received, 25% packet loss',
    'PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.',
    '1 packets transmitted, 0 received, 100% packet loss',
    'rc=1',
    'ping: connect: Cannot assign requested address',
    'rc=2',
    'PING 127.0.0.1 (127.0.0.1) 2000(2028) bytes of data.',
    '2008 bytes from 127.0.0.1: icmp_seq=1 ttl=64',
    '1 packets transmitted, 1 received, 0% packet loss',
    'rc=0',
  ]);
  const dir = tmpdir();
  const script = join(dir, `lonet-pingdown-${process.pid}.sh`);
  writeFileSync(script, PING_SH.replaceAll('OUT', join(dir, `lonet-pingdown-${process.pid}.out`)));
  const linux = inLinuxNetns(['ip link set lo up'], [`sh ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here (compared with the recorded output)');
  assert.deepEqual(mine, stable(linux[0]?.stdout ?? ''));
});
