import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETDEV_TX } from '../../src/core/if.js';
import { devGetStats } from '../../src/core/netdevice.js';
import { Kernel, Net } from '../../src/init.js';
import { procRead } from '../../src/net/procfs.js';
import { ETH_P_802_EX1, frame, listen, xmit } from '../helpers/frames.js';

function softnetFields(net: Net, cpu: number): number[] {
  const text = procRead(net, '/proc/net/softnet_stat') as string;
  const line = text.split('\n')[cpu] as string;
  return line.split(' ').map((h) => Number.parseInt(h, 16));
}

test('5000 frames from one CPU with softirq held off: 1001 queued, 3999 dropped, NETDEV_TX_OK for all', async () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  const { received } = listen(net, ETH_P_802_EX1);
  const k = net.kernel;
  k.localBhDisable();
  const results = new Set<number>();
  k.runOn(0, () => {
    for (let i = 0; i < 5000; i++) results.add(xmit(net, frame(ETH_P_802_EX1)));
  });
  assert.deepEqual([...results], [NETDEV_TX.OK], 'loopback_xmit never tells the sender about a drop');

  const f = softnetFields(net, 0);
  assert.equal(f[1], 3999, 'softnet_stat dropped');
  assert.equal(f[11], 1001, 'backlog length: netdev_max_backlog + 1 (the test is <=)');
  assert.equal(f[13], 1001, 'input_pkt_queue');
  assert.equal(f[12], 0, 'cpu index');
  const s = devGetStats(net.lo);
  assert.equal(s.rxDropped, 3999, "lo's rx_dropped");
  assert.equal(s.rxPackets, 1001, 'only what was queued counts as sent and received');
  assert.equal(s.txPackets, 1001);
  assert.equal(received.length, 0, 'nothing is delivered while the softirq is held off');

  // local_bh_enable: __do_softirq runs net_rx_action up to MAX_SOFTIRQ_RESTART (10) times,
  // each round polling the backlog once at dev_weight (64): 640 packets, then ksoftirqd.
  k.localBhEnable();
  assert.equal(received.length, 640);
  assert.equal(softnetFields(net, 0)[0], 640, 'processed');
  await k.settle();
  assert.equal(received.length, 1001, 'ksoftirqd delivers the rest on a later macrotask');
  const after = softnetFields(net, 0);
  assert.equal(after[0], 1001, 'processed');
  assert.equal(after[11], 0, 'backlog empty');
  // One NAPI using its full weight never exhausts a budget of 300: it is repolled in the
  // next round instead (net_rx_action's repoll list), so there is no time_squeeze.
  assert.equal(after[2], 0, 'time_squeeze');
  assert.deepEqual(softnetFields(net, 1).slice(0, 3), [0, 0, 0], 'CPU 1 saw nothing: RPS is off');
});

test('a NET_RX round that runs out of netdev_budget is a time_squeeze', async () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  const { received } = listen(net, ETH_P_802_EX1);
  net.kernel.core.netdev_budget = 32; // below the backlog weight of 64
  net.kernel.runOn(1, () => {
    for (let i = 0; i < 300; i++) xmit(net, frame(ETH_P_802_EX1));
  });
  await net.kernel.settle();
  assert.equal(received.length, 300);
  const f = softnetFields(net, 1);
  // 300 packets = four full polls of 64 (each over budget: squeeze) and one of 44 (also over 32).
  assert.equal(f[0], 300, 'processed on CPU 1');
  assert.equal(f[2], 5, 'time_squeeze');
});

test('netdev_max_backlog is read live: lowering it drops sooner', () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  listen(net, ETH_P_802_EX1);
  net.kernel.core.netdev_max_backlog = 10;
  net.kernel.localBhDisable();
  for (let i = 0; i < 20; i++) xmit(net, frame(ETH_P_802_EX1));
  assert.equal(net.kernel.cpus[0]?.sd.inputPktQueue.qlen, 11);
  assert.equal(net.kernel.cpus[0]?.sd.dropped, 9);
  net.kernel.localBhEnable();
});

test('flow limit: once the backlog is half full, one flow cannot take more than half of it', () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual' }) });
  listen(net, ETH_P_802_EX1);
  const k = net.kernel;
  const e = k.sysctls.get('net.core.flow_limit_cpu_bitmap');
  assert.equal(e?.write(k, net, '1'), 0);
  k.core.netdev_max_backlog = 400;
  k.localBhDisable();
  for (let i = 0; i < 400; i++) xmit(net, frame(ETH_P_802_EX1), 0xc0ffee); // one flow
  const sd = k.cpus[0]?.sd;
  assert.ok(sd !== undefined);
  assert.ok(sd.flow !== null && sd.flow.count > 0, 'flow_limit_count counts');
  assert.ok(sd.inputPktQueue.qlen < 400, `queued ${sd.inputPktQueue.qlen}`);
  assert.equal(sd.dropped, 400 - sd.inputPktQueue.qlen);
  const f = (procRead(net, '/proc/net/softnet_stat') as string).split('\n')[0]?.split(' ') ?? [];
  assert.equal(Number.parseInt(f[10] ?? '', 16), sd.flow.count, 'softnet_stat column 11');
  k.localBhEnable();
});
