/**
 * lib/random32.c's prandom: the Tausworthe LFSR113 generator behind
 * prandom_u32_state(), which netem draws every loss, duplicate, reorder, corrupt and
 * jitter decision from. Seeded by prandom_seed_state() from a u64, exactly as the
 * kernel does, so a `seed S` gives the same decision sequence as Linux's netem.
 */

const MASK64 = (1n << 64n) - 1n;

/** struct rnd_state. */
export class RndState {
  s1 = 0;
  s2 = 0;
  s3 = 0;
  s4 = 0;

  constructor(seed: bigint) {
    prandomSeedState(this, seed);
  }
}

/** __seed(): each word must exceed its generator's minimum. */
function seedWord(x: number, m: number): number {
  return x < m ? (x + m) >>> 0 : x;
}

/** prandom_seed_state(): fold the u64 seed into 32 bits, no warm-up. */
export function prandomSeedState(state: RndState, seed: bigint): void {
  const s = BigInt.asUintN(64, seed);
  const i = Number(((s >> 32n) ^ ((s << 10n) & MASK64) ^ s) & 0xffffffffn) >>> 0;
  state.s1 = seedWord(i, 2);
  state.s2 = seedWord(i, 8);
  state.s3 = seedWord(i, 16);
  state.s4 = seedWord(i, 128);
}

/** TAUSWORTHE(s, a, b, c, d) = ((s & c) << d) ^ (((s << a) ^ s) >> b), all u32. */
function taus(s: number, a: number, b: number, c: number, d: number): number {
  return ((((s & c) >>> 0) << d) ^ ((((s << a) ^ s) >>> 0) >>> b)) >>> 0;
}

/** prandom_u32_state(). */
export function prandomU32State(state: RndState): number {
  state.s1 = taus(state.s1, 6, 13, 4294967294, 18);
  state.s2 = taus(state.s2, 2, 27, 4294967288, 2);
  state.s3 = taus(state.s3, 13, 21, 4294967280, 7);
  state.s4 = taus(state.s4, 3, 12, 4294967168, 13);
  return (state.s1 ^ state.s2 ^ state.s3 ^ state.s4) >>> 0;
}

/** get_random_u64(): a fresh seed when the user gives none. */
export function getRandomU64(): bigint {
  const b = new BigUint64Array(1);
  globalThis.crypto.getRandomValues(b);
  return b[0] as bigint;
}
