import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import { compareWorlds, inLinuxWorld, type LineResult } from '../helpers/linux-world.js';

/**
 * Normalising: running timers (gc_timer, forward_delay_timer) and ping times vary
 * from run to run; "self" FDB entries are the devices' multicast address lists
 * (33:33:00:00:00:01 from IPv6, 01:00:5e:00:00:01 from IGMP, the bridge's snooping
 * groups), which lonet does not keep, so they are left out of Linux's side.
 */
function normalise(r: LineResult): LineResult {
  const n = (s: string) =>
    s
      .replace(/(_timer) +[\d.]+ /g, '$1 T ')
      .replace(/time=[\d.]+ ms/g, 'time=T ms')
      .replace(/time \d+ms/g, 'time Tms')
      .replace(/= [\d./]+ ms/g, '= T ms')
      .replace(/^.* self permanent\n/gm, '');
  return { code: r.code, stdout: n(r.stdout), stderr: n(r.stderr) };
}

async function compare(lines: string[], notCompared?: ReadonlySet<number>): Promise<LineResult[]> {
  const ns = new Namespace();
  return compareWorlds(lines, (l) => ns.exec(l), normalise, notCompared);
}

const VA = 'ip link add va address 02:00:00:00:00:0a type veth peer name pa address 02:00:00:00:00:01';
const VB = 'ip link add vb address 02:00:00:00:00:0b type veth peer name pb address 02:00:00:00:00:02';

test('a bridge takes its lowest port address, loses carrier with no forwarding port, shows master and -d details', async () => {
  const r = await compare([
    'ip link add br0 type bridge',
    'ip link set br0 up',
    VB,
    VA,
    'ip link set vb master br0',
    'ip link show br0',
    'ip link set va master br0',
    'ip link show br0',
    'ip link show master br0',
    'bridge link',
    'ip link set va up',
    'ip link set pa up',
    'ip link show br0',
    'bridge link',
    'ip -d link show va',
    'ip -d link show br0',
    'ip link set va mtu 1400',
    'ip link show br0',
    'ip link set va nomaster',
    'ip link show br0',
    'bridge link',
    'ip link set vb nomaster',
    'ip link show br0',
  ]);
  // The bridge's address is its lowest port's; with none left, all zeros.
  assert.match(r[7]?.stdout ?? '', /link\/ether 02:00:00:00:00:0a /);
  assert.match(r[12]?.stdout ?? '', /^\d+: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP /);
  assert.match(
    r[14]?.stdout ?? '',
    /master br0 state UP .*\n.*\n {4}veth \n {4}bridge_slave state forwarding priority 32 cost 2 /,
  );
  assert.match(r[17]?.stdout ?? '', /mtu 1400 /);
  assert.match(r[22]?.stdout ?? '', /link\/ether 00:00:00:00:00:00 /);
});

test('ip link set master/nomaster: iproute2 and the kernel refuse what Linux refuses', async () => {
  await compare([
    'ip link add br0 type bridge',
    'ip link add br1 type bridge',
    VA,
    'ip link set lo master br0',
    'ip link set va master nosuch',
    'ip link set va master pa',
    'ip link set br1 master br0',
    'ip link set br0 master br0',
    'ip link set va master br0',
    'ip link set va master br0',
    'ip link set va master br1',
    'ip link show master br0',
    'ip link show master br1',
    'ip link set pa nomaster',
    'ip link set br0 netns 1',
    'ip netns add b',
    'ip link set br0 netns b',
    'ip link del br1',
    'ip link show va',
  ]);
});

test("a user's address sticks; the bridge's own address is a local FDB entry of no port", async () => {
  await compare([
    'ip link add br0 address 02:00:00:00:00:99 type bridge',
    VA,
    'ip link set va master br0',
    'ip link show br0',
    'bridge fdb show',
    'ip link set br0 address 02:00:00:00:00:98',
    'bridge fdb show br br0',
    'ip link set va address 02:00:00:00:00:0c',
    'bridge fdb show brport va',
  ]);
});

test('two namespaces switched by a bridge: ping across, sources learned per port, port down forgets them', async () => {
  await compare([
    'ip netns add a',
    'ip netns add b',
    'ip link add br0 type bridge',
    'ip link add va address 02:00:00:00:00:0a type veth peer name eth0 address 02:00:00:00:00:01 netns a',
    'ip link add vb address 02:00:00:00:00:0b type veth peer name eth0 address 02:00:00:00:00:02 netns b',
    'ip link set va master br0',
    'ip link set vb master br0',
    'bridge link',
    'bridge fdb show br br0',
    'ip link set br0 up',
    'ip link set va up',
    'ip link set vb up',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
    'ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent',
    // The peers' ifindex 2 is br0's here: iproute2 names them after it.
    'bridge link',
    'bridge -d link show dev va',
    'ip netns exec a ping -c2 -i0.2 -W1 10.0.0.2',
    'bridge fdb show dynamic',
    'bridge fdb show brport va',
    'bridge fdb show br br0 state permanent',
    'bridge fdb show br nosuch',
    'bridge link show dev nosuch',
    'bridge foo',
    'ip link set vb down',
    'bridge fdb show dynamic',
    'bridge link',
    'ip link set va nomaster',
    'bridge fdb show dynamic',
    'ip link show br0',
  ]);
});

test('ip link add … type bridge ageing_time: the value -d reports; unknown options get the usage', async () => {
  const r = await compare([
    'ip link add br0 address 02:00:00:00:00:99 type bridge ageing_time 1000',
    'ip -d link show br0',
    'ip link set br0 type bridge ageing_time 2000',
    'ip link add br1 type bridge bogus 1',
    'ip link add br1 type bridge ageing_time x',
  ]);
  assert.match(r[3]?.stderr ?? '', /^bridge: unknown command "bogus"\?\nUsage: \.\.\. bridge/);
});

/** A lonet world of three hosts on one bridge, on the virtual clock. */
async function threeHosts() {
  const kernel = new Kernel({ clock: 'virtual' });
  const root = new Namespace({ kernel });
  // IPv6 off: its DAD and router solicitations would teach the bridge more than the pings do.
  const lines = [
    'sysctl -qw net.ipv6.conf.default.disable_ipv6=1',
    'ip link add br0 type bridge',
    'ip link set br0 up',
    ...['a', 'b', 'c'].flatMap((h, i) => [
      `ip netns add ${h}`,
      `ip netns exec ${h} sysctl -qw net.ipv6.conf.default.disable_ipv6=1`,
      `ip link add v${h} address 02:00:00:00:01:0${i + 1} type veth peer name eth0 address 02:00:00:00:00:0${i + 1} netns ${h}`,
      `ip link set v${h} master br0`,
      `ip link set v${h} up`,
      `ip -n ${h} link set eth0 up`,
      `ip -n ${h} addr add 10.0.0.${i + 1}/24 dev eth0`,
    ]),
    'ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
    'ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent',
  ];
  for (const l of lines) assert.equal((await root.exec(l)).code, 0, l);
  return { kernel, root };
}

async function rxPackets(root: Namespace, host: string): Promise<number> {
  const j = JSON.parse((await root.exec(`ip -n ${host} -j -s link show eth0`)).stdout) as [
    { stats64: { rx: { packets: number } } },
  ];
  return j[0].stats64.rx.packets;
}

test('unknown unicast floods to every port; once the destination is learned it goes to its port only', async () => {
  const { kernel, root } = await threeHosts();
  // b has sent nothing: the bridge does not know 02:00:00:00:00:02, so a's echo request floods to b and c.
  const ping = root.exec('ip netns exec a ping -c1 -W1 10.0.0.2');
  await kernel.settle();
  kernel.virtualClock.advance(1e6);
  assert.match((await ping).stdout, /1 received/);
  assert.equal(await rxPackets(root, 'c'), 1, 'the flooded request reached c (and was dropped there as not its own)');
  assert.equal(
    (await root.exec('bridge fdb show dynamic')).stdout,
    '02:00:00:00:00:01 dev va master br0 \n02:00:00:00:00:02 dev vb master br0 \n',
  );
  const again = root.exec('ip netns exec a ping -c1 -W1 10.0.0.2');
  await kernel.settle();
  kernel.virtualClock.advance(1e6);
  assert.match((await again).stdout, /1 received/);
  assert.equal(await rxPackets(root, 'c'), 1, 'known now: nothing more reached c');
});

test('learned entries age out after ageing_time (300 s) on the kernel clock; the local ones stay', async () => {
  const { kernel, root } = await threeHosts();
  const ping = root.exec('ip netns exec a ping -c1 -W1 10.0.0.2');
  await kernel.settle();
  kernel.virtualClock.advance(1e6);
  await ping;
  const dynamic = async () => (await root.exec('bridge fdb show dynamic')).stdout;
  assert.equal((await dynamic()).split('\n').length - 1, 2);
  kernel.virtualClock.advance(299e9);
  assert.equal((await dynamic()).split('\n').length - 1, 2, 'still there at 299 s');
  assert.match(
    (await root.exec('bridge -s fdb show brport va dynamic')).stdout,
    /^02:00:00:00:00:01 used 299\/299 master br0 \n$/,
  );
  kernel.virtualClock.advance(1e9);
  assert.equal(await dynamic(), '', 'gone at 300 s');
  assert.match((await root.exec('bridge fdb show brport va')).stdout, /^02:00:00:00:01:01 master br0 permanent\n$/);
});

test('tcpdump -i br0 puts the bridge in promiscuous mode: it then sees the frames it switches between ports', async () => {
  const setup = [
    'ip netns add a',
    'ip netns add b',
    'ip link add br0 type bridge',
    'ip link add va address 02:00:00:00:00:0a type veth peer name eth0 address 02:00:00:00:00:01 netns a',
    'ip link add vb address 02:00:00:00:00:0b type veth peer name eth0 address 02:00:00:00:00:02 netns b',
    'ip link set va master br0',
    'ip link set vb master br0',
    'ip link set br0 up',
    'ip link set va up',
    'ip link set vb up',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
    'ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent',
  ];
  const filter = 'tcpdump -i br0 -c 2 -n -e icmp';
  const linux = inLinuxWorld([
    ...setup,
    `${filter} >/tmp/lonet-br.out 2>/tmp/lonet-br.err & until grep -q listening /tmp/lonet-br.err 2>/dev/null; do sleep 0.02; done; ip netns exec a ping -c1 -W1 10.0.0.2 >/dev/null; wait; cat /tmp/lonet-br.out /tmp/lonet-br.err; rm -f /tmp/lonet-br.*`,
  ]);
  const ns = new Namespace();
  for (const l of setup) assert.equal((await ns.exec(l)).code, 0, l);
  const capture = ns.exec(filter);
  const br0 = ns.devGetByName('br0');
  while ((br0?.ptypeAll.length ?? 0) === 0) await new Promise((r) => setImmediate(r));
  assert.match((await ns.exec('ip -d link show br0')).stdout, /promiscuity 1 /);
  assert.equal((await ns.exec('ip netns exec a ping -c1 -W1 10.0.0.2')).code, 0);
  const mine = await capture;
  const text = (mine.stdout + mine.stderr).replace(/^\d\d:\d\d:\d\d\.\d{6} /gm, 'T ').replace(/, id \d+,/g, ', id I,');
  assert.match(text, /^T 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 .* ICMP echo request/);
  assert.match((await ns.exec('ip -d link show br0')).stdout, /promiscuity 0 /, 'left when the capture ended');
  const last = linux?.at(-1);
  if (last !== undefined)
    assert.equal(text, last.stdout.replace(/^\d\d:\d\d:\d\d\.\d{6} /gm, 'T ').replace(/, id \d+,/g, ', id I,'));
});
