/**
 * The device layer's data path (net/core/dev.c): transmit through devQueueXmit to a
 * driver's ndo_start_xmit, receive through netifRx into the per-CPU backlog, and the
 * NET_RX softirq (netRxAction → processBacklog → netifReceiveSkb) that drains it
 * within net.core.netdev_budget and dispatches by ethertype.
 */

import { E } from '../include/errno.js';
import { ETH_P } from '../include/if-ether.js';
import { SOFTIRQ } from '../include/interrupt.js';
import type { Cpu, Kernel } from '../kernel/kernel.js';
import { skbTstampSched } from './errqueue.js';
import { IFF, NET_RX, RX_HANDLER, XMIT_RECURSION_LIMIT } from './if.js';
import type { NetDevice } from './netdevice.js';
import type { PacketType } from './packet-type.js';
import {
  kfreeSkb,
  PACKET,
  type SkBuff,
  skbResetMacHeader,
  skbResetNetworkHeader,
  skbResetTransportHeader,
} from './skbuff.js';
import { type NapiStruct, SdFlowLimit, SoftnetData } from './softnet.js';

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** ptype_base: protocol handlers by ethertype. */
    ptypeBase: Map<number, PacketType[]>;
  }
}

/**
 * net_dev_init() (a subsys_initcall): a softnet_data per CPU, ptype_base, and the
 * NET_RX softirq. NET_TX's action lives with the qdiscs; init.ts opens it.
 */
export function netDevInit(kernel: Kernel): void {
  kernel.ptypeBase = new Map();
  kernel.netdevChain = [];
  for (const cpu of kernel.cpus) {
    cpu.sd = new SoftnetData(cpu.id, processBacklog, kernel.core.dev_weight * kernel.core.dev_weight_rx_bias);
  }
  kernel.openSoftirq(SOFTIRQ.NET_RX, netRxAction);
}

/** this_cpu_ptr(&softnet_data): the softnet_data of the CPU running now. */
export function thisSoftnet(kernel: Kernel): SoftnetData {
  return (kernel.cpus[kernel.curCpu] as Cpu).sd;
}

/** dev_add_pack(): taps (ETH_P_ALL) per device or per namespace; protocol handlers globally. */
export function devAddPack(kernel: Kernel, pt: PacketType, net: { ptypeAll: PacketType[] } | null = null): void {
  if (pt.type === ETH_P.ALL) {
    if (pt.dev !== null) pt.dev.ptypeAll.push(pt);
    else if (net !== null) net.ptypeAll.push(pt);
    else throw new TypeError('a tap needs a device or a namespace');
    return;
  }
  const list = kernel.ptypeBase.get(pt.type);
  if (list === undefined) kernel.ptypeBase.set(pt.type, [pt]);
  else list.push(pt);
}

/** dev_remove_pack(). */
export function devRemovePack(kernel: Kernel, pt: PacketType, net: { ptypeAll: PacketType[] } | null = null): void {
  const remove = (list: PacketType[] | undefined) => {
    const i = list?.indexOf(pt) ?? -1;
    if (list !== undefined && i >= 0) list.splice(i, 1);
  };
  if (pt.type === ETH_P.ALL) remove(pt.dev !== null ? pt.dev.ptypeAll : net?.ptypeAll);
  else remove(kernel.ptypeBase.get(pt.type));
}

/** Whether any tap watches this device (dev_nit_active), so taps cost nothing when absent. */
function devNitActive(dev: NetDevice): boolean {
  return dev.ptypeAll.length > 0 || (dev.net !== null && dev.net.ptypeAll.length > 0);
}

/** Hands each tap its own clone, as deliver_skb does with a refcount. */
function deliverTaps(skb: SkBuff, dev: NetDevice, origDev: NetDevice, pktType: number): void {
  const lists = dev.net === null ? [dev.ptypeAll] : [dev.net.ptypeAll, dev.ptypeAll];
  for (const list of lists) {
    for (const pt of list) {
      if (pt.dev !== null && pt.dev !== dev) continue;
      const c = skb.clone();
      c.pktType = pktType;
      pt.func(c, dev, pt, origDev);
    }
  }
}

/**
 * dev_queue_xmit_nit(): taps see an outgoing packet as PACKET_OUTGOING, with the
 * MAC header at data (the driver has not pulled it yet).
 */
export function devQueueXmitNit(skb: SkBuff, dev: NetDevice): void {
  if (skb.tstamp === 0) skb.tstamp = dev.kernel.clock.realtime();
  const mac = skb.macHeader;
  skbResetMacHeader(skb);
  deliverTaps(skb, dev, dev, PACKET.OUTGOING);
  skb.macHeader = mac;
}

/** qdisc enqueue results (include/linux/netdevice.h). */
export const NET_XMIT = { SUCCESS: 0, DROP: 1, CN: 2 } as const;
const NET_XMIT_MASK = 0x0f;

/** net_xmit_errno(): what a transmit result means to a socket; congestion is not an error. */
export function netXmitErrno(rc: number): number {
  return rc !== NET_XMIT.CN ? -E.ENOBUFS : 0;
}

/**
 * __dev_queue_xmit(). A device that is not running has its TX queue parked on
 * noop_qdisc, whose enqueue drops, counts tx_dropped and answers NET_XMIT_CN (so a
 * UDP sendto on a downed lo "succeeds"). A running queueless device (lo's noqueue)
 * goes to taps, then the driver, guarded against recursion.
 */
export function devQueueXmit(skb: SkBuff): number {
  const dev = skb.dev;
  if (dev === null) throw new TypeError('devQueueXmit: skb.dev is not set');
  const kernel = dev.kernel;
  kernel.trace.devQueueXmit++;
  if (skb.txFlags !== 0) skbTstampSched(skb, kernel.clock.realtime());
  if (dev.txqQdisc === 'noop') {
    // noop_enqueue()
    dev.coreStats.txDropped++;
    kfreeSkb(skb);
    return NET_XMIT.CN;
  }
  const q = dev.qdiscSched;
  if (q?.enqueues) {
    // A qdisc with a queue (pfifo, netem): taps see the packet when it leaves it.
    kernel.localBhDisable();
    try {
      return q.devXmit(skb);
    } finally {
      kernel.localBhEnable();
    }
  }
  kernel.localBhDisable();
  try {
    if (dev.flags & IFF.UP) {
      const sd = thisSoftnet(kernel);
      if (sd.xmitRecursion > XMIT_RECURSION_LIMIT) {
        kernel.netCritRatelimited(`Dead loop on virtual device ${dev.name}, fix it urgently!`);
      } else {
        if (devNitActive(dev)) devQueueXmitNit(skb, dev);
        sd.xmitRecursion++;
        const rc = dev.netdevOps.ndoStartXmit(skb, dev);
        sd.xmitRecursion--;
        // dev_xmit_complete(): any NET_XMIT_* code (a driver that dropped it says NET_XMIT_DROP).
        if (rc >= 0 && rc < NET_XMIT_MASK) return rc;
        kernel.netCritRatelimited(`Virtual device ${dev.name} asks to queue packet!`);
      }
    }
    dev.coreStats.txDropped++;
    kfreeSkb(skb);
    return -E.ENETDOWN;
  } finally {
    kernel.localBhEnable();
  }
}

/** netif_rx(): queue a received packet on this CPU's backlog, from any context. */
export function netifRx(skb: SkBuff): number {
  const kernel = (skb.dev as NetDevice).kernel;
  kernel.localBhDisable();
  try {
    return netifRxInternal(skb);
  } finally {
    kernel.localBhEnable();
  }
}

/** netif_rx_internal() (what __netif_rx calls with BHs already off). RPS is off: this CPU. */
export function netifRxInternal(skb: SkBuff): number {
  const kernel = (skb.dev as NetDevice).kernel;
  kernel.trace.netifRx++;
  netTimestampCheck(kernel, kernel.core.netdev_tstamp_prequeue !== 0, skb);
  return enqueueToBacklog(skb, kernel.curCpu);
}

/** net_timestamp_check(): stamp on arrival only when some socket asked for timestamps. */
function netTimestampCheck(kernel: Kernel, cond: boolean, skb: SkBuff): void {
  if (cond && kernel.netstampNeeded > 0 && skb.tstamp === 0) skb.tstamp = kernel.clock.realtime();
}

/**
 * skb_flow_limit(): once the backlog is half full, drop packets of a flow that holds
 * more than half of the last 128 slots. Off unless net.core.flow_limit_cpu_bitmap
 * names this CPU.
 */
function skbFlowLimit(sd: SoftnetData, skb: SkBuff, qlen: number, maxBacklog: number): boolean {
  if (qlen < maxBacklog >> 1) return false;
  const fl = sd.flow;
  if (fl === null) return false;
  // hash_32(skb_get_hash(skb), log_buckets)
  const bucket = Math.imul(skb.hash, 0x61c88647) >>> (32 - fl.logBuckets);
  const old = fl.history[fl.historyHead] as number;
  fl.history[fl.historyHead] = bucket;
  fl.historyHead = (fl.historyHead + 1) & (fl.history.length - 1);
  if (fl.buckets[old]) (fl.buckets[old] as number)--;
  fl.buckets[bucket] = ((fl.buckets[bucket] as number) + 1) & 0xff;
  if ((fl.buckets[bucket] as number) > fl.history.length >> 1) {
    fl.count++;
    return true;
  }
  return false;
}

/** Re-reads flow_limit_cpu_bitmap into per-CPU tables, as its sysctl handler does. */
export function flowLimitUpdate(kernel: Kernel): void {
  const mask = kernel.core.flow_limit_cpu_bitmap;
  for (const cpu of kernel.cpus) {
    const on = (mask >> cpu.id) & 1;
    if (on && cpu.sd.flow === null) cpu.sd.flow = new SdFlowLimit(kernel.core.flow_limit_table_len);
    if (!on) cpu.sd.flow = null;
  }
}

/**
 * enqueue_to_backlog(). Note the `<=`: up to netdev_max_backlog + 1 packets can wait.
 * A device that is not running drops without bumping softnet's `dropped`.
 */
export function enqueueToBacklog(skb: SkBuff, cpu: number): number {
  const dev = skb.dev as NetDevice;
  const kernel = dev.kernel;
  const sd = (kernel.cpus[cpu] as Cpu).sd;
  if (!dev.running) {
    dev.coreStats.rxDropped++;
    kfreeSkb(skb);
    return NET_RX.DROP;
  }
  const qlen = sd.inputPktQueue.qlen;
  const maxBacklog = kernel.core.netdev_max_backlog;
  if (qlen <= maxBacklog && !skbFlowLimit(sd, skb, qlen, maxBacklog)) {
    if (qlen === 0 && !sd.backlog.scheduled) {
      sd.backlog.scheduled = true;
      napiScheduleRps(kernel, sd);
    }
    sd.inputPktQueue.enqueue(skb);
    const trace = kernel.trace;
    trace.backlogEnqueued++;
    if (qlen >= (trace.backlogPeak[cpu] as number)) trace.backlogPeak[cpu] = qlen + 1;
    return NET_RX.SUCCESS;
  }
  sd.dropped++;
  dev.coreStats.rxDropped++;
  kfreeSkb(skb);
  return NET_RX.DROP;
}

/** ____napi_schedule() on the backlog's own CPU: add to the poll list, raise NET_RX. */
function napiScheduleRps(kernel: Kernel, sd: SoftnetData): void {
  sd.pollList.push(sd.backlog);
  kernel.raiseSoftirq(sd.cpu, SOFTIRQ.NET_RX);
}

/** Schedule any NAPI instance on a CPU (napi_schedule). */
export function napiSchedule(kernel: Kernel, cpu: number, napi: NapiStruct): void {
  if (napi.scheduled) return;
  napi.scheduled = true;
  const sd = (kernel.cpus[cpu] as Cpu).sd;
  sd.pollList.push(napi);
  kernel.raiseSoftirq(cpu, SOFTIRQ.NET_RX);
}

/**
 * process_backlog(): the backlog's NAPI poll. Drains process_queue, refilling it from
 * input_pkt_queue in one splice, until `quota` packets or both queues are empty.
 */
export function processBacklog(sd: SoftnetData, quota: number): number {
  let work = 0;
  for (;;) {
    for (let skb = sd.processQueue.dequeue(); skb !== null; skb = sd.processQueue.dequeue()) {
      netifReceiveSkb(skb);
      if (++work >= quota) return work;
    }
    if (sd.inputPktQueue.qlen === 0) {
      sd.backlog.scheduled = false;
      return work;
    }
    sd.processQueue.spliceTailInit(sd.inputPktQueue);
  }
}

/**
 * net_rx_action(): poll each scheduled NAPI once. One that used its whole weight goes
 * back on the list for the next round; running out of budget or time is a time_squeeze.
 * Anything left re-raises NET_RX.
 */
export function netRxAction(kernel: Kernel, cpu: number): void {
  const sd = (kernel.cpus[cpu] as Cpu).sd;
  kernel.trace.netRxAction++;
  // time_limit = jiffies + …: the softirq round's start, read once for all its handlers.
  const start = kernel.softirqStart >= 0 ? kernel.softirqStart : kernel.clock.now();
  const timeLimit = start + kernel.core.netdev_budget_usecs * 1000;
  let budget = kernel.core.netdev_budget;
  const repoll = sd.repoll;
  emptyNapiList(repoll);
  let list = NO_NAPI;
  // process_backlog re-reads dev_weight × dev_weight_rx_bias on every poll.
  sd.backlog.weight = kernel.core.dev_weight * kernel.core.dev_weight_rx_bias;
  for (;;) {
    sd.inNetRxAction = true;
    list = sd.pollList;
    sd.pollList = sd.spareList ?? [];
    sd.spareList = null;
    let i = 0;
    let squeezed = false;
    while (i < list.length) {
      const n = list[i++] as NapiStruct;
      budget -= napiPoll(n, repoll);
      if (budget <= 0 || kernel.clock.now() >= timeLimit) {
        sd.timeSqueeze++;
        squeezed = true;
        break;
      }
    }
    // What is left over is copied out; the list itself, emptied, is the next run's spare.
    const rest = i === list.length ? NO_NAPI : list.slice(i);
    emptyNapiList(list);
    sd.spareList = list;
    list = rest;
    // A NAPI scheduled while we polled (and nothing to repoll): go round again.
    if (!squeezed && list.length === 0 && repoll.length === 0 && sd.pollList.length > 0) continue;
    break;
  }
  // Left over first, then what was scheduled meanwhile, then the repolls (no copy when only one part has any).
  if (list.length > 0 || repoll.length > 0) {
    sd.pollList = list.concat(sd.pollList, repoll);
    emptyNapiList(repoll);
  }
  if (sd.pollList.length > 0) kernel.raiseSoftirq(cpu, SOFTIRQ.NET_RX);
  else sd.inNetRxAction = false;
}

/** An empty NAPI list, never written to. */
const NO_NAPI: NapiStruct[] = [];

/** Empties a short list in place (pop is a fast path; setting length is a runtime call). */
function emptyNapiList(list: NapiStruct[]): void {
  while (list.length > 0) list.pop();
}

/** napi_poll(): one poll; a NAPI that used its full weight stays scheduled and is repolled. */
function napiPoll(n: NapiStruct, repoll: NapiStruct[]): number {
  const weight = n.weight;
  const work = n.scheduled ? n.poll(n, weight) : 0;
  if (work < weight || !n.scheduled) return work;
  repoll.push(n);
  return work;
}

/**
 * __netif_receive_skb_core(): count the packet, show it to taps as PACKET_HOST, then
 * hand it to the handler registered for its ethertype. With no handler (and no tap)
 * the packet is dropped and the device's rx_dropped counts it.
 */
export function netifReceiveSkb(skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const kernel = dev.kernel;
  netTimestampCheck(kernel, kernel.core.netdev_tstamp_prequeue === 0, skb);
  skb.skbIif = dev.ifindex;
  thisSoftnet(kernel).processed++;
  kernel.trace.netifReceiveSkb++;
  skbResetNetworkHeader(skb);
  if (skb.transportHeader < 0) skbResetTransportHeader(skb);
  skb.macLen = skb.networkHeader - skb.macHeader;

  let tapped = false;
  if (devNitActive(dev)) {
    // Taps get the frame from the MAC header on, as packet sockets see it.
    const data = skb.data;
    const len = skb.len;
    skb.len += skb.data - skb.macHeader;
    skb.data = skb.macHeader;
    deliverTaps(skb, dev, dev, skb.pktType);
    skb.data = data;
    skb.len = len;
    tapped = true;
  }

  // A master's hook on its port (the bridge): it may take the frame for itself.
  const rxHandler = dev.rxHandler;
  if (rxHandler !== null && rxHandler(skb) === RX_HANDLER.CONSUMED) return NET_RX.SUCCESS;

  const handlers = kernel.ptypeBase.get(skb.protocol);
  let pt: PacketType | undefined;
  if (handlers !== undefined) {
    for (const h of handlers) {
      if (h.dev !== null && h.dev !== dev) continue;
      if (pt !== undefined) pt.func(skb.clone(), dev, pt, dev);
      pt = h;
    }
  }
  if (pt !== undefined) return pt.func(skb, dev, pt, dev);
  // A tap took the packet: Linux's last deliverer is then the tap, and nothing counts a drop.
  if (!tapped) dev.coreStats.rxDropped++;
  kfreeSkb(skb);
  return NET_RX.DROP;
}
