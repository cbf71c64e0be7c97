/**
 * Packet capture: what a packet socket (AF_PACKET, ETH_P_ALL) and libpcap give tcpdump.
 * A capture registers a tap (dev_add_pack) on one device, or on the whole namespace for
 * `any`, runs its filter on each packet as the kernel runs the socket's BPF program, and
 * queues what passes, up to a buffer size, counting what it had to drop. With no capture
 * open the stack pays one length check per packet (dev_nit_active).
 *
 * libpcap's rules are kept: on lo the PACKET_OUTGOING copy is counted "received by filter"
 * but never delivered (the same packet comes back as PACKET_HOST), so each packet is seen
 * once and the kernel's count is twice the captured one; `any` gives cooked frames
 * (LINUX_SLL2 or v1: the link header replaced by interface, direction and address).
 */
import { devAddPack, devRemovePack } from '../core/dev.js';
import { NETDEV } from '../core/if.js';
import {
  devSetPromiscuity,
  type NetDevice,
  type NetdevNotifier,
  registerNetdeviceNotifier,
  unregisterNetdeviceNotifier,
} from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import { CHECKSUM, PACKET, type SkBuff, skbChecksum, skbCopyBits } from '../core/skbuff.js';
import { ETH_P } from '../include/if-ether.js';
import type { Net } from '../net/net.js';
import { csumFold } from '../wire/checksum.js';
import { compileFilter, type FilterFn } from './filter.js';
import { LINKTYPE, MAXIMUM_SNAPLEN, PcapWriter } from './pcap.js';
import { PcapngWriter } from './pcapng.js';

export interface CaptureOptions {
  /** A device name, or `any` for every device of the namespace. Default: `lo`. */
  device?: string;
  /** A pcap-filter expression (`tcp port 80`, `icmp or icmp6`). */
  filter?: string;
  /** Promiscuous mode on the device while capturing (libpcap's default; tcpdump -p: false). */
  promisc?: boolean;
  /** Bytes kept of each packet (the rest is counted in origLen). Default 262144. */
  snaplen?: number;
  /**
   * 'partial' (default) keeps what Linux puts on lo: TCP/UDP checksum fields holding only
   * the pseudo-header sum (CHECKSUM_PARTIAL), which tcpdump calls "incorrect". 'complete'
   * finishes them, as a NIC would.
   */
  checksums?: 'partial' | 'complete';
  /** Bytes the capture may hold unread before it drops (the packet socket's buffer). */
  bufferSize?: number;
  /** Aborting closes the capture. */
  signal?: AbortSignal;
  /**
   * The cooked header for `any`: LINUX_SLL2 (default, what `tcpdump -i any` asks for) or
   * LINUX_SLL (v1, what libpcap gives tcpdump when it picked `any` itself).
   */
  cooked?: 'sll' | 'sll2';
  /** pcap_setdirection(): packets received, sent, or both (default). */
  direction?: 'in' | 'out' | 'inout';
}

/** One captured packet. */
export interface CapturedPacket {
  /** CLOCK_REALTIME nanoseconds since the epoch, as the kernel stamped it. */
  tsNs: number;
  /** The captured bytes (at most snaplen), starting at the link-layer header. */
  data: Uint8Array;
  /** The packet's full length, link header included. */
  origLen: number;
  /** LINKTYPE of `data`: ETHERNET on lo, LINUX_SLL2 for `any`. */
  linktype: number;
  ifindex: number;
  /** The device's name when the packet was seen. */
  device: string;
  /** PACKET_HOST, PACKET_OUTGOING, … */
  pktType: number;
}

export interface CaptureStats {
  /** Packets that passed the filter (the kernel's tp_packets: both copies on lo). */
  received: number;
  /** Packets the buffer had no room for (tp_drops). */
  dropped: number;
}

/** A device that does not exist, as pcap_activate reports it. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The 16-byte LINUX_SLL header (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html). */
const SLL_HDR_LEN = 16;
/** The 20-byte LINUX_SLL2 header (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html). */
const SLL2_HDR_LEN = 20;
/** The packet socket's default buffer: tcpdump's 2 MiB ring (-B 2048). */
const DEFAULT_BUFFER = 2 * 1024 * 1024;

/**
 * The device tcpdump opens without -i: the first of pcap_findalldevs(), which ranks up
 * non-loopback devices first, then `any`, then loopback ones; so `any` in a namespace
 * that has only lo (as a real one shows: "listening on any, link-type LINUX_SLL").
 */
export function defaultCaptureDevice(net: Net): string {
  const pick = net.devices.find((d) => (d.flags & 0x1) !== 0 && (d.flags & 0x8) === 0);
  return pick?.name ?? 'any';
}

/**
 * An open capture: an async iterable of packets, in the order the stack saw them.
 * Iterate it (`for await (const p of ns.capture({ filter: 'icmp' }))`), or take the
 * file's bytes as a stream of chunks with pcap() / pcapng().
 */
export class PacketCapture implements AsyncIterable<CapturedPacket> {
  readonly device: string;
  readonly linktype: number;
  readonly snaplen: number;
  readonly stats: CaptureStats = { received: 0, dropped: 0 };
  readonly #net: Net;
  readonly #pt: PacketType;
  readonly #filter: FilterFn | null;
  readonly #complete: boolean;
  readonly #direction: 'in' | 'out' | 'inout';
  readonly #bufferSize: number;
  #queue: CapturedPacket[] = [];
  #queued = 0;
  #waiter: (() => void) | null = null;
  #closed = false;
  #keepAlive: ReturnType<typeof setInterval> | null = null;
  #ref = true;
  readonly #onAbort = () => this.close();
  /** packet_notifier(): the bound device (or, for `any`, the namespace's lo) going away. */
  readonly #onNetdev: NetdevNotifier;
  #error: string | undefined;
  #promiscDev: NetDevice | null = null;
  readonly #signal: AbortSignal | undefined;

  constructor(net: Net, opts: CaptureOptions = {}) {
    this.#net = net;
    this.device = opts.device ?? 'lo';
    let dev: NetDevice | null = null;
    if (this.device !== 'any') {
      dev = net.devGetByName(this.device) ?? null;
      if (dev === null) throw new CaptureError(`${this.device}: No such device exists`, 'ENODEV');
    }
    this.linktype = dev !== null ? LINKTYPE.ETHERNET : opts.cooked === 'sll' ? LINKTYPE.LINUX_SLL : LINKTYPE.LINUX_SLL2;
    this.snaplen = opts.snaplen === undefined || opts.snaplen <= 0 ? MAXIMUM_SNAPLEN : opts.snaplen;
    // Throws FilterError before the tap exists, as pcap_compile fails before capture starts.
    this.#filter = opts.filter === undefined || opts.filter.trim() === '' ? null : compileFilter(opts.filter);
    this.#complete = opts.checksums === 'complete';
    this.#direction = opts.direction ?? 'inout';
    this.#bufferSize = opts.bufferSize ?? DEFAULT_BUFFER;
    this.#pt = { type: ETH_P.ALL, dev, func: (skb, d) => this.#packetRcv(skb, d) };
    devAddPack(net.kernel, this.#pt, net);
    // PACKET_MR_PROMISC: a bridge then passes up every frame it switches.
    if (dev !== null && opts.promisc !== false) {
      devSetPromiscuity(dev, 1);
      this.#promiscDev = dev;
    }
    const watched = dev ?? net.loopbackDev;
    this.#onNetdev = (event, d) => {
      if (event !== NETDEV.UNREGISTER || d !== watched) return;
      this.#error = 'ENETDOWN';
      this.close();
    };
    registerNetdeviceNotifier(net.kernel, this.#onNetdev);
    this.#signal = opts.signal;
    if (opts.signal?.aborted) this.close();
    else opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#arm();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** 'ENETDOWN' once the device went away under the capture (the socket's sk_err). */
  get error(): string | undefined {
    return this.#error;
  }

  /** Whether an open capture keeps a Node process alive (it does by default, like a socket). */
  ref(): this {
    this.#ref = true;
    this.#arm();
    return this;
  }

  unref(): this {
    this.#ref = false;
    this.#arm();
    return this;
  }

  /** An interval that only keeps the event loop alive while a real-clock capture is open. */
  #arm(): void {
    const want = this.#ref && !this.#closed && !this.#net.kernel.clock.virtual;
    if (want && this.#keepAlive === null) this.#keepAlive = setInterval(() => {}, 1 << 30);
    if (!want && this.#keepAlive !== null) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = null;
    }
  }

  /** packet_rcv / tpacket_rcv: filter, count, copy up to snaplen, queue or drop. */
  #packetRcv(skb: SkBuff, dev: NetDevice): number {
    if (this.#closed) return 0;
    const cooked = this.linktype !== LINKTYPE.ETHERNET;
    let l3 = 0;
    if (cooked) {
      const nh = skb.networkHeader - skb.data;
      l3 = nh >= 0 && nh <= skb.headlen ? nh : dev.hardHeaderLen;
    }
    const body = skbCopyBits(skb, l3, skb.len - l3);
    if (this.#complete && skb.ipSummed === CHECKSUM.PARTIAL) completeChecksum(skb, body, l3);
    let data = body;
    if (this.linktype === LINKTYPE.LINUX_SLL) {
      data = new Uint8Array(SLL_HDR_LEN + body.byteLength);
      const v = new DataView(data.buffer);
      v.setUint16(0, skb.pktType);
      v.setUint16(2, dev.type);
      v.setUint16(4, dev.addrLen);
      data.set(dev.devAddr.subarray(0, Math.min(dev.addrLen, 8)), 6);
      v.setUint16(14, skb.protocol);
      data.set(body, SLL_HDR_LEN);
    } else if (cooked) {
      data = new Uint8Array(SLL2_HDR_LEN + body.byteLength);
      const v = new DataView(data.buffer);
      v.setUint16(0, skb.protocol);
      v.setUint32(4, dev.ifindex);
      v.setUint16(8, dev.type);
      data[10] = skb.pktType;
      data[11] = Math.min(dev.addrLen, 8);
      data.set(dev.devAddr.subarray(0, Math.min(dev.addrLen, 8)), 12);
      data.set(body, SLL2_HDR_LEN);
    }
    if (this.#filter !== null && !this.#filter({ data, len: data.byteLength, linktype: this.linktype })) return 0;
    this.stats.received++;
    // linux_check_direction(): on lo the outgoing copy is the same packet as the incoming
    // one, so it is skipped whatever the direction asked for.
    if (skb.pktType === PACKET.OUTGOING) {
      if (dev === this.#net.loopbackDev || this.#direction === 'in') return 0;
    } else if (this.#direction === 'out') return 0;
    const caplen = Math.min(data.byteLength, this.snaplen);
    if (this.#queued + caplen > this.#bufferSize) {
      this.stats.dropped++;
      return 0;
    }
    this.#queued += caplen;
    this.#queue.push({
      tsNs: skb.tstamp !== 0 ? skb.tstamp : dev.kernel.clock.realtime(),
      data: caplen < data.byteLength ? data.slice(0, caplen) : data,
      origLen: data.byteLength,
      linktype: this.linktype,
      ifindex: dev.ifindex,
      device: dev.name,
      pktType: skb.pktType,
    });
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
    return 0;
  }

  /** The next packet already queued, without waiting; undefined if none. */
  read(): CapturedPacket | undefined {
    const p = this.#queue.shift();
    if (p !== undefined) this.#queued -= p.data.byteLength;
    return p;
  }

  /** The next packet, waiting for one; undefined once the capture is closed and drained. */
  async next(): Promise<CapturedPacket | undefined> {
    for (;;) {
      const p = this.read();
      if (p !== undefined || this.#closed) return p;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /** Removes the tap; packets already queued can still be read. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    devRemovePack(this.#net.kernel, this.#pt, this.#net);
    if (this.#promiscDev !== null) devSetPromiscuity(this.#promiscDev, -1);
    this.#promiscDev = null;
    // Not while the notifier chain may be running (removing would skip the next listener).
    queueMicrotask(() => unregisterNetdeviceNotifier(this.#net.kernel, this.#onNetdev));
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#arm();
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CapturedPacket> {
    try {
      for (;;) {
        const p = await this.next();
        if (p === undefined) return;
        yield p;
      }
    } finally {
      this.close();
    }
  }

  /** The capture as a pcap file, chunk by chunk (a Node stream or a Blob takes them as they are). */
  async *pcap(opts: { nanosecond?: boolean } = {}): AsyncGenerator<Uint8Array> {
    const w = new PcapWriter({ linktype: this.linktype, snaplen: this.snaplen, nanosecond: opts.nanosecond ?? false });
    yield w.fileHeader();
    for await (const p of this) {
      yield w.record({ tsSec: Math.floor(p.tsNs / 1e9), tsNsec: p.tsNs % 1e9, origLen: p.origLen, data: p.data });
    }
  }

  /**
   * The whole capture as a file in a Blob (browsers download it, Node can arrayBuffer() it),
   * once the capture is closed (close(), the signal, or the loop breaking).
   */
  async blob(format: 'pcap' | 'pcapng' = 'pcap'): Promise<Blob> {
    const parts: Uint8Array[] = [];
    for await (const c of format === 'pcap' ? this.pcap() : this.pcapng()) parts.push(c);
    return new Blob(parts as unknown as ConstructorParameters<typeof Blob>[0], {
      type: 'application/vnd.tcpdump.pcap',
    });
  }

  /** The capture as a pcapng file: one interface block per device, naming the namespace. */
  async *pcapng(): AsyncGenerator<Uint8Array> {
    const w = new PcapngWriter();
    yield w.sectionHeader();
    for await (const p of this) {
      const idb = w.interfaceFor(p.ifindex, {
        name: this.linktype === LINKTYPE.ETHERNET ? p.device : 'any',
        linktype: this.linktype,
        snaplen: this.snaplen,
        comment: `netns ${this.#net.id}`,
      });
      if (idb.block !== null) yield idb.block;
      yield w.packet(idb.id, p);
    }
  }
}

/**
 * Finishes a CHECKSUM_PARTIAL checksum in the copy, as skb_checksum_help would: the sum
 * runs from csum_start to the end and lands at csum_start + csum_offset.
 */
function completeChecksum(skb: SkBuff, body: Uint8Array, from: number): void {
  const start = skb.csumStart - skb.data;
  if (start < 0 || start >= skb.len) return;
  const v = csumFold(skbChecksum(skb, start, skb.len - start)) || 0xffff;
  const at = start + skb.csumOffset - from;
  if (at < 0 || at + 2 > body.byteLength) return;
  body[at] = v >> 8;
  body[at + 1] = v & 0xff;
}
