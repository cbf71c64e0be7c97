/**
 * The page's capture: a packet tap on lo (dev_add_pack with ETH_P_ALL, what a packet
 * socket under libpcap is) that keeps each frame as a pcap record, for download as a file
 * Wireshark or tcpdump -r reads. Like libpcap on lo, it skips the outgoing copy, so each
 * packet is in the file once.
 */
import type { Namespace } from '../src/api/namespace.js';
import { LINKTYPE, MAXIMUM_SNAPLEN, PcapWriter } from '../src/capture/pcap.js';
import { devAddPack, devRemovePack } from '../src/core/dev.js';
import { NET_RX } from '../src/core/if.js';
import type { PacketType } from '../src/core/packet-type.js';
import { kfreeSkb, PACKET } from '../src/core/skbuff.js';
import { ETH_P } from '../src/include/if-ether.js';

/** Past this many bytes the capture stops keeping packets (a flood would fill the tab's memory). */
const MAX_BYTES = 64 * 1024 * 1024;

export class PageCapture {
  readonly writer = new PcapWriter({ linktype: LINKTYPE.ETHERNET, snaplen: MAXIMUM_SNAPLEN, nanosecond: false });
  chunks: Uint8Array[] = [];
  packets = 0;
  bytes = 0;
  /** Packets seen after the file reached MAX_BYTES. */
  dropped = 0;
  #tap: PacketType | null = null;

  constructor(readonly ns: Namespace) {}

  get running(): boolean {
    return this.#tap !== null;
  }

  start(): void {
    if (this.#tap !== null) return;
    const clock = this.ns.kernel.clock;
    this.#tap = {
      type: ETH_P.ALL,
      dev: this.ns.lo,
      func: (skb) => {
        if (skb.pktType !== PACKET.OUTGOING) {
          if (this.bytes >= MAX_BYTES) this.dropped++;
          else {
            // packet_rcv stamps the packet if nothing did before it.
            const ns = skb.tstamp !== 0 ? skb.tstamp : clock.realtime();
            const rec = this.writer.record({
              tsSec: Math.floor(ns / 1e9),
              tsNsec: ns % 1e9,
              origLen: skb.len,
              data: skb.toBytes(),
            });
            this.chunks.push(rec);
            this.packets++;
            this.bytes += rec.byteLength;
          }
        }
        kfreeSkb(skb);
        return NET_RX.SUCCESS;
      },
    };
    devAddPack(this.ns.kernel, this.#tap);
  }

  stop(): void {
    if (this.#tap === null) return;
    devRemovePack(this.ns.kernel, this.#tap);
    this.#tap = null;
  }

  clear(): void {
    this.chunks = [];
    this.packets = 0;
    this.bytes = 0;
    this.dropped = 0;
  }

  /** The whole file: the global header, then every record kept. */
  file(): Blob {
    return new Blob([this.writer.fileHeader(), ...this.chunks] as BlobPart[], {
      type: 'application/vnd.tcpdump.pcap',
    });
  }
}
