/**
 * Router solicitations after the link-local is usable: Linux retransmits them with
 * RFC 7559 backoff (router_solicitation_interval ± 10 %, then doubling ± 5 %) while
 * router_solicitations allows (-1 by default: for ever). Compared with a private Linux
 * world (the packets) and timed on lonet's virtual clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linuxCapture } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const SETUP = [
  'ip netns add b',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b',
  'ip -n b link set veth1 up',
  'sysctl -qw net.ipv6.conf.veth0.router_solicitations=3',
  'sysctl -qw net.ipv6.conf.veth0.router_solicitation_interval=1',
];
const TCPDUMP = 'ip netns exec b tcpdump -n -l -i veth1 -c 3 ether src 02:00:00:00:00:01 and ip6 dst ff02::2';

test('router_solicitations=3, interval 1 s: three solicitations about 1 s then 2 s apart, then no more', async () => {
  const linux = linuxCapture(SETUP, `${TCPDUMP} -t`, ['ip link set veth0 up'], 3);
  const { ns, run } = virtualNs();
  for (const line of SETUP) await run(line);
  const capture = ns.exec(`${TCPDUMP} -tt`);
  await run('ip link set veth0 up');
  await run('sleep 8');
  const lines = (await capture).stdout.trim().split('\n');
  const at = lines.map((l) => Number(l.split(' ')[0]));
  const mine = `${lines.map((l) => l.replace(/^[\d.]+ /, '')).join('\n')}\n`;
  assert.equal(mine, 'IP6 fe80::ff:fe00:1 > ff02::2: ICMP6, router solicitation, length 16\n'.repeat(3));
  if (linux !== undefined) assert.equal(mine, linux);
  const [t0, t1, t2] = at as [number, number, number];
  assert.ok(t1 - t0 >= 0.9 && t1 - t0 <= 1.1, `second after ${t1 - t0} s`);
  assert.ok(t2 - t1 >= 1.9 * (t1 - t0) - 0.002 && t2 - t1 <= 2.1 * (t1 - t0) + 0.002, `third after ${t2 - t1} s`);
  // Nothing more in the next hour: the count is spent.
  const ac = new AbortController();
  const more = ns.exec(TCPDUMP.replace('-c 3', '-c 1'), { signal: ac.signal });
  await run('sleep 3600');
  ac.abort();
  assert.doesNotMatch((await more).stdout, /router solicitation/);
});

test('by default (router_solicitations -1) solicitations keep coming, the interval doubling up to max_interval', async () => {
  const { ns, run } = virtualNs();
  for (const line of SETUP.slice(0, 3)) await run(line);
  assert.equal(
    (await run('sysctl net.ipv6.conf.veth0.router_solicitations')).stdout,
    'net.ipv6.conf.veth0.router_solicitations = -1\n',
  );
  await run('sysctl -qw net.ipv6.conf.veth0.router_solicitation_max_interval=10');
  const capture = ns.exec(`${TCPDUMP.replace('-c 3', '-c 7')} -tt`);
  await run('ip link set veth0 up');
  await run('sleep 60');
  const at = (await capture).stdout
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[0]));
  assert.equal(at.length, 7);
  const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
  // ~4, ~8, then capped near 10 (9 to 11 s).
  assert.ok((gaps[0] as number) >= 3.6 && (gaps[0] as number) <= 4.4, `${gaps}`);
  for (const g of gaps.slice(2)) assert.ok(g >= 9 && g <= 11, `${gaps}`);
});
