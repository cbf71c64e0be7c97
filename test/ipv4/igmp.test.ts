/**
 * IGMPv3 on a veth pair: a socket joining a group on veth0 makes Linux send two "change to
 * exclude" reports to 224.0.0.22, leaving it two "change to include" ones; captured on
 * the peer in a private Linux world and in lonet (virtual clock), compared line by line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linuxCapture } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const SETUP = [
  'ip netns add b',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip -n b link set veth1 up',
  'sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1',
  'ip addr add 10.0.0.1/24 dev veth0',
  'ip link set veth0 up',
];
const TCPDUMP = 'ip netns exec b tcpdump -t -vv -n -l -i veth1 -c 4 ether src 02:00:00:00:00:01';

const JOIN = `const s = require('dgram').createSocket('udp4');
s.bind(5000, () => {
  s.addMembership('239.1.2.3', '10.0.0.1');
  setTimeout(() => { s.dropMembership('239.1.2.3', '10.0.0.1'); setTimeout(() => s.close(), 1500); }, 1500);
});`;

const linuxReports = () => linuxCapture(SETUP, TCPDUMP, [`node -e "${JOIN.replaceAll('\n', ' ')}"`], 8);

const report = (rec: string) =>
  'IP (tos 0xc0, ttl 1, id 0, offset 0, flags [DF], proto IGMP (2), length 40, options (RA))\n' +
  `    10.0.0.1 > 224.0.0.22: igmp v3 report, 1 group record(s) [gaddr 239.1.2.3 ${rec} { }]`;

test('a socket joining 239.1.2.3 on veth0 sends two IGMPv3 "to_ex" reports; leaving it, two "to_in"; ip maddr lists the join', async () => {
  const linux = linuxReports();
  const { ns, run } = virtualNs();
  for (const line of SETUP) await run(line);
  const capture = ns.exec(TCPDUMP);
  const s = ns.dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(5000, resolve));
  s.addMembership('239.1.2.3', '10.0.0.1');
  assert.match((await run('ip maddr show dev veth0')).stdout, /inet {2}239\.1\.2\.3\n/);
  await run('sleep 1.5');
  s.dropMembership('239.1.2.3', '10.0.0.1');
  await run('sleep 1.5');
  s.close();
  const mine = (await capture).stdout;
  assert.equal(mine, `${[report('to_ex'), report('to_ex'), report('to_in'), report('to_in')].join('\n')}\n`);
  if (linux !== undefined) assert.equal(mine, linux);
});
