/** The stage counters the browser page animates: each stage counts what really crossed it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel, Net } from '../../src/init.js';
import { ETH_P_802_EX1, frame, listen, xmit } from '../helpers/frames.js';

test('ping -c 2: four packets (two requests, two replies) cross every stage from dev_queue_xmit to delivery', async () => {
  const ns = new Namespace();
  const t = ns.kernel.trace;
  const { code, stdout } = await ns.exec('ping -c 2 -i 0.2 127.0.0.1');
  assert.equal(code, 0);
  assert.match(stdout, /2 packets transmitted, 2 received/);
  assert.equal(t.devQueueXmit, 4);
  assert.equal(t.loopbackXmit, 4);
  assert.equal(t.netifRx, 4);
  assert.equal(t.backlogEnqueued, 4);
  assert.equal(t.netifReceiveSkb, 4);
  assert.equal(t.ipRcv, 4);
  assert.equal(t.deliver, 4);
  // Each request's softirq runs when its sendmsg returns; the reply is queued during that
  // same net_rx_action and picked up by its next round, so two runs at most per ping.
  assert.ok(t.netRxAction >= 2 && t.netRxAction <= 4, `net_rx_action ran ${t.netRxAction} times`);
});

test('ping -6 counts at ip_rcv (ipv6_rcv) and delivery too', async () => {
  const ns = new Namespace();
  const { code } = await ns.exec('ping -6 -c 1 ::1');
  assert.equal(code, 0);
  assert.equal(ns.kernel.trace.ipRcv, 2);
  assert.equal(ns.kernel.trace.deliver, 2);
});

test('a burst with the softirq held off: the backlog peaks at netdev_max_backlog + 1 and the rest never enqueue', () => {
  const net = new Net({ kernel: new Kernel({ clock: 'virtual', cpus: 2 }) });
  listen(net, ETH_P_802_EX1);
  const k = net.kernel;
  // runOn is a system call on CPU 1: its softirq runs only when the call returns.
  k.runOn(1, () => {
    for (let i = 0; i < 3000; i++) xmit(net, frame(ETH_P_802_EX1));
    assert.equal(k.trace.devQueueXmit, 3000);
    assert.equal(k.trace.netifRx, 3000);
    assert.equal(k.trace.backlogEnqueued, 1001);
    assert.equal(k.trace.netifReceiveSkb, 0, 'nothing is received while the softirq is held off');
    assert.deepEqual(k.trace.takeBacklogPeaks(), [0, 1001]);
    assert.deepEqual(k.trace.backlogPeak, [0, 0], 'taking the peaks resets them');
  });
  assert.equal(k.trace.netifReceiveSkb, 640, 'ten NET_RX restarts of one 64-packet poll, then ksoftirqd');
});

test('a frame sent on a downed lo reaches dev_queue_xmit and no further', async () => {
  const ns = new Namespace({ kernel: new Kernel({ clock: 'virtual' }) });
  assert.equal((await ns.exec('ip link set lo down')).code, 0);
  xmit(ns, frame(ETH_P_802_EX1));
  assert.equal(ns.kernel.trace.devQueueXmit, 1);
  assert.equal(ns.kernel.trace.loopbackXmit, 0);
});
