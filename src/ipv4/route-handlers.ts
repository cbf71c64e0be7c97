/**
 * The functions a route calls (dst.input / dst.output: ip_local_deliver, ip_output,
 * ip_forward, ip_error). ip-input, ip-output and ip-forward register them. They live apart
 * from route.ts, with no imports, so a module that route.ts reaches through an import cycle
 * (igmp → ip-output) can still register at load time.
 */
import type { SkBuff } from '../core/skbuff.js';

export type DstFn = (skb: SkBuff) => number;
const uninitialised: DstFn = () => {
  throw new Error('ipv4 not initialised');
};

export const ipRouteHandlers: { localDeliver: DstFn; output: DstFn; forward: DstFn; error: DstFn } = {
  localDeliver: uninitialised,
  output: uninitialised,
  forward: uninitialised,
  error: uninitialised,
};
