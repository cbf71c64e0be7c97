/**
 * Frames into lo, the way a packet socket would send them: each input is 1–4 frames
 * (fragments of one datagram meet in the reassembly queues), sent one by one or as a
 * burst with the softirq held off. Every frame is also read by the wire layer's parsers.
 * Checked on every input: nothing throws; the ledger balances (ledger.ts); the backlog,
 * fragment memory and socket receive buffers stay within their limits.
 */
import fc from 'fast-check';
import { Namespace } from '../src/api/namespace.js';
import type { SkBuff } from '../src/core/skbuff.js';
import { Kernel } from '../src/init.js';
import { inDevGet } from '../src/ipv4/devinet.js';
import { RTN } from '../src/ipv4/fib.js';
import { ipFragMem } from '../src/ipv4/ip-fragment.js';
import { PingSock } from '../src/ipv4/ping.js';
import { RawSock } from '../src/ipv4/raw.js';
import { IN6ADDR_LOOPBACK } from '../src/ipv6/addr.js';
import { Raw6Sock } from '../src/ipv6/raw.js';
import { ip6FragMem } from '../src/ipv6/reassembly.js';
import { fib6Lookup } from '../src/ipv6/route.js';
import { UdpSock, v4Mapped } from '../src/transport/udp.js';
import { parseEthernet } from '../src/wire/ethernet.js';
import { parseIcmp } from '../src/wire/icmp.js';
import { parseIcmpv6 } from '../src/wire/icmpv6.js';
import { parseIpv4 } from '../src/wire/ipv4.js';
import { ipv6SkipExthdr, parseIpv6, parseIpv6Frag } from '../src/wire/ipv6.js';
import { parseTcp, parseTcpOptions } from '../src/wire/tcp.js';
import { parseUdp } from '../src/wire/udp.js';
import { type FrameKind, frameArb } from './frames.js';
import { type FuzzTarget, hex, invariant } from './harness.js';
import { checkLedger, isMartian4, snapshot } from './ledger.js';
import { xmitFrame } from './xmit.js';

/** The sockets the fuzz namespace keeps open, so deliveries have somewhere to go. */
export interface Sinks {
  udp4: UdpSock;
  udp6: UdpSock;
  raw4: RawSock;
  raw6: Raw6Sock;
  ping4: PingSock;
  ping6: PingSock;
}

/**
 * A namespace with somewhere for deliveries to go: UDP on 127.0.0.1:53 and [::]:5353,
 * raw ICMP and ICMPv6, ping sockets with id 0x1234 (the id the ICMP generator favours).
 */
export function fuzzNamespace(): { net: Namespace; sinks: Sinks } {
  const net = new Namespace({ kernel: new Kernel({ clock: 'virtual', cpus: 1 }) });
  net.ipv4.pingGroupRange = [0, 2147483647];
  const udp4 = new UdpSock(net, 4);
  udp4.bind(v4Mapped(0x7f000001), 53);
  const udp6 = new UdpSock(net, 6);
  udp6.bind(new Uint8Array(16), 5353);
  const ping4 = PingSock.create(net, 4) as PingSock;
  ping4.bind(0x1234);
  const ping6 = PingSock.create(net, 6) as PingSock;
  ping6.bind(0x1234);
  return { net, sinks: { udp4, udp6, raw4: new RawSock(net, 1), raw6: new Raw6Sock(net, 58), ping4, ping6 } };
}

/** Reads everything waiting (UDP counts InDatagrams when read, as Linux does). */
function drain(s: Sinks): void {
  for (const q of [s.udp4, s.udp6, s.raw4, s.raw6, s.ping4, s.ping6]) while (q.recv() !== null);
}

/** Socket queues never hold more than rcvbuf plus the one packet that crossed it. */
function checkQueues(s: Sinks, maxTruesize: number): void {
  for (const [name, sk] of Object.entries(s)) {
    const q = sk.queue;
    invariant(q.rmemAlloc <= q.rcvbuf + maxTruesize, `${name}: rmem ${q.rmemAlloc} over rcvbuf ${q.rcvbuf}`);
  }
}

/** An IPv6 frame's header chain: whether it names NEXTHDR_NONE, and where its fragment header is. */
function chain6(f: Uint8Array): { none: boolean; frag: number } {
  const out = { none: false, frag: -1 };
  if (f.length < 54 || f[12] !== 0x86 || f[13] !== 0xdd) return out;
  let nh = f[20] as number;
  let off = 54;
  for (let i = 0; i < 8 && off + 2 <= f.length; i++) {
    if (nh === 59) out.none = true;
    if (nh === 44 && out.frag < 0) out.frag = off;
    if (nh !== 0 && nh !== 43 && nh !== 60 && nh !== 44 && nh !== 51) break;
    const next = f[off] as number;
    off += nh === 44 ? 8 : nh === 51 ? ((f[off + 1] as number) + 2) * 4 : ((f[off + 1] as number) + 1) * 8;
    nh = next;
  }
  if (nh === 59) out.none = true;
  return out;
}

const hasNone6 = (f: Uint8Array) => chain6(f).none;

/**
 * A fragment ipv6_frag_rcv refuses with a parameter problem (not the last piece but not
 * a multiple of 8 bytes, or ending past 65535): Linux counts it in ReasmReqds and InHdrErrors.
 */
function badFrag6(f: Uint8Array): boolean {
  const at = chain6(f).frag;
  if (at < 0 || at + 8 > f.length) return false;
  const fo = ((f[at + 2] as number) << 8) | (f[at + 3] as number);
  const plen = ((f[18] as number) << 8) | (f[19] as number);
  const len = 54 + plen - (at + 8);
  return ((fo & 1) === 1 && (len & 7) !== 0) || (fo & 0xfff8) + len > 0xffff;
}

/** The wire layer reads any bytes without throwing, at every header offset it could be asked about. */
export function parseAll(f: Uint8Array): void {
  parseEthernet(f, 0);
  for (const at of [0, 14, 34, 54, f.length, f.length + 1]) {
    parseIpv4(f, at);
    parseIpv4(f, at, { allowTruncated: true, verifyChecksum: false });
    parseIpv6(f, at);
    parseIpv6(f, at, { allowTruncated: true });
    parseIpv6Frag(f, at);
    ipv6SkipExthdr(f, at, f[20] ?? 0);
    ipv6SkipExthdr(f, at, f[at] ?? 0, Math.min(f.length, at + 64));
    parseUdp(f, at);
    parseIcmp(f, at);
    parseIcmp(f, at, Math.max(0, f.length - at - 1));
    parseIcmpv6(f, at);
    parseIcmpv6(f, at, undefined, { src: IN6ADDR_LOOPBACK, dst: IN6ADDR_LOOPBACK });
    parseTcp(f, at);
  }
  parseTcpOptions(f.subarray(0, 40));
}

export interface PacketInput {
  frames: Uint8Array[];
  /** Send them with the softirq held off, as one burst into the backlog. */
  burst: boolean;
}

/** An Ethernet frame of type ETH_P_ARP. */
const isArp = (f: Uint8Array) => f.length >= 14 && f[12] === 0x08 && f[13] === 0x06;

/** Runs one input through a fresh namespace and checks every invariant. */
export function runFrames(input: PacketInput): void {
  const { net, sinks } = fuzzNamespace();
  sendFrames(net, sinks, input);
}

/** Sends the input's frames into `net` (set up by fuzzNamespace, then configured) and checks. */
export function sendFrames(net: Namespace, sinks: Sinks, input: PacketInput): void {
  const k = net.kernel;
  // With no in_device (an MTU under 68 took IPv4 away) ip_route_input fails: dropped uncounted, as martians.
  const noInDev = inDevGet(net.lo) === null;
  const silent4 = (f: Uint8Array) => isMartian4(f) || (noInDev && f.length >= 14 && f[12] === 0x08 && f[13] === 0x00);
  // An IPv6 destination behind a blackhole route is dropped uncounted (dst_discard).
  const blackhole6 = (f: Uint8Array) =>
    f.length >= 54 && f[12] === 0x86 && f[13] === 0xdd && fib6Lookup(net, f.slice(38, 54), 0)?.type === RTN.BLACKHOLE;
  let maxTruesize = 0;
  const sent = (skb: SkBuff) => {
    maxTruesize = Math.max(maxTruesize, skb.truesize);
  };
  if (input.burst) {
    const before = snapshot(net);
    const maxBacklog = k.core.netdev_max_backlog;
    k.localBhDisable();
    for (const f of input.frames) {
      parseAll(f);
      xmitFrame(net, f, sent);
      const q = k.cpus[0]?.sd.inputPktQueue.qlen ?? 0;
      invariant(q <= maxBacklog + 1, `backlog holds ${q}`);
    }
    k.localBhEnable();
    checkQueues(sinks, maxTruesize);
    drain(sinks);
    checkLedger(before, snapshot(net), input.frames.length, {
      martian4: input.frames.filter(silent4).length,
      none6: input.frames.filter(hasNone6).length,
      badFrag6: input.frames.filter(badFrag6).length,
      blackhole6: input.frames.filter(blackhole6).length,
      rawOnly: 0,
      arp: input.frames.filter(isArp).length,
    });
  } else {
    for (const f of input.frames) {
      parseAll(f);
      const before = snapshot(net);
      xmitFrame(net, f, sent);
      invariant(k.idle, 'softirq work left after one frame');
      checkQueues(sinks, maxTruesize);
      drain(sinks);
      checkLedger(before, snapshot(net), 1, {
        martian4: silent4(f) ? 1 : 0,
        none6: hasNone6(f) ? 1 : 0,
        badFrag6: badFrag6(f) ? 1 : 0,
        blackhole6: blackhole6(f) ? 1 : 0,
        rawOnly: 0,
        arp: isArp(f) ? 1 : 0,
      });
    }
  }
  const v4 = ipFragMem(net);
  const v6 = ip6FragMem(net);
  // inet_frag_find refuses once memory is over high_thresh (none at all when it is 0): one fragment may cross it.
  const high = net.ipv4.sysctl.ipfrag_high_thresh;
  invariant(high === 0 ? v4 === 0 : v4 <= high + maxTruesize, `IPv4 fragments hold ${v4} bytes (high_thresh ${high})`);
  invariant(v6 <= 4 * 1024 * 1024 + maxTruesize, `IPv6 fragments hold ${v6} bytes`);
  // Time passes: incomplete datagrams expire (ReasmTimeout) without throwing, and free their memory.
  k.virtualClock.advance(61e9);
  invariant(ipFragMem(net) === 0 && ip6FragMem(net) === 0, 'fragments outlived ipfrag_time');
  net.destroy();
}

export function packetTarget(name: string, kind: FrameKind, covers: string): FuzzTarget<PacketInput> {
  return {
    name,
    covers,
    arbitrary: () =>
      fc.record({
        frames: fc.array(frameArb(kind), { minLength: 1, maxLength: 4 }),
        burst: fc.boolean(),
      }),
    check: runFrames,
    show: (x) => JSON.stringify({ burst: x.burst, frames: x.frames.map(hex) }),
  };
}
