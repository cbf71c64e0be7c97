/**
 * A sustained SYN flood (40,000 SYNs from 40,000 spoofed 127.1.x.y sources over 4 virtual
 * seconds, none of which ever answers) against a listener with backlog 128, while a real
 * client connects and talks: request socks never pass the backlog, SYN cookies answer the
 * rest, the real client still gets in, and once the flood's SYN-ACK retries run out
 * (tcp_synack_retries 5, ~63 s) no request sock is left and the heap is back where it was.
 * The basic flood (cookies completing a crafted handshake) is in test/transport/tcp-states.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { kfreeSkb } from '../../src/core/skbuff.js';
import { inetProtocol } from '../../src/ipv4/protocol.js';
import { TcpRequestSock } from '../../src/transport/tcp/minisocks.js';
import { tcpSockets } from '../../src/transport/tcp/proc.js';
import { TCP, TcpSock } from '../../src/transport/tcp/sock.js';
import { emitTcp, TCPHDR } from '../../src/wire/tcp.js';
import { xmitAsHost } from '../helpers/frames.js';
import { ipv4Frame } from '../helpers/ipv4.js';
import { advanceBy, LO4, mib, until, virtualNs } from './tcp-drive.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

const LO = 0x7f000001;

test('40,000 spoofed SYNs over 4 s: request socks stay within the backlog, cookies answer, a real client still connects, nothing is left after', async () => {
  const ns = virtualNs();
  // The spoofed sources do not exist: SYN-ACKs to 127.1.0.0/16 vanish (no RST comes back).
  const tcp4 = inetProtocol(ns.kernel, 6);
  assert.ok(tcp4);
  const deliver = tcp4.handler;
  tcp4.handler = (skb) => {
    if (skb.head[skb.networkHeader + 16] === 127 && skb.head[skb.networkHeader + 17] === 1) {
      kfreeSkb(skb);
      return 0;
    }
    return deliver(skb);
  };
  const srv = new TcpSock(ns, 4);
  srv.bind(new Uint8Array(16), 8000);
  srv.listen(128);
  const syn = (i: number) => {
    const src = (127 << 24) | (1 << 16) | (i & 0xffff);
    const buf = new Uint8Array(60);
    const len = emitTcp(
      {
        srcPort: 1024 + (i % 50_000),
        dstPort: 8000,
        seq: (i * 2654435761) >>> 0,
        ackSeq: 0,
        flags: TCPHDR.SYN,
        window: 65535,
        urgPtr: 0,
        options: [
          { kind: 'mss', mss: 65495 },
          { kind: 'sack-permitted' },
          { kind: 'timestamp', tsval: i, tsecr: 0 },
          { kind: 'nop' },
          { kind: 'wscale', shift: 7 },
        ],
        payload: new Uint8Array(0),
      },
      buf,
      0,
      { mode: 'full', addrs: { src, dst: LO } },
    );
    xmitAsHost(ns, ipv4Frame({ protocol: 6, src, dst: LO }, buf.subarray(0, len)));
  };
  const requestSocks = () => tcpSockets(ns).filter((e) => e instanceof TcpRequestSock).length;
  let peak = 0;
  let sent = 0;
  const flood = async (n: number) => {
    for (let k = 0; k < n; k++) syn(sent++);
    await advanceBy(ns, 10e6);
    peak = Math.max(peak, requestSocks());
  };
  await flood(1000);
  const baseline = heapAfterGc();
  // A real client arrives in the middle of the flood.
  let cli: TcpSock | null = null;
  let acc: TcpSock | null = null;
  for (let round = 1; round < 40; round++) {
    await flood(1000);
    await advanceBy(ns, 90e6);
    if (round === 20) {
      cli = new TcpSock(ns, 4);
      assert.equal(cli.connect(LO4, 8000), -115);
    }
    const a = srv.accept();
    if (typeof a !== 'number') acc = a;
  }
  assert.equal(sent, 40_000);
  assert.ok(peak <= 128, `request socks peaked at ${peak}`);
  const ext = mib(ns, 'netstat', 'TcpExt');
  assert.ok((ext.SyncookiesSent ?? 0) > 39_000, `cookies sent: ${ext.SyncookiesSent}`);
  assert.ok(cli !== null && acc !== null, 'the real client was accepted during the flood');
  assert.equal(cli.state, TCP.ESTABLISHED);
  const hello = new TextEncoder().encode('hello through the flood');
  assert.equal(cli.sendmsg(hello), hello.byteLength);
  let got: Uint8Array | number = -11;
  const a = acc;
  assert.ok(
    await until(
      ns,
      () => typeof got !== 'number',
      () => {
        got = a.recvmsg();
        return false;
      },
    ),
  );
  assert.deepEqual(got, hello);
  // The flood's request socks retransmit their SYN-ACKs 5 times, then go.
  await advanceBy(ns, 120e9);
  assert.equal(requestSocks(), 0, 'every request sock expired');
  assert.equal(srv.accept(), -11, 'no flood source ever reached the accept queue');
  assert.equal(cli.state, TCP.ESTABLISHED, 'the real connection is unharmed');
  const after = heapAfterGc();
  assert.ok(after < baseline * 1.1, `heap ${(after / 1e6).toFixed(1)} MB vs ${(baseline / 1e6).toFixed(1)} MB`);
});
