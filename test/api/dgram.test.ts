import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Socket } from '../../src/api/dgram.js';
import { Namespace } from '../../src/api/namespace.js';
import { type DgramLike, dgramScenario } from './dgram-scenario.js';

const bytes = (n: number, seed = 0) => Buffer.from(new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff));

async function bound(s: Socket, port: number, address: string): Promise<number> {
  s.bind(port, address);
  await once(s, 'listening');
  return s.address().port;
}

function udpRow(snmp: string): { RcvbufErrors: number; OutDatagrams: number } {
  const rows = snmp.split('\n').filter((l) => l.startsWith('Udp: '));
  const names = (rows[0] ?? '').split(' ').slice(1);
  const values = (rows[1] ?? '').split(' ').slice(1).map(Number);
  const row = Object.fromEntries(names.map((n, i) => [n, values[i] as number]));
  return { RcvbufErrors: row.RcvbufErrors ?? Number.NaN, OutDatagrams: row.OutDatagrams ?? Number.NaN };
}

test('the same dgram program gives the same events, arguments and order on node:dgram and on ns.dgram', async () => {
  const real = await dgramScenario(dgram as unknown as DgramLike);
  const ns = new Namespace();
  const lonet = await dgramScenario(ns.dgram as unknown as DgramLike);
  assert.ok(real.length > 80, 'the program ran to its end on the kernel');
  assert.deepEqual(lonet, real);
});

test('UDP echo over 127.0.0.1 and ::1 keeps every byte, 0 to 65507 bytes (65527 over IPv6); one more is EMSGSIZE', async () => {
  const ns = new Namespace();
  for (const [type, addr, max] of [
    ['udp4', '127.0.0.1', 65507],
    ['udp6', '::1', 65527],
  ] as const) {
    const srv = ns.dgram.createSocket(type);
    srv.on('message', (m, r) => srv.send(m, r.port, r.address));
    const port = await bound(srv, 0, addr);
    const cli = ns.dgram.createSocket(type);
    const sizes = [0, 1, 2, 100, 1472, 1473, 9000, 16384, 65000, 65507, max];
    for (const [i, n] of sizes.entries()) {
      const sent = bytes(n, i);
      const [reply, rinfo] = await new Promise<[Buffer, { port: number; address: string; size: number }]>(
        (resolve, reject) => {
          cli.once('message', (m, r) => resolve([m, r]));
          cli.send(sent, port, addr, (err) => err && reject(err));
        },
      );
      assert.equal(reply.length, n);
      assert.ok(reply.equals(sent), `${type} ${n} bytes come back identical`);
      assert.deepEqual([rinfo.address, rinfo.port, rinfo.size], [addr, port, n]);
    }
    const err = await new Promise<Error | null>((resolve) => cli.send(bytes(max + 1), port, addr, resolve));
    assert.equal((err as Error & { code: string }).code, 'EMSGSIZE');
    assert.equal(err?.message, `send EMSGSIZE ${addr}:${port}`);
    cli.close();
    srv.close();
  }
});

test('a second bind to the same address and port is EADDRINUSE, emitted as Node does; ss -uan lists the bound socket', async () => {
  const ns = new Namespace();
  const a = ns.dgram.createSocket('udp4');
  const port = await bound(a, 0, '127.0.0.1');
  const b = ns.dgram.createSocket('udp4');
  b.bind(port, '127.0.0.1');
  const [err] = (await once(b, 'error')) as [Error & Record<string, unknown>];
  assert.deepEqual(
    [err.code, err.errno, err.syscall, err.address, err.port],
    ['EADDRINUSE', -98, 'bind', '127.0.0.1', port],
  );
  assert.equal(err.message, `bind EADDRINUSE 127.0.0.1:${port}`);
  const v6 = ns.dgram.createSocket({ type: 'udp6', ipv6Only: true });
  const port6 = await bound(v6, 0, '::1');
  const { stdout } = await ns.exec('ss -uan');
  assert.match(stdout, new RegExp(`UNCONN 0 +0 +127\\.0\\.0\\.1:${port} +0\\.0\\.0\\.0:\\*`));
  assert.match(stdout, new RegExp(`UNCONN 0 +0 +\\[::1\\]:${port6} +\\[::\\]:\\*`));
  for (const s of [a, b, v6]) s.close();
  assert.equal((await ns.exec('ss -uanH')).stdout, '', 'closed sockets are gone');
});

test('a burst of 20,000 datagrams to a receiver that cannot keep up: what fits in rcvbuf arrives, the rest is RcvbufErrors', async () => {
  const count = async (d: DgramLike, snmp: () => Promise<string> | string) => {
    const before = udpRow(await snmp());
    const rx = d.createSocket('udp4') as unknown as Socket;
    let received = 0;
    let receivedBytes = 0;
    rx.on('message', (m) => {
      received++;
      receivedBytes += m.length;
    });
    const port = await bound(rx, 0, '127.0.0.1');
    const tx = d.createSocket('udp4') as unknown as Socket;
    await bound(tx, 0, '127.0.0.1');
    const payload = Buffer.alloc(1000, 0x61);
    // One synchronous burst: the receiving side cannot run until it is over, as in one process.
    await new Promise((sent) => {
      for (let i = 0; i < 20000; i++) tx.send(payload, port, '127.0.0.1', i === 19999 ? sent : undefined);
    });
    // Then let the receiver read whatever its buffer held: every datagram is either read or
    // counted as dropped (on the kernel's side, other programs' UDP could blur the global
    // counters; after 20 s of no progress the comparison below is skipped).
    let after = udpRow(await snmp());
    for (let idle = 0; received + after.RcvbufErrors - before.RcvbufErrors < 20000 && idle < 2000; idle++) {
      const was = received;
      await new Promise((r) => setTimeout(r, 10));
      after = udpRow(await snmp());
      if (received !== was) idle = 0;
    }
    rx.close();
    tx.close();
    return {
      received,
      receivedBytes,
      rcvbufErrors: after.RcvbufErrors - before.RcvbufErrors,
      out: after.OutDatagrams - before.OutDatagrams,
    };
  };
  const ns = new Namespace();
  const lonet = await count(ns.dgram as unknown as DgramLike, async () => (await ns.exec('cat /proc/net/snmp')).stdout);
  assert.equal(lonet.out, 20000);
  assert.equal(lonet.received + lonet.rcvbufErrors, 20000, 'nothing unaccounted for');
  assert.equal(lonet.receivedBytes, lonet.received * 1000);
  // 212992 bytes of rcvbuf / 2304 bytes of truesize per 1000-byte datagram, as Linux 6.15+ counts it.
  assert.equal(lonet.received, 92);
  // The kernel on this machine, through node:dgram: the same split.
  const { readFileSync } = await import('node:fs');
  const real = await count(dgram as unknown as DgramLike, () => readFileSync('/proc/net/snmp', 'utf8'));
  if (real.received + real.rcvbufErrors === 20000) assert.equal(lonet.received, real.received);
});

test('ref/unref: a bound socket keeps the process alive until closed or unref()ed, as libuv does', async () => {
  const api = fileURLToPath(new URL('../../src/api/namespace.ts', import.meta.url));
  const argv = (body: string) => [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `import { Namespace } from ${JSON.stringify(api)};
     const ns = new Namespace();
     const s = ns.dgram.createSocket('udp4');
     ${body}`,
  ];
  // Programs that end: however long a loaded machine takes to start them.
  const run = (body: string) => spawnSync(process.execPath, argv(body), { encoding: 'utf8', timeout: 120_000 });
  const stays = run(`s.bind(0, () => { setTimeout(() => { console.log('still here'); s.close(); }, 300); });`);
  assert.equal(stays.stdout, 'still here\n');
  // A program that must not end: once everything but the socket is done (its last timer has
  // fired and said so), it is still running a while later.
  const held = spawn(process.execPath, argv(`s.bind(0, () => setTimeout(() => console.log('idle'), 10));`), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let exited = false;
  held.on('exit', () => {
    exited = true;
  });
  const [idle] = (await once(held.stdout, 'data')) as [Buffer];
  assert.equal(idle.toString(), 'idle\n');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(exited, false, 'a ref’d bound socket holds the loop open');
  held.kill();
  const unrefd = run(`s.bind(0, () => { s.unref(); console.log('bound'); });`);
  assert.deepEqual([unrefd.status, unrefd.stdout], [0, 'bound\n']);
  const unbound = run(`console.log('never bound');`);
  assert.equal(unbound.status, 0);
  const closed = run(`s.bind(0, () => s.close(() => console.log('closed')));`);
  assert.deepEqual([closed.status, closed.stdout], [0, 'closed\n']);
});

test('createSocket options: buffer sizes are doubled and clamped as Linux does, ipv6Only, reuseAddr', async () => {
  const ns = new Namespace();
  const s = ns.dgram.createSocket({ type: 'udp4', recvBufferSize: 5000, sendBufferSize: 9000 });
  assert.throws(() => s.getRecvBufferSize(), {
    code: 'ERR_SOCKET_BUFFER_SIZE',
    message: 'Could not get or set buffer size: uv_recv_buffer_size returned EBADF (bad file descriptor)',
  });
  await bound(s, 0, '127.0.0.1');
  assert.deepEqual([s.getRecvBufferSize(), s.getSendBufferSize()], [10000, 18000]);
  s.setRecvBufferSize(1000);
  assert.equal(s.getRecvBufferSize(), 2304, 'SOCK_MIN_RCVBUF');
  s.setRecvBufferSize(100_000_000);
  assert.equal(s.getRecvBufferSize(), 8388608, 'rmem_max doubled');
  assert.throws(() => s.setRecvBufferSize(-1), { code: 'ERR_SOCKET_BAD_BUFFER_SIZE' });
  const r1 = ns.dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const r2 = ns.dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const port = await bound(r1, 0, '127.0.0.1');
  assert.equal(await bound(r2, port, '127.0.0.1'), port);
  const only6 = ns.dgram.createSocket({ type: 'udp6', ipv6Only: true });
  const p6 = await bound(only6, 0, '::');
  const v4 = ns.dgram.createSocket('udp4');
  assert.equal(await bound(v4, p6, '0.0.0.0'), p6, 'a v6only socket leaves the IPv4 port free');
  for (const x of [s, r1, r2, only6, v4]) x.close();
});

test('broadcast needs setBroadcast(true): EACCES before, delivered after', async () => {
  const ns = new Namespace();
  const rx = ns.dgram.createSocket('udp4');
  const port = await bound(rx, 0, '0.0.0.0');
  const tx = ns.dgram.createSocket('udp4');
  await bound(tx, 0, '0.0.0.0');
  const err = await new Promise<Error | null>((r) => tx.send('b', port, '127.255.255.255', r));
  assert.equal((err as Error & { code: string }).code, 'EACCES');
  tx.setBroadcast(true);
  const got = once(rx, 'message');
  tx.send('b', port, '127.255.255.255');
  const [msg] = (await got) as [Buffer];
  assert.equal(msg.toString(), 'b');
  rx.close();
  tx.close();
});

test('Symbol.asyncDispose closes the socket once, as node:dgram’s does', async () => {
  const ns = new Namespace();
  const run = async (d: DgramLike) => {
    const s = d.createSocket('udp4') as unknown as Socket & Record<symbol, () => Promise<void>>;
    const events: string[] = [];
    s.on('close', () => events.push('close'));
    s.bind(0);
    await once(s, 'listening');
    const dispose = s[Symbol.asyncDispose] as () => Promise<void>;
    const p = dispose.call(s);
    events.push('called');
    await p;
    events.push('resolved');
    await dispose.call(s);
    events.push('again');
    return events;
  };
  assert.deepEqual(await run(ns.dgram as unknown as DgramLike), await run(dgram as unknown as DgramLike));
});

test('multicast socket options and sendto: the same results and errors on node:dgram and ns.dgram', async () => {
  const run = async (d: DgramLike) => {
    const log: string[] = [];
    const attempt = (what: string, fn: () => unknown) => {
      try {
        log.push(`${what} -> ${String(fn())}`);
      } catch (e) {
        log.push(`${what} !! ${(e as NodeJS.ErrnoException).code} ${(e as Error).message}`);
      }
    };
    const s4 = d.createSocket('udp4') as unknown as dgram.Socket;
    attempt('loopback before bind', () => s4.setMulticastLoopback(true));
    attempt('ttl before bind', () => s4.setMulticastTTL(3));
    await new Promise<void>((r) => s4.bind(0, '127.0.0.1', () => r()));
    attempt('ttl 16', () => s4.setMulticastTTL(16));
    attempt('ttl 1000', () => s4.setMulticastTTL(1000));
    attempt('ttl foo', () => s4.setMulticastTTL('foo' as never));
    attempt('loopback 16', () => s4.setMulticastLoopback(16 as never));
    for (const a of ['0.0.0.0', '127.0.0.1', '224.0.0.2', '::', 1 as never])
      attempt(`interface ${a}`, () => s4.setMulticastInterface(a));
    const sendto = (s4 as unknown as { sendto: (...a: unknown[]) => void }).sendto.bind(s4);
    attempt('sendto no args', () => sendto());
    attempt('sendto bad address', () => sendto('buffer', 1, 1, 10, false, 'cb'));
    s4.close();
    attempt('interface after close', () => s4.setMulticastInterface('0.0.0.0'));
    const s6 = d.createSocket('udp6') as unknown as dgram.Socket;
    await new Promise<void>((r) => s6.bind(0, '::1', () => r()));
    for (const a of ['::%lo', '::', '', 'undefined']) attempt(`interface6 ${a}`, () => s6.setMulticastInterface(a));
    s6.close();
    return log;
  };
  const kernel = await run(dgram as unknown as DgramLike);
  assert.deepEqual(await run(new Namespace().dgram as unknown as DgramLike), kernel);
});

test('group membership: joins, drops, source filters, delivery on lo and `ip maddr` as in a lo-only Linux namespace', async (t) => {
  const fixture = fileURLToPath(new URL('../fixtures/dgram-membership.mjs', import.meta.url));
  const real = spawnSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && ${process.execPath} ${fixture}`], {
    encoding: 'utf8',
  });
  if (real.status !== 0) {
    t.skip(`no Linux network namespace here: ${real.stderr}`);
    return;
  }
  const kernel = JSON.parse(real.stdout) as string[];
  const { membership } = (await import(fixture)) as {
    membership: (d: unknown, maddr: (cmd: string) => Promise<string>) => Promise<string[]>;
  };
  const ns = new Namespace();
  const lonet = await membership(ns.dgram, async (cmd) => {
    const r = await ns.exec(cmd);
    return r.stdout + r.stderr;
  });
  assert.ok(
    kernel.some((l) => l.includes('r2 c from 127.0.0.1')),
    'the kernel delivered to the source-filtered member',
  );
  assert.deepEqual(lonet, kernel);
});
