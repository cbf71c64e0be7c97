/**
 * TCP across namespaces on one kernel: a listener in A is not there for B. B connecting to
 * 127.0.0.1:port reaches B's own stack, which answers RST (ECONNREFUSED, as Linux says);
 * each namespace has its own port space, its own /proc/net/tcp, ss output and Tcp counters.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import type { NetSystemError, Socket } from '../../src/api/net.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { procRead } from '../../src/net/procfs.js';
import { inLinuxNetns } from '../helpers/linux.js';
import { mib } from './tcp-drive.js';

test('a listener in namespace A is unreachable from B: ECONNREFUSED there; ports, sockets, /proc/net/tcp and ss never cross', async (t) => {
  const kernel = new Kernel({ cpus: 2 });
  const a = new Namespace({ kernel });
  const b = new Namespace({ kernel });
  const srvA = a.net.createServer((s) => (s as Socket).end('from A\n'));
  await new Promise<void>((r) => srvA.listen(8000, '127.0.0.1', () => r()));
  const err = await new Promise<NetSystemError>((resolve, reject) => {
    const s = b.net.connect(8000, '127.0.0.1');
    s.on('connect', () => reject(new Error('B reached A')));
    s.on('error', (e) => resolve(e as NetSystemError));
  });
  assert.deepEqual(
    [err.message, err.code, err.errno, err.syscall, err.address, err.port],
    ['connect ECONNREFUSED 127.0.0.1:8000', 'ECONNREFUSED', -111, 'connect', '127.0.0.1', 8000],
  );
  assert.equal(mib(b, 'snmp', 'Tcp').OutRsts, 1, "B's own stack sent the RST");
  assert.equal(mib(b, 'snmp', 'Tcp').AttemptFails, 1);
  assert.deepEqual([mib(a, 'snmp', 'Tcp').InSegs, mib(a, 'snmp', 'Tcp').PassiveOpens], [0, 0], 'A saw nothing');

  // The same port is free in B, and each side's clients reach their own server.
  const srvB = b.net.createServer((s) => (s as Socket).end('from B\n'));
  await new Promise<void>((r) => srvB.listen(8000, '127.0.0.1', () => r()));
  const fetchLine = (ns: Namespace) =>
    new Promise<string>((resolve, reject) => {
      let got = '';
      const s = ns.net.connect(8000, '127.0.0.1');
      s.setEncoding('utf8');
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
  assert.deepEqual(await Promise.all([fetchLine(a), fetchLine(b), fetchLine(a)]), ['from A\n', 'from B\n', 'from A\n']);

  // Each namespace lists only its own sockets. Once the closes are done (the FIN's ACK waits for
  // the client's own FIN, as in Linux's pingpong mode), A keeps its listener and a TIME_WAIT per
  // connection its server closed first.
  const rows = (ns: Namespace) =>
    (procRead(ns, '/proc/net/tcp') as string)
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '');
  // Until no socket is between states (FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING): a state, not 300 ms.
  const moving = (ns: Namespace) =>
    rows(ns).some((l) => ['04', '05', '08', '09', '0B'].includes(l.trim().split(/\s+/)[3] as string));
  for (let i = 0; i < 20_000 && (moving(a) || moving(b)); i++) await new Promise((r) => setTimeout(r, 5));
  const inodes = (ns: Namespace) => new Set(rows(ns).map((l) => l.trim().split(/\s+/)[9]));
  assert.ok(
    rows(a).some((l) => / 0100007F:1F40 00000000:0000 0A /.test(l)),
    'A lists its listener',
  );
  assert.equal(rows(a).filter((l) => / 0A /.test(l)).length, 1, 'and only one');
  assert.equal(rows(b).filter((l) => / 0A /.test(l)).length, 1, 'B its own');
  for (const ino of inodes(a)) if (ino !== '0') assert.ok(!inodes(b).has(ino), `inode ${ino} in both`);
  const states = (ns: Namespace) => rows(ns).map((l) => l.trim().split(/\s+/)[3]);
  assert.deepEqual(states(a), ['0A', '06', '06'], 'A: the listener and two TIME_WAITs');
  assert.deepEqual(states(b), ['0A', '06'], 'B: the listener and one TIME_WAIT');
  srvA.close();
  const ssA = (await a.exec('ss -tan')).stdout;
  const ssB = (await b.exec('ss -tan')).stdout;
  assert.doesNotMatch(ssA, /LISTEN/, "A's listener is closed");
  assert.match(ssB, /LISTEN\s+0\s+511\s+127\.0\.0\.1:8000/, "B's stays");
  srvB.close();

  // Linux: a listener in one namespace, a connect from a fresh one (unshare -n).
  const script = join(tmpdir(), `lonet-tcp-iso-${process.pid}.py`);
  writeFileSync(
    script,
    [
      'import socket, subprocess',
      "l = socket.socket(); l.bind(('127.0.0.1', 8000)); l.listen(1)",
      'probe = "import socket,errno; print(errno.errorcode[socket.socket().connect_ex((\'127.0.0.1\', 8000))])"',
      "print(subprocess.run(['unshare', '-n', 'sh', '-c', 'ip link set lo up; python3 -c \"' + probe + '\"'], capture_output=True, text=True).stdout.strip())",
      "print(__import__('errno').errorcode.get(socket.socket().connect_ex(('127.0.0.1', 8000)), 'OK'))",
    ].join('\n'),
  );
  const linux = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.equal(linux[0]?.stdout, 'ECONNREFUSED\nOK\n', linux[0]?.stderr);
});
