import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { devGetStats } from '../../src/core/netdevice.js';
import { PACKET } from '../../src/core/skbuff.js';
import { ETH_P } from '../../src/include/if-ether.js';
import { Kernel, Net } from '../../src/init.js';
import { ipFragMem } from '../../src/ipv4/ip-fragment.js';
import { RawSock } from '../../src/ipv4/raw.js';
import { procRead } from '../../src/net/procfs.js';
import { parseIcmp } from '../../src/wire/icmp.js';
import { Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { xmit, xmitAsHost } from '../helpers/frames.js';
import { echoRequest, ip, ipv4Frame, snmp } from '../helpers/ipv4.js';
import { inLinuxNetns } from '../helpers/linux.js';

const LINUX_AFTER_ONE_PING = [
  'Ip: 2 64 2 0 0 0 0 0 2 2 0 0 0 0 0 0 0 0 0 2',
  'Icmp: 2 0 0 0 0 0 0 0 1 1 0 0 0 0 2 0 0 0 0 0 0 0 0 1 1 0 0 0 0',
  'IcmpMsg: InType0 InType8 OutType0 OutType8',
  'IcmpMsg: 1 1 1 1',
];

test('an echo through a raw ICMP socket: a reply, and the counters Linux shows after one ping', async (t) => {
  const net = new Net();
  const sk = new RawSock(net, 1);
  assert.equal(sk.sendto(ip('127.0.0.1'), echoRequest(0x1234, 1)), 64);
  const req = await sk.recvAsync();
  const rep = await sk.recvAsync();
  assert.ok(req !== null && rep !== null);
  const r = parseIpv4(rep.data);
  assert.ok(typeof r !== 'string');
  assert.deepEqual([r.ttl, r.df, r.payloadLen], [64, false, 64], 'the reply: TTL 64, no DF');
  const q = parseIpv4(req.data);
  assert.ok(typeof q !== 'string' && q.df, 'the request carries DF');
  const icmp = parseIcmp(rep.data, 20, 64);
  assert.ok(typeof icmp !== 'string' && icmp.kind === 'echo');
  assert.deepEqual([icmp.type, icmp.id, icmp.sequence], [0, 0x1234, 1]);
  const s = devGetStats(net.lo);
  assert.deepEqual([s.rxPackets, s.rxBytes, s.txPackets, s.txBytes], [2, 168, 2, 168]);
  const text = procRead(net, '/proc/net/snmp') as string;
  const rows = text
    .split('\n')
    .filter((l) => /^(Ip|Icmp|IcmpMsg): [0-9I]/.test(l) && !l.startsWith('Ip: Forw') && !l.startsWith('Icmp: InMsgs'));
  assert.deepEqual(rows, LINUX_AFTER_ONE_PING);
  const linux = inLinuxNetns(['ip link set lo up', 'ping -c 1 127.0.0.1'], ['cat /proc/net/snmp']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const lrows = (linux[0]?.stdout ?? '').split('\n').slice(0, 6);
  assert.deepEqual(text.split('\n').slice(0, 6), lrows, 'the same Ip, Icmp and IcmpMsg rows as Linux');
});

test("the real echo request from Linux's capture, replayed into lo, is answered like Linux answered it", async () => {
  const file = readPcap(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url)));
  assert.ok(!(file instanceof Error));
  const [request, reply] = file.records.map((r) => r.data);
  assert.ok(request !== undefined && reply !== undefined);
  const net = new Net();
  const out: Uint8Array[] = [];
  devAddPack(
    net.kernel,
    {
      type: ETH_P.ALL,
      dev: null,
      func: (skb) => {
        if (skb.pktType === PACKET.OUTGOING) out.push(skb.toBytes());
        return NET_RX.SUCCESS;
      },
    },
    net,
  );
  xmitAsHost(net, request);
  await net.kernel.settle();
  const ours = out[1];
  assert.ok(ours !== undefined, 'lonet sent a reply');
  assert.equal(ours.byteLength, reply.byteLength);
  // Everything but the IP id and header checksum (a hashed id, as on Linux) is byte-identical.
  const blank = (f: Uint8Array) => {
    const c = f.slice();
    c.fill(0, 18, 20);
    c.fill(0, 24, 26);
    return c;
  };
  assert.deepEqual(blank(ours), blank(new Uint8Array(reply)));
  assert.ok(new Ipv4Header(ours, 14).verifyChecksum());
});

test('bad IPv4 headers are dropped and counted where Linux counts them, never thrown', async () => {
  const net = new Net();
  const payload = echoRequest(1, 1);
  const short = ipv4Frame({}, payload).subarray(0, 14 + 12);
  xmit(net, short);
  const badVersion = ipv4Frame({}, payload);
  badVersion[14] = 0x55;
  xmit(net, badVersion);
  const badSum = ipv4Frame({}, payload);
  badSum[24] = (badSum[24] as number) ^ 0xff;
  xmit(net, badSum);
  const truncated = ipv4Frame({}, payload);
  new Ipv4Header(truncated, 14).totalLength = 200;
  new Ipv4Header(truncated, 14).fillChecksum();
  xmit(net, truncated);
  const tooShortTotal = ipv4Frame({}, payload);
  new Ipv4Header(tooShortTotal, 14).totalLength = 12;
  new Ipv4Header(tooShortTotal, 14).fillChecksum();
  xmit(net, tooShortTotal);
  await net.kernel.settle();
  const s = snmp(net, 'Ip');
  assert.equal(s.InReceives, 5);
  assert.equal(s.InHdrErrors, 4, 'short, bad version, bad checksum, total length under the header');
  assert.equal(s.InDelivers, 0);
  const ext = (procRead(net, '/proc/net/snmp') as string).length > 0;
  assert.ok(ext);
  assert.equal(net.ipv4.mib.ipExt.InCsumErrors, 1);
  assert.equal(net.ipv4.mib.ipExt.InTruncatedPkts, 1);
});

test('an unknown protocol gets ICMP protocol unreachable; a foreign destination InAddrErrors', async () => {
  const net = new Net();
  xmitAsHost(net, ipv4Frame({ protocol: 253 }, new Uint8Array(20)));
  await net.kernel.settle();
  assert.equal(snmp(net, 'Ip').InUnknownProtos, 1);
  const icmp = snmp(net, 'Icmp');
  assert.equal(icmp.OutDestUnreachs, 1);
  assert.equal(icmp.InDestUnreachs, 1, 'the error comes back to us over lo');
  // From another host (10.0.0.9): a 127/8 source would be a martian, dropped uncounted.
  xmit(net, ipv4Frame({ src: ip('10.0.0.9'), dst: ip('8.8.8.8') }, echoRequest(1, 1)));
  await net.kernel.settle();
  assert.equal(snmp(net, 'Ip').InAddrErrors, 1, 'not ours, and forwarding is off');
});

test('ICMP with a bad checksum is counted in InCsumErrors and InErrors; echo_ignore_all silences replies', async () => {
  const net = new Net();
  const req = echoRequest(7, 1);
  req[9] = (req[9] as number) ^ 1;
  xmitAsHost(net, ipv4Frame({}, req));
  await net.kernel.settle();
  const icmp = snmp(net, 'Icmp');
  assert.deepEqual([icmp.InMsgs, icmp.InErrors, icmp.InCsumErrors, icmp.OutMsgs], [1, 1, 1, 0]);
  net.ipv4.sysctl.icmp_echo_ignore_all = 1;
  xmitAsHost(net, ipv4Frame({}, echoRequest(7, 2)));
  await net.kernel.settle();
  assert.equal(snmp(net, 'Icmp').OutEchoReps, 0);
});

test('with lo at MTU 1500 a 3000-byte echo is fragmented and reassembled, counted as Linux counts it', async (t) => {
  const net = new Net();
  const { devSetMtu } = await import('../../src/core/netdevice.js');
  devSetMtu(net.lo, 1500);
  const sk = new RawSock(net, 1);
  assert.equal(sk.sendto(ip('127.0.0.1'), echoRequest(9, 1, 3000)), 3008);
  await sk.recvAsync();
  const rep = await sk.recvAsync();
  assert.ok(rep !== null);
  assert.equal(rep.data.byteLength, 3028);
  const icmp = parseIcmp(rep.data, 20, 3008);
  assert.ok(typeof icmp !== 'string' && icmp.kind === 'echo' && icmp.data.every((b, i) => b === (i & 0xff)));
  const row = (procRead(net, '/proc/net/snmp') as string).split('\n')[1];
  assert.equal(row, 'Ip: 2 64 6 0 0 0 0 0 2 2 0 0 0 6 2 0 2 0 6 6');
  assert.equal(devGetStats(net.lo).txPackets, 6);
  const linux = inLinuxNetns(
    ['ip link set lo up', 'ip link set lo mtu 1500', 'ping -c 1 -s 3000 127.0.0.1'],
    ['cat /proc/net/snmp'],
  );
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.equal(linux[0]?.stdout.split('\n')[1], row);
});

/** A fragment of a UDP datagram (protocol 17): ICMP errors may be sent about it. */
function fragment(id: number, offset: number, len: number, mf: boolean): Uint8Array {
  return ipv4Frame({ ident: id, fragOffset: offset, mf, protocol: 17 }, new Uint8Array(len).fill(0xab));
}

test('fragments: a duplicate is dropped alone, an overlap kills the datagram (ReasmOverlaps)', async () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  xmitAsHost(net, fragment(1, 0, 16, true));
  xmitAsHost(net, fragment(1, 0, 16, true));
  xmitAsHost(net, fragment(1, 8, 16, true));
  await net.kernel.settle();
  const s = snmp(net, 'Ip');
  assert.equal(s.ReasmReqds, 3);
  assert.equal(s.ReasmFails, 1);
  assert.equal(net.ipv4.mib.ipExt.ReasmOverlaps, 1);
  assert.equal(ipFragMem(net), 0, 'nothing held');
});

test('an incomplete datagram times out after ipfrag_time: ReasmTimeout, and ICMP time exceeded', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  xmitAsHost(net, fragment(2, 0, 64, true));
  await kernel.settle();
  assert.ok(ipFragMem(net) > 0);
  kernel.virtualClock.advance(29e9);
  assert.equal(snmp(net, 'Ip').ReasmTimeout, 0);
  kernel.virtualClock.advance(1e9);
  await kernel.settle();
  const s = snmp(net, 'Ip');
  assert.deepEqual([s.ReasmTimeout, s.ReasmFails], [1, 1]);
  assert.equal(snmp(net, 'Icmp').OutTimeExcds, 1);
  assert.equal(ipFragMem(net), 0);
});

test('a fragment flood is bounded by ipfrag_high_thresh', async () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  net.ipv4.sysctl.ipfrag_high_thresh = 64 * 1024;
  for (let id = 0; id < 500; id++) xmitAsHost(net, fragment(id, 0, 1000, true));
  await net.kernel.settle();
  assert.ok(ipFragMem(net) <= 64 * 1024 + 2048, `held ${ipFragMem(net)}`);
  assert.ok((snmp(net, 'Ip').ReasmFails ?? 0) > 400, 'the rest were refused and counted');
});

test('ICMP errors are rate limited by the namespace budget (icmp_msgs_burst 50, icmp_msgs_per_sec 1000)', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  for (let i = 0; i < 80; i++) xmitAsHost(net, ipv4Frame({ protocol: 253, ident: i }, new Uint8Array(8)));
  await kernel.settle();
  const icmp = snmp(net, 'Icmp');
  assert.equal(snmp(net, 'Ip').InUnknownProtos, 80);
  assert.equal(icmp.OutDestUnreachs, 50, 'the burst');
  assert.equal(icmp.OutRateLimitGlobal, 30, 'the rest counted as limited');
  kernel.virtualClock.advance(10e6);
  xmitAsHost(net, ipv4Frame({ protocol: 253, ident: 999 }, new Uint8Array(8)));
  await kernel.settle();
  assert.equal(snmp(net, 'Icmp').OutDestUnreachs, 51, '10 ms later there is credit again');
});
