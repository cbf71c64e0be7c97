/**
 * The internet checksum (RFC 1071), shaped like Linux's include/net/checksum.h.
 *
 * A "partial" sum (Linux's __wsum) is an unfolded one's complement sum: any non-negative
 * integer below 2^32 whose value mod 0xffff is what matters. Add ranges with `csumPartial`,
 * combine with `csumAdd`, and `csumFold` once at the end to get the 16-bit field value
 * (already complemented, as csum_fold() returns it). A folded value of 0 from
 * `csumFold(sum over a packet including its checksum field)` means "checksum correct".
 */

/** Reduces a sum of any size below 2^53 to 32 bits without changing its value mod 0xffff. */
function reduce32(sum: number): number {
  // 2^16 ≡ 1 (mod 0xffff), so adding the 16-bit halves preserves the one's complement value.
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * csum_partial(): adds buf[off, off + len) to `sum` as big-endian 16-bit words; an odd last
 * byte is padded with a zero low byte (RFC 1071). The range is taken to start at an even
 * position of the checksummed stream: for a range at an odd position use `csumBlockAdd`.
 */
export function csumPartial(buf: Uint8Array, off: number, len: number, sum = 0): number {
  // High and low bytes are summed apart and combined once: no per-word shifts or folds.
  // The sums stay exact in a double for any buffer below 2^37 bytes.
  let hi = 0;
  let lo = 0;
  const end = off + len;
  const even = end - (len & 1);
  let i = off;
  for (; i + 8 <= even; i += 8) {
    hi += buf[i]! + buf[i + 2]! + buf[i + 4]! + buf[i + 6]!;
    lo += buf[i + 1]! + buf[i + 3]! + buf[i + 5]! + buf[i + 7]!;
  }
  for (; i < even; i += 2) {
    hi += buf[i]!;
    lo += buf[i + 1]!;
  }
  if (len & 1) hi += buf[end - 1]!;
  return reduce32(sum + hi * 256 + lo);
}

/** csum_add(): one's complement addition of two partial sums. */
export function csumAdd(a: number, b: number): number {
  return reduce32(a + b);
}

/** csum_sub(): removes partial sum `b` from `a` (adds its one's complement). */
export function csumSub(a: number, b: number): number {
  return reduce32(a + (~reduce32(b) >>> 0));
}

/**
 * csum_block_add(): adds `sum2`, the sum of a block that starts `offset` bytes into the
 * checksummed stream. At an odd offset its bytes sit in the other half of each word,
 * which a byte rotation of the 32-bit sum accounts for.
 */
export function csumBlockAdd(sum: number, sum2: number, offset: number): number {
  if (offset & 1) {
    const s = reduce32(sum2);
    sum2 = ((s >>> 8) | (s << 24)) >>> 0;
  }
  return csumAdd(sum, sum2);
}

/** csum_fold(): folds a partial sum to 16 bits and complements it: the value for a checksum field. */
export function csumFold(sum: number): number {
  sum = reduce32(sum);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** csum_unfold(): a 16-bit value (a field, or the complement of a folded sum) as a partial sum. */
export function csumUnfold(v: number): number {
  return v & 0xffff;
}

/**
 * ip_fast_csum(): the checksum of an IPv4 header of `ihl` 32-bit words at buf[off]. Over a
 * header with its checksum field filled in, 0 means correct.
 */
export function ipFastCsum(buf: Uint8Array, off: number, ihl: number): number {
  return csumFold(csumPartial(buf, off, ihl * 4));
}

/**
 * csum_tcpudp_nofold(): `sum` plus the IPv4 pseudo-header (RFC 793 / RFC 768): source,
 * destination (host-order u32), zero + protocol, and the transport length.
 */
export function csumTcpudpNofold(saddr: number, daddr: number, len: number, proto: number, sum = 0): number {
  return reduce32(
    sum + (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + (proto & 0xff) + (len & 0xffff),
  );
}

/** csum_tcpudp_magic(): the folded, complemented checksum of the IPv4 pseudo-header plus `sum`. */
export function csumTcpudpMagic(saddr: number, daddr: number, len: number, proto: number, sum = 0): number {
  return csumFold(csumTcpudpNofold(saddr, daddr, len, proto, sum));
}

/**
 * The IPv6 pseudo-header (RFC 8200 §8.1) plus `sum`, unfolded: source and destination
 * (16 bytes each), the 32-bit upper-layer length and the next header. Linux has only the
 * folded form; this is its __wsum half, for callers that keep adding.
 */
export function csumIpv6Nofold(saddr: Uint8Array, daddr: Uint8Array, len: number, proto: number, sum = 0): number {
  sum = csumPartial(saddr, 0, 16, sum);
  sum = csumPartial(daddr, 0, 16, sum);
  return reduce32(sum + (len >>> 16) + (len & 0xffff) + (proto & 0xff));
}

/** csum_ipv6_magic(): the folded, complemented checksum of the IPv6 pseudo-header plus `sum`. */
export function csumIpv6Magic(saddr: Uint8Array, daddr: Uint8Array, len: number, proto: number, sum = 0): number {
  return csumFold(csumIpv6Nofold(saddr, daddr, len, proto, sum));
}

/**
 * The addresses of a pseudo-header: IPv4 as host-order u32s, IPv6 as 16-byte arrays.
 * Transport views take this so they need not know the network layer.
 */
export type PseudoAddrs =
  | { readonly src: number; readonly dst: number }
  | { readonly src: Uint8Array; readonly dst: Uint8Array };

/** The unfolded pseudo-header sum for `addrs`, an upper-layer length and protocol. */
export function csumPseudo(addrs: PseudoAddrs, len: number, proto: number): number {
  const { src, dst } = addrs;
  if (typeof src === 'number' && typeof dst === 'number') return csumTcpudpNofold(src, dst, len, proto);
  if (typeof src !== 'number' && typeof dst !== 'number') return csumIpv6Nofold(src, dst, len, proto);
  throw new TypeError('pseudo-header addresses must both be IPv4 or both IPv6');
}

/**
 * The value Linux leaves in a TCP/UDP checksum field for CHECKSUM_PARTIAL (tcp_v4_send_check:
 * `th->check = ~tcp_v4_check(len, saddr, daddr, 0)`): the folded, uncomplemented pseudo-header
 * sum, which the device would finish. On lo nobody finishes it, so captures show exactly this.
 */
export function csumPseudoPartial(addrs: PseudoAddrs, len: number, proto: number): number {
  return ~csumFold(csumPseudo(addrs, len, proto)) & 0xffff;
}

/** How a TCP/UDP emit fills its checksum: not at all (0), fully, or as CHECKSUM_PARTIAL. */
export type L4Checksum = { readonly mode: 'none' } | { readonly mode: 'full' | 'partial'; readonly addrs: PseudoAddrs };
