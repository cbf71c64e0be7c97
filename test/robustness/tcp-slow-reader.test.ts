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
import { test } from 'node:test';
import { TCP } from '../../src/transport/tcp/sock.js';
import { advanceBy, bulk, connectedPair, mib, pattern, until, virtualNs } from './tcp-drive.js';

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
