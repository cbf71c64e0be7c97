/**
 * ARP and the NUD state machine between two namespaces joined by a veth pair, with no
 * static neighbours: the same scripts run in a private Linux world (unshare --net
 * --mount) and in lonet, compared after normalising times, ICMP ids and the seconds in
 * `ip -s neigh`. Timer behaviour Linux cannot show in a test's time (30 s reachable
 * time) is checked on lonet's virtual clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVirtual, linuxCapture, normaliseNeigh as normalise } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

// tcpdump prints local time; the virtual clock's times are checked in UTC.
process.env.TZ = 'UTC';

const SETUP = [
  'ip netns add b',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip addr add 10.0.0.1/24 dev veth0',
  'ip -n b addr add 10.0.0.2/24 dev veth1',
  'ip link set veth0 up',
  'ip -n b link set lo up',
  'ip -n b link set veth1 up',
];

test('two namespaces over a veth ping without static neighbours: ARP resolves, REACHABLE here, DELAY there, /proc/net/arp', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ip -4 neigh show',
      'ping -c 1 -W 1 10.0.0.2',
      'ip -4 neigh show',
      'ip -n b -4 neigh show',
      'ip -4 -s neigh show',
      'ip -n b -4 -s neigh show',
      'cat /proc/net/arp',
      'ip netns exec b cat /proc/net/arp',
      'ip -4 neigh show nud reachable dev veth0',
      'ip -4 neigh show nud stale',
      'ip -j -4 neigh show',
    ],
    SETUP.length,
  );
  assert.match(r[1]?.stdout ?? '', /1 packets transmitted, 1 received/);
  assert.equal(r[2]?.stdout, '10.0.0.2 dev veth0 lladdr 02:00:00:00:00:02 REACHABLE \n');
  // The target learnt the asker from its request (STALE) and its reply made it DELAY.
  assert.equal(r[3]?.stdout, '10.0.0.1 dev veth1 lladdr 02:00:00:00:00:01 DELAY \n');
  assert.match(r[4]?.stdout ?? '', / ref 1 used \d+\/\d+\/\d+probes 4 REACHABLE \n$/);
  assert.match(r[6]?.stdout ?? '', /^10\.0\.0\.2 {9}0x1 {9}0x2 {9}02:00:00:00:00:02 {5}\* {8}veth0\n$/m);
});

test('tcpdump -e on veth0 shows the ARP exchange as Linux sends it: broadcast who-has, unicast is-at, 42-byte frames', async () => {
  const tcpdump = 'tcpdump -t -e -n -l -i veth0 -c 4 arp or icmp';
  const linux = linuxCapture(SETUP, tcpdump, ['ping -c 1 -W 1 10.0.0.2'], 4);
  const { ns, run } = virtualNs();
  for (const line of SETUP) await run(line);
  const capture = ns.exec(tcpdump);
  const ping = await run('ping -c 1 -W 1 10.0.0.2');
  assert.match(ping.stdout, /1 received/);
  const mine = await capture;
  assert.equal(
    normalise(mine.stdout),
    '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.0.0.2 tell 10.0.0.1, length 28\n' +
      '02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28\n' +
      '02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 98: 10.0.0.1 > 10.0.0.2: ICMP echo request, id I, seq 1, length 64\n' +
      '02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 98: 10.0.0.2 > 10.0.0.1: ICMP echo reply, id I, seq 1, length 64\n',
  );
  if (linux !== undefined) assert.equal(normalise(mine.stdout), normalise(linux));
});

test('an absent host: three broadcast who-has a second apart, FAILED, and ping hears Destination Host Unreachable from its own address', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ping -c 1 -W 5 10.0.0.9',
      'ip -4 neigh show 10.0.0.9',
      'ip -4 -s neigh show 10.0.0.9',
      'cat /proc/net/arp',
      'ip -4 neigh flush dev veth0',
      'ip -4 neigh show nud all dev veth0',
    ],
    SETUP.length,
  );
  assert.equal(
    r[0]?.stdout,
    'PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.\nFrom 10.0.0.1 icmp_seq=1 Destination Host Unreachable\n\n' +
      '--- 10.0.0.9 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n\n',
  );
  assert.equal(r[1]?.stdout, '10.0.0.9 dev veth0 FAILED \n');
  assert.match(r[2]?.stdout ?? '', /^10\.0\.0\.9 dev veth0 {2}used \d+\/\d+\/\d+probes 6 FAILED \n$/);
});

test('packets wait while an entry resolves: unres_qlen 1 keeps only the newest, the rest are unresolved discards', async () => {
  await compareVirtual(
    [
      ...SETUP,
      'sysctl -w net.ipv4.neigh.veth0.unres_qlen=1',
      'ping -c 3 -i 0.2 -W 5 10.0.0.9',
      'sysctl -w net.ipv4.neigh.veth0.unres_qlen=101',
      'ping -c 3 -i 0.2 -W 5 10.0.0.8',
    ],
    SETUP.length,
  );
});

test('ip neigh add, change, replace, del, flush and get: states, flags and iproute2/kernel errors', async () => {
  await compareVirtual(
    [
      ...SETUP,
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth0',
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth0',
      'ip neigh add 10.0.0.6 dev veth0',
      'ip neigh add 10.0.0.7 dev veth0 nud stale lladdr 02:00:00:00:00:07',
      'ip neigh change 10.0.0.8 lladdr 02:00:00:00:00:08 dev veth0',
      'ip neigh replace 10.0.0.8 lladdr 02:00:00:00:00:08 dev veth0 nud reachable',
      'ip neigh change 10.0.0.5 lladdr 02:00:00:00:00:55 dev veth0',
      'ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev nosuch',
      'ip neigh add 10.0.0.9 lladdr 02:00 dev veth0',
      'ip neigh add 10.0.0.9 lladdr zz dev veth0',
      'ip neigh add 10.0.0.9',
      'ip neigh add 10.0.0.9 dev veth0 nud bogus',
      'ip neigh del 10.0.0.99 dev veth0',
      'ip neigh del 10.0.0.99',
      'ip -s neigh show 10.0.0.8',
      'ip -s neigh show 10.0.0.5 dev veth0',
      'ip -s neigh show 10.0.0.7',
      'ip neigh show nud permanent',
      'ip neigh show nud stale',
      'ip neigh show dev nosuch',
      'ip -4 neigh flush dev veth0',
      'ip -4 neigh show',
      'ip -s neigh flush all',
      'ip neigh flush dev veth0 nud permanent',
      'ip -s -4 neigh flush dev veth0',
      'ip -4 neigh show',
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth0 nud noarp',
      'ip -4 neigh show nud all',
      'ip neigh del 10.0.0.5 dev veth0',
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth0 nud incomplete',
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth0 nud failed',
      'ip -4 neigh show nud all',
      'ip -j -4 neigh show',
      'ip neigh add 10.0.0.12 lladdr 02:00:00:00:00:12 dev veth0 router',
      'ip neigh show 10.0.0.12',
      'ip neigh get 10.0.0.12 dev veth0',
      'ip neigh get 10.0.0.13 dev veth0',
      'ip -s neigh flush to 10.0.0.12',
      'ip -s neigh flush to 10.0.0.12 nud permanent',
    ],
    SETUP.length,
  );
});

test('arp_ignore: 0 answers for an address on another device, 1 does not (the asker gets FAILED)', async () => {
  const r = await compareVirtual(
    [
      ...SETUP,
      'ip -n b addr add 10.9.9.9/32 dev lo',
      'ip -n b addr add 10.9.9.8/32 dev lo',
      'ip route add 10.9.9.0/24 dev veth0',
      'ping -c 1 -W 1 10.9.9.9',
      'ip netns exec b sysctl -w net.ipv4.conf.veth1.arp_ignore=1',
      'ping -c 1 -W 5 10.9.9.8',
      'ip -4 neigh show dev veth0 nud reachable',
      'ip -4 neigh show dev veth0 nud failed',
    ],
    SETUP.length,
  );
  assert.match(r[3]?.stdout ?? '', /1 received/);
  assert.match(r[5]?.stdout ?? '', /Destination Host Unreachable/);
});

test('neighbour parms and arp settings are per-device sysctls with Linux defaults; default exists in init_net only', async () => {
  await compareVirtual(
    [
      ...SETUP,
      'sysctl net.ipv4.neigh.veth0.retrans_time_ms net.ipv4.neigh.veth0.base_reachable_time_ms net.ipv4.neigh.veth0.delay_first_probe_time',
      'sysctl net.ipv4.neigh.veth0.ucast_solicit net.ipv4.neigh.veth0.mcast_solicit net.ipv4.neigh.veth0.mcast_resolicit',
      'sysctl net.ipv4.neigh.veth0.unres_qlen net.ipv4.neigh.veth0.unres_qlen_bytes net.ipv4.neigh.veth0.locktime',
      'sysctl -w net.ipv4.neigh.veth0.unres_qlen=3',
      'sysctl net.ipv4.neigh.veth0.unres_qlen_bytes',
      'sysctl net.ipv4.conf.veth0.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.default.arp_notify',
      'ip netns exec b sysctl net.ipv4.neigh.veth1.gc_stale_time net.ipv4.neigh.lo.anycast_delay',
      'ip netns exec b sysctl net.ipv4.neigh.default.retrans_time_ms',
    ],
    SETUP.length,
  );
});

test('virtual clock: REACHABLE goes STALE after the reachable time, a packet makes it DELAY, then a unicast probe makes it REACHABLE again', async () => {
  const { ns, clock, run } = virtualNs();
  for (const line of SETUP) await run(line);
  await run('ping -c 1 10.0.0.2');
  assert.equal((await run('ip -4 neigh show')).stdout, '10.0.0.2 dev veth0 lladdr 02:00:00:00:00:02 REACHABLE \n');
  // reachable_time is drawn from [15 s, 45 s); at 46 s the entry is surely STALE. Time moves
  // only once the softirq is idle: on a loaded machine a squeezed run continues later.
  await ns.kernel.settle();
  clock.advance(46e9);
  assert.equal((await run('ip -4 neigh show')).stdout, '10.0.0.2 dev veth0 lladdr 02:00:00:00:00:02 STALE \n');
  assert.match((await run('ip -4 -s neigh show')).stdout, / used 46\/46\/\d+probes 4 STALE \n$/);
  const capture = ns.exec('tcpdump -t -e -n -l -i veth0 -c 2 arp');
  // Not run(): the reply comes at once, and time must not move on before DELAY is seen.
  assert.match((await ns.exec('ping -c 1 10.0.0.2')).stdout, /1 received/);
  assert.equal((await ns.exec('ip -4 neigh show')).stdout, '10.0.0.2 dev veth0 lladdr 02:00:00:00:00:02 DELAY \n');
  // delay_first_probe_time (5 s) later: PROBE, one unicast who-has to the known MAC, and the reply.
  await ns.kernel.settle();
  clock.advance(5e9);
  assert.equal(
    (await capture).stdout,
    '02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype ARP (0x0806), length 42: Request who-has 10.0.0.2 tell 10.0.0.1, length 28\n' +
      '02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28\n',
  );
  assert.equal(
    (await run('ip -4 -s neigh show')).stdout,
    '10.0.0.2 dev veth0 lladdr 02:00:00:00:00:02  ref 1 used 5/0/0probes 1 REACHABLE \n',
  );
  // b's entry (DELAY after its reply) had no confirmation: it probed too and is REACHABLE.
  await ns.kernel.settle();
  assert.equal((await run('ip -n b -4 neigh show')).stdout, '10.0.0.1 dev veth1 lladdr 02:00:00:00:00:01 REACHABLE \n');
});

test('virtual clock: an unanswered entry sends mcast_solicit requests retrans_time apart, then FAILED', async () => {
  const { ns, clock, run } = virtualNs();
  for (const line of SETUP) await run(line);
  await run('sysctl -w net.ipv4.neigh.veth0.retrans_time_ms=250 net.ipv4.neigh.veth0.mcast_solicit=5');
  const capture = ns.exec('tcpdump -n -l -i veth0 -c 5 arp');
  const start = clock.now();
  const ping = await run('ping -c 1 -W 5 10.0.0.9');
  assert.match(ping.stdout, /Destination Host Unreachable/);
  const stamps = (await capture).stdout
    .trim()
    .split('\n')
    .map((l) => l.slice(0, 15));
  const epoch = clock.realtime() - clock.now();
  const at = (ns: number) => new Date((epoch + ns) / 1e6).toISOString().slice(11, 23);
  assert.deepEqual(
    stamps.map((s) => s.slice(0, 12)),
    [0, 250, 500, 750, 1000].map((ms) => at(start + ms * 1e6)),
  );
  assert.match((await run('ip -4 -s neigh show 10.0.0.9')).stdout, /probes 8 FAILED/);
  assert.equal((await run('ip -4 neigh show 10.0.0.9')).stdout, '10.0.0.9 dev veth0 FAILED \n');
});

test('carrier loss flushes all but PERMANENT neighbours and marks routes through the device linkdown; carrier back clears it', async () => {
  const r = await compareVirtual(
    [
      'ip netns add b',
      'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
      'ip addr add 10.0.0.1/24 dev veth0',
      'ip link set veth0 up',
      'ip route',
      'ip route show table local',
      'ip -n b addr add 10.0.0.2/24 dev veth1',
      'ip -n b link set veth1 up',
      '#until ! ip route | grep -q linkdown',
      'ip route',
      'ping -c 1 -W 1 10.0.0.2',
      'ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev veth0',
      'ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev veth0 nud stale',
      'ip -4 neigh show 10.0.0.2',
      'ip -n b link set veth1 down',
      '#until ip route | grep -q linkdown',
      'ip -4 neigh show nud all',
      'ip route',
      'ip route show table local',
      'ip route add 10.1.0.0/24 via 10.0.0.5',
      'ip route show 10.1.0.0/24',
      'ip route get 10.0.0.2',
      'ip -n b link set veth1 up',
      '#until ! ip route | grep -q linkdown',
      'ip route',
    ],
    0,
  );
  assert.match(r[4]?.stdout ?? '', /^10\.0\.0\.0\/24 dev veth0 proto kernel scope link src 10\.0\.0\.1 linkdown $/m);
  assert.equal(r[14]?.stdout, '10.0.0.7 dev veth0 lladdr 02:00:00:00:00:07 PERMANENT \n');
});

test('arp_notify: a device coming up announces its addresses with a gratuitous who-has; without it nothing is sent', async () => {
  const tcpdump = 'tcpdump -t -n -l -i veth1 -c 1 arp';
  const steps = [
    'ip link set veth0 down',
    'ip link set veth0 up',
    'sysctl -w net.ipv4.conf.veth0.arp_notify=1',
    'ip link set veth0 down',
    'ip link set veth0 up',
  ];
  const linux = linuxCapture(SETUP, `ip netns exec b ${tcpdump}`, steps, 1);
  const { ns, run } = virtualNs();
  for (const line of SETUP) await run(line);
  const capture = ns.exec(`ip netns exec b ${tcpdump}`);
  for (const line of steps) await run(line);
  const mine = (await capture).stdout;
  assert.equal(mine, 'ARP, Request who-has 10.0.0.1 tell 10.0.0.1, length 28\n');
  if (linux !== undefined) assert.equal(mine, linux);
});
