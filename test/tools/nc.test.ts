import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { haveBinary, inLinuxNetns } from '../helpers/linux.js';

const LO = v4Mapped(0x7f000001);

function udpRow(snmp: string): Record<string, number> {
  const rows = snmp.split('\n').filter((l) => l.startsWith('Udp: '));
  const names = (rows[0] ?? '').split(' ').slice(1);
  const values = (rows[1] ?? '').split(' ').slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? Number.NaN]));
}

/** Resolves once `ss -uanH` shows what `match` accepts: a state, however long a loaded machine takes. */
async function until(ns: Namespace, match: (out: string) => boolean): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (match((await ns.exec('ss -uanH')).stdout)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('ss -uanH never showed the state');
}

/** Resolves once something is bound to `port` (the listener has started). */
const bound = (ns: Namespace, port: number) => until(ns, (out) => out.includes(`:${port} `));

/** Resolves once the listener on `port` has connected to its first peer. */
const connected = (ns: Namespace, port: number) => until(ns, (out) => new RegExp(`^ESTAB .*:${port} `, 'm').test(out));

test('nc -u -l and nc -u talk both ways: the client sends its standard input, the listener answers with its own', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const stop = new AbortController();
  const listener = ns.exec('nc -u -l 5000', { input: 'pong\n', signal: stop.signal });
  await bound(ns, 5000);
  const client = ns.exec('nc -u -w1 127.0.0.1 5000', { input: 'hello\nworld\n' });
  // The client has its answer; one idle second later (-w1) it ends, with status 0.
  await connected(ns, 5000);
  const seen = (await ns.exec('ss -uan')).stdout;
  assert.match(seen, /ESTAB 0 +0 +127\.0\.0\.1:5000 +127\.0\.0\.1:\d+/, 'the listener connected to its first peer');
  kernel.virtualClock.advance(1e9);
  assert.deepEqual(await client, { code: 0, stdout: 'pong\n', stderr: '' });
  // The listener's peer is gone: its next datagram to it would be refused; it still waits (no -w), so interrupt it.
  const snmp = udpRow((await ns.exec('cat /proc/net/snmp')).stdout);
  assert.equal(snmp.InDatagrams, 2);
  assert.equal(snmp.OutDatagrams, 2);
  const ac = new AbortController();
  const again = ns.exec('nc -u -l 5001', { signal: ac.signal });
  await bound(ns, 5001);
  ac.abort();
  assert.equal((await again).code, 130, 'Ctrl-C');
  stop.abort();
  assert.deepEqual(await listener, { code: 130, stdout: 'hello\nworld\n', stderr: '' });
});

test('a closed port ends nc -u quietly with status 0, as netcat-openbsd does, and counts NoPorts', async () => {
  const ns = new Namespace();
  const r = await ns.exec('nc -u 127.0.0.1 9', { input: 'anyone?\n' });
  assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
  assert.equal(udpRow((await ns.exec('cat /proc/net/snmp')).stdout).NoPorts, 1);
});

test('each read of standard input is one datagram, at most 16384 bytes (netcat BUFSIZE); -q0 quits at EOF', async () => {
  const ns = new Namespace();
  const rx = new UdpSock(ns, 4);
  assert.equal(rx.bind(LO, 7000), 0);
  const chunks = async function* () {
    yield 'first line\n';
    yield new Uint8Array(40000);
    yield 'last\n';
  };
  const r = await ns.exec('nc -u -q0 -p 6000 127.0.0.1 7000', { input: chunks() });
  assert.equal(r.code, 0);
  const sizes: number[] = [];
  let ports = new Set<number>();
  for (let d = rx.recv(); d !== null; d = rx.recv()) {
    sizes.push(d.data.byteLength);
    ports = ports.add(d.port);
  }
  assert.deepEqual(sizes, [11, 16384, 16384, 7232, 5]);
  assert.deepEqual([...ports], [6000], '-p chose the source port');
});

test('the shell hands standard input on: what one command reads is gone for the next; background jobs read nothing', async () => {
  const ns = new Namespace();
  const rx = new UdpSock(ns, 4);
  rx.bind(LO, 7001);
  const input = async function* () {
    yield 'one\n';
    yield 'two\n';
  };
  await ns.exec('nc -u -q0 127.0.0.1 7001; nc -u -q0 127.0.0.1 7001; nc -u -q0 127.0.0.1 7001 &', {
    input: input(),
  });
  const got: string[] = [];
  for (let d = rx.recv(); d !== null; d = rx.recv()) got.push(new TextDecoder().decode(d.data));
  assert.deepEqual(got, ['one\n', 'two\n']);
});

test('nc -u over ::1 and -6 listeners', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const stop = new AbortController();
  const listener = ns.exec('nc -6 -u -l 5008', { signal: stop.signal });
  await bound(ns, 5008);
  assert.match(
    (await ns.exec('ss -uan')).stdout,
    /UNCONN 0 +0 +\*:5008 +\*:\*/,
    'a dual-stack wildcard, as ss shows it',
  );
  const client = ns.exec('nc -u -q0 ::1 5008', { input: 'six\n' });
  assert.equal((await client).code, 0);
  await connected(ns, 5008);
  assert.match((await ns.exec('ss -uan')).stdout, /ESTAB 0 +0 +\[::1\]:5008 +\[::1\]:\d+/);
  stop.abort();
  assert.equal((await listener).stdout, 'six\n');
});

const ERRORS = [
  'nc -u',
  'nc -u 127.0.0.1',
  'nc -u -l',
  'nc -u 127.0.0.1 70000',
  'nc -u 127.0.0.1 0',
  'nc -u 127.0.0.1 abc',
  'nc -n -u localhost 5000',
  'nc -u -s 10.1.1.1 127.0.0.1 5000',
  'nc -u -w abc 127.0.0.1 5000',
  'nc -u -j',
];

test('argument errors: the messages and exit codes of netcat-openbsd', async (t) => {
  const ns = new Namespace();
  const mine = [];
  for (const cmd of ERRORS) mine.push(await ns.exec(cmd));
  for (const r of mine) assert.equal(r.code, 1);
  if (!haveBinary('nc')) return t.skip('no nc here');
  const dir = mkdtempSync(join(tmpdir(), 'lonet-nc-'));
  // Each under a timeout with /dev/null as input, so a command that did start cannot hang.
  const lines = ERRORS.map(
    (cmd, i) => `timeout 2 ${cmd} </dev/null >${dir}/${i}.out 2>${dir}/${i}.err; echo $? >${dir}/${i}.rc`,
  );
  writeFileSync(join(dir, 'run.sh'), `${lines.join('\n')}\n`);
  const real = inLinuxNetns(['ip link set lo up'], [`sh ${dir}/run.sh`]);
  if (real === undefined) return t.skip('no Linux network namespaces here');
  const { readFileSync } = await import('node:fs');
  for (const [i, cmd] of ERRORS.entries()) {
    const rc = Number(readFileSync(join(dir, `${i}.rc`), 'utf8'));
    const err = readFileSync(join(dir, `${i}.err`), 'utf8');
    assert.deepEqual({ code: mine[i]?.code, stderr: mine[i]?.stderr }, { code: rc, stderr: err }, cmd);
  }
});

test('a real nc -u -l in a Linux namespace and lonet see the same bytes from the same client input', async (t) => {
  if (!haveBinary('nc')) return t.skip('no nc here');
  const dir = mkdtempSync(join(tmpdir(), 'lonet-nc-'));
  writeFileSync(
    join(dir, 'run.sh'),
    `timeout 60 nc -u -l 5000 >${dir}/l.out &
l=$!
until ss -uanH | grep -q ':5000 '; do sleep 0.02; done
printf 'hello\\nworld\\n' | nc -u -w1 127.0.0.1 5000; echo $? >${dir}/c.rc
kill $l; wait
`,
  );
  const real = inLinuxNetns(['ip link set lo up'], [`sh ${dir}/run.sh`]);
  if (real === undefined) return t.skip('no Linux network namespaces here');
  const { readFileSync } = await import('node:fs');
  const kernel = new Kernel({ clock: 'virtual' });
  const ns = new Namespace({ kernel });
  const ac = new AbortController();
  const listener = ns.exec('nc -u -l 5000', { signal: ac.signal });
  await bound(ns, 5000);
  const client = ns.exec('nc -u -w1 127.0.0.1 5000', { input: 'hello\nworld\n' });
  await connected(ns, 5000);
  kernel.virtualClock.advance(1e9);
  const c = await client;
  ac.abort();
  const l = await listener;
  assert.equal(l.stdout, readFileSync(join(dir, 'l.out'), 'utf8'));
  assert.equal(c.code, Number(readFileSync(join(dir, 'c.rc'), 'utf8')));
});
