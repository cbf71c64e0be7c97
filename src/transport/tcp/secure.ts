/**
 * net/core/secure_seq.c: initial sequence numbers per RFC 6528 (a keyed hash of the
 * 4-tuple plus a clock ticking every 64 ns), per-pair timestamp offsets, and the hash
 * SYN cookies are made of. The keys are random per namespace. The hash is a keyed
 * multiply-xorshift mix, not siphash: unpredictable enough for a simulated network.
 */
import type { Net } from '../../net/net.js';
import type { NetnsTcp } from './netns.js';

function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

function addrWords(h: number, a: Uint8Array): number {
  for (let i = 0; i < 16; i += 4) {
    h = mix(
      h,
      ((a[i] as number) << 24) | ((a[i + 1] as number) << 16) | ((a[i + 2] as number) << 8) | (a[i + 3] as number),
    );
  }
  return h;
}

/** A keyed hash of a connection's addresses and ports (and `extra`). */
export function tcpHash(
  key: Uint32Array,
  k: number,
  saddr: Uint8Array,
  sport: number,
  daddr: Uint8Array,
  dport: number,
  extra = 0,
): number {
  let h = key[k] as number;
  h = addrWords(h, saddr);
  h = addrWords(h, daddr);
  h = mix(h, (sport << 16) | dport);
  h = mix(h, extra);
  return mix(h, key[k + 1] as number);
}

/** secure_tcp_seq(): hash + ktime_get_real_ns() >> 6. */
export function secureTcpSeq(
  tn: NetnsTcp,
  saddr: Uint8Array,
  sport: number,
  daddr: Uint8Array,
  dport: number,
  net: Net,
): number {
  const h = tcpHash(tn.secret, 0, saddr, sport, daddr, dport);
  return (h + Math.floor(net.kernel.clock.realtime() / 64)) >>> 0;
}

/** secure_tcp_ts_off(): a random-looking offset per address pair, so TS values leak no uptime. */
export function secureTcpTsOff(tn: NetnsTcp, saddr: Uint8Array, daddr: Uint8Array): number {
  return tcpHash(tn.secret, 2, saddr, 0, daddr, 0);
}
