/**
 * struct softnet_data: one per CPU. Holds the backlog that netif_rx fills
 * (input_pkt_queue), the queue process_backlog drains (process_queue), the NAPI
 * poll list the NET_RX softirq walks, and the counters of /proc/net/softnet_stat.
 */
import { SkBuffHead } from './skbuff.js';

declare module '../kernel/kernel.js' {
  interface Cpu {
    /** This CPU's softnet_data, made by net_dev_init. */
    sd: SoftnetData;
  }
}

/** struct napi_struct, reduced to what the backlog and drivers need. */
export class NapiStruct {
  /** NAPI_STATE_SCHED: on a poll list, or being polled. */
  scheduled = false;
  constructor(
    public weight: number,
    public readonly poll: (napi: NapiStruct, budget: number) => number,
  ) {}
}

/** struct sd_flow_limit: history of recent flow hashes, for net.core.flow_limit_cpu_bitmap. */
export class SdFlowLimit {
  count = 0;
  historyHead = 0;
  readonly history = new Uint16Array(128);
  readonly buckets: Uint8Array;
  readonly logBuckets: number;
  constructor(numBuckets: number) {
    this.logBuckets = Math.log2(numBuckets);
    this.buckets = new Uint8Array(numBuckets);
  }
}

export class SoftnetData {
  readonly inputPktQueue = new SkBuffHead();
  readonly processQueue = new SkBuffHead();
  /** NAPI instances with work, in poll order. */
  pollList: NapiStruct[] = [];
  /** net_rx_action's own lists, kept empty between runs so a run makes none: the next poll list, the repoll list. */
  spareList: NapiStruct[] | null = [];
  readonly repoll: NapiStruct[] = [];
  /** The per-CPU backlog "device": process_backlog in core/dev.ts. */
  backlog: NapiStruct;
  processed = 0;
  dropped = 0;
  timeSqueeze = 0;
  receivedRps = 0;
  flow: SdFlowLimit | null = null;
  /** dev_xmit_recursion: nested transmits on this CPU. */
  xmitRecursion = 0;
  inNetRxAction = false;

  constructor(
    readonly cpu: number,
    backlogPoll: (sd: SoftnetData, quota: number) => number,
    weight: number,
  ) {
    this.backlog = new NapiStruct(weight, (_napi, quota) => backlogPoll(this, quota));
  }
}
