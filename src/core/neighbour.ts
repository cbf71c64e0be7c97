/**
 * net/core/neighbour.c, as far as lo needs it: neighbour entries map a next hop to a
 * link-layer address. lo has no ARP or NDISC: its entries are NUD_NOARP and hold lo's
 * own address. IPv4 folds every destination on a loopback device into one entry
 * keyed 0.0.0.0 (__ipv4_neigh_lookup_noref); IPv6 keeps one per address.
 */
import { IFF } from './if.js';
import type { NetDevice } from './netdevice.js';
import type { SkBuff } from './skbuff.js';

/** The key arp_tbl folds loopback entries to (never handed out: entries copy their key). */
const ZERO4 = new Uint8Array(4);

/** NUD_* states. */
export const NUD = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
  NONE: 0x00,
} as const;

export interface Neighbour {
  /** The key: 4 bytes for IPv4, 16 for IPv6. */
  readonly key: Uint8Array;
  readonly dev: NetDevice;
  /** Link-layer address (neigh->ha); neigh_update() replaces it. */
  ha: Uint8Array;
  nudState: number;
  /** Times used (for `ip -s neigh`). */
  used: number;
}

/** A neighbour table (arp_tbl, nd_tbl): entries of one namespace, per family. */
export class NeighTable {
  readonly #entries = new Map<string, Neighbour>();

  constructor(readonly family: 'inet' | 'inet6') {}

  /** The entry lookupOrCreate4 last answered, for which device and address (folded or not). */
  #last: Neighbour | null = null;
  #lastDev: NetDevice | null = null;
  #lastAddr = 0;
  #lastFold = false;

  /** Entries in creation order, as `ip neigh` lists them. */
  get entries(): Neighbour[] {
    return [...this.#entries.values()];
  }

  /** The key an entry is stored under: arp_tbl folds a loopback or point-to-point device's keys to 0.0.0.0. */
  #id(key: Uint8Array, dev: NetDevice): { k: Uint8Array; id: string } {
    const k = this.family === 'inet' && dev.flags & (IFF.LOOPBACK | IFF.POINTOPOINT) ? ZERO4 : key;
    // Every packet out asks: spell the common 4-byte key without join()'s array walk.
    const id = k.byteLength === 4 ? `${dev.ifindex}/${k[0]}.${k[1]}.${k[2]}.${k[3]}` : `${dev.ifindex}/${k.join('.')}`;
    return { k, id };
  }

  /** neigh_lookup(): the entry for this key on this device, if any. */
  lookup(key: Uint8Array, dev: NetDevice): Neighbour | undefined {
    return this.#entries.get(this.#id(key, dev).id);
  }

  /**
   * __neigh_lookup + neigh_create for a NOARP device: the entry is created on first
   * use with the device's own address.
   */
  lookupOrCreate(key: Uint8Array, dev: NetDevice): Neighbour {
    const { k, id } = this.#id(key, dev);
    let n = this.#entries.get(id);
    if (n === undefined) {
      n = { key: k.slice(), dev, ha: dev.devAddr.slice(0, dev.addrLen), nudState: NUD.NOARP, used: 0 };
      this.#entries.set(id, n);
    }
    return n;
  }

  /**
   * lookupOrCreate() for an IPv4 next hop given as a number (__ipv4_neigh_lookup_noref): the
   * entry of the last call is answered again while it is still in the table, without a key.
   */
  lookupOrCreate4(addr: number, dev: NetDevice): Neighbour {
    const fold = this.family === 'inet' && (dev.flags & (IFF.LOOPBACK | IFF.POINTOPOINT)) !== 0;
    const last = this.#last;
    if (last !== null && this.#lastDev === dev && this.#lastFold === fold && (fold || this.#lastAddr === addr)) {
      return last;
    }
    const key = Uint8Array.of(addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255);
    const n = this.lookupOrCreate(key, dev);
    this.#last = n;
    this.#lastDev = dev;
    this.#lastAddr = addr;
    this.#lastFold = fold;
    return n;
  }

  /** neigh_update(): a new link-layer address (copied, cut to the device's length) and state. */
  update(n: Neighbour, lladdr: Uint8Array | null, state: number): void {
    if (lladdr !== null) {
      const ha = new Uint8Array(n.dev.addrLen);
      ha.set(lladdr.subarray(0, ha.length));
      n.ha = ha;
    }
    n.nudState = state;
  }

  /** neigh_remove_one(): the entry goes; false if it was not in this table. */
  delete(n: Neighbour): boolean {
    const id = this.#id(n.key, n.dev).id;
    if (this.#entries.get(id) !== n) return false;
    this.#entries.delete(id);
    if (this.#last === n) this.#last = null;
    return true;
  }

  /** neigh_ifdown(): entries of a device that goes away or down are flushed. */
  flushDev(dev: NetDevice): void {
    for (const [id, n] of this.#entries) if (n.dev === dev) this.#entries.delete(id);
    if (this.#last !== null && this.#last.dev === dev) this.#last = null;
  }
}

/**
 * neigh_resolve_output for a NOARP entry (neigh_connected_output): build the link
 * header with the entry's address and hand the packet to the device queue.
 */
export function neighOutput(n: Neighbour, skb: SkBuff, protocol: number, xmit: (skb: SkBuff) => number): number {
  n.used++;
  const dev = n.dev;
  const hdr = dev.headerOps;
  if (hdr !== null && hdr.create(skb, dev, protocol, n.ha, null, skb.len) < 0) return -1;
  return xmit(skb);
}
