import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds } from '../helpers/world-compare.js';

test('a new device in a new namespace gets net.ipv4.conf.DEV and net.ipv6.conf.DEV with Linux defaults; ip_forward sets every device', async () => {
  // sysctl -a on Linux also complains on stderr about the keys it cannot read (stable_secret).
  const { mine, linux } = await compareWorlds(
    [
      'ip netns add b',
      'ip -n b link add veth0 type veth peer name veth1',
      "ip netns exec b sysctl -a -r '^net\\.ipv[46]\\.conf\\.(veth0|lo|all|default)\\.'",
      'ip netns exec b sysctl -w net.ipv4.ip_forward=1',
      'ip netns exec b sysctl net.ipv4.conf.veth0.forwarding net.ipv4.conf.lo.forwarding net.ipv4.conf.default.forwarding net.ipv4.conf.all.accept_redirects',
      'ip netns exec b sysctl -w net.ipv4.conf.default.rp_filter=2',
      'ip netns exec b sysctl net.ipv4.conf.veth1.rp_filter net.ipv4.conf.all.rp_filter',
      'ip netns exec b sysctl -w net.ipv6.conf.all.forwarding=1',
      'ip netns exec b sysctl net.ipv6.conf.veth0.forwarding net.ipv6.conf.default.forwarding net.ipv6.conf.lo.mtu',
      'ip netns exec b cat /proc/net/snmp',
    ],
    new Set([2]),
  );
  if (linux !== undefined) assert.equal(mine[2]?.stdout, linux[2]?.stdout);
  assert.match(mine[2]?.stdout ?? '', /^net\.ipv4\.conf\.veth0\.rp_filter = 0$/m);
  assert.match(mine[2]?.stdout ?? '', /^net\.ipv6\.conf\.lo\.accept_dad = -1$/m);
  assert.equal(mine[6]?.stdout, 'net.ipv4.conf.veth1.rp_filter = 2\nnet.ipv4.conf.all.rp_filter = 0\n');
  assert.match(mine[9]?.stdout ?? '', /^Ip: 1 64 /m);
});
