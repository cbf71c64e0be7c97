/** The fuzz ledger itself: it sums counters users can read, and it notices a lost or double-counted packet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLedger, snapshot } from '../../fuzz/ledger.js';
import { Namespace } from '../../src/api/namespace.js';
import { procRead } from '../../src/net/procfs.js';
import { xmit } from '../helpers/frames.js';
import { echoRequest, ipv4Frame } from '../helpers/ipv4.js';

const NONE = { martian4: 0, none6: 0, badFrag6: 0, rawOnly: 0 };

test('every counter the ledger sums is one /proc/net/{snmp,snmp6,netstat,stat/rt_cache}, softnet_stat or `ip -s -s link` shows', async () => {
  const ns = new Namespace();
  // iproute2 prints the otherhost column only once it is nonzero: one frame for another MAC.
  const other = ipv4Frame({}, echoRequest(1, 1));
  other[0] = 2;
  xmit(ns, other);
  await ns.kernel.settle();
  const text = [
    ...['snmp', 'snmp6', 'netstat', 'softnet_stat', 'stat/rt_cache'].map((f) => String(procRead(ns, `/proc/net/${f}`))),
    (await ns.exec('ip -s -s link show lo')).stdout,
  ].join('\n');
  const shownAs: Record<string, string> = {
    rxDropped: 'dropped',
    txDropped: 'dropped',
    rxOtherhost: 'otherhost',
    martians: 'in_martian_dst',
  };
  for (const k of Object.keys(snapshot(ns))) {
    if (k === 'softnetDropped') continue; // softnet_stat's second column, in hex
    const name = shownAs[k] ?? (k.split('.').pop() as string);
    assert.ok(text.includes(name), `${k} is not shown anywhere`);
  }
});

test('the ledger balances a real drop and refuses an uncounted one or a double count', async () => {
  const ns = new Namespace();
  const before = snapshot(ns);
  const bad = ipv4Frame({}, echoRequest(1, 1));
  bad[14] = 0x55; // version 5: InHdrErrors
  xmit(ns, bad);
  await ns.kernel.settle();
  const after = snapshot(ns);
  checkLedger(before, after, 1, NONE);
  assert.match(
    String(procRead(ns, '/proc/net/snmp')).split('\n')[1] ?? '',
    /^Ip: 2 64 1 1 /,
    'InReceives 1, InHdrErrors 1',
  );
  assert.throws(() => checkLedger(before, after, 2, NONE), /link layer: 2 frame\(s\) in, 1 accounted for/);
  const lost = { ...after, 'Ip.InHdrErrors': (after['Ip.InHdrErrors'] ?? 0) - 1 };
  assert.throws(() => checkLedger(before, lost, 1, NONE), /IPv4: 1 packet\(s\) in, 0 accounted for/);
  const twice = { ...after, 'Ip.InAddrErrors': (after['Ip.InAddrErrors'] ?? 0) + 1 };
  assert.throws(() => checkLedger(before, twice, 1, NONE), /IPv4: 1 packet\(s\) in, 2 accounted for/);
});
