/**
 * IP identifiers (net/ipv4/route.c ip_idents_reserve, include/net/ip.h
 * ip_select_ident_segs): a connected socket numbers its own packets; a DF packet
 * from no such socket gets 0; everything else takes the next id of one of 2048
 * counters chosen by a keyed hash of (daddr, saddr, protocol), so ids do not
 * reveal how much a host sends in total.
 */
import type { Net } from '../net/net.js';

const IP_IDENTS_SZ = 2048;

interface IdentState {
  idents: Uint32Array;
  key: Uint32Array;
}

const states = new WeakMap<Net, IdentState>();

function state(net: Net): IdentState {
  let s = states.get(net);
  if (s === undefined) {
    const key = new Uint32Array(4);
    crypto.getRandomValues(key);
    const idents = new Uint32Array(IP_IDENTS_SZ);
    crypto.getRandomValues(idents);
    s = { idents, key };
    states.set(net, s);
  }
  return s;
}

/** A small keyed mix (siphash's role in Linux): spreads flows over the counters. */
function mix(a: number, b: number, c: number, k: Uint32Array): number {
  let h = (a ^ (k[0] as number)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = (h ^ b ^ (k[1] as number)) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ c ^ (k[2] as number)) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** __ip_select_ident(): the id for a packet no connected socket numbers. */
export function ipSelectIdentHashed(net: Net, daddr: number, saddr: number, protocol: number, segs = 1): number {
  const s = state(net);
  const bucket = mix(daddr, saddr, protocol, s.key) % IP_IDENTS_SZ;
  const id = s.idents[bucket] as number;
  s.idents[bucket] = (id + segs) >>> 0;
  return id & 0xffff;
}
