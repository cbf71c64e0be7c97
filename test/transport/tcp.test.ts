import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { readPcap } from '../../src/capture/pcap.js';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { kfreeSkb, PACKET, type SkBuff } from '../../src/core/skbuff.js';
import { E } from '../../src/include/errno.js';
import { Kernel, Net } from '../../src/init.js';
import { inetProtocol } from '../../src/ipv4/protocol.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { TcpTimewaitSock } from '../../src/transport/tcp/minisocks.js';
import { tcpNet } from '../../src/transport/tcp/netns.js';
import { tcpSockets } from '../../src/transport/tcp/proc.js';
import { TCP, TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';
import { Ipv4Header } from '../../src/wire/ipv4.js';
import { Ipv6Header } from '../../src/wire/ipv6.js';
import { parseTcpOptions, TCPHDR, TcpHeader } from '../../src/wire/tcp.js';
import { xmitAsHost } from '../helpers/frames.js';
import { inLinuxNetns } from '../helpers/linux.js';

const LO4 = v4Mapped(0x7f000001);
const ANY = new Uint8Array(16);
const tick = () => new Promise((r) => setImmediate(r));

interface Seen {
  v6: boolean;
  ip: Uint8Array;
  tcp: TcpHeader;
  len: number;
}

/** Every TCP segment lo transmits, as a tap sees it (PACKET_OUTGOING), parsed. */
function tapTcp(net: Net): Seen[] {
  const seen: Seen[] = [];
  devAddPack(net.kernel, {
    type: 3,
    dev: net.lo,
    func: (skb: SkBuff) => {
      if (skb.pktType !== PACKET.OUTGOING) return NET_RX.SUCCESS;
      const b = skb.toBytes().subarray(14);
      const v6 = b[0]! >> 4 === 6;
      const ipLen = v6 ? 40 : (b[0]! & 15) * 4;
      const proto = v6 ? b[6] : b[9];
      if (proto !== 6) return NET_RX.SUCCESS;
      const tcp = new TcpHeader(b, ipLen);
      seen.push({ v6, ip: b, tcp, len: tcp.len - tcp.headerLen });
      return NET_RX.SUCCESS;
    },
  });
  return seen;
}

async function connectPair(net: Net, family: 4 | 6, addr: Uint8Array, port = 0) {
  const srv = new TcpSock(net, family);
  assert.equal(srv.bind(family === 4 ? ANY : ANY, port), 0);
  assert.equal(srv.listen(128), 0);
  const cli = new TcpSock(net, family);
  assert.equal(cli.connect(addr, srv.localPort), -E.EINPROGRESS);
  for (let i = 0; i < 20 && srv.cold.acceptQueue.length === 0; i++) await tick();
  const acc = srv.accept();
  assert.ok(acc instanceof TcpSock, 'accepted');
  assert.equal(cli.state, TCP.ESTABLISHED);
  return { srv, cli, acc };
}

test('the SYN lonet sends on lo is Linux’s: win 65495, mss 65495, sackOK, TS, nop, wscale 7; SYN-ACK win 65483, IP id 0', async () => {
  const net = new Net();
  const seen = tapTcp(net);
  await connectPair(net, 4, LO4);
  const [syn, synack, ack] = seen;
  assert.ok(syn && synack && ack);
  assert.equal(syn.tcp.flags, TCPHDR.SYN);
  assert.equal(syn.tcp.window, 65495);
  const o = syn.tcp.options;
  assert.equal(o.byteLength, 20);
  assert.deepEqual([...o.subarray(0, 6)], [0x02, 0x04, 0xff, 0xd7, 0x04, 0x02]);
  assert.deepEqual([...o.subarray(6, 8)], [0x08, 0x0a]);
  assert.deepEqual([...o.subarray(12, 20)], [0, 0, 0, 0, 0x01, 0x03, 0x03, 0x07], 'TSecr 0, nop, wscale 7');
  const ip4 = new Ipv4Header(syn.ip, 0);
  assert.equal(ip4.totalLength, 60);
  assert.ok(ip4.df);
  assert.equal(synack.tcp.flags, TCPHDR.SYN | TCPHDR.ACK);
  assert.equal(synack.tcp.window, 65483);
  assert.equal(synack.tcp.ackSeq, (syn.tcp.seq + 1) >>> 0);
  assert.equal(new Ipv4Header(synack.ip, 0).ident, 0);
  assert.deepEqual(
    parseTcpOptions(synack.tcp.options).map((x) => x.kind),
    ['mss', 'sack-permitted', 'timestamp', 'nop', 'wscale'],
  );
  // The handshake's ACK: scaled window 65495 → 512 with wscale 7, timestamps echoed.
  assert.equal(ack.tcp.flags, TCPHDR.ACK);
  assert.equal(ack.tcp.window, 512);
});

test('over ::1 the SYN says mss 65476 and the SYN-ACK offers 65464', async () => {
  const net = new Net();
  const seen = tapTcp(net);
  await connectPair(net, 6, IN6ADDR_LOOPBACK);
  const [syn, synack] = seen;
  assert.ok(syn?.v6 && synack);
  assert.equal(syn.tcp.window, 65476);
  assert.deepEqual([...syn.tcp.options.subarray(0, 4)], [0x02, 0x04, 0xff, 0xc4]);
  assert.equal(new Ipv6Header(syn.ip, 0).payloadLength, 40);
  assert.equal(synack.tcp.window, 65464);
});

test('connecting to a port with no listener: RST, ECONNREFUSED, OutRsts and AttemptFails', async () => {
  const ns = new Namespace();
  const seen = tapTcp(ns);
  const cli = new TcpSock(ns, 4);
  let errored = false;
  cli.onError = () => {
    errored = true;
  };
  assert.equal(cli.connect(LO4, 9), -E.EINPROGRESS);
  await tick();
  assert.ok(errored);
  assert.equal(cli.state, TCP.CLOSE);
  assert.equal(cli.takeError(), -E.ECONNREFUSED);
  const rst = seen[1];
  assert.ok(rst);
  assert.equal(rst.tcp.flags, TCPHDR.RST | TCPHDR.ACK);
  assert.equal(rst.tcp.ackSeq, ((seen[0]?.tcp.seq ?? 0) + 1) >>> 0);
  const tcpRow = (await ns.exec('cat /proc/net/snmp')).stdout.split('\n').filter((l) => l.startsWith('Tcp:'))[1];
  // ActiveOpens 1, PassiveOpens 0, AttemptFails 1, EstabResets 0, CurrEstab 0, InSegs 2, OutSegs 2, RetransSegs 0, InErrs 0, OutRsts 1
  assert.equal(tcpRow, 'Tcp: 1 200 120000 -1 1 0 1 0 0 2 2 0 0 1 0');
});

/** Writes `data` from one socket while the other reads, until all of it is through. */
async function pump(from: TcpSock, to: TcpSock, data: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(data.byteLength);
  let sent = 0;
  let got = 0;
  let idle = 0;
  while (got < data.byteLength) {
    const before = got;
    if (sent < data.byteLength) {
      const n = from.sendmsg(data.subarray(sent, Math.min(sent + (1 << 20), data.byteLength)));
      if (n > 0) sent += n;
    }
    for (;;) {
      const d = to.recvmsg();
      if (typeof d === 'number') break;
      out.set(d, got);
      got += d.byteLength;
    }
    if (got === before) {
      if (++idle > 10_000) throw new Error(`stalled at ${got} of ${data.byteLength}`);
      await tick();
    } else idle = 0;
  }
  return out;
}

test('64 MiB echoed over 127.0.0.1 and over ::1 arrives intact and in order', async () => {
  const data = new Uint8Array(64 << 20);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >>> 12) & 0xff;
  crypto.getRandomValues(data.subarray(0, 65536));
  for (const [family, addr] of [
    [4, LO4],
    [6, IN6ADDR_LOOPBACK],
  ] as const) {
    const net = new Net();
    const { cli, acc } = await connectPair(net, family, addr);
    const there = await pump(cli, acc, data);
    assert.ok(Buffer.from(there).equals(Buffer.from(data)), `IPv${family} server got every byte`);
    const back = await pump(acc, cli, there);
    assert.ok(Buffer.from(back).equals(Buffer.from(data)), `IPv${family} echo came back intact`);
    assert.equal(net.ipv4.mib.tcp.RetransSegs, 0);
    cli.close();
    await tick();
    assert.equal(acc.recvmsg(), 0, 'end of stream after the FIN');
    acc.close();
    await tick();
    assert.equal(acc.state, TCP.CLOSE);
  }
});

test('close: the closing side waits in TIME_WAIT for 60 s and keeps the port until then', async () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  const { srv, cli, acc } = await connectPair(net, 4, LO4, 8000);
  const port = cli.localPort;
  cli.close();
  await tick();
  // The peer's ACK of our FIN is delayed (pingpong mode): it rides on its own FIN.
  assert.equal(cli.state, TCP.FIN_WAIT1);
  assert.equal(acc.state, TCP.CLOSE_WAIT);
  acc.close();
  await tick();
  assert.equal(acc.state, TCP.CLOSE);
  assert.equal(cli.state, TCP.CLOSE, 'the full socket is gone; a TIME_WAIT sock stands in');
  const timewait = () => tcpSockets(net).filter((e) => e instanceof TcpTimewaitSock);
  assert.equal(timewait().length, 1);
  assert.equal(timewait()[0]?.substate, TCP.TIME_WAIT);
  const again = new TcpSock(net, 4);
  assert.equal(again.bind(ANY, port), -E.EADDRINUSE, 'TIME_WAIT holds the port');
  net.kernel.virtualClock.advance(59e9);
  assert.equal(timewait().length, 1);
  net.kernel.virtualClock.advance(1e9 + 1);
  assert.equal(timewait().length, 0);
  assert.equal(again.bind(ANY, port), 0);
  assert.equal(tcpNet(net).ext.TW, 1);
  srv.close();
});

test('/proc/net/tcp lists a listener as Linux does', async (t) => {
  const ns = new Namespace();
  const srv = new TcpSock(ns, 4);
  srv.bind(ANY, 8000);
  srv.listen(128);
  const mine = (await ns.exec('cat /proc/net/tcp')).stdout;
  const script = join(tmpdir(), `lonet-tcp-listen-${process.pid}.py`);
  writeFileSync(
    script,
    "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8000))\ns.listen(128)\nprint(open('/proc/net/tcp').read(), end='')\n",
  );
  const res = inLinuxNetns(['ip link set lo up'], [`python3 ${script}`]);
  if (res === undefined) return t.skip('no real namespace here');
  const real = res[0]?.stdout ?? '';
  // Inode and the hashed kernel pointer differ by nature; everything else must match.
  const norm = (s: string) =>
    s
      .split('\n')
      .map((l) => l.replace(/ \d{4,} 1 [0-9a-f]{16} /g, ' INODE 1 PTR ').trimEnd())
      .join('\n');
  assert.equal(norm(mine), norm(real));
  // tcp4_seq_show pads every line to 149 columns, whatever the inode's width.
  for (const l of mine.split('\n').filter((x) => x !== '')) assert.equal(l.length, 149);
});

/**
 * Replay: the client's segments from a real Linux capture, fed to a lonet listener
 * (with the capture host's tcp_rmem, so the window scale agrees), get answers with the
 * flags, relative sequence and ack numbers and option layout Linux sent.
 */
test('replaying the capture’s client into a lonet listener gets Linux’s answers', async () => {
  const pcap = readPcap(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url)));
  assert.ok(!(pcap instanceof Error));
  const frames = pcap.records.map((r) => r.data);
  const isTcp4 = (f: Uint8Array, sport: number, dport: number) =>
    f[12] === 0x08 &&
    f[13] === 0 &&
    f[23] === 6 &&
    ((f[34]! << 8) | f[35]!) === sport &&
    ((f[36]! << 8) | f[37]!) === dport;
  const flow = frames.filter((f) => isTcp4(f, 43484, 8000) || isTcp4(f, 8000, 43484));
  const clientSegs = flow.filter((f) => isTcp4(f, 43484, 8000));
  const linuxServer = flow.filter((f) => isTcp4(f, 8000, 43484)).map((f) => new TcpHeader(f.slice(34), 0));
  const realIss = linuxServer[0]!.seq;

  const ns = new Namespace();
  assert.equal((await ns.exec('sysctl -q -w net.ipv4.tcp_rmem="4096 131072 33554432"')).code, 0);
  const seen = tapTcp(ns);
  // The peer is a recording, not a socket: lonet's answers to port 43484 go no further than the tap.
  const tcp4 = inetProtocol(ns.kernel, 6);
  assert.ok(tcp4);
  const deliver = tcp4.handler;
  tcp4.handler = (skb) => {
    if (((skb.head[skb.data + 2]! << 8) | skb.head[skb.data + 3]!) === 43484) {
      kfreeSkb(skb);
      return 0;
    }
    return deliver(skb);
  };
  const srv = new TcpSock(ns, 4);
  srv.bind(ANY, 8000);
  srv.listen(4096);
  let child: TcpSock | null = null;
  let wrote = 0;
  const serve = () => {
    // The capture's server: reads the request, answers 188 bytes, then 4053, then closes.
    if (child === null) {
      const c = srv.accept();
      if (typeof c !== 'number') child = c;
    }
    if (child === null) return;
    const r = child.recvmsg();
    if (typeof r !== 'number' && r.byteLength === 86 && wrote === 0) {
      child.sendmsg(new Uint8Array(188));
      wrote = 1;
    }
  };
  const mySegs = () => seen.filter((s) => s.tcp.srcPort === 8000);
  for (const f of clientSegs) {
    const bytes = f.slice();
    const th = new TcpHeader(bytes, 34, bytes.length - 34);
    if (th.ack) {
      const myIss = mySegs()[0]!.tcp.seq;
      th.ackSeq = (th.ackSeq - realIss + myIss) >>> 0;
    }
    th.fillChecksum({ src: 0x7f000001, dst: 0x7f000001 });
    xmitAsHost(ns, bytes);
    for (let i = 0; i < 3; i++) {
      await tick();
      serve();
    }
    if (wrote === 1 && th.ackSeq === (mySegs()[0]!.tcp.seq + 189) >>> 0) {
      child!.sendmsg(new Uint8Array(4053));
      wrote = 2;
    } else if (
      wrote === 2 &&
      mySegs().some((s) => s.len === 4053) &&
      th.ackSeq === (mySegs()[0]!.tcp.seq + 4242) >>> 0
    ) {
      child!.close();
      wrote = 3;
    }
    await tick();
  }
  const mine = mySegs();
  const myIss = mine[0]!.tcp.seq;
  const clientIsn = new TcpHeader(clientSegs[0]!.slice(34), 0).seq;
  const describe = (h: TcpHeader, iss: number) => ({
    flags: h.flags,
    seq: (h.seq - iss) >>> 0,
    ack: h.ack ? (h.ackSeq - clientIsn) >>> 0 : 0,
    len: h.len - h.headerLen,
    options: parseTcpOptions(h.options).map((o) =>
      o.kind === 'wscale' ? `wscale ${o.shift}` : o.kind === 'mss' ? `mss ${o.mss}` : o.kind,
    ),
  });
  assert.deepEqual(
    mine.map((s) => describe(s.tcp, myIss)),
    linuxServer.map((h) => describe(h, realIss)),
  );
});
