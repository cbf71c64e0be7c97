import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { PACKET } from '../../src/core/skbuff.js';
import { E } from '../../src/include/errno.js';
import { ETH_P } from '../../src/include/if-ether.js';
import { Net } from '../../src/init.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { csumPseudoPartial } from '../../src/wire/checksum.js';
import { emitUdp, UdpHeader } from '../../src/wire/udp.js';
import { xmitAsHost } from '../helpers/frames.js';
import { ip, ipv4Frame, snmp } from '../helpers/ipv4.js';

const LO4 = v4Mapped(ip('127.0.0.1'));
const ANY = new Uint8Array(16);
const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff);

test('UDP echo over 127.0.0.1 and ::1 keeps every byte, from 0 to 65507 (65527 over IPv6)', async () => {
  const net = new Net();
  for (const [family, addr, max] of [
    [4, LO4, 65507],
    [6, IN6ADDR_LOOPBACK, 65527],
  ] as const) {
    const srv = new UdpSock(net, family);
    assert.equal(srv.bind(addr, 0), 0);
    const cli = new UdpSock(net, family);
    for (const n of [0, 1, 1000, 9000, max]) {
      assert.equal(cli.sendto(bytes(n), addr, srv.localPort), n);
      const d = srv.recv();
      assert.ok(d !== null);
      assert.deepEqual(d.data, bytes(n));
      assert.equal(d.port, cli.localPort);
      assert.equal(srv.sendto(d.data, d.address, d.port), n);
      assert.deepEqual(cli.recv()?.data, bytes(n));
    }
    assert.equal(cli.sendto(bytes(max + 1), addr, srv.localPort), -E.EMSGSIZE);
  }
});

test('a 65507-byte datagram is one 65535-byte packet on lo; ephemeral ports come from 32768–60999', async () => {
  const net = new Net();
  const srv = new UdpSock(net, 4);
  srv.bind(LO4, 9999);
  const cli = new UdpSock(net, 4);
  cli.sendto(bytes(65507), LO4, 9999);
  const { devGetStats } = await import('../../src/core/netdevice.js');
  assert.deepEqual([devGetStats(net.lo).txPackets, devGetStats(net.lo).txBytes], [1, 65535]);
  assert.ok(cli.localPort >= 32768 && cli.localPort <= 60999, `${cli.localPort}`);
  net.ipv4.ipLocalPortRange = [40000, 40001];
  const a = new UdpSock(net, 4);
  const b = new UdpSock(net, 4);
  const c = new UdpSock(net, 4);
  assert.equal(a.bind(ANY, 0), 0);
  assert.equal(b.bind(ANY, 0), 0);
  assert.deepEqual([a.localPort, b.localPort].sort(), [40000, 40001]);
  assert.equal(c.bind(ANY, 0), -E.EAGAIN, 'the range is used up');
});

test('bind rules: EADDRINUSE, EADDRNOTAVAIL, SO_REUSEADDR, dual-stack and v6only', () => {
  const net = new Net();
  const a = new UdpSock(net, 4);
  assert.equal(a.bind(LO4, 5353), 0);
  assert.equal(new UdpSock(net, 4).bind(LO4, 5353), -E.EADDRINUSE);
  assert.equal(new UdpSock(net, 4).bind(ANY, 5353), -E.EADDRINUSE, 'the wildcard overlaps');
  assert.equal(
    new UdpSock(net, 4).bind(v4Mapped(ip('127.0.0.2')), 5353),
    0,
    'another 127/8 address is another address',
  );
  assert.equal(new UdpSock(net, 4).bind(v4Mapped(ip('10.0.0.1')), 5353), -E.EADDRNOTAVAIL);
  const r1 = new UdpSock(net, 4);
  const r2 = new UdpSock(net, 4);
  r1.reuseAddr = true;
  r2.reuseAddr = true;
  assert.equal(r1.bind(LO4, 6000), 0);
  assert.equal(r2.bind(LO4, 6000), 0, 'both SO_REUSEADDR: UDP shares');
  const dual = new UdpSock(net, 6);
  assert.equal(dual.bind(ANY, 7000), 0);
  assert.equal(new UdpSock(net, 4).bind(LO4, 7000), -E.EADDRINUSE, ':: without v6only covers IPv4');
  const only = new UdpSock(net, 6);
  only.v6only = true;
  assert.equal(only.bind(ANY, 7001), 0);
  assert.equal(new UdpSock(net, 4).bind(LO4, 7001), 0, 'a v6only socket leaves IPv4 free');
});

test('a dual-stack socket receives IPv4 as ::ffff:127.0.0.1', () => {
  const net = new Net();
  const s = new UdpSock(net, 6);
  s.bind(ANY, 7000);
  new UdpSock(net, 4).sendto(bytes(3), LO4, 7000);
  new UdpSock(net, 6).sendto(bytes(5), IN6ADDR_LOOPBACK, 7000);
  const a = s.recv();
  const b = s.recv();
  assert.deepEqual([a?.family, a?.address, b?.family, b?.address], [4, LO4, 6, IN6ADDR_LOOPBACK]);
});

test('20,000 datagrams to a socket that does not read: 92 fit in rcvbuf, 19,908 RcvbufErrors, as on Linux', () => {
  const net = new Net();
  const sink = new UdpSock(net, 4);
  sink.bind(LO4, 6000);
  const cli = new UdpSock(net, 4);
  for (let i = 0; i < 20000; i++) assert.equal(cli.sendto(bytes(1000), LO4, 6000), 1000);
  let delivered = 0;
  while (sink.recv() !== null) delivered++;
  const u = snmp(net, 'Udp');
  assert.equal(delivered, 92, 'what fits: 92 × 2304 bytes of truesize in 212992');
  assert.deepEqual([u.RcvbufErrors, u.InErrors, u.InDatagrams, u.OutDatagrams], [19908, 19908, 92, 20000]);
  assert.equal(delivered + (u.RcvbufErrors ?? 0), 20000, 'nothing unaccounted for');
  assert.equal(sink.queue.drops, 19908);
});

test('no socket: NoPorts and ICMP port unreachable; a connected sender then gets ECONNREFUSED', async () => {
  const net = new Net();
  const c = new UdpSock(net, 4);
  assert.equal(c.connect(LO4, 9), 0);
  let woken = false;
  c.onError = () => {
    woken = true;
  };
  assert.equal(c.sendto(bytes(4), null, 0), 4);
  assert.equal(snmp(net, 'Udp').NoPorts, 1);
  assert.equal(snmp(net, 'Icmp').OutDestUnreachs, 1);
  await Promise.resolve();
  assert.ok(woken);
  assert.equal(c.sendto(bytes(4), null, 0), -E.ECONNREFUSED, 'reported once, on the next call');
  assert.equal(c.sendto(bytes(4), null, 0), 4);
  const u = new UdpSock(net, 4);
  assert.equal(u.sendto(bytes(4), LO4, 9), 4, 'an unconnected sender hears nothing');
  assert.equal(u.takeError(), 0);
});

test('checksums: lo sends CHECKSUM_PARTIAL values; full checksums are verified; zero is IPv4-only', async () => {
  const net = new Net();
  const seen: Uint8Array[] = [];
  devAddPack(
    net.kernel,
    {
      type: ETH_P.ALL,
      dev: null,
      func: (skb) => {
        if (skb.pktType === PACKET.OUTGOING) seen.push(skb.toBytes());
        return NET_RX.SUCCESS;
      },
    },
    net,
  );
  const srv = new UdpSock(net, 4);
  srv.bind(LO4, 5000);
  new UdpSock(net, 4).sendto(bytes(10), LO4, 5000);
  const frame = seen[0] as Uint8Array;
  const uh = new UdpHeader(frame, 34);
  assert.equal(
    uh.checksum,
    csumPseudoPartial({ src: ip('127.0.0.1'), dst: ip('127.0.0.1') }, 18, 17),
    'the pseudo-header sum',
  );
  assert.equal(srv.recv()?.data.length, 10);

  const datagram = (check: 'full' | 'bad' | 'zero') => {
    const u = new Uint8Array(8 + 10);
    emitUdp({ srcPort: 1234, dstPort: 5000, payload: bytes(10) }, u, 0, {
      mode: 'full',
      addrs: { src: ip('127.0.0.1'), dst: ip('127.0.0.1') },
    });
    if (check === 'bad') u[6] = (u[6] as number) ^ 0xff;
    if (check === 'zero') {
      u[6] = 0;
      u[7] = 0;
    }
    return ipv4Frame({ protocol: 17 }, u);
  };
  xmitAsHost(net, datagram('full'));
  xmitAsHost(net, datagram('zero'));
  xmitAsHost(net, datagram('bad'));
  await net.kernel.settle();
  assert.equal(srv.recv()?.port, 1234);
  assert.equal(srv.recv()?.port, 1234, 'zero: no checksum, accepted over IPv4');
  assert.equal(srv.recv(), null);
  const u = snmp(net, 'Udp');
  assert.deepEqual([u.InCsumErrors, u.InErrors], [1, 1]);
});

test('broadcast to 127.255.255.255 needs SO_BROADCAST; with it every matching socket gets a copy', () => {
  const net = new Net();
  const a = new UdpSock(net, 4);
  const b = new UdpSock(net, 4);
  a.reuseAddr = true;
  b.reuseAddr = true;
  a.bind(ANY, 6666);
  b.bind(ANY, 6666);
  const s = new UdpSock(net, 4);
  const bcast = v4Mapped(ip('127.255.255.255'));
  assert.equal(s.sendto(bytes(4), bcast, 6666), -E.EACCES);
  s.broadcast = true;
  assert.equal(s.sendto(bytes(4), bcast, 6666), 4);
  assert.equal(a.recv()?.data.length, 4);
  assert.equal(b.recv()?.data.length, 4);
});
