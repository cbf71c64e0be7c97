/**
 * TCP MD5 signatures, RFC 2385 (net/ipv4/tcp.c, tcp_ipv4.c, tcp_ipv6.c): keys per peer
 * address (TCP_MD5SIG / TCP_MD5SIG_EXT), the signature option (kind 19) on every segment
 * to a peer with a key, and the check of what arrives: a segment without the option from
 * a keyed peer (TCPMD5NotFound), with it from a peer without a key (TCPMD5Unexpected), or
 * with a wrong digest (TCPMD5Failure) is dropped. The MD5 itself is the platform's
 * (kernel/crypto.ts).
 */

import { E } from '../../include/errno.js';
import { cryptoMd5 } from '../../kernel/crypto.js';
import { isV4Mapped } from '../udp.js';
import type { NetnsTcp } from './netns.js';

/** struct tcp_md5sig_key: a key for the peers under addr/prefixlen (v4-mapped for IPv4). */
export interface TcpMd5Key {
  family: 4 | 6;
  addr: Uint8Array;
  prefixlen: number;
  l3index: number;
  flags: number;
  key: Uint8Array;
}

export const TCP_MD5SIG_MAXKEYLEN = 80;
export const TCP_MD5SIG_FLAG = { PREFIX: 0x1, IFINDEX: 0x2 } as const;
export const TCPOLEN_MD5SIG_ALIGNED = 20;

/** Whether this host can sign (CONFIG_TCP_MD5SIG): only where the platform gives MD5. */
export function tcpMd5Available(): boolean {
  return cryptoMd5() !== null;
}

function prefixMatch(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a[i] as number) & mask) !== ((b[i] as number) & mask)) return false;
  }
  return true;
}

/** tcp_md5_do_lookup(): the key with the longest prefix covering `addr`, or null. */
export function tcpMd5DoLookup(keys: readonly TcpMd5Key[] | null, addr: Uint8Array): TcpMd5Key | null {
  if (keys === null) return null;
  const family = isV4Mapped(addr) ? 4 : 6;
  let best: TcpMd5Key | null = null;
  for (const k of keys) {
    if (k.family !== family || k.l3index !== 0) continue;
    const bits = family === 4 ? 96 + k.prefixlen : k.prefixlen;
    if (prefixMatch(k.addr, addr, bits) && (best === null || k.prefixlen > best.prefixlen)) best = k;
  }
  return best;
}

/**
 * tcp_md5_do_add() / tcp_md5_do_del() (tcp_v4_parse_md5_keys, tcp_v6_parse_md5_keys): a
 * key of 0 bytes deletes the one for that address and prefix (ENOENT if none).
 */
export function tcpMd5SetKey(keys: TcpMd5Key[], k: TcpMd5Key): number {
  if (k.key.byteLength > TCP_MD5SIG_MAXKEYLEN) return -E.EINVAL;
  const same = (x: TcpMd5Key) =>
    x.family === k.family && x.prefixlen === k.prefixlen && x.l3index === k.l3index && prefixMatch(x.addr, k.addr, 128);
  const i = keys.findIndex(same);
  if (k.key.byteLength === 0) {
    if (i < 0) return -E.ENOENT;
    keys.splice(i, 1);
    return 0;
  }
  if (i >= 0) keys[i] = k;
  else keys.push(k);
  return 0;
}

/**
 * tcp_v4_md5_hash_skb() / tcp_v6_md5_hash_skb(): MD5 over the pseudo-header, the TCP
 * header without options and with a zero checksum, the payload, and the key.
 */
export function tcpMd5Hash(
  key: TcpMd5Key,
  saddr: Uint8Array,
  daddr: Uint8Array,
  header: Uint8Array,
  payload: readonly Uint8Array[],
  tcpLen: number,
): Uint8Array {
  const md5 = cryptoMd5();
  if (md5 === null) throw new Error('TCP MD5 keys exist but no MD5 is registered');
  let pseudo: Uint8Array;
  if (isV4Mapped(saddr)) {
    // struct tcp4_pseudohdr: saddr, daddr, pad, protocol, len.
    pseudo = new Uint8Array(12);
    pseudo.set(saddr.subarray(12), 0);
    pseudo.set(daddr.subarray(12), 4);
    pseudo[9] = 6;
    pseudo[10] = tcpLen >>> 8;
    pseudo[11] = tcpLen & 0xff;
  } else {
    // struct tcp6_pseudohdr: saddr, daddr, len (32 bits), protocol (32 bits).
    pseudo = new Uint8Array(40);
    pseudo.set(saddr, 0);
    pseudo.set(daddr, 16);
    new DataView(pseudo.buffer).setUint32(32, tcpLen);
    pseudo[39] = 6;
  }
  const th = header.slice(0, 20);
  th[16] = 0;
  th[17] = 0;
  return md5([pseudo, th, ...payload, key.key]);
}

/** What tcp_inbound_md5_hash() needs of an arriving segment. */
export interface Md5Seen {
  /** The option's digest, or null when the segment carries none. */
  digest: Uint8Array | null;
  header: Uint8Array;
  payload: readonly Uint8Array[];
  tcpLen: number;
}

/**
 * tcp_inbound_md5_hash(): whether to drop a segment from `saddr` to `daddr`, given the
 * keys of the socket it reached, counting why as Linux does.
 */
export function tcpInboundMd5Drop(
  tn: NetnsTcp,
  keys: readonly TcpMd5Key[] | null,
  saddr: Uint8Array,
  daddr: Uint8Array,
  seen: Md5Seen,
): boolean {
  const key = tcpMd5DoLookup(keys, saddr);
  if (key === null) {
    if (seen.digest === null) return false;
    tn.ext.TCPMD5Unexpected++;
    return true;
  }
  if (seen.digest === null) {
    tn.ext.TCPMD5NotFound++;
    return true;
  }
  const want = tcpMd5Hash(key, saddr, daddr, seen.header, seen.payload, seen.tcpLen);
  for (let i = 0; i < 16; i++)
    if (want[i] !== seen.digest[i]) {
      tn.ext.TCPMD5Failure++;
      return true;
    }
  return false;
}
