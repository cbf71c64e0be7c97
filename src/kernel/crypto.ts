/**
 * The kernel's hash algorithms (crypto_shash), taken from the platform rather than written
 * again: a layer that has them (Node's OpenSSL, through node:crypto) registers them here.
 * A browser has no synchronous MD5, so there the stack runs as a kernel built without
 * CONFIG_TCP_MD5SIG.
 */

/** MD5 over the concatenation of `parts`: 16 bytes. */
export type Md5 = (parts: readonly Uint8Array[]) => Uint8Array;

let md5: Md5 | null = null;

export function registerMd5(fn: Md5): void {
  md5 = fn;
}

/** The registered MD5, or null where the platform gives none. */
export function cryptoMd5(): Md5 | null {
  return md5;
}
