/**
 * The forwarding tests' side of linux-world.ts: the same script in a booted lonet
 * namespace and in a private Linux world, compared after normalising what varies from run
 * to run (ping's times, route cache expiry seconds).
 */
import { Namespace } from '../../src/api/namespace.js';
import type { ToolResult } from '../../src/tools/command.js';
import { compareWorlds as compareLines, eachStream } from './linux-world.js';

export function normaliseText(s: string): string {
  return s
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/= [\d./]+ ms/g, '= T ms')
    .replace(/expires \d+sec/g, 'expires Nsec')
    .replace(/"expires":\d+/g, '"expires":N');
}

/** The script on both sides; lines in `notCompared` are run but not compared. Returns lonet's results. */
export async function compareWorlds(
  lines: string[],
  notCompared: ReadonlySet<number> = new Set(),
): Promise<{ mine: ToolResult[] }> {
  const ns = new Namespace();
  return { mine: await compareLines(lines, (l) => ns.exec(l), eachStream(normaliseText), notCompared) };
}

/** client c (10.0.1.2) — router r (10.0.1.1 | 10.0.2.1) — server s (10.0.2.2), static neighbours, fixed MACs. */
export const ROUTED = [
  'ip netns add c',
  'ip netns add r',
  'ip netns add s',
  'ip -n c link add c0 address 02:00:00:00:01:02 type veth peer name r0 address 02:00:00:00:01:01 netns r',
  'ip -n s link add s0 address 02:00:00:00:02:02 type veth peer name r1 address 02:00:00:00:02:01 netns r',
  'ip -n c addr add 10.0.1.2/24 dev c0',
  'ip -n r addr add 10.0.1.1/24 dev r0',
  'ip -n r addr add 10.0.2.1/24 dev r1',
  'ip -n s addr add 10.0.2.2/24 dev s0',
  'ip -n c link set c0 up',
  'ip -n r link set r0 up',
  'ip -n r link set r1 up',
  'ip -n s link set s0 up',
  'ip -n c link set lo up',
  'ip -n r link set lo up',
  'ip -n s link set lo up',
  'ip -n c route add default via 10.0.1.1',
  'ip -n s route add default via 10.0.2.1',
  'ip -n c neigh add 10.0.1.1 lladdr 02:00:00:00:01:01 dev c0 nud permanent',
  'ip -n r neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev r0 nud permanent',
  'ip -n r neigh add 10.0.2.2 lladdr 02:00:00:00:02:02 dev r1 nud permanent',
  'ip -n s neigh add 10.0.2.1 lladdr 02:00:00:00:02:01 dev s0 nud permanent',
];

/**
 * The same three hosts over IPv6 (2001:db8:1::/64, 2001:db8:2::/64); ND finds the
 * neighbours. Linux's side waits until DAD of the link-locals is over (the state the
 * rest starts from; lonet's lines run on without waiting).
 */
export const ROUTED6 = [
  'ip netns add c',
  'ip netns add r',
  'ip netns add s',
  'ip -n c link add c0 address 02:00:00:00:01:02 type veth peer name r0 address 02:00:00:00:01:01 netns r',
  'ip -n s link add s0 address 02:00:00:00:02:02 type veth peer name r1 address 02:00:00:00:02:01 netns r',
  'ip -n c addr add 2001:db8:1::2/64 dev c0 nodad',
  'ip -n r addr add 2001:db8:1::1/64 dev r0 nodad',
  'ip -n r addr add 2001:db8:2::1/64 dev r1 nodad',
  'ip -n s addr add 2001:db8:2::2/64 dev s0 nodad',
  'ip -n c link set lo up',
  'ip -n r link set lo up',
  'ip -n s link set lo up',
  'ip -n c link set c0 up',
  'ip -n r link set r0 up',
  'ip -n r link set r1 up',
  'ip -n s link set s0 up',
  'ip -n c -6 route add default via 2001:db8:1::1',
  'ip -n s -6 route add default via 2001:db8:2::1',
  '#until [ -z "$(ip -n c -6 addr show tentative; ip -n r -6 addr show tentative; ip -n s -6 addr show tentative)" ]',
];

/**
 * Two routers on one segment: client c (10.0.1.2) and routers r (10.0.1.1, on a bridge
 * whose ports lead to c and q) and q (10.0.1.3 | 10.0.2.1) before server s (10.0.2.2).
 * c's default is r, and r reaches 10.0.2.0/24 through q on the same segment: the case
 * for a redirect. Fixed MACs; ARP finds the neighbours.
 */
export const SEGMENT = [
  'ip netns add c',
  'ip netns add r',
  'ip netns add q',
  'ip netns add s',
  'ip -n r link add br0 address 02:00:00:00:01:01 type bridge',
  'ip -n c link add c0 address 02:00:00:00:01:02 type veth peer name rc address 02:00:00:00:01:11 netns r',
  'ip -n q link add q0 address 02:00:00:00:01:03 type veth peer name rq address 02:00:00:00:01:13 netns r',
  'ip -n s link add s0 address 02:00:00:00:02:02 type veth peer name q1 address 02:00:00:00:02:01 netns q',
  'ip -n r link set rc master br0',
  'ip -n r link set rq master br0',
  'ip -n c addr add 10.0.1.2/24 dev c0',
  'ip -n r addr add 10.0.1.1/24 dev br0',
  'ip -n q addr add 10.0.1.3/24 dev q0',
  'ip -n q addr add 10.0.2.1/24 dev q1',
  'ip -n s addr add 10.0.2.2/24 dev s0',
  ...['c c0', 'r br0', 'r rc', 'r rq', 'q q0', 'q q1', 's s0', 'c lo', 'r lo', 'q lo', 's lo'].map((x) => {
    const [ns, dev] = x.split(' ');
    return `ip -n ${ns} link set ${dev} up`;
  }),
  'ip -n c route add default via 10.0.1.1',
  'ip -n r route add 10.0.2.0/24 via 10.0.1.3',
  'ip -n s route add default via 10.0.2.1',
  'ip netns exec r sysctl -qw net.ipv4.ip_forward=1',
  'ip netns exec q sysctl -qw net.ipv4.ip_forward=1',
];

/**
 * SEGMENT over IPv6, without DAD (link-locals usable at once): c's default and r's route
 * to 2001:db8:2::/64 go through link-locals, as routes learned from RAs do, since a
 * redirect is only believed from the link-local the route goes through.
 */
export const SEGMENT6 = [
  'ip netns add c',
  'ip netns add r',
  'ip netns add q',
  'ip netns add s',
  ...['c', 'r', 'q', 's'].map((ns) => `ip netns exec ${ns} sysctl -qw net.ipv6.conf.default.accept_dad=0`),
  ...SEGMENT.slice(4, 10),
  'ip -n c addr add 2001:db8:1::2/64 dev c0',
  'ip -n r addr add 2001:db8:1::1/64 dev br0',
  'ip -n q addr add 2001:db8:1::3/64 dev q0',
  'ip -n q addr add 2001:db8:2::1/64 dev q1',
  'ip -n s addr add 2001:db8:2::2/64 dev s0',
  ...SEGMENT.filter((l) => l.includes('link set') && l.endsWith(' up')),
  'ip netns exec r sysctl -qw net.ipv6.conf.all.forwarding=1',
  'ip netns exec q sysctl -qw net.ipv6.conf.all.forwarding=1',
  'ip -n c -6 route add default via fe80::ff:fe00:101 dev c0',
  'ip -n r -6 route add 2001:db8:2::/64 via fe80::ff:fe00:103 dev br0',
  'ip -n s -6 route add default via 2001:db8:2::1',
];
