import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';
import { haveBinary, inLinuxNetns } from '../helpers/linux.js';

/** Waits until `ss ARGS` prints something `match` accepts: a state, however long a loaded machine takes. */
async function until(ns: Namespace, args: string, match: (out: string) => boolean): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (match((await ns.exec(`ss ${args}`)).stdout)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`ss ${args} never showed the state`);
}

/** Waits until ss shows a TCP listener on `port`. */
const listening = (ns: Namespace, port: number) => until(ns, '-tlnH', (out) => out.includes(`:${port} `));

test('nc -l and nc over TCP: both directions; -N sends the FIN, the listener ends at the peer FIN, the client once stdin and netin are gone', async () => {
  const ns = new Namespace();
  const server = ns.exec('nc -l 5000', { input: 'pong\n' });
  await listening(ns, 5000);
  const client = await ns.exec('nc -N 127.0.0.1 5000', { input: 'hello\nworld\n' });
  const s = await server;
  assert.deepEqual([s.code, s.stdout, s.stderr], [0, 'hello\nworld\n', '']);
  assert.deepEqual([client.code, client.stdout, client.stderr], [0, 'pong\n', '']);
  // The client closed second: its side holds TIME-WAIT, as on Linux.
  assert.match((await ns.exec('ss -tanH state time-wait')).stdout, /127\.0\.0\.1:\d+ +127\.0\.0\.1:5000/);
});

test('without -N, EOF on standard input sends no FIN: the listener keeps waiting until -q ends the client', async () => {
  const ns = new Namespace();
  const ac = new AbortController();
  const server = ns.exec('nc -l 5001', { signal: ac.signal });
  await listening(ns, 5001);
  const client = ns.exec('nc 127.0.0.1 5001', { input: 'x\n', signal: ac.signal });
  await until(ns, '-tnH state established', (out) => out.trim().split('\n').length === 2);
  // The client has read its input and its EOF by now on an idle machine; a FIN would show.
  await new Promise((r) => setTimeout(r, 100));
  // Both ends still ESTAB: no FIN went out at EOF.
  const est = (await ns.exec('ss -tnH state established')).stdout.trim().split('\n');
  assert.equal(est.length, 2, est.join('\n'));
  ac.abort();
  assert.equal((await server).stdout, 'x\n');
  assert.equal((await client).code, 130);
  // -q 0 quits at EOF, closing the socket: the listener sees the FIN and ends.
  const server2 = ns.exec('nc -l 5002');
  await listening(ns, 5002);
  assert.equal((await ns.exec('nc -q0 127.0.0.1 5002', { input: 'bye\n' })).code, 0);
  assert.deepEqual([(await server2).code, (await server2).stdout], [0, 'bye\n']);
});

test('a large transfer through nc arrives whole (send buffer back-pressure)', async () => {
  const ns = new Namespace();
  const server = ns.exec('nc -l 5003');
  await listening(ns, 5003);
  const line = `${'0123456789abcdef'.repeat(63)}\n`;
  const big = line.repeat(1024);
  const client = await ns.exec('nc -N 127.0.0.1 5003', { input: big });
  assert.equal(client.code, 0);
  const s = await server;
  assert.equal(s.stdout.length, big.length);
  assert.equal(s.stdout, big);
});

test('connection refused: nc fails quietly with status 1, as netcat-openbsd does without -v', async (t) => {
  const ns = new Namespace();
  const mine = await ns.exec('nc 127.0.0.1 9');
  assert.deepEqual([mine.code, mine.stdout, mine.stderr], [1, '', '']);
  const six = await ns.exec('nc -6 ::1 9');
  assert.deepEqual([six.code, six.stderr], [1, '']);
  // A source port another socket holds.
  const holder = new TcpSock(ns, 4);
  assert.equal(holder.bind(v4Mapped(0x7f000001), 7022), 0);
  assert.equal(holder.listen(1), 0);
  const busy = await ns.exec('nc -p 7022 127.0.0.1 9');
  assert.deepEqual([busy.code, busy.stderr], [1, 'nc: bind failed: Address already in use\n']);
  holder.close();
  if (!haveBinary('nc')) return t.skip('no netcat here');
  const real = inLinuxNetns(['ip link set lo up'], ['nc 127.0.0.1 9', 'nc -6 ::1 9']);
  if (real === undefined) return t.skip('no Linux network namespaces here');
  assert.deepEqual([real[0]?.code, real[0]?.stdout, real[0]?.stderr], [1, '', '']);
  assert.deepEqual([real[1]?.code, real[1]?.stderr], [1, '']);
});

test('-s and -p choose the source; -l HOST PORT binds that address; -w ends an idle session', async () => {
  const ns = new Namespace();
  const ac = new AbortController();
  const server = ns.exec('nc -l 127.0.0.1 5004', { signal: ac.signal });
  await listening(ns, 5004);
  assert.match((await ns.exec('ss -tlnH')).stdout, /127\.0\.0\.1:5004 +0\.0\.0\.0:\*/);
  const client = ns.exec('nc -w 1 -s 127.0.0.2 -p 40000 127.0.0.1 5004', { input: 'from .2\n' });
  await until(ns, '-tnH state established', (out) => /127\.0\.0\.2:40000 +127\.0\.0\.1:5004/.test(out));
  // Nothing moves for a second: -w 1 closes the client, and the listener sees the FIN.
  const c = await client;
  assert.equal(c.code, 0);
  const s = await server;
  assert.deepEqual([s.code, s.stdout], [0, 'from .2\n']);
});
