/**
 * Stage counters on the loopback path, one per function a packet crosses, like the
 * kernel's net:* tracepoints (net_dev_queue, netif_rx, netif_receive_skb) read with
 * `perf stat -e`. The core bumps a plain number at each stage, so watching costs
 * nothing and a page or test can see packets move by reading the counters. Drops are
 * not repeated here: they are where Linux counts them (softnet_stat, ip -s, /proc/net/snmp).
 */
export class Trace {
  /** dev_queue_xmit(): every frame handed to a device, whatever becomes of it. */
  devQueueXmit = 0;
  /** loopback_xmit(): lo's ndo_start_xmit. */
  loopbackXmit = 0;
  /** netif_rx() / __netif_rx(): offered to a CPU's backlog. */
  netifRx = 0;
  /** enqueue_to_backlog() that queued the packet (netif_rx minus backlog drops). */
  backlogEnqueued = 0;
  /** net_rx_action() runs: one per NET_RX softirq on a CPU. */
  netRxAction = 0;
  /** __netif_receive_skb_core(): dequeued by process_backlog and dispatched by ethertype. */
  netifReceiveSkb = 0;
  /** ip_rcv() and ipv6_rcv(). */
  ipRcv = 0;
  /** ip_local_deliver_finish() / ip6_protocol_deliver_rcu(): handed to raw sockets and L4. */
  deliver = 0;
  /**
   * The longest each CPU's backlog (input_pkt_queue) grew since the watcher last looked:
   * the softirq drains it before control returns, so its length right now is nearly always 0.
   */
  readonly backlogPeak: number[];

  constructor(cpus: number) {
    this.backlogPeak = new Array<number>(cpus).fill(0);
  }

  /** Reads and resets the per-CPU backlog peaks. */
  takeBacklogPeaks(): number[] {
    const peaks = this.backlogPeak.slice();
    this.backlogPeak.fill(0);
    return peaks;
  }
}
