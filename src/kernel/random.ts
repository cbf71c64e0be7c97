/**
 * get_random_u32() / get_random_u16(): cryptographically random numbers handed out from a
 * batch, as Linux's per-CPU batched_entropy does, so a connection's inet_id or port offset
 * costs an array read rather than a call into the host's CSPRNG each time.
 */
const batch = new Uint32Array(256);
let next = batch.length;

export function getRandomU32(): number {
  if (next === batch.length) {
    globalThis.crypto.getRandomValues(batch);
    next = 0;
  }
  return batch[next++] as number;
}

export function getRandomU16(): number {
  return getRandomU32() & 0xffff;
}

/**
 * get_random_u32_below(): a random number in [0, ceil), ceil at most 2^31. The result is
 * an int32, so a socket field it ends up in (a port) stays a small integer to V8 instead
 * of turning that field into a boxed double in every socket.
 */
export function getRandomU32Below(ceil: number): number {
  return (getRandomU32() % ceil) | 0;
}
