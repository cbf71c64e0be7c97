/**
 * MLDv2 on a veth pair with given MACs: the unsolicited reports Linux sends when a link
 * comes up (the link-local's solicited-node group, from :: while the address is
 * tentative, again from the link-local once DAD is over) and when a socket joins and
 * leaves a group, captured on the peer in a private Linux world and in lonet (virtual
 * clock), compared line by line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linuxCapture } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const PAIR = [
  'ip netns add b',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip -n b link set veth1 up',
];

/** veth0's MLD reports as the peer sees them, without times. */
const TCPDUMP = 'ip netns exec b tcpdump -t -vv -n -l -i veth1 ether src 02:00:00:00:00:01 and ip6 dst ff02::16';

/** In a Linux world: PAIR, tcpdump -c `count` in the background, `steps`; what it printed. */
const linuxReports = (steps: string[], count: number) => linuxCapture(PAIR, `${TCPDUMP} -c ${count}`, steps, count);

const report = (src: string, records: string) =>
  `IP6 (hlim 1, next-header Options (0) payload length: ${16 + 20 * records.split('[').length - 20}) ${src} > ff02::16: HBH (rtalert: 0x0000) (padn) [icmp6 sum ok] ICMP6, multicast listener report v2, ${records.split('[').length - 1} group record(s) ${records}`;

test('a veth coming up reports its solicited-node group twice from :: and twice from the link-local once DAD is over', async () => {
  const linux = linuxReports(['ip link set veth0 up'], 4);
  const { ns, clock, run } = virtualNs();
  for (const line of PAIR) await run(line);
  const capture = ns.exec(`${TCPDUMP.replace('-t ', '-tt ')} -c 4`);
  await run('ip link set veth0 up');
  const upAt = clock.now();
  await run('sleep 3');
  const lines = (await capture).stdout.trim().split('\n');
  // tcpdump prints wall-clock seconds: the virtual epoch is the start of 2026.
  const epoch = Date.UTC(2026, 0, 1) * 1e6;
  const at = lines.map((l) => Math.round(Number(l.split(' ')[0]) * 1e6) * 1e3 - epoch - upAt);
  const mine = `${lines.map((l) => l.replace(/^[\d.]+ /, '')).join('\n')}\n`;
  const rec = '[gaddr ff02::1:ff00:1 to_ex { }]';
  assert.equal(
    mine,
    [report('::', rec), report('::', rec), report('fe80::ff:fe00:1', rec), report('fe80::ff:fe00:1', rec), ''].join(
      '\n',
    ),
  );
  if (linux !== undefined) assert.equal(mine, linux);
  // The first two jiffies after the join; the second within mldv2_unsolicited_report_interval
  // (1 s) of it; the third when DAD ends (at least dad_transmits × retrans_time = 1 s in);
  // the fourth within 1 s of that.
  const [t0, t1, t2, t3] = at as [number, number, number, number];
  assert.ok(t0 >= 0 && t0 <= 3e6, `first report at ${t0} ns`);
  assert.ok(t1 - t0 >= 2e6 && t1 - t0 <= 1002e6);
  assert.ok(t2 >= 1e9 && t2 <= 2.1e9);
  assert.ok(t3 - t2 >= 2e6 && t3 - t2 <= 1002e6);
});

const JOIN = `const s = require('dgram').createSocket('udp6');
s.bind(5000, () => {
  s.addMembership('ff02::1234', '::%veth0');
  setTimeout(() => { s.dropMembership('ff02::1234', '::%veth0'); setTimeout(() => s.close(), 1500); }, 1500);
});`;

test('a socket joining a group on veth0 sends two "change to exclude" reports; leaving it, two "change to include"', async () => {
  const linux = linuxReports(
    ['ip link set veth0 up', '#until [ $(wc -l < @OUT) -ge 4 ]', `node -e "${JOIN.replaceAll('\n', ' ')}"`],
    8,
  );
  const { ns, run } = virtualNs();
  for (const line of PAIR) await run(line);
  const capture = ns.exec(`${TCPDUMP} -c 8`);
  await run('ip link set veth0 up');
  await run('sleep 3');
  const s = ns.dgram.createSocket('udp6');
  await new Promise<void>((resolve) => s.bind(5000, resolve));
  s.addMembership('ff02::1234', '::%veth0');
  assert.match((await run('ip maddr show dev veth0')).stdout, /inet6 ff02::1234\n/);
  await run('sleep 1.5');
  s.dropMembership('ff02::1234', '::%veth0');
  await run('sleep 1.5');
  s.close();
  const mine = (await capture).stdout;
  const lines = mine.split('\n');
  assert.deepEqual(lines.slice(4), [
    report('fe80::ff:fe00:1', '[gaddr ff02::1234 to_ex { }]'),
    report('fe80::ff:fe00:1', '[gaddr ff02::1234 to_ex { }]'),
    report('fe80::ff:fe00:1', '[gaddr ff02::1234 to_in { }]'),
    report('fe80::ff:fe00:1', '[gaddr ff02::1234 to_in { }]'),
    '',
  ]);
  if (linux !== undefined) assert.equal(mine, linux);
});
