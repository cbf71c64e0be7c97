/**
 * Gives the kernel Node's own OpenSSL MD5 (node:crypto) for TCP MD5 signatures. In the
 * page's bundle node:crypto is a stand-in that throws, so nothing is registered there and
 * TCP_MD5SIG answers ENOPROTOOPT, as on a kernel without it.
 */
import { createHash } from 'node:crypto';
import { registerMd5 } from '../kernel/crypto.js';

function nodeMd5(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

try {
  nodeMd5([]);
  registerMd5(nodeMd5);
} catch {
  // No MD5 here (a browser): TCP MD5 signatures are unavailable.
}
