/** struct in6_addr helpers (include/net/ipv6.h): comparisons and prefixes, no allocation. */

export const IN6ADDR_ANY = new Uint8Array(16);
export const IN6ADDR_LOOPBACK = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export function ipv6AddrEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function ipv6AddrAny(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

export function ipv6AddrLoopback(a: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}

export function ipv6AddrMulticast(a: Uint8Array): boolean {
  return a[0] === 0xff;
}

/** ipv6_prefix_equal(): the first `plen` bits agree. */
export function ipv6PrefixEqual(a: Uint8Array, b: Uint8Array, plen: number): boolean {
  const bytes = plen >> 3;
  for (let i = 0; i < bytes; i++) if (a[i] !== b[i]) return false;
  const bits = plen & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (((a[bytes] as number) ^ (b[bytes] as number)) & mask) === 0;
}

/** ipv6_addr_prefix(): `a` with everything after `plen` bits cleared (a copy). */
export function ipv6AddrPrefix(a: Uint8Array, plen: number): Uint8Array {
  const out = new Uint8Array(16);
  const bytes = plen >> 3;
  out.set(a.subarray(0, bytes));
  const bits = plen & 7;
  if (bits !== 0) out[bytes] = (a[bytes] as number) & ((0xff << (8 - bits)) & 0xff);
  return out;
}

/** A map key for an address (its hex), for tables keyed by prefix. */
export function ipv6Key(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += (a[i] as number).toString(16).padStart(2, '0');
  return s;
}
