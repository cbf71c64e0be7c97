import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { inLinuxWorld } from '../helpers/linux-world.js';

test('same as Linux: ip maddr lists lo’s groups (224.0.0.1 only while up, ff02::1 and ff01::1 always), its errors and exit codes', async (t) => {
  const lines = [
    'ip link set lo down',
    'ip maddr',
    'cat /proc/net/igmp',
    'ip link set lo up',
    'ip maddr',
    'ip -o maddr',
    'ip -j maddr',
    'ip -j -p maddr show dev lo',
    'ip -4 maddr',
    'ip -6 maddr s lo',
    'ip -f link maddr',
    'cat /proc/net/igmp',
    'cat /proc/net/igmp6',
    'cat /proc/net/mcfilter',
    'ip maddr show dev lo2',
    'ip maddr help',
    'ip maddr foo',
    'ip maddr show dev lo lo',
    'ip maddr show dev',
  ];
  const real = inLinuxWorld(lines);
  if (real === undefined) {
    t.skip('no Linux network namespaces here');
    return;
  }
  const ns = new Namespace();
  for (const [i, line] of lines.entries()) assert.deepEqual(await ns.exec(line), real[i], line);
});
