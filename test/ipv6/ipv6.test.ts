import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPcap } from '../../src/capture/pcap.js';
import { devAddPack } from '../../src/core/dev.js';
import { NET_RX } from '../../src/core/if.js';
import { devClose, devGetStats, devOpen, devSetMtu } from '../../src/core/netdevice.js';
import { PACKET } from '../../src/core/skbuff.js';
import { E } from '../../src/include/errno.js';
import { ETH_P } from '../../src/include/if-ether.js';
import { Kernel, Net } from '../../src/init.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { Raw6Sock } from '../../src/ipv6/raw.js';
import { ip6FragMem } from '../../src/ipv6/reassembly.js';
import { procRead } from '../../src/net/procfs.js';
import { emitIcmpv6 } from '../../src/wire/icmpv6.js';
import { emitIpv6, emitIpv6Frag, NEXTHDR } from '../../src/wire/ipv6.js';
import { xmit } from '../helpers/frames.js';
import { inLinuxNetns } from '../helpers/linux.js';

function snmp6(net: Net): Record<string, number> {
  const lines = (procRead(net, '/proc/net/snmp6') as string).trimEnd().split('\n');
  return Object.fromEntries(lines.map((l) => l.split(/\s+/)).map(([k, v]) => [k as string, Number(v)]));
}

function echoRequest6(id: number, seq: number, n = 56): Uint8Array {
  const b = new Uint8Array(8 + n);
  const data = new Uint8Array(n).map((_, i) => i & 0xff);
  emitIcmpv6({ kind: 'echo', type: 128, code: 0, id, sequence: seq, data }, b, 0, {
    src: IN6ADDR_LOOPBACK,
    dst: IN6ADDR_LOOPBACK,
  });
  return b;
}

function ipv6Frame(
  nextHeader: number,
  payload: Uint8Array,
  extra: Partial<{ version: number; payloadLen: number }> = {},
): Uint8Array {
  const f = new Uint8Array(14 + 40 + payload.byteLength);
  f[12] = 0x86;
  f[13] = 0xdd;
  emitIpv6(
    {
      src: IN6ADDR_LOOPBACK,
      dst: IN6ADDR_LOOPBACK,
      nextHeader,
      payloadLen: extra.payloadLen ?? payload.byteLength,
      hopLimit: 64,
      trafficClass: 0,
      flowLabel: 0,
    },
    f,
    14,
  );
  if (extra.version !== undefined) f[14] = (extra.version << 4) | ((f[14] as number) & 0x0f);
  f.set(payload, 54);
  return f;
}

/** The nonzero lines of /proc/net/snmp6, as Linux lists them. */
function nonzero(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0 && !/\t0$/.test(l));
}

test('ping -6 ::1 through a raw ICMPv6 socket: a reply, and snmp6 as Linux has it after one ping', async (t) => {
  const net = new Net();
  const sk = new Raw6Sock(net, NEXTHDR.ICMP);
  assert.equal(sk.sendto(IN6ADDR_LOOPBACK, echoRequest6(1, 1)), 64);
  const a = await sk.recvAsync();
  const b = await sk.recvAsync();
  assert.deepEqual([a?.data[0], b?.data[0], b?.hopLimit], [128, 129, 64]);
  const s = devGetStats(net.lo);
  assert.deepEqual([s.rxPackets, s.rxBytes], [2, 208], 'two 104-byte packets: 40 + 64');
  const mine = nonzero(procRead(net, '/proc/net/snmp6') as string);
  const linux = inLinuxNetns(['ip link set lo up', 'ping -6 -c 1 ::1'], ['cat /proc/net/snmp6']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(mine, nonzero(linux[0]?.stdout ?? ''));
});

test('with lo down or below MTU 1280, ::1 is gone and sending to it is EADDRNOTAVAIL', () => {
  const net = new Net();
  const sk = new Raw6Sock(net, NEXTHDR.ICMP);
  devClose(net.lo);
  assert.equal(sk.sendto(IN6ADDR_LOOPBACK, echoRequest6(1, 1)), -E.EADDRNOTAVAIL);
  devOpen(net.lo);
  assert.equal(sk.sendto(IN6ADDR_LOOPBACK, echoRequest6(1, 2)), 64);
  devSetMtu(net.lo, 1279);
  assert.equal(sk.sendto(IN6ADDR_LOOPBACK, echoRequest6(1, 3)), -E.EADDRNOTAVAIL);
});

test("the capture's ICMPv6 echo request, replayed into lo, is answered like Linux answered it", async () => {
  const file = readPcap(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url)));
  assert.ok(!(file instanceof Error));
  const v6echo = file.records.map((r) => r.data).filter((d) => d[12] === 0x86 && d[54] !== undefined && d[20] === 58);
  const [request, reply] = v6echo;
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
  xmit(net, request);
  await net.kernel.settle();
  const ours = out[1];
  assert.ok(ours !== undefined);
  // All but the flow label (hashed under a random key, as Linux's) is byte-identical.
  const blank = (f: Uint8Array) => {
    const c = new Uint8Array(f);
    c[15] = (c[15] as number) & 0xf0;
    c[16] = 0;
    c[17] = 0;
    return c;
  };
  assert.deepEqual(blank(ours), blank(reply));
});

test('bad IPv6 packets are dropped and counted; an unknown next header gets parameter problem', async () => {
  const net = new Net();
  const echo = echoRequest6(3, 1);
  xmit(net, ipv6Frame(NEXTHDR.ICMP, echo, { version: 4 }));
  xmit(net, ipv6Frame(NEXTHDR.ICMP, echo, { payloadLen: 500 }));
  const bad = echoRequest6(3, 2);
  bad[9] = (bad[9] as number) ^ 1;
  xmit(net, ipv6Frame(NEXTHDR.ICMP, bad));
  xmit(net, ipv6Frame(253, new Uint8Array(16)));
  await net.kernel.settle();
  const s = snmp6(net);
  assert.equal(s.Ip6InHdrErrors, 1, 'version 4 in an IPv6 frame');
  assert.equal(s.Ip6InTruncatedPkts, 1);
  assert.equal(s.Icmp6InCsumErrors, 1);
  assert.equal(s.Ip6InUnknownProtos, 1);
  assert.equal(s.Icmp6OutParmProblems, 1);
  assert.equal(s.Icmp6InParmProblems, 1, 'and it comes back over lo');
});

function frag6(ident: number, offset: number, len: number, mf: boolean): Uint8Array {
  const payload = new Uint8Array(8 + len).fill(0xab);
  emitIpv6Frag({ nextHeader: NEXTHDR.UDP, fragOffset: offset, mf, ident }, payload, 0);
  return ipv6Frame(NEXTHDR.FRAGMENT, payload);
}

test('IPv6 fragments: at MTU 1280 a 2000-byte echo is cut and rejoined; overlaps and timeouts fail', async () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  devSetMtu(net.lo, 1280);
  const sk = new Raw6Sock(net, NEXTHDR.ICMP);
  assert.equal(sk.sendto(IN6ADDR_LOOPBACK, echoRequest6(4, 1, 2000)), 2008);
  await sk.recvAsync();
  const rep = await sk.recvAsync();
  assert.equal(rep?.data.byteLength, 2008);
  let s = snmp6(net);
  assert.deepEqual([s.Ip6FragCreates, s.Ip6FragOKs, s.Ip6ReasmReqds, s.Ip6ReasmOKs], [4, 2, 4, 2]);

  xmit(net, frag6(77, 0, 64, true));
  xmit(net, frag6(77, 32, 64, true));
  await kernel.settle();
  s = snmp6(net);
  assert.equal(s.Ip6ReasmFails, 1, 'overlap (RFC 5722)');

  xmit(net, frag6(78, 0, 64, true));
  await kernel.settle();
  assert.ok(ip6FragMem(net) > 0);
  kernel.virtualClock.advance(60e9);
  await kernel.settle();
  s = snmp6(net);
  assert.deepEqual([s.Ip6ReasmTimeout, s.Ip6ReasmFails, s.Icmp6OutTimeExcds], [1, 2, 1]);
  assert.equal(ip6FragMem(net), 0);
});
