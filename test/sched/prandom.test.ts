import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prandomSeedState, prandomU32State, RndState } from '../../src/sched/prandom.js';

/** prandom_seed_early(state, seed, false) + prandom_warmup(), as lib/random32.c's selftest seeds. */
function seedEarly(seed: number): RndState {
  const s = new RndState(0n);
  const lcg = (x: number) => Math.imul(x, 69069) >>> 0;
  const floor = (x: number, m: number) => (x < m ? (x + m) >>> 0 : x);
  s.s1 = floor(lcg(seed), 2);
  s.s2 = floor(lcg(s.s1), 8);
  s.s3 = floor(lcg(s.s2), 16);
  s.s4 = floor(lcg(s.s3), 128);
  for (let i = 0; i < 10; i++) prandomU32State(s);
  return s;
}

test('prandom_u32_state gives the kernel selftest values (taus113, as GSL)', () => {
  // lib/random32.c test1: one draw after seeding.
  for (const [seed, result] of [
    [1, 3484351685],
    [2, 2623130059],
    [3, 3125133893],
    [4, 984847254],
  ] as const) {
    assert.equal(prandomU32State(seedEarly(seed)), result);
  }
  // test2: the iteration-th draw, checked against GSL's taus113.
  for (const [seed, iteration, result] of [
    [931557656, 959, 2975593782],
    [1339693295, 876, 3887776532],
    [1545556285, 961, 1615538833],
  ] as const) {
    const s = seedEarly(seed);
    for (let j = 0; j < iteration - 1; j++) prandomU32State(s);
    assert.equal(prandomU32State(s), result);
  }
});

test('prandom_seed_state folds a u64 seed into one word per generator, with the minimums', () => {
  const s = new RndState(0n);
  prandomSeedState(s, 0n);
  assert.deepEqual([s.s1, s.s2, s.s3, s.s4], [2, 8, 16, 128]);
  prandomSeedState(s, 0x100000001n);
  // (seed >> 32) ^ (seed << 10) ^ seed, truncated: 1 ^ 0x400 ^ 1 = 0x400.
  assert.deepEqual([s.s1, s.s2, s.s3, s.s4], [0x400, 0x400, 0x400, 0x400]);
});
