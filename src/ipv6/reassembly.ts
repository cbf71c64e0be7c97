/**
 * IPv6 fragments: ip6_fragment (net/ipv6/ip6_output.c), which only the source does,
 * and reassembly (net/ipv6/reassembly.c) on the shared inet_fragment queues. Any
 * overlap discards the datagram (RFC 5722); a queue left incomplete for
 * ip6frag_time (60 s) is dropped with ICMPv6 time exceeded if its first piece came.
 */

import { allocSkb, kfreeSkb, type SkBuff, skbAddFrag, skbChecksumHelp, skbCopyBits, skbPut } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { FragDir, type FragQueue, fragPayload, INET_FRAG } from '../net/inet-fragment.js';
import type { Net } from '../net/net.js';
import { ICMPV6 } from '../wire/icmpv6.js';
import {
  emitIpv6Frag,
  IPV6_FRAG_HEADER_LEN,
  IPV6_HEADER_LEN,
  Ipv6FragHeader,
  Ipv6Header,
  NEXTHDR,
} from '../wire/ipv6.js';
import { ipv6Key } from './addr.js';
import { icmpv6Send } from './icmp.js';

/** net.ipv6.ip6frag_* defaults. */
const IP6FRAG_HIGH_THRESH = 4 * 1024 * 1024;
const IP6FRAG_TIME_NS = 60e9;

const dirs = new WeakMap<Net, FragDir>();
const idents = new WeakMap<Net, Uint32Array>();

function fragDir(net: Net): FragDir {
  let d = dirs.get(net);
  if (d === undefined) {
    d = new FragDir(net);
    dirs.set(net, d);
  }
  return d;
}

export function ip6FragMem(net: Net): number {
  return dirs.get(net)?.mem ?? 0;
}

/** ipv6_select_ident(): a fresh 32-bit identification from a per-namespace random start. */
function ipv6SelectIdent(net: Net): number {
  let s = idents.get(net);
  if (s === undefined) {
    s = crypto.getRandomValues(new Uint32Array(1));
    idents.set(net, s);
  }
  s[0] = ((s[0] as number) + 1) >>> 0;
  return s[0] as number;
}

/**
 * ip6_fragment(), the slow path: the IPv6 header is repeated in each piece, followed by
 * a fragment header; every piece but the last carries a multiple of 8 bytes.
 */
export function ip6Fragment(net: Net, skb: SkBuff, mtu: number, output: (net: Net, skb: SkBuff) => number): number {
  const mib = net.ipv6.mib.ip6;
  const from = skb.networkHeader - skb.data;
  const ip6 = skbCopyBits(skb, from, IPV6_HEADER_LEN);
  const nexthdr = new Ipv6Header(ip6, 0).nextHeader;
  let left = skb.len - from - IPV6_HEADER_LEN;
  const chunk = (mtu - IPV6_HEADER_LEN - IPV6_FRAG_HEADER_LEN) & ~7;
  if (!skb.ignoreDf || chunk <= 0) {
    mib.FragFails++;
    kfreeSkb(skb);
    return -E.EMSGSIZE;
  }
  skbChecksumHelp(skb);
  const ident = ipv6SelectIdent(net);
  let offset = 0;
  let err = 0;
  while (left > 0) {
    const len = left > chunk ? chunk : left;
    const frag = allocSkb(IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN + len, 16);
    const at = skbPut(frag, IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN + len);
    frag.head.set(ip6, at);
    const h = new Ipv6Header(frag.head, at);
    h.nextHeader = NEXTHDR.FRAGMENT;
    h.payloadLength = IPV6_FRAG_HEADER_LEN + len;
    emitIpv6Frag(
      { nextHeader: nexthdr, fragOffset: offset, mf: left - len > 0, ident },
      frag.head,
      at + IPV6_HEADER_LEN,
    );
    frag.head.set(skbCopyBits(skb, from + IPV6_HEADER_LEN + offset, len), at + IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN);
    frag.networkHeader = at;
    frag.dst = skb.dst;
    frag.dev = skb.dev;
    frag.protocol = skb.protocol;
    left -= len;
    offset += len;
    mib.FragCreates++;
    const r = output(net, frag);
    if (r < 0 && err === 0) err = r;
  }
  kfreeSkb(skb);
  if (err !== 0) mib.FragFails++;
  else mib.FragOKs++;
  return err;
}

function ip6Expire(net: Net, q: FragQueue): void {
  const mib = net.ipv6.mib.ip6;
  mib.ReasmFails++;
  mib.ReasmTimeout++;
  const first = q.frags[0];
  if (q.flags & INET_FRAG.FIRST_IN && first !== undefined && first.offset === 0) {
    icmpv6Send(first.skb, ICMPV6.TIME_EXCEED, ICMPV6.EXC_FRAGTIME, 0);
  }
}

/**
 * ipv6_frag_rcv(): `fragHeader` is the fragment header's offset in skb.head and
 * `nhoff` that of the byte naming it. Returns the whole packet (the fragment header
 * gone, its next header in place), the skb itself for an atomic fragment, or null.
 */
export function ipv6FragRcv(net: Net, skb: SkBuff, fragHeader: number, nhoff: number): SkBuff | null {
  const mib = net.ipv6.mib.ip6;
  mib.ReasmReqds++;
  const fh = new Ipv6FragHeader(skb.head, fragHeader);
  const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
  if (fh.fragOffset === 0 && !fh.mf) {
    // An atomic fragment (RFC 6946): a whole packet that happens to carry the header.
    mib.ReasmOKs++;
    return skb;
  }
  const payloadAt = fragHeader + IPV6_FRAG_HEADER_LEN - skb.data;
  const offset = fh.fragOffset;
  let end = offset + (skb.len - payloadAt);
  // Every piece but the last must be a multiple of 8 bytes: parameter problem otherwise.
  if (fh.mf && (skb.len - payloadAt) & 7) {
    mib.InHdrErrors++;
    icmpv6Send(skb, ICMPV6.PARAMPROB, ICMPV6.HDR_FIELD, 4);
    kfreeSkb(skb);
    return null;
  }
  const key = `${ipv6Key(ip6.src)}/${ipv6Key(ip6.dst)}/${fh.ident}`;
  const q = fragDir(net).find(key, IP6FRAG_HIGH_THRESH, IP6FRAG_TIME_NS, (qq) => ip6Expire(net, qq));
  if (q === null) {
    mib.ReasmFails++;
    kfreeSkb(skb);
    return null;
  }
  const fail = () => {
    mib.ReasmFails++;
    q.kill();
    kfreeSkb(skb);
    return null;
  };
  if (!fh.mf) {
    if (end < q.len || (q.flags & INET_FRAG.LAST_IN && end !== q.len)) return fail();
    q.flags |= INET_FRAG.LAST_IN;
    q.len = end;
  } else {
    end &= ~7;
    if (end > q.len) {
      if (q.flags & INET_FRAG.LAST_IN) return fail();
      q.len = end;
    }
  }
  if (end === offset) return fail();
  const r = q.insert({ offset, end, skb, payloadAt });
  if (r === 'dup') {
    kfreeSkb(skb);
    return null;
  }
  if (r === 'overlap') return fail();
  if (offset === 0) {
    q.flags |= INET_FRAG.FIRST_IN;
    q.nhoff = nhoff - skb.networkHeader;
  }
  if (!q.complete) return null;
  return ip6FragReasm(net, q);
}

/** ip6_frag_reasm(): the first piece's unfragmentable part, minus the fragment header, then the payloads. */
function ip6FragReasm(net: Net, q: FragQueue): SkBuff | null {
  const nhRel = q.nhoff;
  const frags = q.takeFragments();
  const first = frags[0];
  if (first === undefined) return null;
  const head = first.skb;
  const unfrag = first.payloadAt - IPV6_FRAG_HEADER_LEN - (head.networkHeader - head.data);
  if (unfrag - IPV6_HEADER_LEN + q.len > 0xffff) {
    net.ipv6.mib.ip6.ReasmFails++;
    for (const f of frags) kfreeSkb(f.skb);
    return null;
  }
  const fragNexthdr = head.head[head.data + first.payloadAt - IPV6_FRAG_HEADER_LEN] as number;
  const whole = allocSkb(unfrag, 16 + IPV6_HEADER_LEN);
  const at = skbPut(whole, unfrag);
  whole.head.set(skbCopyBits(head, head.networkHeader - head.data, unfrag), at);
  whole.head[at + nhRel] = fragNexthdr;
  for (const f of frags) {
    skbAddFrag(whole, fragPayload(f));
    kfreeSkb(f.skb);
  }
  new Ipv6Header(whole.head, at).payloadLength = unfrag - IPV6_HEADER_LEN + q.len;
  whole.networkHeader = at;
  whole.transportHeader = at + unfrag;
  whole.dev = head.dev;
  whole.dst = head.dst;
  whole.protocol = head.protocol;
  whole.pktType = head.pktType;
  whole.tstamp = head.tstamp;
  net.ipv6.mib.ip6.ReasmOKs++;
  return whole;
}
