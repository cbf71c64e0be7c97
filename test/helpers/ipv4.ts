/** Building IPv4 frames for lo with the wire layer, and reading /proc/net/snmp rows. */

import type { Net } from '../../src/net/net.js';
import { procRead } from '../../src/net/procfs.js';
import { emitIcmp } from '../../src/wire/icmp.js';
import { emitIpv4, type Ipv4Repr } from '../../src/wire/ipv4.js';

export const ip = (s: string) => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

/** An Ethernet frame (zero MACs, ETH_P_IP) around an IPv4 header and `payload`. */
export function ipv4Frame(repr: Partial<Ipv4Repr>, payload: Uint8Array): Uint8Array {
  const r: Ipv4Repr = {
    src: ip('127.0.0.1'),
    dst: ip('127.0.0.1'),
    protocol: 1,
    payloadLen: payload.byteLength,
    ttl: 64,
    tos: 0,
    ident: 1,
    df: false,
    mf: false,
    fragOffset: 0,
    options: new Uint8Array(0),
    ...repr,
  };
  const hl = 20 + r.options.byteLength;
  const f = new Uint8Array(14 + hl + payload.byteLength);
  f[12] = 0x08;
  emitIpv4(r, f, 14);
  f.set(payload, 14 + hl);
  return f;
}

/** An ICMP echo request with `n` data bytes. */
export function echoRequest(id: number, seq: number, n = 56): Uint8Array {
  const data = new Uint8Array(n).map((_, i) => i & 0xff);
  const b = new Uint8Array(8 + n);
  emitIcmp({ kind: 'echo', type: 8, code: 0, id, sequence: seq, data }, b, 0);
  return b;
}

/** One row of /proc/net/snmp as a name → value map. */
export function snmp(net: Net, row: 'Ip' | 'Icmp' | 'IcmpMsg' | 'Udp' | 'Tcp'): Record<string, number> {
  const lines = (procRead(net, '/proc/net/snmp') as string).split('\n').filter((l) => l.startsWith(`${row}: `));
  if (lines.length < 2) return {};
  const names = (lines[0] as string).split(' ').slice(1);
  const values = (lines[1] as string).split(' ').slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? 0]));
}
