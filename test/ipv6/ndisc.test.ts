/**
 * IPv6 neighbour discovery and DAD between two namespaces over a veth pair with given
 * MACs (so link-locals are deterministic), in a private Linux world and in lonet
 * (virtual clock), compared after normalising times and ICMP ids.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVirtual, linuxCapture, normaliseNeigh as normalise } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const SETUP = [
  'ip netns add b',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip link set veth0 up',
  'ip -n b link set lo up',
  'ip -n b link set veth1 up',
];

test('link-locals from the MAC (EUI-64), tentative until DAD is over; ff00::/8 and fe80::/64 routes; a new address is tentative', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ip -6 addr show dev veth0',
      'sleep 2.5',
      '#until ! ip -6 addr | grep -q tentative',
      '#until ! ip -n b -6 addr | grep -q tentative',
      'ip -6 addr show dev veth0',
      'ip -n b -6 addr show dev veth1',
      'ip -6 route show table local',
      'ip -6 route',
      'ip -6 addr add 2001:db8::1/64 dev veth0',
      'ip -6 addr show dev veth0',
      'ip -6 addr add 2001:db8::7/64 dev veth0 nodad',
      'ip -6 addr show dev veth0',
    ],
    SETUP.length,
  );
  assert.match(r[0]?.stdout ?? '', /inet6 fe80::ff:fe00:1\/64 scope link tentative \n/);
  assert.match(r[2]?.stdout ?? '', /inet6 fe80::ff:fe00:1\/64 scope link \n/);
  assert.match(r[4]?.stdout ?? '', /^multicast ff00::\/8 dev veth0 proto kernel metric 256 pref medium$/m);
});

test('ping6 across without static neighbours: NS to the solicited-node group, solicited NA, REACHABLE here and DELAY there', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ip -6 addr add 2001:db8::1/64 dev veth0 nodad',
      'ip -n b -6 addr add 2001:db8::2/64 dev veth1 nodad',
      'ping -c 1 -W 1 2001:db8::2',
      'ip -6 neigh show 2001:db8::2',
      'ip -n b -6 neigh show 2001:db8::1',
      'ip -6 -s neigh show 2001:db8::2',
    ],
    SETUP.length,
  );
  assert.equal(r[3]?.stdout, '2001:db8::2 dev veth0 lladdr 02:00:00:00:00:02 REACHABLE \n');
  assert.equal(r[4]?.stdout, '2001:db8::1 dev veth1 lladdr 02:00:00:00:00:01 DELAY \n');
});

test('tcpdump on veth0 shows the ND exchange as Linux sends it', async () => {
  const tcpdump =
    'tcpdump -t -e -n -l -i veth0 -c 4 icmp6[0] == 135 or icmp6[0] == 136 or icmp6[0] == 128 or icmp6[0] == 129';
  const pre = [
    ...SETUP,
    'ip -6 addr add 2001:db8::1/64 dev veth0 nodad',
    'ip -n b -6 addr add 2001:db8::2/64 dev veth1 nodad',
  ];
  const linux = linuxCapture(
    [...pre, '#until ! ip -6 addr | grep -q tentative', '#until ! ip -n b -6 addr | grep -q tentative'],
    tcpdump.replace(/icmp6\[0\] == \d+/g, "'$&'"),
    ['ping -c 1 -W 1 2001:db8::2'],
    4,
  );
  const { ns, run } = virtualNs();
  for (const line of pre) await run(line);
  await run('sleep 3');
  const capture = ns.exec(tcpdump);
  assert.match((await ns.exec('ping -c 1 -W 1 2001:db8::2')).stdout, /1 received/);
  const mine = normalise((await capture).stdout);
  assert.match(
    mine,
    /^02:00:00:00:00:01 > 33:33:ff:00:00:02, ethertype IPv6 \(0x86dd\), length 86: 2001:db8::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has 2001:db8::2, length 32\n/,
  );
  if (linux !== undefined) assert.equal(mine, normalise(linux));
});

test('DAD: an address another node already has ends tentative dadfailed and is not used', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ip -6 addr add 2001:db8::9/64 dev veth0 nodad',
      'ip -n b -6 addr add 2001:db8::9/64 dev veth1',
      'sleep 2.5',
      '#until ip -n b -6 addr | grep -q dadfailed',
      'ip -n b -6 addr show dev veth1',
      'ip -6 addr show dev veth0',
    ],
    SETUP.length,
  );
  assert.match(r[3]?.stdout ?? '', /inet6 2001:db8::9\/64 scope global dadfailed tentative \n/);
});

test('virtual clock: DAD sends one NS from :: with a nonce within rtr_solicit_delay, then the link-local is usable and an RS follows', async () => {
  const { ns, clock, run } = virtualNs();
  for (const line of SETUP.slice(0, 2)) await run(line);
  await run('ip link set veth0 up');
  const capture = ns.exec('tcpdump -n -l -i veth0 -c 2 ether src 02:00:00:00:00:01 and not ip6 dst ff02::16');
  const start = clock.now();
  await run('ip -n b link set veth1 up');
  assert.match((await run('ip -6 addr show dev veth0')).stdout, /scope link tentative/);
  await run('sleep 2.1');
  const lines = (await capture).stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0] ?? '',
    /IP6 :: > ff02::1:ff00:1: ICMP6, neighbor solicitation, who has fe80::ff:fe00:1, length 32$/,
  );
  assert.match(lines[1] ?? '', /IP6 fe80::ff:fe00:1 > ff02::2: ICMP6, router solicitation, length 16$/);
  assert.doesNotMatch((await run('ip -6 addr show dev veth0')).stdout, /tentative/);
  assert.ok(clock.now() - start >= 2e9);
});

test('addrgenmode none makes no link-local (the multicast route still comes); bad modes are refused', async () => {
  const lines = [
    'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02',
    'ip link set veth0 addrgenmode none',
    'ip link set veth1 addrgenmode bogus',
    'ip link set veth1 addrgenmode stable_secret',
    'ip link set veth0 up',
    'ip link set veth1 up',
    'sleep 2.5',
    '#until ! ip -6 addr | grep -q tentative',
    'ip -6 addr show dev veth0',
    'ip -6 route show table local',
    'ip link set veth1 addrgenmode eui64',
    'ip -6 addr show dev veth1',
  ];
  const r = await compareVirtual(lines);
  assert.equal(r[7]?.stdout, '');
  assert.match(r[8]?.stdout ?? '', /^multicast ff00::\/8 dev veth0 proto kernel metric 256 pref medium$/m);
});
