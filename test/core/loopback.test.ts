import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devAddPack, devQueueXmit, NET_XMIT, netifRx, thisSoftnet } from '../../src/core/dev.js';
import { IFF, NET_RX, NETDEV_TX } from '../../src/core/if.js';
import {
  devClose,
  devGetFlags,
  devGetStats,
  devOpen,
  devSetMacAddress,
  devSetMtu,
  NetDevice,
  registerNetdeviceNotifier,
} from '../../src/core/netdevice.js';
import { PACKET, type SkBuff, skbAddFrag, skbFromBytes } from '../../src/core/skbuff.js';
import { genLoSetup, loopbackOps } from '../../src/drivers/loopback.js';
import { E } from '../../src/include/errno.js';
import { ETH_P } from '../../src/include/if-ether.js';
import { Kernel, Net } from '../../src/init.js';
import { inDevGet } from '../../src/ipv4/devinet.js';
import { in6DevGet } from '../../src/ipv6/addrconf.js';
import { ETH_P_802_EX1, frame, listen, xmit } from '../helpers/frames.js';

test('lo counts L3 bytes (the 14-byte Ethernet header is not counted) and rx == tx', async () => {
  const net = new Net();
  const { received } = listen(net, ETH_P_802_EX1);
  xmit(net, frame(ETH_P_802_EX1, 70)); // an 84-byte packet, as one ping is
  xmit(net, frame(ETH_P_802_EX1, 70));
  await net.kernel.settle();
  const s = devGetStats(net.lo);
  assert.deepEqual([s.rxPackets, s.rxBytes, s.txPackets, s.txBytes, s.rxDropped, s.txDropped], [2, 140, 2, 140, 0, 0]);
  assert.equal(received.length, 2);
  const skb = received[0] as SkBuff;
  assert.equal(skb.protocol, ETH_P_802_EX1);
  assert.equal(skb.pktType, PACKET.HOST, 'on lo every packet is for this host');
  assert.equal(skb.len, 70, 'eth_type_trans pulled the header');
  assert.equal(skb.dev, net.lo);
});

test('payload in fragments travels without copying (SG/FRAGLIST)', async () => {
  const net = new Net();
  const { received } = listen(net, ETH_P_802_EX1);
  const payload = new Uint8Array(60000).fill(7);
  const skb = skbFromBytes(frame(ETH_P_802_EX1, 0), 0);
  skbAddFrag(skb, payload);
  skb.dev = net.lo;
  devQueueXmit(skb);
  await net.kernel.settle();
  assert.equal(received[0]?.frags[0], payload, 'the same bytes, not a copy');
  assert.equal(devGetStats(net.lo).rxBytes, 60000);
});

test('loopback_xmit orphans the packet: the sender gets its buffer credit back at once', () => {
  const net = new Net();
  listen(net, ETH_P_802_EX1);
  const sk = { wmemAlloc: 0 };
  const skb = skbFromBytes(frame(ETH_P_802_EX1));
  skb.dev = net.lo;
  skb.sk = sk;
  sk.wmemAlloc += skb.truesize;
  skb.destructor = (s) => {
    sk.wmemAlloc -= s.truesize;
  };
  net.kernel.localBhDisable(); // the packet is still queued, not yet received
  devQueueXmit(skb);
  assert.equal(sk.wmemAlloc, 0);
  assert.equal(skb.sk, null);
  net.kernel.localBhEnable();
});

test('taps see each packet twice: PACKET_OUTGOING on transmit, PACKET_HOST on receive', async () => {
  const net = new Net();
  listen(net, ETH_P_802_EX1);
  const seen: [number, number][] = [];
  devAddPack(
    net.kernel,
    {
      type: ETH_P.ALL,
      dev: null,
      func: (skb) => {
        seen.push([skb.pktType, skb.len]);
        return NET_RX.SUCCESS;
      },
    },
    net,
  );
  xmit(net, frame(ETH_P_802_EX1, 46));
  await net.kernel.settle();
  assert.deepEqual(seen, [
    [PACKET.OUTGOING, 60],
    [PACKET.HOST, 60],
  ]);
});

test('bad input is dropped and counted, never thrown', async () => {
  const net = new Net();
  // A frame shorter than the Ethernet header.
  assert.equal(xmit(net, new Uint8Array(9)), NETDEV_TX.OK);
  assert.equal(devGetStats(net.lo).rxDropped, 1);
  // An ethertype nobody handles: dropped at __netif_receive_skb_core, rx_dropped.
  xmit(net, frame(0x1234));
  await net.kernel.settle();
  assert.equal(devGetStats(net.lo).rxDropped, 2);
  // An 802.3 length field instead of an ethertype: classified as ETH_P_802_2 and dropped likewise.
  xmit(net, frame(0x0040));
  await net.kernel.settle();
  assert.equal(devGetStats(net.lo).rxDropped, 3);
  assert.equal(devGetStats(net.lo).rxPackets, 2, 'the two well-formed ones were queued and counted');
  assert.equal(thisSoftnet(net.kernel).processed, 2, 'the short frame never reached the backlog');

  // A device that is down: noop_qdisc drops, counts tx_dropped and says NET_XMIT_CN.
  devClose(net.lo);
  assert.equal(xmit(net, frame(ETH_P_802_EX1)), NET_XMIT.CN);
  const s = devGetStats(net.lo);
  assert.equal(s.txDropped, 1);
  assert.equal(s.txPackets, 2);
});

test('a device that stops running drops what reaches its backlog (DEV_READY), not in softnet dropped', () => {
  const net = new Net();
  const skb = skbFromBytes(frame(ETH_P_802_EX1, 46));
  skb.dev = net.lo;
  net.lo.running = false; // a packet already on its way in when the device stops
  assert.equal(netifRx(skb), NET_RX.DROP);
  assert.equal(devGetStats(net.lo).rxDropped, 1);
  assert.equal(thisSoftnet(net.kernel).dropped, 0);
});

test('a transmit loop hits the recursion limit of 8 and is logged, rate limited', () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const net = new Net({ kernel });
  let depth = 0;
  const loopOps = {
    ...loopbackOps,
    ndoStartXmit: (skb: SkBuff, dev: NetDevice) => {
      depth++;
      const again = skbFromBytes(skb.toBytes());
      again.dev = dev;
      devQueueXmit(again);
      return NETDEV_TX.OK;
    },
  };
  const dev = new NetDevice(kernel, 'loop0', (d) => genLoSetup(d, 1500, null, null, loopOps, null), loopOps);
  assert.equal(net.registerNetdevice(dev), 0);
  devOpen(dev);
  const skb = skbFromBytes(frame(ETH_P_802_EX1));
  skb.dev = dev;
  devQueueXmit(skb);
  assert.equal(depth, 9, 'xmit_recursion > XMIT_RECURSION_LIMIT stops the ninth nesting');
  assert.equal(devGetStats(dev).txDropped, 1);
  assert.deepEqual(
    kernel.log.map((l) => l.text),
    ['Dead loop on virtual device loop0, fix it urgently!'],
  );
});

test('blackhole_dev: global, UP|RUNNING, MTU 68, drops with a rate-limited warning', () => {
  const kernel = new Kernel({ clock: 'virtual' });
  const bh = kernel.blackholeDev;
  assert.equal(bh.name, 'blackhole_dev');
  assert.equal(bh.mtu, 68);
  assert.equal(bh.flags & (IFF.UP | IFF.RUNNING), IFF.UP | IFF.RUNNING);
  assert.equal(bh.net, null, 'never registered in a namespace');
  for (let i = 0; i < 25; i++) {
    const skb = skbFromBytes(frame(ETH_P.IP));
    skb.dev = bh;
    assert.equal(devQueueXmit(skb), NETDEV_TX.OK);
  }
  // net_ratelimit: message_burst (10) per message_cost (5 s).
  assert.equal(kernel.log.length, 10);
  assert.equal(kernel.log[0]?.text, 'blackhole_netdev_xmit(): Dropping skb.');
  kernel.virtualClock.advance(5e9);
  const skb = skbFromBytes(frame(ETH_P.IP));
  skb.dev = bh;
  devQueueXmit(skb);
  assert.deepEqual(
    kernel.log.slice(10).map((l) => l.text),
    ['net_ratelimit: 15 callbacks suppressed', 'blackhole_netdev_xmit(): Dropping skb.'],
  );
});

test('a booted namespace: lo is ifindex 1, UP|RUNNING|LOWER_UP, with 127.0.0.1/8 and ::1/128', () => {
  const net = new Net();
  const lo = net.lo;
  assert.equal(lo.ifindex, 1);
  assert.equal(lo.type, 772);
  assert.equal(lo.mtu, 65536);
  assert.equal(lo.txQueueLen, 1000);
  assert.equal(devGetFlags(lo), 0x10049, 'LOOPBACK|UP|RUNNING|LOWER_UP: ifconfig says flags=73');
  assert.equal(lo.qdisc, 'noqueue');
  assert.deepEqual(
    inDevGet(lo)?.ifaList.map((a) => [a.local, a.prefixlen, a.label]),
    [[0x7f000001, 8, 'lo']],
  );
  assert.deepEqual(
    in6DevGet(lo)?.addrList.map((a) => a.prefixlen),
    [128],
  );
});

test('a bare namespace (ip netns add): lo down, qdisc noop, no addresses; up adds them', () => {
  const net = new Net({ bare: true });
  assert.equal(devGetFlags(net.lo), IFF.LOOPBACK);
  assert.equal(net.lo.qdisc, 'noop');
  assert.equal(inDevGet(net.lo)?.ifaList.length, 0);
  assert.equal(in6DevGet(net.lo)?.addrList.length, 0);
  devOpen(net.lo);
  assert.equal(inDevGet(net.lo)?.ifaList.length, 1);
  assert.equal(in6DevGet(net.lo)?.addrList.length, 1);
});

test('namespaces on one kernel are isolated; devices get ifindex 2, 3; lo goes last', () => {
  const kernel = new Kernel();
  const a = new Net({ kernel });
  const b = new Net({ kernel });
  assert.notEqual(a.lo, b.lo);
  assert.equal(b.lo.ifindex, 1);
  const { received } = listen(b, ETH_P_802_EX1);
  xmit(a, frame(ETH_P_802_EX1));
  assert.equal(received.length, 0, "b's socket does not see a's lo");
  const mk = (name: string) =>
    new NetDevice(kernel, name, (d) => genLoSetup(d, 1500, null, null, loopbackOps, null), loopbackOps);
  const d2 = mk('dummy0');
  const d3 = mk('dummy1');
  assert.equal(a.registerNetdevice(d2), 0);
  assert.equal(a.registerNetdevice(d3), 0);
  assert.deepEqual([d2.ifindex, d3.ifindex], [2, 3]);
  assert.equal(a.registerNetdevice(mk('lo')), -E.EEXIST);
  const order: string[] = [];
  registerNetdeviceNotifier(kernel, (ev, dev) => {
    if (ev === 6) order.push(dev.name);
  });
  a.destroy();
  assert.deepEqual(order, ['dummy1', 'dummy0', 'lo']);
  assert.equal(a.loopbackDev, null);
  assert.equal(b.lo.ifindex, 1, 'b is untouched');
});

test('MTU: any value is accepted; IPv6 goes below 1280 until down/up, IPv4 below 68', () => {
  const net = new Net();
  const lo = net.lo;
  assert.equal(devSetMtu(lo, 1500), 0);
  assert.equal(in6DevGet(lo)?.addrList.length, 1);
  assert.equal(devSetMtu(lo, 1000), 0);
  assert.equal(in6DevGet(lo)?.addrList.length, 0, '::1 removed below IPV6_MIN_MTU');
  assert.equal(devSetMtu(lo, 65536), 0);
  assert.equal(in6DevGet(lo)?.addrList.length, 0, 'not restored by raising the MTU');
  assert.equal(devSetMtu(lo, 67), 0);
  assert.equal(inDevGet(lo), null, 'IPv4 leaves the device below 68');
  assert.equal(devSetMtu(lo, 0), 0);
  const ack: { msg?: string } = {};
  assert.equal(devSetMtu(lo, -1, ack), -E.EINVAL);
  assert.equal(ack.msg, 'mtu less than device minimum');
  devSetMtu(lo, 65536);
  devClose(lo);
  devOpen(lo);
  assert.equal(inDevGet(lo)?.ifaList[0]?.local, 0x7f000001, '127.0.0.1 returns on the next up');
  assert.equal(in6DevGet(lo)?.addrList.length, 1, '::1 returns on the next up');
});

test('down keeps IPv4 addresses, removes IPv6 ones', () => {
  const net = new Net();
  devClose(net.lo);
  assert.equal(devGetFlags(net.lo), IFF.LOOPBACK);
  assert.equal(inDevGet(net.lo)?.ifaList.length, 1);
  assert.equal(in6DevGet(net.lo)?.addrList.length, 0);
  devOpen(net.lo);
  assert.equal(inDevGet(net.lo)?.ifaList.length, 1, 'not doubled by down/up');
});

test('MAC: changing it while up is allowed; zeros back are refused; packets carry it', async () => {
  const net = new Net();
  const mac = Uint8Array.of(2, 0, 0, 0, 0, 1);
  assert.equal(devSetMacAddress(net.lo, new Uint8Array(6)), 0, 'unchanged: a no-op');
  assert.equal(devSetMacAddress(net.lo, mac), 0);
  assert.equal(devSetMacAddress(net.lo, new Uint8Array(6)), -E.EADDRNOTAVAIL);
  assert.equal(devSetMacAddress(net.lo, Uint8Array.of(1, 0, 0, 0, 0, 1)), -E.EADDRNOTAVAIL, 'multicast');
  const { received } = listen(net, ETH_P_802_EX1);
  const f = frame(ETH_P_802_EX1);
  f.set(mac, 0);
  xmit(net, f);
  xmit(net, frame(ETH_P_802_EX1)); // zero destination: not ours any more
  await net.kernel.settle();
  assert.deepEqual(
    received.map((s) => s.pktType),
    [PACKET.HOST, PACKET.OTHERHOST],
  );
});
