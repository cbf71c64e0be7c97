/**
 * The accounting invariant: every packet that reaches a layer ends there in exactly one
 * counter — a drop counter (rx_dropped, InHdrErrors, NoPorts, …) or the one that hands
 * it on (InReceives, InDelivers, ReasmReqds, InMsgs, InDatagrams) — so "why was this
 * packet lost?" always has one answer in `ip -s link`, /proc/net/snmp or /proc/net/snmp6.
 *
 * The check compares counters before and after one frame, layer by layer:
 *
 *   link:  frames in + OutTransmits = rx_dropped + tx_dropped + rx_otherhost_dropped + Ip.InReceives + Ip6.InReceives
 *   IPv4:  InReceives + ReasmOKs    = InHdrErrors + InTruncatedPkts + InAddrErrors + InUnknownProtos
 *                                     + InDiscards + InNoRoutes + ReasmReqds + InDelivers (+ martians)
 *   IPv6:  the same, with InTooBigErrors (+ NEXTHDR_NONE)
 *   L4:    Ip.InDelivers + Ip6.InDelivers = Icmp.InMsgs + Icmp6.InMsgs + Udp(6).InDatagrams + InErrors
 *                                     + NoPorts + IgnoredMulti + Tcp.InSegs + what raw sockets alone took
 *
 * Counters Linux bumps *besides* the one above for the same packet are not summed, as
 * Linux itself counts them twice: softnet_stat's dropped (also rx_dropped), InCsumErrors
 * (also InHdrErrors / InErrors), RcvbufErrors (also InErrors), ReasmFails and
 * ReasmOverlaps (the fragment already counted in ReasmReqds), Icmp.InErrors for a bad
 * quoted header (the message was counted in InMsgs and its InType), ping/raw socket drops.
 * One packet Linux counts in two of the summed counters: an IPv6 fragment that is not the
 * last but not a multiple of 8 bytes (ipv6_frag_rcv: ReasmReqds, then InHdrErrors).
 *
 * Linux drops these packets without any of these counters, and the check allows
 * exactly those: IPv4 source-routed packets (accept_source_route 0), IPv4 martians
 * (ip_route_input_slow: a source that is multicast, limited broadcast, 0/8, 127/8 or our
 * own address, a destination in 0/8 or 127/8, for frames that came without the host's
 * route; counted only in /proc/net/stat/rt_cache), multicast the route input refuses,
 * and any IPv4 packet once lo has no in_device, after an MTU under 68: checked on 6.18)
 * and IPv6 NEXTHDR_NONE (InDelivers to nodata_protocol, which counts nothing more).
 *
 * The stack's own answers (echo replies, ICMP errors, TCP resets) are further frames on
 * lo: Ip.OutTransmits and Ip6.OutTransmits count them in.
 */
import { devGetStats } from '../src/core/netdevice.js';
import type { Net } from '../src/net/net.js';
import { procRead } from '../src/net/procfs.js';
import { invariant } from './harness.js';

export type Counters = Record<string, number>;

/** Reads every counter the equations use, from the live state the tools print. */
export function snapshot(net: Net): Counters {
  const s = devGetStats(net.lo);
  const m4 = net.ipv4.mib;
  const m6 = net.ipv6.mib;
  const c: Counters = {
    rxDropped: s.rxDropped,
    txDropped: s.txDropped,
    rxOtherhost: s.rxOtherhostDropped,
    softnetDropped: net.kernel.cpus.reduce((n, cpu) => n + cpu.sd.dropped, 0),
  };
  for (const [k, v] of Object.entries(m4.ip)) c[`Ip.${k}`] = v;
  for (const [k, v] of Object.entries(m4.ipExt)) c[`IpExt.${k}`] = v;
  for (const [k, v] of Object.entries(m4.icmp)) c[`Icmp.${k}`] = v;
  for (const [k, v] of Object.entries(m4.udp)) c[`Udp.${k}`] = v;
  for (const [k, v] of Object.entries(m4.tcp)) c[`Tcp.${k}`] = v;
  for (const [k, v] of Object.entries(m6.ip6)) c[`Ip6.${k}`] = v;
  for (const [k, v] of Object.entries(m6.icmp6)) c[`Icmp6.${k}`] = v;
  for (const [k, v] of Object.entries(m6.udp6)) c[`Udp6.${k}`] = v;
  // ip_route_input_slow's martians: in_martian_dst and in_martian_src of every CPU.
  const rtCache = String(procRead(net, '/proc/net/stat/rt_cache')).trim().split('\n');
  const cols = (rtCache[0] ?? '').split(/ +/);
  c.martians = 0;
  for (const line of rtCache.slice(1)) {
    const v = line.split(/ +/).map((x) => Number.parseInt(x, 16));
    c.martians += (v[cols.indexOf('in_martian_dst')] ?? 0) + (v[cols.indexOf('in_martian_src')] ?? 0);
  }
  return c;
}

const sum = (d: Counters, keys: string[]) => keys.reduce((n, k) => n + (d[k] ?? 0), 0);

const IP_TERMINAL = [
  'InHdrErrors',
  'InTruncatedPkts',
  'InAddrErrors',
  'InUnknownProtos',
  'InDiscards',
  'InNoRoutes',
  'ReasmReqds',
  'InDelivers',
];

export interface Exemptions {
  /** How many frames Linux drops with no counter (isMartian4); counted martians come from rt_cache. */
  martian4: number;
  /** How many frames' IPv6 chains end in NEXTHDR_NONE: InDelivers, then nothing to count. */
  none6: number;
  /** How many frames are IPv6 fragments refused with a parameter problem: ReasmReqds and InHdrErrors both. */
  badFrag6: number;
  /** Packets raw sockets alone took (protocols with no handler): InDelivers with no L4 counter. */
  rawOnly: number;
  /** ARP frames: lo is NOARP, and arp_rcv consumes them with no counter, as Linux does. */
  arp?: number;
  /** IPv6 packets a blackhole route takes: dst_discard, no counter, as Linux does. */
  blackhole6?: number;
}

/**
 * Checks the equations for one frame between `before` and `after`. Throws naming the
 * layer that lost or double-counted a packet.
 */
export function checkLedger(before: Counters, after: Counters, frames: number, ex: Exemptions): void {
  const d: Counters = {};
  for (const k of Object.keys(after)) d[k] = (after[k] ?? 0) - (before[k] ?? 0);
  const show = () =>
    Object.entries(d)
      .filter(([, v]) => v !== 0)
      .map(([k, v]) => `${k}+${v}`)
      .join(' ');
  // What the stack sent in answer (echo replies, ICMP errors, TCP resets) crossed lo too.
  const units = frames + sum(d, ['Ip.OutTransmits', 'Ip6.OutTransmits']);
  // A backlog drop is softnet_stat's `dropped` and lo's rx_dropped both: never one without the other.
  invariant(
    (d.softnetDropped ?? 0) <= (d.rxDropped ?? 0),
    `softnet dropped ${d.softnetDropped}, rx_dropped ${d.rxDropped}`,
  );
  const link = sum(d, ['rxDropped', 'txDropped', 'rxOtherhost', 'Ip.InReceives', 'Ip6.InReceives']);
  invariant(link + (ex.arp ?? 0) === units, `link layer: ${units} frame(s) in, ${link} accounted for (${show()})`);

  const in4 = sum(d, ['Ip.InReceives', 'Ip.ReasmOKs']);
  const out4 = sum(
    d,
    IP_TERMINAL.map((k) => (k === 'InTruncatedPkts' || k === 'InNoRoutes' ? `IpExt.${k}` : `Ip.${k}`)),
  );
  // A multicast packet no socket joined for (a reset the stack sent to a multicast source,
  // back over lo) ends with InMcastPkts and no IP counter after it, as on Linux.
  const martians = ex.martian4 + (d.martians ?? 0) + (d['IpExt.InMcastPkts'] ?? 0);
  invariant(out4 <= in4 && in4 - out4 <= martians, `IPv4: ${in4} packet(s) in, ${out4} accounted for (${show()})`);

  const in6 = sum(d, ['Ip6.InReceives', 'Ip6.ReasmOKs']);
  const out6 = sum(
    d,
    [...IP_TERMINAL, 'InTooBigErrors'].map((k) => `Ip6.${k}`),
  );
  invariant(
    out6 + (ex.blackhole6 ?? 0) >= in6 && out6 - in6 <= ex.badFrag6,
    `IPv6: ${in6} packet(s) in, ${out6} accounted for (${show()})`,
  );

  const inL4 = sum(d, ['Ip.InDelivers', 'Ip6.InDelivers']);
  const udp = ['InDatagrams', 'InErrors', 'NoPorts', 'IgnoredMulti'];
  const outL4 =
    sum(d, [
      'Icmp.InMsgs',
      'Icmp6.InMsgs',
      'Tcp.InSegs',
      ...udp.map((k) => `Udp.${k}`),
      ...udp.map((k) => `Udp6.${k}`),
    ]) + ex.rawOnly;
  invariant(
    outL4 <= inL4 && inL4 - outL4 <= ex.none6,
    `transport: ${inL4} delivered, ${outL4} accounted for (${show()})`,
  );
}

/**
 * The IPv4 frames Linux drops without any counter at all: source-routed ones, and those to
 * a multicast group (an unjoined group has no route; a joined one whose source
 * ip_mc_validate_source refuses is dropped uncounted too). Other martians are counted in
 * /proc/net/stat/rt_cache, which the ledger reads.
 */
export function isMartian4(frame: Uint8Array): boolean {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return false;
  if (sourceRouted(frame)) return true;
  const d0 = frame[30] as number;
  return d0 >= 224 && d0 < 240;
}

/**
 * A header with a loose or strict source route option: ip_rcv_options() drops it without
 * a counter while accept_source_route is 0 (only a malformed option is InHdrErrors).
 */
function sourceRouted(frame: Uint8Array): boolean {
  const ihl = ((frame[14] as number) & 15) * 4;
  const end = Math.min(14 + ihl, frame.length);
  for (let i = 34; i < end; ) {
    const t = frame[i] as number;
    if (t === 0) return false;
    if (t === 1) {
      i++;
      continue;
    }
    if (t === 0x83 || t === 0x89) return true;
    const len = frame[i + 1] ?? 0;
    if (len < 2) return false;
    i += len;
  }
  return false;
}
