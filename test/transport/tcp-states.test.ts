import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { kfreeSkb, PACKET, type SkBuff } from '../../src/core/skbuff.js';
import { E } from '../../src/include/errno.js';
import { Kernel } from '../../src/init.js';
import { inetProtocol } from '../../src/ipv4/protocol.js';
import { netem, qdiscReplace } from '../../src/sched/sch-api.js';
import { TCP_COLD } from '../../src/transport/tcp/cold.js';
import { TcpRequestSock } from '../../src/transport/tcp/minisocks.js';
import { tcpNet } from '../../src/transport/tcp/netns.js';
import { tcpSockets } from '../../src/transport/tcp/proc.js';
import { SHUT, TCP, TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';
import { emitTcp, TCPHDR, TcpHeader, type TcpOption } from '../../src/wire/tcp.js';
import { xmitAsHost } from '../helpers/frames.js';
import { ipv4Frame, snmp } from '../helpers/ipv4.js';

const LO = 0x7f000001;
const LO4 = v4Mapped(LO);
const ANY = new Uint8Array(16);
const tick = () => new Promise((r) => setImmediate(r));
const vns = () => new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });

async function pair(ns: Namespace, port = 8000) {
  const srv = new TcpSock(ns, 4);
  assert.equal(srv.bind(ANY, port), 0);
  assert.equal(srv.listen(128), 0);
  const cli = new TcpSock(ns, 4);
  cli.connect(LO4, port);
  await tick();
  const acc = srv.accept();
  assert.ok(acc instanceof TcpSock);
  return { srv, cli, acc };
}

/** Segments lo carries, as the tap sees them leave. */
function tap(ns: Namespace): TcpHeader[] {
  const out: TcpHeader[] = [];
  devAddPack(ns.kernel, {
    type: 3,
    dev: ns.lo,
    func: (skb: SkBuff) => {
      if (skb.pktType !== PACKET.OUTGOING) return NET_RX.SUCCESS;
      const b = skb.toBytes().subarray(14);
      if (b[0]! >> 4 === 4 && b[9] === 6) out.push(new TcpHeader(b, (b[0]! & 15) * 4));
      return NET_RX.SUCCESS;
    },
  });
  return out;
}

interface Seg {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: TcpOption[];
  payload?: Uint8Array;
}

/** Injects a crafted segment from 127.0.0.1 into lo, with a correct checksum unless `mangle` changes it. */
function inject(ns: Namespace, s: Seg, mangle?: (tcp: Uint8Array) => void): void {
  const repr = {
    srcPort: s.sport,
    dstPort: s.dport,
    seq: s.seq >>> 0,
    ackSeq: (s.ack ?? 0) >>> 0,
    flags: s.flags,
    window: s.window ?? 65535,
    urgPtr: 0,
    options: s.options ?? [],
    payload: s.payload ?? new Uint8Array(0),
  };
  const buf = new Uint8Array(60 + repr.payload.byteLength);
  const len = emitTcp(repr, buf, 0, { mode: 'full', addrs: { src: LO, dst: LO } });
  const tcp = buf.subarray(0, len);
  mangle?.(tcp);
  xmitAsHost(ns, ipv4Frame({ protocol: 6 }, tcp));
}

test('half-close: after shutdown(SHUT_WR) the peer reads end of stream and can still send', async () => {
  const ns = vns();
  const { cli, acc } = await pair(ns);
  assert.equal(cli.shutdownCall(SHUT.SEND), 0);
  await tick();
  assert.equal(acc.recvmsg(), 0);
  assert.equal(acc.state, TCP.CLOSE_WAIT);
  // The FIN's ACK is delayed (CLOSE_WAIT enters pingpong mode), by the 40 ms ato.
  assert.equal(cli.state, TCP.FIN_WAIT1);
  ns.kernel.virtualClock.advance(40e6);
  await tick();
  assert.equal(cli.state, TCP.FIN_WAIT2);
  assert.equal(tcpNet(ns).ext.DelayedACKs, 1);
  assert.equal(cli.sendmsg(new Uint8Array(1)), -E.EPIPE);
  assert.equal(acc.sendmsg(new TextEncoder().encode('still here')), 10);
  await tick();
  assert.equal(new TextDecoder().decode(cli.recvmsg() as Uint8Array), 'still here');
  acc.close();
  await tick();
  assert.equal(cli.recvmsg(), 0);
});

test('simultaneous open, and a socket connecting to its own port, end ESTABLISHED as on Linux', async () => {
  const ns = new Namespace();
  const a = new TcpSock(ns, 4);
  const b = new TcpSock(ns, 4);
  a.bind(LO4, 40001);
  b.bind(LO4, 40002);
  ns.kernel.localBhDisable();
  a.connect(LO4, 40002);
  b.connect(LO4, 40001);
  ns.kernel.localBhEnable();
  await ns.kernel.settle();
  await tick();
  assert.equal(a.state, TCP.ESTABLISHED);
  assert.equal(b.state, TCP.ESTABLISHED);
  a.sendmsg(Uint8Array.of(1, 2, 3));
  await tick();
  assert.deepEqual([...(b.recvmsg() as Uint8Array)], [1, 2, 3]);
  const self = new TcpSock(ns, 4);
  self.bind(LO4, 40003);
  self.connect(LO4, 40003);
  await tick();
  assert.equal(self.state, TCP.ESTABLISHED);
  self.sendmsg(Uint8Array.of(9));
  await tick();
  assert.deepEqual([...(self.recvmsg() as Uint8Array)], [9]);
});

test('RFC 5961: an RST inside the window but not at rcv_nxt, and a SYN, get challenge ACKs; an exact RST resets', async () => {
  const ns = new Namespace();
  const seen = tap(ns);
  const { cli, acc } = await pair(ns);
  const ext = tcpNet(ns).ext;
  const before = seen.length;
  inject(ns, { sport: cli.localPort, dport: 8000, seq: acc.rcvNxt + 100, flags: TCPHDR.RST });
  await tick();
  assert.equal(acc.state, TCP.ESTABLISHED);
  assert.equal(ext.TCPChallengeACK, 1);
  const challenge = seen.slice(before).find((h) => h.srcPort === 8000);
  assert.ok(challenge);
  assert.equal(challenge.flags, TCPHDR.ACK);
  assert.equal(challenge.ackSeq, acc.rcvNxt);
  // A second challenge within tcp_invalid_ratelimit (500 ms) is skipped, as Linux rate-limits them.
  inject(ns, { sport: cli.localPort, dport: 8000, seq: acc.rcvNxt + 5, flags: TCPHDR.SYN });
  await tick();
  assert.equal(ext.TCPSYNChallenge, 1);
  assert.equal(ext.TCPChallengeACK, 1);
  assert.equal(ext.TCPACKSkippedChallenge, 1);
  assert.equal(acc.state, TCP.ESTABLISHED);
  let err = false;
  acc.onError = () => {
    err = true;
  };
  inject(ns, { sport: cli.localPort, dport: 8000, seq: acc.rcvNxt, flags: TCPHDR.RST });
  await tick();
  assert.ok(err);
  assert.equal(acc.takeError(), -E.ECONNRESET);
  assert.equal(acc.state, TCP.CLOSE);
  assert.equal(snmp(ns, 'Tcp').EstabResets, 1);
});

test('malformed segments are dropped and counted where Linux counts them; nothing throws', async () => {
  const ns = new Namespace();
  const { cli, acc } = await pair(ns);
  const base = snmp(ns, 'Tcp');
  // doff 4: InErrs.
  inject(ns, { sport: cli.localPort, dport: 8000, seq: acc.rcvNxt, ack: acc.sndNxt, flags: TCPHDR.ACK }, (t) => {
    t[12] = (4 << 4) | (t[12]! & 15);
    new TcpHeader(t, 0).fillChecksum({ src: LO, dst: LO });
  });
  // A bad checksum: InCsumErrors and InErrs.
  inject(
    ns,
    {
      sport: cli.localPort,
      dport: 8000,
      seq: acc.rcvNxt,
      ack: acc.sndNxt,
      flags: TCPHDR.ACK,
      payload: Uint8Array.of(1),
    },
    (t) => {
      t[16] = (t[16] ?? 0) ^ 0xff;
    },
  );
  // doff beyond the segment: discarded (InSegs only).
  inject(ns, { sport: cli.localPort, dport: 8000, seq: acc.rcvNxt, ack: acc.sndNxt, flags: TCPHDR.ACK }, (t) => {
    t[12] = (15 << 4) | (t[12]! & 15);
    new TcpHeader(t, 0).fillChecksum({ src: LO, dst: LO });
  });
  // Garbage option lengths: parsed the way Linux does (stop at the bad one), segment still processed.
  inject(ns, {
    sport: cli.localPort,
    dport: 8000,
    seq: acc.rcvNxt,
    ack: acc.sndNxt,
    flags: TCPHDR.ACK | TCPHDR.PSH,
    options: [{ kind: 'unparsed', data: Uint8Array.of(8, 40, 1, 1) }],
    window: 1024,
    payload: Uint8Array.of(42),
  });
  // Far outside the window: a duplicate ACK, no data queued.
  inject(ns, {
    sport: cli.localPort,
    dport: 8000,
    seq: acc.rcvNxt + 0x40000000,
    ack: acc.sndNxt,
    flags: TCPHDR.ACK,
    payload: Uint8Array.of(7),
  });
  await tick();
  const after = snmp(ns, 'Tcp');
  // The five, plus the few ACKs they provoke between the two real sockets (rate-limited: no storm).
  const inSegs = (after.InSegs ?? 0) - (base.InSegs ?? 0);
  assert.ok(inSegs >= 5 && inSegs < 12, `InSegs grew by ${inSegs}`);
  assert.equal((after.InErrs ?? 0) - (base.InErrs ?? 0), 2);
  assert.equal((after.InCsumErrors ?? 0) - (base.InCsumErrors ?? 0), 1);
  assert.deepEqual([...(acc.recvmsg() as Uint8Array)], [42], 'only the in-window byte arrived');
  assert.equal(acc.state, TCP.ESTABLISHED);
});

test('close() with unread data sends RST (TCPAbortOnClose); SO_LINGER 0 too (TCPAbortOnLinger)', async () => {
  const ns = new Namespace();
  const seen = tap(ns);
  const { cli, acc } = await pair(ns);
  cli.sendmsg(Uint8Array.of(1, 2, 3));
  await tick();
  let err = 0;
  cli.onError = () => {
    err = cli.takeError();
  };
  acc.close();
  await tick();
  assert.equal(seen.at(-1)?.flags, TCPHDR.RST | TCPHDR.ACK);
  assert.equal(tcpNet(ns).ext.TCPAbortOnClose, 1);
  assert.equal(err, -E.ECONNRESET);
  const p = await pair(ns, 8001);
  p.cli.abort();
  await tick();
  assert.equal(tcpNet(ns).ext.TCPAbortOnLinger, 1);
  assert.equal(p.acc.state, TCP.CLOSE);
});

test('keepalive probes an idle connection and gives up with ETIMEDOUT when the peer is gone', async () => {
  const ns = vns();
  const { cli } = await pair(ns);
  cli.setKeepAlive(true, 10, 2, 3);
  const vc = ns.kernel.virtualClock;
  vc.advance(10e9);
  await tick();
  assert.equal(tcpNet(ns).ext.TCPKeepAlive, 1);
  assert.equal(cli.state, TCP.ESTABLISHED, 'the peer answered the probe');
  // Now lo loses everything.
  qdiscReplace(ns.lo, netem({ lossPercent: 100 }));
  let err = 0;
  cli.onError = () => {
    err = cli.takeError();
  };
  for (let i = 0; i < 10 && (cli.state as number) !== TCP.CLOSE; i++) {
    vc.advance(10e9);
    await tick();
  }
  assert.equal(cli.state, TCP.CLOSE);
  assert.equal(err, -E.ETIMEDOUT);
});

test('a receiver that does not read closes the window; persist probes keep asking; reading resumes the flow', async () => {
  const ns = vns();
  const { cli, acc } = await pair(ns);
  const data = new Uint8Array(4 << 20);
  let sent = 0;
  for (let i = 0; i < 50; i++) {
    const n = cli.sendmsg(data.subarray(sent));
    if (n > 0) sent += n;
    await tick();
    // Let delayed ACKs (40 ms) go out, as time would pass on a real host.
    ns.kernel.virtualClock.advance(50e6);
    await tick();
  }
  assert.ok(acc.readable > 0);
  assert.ok(acc.readable <= acc.rcvbuf, 'never more than the receive buffer');
  assert.equal(cli.sndWnd, 0, 'zero window');
  assert.ok(sent < data.length, 'the send buffer bounds the writer');
  const vc = ns.kernel.virtualClock;
  vc.advance(5e9);
  await tick();
  assert.ok(tcpNet(ns).ext.TCPWinProbe > 0, 'zero-window probes');
  assert.ok(tcpNet(ns).ext.TCPToZeroWindowAdv > 0);
  let got = 0;
  for (let i = 0; i < 2000 && got < data.length; i++) {
    for (;;) {
      const d = acc.recvmsg();
      if (typeof d === 'number') break;
      got += d.byteLength;
    }
    if (sent < data.length) {
      const n = cli.sendmsg(data.subarray(sent));
      if (n > 0) sent += n;
    }
    await tick();
    if (i % 50 === 49) vc.advance(1e9);
  }
  assert.equal(got, data.length);
});

test('an orphan in FIN_WAIT2 lasts tcp_fin_timeout (60 s), then the port is free', async () => {
  const ns = vns();
  const { cli, acc } = await pair(ns);
  cli.close();
  await tick();
  ns.kernel.virtualClock.advance(50e6);
  await tick();
  assert.equal(acc.state, TCP.CLOSE_WAIT);
  const fw2 = () => tcpSockets(ns).filter((e) => 'substate' in e && e.substate === TCP.FIN_WAIT2);
  assert.equal(fw2().length, 1);
  ns.kernel.virtualClock.advance(60e9);
  assert.equal(fw2().length, 0);
});

test('listen backlog: connections beyond it count ListenOverflows and ListenDrops', async () => {
  const ns = vns();
  const srv = new TcpSock(ns, 4);
  srv.bind(ANY, 8000);
  srv.listen(1);
  const clients = [0, 1, 2, 3].map(() => {
    const c = new TcpSock(ns, 4);
    c.connect(LO4, 8000);
    return c;
  });
  await tick();
  assert.equal(srv.cold.acceptQueue.length, 2, 'sk_acceptq_is_full lets backlog + 1 in');
  assert.equal(tcpNet(ns).ext.ListenOverflows, 2, 'the other two SYNs were dropped');
  assert.equal(tcpNet(ns).ext.ListenDrops, 2);
  assert.deepEqual(
    clients.map((c) => c.state),
    [TCP.ESTABLISHED, TCP.ESTABLISHED, TCP.SYN_SENT, TCP.SYN_SENT],
    'the dropped ones retry their SYN later',
  );
  srv.accept();
  srv.accept();
  ns.kernel.virtualClock.advance(1e9);
  await tick();
  assert.deepEqual(
    clients.map((c) => c.state),
    [TCP.ESTABLISHED, TCP.ESTABLISHED, TCP.ESTABLISHED, TCP.ESTABLISHED],
    'after accept() makes room, the retransmitted SYNs get in',
  );
});

test('a SYN flood: request socks stay bounded by the backlog, SYN cookies answer the rest and complete', async () => {
  const ns = new Namespace();
  const seen = tap(ns);
  // The flood's sources are not sockets here: their SYN-ACKs go no further than the tap.
  const tcp4 = inetProtocol(ns.kernel, 6);
  assert.ok(tcp4);
  const deliver = tcp4.handler;
  tcp4.handler = (skb) => {
    const dport = (skb.head[skb.data + 2]! << 8) | skb.head[skb.data + 3]!;
    if (dport >= 10000 && dport < 15001) {
      kfreeSkb(skb);
      return 0;
    }
    return deliver(skb);
  };
  const srv = new TcpSock(ns, 4);
  srv.bind(ANY, 8000);
  srv.listen(16);
  const ts = (v: number): TcpOption[] => [
    { kind: 'mss', mss: 65495 },
    { kind: 'sack-permitted' },
    { kind: 'timestamp', tsval: v, tsecr: 0 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 7 },
  ];
  for (let i = 0; i < 5000; i++)
    inject(ns, { sport: 10000 + i, dport: 8000, seq: i * 7919, flags: TCPHDR.SYN, options: ts(i) });
  await ns.kernel.settle();
  await tick();
  const reqs = tcpSockets(ns).filter((e) => e instanceof TcpRequestSock).length;
  assert.ok(reqs <= 16, `request socks bounded (${reqs})`);
  const ext = tcpNet(ns).ext;
  assert.ok(ext.SyncookiesSent > 4900, `cookies sent: ${ext.SyncookiesSent}`);
  assert.ok(ns.kernel.log.some((l) => l.text === 'TCP: Possible SYN flooding on port 0.0.0.0:8000. Sending cookies.'));
  // Complete one cookie handshake: the ACK carries the cookie back.
  const sport = 14000;
  const synack = seen.find((h) => h.dstPort === sport && h.syn && h.ack);
  assert.ok(synack);
  inject(ns, {
    sport,
    dport: 8000,
    seq: 4000 * 7919 + 1,
    ack: synack.seq + 1,
    flags: TCPHDR.ACK,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', tsval: 5000, tsecr: tsvalOf(synack) }],
  });
  await tick();
  assert.equal(ext.SyncookiesRecv, 1);
  const child = srv.accept();
  assert.ok(child instanceof TcpSock);
  assert.equal(child.remotePort, sport);
  assert.equal(child.mssClamp, 1460, 'a cookie carries one of four MSS values');
});

function tsvalOf(h: TcpHeader): number {
  const o = h.options;
  for (let i = 0; i < o.length; ) {
    if (o[i] === 1) {
      i++;
      continue;
    }
    if (o[i] === 8) return new DataView(o.buffer, o.byteOffset + i + 2, 4).getUint32(0);
    i += o[i + 1] ?? 1;
  }
  return 0;
}

test("an accepted socket takes its listener's keepalive and buffer options (sk_clone_lock), and shares the defaults when there are none", async () => {
  const ns = vns();
  const plain = await pair(ns, 8100);
  assert.equal(plain.acc.cold, TCP_COLD, 'no options set: nothing of its own');
  assert.equal(plain.acc.cold.keepalive, false);
  const srv = new TcpSock(ns, 4);
  assert.equal(srv.bind(ANY, 8101), 0);
  srv.setKeepAlive(true, 30, 5, 3);
  srv.setRcvbuf(65536);
  assert.equal(srv.listen(128), 0);
  const cli = new TcpSock(ns, 4);
  cli.connect(LO4, 8101);
  await tick();
  const acc = srv.accept();
  assert.ok(acc instanceof TcpSock);
  assert.equal(acc.cold.keepalive, true);
  assert.equal(acc.keepaliveTimeNs(), 30e9);
  assert.equal(acc.keepaliveIntvlNs(), 5e9);
  assert.equal(acc.keepaliveProbesN(), 3);
  assert.equal(acc.cold.rcvbufLocked, true);
  assert.equal(acc.timers.keepalive?.pending, true, 'the keepalive timer runs on the child');
  assert.equal(acc.cold.acceptQueue.length, 0);
});
