/**
 * ping -b across a bridge: two hosts answering the broadcast with
 * icmp_echo_ignore_broadcasts=0; iputils counts the second reply of a sequence as a
 * duplicate (it prints no "(DUP!)" for a broadcast ping). A private Linux world and
 * lonet (virtual clock), compared with the responders' addresses folded together (which
 * one answers first is the kernel's scheduling).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds, eachStream } from '../helpers/linux-world.js';
import { normaliseNeigh } from '../helpers/neigh-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const LINES = [
  'ip netns add b',
  'ip netns add c',
  'ip link add br0 address 02:00:00:00:01:00 type bridge',
  'ip link add veth0 address 02:00:00:00:00:01 type veth peer name vb address 02:00:00:00:00:11',
  'ip link add vb2 address 02:00:00:00:00:12 type veth peer name veth0 address 02:00:00:00:00:02 netns b',
  'ip link add vc address 02:00:00:00:00:13 type veth peer name veth0 address 02:00:00:00:00:03 netns c',
  'ip link set vb master br0',
  'ip link set vb2 master br0',
  'ip link set vc master br0',
  'ip link set br0 up',
  'ip link set vb up',
  'ip link set vb2 up',
  'ip link set vc up',
  'ip addr add 10.0.0.1/24 dev veth0',
  'ip link set veth0 up',
  'ip -n b addr add 10.0.0.2/24 dev veth0',
  'ip -n b link set veth0 up',
  'ip -n c addr add 10.0.0.3/24 dev veth0',
  'ip -n c link set veth0 up',
  'ping -b -c 2 -W 1 10.0.0.255',
  'ip netns exec b sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0',
  'ip netns exec c sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0',
  'ping -b -c 3 -i 0.5 10.0.0.255',
  'ping -c 1 10.0.0.255',
];

test('ping -b: replies from every host that answers broadcasts, the extra ones counted as duplicates', async () => {
  const { run } = virtualNs();
  const folded = (s: string) => normaliseNeigh(s).replace(/10\.0\.0\.[23]:/g, '10.0.0.X:');
  const r = await compareWorlds(LINES, run, eachStream(folded));
  const ignored = r[19] as { stdout: string; code: number };
  assert.equal(ignored.code, 1);
  assert.match(ignored.stdout, /2 packets transmitted, 0 received, 100% packet loss/);
  const answered = r[22] as { stdout: string; stderr: string };
  assert.equal(answered.stderr, 'WARNING: pinging broadcast address\n');
  // Two answers to seq 1 and 2; ping is done once seq 3's first answer is in.
  for (const seq of [1, 2]) {
    for (const host of [2, 3])
      assert.match(answered.stdout, new RegExp(`bytes from 10\\.0\\.0\\.${host}: icmp_seq=${seq} `));
  }
  assert.equal((answered.stdout.match(/icmp_seq=3 /g) ?? []).length, 1);
  assert.match(answered.stdout, /3 packets transmitted, 3 received, \+2 duplicates, 0% packet loss/);
  assert.equal(
    (r[23] as { stderr: string }).stderr,
    'ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n',
  );
});
