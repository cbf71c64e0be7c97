/**
 * Packets into a namespace someone has reconfigured: lo's MTU down to 68 (or 67, which
 * takes IPv4 away) and 1279 (which takes IPv6 away), lo down, addresses deleted, blackhole,
 * unreachable and prohibit routes and rules, echo ignored, a tiny backlog or fragment budget.
 * The same invariants as the packet targets: the ledger balances for every frame, the
 * stack's own answers included (fragmented, refused, rerouted), and nothing throws.
 */
import fc from 'fast-check';
import { devClose, devOpen, devSetMtu } from '../src/core/netdevice.js';
import { frameArb } from './frames.js';
import { type FuzzTarget, hex, invariant } from './harness.js';
import { fuzzNamespace, type PacketInput, sendFrames } from './stack.js';

type Change =
  | { kind: 'mtu'; mtu: number }
  | { kind: 'down' }
  | { kind: 'up' }
  | { kind: 'backlog'; max: number }
  | { kind: 'fragmem'; bytes: number }
  | { kind: 'exec'; line: string };

const LINES = [
  'ip addr del 127.0.0.1/8 dev lo',
  'ip -6 addr del ::1/128 dev lo',
  'ip addr add 10.0.0.1/8 dev lo',
  'ip addr add 127.0.0.1/32 dev lo',
  'ip route add blackhole 127.9.9.9',
  'ip route add unreachable 8.8.8.8',
  'ip route add prohibit 10.0.0.0/8',
  'ip route add local 10.0.0.0/8 dev lo',
  'ip route del local 127.0.0.0/8 dev lo table local',
  'ip -6 route add blackhole ::1',
  'ip rule add from 127.0.0.1 prohibit',
  'ip rule add to 127.0.0.1 unreachable',
  'sysctl -w net.ipv4.icmp_echo_ignore_all=1',
  'sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=0',
  'sysctl -w net.ipv6.icmp.echo_ignore_all=1',
  'sysctl -w net.ipv4.icmp_ratemask=0',
];

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('mtu' as const), mtu: fc.constantFrom(67, 68, 100, 576, 1279, 1280, 1500, 65536) }),
  fc.record({ kind: fc.constant('down' as const) }),
  fc.record({ kind: fc.constant('up' as const) }),
  fc.record({ kind: fc.constant('backlog' as const), max: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('fragmem' as const), bytes: fc.constantFrom(0, 100, 2000) }),
  fc.record({ kind: fc.constant('exec' as const), line: fc.constantFrom(...LINES) }),
);

export interface ConfigInput extends PacketInput {
  changes: Change[];
}

export const configTarget: FuzzTarget<ConfigInput> = {
  name: 'config',
  covers: 'packets into a reconfigured namespace: MTUs, lo down, addresses, routes, rules, sysctls, tiny budgets',
  arbitrary: () =>
    fc.record({
      changes: fc.array(changeArb, { minLength: 1, maxLength: 4 }),
      frames: fc.array(frameArb('any'), { minLength: 1, maxLength: 4 }),
      burst: fc.boolean(),
    }),
  async check(input) {
    const { net, sinks } = fuzzNamespace();
    for (const c of input.changes) {
      if (c.kind === 'mtu') devSetMtu(net.lo, c.mtu);
      else if (c.kind === 'down') devClose(net.lo);
      else if (c.kind === 'up') devOpen(net.lo);
      else if (c.kind === 'backlog') net.kernel.core.netdev_max_backlog = c.max;
      else if (c.kind === 'fragmem') {
        net.ipv4.sysctl.ipfrag_high_thresh = c.bytes;
        net.ipv4.sysctl.ipfrag_low_thresh = Math.floor(c.bytes * 0.75);
      } else {
        const r = await net.exec(c.line);
        invariant(Number.isInteger(r.code), `${c.line}: status ${r.code}`);
      }
    }
    sendFrames(net, sinks, input);
  },
  show: (x) => JSON.stringify({ changes: x.changes, burst: x.burst, frames: x.frames.map(hex) }),
};
