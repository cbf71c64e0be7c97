/**
 * struct in6_addr helpers (include/net/ipv6.h): comparisons and prefixes, no allocation,
 * and the text forms tools read and print (inet_pton / inet_ntop as glibc has them).
 */

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

/** inet_ntop(AF_INET6) as glibc writes it: the longest run of two or more zero groups becomes "::". */
export function formatIpv6(a: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => ((a[2 * i] ?? 0) << 8) | (a[2 * i + 1] ?? 0));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (cur.base < 0) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base >= 0) {
      if (best.base < 0 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base >= 0 && (best.base < 0 || cur.len > best.len)) best = cur;
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base >= 0 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible and IPv4-mapped addresses end in dotted quad.
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
      break;
    }
    out += (words[i] as number).toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) out += ':';
  return out;
}

/** inet_pton(AF_INET6): hex groups, one "::", an optional trailing dotted quad. */
export function inetPton6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes('.')) {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(p);
        if (m === null) return null;
        const b = m.slice(1).map((x) => (x.length > 1 && x.startsWith('0') ? 256 : Number(x)));
        if (b.some((x) => x > 255)) return null;
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const words = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
