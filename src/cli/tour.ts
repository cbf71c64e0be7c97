/**
 * `npm start`: a short tour of lo. It runs the same tools a user would type, and in
 * the middle drives raw Ethernet frames through lo with the library, so the per-CPU
 * backlog, its drops and the NET_RX softirq show up in the counters.
 */
import type { Namespace } from '../api/namespace.js';
import { devAddPack, devQueueXmit } from '../core/dev.js';
import { NET_RX } from '../core/if.js';
import type { PacketType } from '../core/packet-type.js';
import { kfreeSkb, skbFromBytes } from '../core/skbuff.js';

/** ETH_P_802_EX1: the IEEE's local experimental ethertype, for frames no protocol claims. */
const ETH_P_802_EX1 = 0x88b5;

const bold = (t: string) => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);

/** Sends `count` minimum-size frames of ETH_P_802_EX1 through lo from CPU 0. */
function sendFrames(ns: Namespace, count: number): void {
  const frame = new Uint8Array(60);
  frame[12] = ETH_P_802_EX1 >> 8;
  frame[13] = ETH_P_802_EX1 & 0xff;
  ns.kernel.runOn(0, () => {
    for (let i = 0; i < count; i++) {
      const skb = skbFromBytes(frame, 0);
      skb.dev = ns.lo;
      devQueueXmit(skb);
    }
  });
}

export async function tour(ns: Namespace): Promise<number> {
  const out = (t: string) => process.stdout.write(t);
  const shell = ns.shell({ stdout: { write: out }, stderr: { write: (t) => process.stderr.write(t) } });
  const run = async (line: string) => {
    out(`${bold(`$ ${line}`)}\n`);
    return shell.run(line);
  };
  const say = (t: string) => out(`\n${t}\n`);

  say('lo, as a freshly booted Linux host has it: ifindex 1, MTU 65536, no queue, always up.');
  await run('ip -d link show lo');
  await run('ifconfig lo');
  await run('ethtool lo');
  await run('sysctl net.core.netdev_max_backlog net.core.netdev_budget net.core.dev_weight');

  // A packet socket for ETH_P_802_EX1 on lo: the receiver at the end of the path.
  let received = 0;
  const socket: PacketType = {
    type: ETH_P_802_EX1,
    dev: ns.lo,
    func: (skb) => {
      received++;
      kfreeSkb(skb);
      return NET_RX.SUCCESS;
    },
  };
  devAddPack(ns.kernel, socket);

  say(
    'A burst: 5000 frames sent through lo from CPU 0 with its softirq held off. loopback_xmit\n' +
      'hands each to netif_rx, which queues at most netdev_max_backlog + 1 = 1001 on the CPU\n' +
      "backlog and drops the rest (softnet_stat's 2nd column, lo's RX dropped).",
  );
  ns.kernel.localBhDisable();
  sendFrames(ns, 5000);
  await run('cat /proc/net/softnet_stat');
  ns.kernel.localBhEnable();
  await ns.kernel.settle();
  say(
    `The NET_RX softirq drained the backlog ${ns.kernel.core.dev_weight} packets per poll; ` +
      `the packet socket received ${received}.`,
  );
  await run('cat /proc/net/softnet_stat');
  await run('ip -s link show lo');

  say('With netdev_budget below the backlog weight, each NET_RX round runs out: a time_squeeze (3rd column).');
  await run('sysctl -w net.core.netdev_budget=32');
  sendFrames(ns, 640);
  await ns.kernel.settle();
  await run('cat /proc/net/softnet_stat');
  await run('sysctl -w net.core.netdev_budget=300');

  say('A device that is down transmits nothing: its queue is parked on noop_qdisc, which drops and counts TX dropped.');
  await run('ip link set lo down');
  sendFrames(ns, 3);
  await run('ip -s link show lo');
  await run('ip link set lo up');
  await run('cat /proc/net/dev');
  say('Every 127/8 address is this host: the prefix route on lo is RTN_LOCAL.');
  await run('ip route show table local');
  await run('ping -c 2 -i 0.2 127.9.9.9');
  await run('ping -6 -c 1 ::1');
  say("Try it yourself: 'npx lonet' opens a shell in a fresh namespace ('help' lists the tools).");
  return 0;
}
