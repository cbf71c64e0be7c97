/**
 * ns.net over AF_UNIX stream sockets: `listen(path)` and `connect({ path })` as node:net
 * does with a /tmp path on this machine (events, error shapes), buffering as Linux 6.18
 * accounts it, nothing on lo, and `ss -x` as Linux prints it for the same sockets.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as kernelNet from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import type { Socket } from '../../src/api/net.js';
import { UnixSock, unixSkbSize } from '../../src/socket/unix.js';
import { haveBinary, inLinuxNetns } from '../helpers/linux.js';

type NetLike = typeof kernelNet;
type Logs = Record<string, string[]>;
type SysErr = NodeJS.ErrnoException & { address?: string; port?: number };

const tmpPath = () => join(tmpdir(), `lonet-ipc-${randomBytes(4).toString('hex')}.sock`);

/**
 * Runs `scenario` on node:net (a real /tmp socket) and on ns.net with the same path; each
 * named log (one per socket) must read the same. Across sockets the interleaving of one
 * side's 'close' with the other's 'end' may differ by a loop turn (see the report).
 */
async function same(scenario: (net: NetLike, path: string, logs: Logs) => Promise<void>): Promise<void> {
  const path = tmpPath();
  const run = async (net: NetLike) => {
    const logs: Logs = {};
    await scenario(net, path, logs);
    return logs;
  };
  const kernel = await run(kernelNet);
  const lonet = await run(new Namespace().net as unknown as NetLike);
  assert.deepEqual(lonet, kernel);
}

const push = (logs: Logs, who: string, line: string) => {
  logs[who] ??= [];
  logs[who].push(line);
};

const closed = (emitter: NodeJS.EventEmitter) => new Promise<void>((r) => emitter.once('close', () => r()));

test('an IPC echo server: connection, connect, data, half-close, close — as node:net on a /tmp path', () =>
  same(async (net, path, logs) => {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => {
      const a = s.address() as object;
      push(logs, 'server', `connection ${JSON.stringify(a)} ${s.remoteAddress} ${s.remotePort} ${s.localAddress}`);
      s.on('data', (d) => {
        push(logs, 'server', `data ${d}`);
        s.write(d);
      });
      s.on('end', () => {
        push(logs, 'server', `end writable=${s.writable}`);
        s.end('bye');
      });
      s.on('close', (h) => push(logs, 'server', `close ${h}`));
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    push(logs, 'main', `listening ${srv.address() === path} listening=${srv.listening}`);
    const c = net.connect(path);
    push(logs, 'client', `connecting=${c.connecting} ${c.readyState} pending=${c.pending} ${c.remoteAddress}`);
    c.on('connect', () => {
      push(logs, 'client', `connect ${JSON.stringify(c.address())} ${c.readyState} ${c.remoteFamily}`);
      c.write('hi');
      c.end();
    });
    c.on('ready', () => push(logs, 'client', 'ready'));
    c.on('data', (d) => push(logs, 'client', `data ${d}`));
    c.on('finish', () => push(logs, 'client', `finish ${c.readyState}`));
    c.on('end', () => push(logs, 'client', 'end'));
    await closed(c);
    push(logs, 'client', `closed read=${c.bytesRead} written=${c.bytesWritten}`);
    await new Promise<void>((r) => srv.close(() => r()));
    push(logs, 'main', `server closed ${srv.address()}`);
  }));

test('IPC errors: ENOENT, EADDRINUSE (port -1), connect(path) and listen({ path }) overloads', () =>
  same(async (net, path, logs) => {
    const srv = net.createServer((s) => s.end());
    await new Promise<void>((r) => srv.listen({ path }, () => r()));
    const dup = net.createServer();
    const e1 = await new Promise<SysErr>((r) => {
      dup.on('error', r);
      dup.listen(path);
    });
    push(logs, 'eaddrinuse', `${e1.message} ${e1.code} ${e1.errno} ${e1.syscall} ${e1.address} ${e1.port}`);
    push(logs, 'eaddrinuse', `${Object.keys(e1).sort()} listening=${dup.listening}`);
    const missing = `${path}.missing`;
    const c = net.connect({ path: missing });
    const events: string[] = [];
    c.on('connect', () => events.push('connect'));
    const e2 = await new Promise<SysErr>((r) => c.on('error', r));
    await closed(c);
    push(logs, 'enoent', `${e2.message === `connect ENOENT ${missing}`} ${e2.code} ${e2.errno} ${e2.syscall}`);
    push(logs, 'enoent', `${e2.address === missing} ${Object.keys(e2).sort()} ${events} ${c.destroyed}`);
    // The string overload with a callback: the server ends at once, the client sees 'end'.
    const c2 = net.connect(path, () => push(logs, 'overload', 'connected'));
    c2.on('end', () => push(logs, 'overload', 'end'));
    c2.resume();
    await closed(c2);
    await new Promise<void>((r) => srv.close(() => r()));
    // Closing unlinked the path: listening on it again works.
    const again = net.createServer();
    await new Promise<void>((r) => again.listen(path, () => r()));
    push(logs, 'relisten', `${again.address() === path}`);
    await new Promise<void>((r) => again.close(() => r()));
  }));

test('backpressure: a 1 MiB write to a peer that does not read stops where Linux stops it', async () => {
  const ns = new Namespace();
  // A pipe server's name takes a file on the host, as on Linux: each run its own.
  const path = tmpPath();
  let server: Socket | undefined;
  // pauseOnConnect: no read is started, so nothing leaves the kernel's queue.
  const srv = ns.net.createServer({ pauseOnConnect: true }, (s) => {
    server = s as Socket;
  });
  await new Promise<void>((r) => srv.listen(path, () => r()));
  const c = ns.net.connect({ path });
  await new Promise<void>((r) => c.on('connect', () => r()));
  const big = Buffer.alloc(1 << 20, 7);
  assert.equal(c.write(big), false);
  await new Promise((r) => setTimeout(r, 20));
  // Linux 6.18: send(1 MiB, MSG_DONTWAIT) returns 219264 (six 36544-byte skbs of truesize
  // 37120), and ss -xm shows Recv-Q 219264 on the reader and t222720 on the writer.
  const csk = c.unix as UnixSock;
  assert.ok(server !== undefined);
  const ssk = (server as Socket).unix as UnixSock;
  assert.equal(ssk.readable, 219264);
  assert.equal(csk.wmemAlloc, 222720);
  const { stdout } = await ns.exec('ss -xm');
  assert.match(stdout, new RegExp(`u_str ESTAB 219264 0 +${path} ${ssk.ino} +\\* ${csk.ino} skmem:\\(r0,rb212992,t0,`));
  assert.match(
    stdout,
    new RegExp(`u_str ESTAB 0 +222720 +\\* ${csk.ino} +\\* ${ssk.ino} skmem:\\(r0,rb212992,t222720,`),
  );
  // Reading drains it all, in order, with the writer woken as the reader frees skbs.
  let got = 0;
  let bad = 0;
  (server as Socket).on('data', (d: Buffer) => {
    for (const b of d) if (b !== 7) bad++;
    got += d.length;
  });
  const drained = new Promise<void>((r) => c.once('drain', () => r()));
  (server as Socket).resume();
  await drained;
  c.end();
  await new Promise<void>((r) => (server as Socket).on('end', () => r()));
  assert.equal(got, 1 << 20);
  assert.equal(bad, 0);
  c.destroy();
  (server as Socket).destroy();
  await new Promise<void>((r) => srv.close(() => r()));
});

test('skb sizes and truesize as unix_stream_sendmsg cuts them (ss -xm on Linux 6.18)', () => {
  const t = (n: number) => unixSkbSize(n, 212992);
  assert.deepEqual(t(1), { size: 1, truesize: 768 });
  assert.deepEqual(t(100), { size: 100, truesize: 768 });
  assert.deepEqual(t(3776), { size: 3776, truesize: 4352 });
  assert.deepEqual(t(3777), { size: 3777, truesize: 4864 });
  assert.deepEqual(t(4000), { size: 4000, truesize: 4864 });
  assert.deepEqual(t(36544), { size: 36544, truesize: 37120 });
  assert.deepEqual(t(100000), { size: 36544, truesize: 37120 });
  assert.equal(t(26912).truesize, 28928);
});

test('a full accept queue refuses with EAGAIN (backlog + 1 fit); a stale name refuses with ECONNREFUSED', () => {
  const ns = new Namespace();
  const l = new UnixSock(ns);
  assert.equal(l.bind('/run/q.sock'), 0);
  assert.equal(l.listen(2), 0);
  const r = [0, 1, 2, 3].map(() => new UnixSock(ns).connect('/run/q.sock'));
  assert.deepEqual(r, [0, 0, 0, -11]);
  l.close();
  // The name stays until unlinked, as a socket file does.
  assert.equal(new UnixSock(ns).connect('/run/q.sock'), -111);
  assert.equal(new UnixSock(ns).bind('/run/q.sock'), -98);
  // Another namespace has its own names.
  assert.equal(new UnixSock(new Namespace()).connect('/run/q.sock'), -2);
});

test('closing with unread data resets the peer; a listener closing resets unaccepted clients', async () => {
  const ns = new Namespace();
  // pauseOnConnect: the bytes stay in the kernel's queue, unread when the server closes.
  let accepted: Socket | undefined;
  const srv = ns.net.createServer({ pauseOnConnect: true }, (x) => {
    accepted = x as Socket;
  });
  const rPath = tmpPath();
  await new Promise<void>((r) => srv.listen(rPath, () => r()));
  const c = ns.net.connect(rPath);
  // Once the write is done the bytes sit in the server's queue; then the server closes.
  c.write('unread', () => accepted?.destroy());
  const err = await new Promise<SysErr>((r) => c.on('error', r));
  assert.equal(err.code, 'ECONNRESET');
  assert.equal(err.syscall, 'read');
  srv.close();
  // A write to a peer that is gone: EPIPE.
  const srv2 = ns.net.createServer((s) => (s as Socket).destroy());
  const pPath = tmpPath();
  await new Promise<void>((r) => srv2.listen(pPath, () => r()));
  const c2 = ns.net.connect(pPath);
  c2.on('end', () => {});
  c2.resume();
  await new Promise<void>((r) => c2.on('end', () => r()));
  assert.equal(c2.unix?.sendmsg(new Uint8Array(1)), -32);
  c2.destroy();
  srv2.close();
  // A listener closing with a connection still queued: the client is reset.
  const l = new UnixSock(ns);
  l.bind('/run/l.sock');
  l.listen(5);
  const q = new UnixSock(ns);
  assert.equal(q.connect('/run/l.sock'), 0);
  l.close();
  assert.equal(q.recvmsg(), -104);
  assert.equal(q.recvmsg(), 0);
});

test('IPC traffic never touches lo: its packet counters stay as they were', async () => {
  const ns = new Namespace();
  const lo = async () => (await ns.exec('ip -s link show lo')).stdout;
  const before = await lo();
  const srv = ns.net.createServer((x) => {
    const s = x as Socket;
    s.pipe(s);
  });
  const path = tmpPath();
  await new Promise<void>((r) => srv.listen(path, () => r()));
  const c = ns.net.connect({ path });
  let got = 0;
  c.on('data', (d) => {
    got += d.length;
    if (got === 100000) c.end();
  });
  c.write(Buffer.alloc(100000));
  await closed(c);
  assert.equal(got, 100000);
  assert.equal(await lo(), before);
  assert.match(before, /RX: {2}bytes +packets[^\n]*\n +0 +0 /);
  srv.close();
});

/**
 * Inode numbers replaced by the roles of their sockets, spaces collapsed, rows sorted. ss
 * sizes its columns to the widest value, inode numbers included, and a header that fills
 * its column touches the next one ("Peer Address:PortProcess"): how many digits a system's
 * inodes have is no part of the comparison, so the header's words are kept apart.
 */
function byRole(out: string, inodes: Record<string, number>): string[] {
  let s = out;
  for (const [role, ino] of Object.entries(inodes)) s = s.replace(new RegExp(`\\b${ino}\\b`, 'g'), role);
  return s
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) =>
      l
        .replace(/:PortProcess$/, ':Port Process')
        .replace(/ +/g, ' ')
        .trim(),
    )
    .sort();
}

const SS_ARGS = ['-x', '-xa', '-xl', '-xm', '-xe', '-xae'];

test('ss -x / -xa / -xl / -xm / -xe and /proc/net/unix: the same sockets print as on Linux (python3 in a real namespace)', async (t) => {
  // The Linux side makes a real socket file here: one name per run, so two runs never meet.
  const path = `/tmp/lonet-ss-x-${process.pid}.sock`;
  // A listener (L) with one accepted connection (C ↔ A) carrying data each way, one
  // connection still in the accept queue (D), and an unbound socket (U).
  const ns = new Namespace();
  const l = new UnixSock(ns);
  assert.equal(l.bind(path), 0);
  assert.equal(l.listen(511), 0);
  const c = new UnixSock(ns);
  assert.equal(c.connect(path), 0);
  const a = l.accept() as UnixSock;
  assert.equal(c.sendmsg(new TextEncoder().encode('hi')), 2);
  assert.equal(a.sendmsg(new TextEncoder().encode('hello world')), 11);
  const d = new UnixSock(ns);
  assert.equal(d.connect(path), 0);
  const u = new UnixSock(ns);
  const roles = { L: l.ino, C: c.ino, A: a.ino, D: d.ino, U: u.ino };
  const ours: string[][] = [];
  for (const args of SS_ARGS) ours.push(byRole((await ns.exec(`ss ${args}`)).stdout, roles));
  assert.deepEqual(ours[0], [
    'Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
    'u_str ESTAB 0 0 * D * 0',
    'u_str ESTAB 11 768 * C * A',
    `u_str ESTAB 2 768 ${path} A * C`,
  ]);
  assert.ok(ours[5]?.includes(`u_str LISTEN 1 511 ${path} L * 0 <-> peers: D`));
  // /proc/net/unix, pointers (%pK, hashed per boot) aside.
  const proc = (out: string, r: Record<string, number>) => byRole(out.replace(/^[0-9a-f]{16}:/gm, 'K:'), r);
  ours.push(proc((await ns.exec('cat /proc/net/unix')).stdout, roles));
  assert.deepEqual(ours[6], [
    'K: 00000002 00000000 00000000 0001 01 U',
    `K: 00000002 00000000 00010000 0001 01 L ${path}`,
    `K: 00000003 00000000 00000000 0001 02 0 ${path}`,
    `K: 00000003 00000000 00000000 0001 03 A ${path}`,
    'K: 00000003 00000000 00000000 0001 03 C',
    'K: 00000003 00000000 00000000 0001 03 D',
    'Num RefCount Protocol Flags Type St Inode Path',
  ]);

  const script = join(tmpdir(), `lonet-ss-x-${randomBytes(4).toString('hex')}.py`);
  writeFileSync(
    script,
    `import socket, os, subprocess
p='${path}'
s=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(p); s.listen(511)
c=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(p)
a,_=s.accept()
c.send(b'hi')
a.send(b'hello world')
d=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); d.connect(p)
u=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
i=lambda x: os.fstat(x.fileno()).st_ino
print('L', i(s), 'C', i(c), 'A', i(a), 'D', i(d), 'U', i(u))
for args in (${SS_ARGS.map((x) => `['ss','${x}']`).join(',')}):
  print('#'); print(subprocess.run(args,capture_output=True,text=True).stdout, end='')
print('#'); print(open('/proc/net/unix').read(), end='')
os.unlink(p)
`,
  );
  const linux = haveBinary('python3') && haveBinary('ss') ? inLinuxNetns([], [`python3 ${script}`]) : undefined;
  if (linux === undefined || linux[0]?.code !== 0) {
    t.diagnostic('no Linux namespace with python3 and ss: compared with the shapes recorded above only');
    return;
  }
  const [head, ...outs] = (linux[0]?.stdout ?? '').split('#\n');
  const theirRoles = Object.fromEntries(
    (head?.match(/[A-Z] \d+/g) ?? []).map((p) => [p[0] as string, Number(p.slice(2))]),
  );
  assert.equal(outs.length, ours.length);
  for (const [i, out] of outs.entries()) {
    // UNIX_DIAG_VFS: a path's file inode and device, which a name outside any file system lacks.
    const theirs =
      i < SS_ARGS.length ? byRole(out.replace(/ ino:\d+ dev:\d+\/\d+/g, ''), theirRoles) : proc(out, theirRoles);
    assert.deepEqual(ours[i], theirs, i < SS_ARGS.length ? `ss ${SS_ARGS[i]}` : '/proc/net/unix');
  }
});

test('abstract names (a leading NUL): as node:net on Linux binds them, padded to all of sun_path', async () => {
  const name = `\0lonet-abs-${randomBytes(4).toString('hex')}`;
  await same(async (net, _path, logs) => {
    const srv = net.createServer((s) => s.end('x'));
    await new Promise<void>((r) => srv.listen(name, () => r()));
    push(logs, 'server', `address ${JSON.stringify(srv.address())}`);
    const c = net.connect(name);
    c.on('data', (d) => push(logs, 'client', `data ${d}`));
    await closed(c);
    const missing = net.connect(`${name}-missing`);
    const e = await new Promise<SysErr>((r) => missing.on('error', r));
    push(logs, 'missing', `${JSON.stringify(e.message)} ${e.code} ${e.errno} ${JSON.stringify(e.address)}`);
    await new Promise<void>((r) => srv.close(() => r()));
    // The name went with its socket: no unlink needed to listen again.
    const again = net.createServer();
    await new Promise<void>((r) => again.listen(name, () => r()));
    await new Promise<void>((r) => again.close(() => r()));
    push(logs, 'server', 'relistened');
  });
  // What ss prints for it: Node's libuv passes the whole sun_path, so the name is padded with NULs.
  const real = kernelNet.createServer();
  await new Promise<void>((r) => real.listen(name, () => r()));
  const ns = new Namespace();
  const srv = ns.net.createServer();
  await new Promise<void>((r) => srv.listen(name, () => r()));
  const shown = `@${name.slice(1)}`.padEnd(108, '@');
  assert.match((await ns.exec('ss -xl')).stdout, new RegExp(`LISTEN 0 +511 +${shown} \\d+ +\\* 0`));
  if (haveBinary('ss')) {
    assert.match(execFileSync('ss', ['-xl'], { encoding: 'utf8' }), new RegExp(`LISTEN 0 +511 +${shown} \\d+ +\\* 0`));
  }
  real.close();
  srv.close();
});

test('backpressure as node:net sees it: write() results, writableLength, bytesWritten, one drain, 64 KiB reads', () =>
  same(async (net, path, logs) => {
    let server: kernelNet.Socket | undefined;
    const srv = net.createServer({ pauseOnConnect: true }, (s) => {
      server = s;
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    const c = net.connect(path);
    c.write('early');
    push(logs, 'client', `before connect bw=${c.bytesWritten} wl=${c.writableLength}`);
    await new Promise<void>((r) => c.on('connect', () => r()));
    c.on('drain', () => push(logs, 'client', `drain wl=${c.writableLength} bw=${c.bytesWritten}`));
    for (let i = 0; i < 4; i++) {
      const ok = c.write(Buffer.alloc(262144, i));
      push(logs, 'client', `write ${ok} wl=${c.writableLength} bw=${c.bytesWritten}`);
    }
    await new Promise((r) => setTimeout(r, 30));
    push(logs, 'client', `waited wl=${c.writableLength}`);
    const s = server as kernelNet.Socket;
    let total = 0;
    let max = 0;
    const all = 5 + 4 * 262144;
    const done = new Promise<void>((r) =>
      s.on('data', (d: Buffer) => {
        total += d.length;
        max = Math.max(max, d.length);
        if (total === all) r();
      }),
    );
    s.resume();
    await done;
    push(logs, 'server', `read ${total} in chunks of at most ${max}`);
    c.destroy();
    s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }));

test('a server closing over unread bytes: the client gets read ECONNRESET, as node:net does', () =>
  same(async (net, path, logs) => {
    let accepted: kernelNet.Socket | undefined;
    const srv = net.createServer({ pauseOnConnect: true }, (s) => {
      accepted = s;
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    const c = net.connect(path);
    c.write('unread', () => setTimeout(() => accepted?.destroy(), 10));
    c.on('error', (e: SysErr) => push(logs, 'client', `error ${e.message} ${e.code} ${e.errno} ${e.syscall}`));
    c.on('end', () => push(logs, 'client', 'end'));
    await closed(c);
    push(logs, 'client', `closed destroyed=${c.destroyed}`);
    await new Promise<void>((r) => srv.close(() => r()));
  }));
