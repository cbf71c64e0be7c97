/**
 * Ethernet II header: destination, source, ethertype (or an 802.3 length).
 * A view over bytes, no logic: `link/ethernet.ts` decides what the fields mean.
 */
export const ETHERNET_HEADER_LEN = 14;

export class EthernetHeader {
  readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset + offset, ETHERNET_HEADER_LEN);
  }

  /** Whether `len` bytes hold a whole header. */
  static checkLen(len: number): boolean {
    return len >= ETHERNET_HEADER_LEN;
  }

  get dst(): Uint8Array {
    return this.buf.subarray(this.offset, this.offset + 6);
  }
  set dst(mac: Uint8Array) {
    this.buf.set(mac.subarray(0, 6), this.offset);
  }

  get src(): Uint8Array {
    return this.buf.subarray(this.offset + 6, this.offset + 12);
  }
  set src(mac: Uint8Array) {
    this.buf.set(mac.subarray(0, 6), this.offset + 6);
  }

  get ethertype(): number {
    return this.view.getUint16(12);
  }
  set ethertype(v: number) {
    this.view.setUint16(12, v);
  }
}

/** The fields of an Ethernet header, parsed. */
export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  ethertype: number;
}

export function parseEthernet(buf: Uint8Array, offset = 0): EthernetRepr | undefined {
  if (!EthernetHeader.checkLen(buf.byteLength - offset)) return undefined;
  const h = new EthernetHeader(buf, offset);
  return { dst: h.dst.slice(), src: h.src.slice(), ethertype: h.ethertype };
}

export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, offset = 0): void {
  const h = new EthernetHeader(buf, offset);
  h.dst = repr.dst;
  h.src = repr.src;
  h.ethertype = repr.ethertype;
}
