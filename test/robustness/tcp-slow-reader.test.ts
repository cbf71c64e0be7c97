/**
 * A reader that stops reading: the receive window closes, nothing is lost or dropped, the
 * receiver holds no more than its rcvbuf, the sender no more than its sndbuf, persist probes
 * keep the connection alive for as long as it takes, and reading again moves every byte.
 * Linux 6.18 (python3 in a real namespace, a non-blocking writer, a reader asleep): the writer
 * stops at sndbuf 4194304 with 4163072 bytes unsent, the reader holds 128512 (rcvbuf 131072);
 * TCPToZeroWindowAdv 1, TCPWinProbe counted, TCPRcvQDrop/TCPZeroWindowDrop/PruneCalled 0.
 * lonet's numbers differ (sndbuf grows less: 1.3 MB; the receiver holds one segment), its bounds hold.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TCP, TcpSock } from '../../src/transport/tcp/sock.js';
import { inLinuxNetns } from '../helpers/linux.js';
import { advanceBy, bulk, connectedPair, LO4, mib, pattern, until, virtualNs } from './tcp-drive.js';

test('a reader asleep for 10 minutes: zero window, persist probes, bounded buffers, no loss; then every byte arrives', async () => {
  const ns = virtualNs();
  const { cli, acc } = await connectedPair(ns);
  const data = pattern(16 << 20, 5);
  let reading = false;
  const b = bulk(cli, acc, data, () => reading);
  // Write until the socket refuses (EAGAIN), letting the stack run.
  await advanceBy(ns, 5e9, b.step);
  const queued = b.st.sent;
  assert.ok(queued < data.byteLength, 'the writer was stopped');
  assert.equal(cli.sendmsg(data.subarray(queued)), -11, 'EAGAIN: the send buffer is full');
  assert.ok(cli.wmemQueued <= cli.sndbuf + 65536 + 1024, `sk_wmem_queued ${cli.wmemQueued} vs sndbuf ${cli.sndbuf}`);
  assert.ok(cli.sndbuf <= cli.tn.sysctl.tcp_wmem[2], `sndbuf ${cli.sndbuf}`);
  assert.ok(acc.rmemAlloc <= acc.rcvbuf, `rmem ${acc.rmemAlloc} vs rcvbuf ${acc.rcvbuf}`);
  // Linux holds 128512 here (coalesced skbs, truesize close to the length); lonet stops after one
  // 65483-byte segment, whose truesize leaves less than an MSS of window (a smaller queue, not a loss).
  assert.ok(acc.readable >= cli.mssCache && acc.readable <= acc.rcvbuf, `${acc.readable} bytes wait to be read`);
  const ext = () => mib(ns, 'netstat', 'TcpExt');
  assert.ok((ext().TCPToZeroWindowAdv ?? 0) >= 1, 'the receiver advertised a zero window');

  // Ten minutes asleep: the sender probes, nothing grows, nothing is dropped, nobody gives up.
  const held = { rcv: acc.readable, wmem: cli.wmemQueued };
  const probesBefore = ext().TCPWinProbe ?? 0;
  await advanceBy(ns, 600e9, b.step);
  assert.equal(cli.state, TCP.ESTABLISHED, 'a peer that answers probes is never timed out');
  assert.ok((ext().TCPWinProbe ?? 0) - probesBefore >= 5, 'persist probes were sent');
  assert.deepEqual({ rcv: acc.readable, wmem: cli.wmemQueued }, held, 'the buffers did not grow');
  assert.equal(b.st.sent, queued);
  const e = ext();
  assert.deepEqual(
    [e.TCPRcvQDrop, e.TCPZeroWindowDrop, e.PruneCalled, e.RcvPruned, e.TCPOFODrop],
    [0, 0, 0, 0, 0],
    'no byte was dropped at the receiver',
  );
  assert.equal(mib(ns, 'snmp', 'Tcp').RetransSegs, 0, 'and none needed retransmission');

  // Wake up: everything arrives, in order, and the window reopens.
  reading = true;
  assert.ok(await until(ns, () => b.st.got === data.byteLength, b.step, 60e9), `stuck at ${b.st.got}`);
  assert.ok(Buffer.from(b.st.out).equals(Buffer.from(data)), 'every byte, in order');
  assert.ok((ext().TCPFromZeroWindowAdv ?? 0) >= 1);
});

const SMALL_PY = `import socket, time, fcntl, struct, termios
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192); srv.bind(('127.0.0.1', 8000)); srv.listen(1)
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192); c.connect(('127.0.0.1', 8000)); a, _ = srv.accept()
c.setblocking(False)
sent = 0
for i in range(20):
    try:
        while True: sent += c.send(bytes(65536))
    except BlockingIOError: pass
    time.sleep(0.05)
inq = struct.unpack('i', fcntl.ioctl(a, termios.FIONREAD, b'\\0'*4))[0]
print(sent, inq, c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
`;

/**
 * tcp_bound_to_half_wnd(): no segment above half the largest window the peer offered, so this
 * connection's snd_mss is 4096 (half the SYN-ACK's 8192) as on Linux, and the receiver admits
 * segments while sk_rmem_alloc is within sk_rcvbuf (tcp_try_rmem_schedule), so none is dropped.
 */

test('SO_SNDBUF and SO_RCVBUF of 8192 (doubled to 16384, locked): a stalled reader holds no more, the writer stops, nothing is lost', async (t) => {
  const ns = virtualNs();
  const srv = new TcpSock(ns, 4);
  srv.setRcvbuf(8192);
  srv.bind(new Uint8Array(16), 8000);
  srv.listen(1);
  const cli = new TcpSock(ns, 4);
  cli.setSndbuf(8192);
  cli.connect(LO4, 8000);
  let acc: TcpSock | null = null;
  assert.ok(
    await until(
      ns,
      () => acc !== null,
      () => {
        const a = srv.accept();
        if (typeof a !== 'number') acc = a;
        return false;
      },
    ),
  );
  const peer = acc as unknown as TcpSock;
  assert.deepEqual([cli.sndbuf, peer.rcvbuf], [16384, 16384], 'the child inherits the listener’s SO_RCVBUF');
  // Linux 6.18's TCP_INFO right after connect: snd_wnd 8192, snd_mss 4096.
  assert.equal(cli.mssCache, 4096, 'tcp_bound_to_half_wnd: half the 8192-byte window the SYN-ACK offered');
  const data = pattern(1 << 20, 9);
  let reading = false;
  const b = bulk(cli, peer, data, () => reading);
  await advanceBy(ns, 60e9, b.step);
  assert.ok(cli.wmemQueued <= cli.sndbuf + cli.mssCache, `sk_wmem_queued ${cli.wmemQueued}`);
  // tcp_try_rmem_schedule() tests sk_rmem_alloc against sk_rcvbuf before charging a
  // segment, so the last one admitted may pass it by its own truesize, as on Linux.
  assert.ok(peer.rmemAlloc <= peer.rcvbuf + cli.mssCache + 1024, `rmem ${peer.rmemAlloc}`);
  assert.deepEqual([cli.sndbuf, peer.rcvbuf], [16384, 16384], 'locked: no autotuning');
  const held = { sent: b.st.sent, inq: peer.readable };
  const e = mib(ns, 'netstat', 'TcpExt');
  assert.deepEqual([e.TCPRcvQDrop, e.TCPZeroWindowDrop, e.PruneCalled], [0, 0, 0]);
  reading = true;
  // A reader that keeps up moves 1 MiB in well under a second (Linux: a few ms).
  assert.ok(await until(ns, () => b.st.got === data.byteLength, b.step, 1e9), `stuck at ${b.st.got}`);
  assert.ok(Buffer.from(b.st.out).equals(Buffer.from(data)), 'every byte, in order');
  const script = join(tmpdir(), `lonet-tcp-smallbuf-${process.pid}.py`);
  writeFileSync(script, SMALL_PY);
  const linux = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`]);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  // Linux 6.18: "28672 12288 16384 16384" — the writer stops after 28672 bytes, 12288 of them at the reader.
  const [sent, inq, sndbuf, rcvbuf] = (linux[0]?.stdout ?? '').trim().split(' ').map(Number);
  assert.deepEqual([sndbuf, rcvbuf], [cli.sndbuf, peer.rcvbuf]);
  assert.ok(
    Math.abs(held.sent - (sent ?? 0)) <= 16384 && held.inq <= (rcvbuf ?? 0),
    `lonet ${JSON.stringify(held)}, Linux sent ${sent} inq ${inq}`,
  );
});
