/**
 * struct sk_buff. A linear `head` holds headroom and headers; the payload may stay
 * in `frags` (SG/FRAGLIST on lo), so application bytes are never copied on their
 * way through the stack. `data`/`tail` are offsets into `head`, exactly as in
 * Linux: skbPush moves data back into the headroom, skbPull moves it forward.
 */
import { csumBlockAdd, csumFold, csumPartial } from '../wire/checksum.js';
import { Ipv4Header } from '../wire/ipv4.js';
import type { DstEntry } from './dst.js';
import type { NetDevice } from './netdevice.js';

/** skb->pkt_type (include/uapi/linux/if_packet.h). */
export const PACKET = {
  HOST: 0,
  BROADCAST: 1,
  MULTICAST: 2,
  OTHERHOST: 3,
  OUTGOING: 4,
  LOOPBACK: 5,
} as const;

/** skb->ip_summed. */
export const CHECKSUM = {
  NONE: 0,
  UNNECESSARY: 1,
  COMPLETE: 2,
  PARTIAL: 3,
} as const;

/** skb_shinfo(skb)->tx_flags. */
export const SKBTX = {
  HW_TSTAMP: 1 << 0,
  SW_TSTAMP: 1 << 1,
  IN_PROGRESS: 1 << 2,
  SCHED_TSTAMP: 1 << 6,
} as const;

/**
 * SKB_TRUESIZE overhead on x86_64: SKB_DATA_ALIGN(sizeof(struct sk_buff)) = 256 plus
 * SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) = 320. Socket accounting charges it.
 */
export const SKB_TRUESIZE_OVERHEAD = 256 + 320;

/** skb_shinfo(skb)->gso_type bits. */
export const SKB_GSO = {
  TCPV4: 1 << 0,
  DODGY: 1 << 1,
  TCPV6: 1 << 4,
} as const;

const SHINFO_SIZE = 320;
const PAGE_SIZE = 4096;
/** PAGE_ALLOC_COSTLY_ORDER: the largest page order socket allocations try for frags. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/** SKB_MAX_HEAD(0): the most a page-sized kmalloc head holds. */
export const SKB_MAX_HEAD = PAGE_SIZE - SHINFO_SIZE;

/** PAGE_ALIGN(). */
export const pageAlign = (n: number): number => (n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

/**
 * skb->truesize of alloc_skb(size): the head comes from kmalloc, rounded to its caches (512 B
 * and up by powers of two, beyond 8 KiB whole pages, still a power of two), plus the sk_buff.
 * Checked against `ss -xm` on Linux 6.18 (a 1-byte unix skb is 768, a 3776-byte one 4352).
 */
export function skbHeadTruesize(size: number): number {
  const req = ((size + 63) & ~63) + SHINFO_SIZE;
  let alloc = 512;
  while (alloc < req) alloc *= 2;
  return alloc + SKB_TRUESIZE_OVERHEAD - SHINFO_SIZE;
}

/**
 * alloc_skb_with_frags(): what `dataLen` bytes of page frags add to truesize. Each chunk takes
 * the largest order up to `order` that the rest (page-aligned) still fills.
 */
export function skbFragsTruesize(dataLen: number, order = PAGE_ALLOC_COSTLY_ORDER): number {
  let total = 0;
  while (dataLen > 0) {
    while (order > 0 && pageAlign(dataLen) < PAGE_SIZE << order) order--;
    const chunk = PAGE_SIZE << order;
    total += chunk;
    dataLen -= Math.min(dataLen, chunk);
  }
  return total;
}

const EMPTY_FRAGS: Uint8Array[] = [];

export class SkBuff {
  head: Uint8Array;
  /** Offset of the first byte of data in head. */
  data: number;
  /** Offset one past the last byte of linear data in head. */
  tail: number;
  /** Paged data after the linear part: shared, never copied. */
  frags: Uint8Array[] = EMPTY_FRAGS;
  /** Bytes held in frags (skb->data_len). */
  dataLen = 0;
  /** Total bytes: linear + frags (skb->len). */
  len = 0;

  protocol = 0;
  pktType: number = PACKET.HOST;
  dev: NetDevice | null = null;
  /** The owning socket; opaque to the core, which only calls the destructor. */
  sk: object | null = null;
  destructor: ((skb: SkBuff) => void) | null = null;
  dst: DstEntry | null = null;
  ipSummed: number = CHECKSUM.NONE;
  csumStart = 0;
  csumOffset = 0;
  /** CLOCK_REALTIME nanoseconds (ktime_get_real); 0 = not stamped. */
  tstamp = 0;
  /** Non-zero when tstamp is a delivery time (skb->tstamp_type), which lo must keep. */
  tstampType = 0;
  txFlags = 0;
  /** skb_shinfo(skb)->tskey: the byte (TCP sequence number) a transmit stamp reports. */
  tskey = 0;
  /** skb->ignore_df: DF is advisory for this packet (PMTU mode "want"), so it may be fragmented. */
  ignoreDf = false;
  gsoSize = 0;
  gsoSegs = 0;
  gsoType = 0;
  truesize: number;
  mark = 0;
  hash = 0;
  priority = 0;
  skbIif = 0;
  macHeader = -1;
  networkHeader = -1;
  /** ipHdr()'s view of the IPv4 header, kept while head and offset stay the same. */
  iphView: Ipv4Header | null = null;
  transportHeader = -1;
  macLen = 0;
  /** Link in an SkBuffHead queue (skb->next). */
  next: SkBuff | null = null;

  constructor(head: Uint8Array, data: number, tail: number) {
    this.head = head;
    this.data = data;
    this.tail = tail;
    this.len = tail - data;
    this.truesize = head.byteLength + SKB_TRUESIZE_OVERHEAD;
  }

  /** Bytes in the linear part (skb_headlen). */
  get headlen(): number {
    return this.len - this.dataLen;
  }

  get headroom(): number {
    return this.data;
  }

  get tailroom(): number {
    return this.head.byteLength - this.tail;
  }

  /** Linear data as a view (no copy). */
  linear(): Uint8Array {
    return this.head.subarray(this.data, this.tail);
  }

  /** A copy of every byte of the packet from data on, linear and paged. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    out.set(this.linear(), 0);
    let off = this.headlen;
    for (const f of this.frags) {
      out.set(f, off);
      off += f.byteLength;
    }
    return out;
  }

  /**
   * skb_clone: a new sk_buff sharing this one's data (head and frags), as taps get.
   * The clone has no owner or destructor.
   */
  clone(): SkBuff {
    const c = new SkBuff(this.head, this.data, this.tail);
    c.frags = this.frags;
    c.dataLen = this.dataLen;
    c.len = this.len;
    c.protocol = this.protocol;
    c.pktType = this.pktType;
    c.dev = this.dev;
    c.dst = this.dst;
    c.ipSummed = this.ipSummed;
    c.csumStart = this.csumStart;
    c.csumOffset = this.csumOffset;
    c.tstamp = this.tstamp;
    c.tstampType = this.tstampType;
    c.txFlags = this.txFlags;
    c.tskey = this.tskey;
    c.gsoSize = this.gsoSize;
    c.gsoSegs = this.gsoSegs;
    c.gsoType = this.gsoType;
    c.truesize = this.truesize;
    c.mark = this.mark;
    c.hash = this.hash;
    c.priority = this.priority;
    c.ignoreDf = this.ignoreDf;
    c.skbIif = this.skbIif;
    c.macHeader = this.macHeader;
    c.networkHeader = this.networkHeader;
    c.transportHeader = this.transportHeader;
    c.macLen = this.macLen;
    return c;
  }
}

/**
 * Small heads are carved from a shared slab, as kmalloc's caches do (and Node's Buffer
 * pool): a typed array over a fresh ArrayBuffer costs a backing-store allocation each,
 * many times a view over one already made. A slab is zeroed and never reused, so every
 * head starts as zeros; a head keeps its slab alive while anything holds it.
 */
const SLAB_SIZE = 8 * 1024;
const SLAB_MAX_OBJECT = 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabOffset = 0;

/** kmalloc_reserve(): `size` zeroed bytes for a head. */
function allocHead(size: number): Uint8Array {
  if (size > SLAB_MAX_OBJECT) return new Uint8Array(size);
  if (slabOffset + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOffset = 0;
  }
  const head = new Uint8Array(slab, slabOffset, size);
  // Aligned to 8, as the kernel's SKB_DATA_ALIGN keeps heads.
  slabOffset += (size + 7) & ~7;
  return head;
}

/** alloc_skb(size) with `headroom` reserved (skb_reserve), data empty. */
export function allocSkb(size: number, headroom = 0): SkBuff {
  return new SkBuff(allocHead(headroom + size), headroom, headroom);
}

/** An skb whose linear data is a copy of `bytes`, with `headroom` in front. */
export function skbFromBytes(bytes: Uint8Array, headroom = 0): SkBuff {
  const skb = allocSkb(bytes.byteLength, headroom);
  skb.head.set(bytes, headroom);
  skb.tail += bytes.byteLength;
  skb.len = bytes.byteLength;
  return skb;
}

/** skb_reserve: move empty data forward to make headroom. */
export function skbReserve(skb: SkBuff, n: number): void {
  skb.data += n;
  skb.tail += n;
}

/** skb_put: extend linear data at the tail; returns the offset of the new bytes. */
export function skbPut(skb: SkBuff, n: number): number {
  const at = skb.tail;
  if (at + n > skb.head.byteLength) throw new RangeError(`skb_put: over by ${at + n - skb.head.byteLength}`);
  skb.tail += n;
  skb.len += n;
  return at;
}

/** skb_push: extend data into the headroom; returns the new data offset. */
export function skbPush(skb: SkBuff, n: number): number {
  if (n > skb.data) throw new RangeError(`skb_push: under by ${n - skb.data}`);
  skb.data -= n;
  skb.len += n;
  return skb.data;
}

/** skb_pull: drop n bytes from the front of linear data; false if there are not that many. */
export function skbPull(skb: SkBuff, n: number): boolean {
  if (n > skb.headlen) return false;
  skb.data += n;
  skb.len -= n;
  return true;
}

/** Appends a page fragment (skb_add_rx_frag / skb_fill_page_desc): the bytes are shared. */
export function skbAddFrag(skb: SkBuff, frag: Uint8Array): void {
  if (skb.frags === EMPTY_FRAGS) skb.frags = [];
  skb.frags.push(frag);
  skb.dataLen += frag.byteLength;
  skb.len += frag.byteLength;
  skb.truesize += frag.byteLength;
}

/**
 * pskb_may_pull: make sure the first n bytes are linear, copying from frags into
 * a larger head if needed. False if the packet is shorter than n.
 */
export function pskbMayPull(skb: SkBuff, n: number): boolean {
  if (n <= skb.headlen) return true;
  if (n > skb.len) return false;
  const need = n - skb.headlen;
  const head = new Uint8Array(skb.data + n + Math.max(0, skb.tailroom));
  head.set(skb.head.subarray(0, skb.tail), 0);
  let tail = skb.tail;
  let left = need;
  const frags: Uint8Array[] = [];
  for (const f of skb.frags) {
    if (left === 0) {
      frags.push(f);
    } else if (f.byteLength <= left) {
      head.set(f, tail);
      tail += f.byteLength;
      left -= f.byteLength;
    } else {
      head.set(f.subarray(0, left), tail);
      tail += left;
      frags.push(f.subarray(left));
      left = 0;
    }
  }
  skb.head = head;
  skb.tail = tail;
  skb.frags = frags.length > 0 ? frags : EMPTY_FRAGS;
  skb.dataLen -= need;
  return true;
}

/**
 * pskb_trim_rcsum(): cut the packet to `len` bytes, dropping what lies past it (link
 * padding after an IP datagram) from the head or the frags.
 */
export function pskbTrim(skb: SkBuff, len: number): void {
  if (len >= skb.len) return;
  if (len <= skb.headlen) {
    skb.tail = skb.data + len;
    skb.frags = EMPTY_FRAGS;
    skb.dataLen = 0;
  } else {
    let left = len - skb.headlen;
    const frags: Uint8Array[] = [];
    for (const f of skb.frags) {
      if (left === 0) break;
      const part = f.byteLength <= left ? f : f.subarray(0, left);
      frags.push(part);
      left -= part.byteLength;
    }
    skb.frags = frags;
    skb.dataLen = len - skb.headlen;
  }
  skb.len = len;
}

/** skb_orphan: run the destructor (e.g. sock_wfree returns send-buffer credit), then forget the owner. */
export function skbOrphan(skb: SkBuff): void {
  const destructor = skb.destructor;
  if (destructor !== null) {
    skb.destructor = null;
    destructor(skb);
  }
  skb.sk = null;
}

/** kfree_skb: the packet is dropped. The destructor still runs, as Linux frees it. */
export function kfreeSkb(skb: SkBuff): void {
  skbOrphan(skb);
  skb.dst = null;
  skb.next = null;
}

/**
 * skb_cow(): a header is about to change on the way through (forwarding), and a tap or
 * the sender may still hold the bytes it shares; the packet gets a head of its own.
 */
export function skbCow(skb: SkBuff): void {
  skb.head = skb.head.slice();
  skb.iphView = null;
}

/** consume_skb: the packet was used up normally. Same release, different meaning for tracing. */
export const consumeSkb = kfreeSkb;

/** skb_reset_mac_header and friends: header offsets relative to head, as Linux keeps them. */
export function skbResetMacHeader(skb: SkBuff): void {
  skb.macHeader = skb.data;
}
export function skbResetNetworkHeader(skb: SkBuff): void {
  skb.networkHeader = skb.data;
}
export function skbResetTransportHeader(skb: SkBuff): void {
  skb.transportHeader = skb.data;
}

/** struct sk_buff_head: a FIFO linked through skb.next, no allocation per packet. */
export class SkBuffHead {
  first: SkBuff | null = null;
  last: SkBuff | null = null;
  qlen = 0;

  enqueue(skb: SkBuff): void {
    skb.next = null;
    if (this.last === null) this.first = skb;
    else this.last.next = skb;
    this.last = skb;
    this.qlen++;
  }

  dequeue(): SkBuff | null {
    const skb = this.first;
    if (skb === null) return null;
    this.first = skb.next;
    if (this.first === null) this.last = null;
    skb.next = null;
    this.qlen--;
    return skb;
  }

  /** skb_queue_splice_tail_init: move all of `from` to our tail. */
  spliceTailInit(from: SkBuffHead): void {
    if (from.first === null) return;
    if (this.last === null) this.first = from.first;
    else this.last.next = from.first;
    this.last = from.last;
    this.qlen += from.qlen;
    from.first = null;
    from.last = null;
    from.qlen = 0;
  }

  purge(): void {
    for (let skb = this.dequeue(); skb !== null; skb = this.dequeue()) kfreeSkb(skb);
  }
}

/**
 * skb_checksum(): the unfolded internet checksum of `len` bytes from `offset` (relative
 * to data), across the linear part and the fragments.
 */
export function skbChecksum(skb: SkBuff, offset: number, len: number, sum = 0): number {
  let pos = 0;
  const take = (buf: Uint8Array, start: number, end: number) => {
    // The part of [offset, offset + len) that falls in this piece [pos, pos + size).
    const from = Math.max(offset, pos);
    const to = Math.min(offset + len, pos + (end - start));
    if (from < to) sum = csumBlockAdd(sum, csumPartial(buf, start + (from - pos), to - from), from - offset);
    pos += end - start;
  };
  take(skb.head, skb.data, skb.tail);
  for (const f of skb.frags) take(f, 0, f.byteLength);
  return sum;
}

/**
 * skb_copy_bits(): a copy of `len` bytes starting `offset` bytes from data; a negative
 * offset reaches back into headers already pulled (the IP header, for an ICMP quote).
 */
export function skbCopyBits(skb: SkBuff, offset: number, len: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, len));
  skbCopyBitsInto(skb, offset, out, 0, len);
  return out;
}

/**
 * skb_copy_datagram_msg(): what a reader's recvmsg gets, a copy of `len` bytes from
 * `offset` (as skbCopyBits), in memory carved from the slab small heads come from.
 */
export function skbCopyDatagram(skb: SkBuff, offset: number, len: number): Uint8Array {
  const out = allocHead(Math.max(0, len));
  skbCopyBitsInto(skb, offset, out, 0, len);
  return out;
}

/**
 * skb_copy_bits() proper: `len` bytes starting `offset` bytes from data, written into
 * `to` at `at` (what skbCopyBits copies, without making the array). Returns the bytes written.
 */
export function skbCopyBitsInto(skb: SkBuff, offset: number, to: Uint8Array, at: number, len: number): number {
  let written = 0;
  let pos = offset;
  const linearEnd = skb.headlen;
  if (pos < linearEnd && len > 0) {
    const n = Math.min(len, linearEnd - pos);
    to.set(skb.head.subarray(skb.data + pos, skb.data + pos + n), at);
    written = n;
    pos += n;
  }
  let fragStart = linearEnd;
  for (const f of skb.frags) {
    if (written >= len) break;
    const fragEnd = fragStart + f.byteLength;
    if (pos < fragEnd) {
      const n = Math.min(len - written, fragEnd - pos);
      to.set(f.subarray(pos - fragStart, pos - fragStart + n), at + written);
      written += n;
      pos += n;
    }
    fragStart = fragEnd;
  }
  return written;
}

/**
 * skb_checksum_help(): finish a CHECKSUM_PARTIAL checksum in software, as the stack
 * must before it cuts a packet into fragments. `csumStart` is the transport header's
 * offset in head; the field already holds the pseudo-header sum.
 */
export function skbChecksumHelp(skb: SkBuff): void {
  if (skb.ipSummed !== CHECKSUM.PARTIAL) return;
  const from = skb.csumStart - skb.data;
  const sum = skbChecksum(skb, from, skb.len - from);
  const field = skb.csumStart + skb.csumOffset;
  // A computed 0 is sent as 0xffff (CSUM_MANGLED_0): 0 would mean "no checksum" to UDP.
  const v = csumFold(sum) || 0xffff;
  if (field + 1 < skb.tail) {
    skb.head[field] = v >> 8;
    skb.head[field + 1] = v & 0xff;
  }
  skb.ipSummed = CHECKSUM.NONE;
}

/**
 * ip_hdr(): the IPv4 header at `at` (the network header by default), as a view over the
 * skb's bytes. Every layer of the path asks for it; the view is made once per skb and
 * offset (it reads and writes the bytes themselves, so it never goes stale).
 */
export function ipHdr(skb: SkBuff, at: number = skb.networkHeader): Ipv4Header {
  const v = skb.iphView;
  if (v !== null && v.buf === skb.head && v.offset === at) return v;
  const h = new Ipv4Header(skb.head, at);
  skb.iphView = h;
  return h;
}
