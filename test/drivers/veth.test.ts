import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import type { ToolResult } from '../../src/tools/command.js';
import { compareWorlds } from '../helpers/world-compare.js';

/** The same script on both sides, compared line by line (when the Linux world is available). */
const compare = async (lines: string[], notCompared?: ReadonlySet<number>): Promise<ToolResult[]> =>
  (await compareWorlds(lines, notCompared)).mine;

const PAIR = 'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02';

test('a veth pair: the peer registers first, veth0@veth1 names, M-DOWN while the other end is down, -d shows the kind', async () => {
  const r = await compare([
    PAIR,
    'ip link show',
    'ip -d link show veth0',
    'ip -br link',
    'ip link set veth1 up',
    'ip -br link',
  ]);
  assert.match(r[1]?.stdout ?? '', /^2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN>/m);
  assert.match(r[2]?.stdout ?? '', /\n {4}veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 /);
  // veth1 up alone: no carrier (its peer is down), so NO-CARRIER and LOWERLAYERDOWN.
  assert.match(
    r[5]?.stdout ?? '',
    /^veth1@veth0 +LOWERLAYERDOWN +02:00:00:00:00:02 <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> $/m,
  );
});

test("iproute2's errors: File exists, lo cannot be deleted or moved, bad peer arguments, unknown netns", async () => {
  const r = await compare([
    PAIR,
    'ip link add veth0 type veth peer name veth2',
    'ip link add veth5 type veth peer name veth1',
    'ip link del lo',
    'ip netns add b',
    'ip link set lo netns b',
    'ip link add v4 type veth peer name v5 bogus',
    'ip link add v4 type veth bogus',
    'ip link set veth0 netns nosuch',
    'ip link set veth0 netns 99999',
    'ip link show',
  ]);
  assert.equal(r[1]?.stderr, 'RTNETLINK answers: File exists\n');
  assert.equal(r[3]?.stderr, 'RTNETLINK answers: Operation not supported\n');
  assert.equal(r[5]?.stderr, 'Error: The interface netns is immutable.\n');
});

test('carrier follows the peer across namespaces; a moved end keeps its ifindex, arrives down, link-netns/link-netnsid', async () => {
  const r = await compare([
    'ip netns add b',
    PAIR,
    'ip link set veth0 up',
    'ip link set veth1 up',
    'ip link set veth1 netns b',
    'ip link show veth0',
    'ip -n b link',
    'ip -n b link set veth1 up',
    'ip link show veth0',
    'ip -n b link show veth1',
    'ip -n b link set veth1 down',
    'ip -br link show veth0',
    'ip netns list',
    'ip netns list-id',
    'ip -n b netns list-id',
  ]);
  assert.match(r[5]?.stdout ?? '', /^3: veth0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> .* state DOWN /);
  assert.match(r[5]?.stdout ?? '', / link-netns b\n$/);
  assert.match(r[6]?.stdout ?? '', /^2: veth1@if3: <BROADCAST,MULTICAST> .* state DOWN .*\n.* link-netnsid 0\n$/m);
  assert.match(r[8]?.stdout ?? '', /<BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP /);
});

test('a device moved where its ifindex is taken gets the next free one; names clash with EEXIST', async () => {
  const r = await compare([
    'ip netns add b',
    'ip -n b link add d address 02:00:00:00:01:01 type veth peer name e address 02:00:00:00:01:02',
    'ip link add x0 address 02:00:00:00:02:01 type veth peer name x1 address 02:00:00:00:02:02',
    'ip link set x0 netns b',
    'ip -n b -br link',
    'ip -br link',
    'ip -n b link add x1 address 02:00:00:00:03:01 type veth peer name y1 address 02:00:00:00:03:02',
    'ip link set x1 netns b',
  ]);
  assert.match(r[4]?.stdout ?? '', /^x0@if2 /m);
  assert.equal(r[7]?.stderr, 'Error: An interface with the same name exists in the target netns.\n');
});

test('deleting one end deletes both; deleting a namespace deletes the peers of its devices', async () => {
  await compare([
    'ip netns add b',
    PAIR,
    'ip link add v2 address 02:00:00:00:00:03 type veth peer name v3 address 02:00:00:00:00:04 netns b',
    'ip link del veth1',
    'ip -br link',
    'ip netns del b',
    '#until ! ip link show v2 >/dev/null 2>&1',
    'ip -br link',
    'ip netns list',
  ]);
});

test('ip netns: add, list with ids, set, list-id, identify, exec, -n, -all delete', async () => {
  const r = await compare([
    'ip netns add a',
    'ip netns add b',
    'ip netns add c',
    'ip netns list',
    'ip netns add b',
    'ip link add v0 address 02:00:00:00:00:05 type veth peer name v1 address 02:00:00:00:00:06 netns b',
    'ip netns',
    'ip netns list-id',
    'ip netns set c 7',
    'ip netns list',
    'ip netns set c 8',
    'ip netns del zz',
    'ip -n zz link',
    'ip -n b -br link',
    'ip netns identify',
    'ip netns exec b ip netns identify',
    'ip netns exec b ip netns list-id',
    'ip netns exec b ip -br link show v1',
    'ip -all netns delete',
    '#until ! ip link show v0 >/dev/null 2>&1',
    'ip netns list',
    'ip -br link',
  ]);
  assert.equal(r[3]?.stdout, 'c\nb\na\n');
  assert.equal(r[9]?.stdout, 'c (id: 7)\nb (id: 0)\na\n');
  assert.equal(r[15]?.stdout, 'b\n');
});

test("every device's local and broadcast routes go in the local table; one's own address goes through lo, lost with lo down", async () => {
  const r = await compare([
    PAIR,
    'ip addr add 10.0.0.1/24 dev veth0',
    'ip link set veth0 up',
    'ip link set veth1 up',
    'ip -4 route show table local',
    'ip route',
    'ip route get 10.0.0.1',
    'ping -c1 -W1 10.0.0.1',
    'ip link set lo down',
    'ip route get 10.0.0.1',
    'ping -c1 -W1 10.0.0.1',
    'ip -4 route show table local',
  ]);
  assert.equal(r[6]?.stdout, 'local 10.0.0.1 dev lo src 10.0.0.1 uid 0 \n    cache <local> \n');
  assert.equal(r[10]?.code, 1);
});

test('dummy (drivers/net/dummy.c): NOARP, no multicast, no MTU limits, UNKNOWN once up, counts what it swallows', async () => {
  // This kernel has no dummy module (ip link add … type dummy: "Unknown device type"), so
  // the values here are dummy.c's: ether_setup, IFF_NOARP, ~IFF_MULTICAST, min/max MTU 0.
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('ip link add d0 address 02:00:00:00:09:01 type dummy'), {
    code: 0,
    stdout: '',
    stderr: '',
  });
  await ns.exec('ip link set d0 up');
  const r = await ns.exec('ip -d link show d0');
  assert.equal(
    r.stdout,
    '2: d0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
      '    link/ether 02:00:00:00:09:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 \n' +
      '    dummy addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 \n',
  );
  await ns.exec('ip addr add 10.9.0.1/24 dev d0');
  assert.equal((await ns.exec('ping -c1 -W1 10.9.0.2')).code, 1);
  const j = JSON.parse((await ns.exec('ip -j -s link show d0')).stdout) as [{ stats64: { tx: { packets: number } } }];
  assert.ok(j[0].stats64.tx.packets >= 1, 'the echo request was counted as sent');
  assert.equal((await ns.exec('ip link add type dummy')).code, 0);
  assert.match((await ns.exec('ip -br link show dummy0')).stdout, /^dummy0 +DOWN /);
  assert.deepEqual(await ns.exec('ip link del d0'), { code: 0, stdout: '', stderr: '' });
  assert.equal((await ns.exec('ip link show d0')).stderr, 'Device "d0" does not exist.\n');
});

test('ethtool on veth: -i, -S (peer_ifindex and per-queue counters), -l (one queue pair per CPU at most, one in use)', async () => {
  await compare([
    PAIR,
    'ethtool -i veth0',
    'ethtool -S veth0',
    'ethtool -l veth0',
    'ethtool -l lo',
    'ethtool -S veth0 extra',
    'ethtool -l veth0 x',
  ]);
});

test('two namespaces joined by veth: ping across with static neighbours, veth counts L2 bytes, lo stays out of it', async () => {
  const r = await compare([
    // IPv6 off on both sides: its ND and MLD packets would land in the counters.
    'sysctl -qw net.ipv6.conf.default.disable_ipv6=1',
    'ip netns add b',
    'ip netns exec b sysctl -qw net.ipv6.conf.default.disable_ipv6=1',
    PAIR,
    'ip link set veth1 netns b',
    'ip addr add 10.0.0.1/24 dev veth0',
    'ip -n b addr add 10.0.0.2/24 dev veth1',
    'ip link set veth0 up',
    'ip -n b link set veth1 up',
    'ip -n b link set lo up',
    'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent',
    'ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent',
    'ping -c2 -i0.2 -W1 10.0.0.2',
    'ip -s link show veth0',
    'ip -n b -s link show veth1',
    'ip neigh show',
    'ip netns exec b ping -c1 -W1 10.0.0.1',
  ]);
  assert.match(r[12]?.stdout ?? '', /2 packets transmitted, 2 received/);
  // What the pings alone make: 2 echoes each way, 98 bytes each (84 of IP plus the
  // 14-byte Ethernet header).
  const counts = (out: string) => [...out.matchAll(/^ +(\d+) +(\d+) +0 +0 +0 +0 $/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(counts(r[13]?.stdout ?? ''), [
    ['196', '2'],
    ['196', '2'],
  ]);
  assert.deepEqual(counts(r[14]?.stdout ?? ''), [
    ['196', '2'],
    ['196', '2'],
  ]);
});
