import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { PACKET } from '../../src/core/skbuff.js';
import { ETH_P } from '../../src/include/if-ether.js';
import { Kernel, Net } from '../../src/init.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { netem, pfifo, qdiscDelete, qdiscReplace, qdiscRoot } from '../../src/sched/sch-api.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { ip, snmp } from '../helpers/ipv4.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const LO4 = v4Mapped(ip('127.0.0.1'));

/** A namespace on a virtual clock with a UDP receiver on 127.0.0.1:9000 and a sender. */
function udpPair() {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  const srv = new UdpSock(net, 4);
  assert.equal(srv.bind(LO4, 9000), 0);
  const cli = new UdpSock(net, 4);
  const drain = (): Uint8Array[] => {
    const got: Uint8Array[] = [];
    for (let d = srv.recv(); d !== null; d = srv.recv()) got.push(d.data);
    return got;
  };
  const send = (n: number) => {
    for (let i = 0; i < n; i++)
      assert.equal(cli.sendto(Uint8Array.of(i >> 8, i & 0xff, 1, 2, 3, 4, 5, 6), LO4, 9000), 8);
  };
  return { kernel, net, clock: kernel.virtualClock, srv, cli, drain, send };
}

const seqOf = (d: Uint8Array) => ((d[0] as number) << 8) | (d[1] as number);

test('delay 100ms: a ping over lo takes 200 ms (request and reply each cross the qdisc once)', async () => {
  const { run } = virtualNs();
  assert.equal((await run('tc qdisc add dev lo root netem delay 100ms')).code, 0);
  const r = await run('ping -c 3 127.0.0.1');
  assert.match(r.stdout, /icmp_seq=1 ttl=64 time=200 ms\n/);
  assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
  assert.match(r.stdout, /rtt min\/avg\/max\/mdev = 200\.000\/200\.000\/200\.000\/0\.000 ms/);
  const s = await run('tc -s qdisc show dev lo');
  // Six 98-byte frames (84 bytes of IP plus the Ethernet header) left the qdisc.
  assert.match(
    s.stdout,
    /^qdisc netem 8001: root refcnt 2 limit 1000 delay 100ms seed \d+\n Sent 588 bytes 6 pkt \(dropped 0, overlimits 0 requeues 0\) \n backlog 0b 0p requeues 0\n$/,
  );
});

test('a delayed datagram waits in the qdisc (backlog) and arrives when the clock reaches it', () => {
  const { net, clock, send, drain } = udpPair();
  const q = qdiscReplace(net.lo, netem({ delayNs: 50e6 }));
  send(3);
  assert.equal(drain().length, 0);
  assert.deepEqual([q.qstats.qlen, q.qstats.backlog], [3, 3 * (14 + 20 + 8 + 8)]);
  clock.advance(49_999_999);
  assert.equal(drain().length, 0);
  clock.advance(1);
  assert.deepEqual(drain().map(seqOf), [0, 1, 2]);
  assert.deepEqual([q.qstats.qlen, q.qstats.backlog, q.bstats.packets, q.bstats.bytes], [0, 0, 3, 150]);
});

test('loss 100%: nothing arrives, tc -s counts each drop, tcpdump-visible transmit never happens', async () => {
  const { run, ns } = virtualNs();
  await run('tc qdisc add dev lo root netem loss 100%');
  const r = await run('ping -c 3 -i 0.2 127.0.0.1');
  assert.match(r.stdout, /3 packets transmitted, 0 received, 100% packet loss/);
  const s = await run('tc -s qdisc show dev lo');
  assert.match(s.stdout, /\n Sent 0 bytes 0 pkt \(dropped 3, overlimits 0 requeues 0\) \n/);
  // The driver never saw them: lo's own counters stay at zero.
  const link = await ns.exec('ip -s link show lo');
  assert.match(link.stdout, /RX: {2}bytes packets[^\n]*\n +0 +0 /);
  assert.match(link.stdout, /TX: {2}bytes packets[^\n]*\n +0 +0 /);
});

test('seeded loss 30%: the same seed loses the same datagrams; the count is near 30%', () => {
  const lost = (seed: number) => {
    const { net, cli, drain } = udpPair();
    const q = qdiscReplace(net.lo, netem({ lossPercent: 30, seed }));
    const got: number[] = [];
    for (let i = 0; i < 2000; i++) {
      assert.equal(cli.sendto(Uint8Array.of(i >> 8, i & 0xff), LO4, 9000), 2);
      got.push(...drain().map(seqOf));
    }
    assert.equal(q.qstats.drops, 2000 - got.length);
    return got;
  };
  const a = lost(1234);
  const b = lost(1234);
  const c = lost(99);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const lossRate = 1 - a.length / 2000;
  assert.ok(lossRate > 0.26 && lossRate < 0.34, `loss ${lossRate}`);
});

test('duplicate 100%: every datagram arrives twice, and a duplicate is never duplicated again', () => {
  const { net, send, drain } = udpPair();
  const q = qdiscReplace(net.lo, netem({ duplicatePercent: 100, seed: 1 }));
  send(5);
  assert.deepEqual(drain().map(seqOf), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.equal(q.bstats.packets, 10);
});

test('reorder 50% with delay 10ms: the reordered go at once (counted as requeues), the rest after 10 ms', () => {
  const { net, clock, send, drain } = udpPair();
  const q = qdiscReplace(net.lo, netem({ delayNs: 10e6, reorderPercent: 50, seed: 5 }));
  send(20);
  const early = drain().map(seqOf);
  assert.equal(q.qstats.requeues, early.length);
  assert.ok(early.length > 3 && early.length < 17, `${early.length} early`);
  clock.advance(10e6);
  const late = drain().map(seqOf);
  assert.equal(early.length + late.length, 20);
  assert.deepEqual(
    [...early, ...late].sort((x, y) => x - y),
    [...Array(20).keys()],
  );
  assert.notDeepEqual([...early, ...late], [...Array(20).keys()]);
});

test('jitter: packets leave in time_to_send order, not arrival order', () => {
  const { net, clock, send, drain } = udpPair();
  qdiscReplace(net.lo, netem({ delayNs: 10e6, jitterNs: 9e6, seed: 3 }));
  send(30);
  clock.advance(20e6);
  const got = drain().map(seqOf);
  assert.equal(got.length, 30);
  assert.notDeepEqual(got, [...Array(30).keys()]);
});

test('corrupt 100%: UDP checksums catch every flip in the datagram; whatever arrives is intact', () => {
  const { net, send, drain } = udpPair();
  const before = snmp(net, 'Udp');
  const ipBefore = snmp(net, 'Ip');
  qdiscReplace(net.lo, netem({ corruptPercent: 100, seed: 11 }));
  send(200);
  const got = drain();
  for (const d of got) assert.deepEqual(Array.from(d.subarray(2)), [1, 2, 3, 4, 5, 6]);
  const udp = snmp(net, 'Udp');
  const ipNow = snmp(net, 'Ip');
  const csum = (udp.InCsumErrors ?? 0) - (before.InCsumErrors ?? 0);
  const hdr = (ipNow.InHdrErrors ?? 0) - (ipBefore.InHdrErrors ?? 0);
  // 64-byte frames: 8 of the 64 bytes are UDP payload, 8 the UDP header, 20 IP, 14 Ethernet.
  assert.ok(csum > 30, `InCsumErrors ${csum}`);
  assert.ok(hdr > 30, `InHdrErrors ${hdr}`);
  assert.ok(got.length < 200 - csum - hdr + 1);
});

test('corrupt 100% on ping: checksums catch most flips; flips in the Ethernet header go unnoticed', async () => {
  const { run, ns } = virtualNs();
  await run('tc qdisc add dev lo root netem corrupt 100% seed 4');
  const r = await run('ping -c 20 -i 0.2 127.0.0.1');
  // Two requests lost a bit of their (unchecked) Ethernet header and were answered; one
  // reply then lost a bit of its ICMP header, which ping's raw socket sees and reports.
  assert.match(r.stdout, /icmp_seq=2050 ttl=64 time=0\.000 ms \(BAD CHECKSUM!\)\n/);
  assert.match(r.stdout, /20 packets transmitted, 1 received, \+1 corrupted, 95% packet loss/);
  const snmpText = (await ns.exec('cat /proc/net/snmp')).stdout;
  const ip = /\nIp: \d+ \d+ (\d+) (\d+)/.exec(snmpText);
  const icmp = /\nIcmp: (\d+) (\d+) (\d+)/.exec(snmpText);
  // Of 22 frames on lo, 21 reached IP: 6 failed its header checksum, 12 the ICMP checksum.
  assert.deepEqual([ip?.[1], ip?.[2], icmp?.[3]], ['21', '6', '12']);
});

test('limit: past `limit` packets waiting, netem drops and counts; the rest arrive on time', async () => {
  const { net, clock, send, drain } = udpPair();
  const q = qdiscReplace(net.lo, netem({ delayNs: 1e9, limit: 5 }));
  const udp0 = snmp(net, 'Udp');
  const ip0 = snmp(net, 'Ip');
  send(8);
  assert.deepEqual([q.qstats.qlen, q.qstats.drops], [5, 3]);
  // NET_XMIT_DROP is -ENOBUFS to the sender (ip_send_skb): sendto still succeeds (no
  // IP_RECVERR), UDP counts SndbufErrors, IP OutDiscards.
  const udp = snmp(net, 'Udp');
  assert.equal((udp.SndbufErrors ?? 0) - (udp0.SndbufErrors ?? 0), 3);
  assert.equal((udp.OutDatagrams ?? 0) - (udp0.OutDatagrams ?? 0), 5);
  assert.equal((snmp(net, 'Ip').OutDiscards ?? 0) - (ip0.OutDiscards ?? 0), 3);
  clock.advance(1e9);
  assert.deepEqual(drain().map(seqOf), [0, 1, 2, 3, 4]);
});

test('pfifo limit 0 drops everything; pfifo limit 5 passes a ping', () => {
  const { net, send, drain } = udpPair();
  const q = qdiscReplace(net.lo, pfifo({ limit: 0 }));
  send(4);
  assert.equal(drain().length, 0);
  assert.equal(q.qstats.drops, 4);
  // Replacing with the same kind changes it in place, as tc_modify_qdisc does.
  const q2 = qdiscReplace(net.lo, pfifo({ limit: 5 }));
  assert.equal(q2, q);
  assert.equal(q2.limit, 5);
  send(4);
  assert.equal(drain().length, 4);
  assert.deepEqual([q2.bstats.packets, q2.bstats.bytes], [4, 200]);
  qdiscDelete(net.lo);
  assert.equal(qdiscRoot(net.lo), null);
  assert.equal(net.lo.qdisc, 'noqueue');
});

test('lo down drops what netem holds (dev_deactivate resets it); up restores the qdisc', async () => {
  const { net, clock, send, drain, kernel } = udpPair();
  const q = qdiscReplace(net.lo, netem({ delayNs: 10e6 }));
  send(3);
  const { devClose, devOpen } = await import('../../src/core/netdevice.js');
  devClose(net.lo);
  assert.deepEqual([q.qstats.qlen, q.qstats.backlog], [0, 0]);
  assert.equal(net.lo.txqQdisc, 'noop');
  clock.advance(20e6);
  devOpen(net.lo);
  assert.equal(net.lo.txqQdisc, 'netem');
  assert.equal(net.lo.qdisc, 'netem');
  assert.equal(drain().length, 0);
  send(1);
  clock.advance(10e6);
  assert.equal(drain().length, 1);
  assert.ok(kernel.idle);
});

test('rate 1mbit: each 50-byte frame takes 400 µs of link time, so they leave spaced', () => {
  const { net, clock, send, drain } = udpPair();
  qdiscReplace(net.lo, netem({ rateBitsPerSecond: 1e6 }));
  send(3);
  clock.advance(399_999);
  assert.equal(drain().length, 0);
  clock.advance(1);
  assert.equal(drain().length, 1);
  clock.advance(800_000);
  assert.equal(drain().length, 2);
});

test('the library rejects nonsense options with RangeError', () => {
  assert.throws(() => netem({ lossPercent: 101 }), RangeError);
  assert.throws(() => netem({ delayNs: -1 }), RangeError);
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  assert.throws(() => qdiscDelete(net.lo), { code: 'ENOENT', message: 'Cannot delete qdisc with handle of zero' });
});

test('taps (tcpdump) see a delayed packet when it leaves the qdisc, and never one netem dropped', () => {
  const { net, kernel, clock, send, drain } = udpPair();
  const seen: { pktType: number; t: number }[] = [];
  devAddPack(
    kernel,
    {
      type: ETH_P.ALL,
      dev: null,
      func: (skb) => {
        // dev_queue_xmit_nit stamps what it hands the taps; lo's receive side does not.
        const t = skb.pktType === PACKET.OUTGOING ? skb.tstamp - clock.realtime() + clock.now() : -1;
        seen.push({ pktType: skb.pktType, t });
        return NET_RX.SUCCESS;
      },
    },
    net,
  );
  qdiscReplace(net.lo, netem({ delayNs: 50e6 }));
  clock.advance(1e6);
  send(1);
  assert.deepEqual(seen, []);
  clock.advance(50e6);
  assert.equal(drain().length, 1);
  // Stamped when it left the qdisc at 51 ms (OUTGOING), then received (HOST).
  assert.deepEqual(seen, [
    { pktType: PACKET.OUTGOING, t: 51e6 },
    { pktType: PACKET.HOST, t: -1 },
  ]);
  qdiscReplace(net.lo, netem({ lossPercent: 100 }));
  send(5);
  clock.advance(1e9);
  assert.equal(seen.length, 2);
});

test('on the real clock the watchdog is a real timer: a 30 ms delay is at least 30 ms', async () => {
  const net = new Net();
  const srv = new UdpSock(net, 4);
  srv.bind(LO4, 9001);
  const cli = new UdpSock(net, 4);
  qdiscReplace(net.lo, netem({ delayNs: 30e6 }));
  const t0 = performance.now();
  cli.sendto(Uint8Array.of(1), LO4, 9001);
  assert.equal(srv.recv(), null);
  for (let i = 0; i < 200 && srv.recv() === null; i++) {
    await new Promise((r) => setTimeout(r, 5));
    const d = srv.recv();
    if (d !== null) {
      assert.deepEqual(Array.from(d.data), [1]);
      assert.ok(performance.now() - t0 >= 29, `${performance.now() - t0} ms`);
      return;
    }
  }
  assert.fail('the delayed datagram never arrived');
});

test('IPv6 crosses the same qdisc: ping -6 ::1 with delay 25ms takes 50 ms', async () => {
  const { run } = virtualNs();
  await run('tc qdisc add dev lo root netem delay 25ms');
  const r = await run('ping -6 -c 2 -i 0.2 ::1');
  assert.match(r.stdout, /icmp_seq=1 ttl=64 time=50\.0 ms\n/);
  assert.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/);
  const s = await run('tc -s qdisc show dev lo');
  // 104-byte ICMPv6 echo packets plus the Ethernet header: 4 × 118.
  assert.match(s.stdout, /\n Sent 472 bytes 4 pkt \(dropped 0, overlimits 0 requeues 0\) \n/);
});

test('ecn: a lost ECN-capable packet is marked CE and sent (counted as a drop); a Not-ECT one is lost', async () => {
  const { run, ns } = virtualNs();
  const tos: number[] = [];
  devAddPack(
    ns.kernel,
    {
      type: ETH_P.ALL,
      dev: null,
      func: (skb) => {
        if (skb.pktType === PACKET.OUTGOING) tos.push(skb.head[skb.data + 14 + 1] as number);
        return NET_RX.SUCCESS;
      },
    },
    ns,
  );
  await run('tc qdisc add dev lo root netem loss 100% ecn');
  assert.match((await run('tc qdisc show')).stdout, / loss 100% seed \d+ ecn \n$/);
  // ECT(0) requests go out marked CE (the IP checksum patched, so they verify) and are
  // answered; the replies reflect the request's TOS, CE, and are marked again. Each
  // marking counts as a drop, as netem counts it.
  const r = await run('ping -c 2 -i 0.2 -Q 2 127.0.0.1');
  assert.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/);
  const echos = () => snmp(ns, 'Icmp').InEchos;
  assert.equal(echos(), 2);
  assert.deepEqual(tos, [3, 3, 3, 3]);
  assert.match((await run('tc -s qdisc show')).stdout, /\n Sent 392 bytes 4 pkt \(dropped 4,/);
  await run('ping -c 2 -i 0.2 127.0.0.1');
  assert.equal(echos(), 2);
  assert.match((await run('tc -s qdisc show')).stdout, /\n Sent 392 bytes 4 pkt \(dropped 6,/);
});

test('loss gemodel: Gilbert-Elliott moving good → bad → good loses every second datagram', () => {
  const { net, cli, drain } = udpPair();
  // p = r = 100%: the chain flips every packet; the good state never loses (1−k = 0),
  // the bad state always does (1−h = 100%).
  qdiscReplace(net.lo, netem({ lossGemodel: { p: 100, r: 100, oneMinusH: 100, oneMinusK: 0 }, seed: 1 }));
  const got: number[] = [];
  for (let i = 0; i < 10; i++) {
    cli.sendto(Uint8Array.of(0, i), LO4, 9000);
    got.push(...drain().map(seqOf));
  }
  assert.deepEqual(got, [0, 2, 4, 6, 8]);
});

test('loss state: the 4-state model loses in bursts (p13 5%, p31 50%), reproducibly from a seed', () => {
  const pattern = (seed: number) => {
    const { net, cli, drain } = udpPair();
    const q = qdiscReplace(net.lo, netem({ lossState: { p13: 5, p31: 50 }, seed }));
    let s = '';
    for (let i = 0; i < 400; i++) {
      cli.sendto(Uint8Array.of(i >> 8, i & 0xff), LO4, 9000);
      s += drain().length > 0 ? '.' : 'x';
    }
    assert.equal(q.qstats.drops, s.split('x').length - 1);
    return s;
  };
  const a = pattern(8);
  assert.equal(a, pattern(8));
  // Bursts: a loss is followed by another far more often than 5% of the time.
  const losses = a.split('x').length - 1;
  const pairs = a.split('xx').length - 1;
  assert.ok(losses > 10 && pairs > losses / 5, `${losses} losses, ${pairs} in pairs: ${a}`);
});

test('IPv6 too: a UDP datagram netem drops for its limit is SndbufErrors (Udp6) and Ip6OutDiscards', () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  const srv = new UdpSock(net, 6);
  assert.equal(srv.bind(IN6ADDR_LOOPBACK, 9000), 0);
  const cli = new UdpSock(net, 6);
  qdiscReplace(net.lo, netem({ delayNs: 1e6, limit: 1 }));
  assert.equal(cli.sendto(Uint8Array.of(1), IN6ADDR_LOOPBACK, 9000), 1);
  assert.equal(cli.sendto(Uint8Array.of(2), IN6ADDR_LOOPBACK, 9000), 1);
  assert.deepEqual([net.ipv6.mib.udp6.OutDatagrams, net.ipv6.mib.udp6.SndbufErrors], [1, 1]);
  assert.equal(net.ipv6.mib.ip6.OutDiscards, 1);
  kernel.virtualClock.advance(1e6);
  assert.deepEqual(Array.from(srv.recv()?.data ?? []), [1]);
  assert.equal(srv.recv(), null);
});

test('slot 10ms packets 2: datagrams leave two at a time, one slot every 10 ms', () => {
  const { net, clock, send, drain } = udpPair();
  qdiscReplace(net.lo, netem({ slot: { minDelayNs: 10e6, packets: 2 } }));
  send(6);
  assert.deepEqual(drain().map(seqOf), [0, 1]);
  clock.advance(10e6 - 1);
  assert.deepEqual(drain(), []);
  clock.advance(1);
  assert.deepEqual(drain().map(seqOf), [2, 3]);
  clock.advance(10e6);
  assert.deepEqual(drain().map(seqOf), [4, 5]);
});
