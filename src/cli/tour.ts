/**
 * `npm start`: a tour of lo for a newcomer. It runs the same tools a user would type,
 * against one fresh namespace: addresses, ping, an HTTP server (ns.http) answered by
 * curl, the TCP sockets in ss, the counters of the path a packet takes, and a capture
 * of the whole session written as a pcap file for the real tcpdump. Then it drives raw
 * Ethernet frames through lo with the library, so the per-CPU backlog, its drops and
 * the NET_RX softirq show up in the counters.
 */
import { writeFileSync } from 'node:fs';
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

export interface TourOptions {
  /** Where the session's capture goes. Default: lonet-demo.pcap in the working directory. */
  pcap?: string;
}

export async function tour(ns: Namespace, opts: TourOptions = {}): Promise<number> {
  const out = (t: string) => process.stdout.write(t);
  const shell = ns.shell({ stdout: { write: out }, stderr: { write: (t) => process.stderr.write(t) } });
  const run = async (line: string) => {
    out(`${bold(`$ ${line}`)}\n`);
    return shell.run(line);
  };
  const say = (t: string) => out(`\n${t}\n`);
  const pcapPath = opts.pcap ?? 'lonet-demo.pcap';

  // The whole session, captured on lo as tcpdump -i lo -w would, kept until the end.
  const capture = ns.capture({ device: 'lo' });
  const chunks: Uint8Array[] = [];
  const captured = (async () => {
    for await (const c of capture.pcap()) chunks.push(c);
  })();

  say(
    'A fresh network namespace, as a booted Linux host has it: one device, lo, up, with\n' +
      '127.0.0.1/8 and ::1. Everything below runs in this one process; no OS socket is used.',
  );
  await run('ip addr');
  say('ping sends ICMP echo requests through lo: out through loopback_xmit, back in through the softirq.');
  await run('ping -c 2 -i 0.2 127.0.0.1');
  await run('ping -6 -c 1 ::1');

  say(
    "An HTTP server on 127.0.0.1:8080: Node's own http.Server on lonet's TCP (ns.http), and curl\n" +
      'asking it: a three-way handshake, the request, the answer, the FINs, all through lo.',
  );
  let requests = 0;
  const server = ns.http.createServer((req, res) => {
    requests++;
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello from lo: ${req.method} ${req.url}, request ${requests}\n`);
  });
  await new Promise<void>((resolve) => server.listen(8080, '127.0.0.1', () => resolve()));
  await run('curl -i http://127.0.0.1:8080/hello');
  await run('curl http://127.0.0.1:8081/');

  // A connection left open, so ss has an established pair to show.
  const held = ns.net.connect(8080, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    held.once('connect', () => resolve());
    held.once('error', reject);
  });
  // Let curl's connection finish closing on both sides first.
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  const ssT = await ns.exec('ss -tan');
  say(
    'The TCP sockets now: the listener, and an open connection (both ends are in this host, so it\n' +
      `shows twice)${ssT.stdout.includes('TIME-WAIT') ? ".\nCurl's connection is in TIME-WAIT on the side that closed first: kept 60 s, so that late\nsegments of it cannot be taken for a new connection's" : ''}.`,
  );
  // ss -t, or the file it reads where a build has no ss -t.
  await run(ssT.code === 0 ? 'ss -tan' : 'cat /proc/net/tcp');
  held.end();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  say('What lo counted: every packet is sent and received once, so TX and RX agree.');
  await run('ip -s link show lo');
  const t = ns.kernel.trace;
  say(
    'The path every one of those packets took, counted at each function it crossed:\n' +
      `  dev_queue_xmit        ${t.devQueueXmit}\n` +
      `  loopback_xmit         ${t.loopbackXmit}   lo's transmit hands the packet straight back\n` +
      `  netif_rx              ${t.netifRx}\n` +
      `  enqueue_to_backlog    ${t.backlogEnqueued}   queued on a CPU's backlog (input_pkt_queue)\n` +
      `  net_rx_action         ${t.netRxAction}   NET_RX softirq runs that drained the backlogs\n` +
      `  __netif_receive_skb   ${t.netifReceiveSkb}\n` +
      `  ip_rcv / ipv6_rcv     ${t.ipRcv}\n` +
      `  local deliver (L4)    ${t.deliver}   handed to ICMP, TCP and raw sockets\n` +
      `The backlog was at most ${Math.max(...t.takeBacklogPeaks())} deep: the softirq empties it before the sender runs again.`,
  );

  say('Under the hood. lo itself: ifindex 1, MTU 65536, no queue, always up.');
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
  await run('ping -c 1 127.9.9.9');

  capture.close();
  await captured;
  writeFileSync(pcapPath, Buffer.concat(chunks));
  say(
    `The whole session, ${chunks.length - 1} packets as 'tcpdump -i lo -w' would have written them, is in ${pcapPath}:\n` +
      `  tcpdump -nr ${pcapPath} 'ip or ip6'          (ping, ping -6, the TCP of curl)\n` +
      `  tcpdump -nr ${pcapPath} -A 'tcp port 8080'   (the HTTP exchange, with its bytes)\n` +
      `  tcpdump -nr ${pcapPath}                      (everything, the raw frames of the burst too)`,
  );
  say("Try it yourself: 'npx lonet' opens a shell in a fresh namespace ('help' lists the tools).");
  return 0;
}
