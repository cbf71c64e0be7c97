/**
 * IPv4 fragmentation (ip_output.c ip_do_fragment) and reassembly
 * (net/ipv4/ip_fragment.c ip_defrag). A packet larger than the route MTU is cut into
 * 8-byte-aligned pieces, each with its own header; on the way in, pieces are queued
 * until the datagram is whole, then handed up as one skb whose payload is the pieces'
 * bytes, uncopied. Counters as Linux keeps them: FragOKs/FragCreates/FragFails,
 * ReasmReqds/ReasmOKs/ReasmFails/ReasmTimeout, ReasmOverlaps.
 */

import { allocSkb, kfreeSkb, type SkBuff, skbAddFrag, skbChecksumHelp, skbCopyBits, skbPut } from '../core/skbuff.js';
import { E } from '../include/errno.js';
import { FragDir, type FragQueue, fragPayload, INET_FRAG } from '../net/inet-fragment.js';
import type { Net } from '../net/net.js';
import { ICMP } from '../wire/icmp.js';
import { Ipv4Header } from '../wire/ipv4.js';
import { icmpSend } from './icmp.js';
import { ipDefragHandler } from './ip-input.js';
import { IPV4_MAX_HEADROOM, ipFragmentHandler } from './ip-output.js';

const dirs = new WeakMap<Net, FragDir>();

function fragDir(net: Net): FragDir {
  let d = dirs.get(net);
  if (d === undefined) {
    d = new FragDir(net);
    dirs.set(net, d);
  }
  return d;
}

/** Bytes of fragment memory a namespace holds now (for tests and /proc/net/sockstat's FRAG line). */
export function ipFragMem(net: Net): number {
  return dirs.get(net)?.mem ?? 0;
}

/**
 * ip_do_fragment(), the slow path: every piece but the last carries a multiple of 8
 * bytes; each gets a copy of the header with its offset, MF and length.
 */
export function ipFragment(net: Net, skb: SkBuff, mtu: number, output: (net: Net, skb: SkBuff) => number): number {
  const mib = net.ipv4.mib.ip;
  const iph = new Ipv4Header(skb.head, skb.networkHeader);
  // ip_fragment(): DF that the sender meant (not "want" mode's advisory DF) forbids it.
  if (iph.df && !skb.ignoreDf) {
    mib.FragFails++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP.FRAG_NEEDED, mtu);
    kfreeSkb(skb);
    return -E.EMSGSIZE;
  }
  const hlen = iph.headerLen;
  const fromData = skb.networkHeader - skb.data;
  const total = iph.totalLength;
  let left = total - hlen;
  const chunk = (mtu - hlen) & ~7;
  if (chunk <= 0) {
    mib.FragFails++;
    kfreeSkb(skb);
    return -E.EMSGSIZE;
  }
  skbChecksumHelp(skb);
  const header = skbCopyBits(skb, fromData, hlen);
  const baseOff = iph.fragOffset;
  const baseMf = iph.mf;
  let offset = 0;
  let err = 0;
  while (left > 0) {
    const len = left > mtu - hlen ? chunk : left;
    const frag = allocSkb(hlen + len, 16);
    const at = skbPut(frag, hlen + len);
    frag.head.set(header, at);
    frag.head.set(skbCopyBits(skb, fromData + hlen + offset, len), at + hlen);
    frag.networkHeader = at;
    frag.transportHeader = at + hlen;
    frag.dst = skb.dst;
    frag.dev = skb.dev;
    frag.protocol = skb.protocol;
    frag.mark = skb.mark;
    frag.priority = skb.priority;
    const h = new Ipv4Header(frag.head, at);
    // Options without the copy flag belong to the first piece only (ip_options_fragment);
    // lonet sends none, so the header copies as it is.
    h.fragOffset = baseOff + offset;
    h.mf = left - len > 0 || baseMf;
    h.totalLength = hlen + len;
    h.fillChecksum();
    left -= len;
    offset += len;
    mib.FragCreates++;
    const r = output(net, frag);
    if (r < 0 && err === 0) err = r;
  }
  // The original gave its bytes away and goes; its destructor returns the sender's credit.
  kfreeSkb(skb);
  if (err !== 0) mib.FragFails++;
  else mib.FragOKs++;
  return err;
}

/** ipq_kill + ip_expire(): the datagram never completed; tell the sender if its first piece came. */
function ipExpire(net: Net, q: FragQueue): void {
  const mib = net.ipv4.mib.ip;
  mib.ReasmFails++;
  mib.ReasmTimeout++;
  const first = q.frags[0];
  if (q.flags & INET_FRAG.FIRST_IN && first !== undefined && first.offset === 0) {
    icmpSend(first.skb, ICMP.TIME_EXCEEDED, ICMP.EXC_FRAGTIME, 0);
  }
}

/**
 * ip_defrag(): queue a fragment (data at the transport header, IP header at
 * networkHeader); returns the whole datagram once complete, else null.
 */
export function ipDefrag(net: Net, skb: SkBuff): SkBuff | null {
  const mib = net.ipv4.mib.ip;
  mib.ReasmReqds++;
  const iph = new Ipv4Header(skb.head, skb.networkHeader);
  const sys = net.ipv4.sysctl;
  const key = `${iph.src}/${iph.dst}/${iph.ident}/${iph.protocol}`;
  const q = fragDir(net).find(key, sys.ipfrag_high_thresh, sys.ipfrag_time * 1e9, (qq) => ipExpire(net, qq));
  if (q === null) {
    mib.ReasmFails++;
    kfreeSkb(skb);
    return null;
  }
  const offset = iph.fragOffset;
  const payloadAt = skb.transportHeader - skb.data;
  let end = offset + (skb.len - payloadAt);
  const fail = () => {
    mib.ReasmFails++;
    q.kill();
    kfreeSkb(skb);
    return null;
  };
  if (!iph.mf) {
    // The last piece fixes the length; one that disagrees with what came before is corrupt.
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
  if (r === 'overlap') {
    net.ipv4.mib.ipExt.ReasmOverlaps++;
    return fail();
  }
  if (offset === 0) q.flags |= INET_FRAG.FIRST_IN;
  if (!q.complete) return null;
  return ipFragReasm(net, q);
}

/**
 * ip_frag_reasm(): the first piece's header (offset and MF cleared, new length), then
 * every piece's payload as a fragment of one skb: no bytes are copied.
 */
function ipFragReasm(net: Net, q: FragQueue): SkBuff | null {
  const frags = q.takeFragments();
  const first = frags[0];
  if (first === undefined) return null;
  const head = first.skb;
  const hlen = head.transportHeader - head.networkHeader;
  if (hlen + q.len > 0xffff) {
    net.ipv4.mib.ip.ReasmFails++;
    for (const f of frags) kfreeSkb(f.skb);
    return null;
  }
  const whole = allocSkb(hlen, IPV4_MAX_HEADROOM);
  const at = skbPut(whole, hlen);
  whole.head.set(skbCopyBits(head, head.networkHeader - head.data, hlen), at);
  for (const f of frags) {
    skbAddFrag(whole, fragPayload(f));
    kfreeSkb(f.skb);
  }
  const h = new Ipv4Header(whole.head, at);
  h.fragOff = h.fragOff & 0x8000 ? 0x8000 : 0;
  h.totalLength = hlen + q.len;
  h.fillChecksum();
  whole.networkHeader = at;
  whole.transportHeader = at + hlen;
  whole.data = at + hlen;
  whole.len = q.len;
  whole.dataLen = q.len;
  whole.dev = head.dev;
  whole.dst = head.dst;
  whole.protocol = head.protocol;
  whole.pktType = head.pktType;
  whole.tstamp = head.tstamp;
  whole.mark = head.mark;
  net.ipv4.mib.ip.ReasmOKs++;
  return whole;
}

export function ipFragmentInit(): void {
  ipDefragHandler.defrag = ipDefrag;
  ipFragmentHandler.fragment = ipFragment;
}
