/**
 * include/linux/siphash.h and lib/siphash.c: SipHash-2-4, the keyed 64-bit PRF the kernel
 * uses where a hash must not be guessable by a peer (Fast Open cookies among them). The
 * key is two little-endian u64s (siphash_key_t); the message is read little-endian too,
 * so a cookie computed here is the one Linux computes for the same key and bytes.
 * Node's crypto has no SipHash, and this also runs in browsers.
 */

const M64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & M64;
}

/** siphash_key_t from its 16 bytes (k0 = the first eight, little-endian). */
export function siphashKey(bytes: Uint8Array): [bigint, bigint] {
  return [le64(bytes, 0), le64(bytes, 8)];
}

function le64(b: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
}

/** siphash(data, len, key): SipHash-2-4 of `data`. */
export function siphash(data: Uint8Array, key: readonly [bigint, bigint]): bigint {
  const [k0, k1] = key;
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const len = data.byteLength;
  const full = len - (len % 8);
  for (let i = 0; i < full; i += 8) {
    const m = le64(data, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  // The last block: the tail bytes, and the length in the top byte.
  let b = BigInt(len & 0xff) << 56n;
  for (let i = 0; i < len % 8; i++) b |= BigInt(data[full + i] as number) << BigInt(8 * i);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & M64;
}
