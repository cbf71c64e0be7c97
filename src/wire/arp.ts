/**
 * The ARP packet (RFC 826, include/uapi/linux/if_arp.h struct arphdr followed by the
 * four addresses). A view over bytes for Ethernet/IPv4 (hln 6, pln 4): ar_hrd, ar_pro,
 * ar_hln, ar_pln, ar_op, then sender and target hardware and protocol addresses.
 */
export const ARP_HEADER_LEN = 8;
/** arp_hdr_len() for Ethernet and IPv4: 8 + 2·(6 + 4). */
export const ARP_ETH_IP_LEN = 28;

export const ARPOP = { REQUEST: 1, REPLY: 2, RREQUEST: 3, RREPLY: 4, INREQUEST: 8, INREPLY: 9, NAK: 10 } as const;

export class ArpHeader {
  readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, Math.min(ARP_ETH_IP_LEN, buf.byteLength - offset));
  }

  get hrd(): number {
    return this.view.getUint16(0);
  }
  set hrd(v: number) {
    this.view.setUint16(0, v);
  }
  get pro(): number {
    return this.view.getUint16(2);
  }
  set pro(v: number) {
    this.view.setUint16(2, v);
  }
  get hln(): number {
    return this.view.getUint8(4);
  }
  set hln(v: number) {
    this.view.setUint8(4, v);
  }
  get pln(): number {
    return this.view.getUint8(5);
  }
  set pln(v: number) {
    this.view.setUint8(5, v);
  }
  get op(): number {
    return this.view.getUint16(6);
  }
  set op(v: number) {
    this.view.setUint16(6, v);
  }
  /** Sender hardware address (6 bytes, a view). */
  get sha(): Uint8Array {
    return this.buf.subarray(this.offset + 8, this.offset + 14);
  }
  set sha(mac: Uint8Array) {
    this.buf.set(mac.subarray(0, 6), this.offset + 8);
  }
  /** Sender IPv4 address, host order. */
  get sip(): number {
    return this.view.getUint32(14);
  }
  set sip(v: number) {
    this.view.setUint32(14, v >>> 0);
  }
  get tha(): Uint8Array {
    return this.buf.subarray(this.offset + 18, this.offset + 24);
  }
  set tha(mac: Uint8Array) {
    this.buf.set(mac.subarray(0, 6), this.offset + 18);
  }
  get tip(): number {
    return this.view.getUint32(24);
  }
  set tip(v: number) {
    this.view.setUint32(24, v >>> 0);
  }
}
