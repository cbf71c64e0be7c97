/**
 * The stages of the loopback path the page draws, what each counts, and what a learner
 * reads on clicking it. Counts come from the live stack: the stage counters the core bumps
 * (kernel.trace) and, for drops, the counters Linux itself keeps (softnet_stat, ip -s,
 * /proc/net/snmp), so the page and the tools always agree.
 */
import type { Namespace } from '../src/api/namespace.js';
import { devGetStats } from '../src/core/netdevice.js';
import { qdiscRoot } from '../src/sched/sch-api.js';

export interface Stage {
  /** The data-testid suffix and the function's name as Linux spells it. */
  name: string;
  /** Where it lives in Linux. */
  where: string;
  /** Which context runs it. */
  context: 'process' | 'softirq';
  explain: string;
  count(ns: Namespace): number;
  /** A word on the stage's state, shown under its name. */
  detail?(ns: Namespace): string;
}

export interface DropPoint {
  name: string;
  /** The stage it hangs off. */
  at: string;
  label: string;
  explain: string;
  count(ns: Namespace): number;
}

const sum = (ns: Namespace, f: (sd: Namespace['kernel']['cpus'][number]['sd']) => number) =>
  ns.kernel.cpus.reduce((n, cpu) => n + f(cpu.sd), 0);

const mibSum = (mib: object, keys: readonly string[]) =>
  keys.reduce((n, k) => n + ((mib as Record<string, number>)[k] ?? 0), 0);

export const STAGES: readonly Stage[] = [
  {
    name: 'dev_queue_xmit',
    where: 'net/core/dev.c: __dev_queue_xmit()',
    context: 'process',
    explain:
      "Every frame a socket sends leaves through here, after IP has routed it and eth_header() has put on a header with zero MACs (lo needs no ARP). lo's queue discipline is noqueue, so nothing waits: taps such as tcpdump get a copy (as PACKET_OUTGOING) and the driver's ndo_start_xmit runs at once, in the sender's system call. A device that is down has its queue parked on noop_qdisc, which drops the frame and counts TX dropped.",
    count: (ns) => ns.kernel.trace.devQueueXmit,
  },
  {
    name: 'qdisc',
    where: 'net/sched/sch_generic.c, sch_netem.c: __dev_xmit_skb() → q->enqueue, qdisc_run()',
    context: 'process',
    explain:
      "lo has no queue discipline (noqueue): dev_queue_xmit calls the driver directly and this stage stays at 0. Give it one (tc qdisc add dev lo root netem delay 10ms, or pfifo) and packets are enqueued here, wait (netem's delay, loss, reordering) and leave through qdisc_run() → dequeue → the driver, when their time comes, from a timer or the NET_TX softirq. The count is what the qdisc sent (tc -s qdisc's Sent); a new qdisc starts from 0.",
    count: (ns) => qdiscRoot(ns.lo)?.bstats.packets ?? 0,
    detail: (ns) => {
      const q = qdiscRoot(ns.lo);
      return q === null ? 'noqueue' : `${q.id}, ${q.qstats.qlen} queued`;
    },
  },
  {
    name: 'loopback_xmit',
    where: 'drivers/net/loopback.c: loopback_xmit()',
    context: 'process',
    explain:
      "lo's transmit turns the outgoing frame into a received one. skb_orphan() hands the sender's send-buffer credit back at once (writers wake), the route is kept on the packet (lo sets netif_keep_dst, so the receiver need not look it up again), eth_type_trans() reads the ethertype and marks it PACKET_HOST, and __netif_rx() queues it. The sender always gets NETDEV_TX_OK, even when the backlog then drops the packet.",
    count: (ns) => ns.kernel.trace.loopbackXmit,
  },
  {
    name: 'netif_rx',
    where: 'net/core/dev.c: netif_rx() → netif_rx_internal()',
    context: 'process',
    explain:
      "The entry for received packets from any context. With RPS off (Linux's default), a packet goes to the backlog of the CPU it is on: lo's receive runs on the sender's CPU. A timestamp is taken here only when some socket asked for one (netdev_tstamp_prequeue).",
    count: (ns) => ns.kernel.trace.netifRx,
  },
  {
    name: 'backlog',
    where: 'net/core/dev.c: enqueue_to_backlog(), softnet_data.input_pkt_queue',
    context: 'process',
    explain:
      "Each CPU's backlog queue (struct softnet_data). It holds at most net.core.netdev_max_backlog + 1 packets (the test is <=); past that, packets are dropped and counted in the 2nd column of /proc/net/softnet_stat and in lo's RX dropped. The first packet into an empty queue schedules the backlog's NAPI and raises NET_RX_SOFTIRQ. The count is packets queued; the bars show how long each CPU's queue grew.",
    count: (ns) => ns.kernel.trace.backlogEnqueued,
  },
  {
    name: 'net_rx_action',
    where: 'net/core/dev.c: net_rx_action() → napi_poll() → process_backlog()',
    context: 'softirq',
    explain:
      "The NET_RX softirq. It runs when the sender's local_bh_enable() returns (do_softirq), so a ping's request is usually received before its sendmsg returns. It polls the backlog dev_weight (64) packets at a time, within net.core.netdev_budget (300) packets and netdev_budget_usecs (2000 µs) per run: running out with work left is a time_squeeze (3rd column of softnet_stat). __do_softirq restarts it up to 10 times, then leaves the rest to ksoftirqd. The count is runs, not packets.",
    count: (ns) => ns.kernel.trace.netRxAction,
  },
  {
    name: 'netif_receive_skb',
    where: 'net/core/dev.c: __netif_receive_skb_core()',
    context: 'softirq',
    explain:
      "process_backlog() hands each packet here: it is counted (softnet_stat's 1st column), taps see it again as PACKET_HOST (libpcap drops lo's outgoing copy, which is why tcpdump shows each packet once), and the handler registered for its ethertype takes it: ip_rcv for 0x0800, ipv6_rcv for 0x86dd. With no handler and no tap, lo's RX dropped counts it.",
    count: (ns) => ns.kernel.trace.netifReceiveSkb,
  },
  {
    name: 'ip_rcv',
    where: 'net/ipv4/ip_input.c: ip_rcv(); net/ipv6/ip6_input.c: ipv6_rcv()',
    context: 'softirq',
    explain:
      'IP checks the header (version, header length, checksum, total length) and drops what is wrong, counting it in /proc/net/snmp (InHdrErrors, InCsumErrors, InTruncatedPkts). The route lo kept on the packet says "local", so ip_local_deliver() follows, reassembling fragments first.',
    count: (ns) => ns.kernel.trace.ipRcv,
  },
  {
    name: 'deliver',
    where: 'net/ipv4/ip_input.c: ip_local_deliver_finish() → ip_protocol_deliver_rcu()',
    context: 'softirq',
    explain:
      "Raw sockets get a copy, then the protocol's handler takes the packet: icmp_rcv, udp_rcv, tcp_v4_rcv (ip6_protocol_deliver_rcu for IPv6). An echo request is answered right here: icmp_reply() sends the echo reply back down through dev_queue_xmit, from the softirq, and it is queued on the same backlog. A UDP datagram lands in its socket's receive queue and the reader is woken.",
    count: (ns) => ns.kernel.trace.deliver,
  },
];

export const DROPS: readonly DropPoint[] = [
  {
    name: 'drop_xmit',
    at: 'dev_queue_xmit',
    label: 'TX dropped',
    explain:
      "Frames the device could not send: lo is down (noop_qdisc drops, and a UDP sendto still 'succeeds'), or the transmit recursion limit. lo's TX dropped in ip -s link.",
    count: (ns) => devGetStats(ns.lo).txDropped,
  },
  {
    name: 'drop_qdisc',
    at: 'qdisc',
    label: 'qdisc drops',
    explain:
      "Packets the queue discipline dropped: past its limit, or on purpose (netem loss, as tc qdisc change dev lo root netem loss 10% makes it). tc -s qdisc show dev lo shows them as (dropped N); neither tcpdump nor lo's counters ever see these packets.",
    count: (ns) => qdiscRoot(ns.lo)?.qstats.drops ?? 0,
  },
  {
    name: 'drop_backlog',
    at: 'backlog',
    label: 'dropped',
    explain:
      'Packets refused by enqueue_to_backlog() because the CPU backlog already held netdev_max_backlog + 1 (or flow_limit said so): the 2nd column of /proc/net/softnet_stat, and lo\'s RX dropped. ping -f cannot cause this on lo: each sendmsg runs the softirq before it returns, so the queue never holds more than two. "Burst" holds the softirq off while it sends, as a flood of interrupts would.',
    count: (ns) => sum(ns, (sd) => sd.dropped),
  },
  {
    name: 'time_squeeze',
    at: 'net_rx_action',
    label: 'time_squeeze',
    explain:
      'net_rx_action() runs out of netdev_budget packets or netdev_budget_usecs with packets still waiting: the 3rd column of /proc/net/softnet_stat. Try sysctl -w net.core.netdev_budget=32 and a burst.',
    count: (ns) => sum(ns, (sd) => sd.timeSqueeze),
  },
  {
    name: 'drop_ip',
    at: 'ip_rcv',
    label: 'IP drops',
    explain:
      'Packets IP refused on input, as /proc/net/snmp and /proc/net/snmp6 count them: bad headers (InHdrErrors), truncated (InTruncatedPkts), wrong address (InAddrErrors), no route (InNoRoutes), unknown protocol (InUnknownProtos), discards.',
    count: (ns) => {
      const v4 = ns.ipv4.mib;
      const v6 = ns.ipv6.mib.ip6;
      const keys = ['InHdrErrors', 'InAddrErrors', 'InUnknownProtos', 'InDiscards'] as const;
      return (
        mibSum(v4.ip, keys) +
        mibSum(v4.ipExt, ['InTruncatedPkts', 'InNoRoutes']) +
        mibSum(v6, [...keys, 'InTruncatedPkts', 'InNoRoutes'])
      );
    },
  },
];
