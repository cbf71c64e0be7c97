/**
 * `bridge fdb add|append|replace|del` of static entries on a bridge and its ports, and
 * `bridge fdb show` of them, in a private Linux world and in lonet, compared byte for
 * byte. Linux also lists each device's multicast address list as "self" entries, which
 * lonet does not keep: those lines are left out of both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWorlds, eachStream } from '../helpers/linux-world.js';
import { virtualNs } from '../helpers/virtual-shell.js';

const noMcastSelf = (s: string) =>
  s
    .split('\n')
    .filter((l) => !/^(33:33|01:00:5e):\S+ (dev \S+ )?self permanent$/.test(l))
    .join('\n');

test('bridge fdb add/append/replace/del: states, ports, errors; the entries as bridge fdb show prints them', async () => {
  const { run } = virtualNs();
  const r = await compareWorlds(
    [
      'ip link add br0 address 02:00:00:00:01:00 type bridge',
      'ip link add vb address 02:00:00:00:00:11 type veth peer name vx address 02:00:00:00:00:21',
      'ip link add vc address 02:00:00:00:00:12 type veth peer name vy address 02:00:00:00:00:22',
      'ip link set vb master br0',
      'ip link set vc master br0',
      'ip link set br0 up',
      'ip link set vb up',
      'ip link set vc up',
      'sysctl -qw net.ipv6.conf.vx.disable_ipv6=1',
      'ip link set vx up',
      'bridge fdb add 02:00:00:00:00:aa dev vb master static',
      'bridge fdb add 02:00:00:00:00:ab dev vb master',
      'bridge fdb add 02:00:00:00:00:ac dev vb master permanent',
      'bridge fdb add 02:00:00:00:00:ad dev vc master dynamic',
      'bridge fdb add 02:00:00:00:00:ad dev vb master dynamic',
      'bridge fdb add 02:00:00:00:00:b1 dev vb master sticky',
      'bridge fdb add 02:00:00:00:00:b2 dev vb master sticky permanent',
      'bridge fdb add 02:00:00:00:00:b4 dev vb master sticky static',
      'bridge fdb add 02:00:00:00:00:aa dev vb master static',
      'bridge fdb append 02:00:00:00:00:aa dev vb master static',
      'bridge fdb replace 02:00:00:00:00:aa dev vc master static',
      'bridge fdb add 02:00:00:00:00:af dev br0 self',
      'bridge fdb add 02:00:00:00:00:b0 dev br0 self static',
      'bridge fdb add 02:00:00:00:00:b0 dev br0 master',
      'bridge fdb show br br0',
      'bridge fdb show dev vb',
      'bridge fdb show br br0 state static',
      'bridge fdb show br br0 dynamic',
      'bridge fdb del 02:00:00:00:00:aa dev vb master',
      'bridge fdb del 02:00:00:00:00:aa dev vc master',
      'bridge fdb del 02:00:00:00:00:aa dev vc master',
      'bridge fdb delete 02:00:00:00:00:af dev br0 self',
      'bridge fdb add zz dev vb master',
      'bridge fdb add 02:00:00:00:00:b0 dev nosuch master',
      'bridge fdb add 02:00:00:00:00:b0 master',
      'bridge fdb add 00:00:00:00:00:00 dev vb master',
      'bridge fdb add 02:00:00:00:00:b3 dev vx master',
      'bridge fdb show',
    ],
    run,
    eachStream(noMcastSelf),
  );
  // lonet's own answers, whatever the Linux side did.
  assert.match(r[24]?.stdout ?? '', /^02:00:00:00:00:b4 dev vb sticky master br0 static$/m);
  assert.equal(r[18]?.stderr, 'RTNETLINK answers: File exists\n');
  assert.equal(r[30]?.stderr, 'RTNETLINK answers: No such file or directory\n');
});
