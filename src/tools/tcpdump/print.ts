/**
 * tcpdump 4.99's packet printer for what lo carries: Ethernet (DLT_EN10MB) and Linux
 * cooked v2 (`-i any`) link headers, IPv4, IPv6, ICMP, ICMPv6, UDP, TCP and ARP, with
 * -e, -q, -v/-vv, -x/-X/-A (and doubled), -t/-tt/-ttt/-tttt/-ttttt. The wording, field
 * order and punctuation follow netdissect's print-*.c so that lines compare equal with
 * the real tcpdump's. TCP sequence numbers are relative per conversation, as tcpdump
 * keeps them (tcp_seq_hash), so one Printer must see a capture's packets in order.
 */
import { formatIpv6 } from '../../ipv6/addr.js';
import { csumFold, csumPartial } from '../../wire/checksum.js';
import { TCP_SERVICES, UDP_SERVICES } from './services.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export interface PrintOptions {
  /** -e: print the link-level header. */
  e: boolean;
  /** -q: less protocol detail. */
  q: boolean;
  /** -v count. */
  v: number;
  /** -x count (hex), -X count (hex and ASCII), -A (ASCII). */
  x: number;
  X: number;
  A: boolean;
  /** -t count: 0 = time of day, 1 = none, 2 = epoch, 3 = delta, 4 = date and time, 5 = since first. */
  t: number;
  /** -S: absolute TCP sequence numbers. */
  S: boolean;
  /** -n: addresses and ports as numbers. Without it, names as the host's tables give them. */
  n: boolean;
  /** --nano: nanosecond timestamps. */
  nano: boolean;
}

export const DEFAULT_PRINT_OPTIONS: PrintOptions = {
  e: false,
  q: false,
  v: 0,
  x: 0,
  X: 0,
  A: false,
  t: 0,
  S: false,
  n: false,
  nano: false,
};

/** A packet as the printer takes it (a pcap record, or a live capture's packet). */
export interface PrintPacket {
  tsSec: number;
  /** Fraction of the second in nanoseconds. */
  tsNsec: number;
  origLen: number;
  data: Uint8Array;
}

/** Thrown when a printer needs bytes beyond the capture; caught to print " [|proto]". */
class Trunc {
  constructor(readonly proto: string) {}
}

const ETHERTYPES: Record<number, string> = {
  2048: 'IPv4',
  2054: 'ARP',
  32821: 'Reverse ARP',
  34525: 'IPv6',
  33024: '802.1Q',
  34984: '802.1Q-QinQ',
  34887: 'MPLS unicast',
  34888: 'MPLS multicast',
  36864: 'Loopback',
  35020: 'LLDP',
};

const IPPROTO_NAMES: Record<number, string> = {
  0: 'Options',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'Routing',
  44: 'Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'NONE',
  60: 'DSTOPTS',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
};

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply',
  4: 'source quench',
  8: 'echo request',
  10: 'router solicitation',
  13: 'time stamp request',
  14: 'time stamp reply',
  15: 'information request',
  16: 'information reply',
  17: 'address mask request',
};

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded in-transit',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  132: 'multicast listener done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'multicast listener report v2',
};

/** mldv2report2str (print-icmp6.c), shared by IGMPv3's records. */
const MLDV2_RECORD_TYPES: Record<number, string> = {
  1: 'is_in',
  2: 'is_ex',
  3: 'to_in',
  4: 'to_ex',
  5: 'allow',
  6: 'block',
};

const ICMP6_UNREACH_CODES: Record<number, string> = {
  0: 'unreachable route',
  1: 'unreachable prohibited',
  2: 'beyond scope',
  3: 'unreachable address',
  4: 'unreachable port',
};

/** /etc/protocols names (netbase), as getprotobynumber() gives them. */
const NETDB_PROTOCOLS: Record<number, string> = {
  0: 'ip',
  1: 'icmp',
  2: 'igmp',
  4: 'ipencap',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  103: 'pim',
  112: 'vrrp',
  132: 'sctp',
};

/** A few of netdissect's oui_values. */
const OUI_NAMES: Record<number, string> = { 0: 'Ethernet', 12: 'Cisco', 248: 'Cisco bridged', 524295: 'Apple' };

const SLL_PKTTYPES: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

const TCP_OPTION_NAMES: Record<number, string> = {
  0: 'eol',
  1: 'nop',
  2: 'mss',
  3: 'wscale',
  4: 'sackOK',
  5: 'sack',
  6: 'echo',
  7: 'echoreply',
  8: 'TS',
  11: 'cc',
  12: 'ccnew',
  13: '',
  19: 'md5',
  20: 'scps',
  28: 'uto',
  29: 'tcp-ao',
  30: 'mptcp',
  34: 'tfo',
  254: 'exp',
};

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function mac(b: Uint8Array, off: number, len = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < len; i++) parts.push(hex2(b[off + i] as number));
  return parts.join(':');
}

function ipv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** in_cksum_shouldbe(): the checksum the field should have held, given the computed sum. */
function shouldBe(field: number, computed: number): number {
  let s = field + computed;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The pseudo-header's sum (addresses, upper-layer length, protocol), folded to 16 bits unsigned. */
function pseudoSum(addrs: Uint8Array, len: number, proto: number): number {
  let s = csumPartial(addrs, 0, addrs.byteLength) + (len >>> 16) + (len & 0xffff) + proto;
  s = (s & 0xffff) + Math.floor(s / 0x10000);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** in_cksum over bytes: 0 when the checksum in them is right. */
function inCksum(b: Uint8Array, off: number, len: number, sum = 0): number {
  return csumFold(csumPartial(b, off, len, sum));
}

interface TcpConv {
  seq: number;
  ack: number;
}

/** One "line" of output built up by the printers. */
class Out {
  s = '';
  w(t: string): void {
    this.s += t;
  }
}

/** Bytes of one packet with the captured length as a bound, read big-endian. */
class Bytes {
  readonly v: DataView;
  constructor(
    readonly b: Uint8Array,
    /** One past the last captured byte that printers may read (snapend). */
    public end: number,
  ) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(off: number, n: number, proto: string): void {
    if (off + n > this.end) throw new Trunc(proto);
  }
  u8(off: number, proto: string): number {
    this.need(off, 1, proto);
    return this.b[off] as number;
  }
  u16(off: number, proto: string): number {
    this.need(off, 2, proto);
    return this.v.getUint16(off);
  }
  u32(off: number, proto: string): number {
    this.need(off, 4, proto);
    return this.v.getUint32(off);
  }
}

export class Printer {
  readonly #tcp = new Map<string, TcpConv>();
  #first: [number, number] | undefined;
  #prev: [number, number] | undefined;

  constructor(
    readonly opts: PrintOptions,
    readonly linktype: number,
    /** Names an interface index for `-i any` lines ("?" when unknown). */
    readonly ifName: (ifindex: number) => string = () => '?',
  ) {}

  /**
   * ipaddr_string(): without -n, the name the hosts table gives. lonet's table is the one
   * every Linux host has, 127.0.0.1 localhost; ::1 has no entry on Debian unless added.
   */
  private host4(b: Uint8Array, off: number): string {
    const a = ipv4(b, off);
    return !this.opts.n && a === '127.0.0.1' ? 'localhost' : a;
  }

  /** tcpport_string()/udpport_string(): a service name without -n. */
  private port(p: number, proto: 'tcp' | 'udp'): string {
    if (this.opts.n) return String(p);
    return (proto === 'tcp' ? TCP_SERVICES : UDP_SERVICES).get(p) ?? String(p);
  }

  /** netdb_protoname() from /etc/protocols without -n, else ip-proto-N. */
  private protoName(p: number): string {
    const name = this.opts.n ? undefined : NETDB_PROTOCOLS[p];
    return name ?? `ip-proto-${p}`;
  }

  /** etheraddr_string(): without -n, the OUI's name follows ("Ethernet" for 00:00:00). */
  private mac(b: Uint8Array, off: number): string {
    const m = mac(b, off);
    if (this.opts.n) return m;
    // addrtoname.c's etherlist names the broadcast address.
    if (m === 'ff:ff:ff:ff:ff:ff') return 'Broadcast';
    const oui = ((b[off] as number) << 16) | ((b[off + 1] as number) << 8) | (b[off + 2] as number);
    return `${m} (oui ${OUI_NAMES[oui] ?? 'Unknown'})`;
  }

  /** Everything tcpdump prints for one packet, ending in a newline. */
  print(p: PrintPacket): string {
    // pretty_print_packet() refuses impossible record headers before anything else.
    const caplen0 = p.data.byteLength;
    if (caplen0 === 0 || p.origLen === 0 || caplen0 > p.origLen) {
      const why = [
        caplen0 === 0 ? 'caplen==0' : '',
        p.origLen === 0 ? 'len==0' : '',
        caplen0 > p.origLen ? `caplen>len(${caplen0}>${p.origLen})` : '',
      ].filter((w) => w !== '');
      return `[Invalid header: ${why.join(', ')}]\n`;
    }
    const o = new Out();
    o.w(this.timestamp(p));
    const d = new Bytes(p.data, p.data.byteLength);
    let hdrlen = 0;
    try {
      hdrlen = this.link(o, d, p.origLen);
    } catch (e) {
      if (!(e instanceof Trunc)) throw e;
      o.w(` [|${e.proto}]`);
    }
    const from = this.opts.X > 1 || this.opts.x > 1 ? 0 : hdrlen;
    const caplen = p.data.byteLength;
    if (this.opts.X > 0) {
      if (caplen > from) o.w(hexAndAscii(p.data.subarray(from)));
    } else if (this.opts.x > 0) {
      if (caplen > from) o.w(hexOnly(p.data.subarray(from)));
    } else if (this.opts.A) {
      if (caplen > from) o.w(asciiOnly(p.data.subarray(from)));
    }
    return `${o.s}\n`;
  }

  private timestamp(p: PrintPacket): string {
    // Microseconds unless --nano; deltas kept as [seconds, fraction] so no precision is lost.
    const unit = this.opts.nano ? 1e9 : 1e6;
    const digits = this.opts.nano ? 9 : 6;
    const sub = this.opts.nano ? p.tsNsec : Math.floor(p.tsNsec / 1000);
    const frac = String(sub).padStart(digits, '0');
    const two = (n: number) => String(n).padStart(2, '0');
    const clock = (d: Date) => `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    const delta = (from: [number, number]) => {
      let s = p.tsSec - from[0];
      let f = sub - from[1];
      if (f < 0) {
        f += unit;
        s--;
      }
      return ` ${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${String(f).padStart(digits, '0')} `;
    };
    const now: [number, number] = [p.tsSec, sub];
    switch (this.opts.t) {
      case 1:
        return '';
      case 2:
        return `${p.tsSec}.${frac} `;
      case 3: {
        const prev = this.#prev ?? now;
        this.#prev = now;
        return delta(prev);
      }
      case 4: {
        const d = new Date(p.tsSec * 1000);
        return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(d)}.${frac} `;
      }
      case 5:
        this.#first ??= now;
        return delta(this.#first);
      default:
        return `${clock(new Date(p.tsSec * 1000))}.${frac} `;
    }
  }

  /** The link-layer printer; returns the link header length (for -x/-X/-A). */
  private link(o: Out, d: Bytes, len: number): number {
    switch (this.linktype) {
      case LINKTYPE_ETHERNET:
        return this.ether(o, d, len);
      case LINKTYPE_LINUX_SLL2:
        return this.sll2(o, d, len);
      case LINKTYPE_LINUX_SLL:
        return this.sll(o, d, len);
      case LINKTYPE_RAW: {
        const v = d.u8(0, 'raw') >> 4;
        this.l3(o, d, v === 6 ? 0x86dd : 0x0800, 0, len);
        return 0;
      }
      default:
        o.w(`[|unknown link type ${this.linktype}]`);
        return 0;
    }
  }

  private ether(o: Out, d: Bytes, len: number): number {
    if (d.end < 14) {
      // ether_common_print(): caught here, so -x has nothing after the partial header.
      o.w(' [|ether]');
      return d.end;
    }
    let type = d.v.getUint16(12);
    const known = (t: number) => t === 0x0800 || t === 0x86dd || t === 0x0806 || t === 0x8100;
    const typeText = (t: number) => {
      const name = ETHERTYPES[t];
      const hex = `0x${t.toString(16).padStart(4, '0')}`;
      return this.opts.q ? (name ?? `Unknown Ethertype (${hex})`) : `ethertype ${name ?? 'Unknown'} (${hex})`;
    };
    // Without -e only frames tcpdump cannot decode show their link header.
    if (this.opts.e || !known(type)) {
      o.w(`${this.mac(d.b, 6)} > ${this.mac(d.b, 0)}`);
      o.w(type < 0x0600 ? ', 802.3' : `, ${typeText(type)}`);
      o.w(`, length ${len}: `);
    }
    let hdrlen = 14;
    // 802.1Q tags: "vlan ID, p PRIO[, DEI], " and the inner ethertype, with -e.
    while (type === 0x8100 || type === 0x88a8) {
      const tci = d.u16(hdrlen, 'vlan');
      type = d.u16(hdrlen + 2, 'vlan');
      if (this.opts.e) {
        o.w(`vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ', DEI' : ''}, ${typeText(type)}, `);
      }
      hdrlen += 4;
    }
    if (type === 0x0800 || type === 0x86dd || type === 0x0806) {
      this.l3(o, d, type, hdrlen, len - hdrlen);
    } else if (type >= 0x0600 && !(this.opts.q || this.opts.x || this.opts.X || this.opts.A) && d.end > hdrlen) {
      // ND_DEFAULTPRINT: an undecoded payload in hex and ASCII (not with -q, nor when -x/-X/-A dump it).
      o.w(hexAndAscii(d.b.subarray(hdrlen, d.end)));
    }
    return hdrlen;
  }

  private sll2(o: Out, d: Bytes, len: number): number {
    d.need(0, 20, 'sll2');
    const proto = d.v.getUint16(0);
    const ifindex = d.v.getUint32(4);
    const pkttype = d.b[10] as number;
    const alen = d.b[11] as number;
    o.w(`${this.ifName(ifindex).padEnd(5)} ${(SLL_PKTTYPES[pkttype] ?? '?').padEnd(3)} `);
    if (this.opts.e) {
      o.w(`ifindex ${ifindex} `);
      if (alen > 0) o.w(`${alen === 6 ? this.mac(d.b, 12) : mac(d.b, 12, Math.min(alen, 8))} `);
      o.w(`ethertype ${ETHERTYPES[proto] ?? 'Unknown'} (0x${proto.toString(16).padStart(4, '0')}), length ${len}: `);
    }
    this.l3(o, d, proto, 20, len - 20);
    return 20;
  }

  private sll(o: Out, d: Bytes, len: number): number {
    d.need(0, 16, 'sll');
    const pkttype = d.v.getUint16(0);
    const proto = d.v.getUint16(14);
    if (this.opts.e) {
      const alen = d.v.getUint16(4);
      const dir = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' }[pkttype] ?? `?`;
      o.w(
        `${dir.padStart(3)} ${alen === 6 ? `${this.mac(d.b, 6)} ` : alen > 0 ? `${mac(d.b, 6, Math.min(alen, 8))} ` : ''}`,
      );
      o.w(`ethertype ${ETHERTYPES[proto] ?? 'Unknown'} (0x${proto.toString(16).padStart(4, '0')}), length ${len}: `);
    }
    this.l3(o, d, proto, 16, len - 16);
    return 16;
  }

  private l3(o: Out, d: Bytes, type: number, off: number, len: number): void {
    switch (type) {
      case 0x0800:
        this.ip(o, d, off, len);
        return;
      case 0x86dd:
        this.ip6(o, d, off, len);
        return;
      case 0x0806:
        this.arp(o, d, off, len);
        return;
    }
  }

  private arp(o: Out, d: Bytes, off: number, len: number): void {
    if (!this.opts.e) o.w('ARP, ');
    const hrd = d.u16(off, 'arp');
    const pro = d.u16(off + 2, 'arp');
    const hln = d.u8(off + 4, 'arp');
    const pln = d.u8(off + 5, 'arp');
    const op = d.u16(off + 6, 'arp');
    if (this.opts.v > 0) {
      const hw = hrd === 1 ? 'Ethernet' : hrd === 772 ? 'Loopback' : `Unknown Hardware (${hrd})`;
      const proto = ETHERTYPES[pro] ?? `Unknown Protocol (0x${pro.toString(16).padStart(4, '0')})`;
      o.w(`${hw} (len ${hln}), ${proto} (len ${pln}), `);
    }
    d.need(off + 8, 2 * hln + 2 * pln, 'arp');
    const sha = off + 8;
    const spa = sha + hln;
    const tha = spa + pln;
    const tpa = tha + hln;
    const pa = (at: number) => (pln === 4 ? this.host4(d.b, at) : '?');
    const ha = (at: number) => (hln === 6 ? this.mac(d.b, at) : mac(d.b, at, hln));
    if (op === 1) {
      o.w(`Request who-has ${pa(tpa)}`);
      if (d.b.subarray(tha, tha + hln).some((x) => x !== 0)) o.w(` (${ha(tha)})`);
      o.w(` tell ${pa(spa)}`);
    } else if (op === 2) {
      o.w(`Reply ${pa(spa)} is-at ${ha(sha)}`);
    } else {
      o.w(`arp-#${op}`);
    }
    o.w(`, length ${len}`);
  }

  private ip(o: Out, d: Bytes, off: number, len: number): void {
    // No version byte longjmps out (-x then dumps the whole frame); a cut header is caught
    // in ip_print() itself (-x starts after the link header).
    const b0 = d.u8(off, 'ip');
    const ver = b0 >> 4;
    if (ver !== 4) {
      o.w(ver === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${ver} (invalid)`);
      return;
    }
    if (!this.opts.e) o.w('IP ');
    if (off + 20 > d.end) {
      o.w(' [|ip]');
      return;
    }
    const hlen = (b0 & 0x0f) * 4;
    d.need(off, 20, 'ip');
    if (hlen < 20) {
      o.w(`bad-hlen ${hlen}`);
      return;
    }
    const ipLen = d.v.getUint16(off + 2);
    if (len < ipLen) o.w(`truncated-ip - ${ipLen - len} bytes missing! `);
    if (ipLen < hlen) {
      o.w(`bad-len ${ipLen}`);
      return;
    }
    const frag = d.v.getUint16(off + 6);
    const proto = d.b[off + 9] as number;
    const src = this.host4(d.b, off + 12);
    const dst = this.host4(d.b, off + 16);
    // Past this, the IP header's length is believed; reads stay within what was captured.
    const length = ipLen;
    // The IP length bounds what follows (Ethernet padding is not the packet's).
    const savedEnd = d.end;
    d.end = Math.min(d.end, off + ipLen);
    try {
      if (this.opts.v > 0) {
        const tos = d.b[off + 1] as number;
        o.w(`(tos 0x${tos.toString(16)}`);
        const ecn = tos & 3;
        if (ecn === 1) o.w(',ECT(1)');
        else if (ecn === 2) o.w(',ECT(0)');
        else if (ecn === 3) o.w(',CE');
        const ttl = d.b[off + 8] as number;
        if (ttl !== 0) o.w(`, ttl ${ttl}`);
        const flags: string[] = [];
        if (frag & 0x2000) flags.push('+');
        if (frag & 0x4000) flags.push('DF');
        if (frag & 0x8000) flags.push('rsvd');
        o.w(
          `, id ${d.v.getUint16(off + 4)}, offset ${(frag & 0x1fff) * 8}, flags [${flags.length ? flags.join(', ') : 'none'}]`,
        );
        o.w(`, proto ${IPPROTO_NAMES[proto] ?? 'unknown'} (${proto}), length ${ipLen}`);
        if (hlen > 20) o.w(`, options (${ipOptions(d.b, off + 20, hlen - 20)})`);
        if (off + hlen <= d.end) {
          const sum = inCksum(d.b, off, hlen);
          if (sum !== 0) {
            const field = d.v.getUint16(off + 10);
            o.w(`, bad cksum ${field.toString(16)} (->${shouldBe(field, sum).toString(16)})!`);
          }
        }
        o.w(')\n    ');
      }
      const payload = length - hlen;
      if ((frag & 0x1fff) === 0) {
        const fragmented = (frag & 0x2000) !== 0;
        const l4 = off + hlen;
        const pseudo = (ulen: number) => pseudoSum(d.b.subarray(off + 12, off + 20), ulen, proto);
        switch (proto) {
          case 6:
            this.tcp(o, d, l4, payload, src, dst, fragmented, 4, pseudo, d.b.subarray(off + 12, off + 20));
            return;
          case 17:
            this.udp(o, d, l4, payload, src, dst, fragmented, 4, pseudo);
            return;
          case 1:
            o.w(`${src} > ${dst}: `);
            this.icmp(o, d, l4, payload, fragmented);
            return;
          case 2:
            if (d.end >= l4 + 8 && d.b[l4] === 0x22) {
              o.w(`${src} > ${dst}: `);
              this.igmpv3Report(o, d, l4, payload);
              return;
            }
            o.w(`${src} > ${dst}:  ${this.protoName(proto)} ${payload}`);
            return;
          default:
            // ip_demux_print() puts its own space before the name.
            o.w(`${src} > ${dst}:  ${this.protoName(proto)} ${payload}`);
            return;
        }
      }
      // A later fragment: no transport header to show, only the protocol.
      o.w(`${src} > ${dst}: ${this.protoName(proto)}`);
    } finally {
      d.end = savedEnd;
    }
  }

  private ip6(o: Out, d: Bytes, off: number, len: number): void {
    // A cut IPv6 header is caught in ip6_print() (-x starts after the link header).
    if (off + 40 > d.end) {
      o.w(' [|ip6]');
      return;
    }
    if (!this.opts.e) o.w('IP6 ');
    const flow = d.v.getUint32(off);
    if (flow >>> 28 !== 6) {
      o.w(`version error: ${flow >>> 28} != 6`);
      return;
    }
    const plen = d.v.getUint16(off + 4);
    let nh = d.b[off + 6] as number;
    const hlim = d.b[off + 7] as number;
    const src = formatIpv6(d.b.subarray(off + 8, off + 24));
    const dst = formatIpv6(d.b.subarray(off + 24, off + 40));
    if (len < 40 + plen) o.w(`truncated-ip6 - ${40 + plen - len} bytes missing!`);
    if (this.opts.v > 0) {
      o.w('(');
      if (flow & 0x0ff00000) o.w(`class 0x${hex2((flow >>> 20) & 0xff)}, `);
      if (flow & 0x000fffff) o.w(`flowlabel 0x${(flow & 0xfffff).toString(16).padStart(5, '0')}, `);
      o.w(`hlim ${hlim}, next-header ${IPPROTO_NAMES[nh] ?? 'unknown'} (${nh}) payload length: ${plen}) `);
    }
    const savedEnd = d.end;
    d.end = Math.min(d.end, off + 40 + plen);
    try {
      let at = off + 40;
      let left = plen;
      let fragmented = false;
      // Extension headers this printer knows: hop-by-hop, destination options, routing,
      // fragment. The addresses come first when one is present, as ip6_print does.
      let addrs = false;
      const printAddrs = () => {
        if (!addrs) o.w(`${src} > ${dst}: `);
        addrs = true;
      };
      for (;;) {
        if (nh === 0 || nh === 60 || nh === 43) {
          printAddrs();
          const next = d.u8(at, 'ip6');
          const hl = (d.u8(at + 1, 'ip6') + 1) * 8;
          o.w(nh === 0 ? 'HBH ' : nh === 60 ? 'DSTOPT ' : 'srcrt ');
          if (this.opts.v > 0 && nh !== 43) this.ip6Opts(o, d, at + 2, at + hl);
          nh = next;
          at += hl;
          left -= hl;
          continue;
        }
        if (nh === 44) {
          printAddrs();
          const next = d.u8(at, 'frag6');
          const offm = d.u16(at + 2, 'frag6');
          const fragLen = left - 8;
          if (this.opts.v > 0) {
            const id = d.u32(at + 4, 'frag6');
            o.w(`frag (0x${id.toString(16).padStart(8, '0')}:${offm & 0xfff8}|${fragLen})`);
          } else o.w(`frag (${offm & 0xfff8}|${fragLen})`);
          nh = next;
          at += 8;
          left -= 8;
          // A later fragment has no upper-layer header to print.
          if ((offm & 0xfff8) !== 0) return;
          o.w(' ');
          // Nothing captured past the fragment header: ip6_print() stops quietly.
          if (d.end <= at) return;
          fragmented = true;
          continue;
        }
        break;
      }
      const pseudo = (ulen: number) => pseudoSum(d.b.subarray(off + 8, off + 40), ulen, nh);
      switch (nh) {
        case 6:
          this.tcp(o, d, at, left, src, dst, fragmented, plen === 0 ? 0 : 6, pseudo, d.b.subarray(off + 8, off + 40));
          return;
        case 17:
          this.udp(o, d, at, left, src, dst, fragmented, 6, pseudo);
          return;
        case 58:
          printAddrs();
          this.icmp6(o, d, at, left, fragmented, pseudo);
          return;
        case 59:
          printAddrs();
          return;
        default:
          printAddrs();
          o.w(` ${this.protoName(nh)} ${left}`);
      }
    } finally {
      d.end = savedEnd;
    }
  }

  /** print_igmpv3_report() (print-igmp.c): the group records with -v, their sources with -vv. */
  private igmpv3Report(o: Out, d: Bytes, off: number, len: number): void {
    o.w('igmp v3 report');
    const ngroups = d.u16(off + 6, 'igmp');
    o.w(`, ${ngroups} group record(s)`);
    if (this.opts.v > 0) {
      let g = 8;
      for (let i = 0; i < ngroups; i++) {
        const rtype = d.u8(off + g, 'igmp');
        o.w(` [gaddr ${this.host4(d.b, off + g + 4)} ${MLDV2_RECORD_TYPES[rtype] ?? `[v3-report-#${rtype}]`}`);
        const nsrcs = d.u16(off + g + 2, 'igmp');
        if (this.opts.v === 1) o.w(`, ${nsrcs} source(s)`);
        else {
          o.w(' {');
          for (let j = 0; j < nsrcs; j++) {
            d.need(off + g + 8 + j * 4, 4, 'igmp');
            o.w(` ${this.host4(d.b, off + g + 8 + j * 4)}`);
          }
          o.w(' }');
        }
        g += 8 + nsrcs * 4;
        o.w(']');
      }
      if (off + len <= d.end && inCksum(d.b, off, len, 0) !== 0)
        o.w(` bad igmp cksum ${hex4(d.u16(off + 2, 'igmp'))}!`);
    }
  }

  /** ip6_opt_print(): the TLV options of a hop-by-hop or destination options header (-v). */
  private ip6Opts(o: Out, d: Bytes, at: number, end: number): void {
    while (at < end) {
      const type = d.u8(at, 'ip6');
      if (type === 0) {
        o.w('(pad1)');
        at++;
        continue;
      }
      const len = d.u8(at + 1, 'ip6');
      if (type === 1) o.w('(padn)');
      else if (type === 5 && len === 2) o.w(`(rtalert: 0x${hex4(d.u16(at + 2, 'ip6'))}) `);
      else if (type === 0xc2 && len === 4) o.w(`(jumbo: ${d.u32(at + 2, 'ip6')}) `);
      else o.w(`(opt_type 0x${hex2(type)}: len=${len})`);
      at += 2 + len;
    }
    o.w(' ');
  }

  private icmp(o: Out, d: Bytes, off: number, len: number, fragmented: boolean): void {
    const type = d.u8(off, 'icmp');
    const code = d.u8(off + 1, 'icmp');
    let str: string;
    const quoted = off + 8;
    const qDst = () => {
      d.need(quoted, 20, 'icmp');
      return this.host4(d.b, quoted + 16);
    };
    switch (type) {
      case 0:
      case 8:
        str = `echo ${type === 8 ? 'request' : 'reply'}, id ${d.u16(off + 4, 'icmp')}, seq ${d.u16(off + 6, 'icmp')}`;
        break;
      case 3: {
        // Protocol and port unreachable first ND_TCHECK the quoted protocol byte: a quote cut
        // before it is caught here (-x then starts after the link header); later reads longjmp.
        if ((code === 2 || code === 3) && quoted + 10 > d.end) {
          o.w(' [|icmp]');
          return;
        }
        switch (code) {
          case 0:
            str = `net ${qDst()} unreachable`;
            break;
          case 1:
            str = `host ${qDst()} unreachable`;
            break;
          case 2:
            str = `${qDst()} protocol ${d.u8(quoted + 9, 'icmp')} unreachable`;
            break;
          case 3: {
            const dstA = qDst();
            const p = d.b[quoted + 9] as number;
            const qhl = ((d.b[quoted] as number) & 0x0f) * 4;
            const port = d.u16(quoted + qhl + 2, 'icmp');
            str =
              p === 6
                ? `${dstA} tcp port ${this.port(port, 'tcp')} unreachable`
                : p === 17
                  ? `${dstA} udp port ${this.port(port, 'udp')} unreachable`
                  : `${dstA} protocol ${p} port ${port} unreachable`;
            break;
          }
          case 4: {
            const mtu = d.u16(off + 6, 'icmp');
            str = mtu ? `${qDst()} unreachable - need to frag (mtu ${mtu})` : `${qDst()} unreachable - need to frag`;
            break;
          }
          default:
            str = `${qDst()} unreachable - #${code}`;
        }
        break;
      }
      case 11:
        str =
          code === 1
            ? 'ip reassembly time exceeded'
            : code === 0
              ? 'time exceeded in-transit'
              : `time exceeded-#${code}`;
        break;
      case 12:
        str = code === 0 ? `parameter problem - octet ${d.u8(off + 4, 'icmp')}` : `parameter problem code ${code}`;
        break;
      default:
        str = ICMP_TYPES[type] ?? `type-#${type}`;
    }
    o.w(`ICMP ${str}, length ${len}`);
    if (this.opts.v > 0 && !fragmented && off + len <= d.end) {
      const sum = inCksum(d.b, off, len);
      if (sum !== 0) {
        const field = d.v.getUint16(off + 2);
        o.w(` (wrong icmp cksum ${field.toString(16)} (->${shouldBe(field, sum).toString(16)})!)`);
      }
    }
    if (this.opts.v > 0 && (type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) {
      o.w('\n\t');
      const ipLen = d.u16(quoted + 2, 'icmp');
      const savedEnd = d.end;
      d.end = Math.min(d.end, quoted + ipLen);
      try {
        this.ip(o, d, quoted, ipLen);
      } finally {
        d.end = savedEnd;
      }
    }
  }

  private icmp6(o: Out, d: Bytes, off: number, len: number, fragmented: boolean, pseudo: (l: number) => number): void {
    const type = d.u8(off, 'icmp6');
    if (this.opts.v > 0 && !fragmented && off + len <= d.end) {
      const sum = inCksum(d.b, off, len, pseudo(len));
      const field = d.v.getUint16(off + 2);
      if (sum !== 0)
        o.w(
          `[bad icmp6 cksum 0x${field.toString(16).padStart(4, '0')} -> 0x${shouldBe(field, sum).toString(16).padStart(4, '0')}!] `,
        );
      else o.w('[icmp6 sum ok] ');
    }
    o.w(`ICMP6, ${ICMP6_TYPES[type] ?? `unknown icmp6 type (${type})`}`);
    const code = d.u8(off + 1, 'icmp6');
    if (this.opts.v > 0 && type >= 133 && type <= 137) o.w(`, length ${len}`);
    const q = off + 8;
    const qDst = () => {
      d.need(q, 40, 'icmp6');
      return formatIpv6(d.b.subarray(q + 24, q + 40));
    };
    switch (type) {
      case 1: {
        o.w(`, ${ICMP6_UNREACH_CODES[code] ?? `unknown unreach code (${code})`}`);
        if (code === 0 || code === 1 || code === 3) o.w(` ${qDst()}`);
        else if (code === 2) o.w(` ${qDst()}, source address ${formatIpv6(d.b.subarray(q + 8, q + 24))}`);
        else if (code === 4) {
          // get_upperlayer() finds only a captured TCP or UDP header right after the quoted
          // IPv6 one; without it icmp6_print() goes to its trunc label (caught, not a longjmp).
          const p = q + 40 <= d.end ? (d.b[q + 6] as number) : -1;
          if ((p !== 6 && p !== 17) || q + 44 > d.end) {
            o.w(' [|icmp6]');
            return;
          }
          const dstA = qDst();
          const port = d.u16(q + 40 + 2, 'icmp6');
          o.w(`, ${dstA} ${p === 6 ? 'tcp' : 'udp'} port ${this.port(port, p === 6 ? 'tcp' : 'udp')}`);
        }
        break;
      }
      case 2:
        o.w(`, mtu ${d.u32(off + 4, 'icmp6')}`);
        break;
      case 3: {
        if (code === 0) o.w(` for ${qDst()}`);
        else if (code === 1) o.w(' (reassembly)');
        else o.w(`, unknown code (${code})`);
        break;
      }
      case 4: {
        const ptr = d.u32(off + 4, 'icmp6');
        const what = ['erroneous', 'next header', 'option', 'incomplete header chain'][code];
        o.w(what === undefined ? `, code-#${code}` : `, ${what} - octet ${ptr}`);
        break;
      }
      case 128:
      case 129:
        o.w(`, id ${d.u16(off + 4, 'icmp6')}, seq ${d.u16(off + 6, 'icmp6')}`);
        break;
      case 143: {
        // mldv2_report_print(): the group records with -v, their sources with -vv.
        const ngroups = d.u16(off + 6, 'icmp6');
        o.w(`, ${ngroups} group record(s)`);
        if (this.opts.v === 0) break;
        let g = 8;
        for (let i = 0; i < ngroups; i++) {
          if (len < g + 20) {
            o.w(' [invalid number of groups]');
            return;
          }
          const rtype = d.u8(off + g, 'icmp6');
          d.need(off + g + 4, 16, 'icmp6');
          o.w(` [gaddr ${formatIpv6(d.b.subarray(off + g + 4, off + g + 20))}`);
          o.w(` ${MLDV2_RECORD_TYPES[rtype] ?? ` [v2-report-#${rtype}]`}`);
          const nsrcs = d.u16(off + g + 2, 'icmp6');
          if (len < g + 20 + nsrcs * 16) {
            o.w(` [invalid number of sources ${nsrcs}]`);
            return;
          }
          if (this.opts.v === 1) o.w(`, ${nsrcs} source(s)`);
          else {
            o.w(' {');
            for (let j = 0; j < nsrcs; j++) {
              d.need(off + g + 20 + j * 16, 16, 'icmp6');
              o.w(` ${formatIpv6(d.b.subarray(off + g + 20 + j * 16, off + g + 36 + j * 16))}`);
            }
            o.w(' }');
          }
          g += 20 + nsrcs * 16;
          o.w(']');
        }
        return;
      }
      case 135:
      case 136:
        // nd_ns_target / nd_na_target (the options are decoded only with -v, not here).
        d.need(off + 8, 16, 'icmp6');
        o.w(`, ${type === 135 ? 'who has' : 'tgt is'} ${formatIpv6(d.b.subarray(off + 8, off + 24))}`);
        break;
      default:
        if (ICMP6_TYPES[type] === undefined) {
          // print_unknown_data(): the message in hex, unless -vv.
          o.w(`, length ${len}`);
          if (this.opts.v <= 1) o.w(hexOnly(d.b.subarray(off, Math.min(off + len, d.end))));
          return;
        }
    }
    if (this.opts.v === 0) o.w(`, length ${len}`);
  }

  private udp(
    o: Out,
    d: Bytes,
    off: number,
    len: number,
    src: string,
    dst: string,
    fragmented: boolean,
    ipv: number,
    pseudo: (l: number) => number,
  ): void {
    if (off + 4 > d.end) {
      // No ports: caught in udp_print() (-x starts after the link header).
      o.w(`${src} > ${dst}:  [|udp]`);
      return;
    }
    const sport = d.v.getUint16(off);
    const dport = d.v.getUint16(off + 2);
    const addrs = `${src}.${this.port(sport, 'udp')} > ${dst}.${this.port(dport, 'udp')}: `;
    if (off + 8 > d.end) {
      o.w(`${addrs} [|udp]`);
      return;
    }
    let ulen = d.v.getUint16(off + 4);
    if (ulen === 0 && len > 65535) ulen = len;
    if (ulen < 8) {
      o.w(`${addrs}truncated-udplength ${ulen}`);
      return;
    }
    // The shorter of the UDP and IP lengths is the datagram; a longer UDP length is "bad".
    const length = Math.min(ulen, len) - 8;
    o.w(addrs);
    if (this.opts.v > 0 && !fragmented && ((ipv === 4 && this.opts.v > 1) || ipv === 6)) {
      const field = d.v.getUint16(off + 6);
      if (ipv === 4 && field === 0) o.w('[no cksum] ');
      else if (off + length + 8 <= d.end) {
        const sum = inCksum(d.b, off, length + 8, pseudo(length + 8));
        if (sum !== 0) {
          o.w(
            `[bad udp cksum 0x${field.toString(16).padStart(4, '0')} -> 0x${shouldBe(field, sum).toString(16).padStart(4, '0')}!] `,
          );
        } else o.w('[udp sum ok] ');
      }
    }
    if (ulen > len) o.w(`UDP, bad length ${ulen - 8} > ${len - 8}`);
    else if (!this.opts.q && (sport === 53 || dport === 53)) new DnsPrinter(o, d, off + 8, length, this.opts.v).print();
    else o.w(`UDP, length ${length}`);
  }

  /**
   * txtproto_print() for HTTP: a request or status line makes the payload printable: its
   * first line (or, with -v, its length and every line); anything else is just "HTTP".
   */
  private http(o: Out, d: Bytes, at: number, len: number): void {
    let printThis = false;
    const first = fetchToken(d, at, 0, len);
    if (first.idx !== 0) {
      if (HTTP_METHODS.has(first.tok.toUpperCase())) printThis = true;
      // The status code is the second token ("HTTP/1.1 200 OK").
      const second = fetchToken(d, at, first.idx, len);
      if (second.idx !== 0 && /^\d{3}$/.test(second.tok)) printThis = true;
    }
    o.w('HTTP');
    if (!printThis) return;
    if (this.opts.v > 0) {
      o.w(`, length: ${len}`);
      for (let idx = 0; idx < len; ) {
        const eol = printTxtLine(o, d, '\n\t', at, idx, len);
        if (eol === 0) break;
        idx = eol;
      }
    } else printTxtLine(o, d, ': ', at, 0, len);
  }

  private tcp(
    o: Out,
    d: Bytes,
    off: number,
    len: number,
    src: string,
    dst: string,
    fragmented: boolean,
    ipv: number,
    pseudo: (l: number) => number,
    addrBytes: Uint8Array,
  ): void {
    if (off + 4 > d.end) {
      // No ports: caught in tcp_print() (-x starts after the link header).
      o.w(`${src} > ${dst}: [|tcp]`);
      return;
    }
    const sport = d.v.getUint16(off);
    const dport = d.v.getUint16(off + 2);
    o.w(`${src}.${this.port(sport, 'tcp')} > ${dst}.${this.port(dport, 'tcp')}: `);
    // A cut header is caught in tcp_print() (ND_TCHECK_SIZE, not a longjmp).
    if (off + 20 > d.end) {
      o.w(' [|tcp]');
      return;
    }
    const hlen = ((d.b[off + 12] as number) >> 4) * 4;
    if (hlen < 20) {
      o.w(` tcp ${len - hlen} [bad hdr length ${hlen} - too short, < 20]`);
      return;
    }
    let seq = d.v.getUint32(off + 4);
    let ack = d.v.getUint32(off + 8);
    const flags = d.b[off + 13] as number;
    const win = d.v.getUint16(off + 14);
    const urp = d.v.getUint16(off + 18);
    if (this.opts.q) {
      o.w(`tcp ${len - hlen}`);
      if (hlen > len) o.w(` [bad hdr length ${hlen} - too long, > ${len}]`);
      return;
    }
    const names: [number, string][] = [
      [0x01, 'F'],
      [0x02, 'S'],
      [0x04, 'R'],
      [0x08, 'P'],
      [0x10, '.'],
      [0x20, 'U'],
      [0x40, 'E'],
      [0x80, 'W'],
    ];
    const fl = names.filter(([bit]) => flags & bit).map(([, n]) => n);
    o.w(`Flags [${fl.length ? fl.join('') : 'none'}]`);
    let thseq = 0;
    let thack = 0;
    let rev = false;
    if (!this.opts.S && flags & 0x10) {
      // One entry per conversation, keyed in a fixed order of the two ends.
      const half = addrBytes.byteLength / 2;
      const a = addrBytes.subarray(0, half);
      const b = addrBytes.subarray(half);
      rev = sport > dport || (sport === dport && compareBytes(a, b) > 0);
      const key = rev ? `${hexKey(b)}|${hexKey(a)}|${dport}|${sport}` : `${hexKey(a)}|${hexKey(b)}|${sport}|${dport}`;
      const th = this.#tcp.get(key);
      if (th === undefined || flags & 0x02) {
        const conv = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
        this.#tcp.set(key, conv);
        thseq = conv.seq;
        thack = conv.ack;
      } else {
        if (rev) {
          seq = (seq - th.ack) >>> 0;
          ack = (ack - th.seq) >>> 0;
        } else {
          seq = (seq - th.seq) >>> 0;
          ack = (ack - th.ack) >>> 0;
        }
        thseq = th.seq;
        thack = th.ack;
      }
    }
    if (hlen > len) {
      o.w(` [bad hdr length ${hlen} - too long, > ${len}]`);
      return;
    }
    if (this.opts.v > 0 && !fragmented && ipv !== 0 && off + len <= d.end) {
      const field = d.v.getUint16(off + 16);
      const sum = inCksum(d.b, off, len, pseudo(len));
      o.w(`, cksum 0x${field.toString(16).padStart(4, '0')}`);
      if (sum !== 0) o.w(` (incorrect -> 0x${shouldBe(field, sum).toString(16).padStart(4, '0')})`);
      else o.w(' (correct)');
    }
    const length = len - hlen;
    if (this.opts.v > 1 || length > 0 || flags & 0x07) {
      o.w(`, seq ${seq}`);
      if (length > 0) o.w(`:${(seq + length) >>> 0}`);
    }
    if (flags & 0x10) o.w(`, ack ${ack}`);
    o.w(`, win ${win}`);
    if (flags & 0x20) o.w(`, urg ${urp}`);
    if (hlen > 20) {
      const opts = tcpOptions(d, off + 20, hlen - 20, rev, thseq, thack);
      o.w(`, options [${opts.s}`);
      // A GET_U_1() past the capture longjmps out of the whole packet (then -x dumps it all).
      if (opts.longjmp === true) throw new Trunc('tcp');
      if (opts.stop) return;
      o.w(']');
    }
    o.w(`, length ${length}`);
    if (length > 0 && !(flags & 0x04) && [80, 8080].some((p) => p === sport || p === dport)) {
      o.w(': ');
      this.http(o, d, off + hlen, length);
      return;
    }
    if (flags & 0x04 && this.opts.v > 0 && length > 0) {
      // print_tcp_rst_data(): RFC 1122 lets a RST carry text; up to 30 bytes of it.
      const from = off + hlen;
      const n = Math.min(length, 30);
      o.w(` [RST${length > 30 ? '+' : ''} `);
      for (let i = 0; i < n; i++) {
        if (from + i >= d.end) throw new Trunc('tcp');
        o.w(printableChar(d.b[from + i] as number));
      }
      o.w(']');
    }
  }
}

const DNS_TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  41: 'OPT',
  64: 'SVCB',
  65: 'HTTPS',
  252: 'AXFR',
  255: 'ANY',
};
const DNS_CLASSES: Record<number, string> = { 3: 'CHAOS', 4: 'HESIOD', 254: 'NONE', 255: 'ANY' };
const DNS_RCODES = [
  '',
  ' FormErr',
  ' ServFail',
  ' NXDomain',
  ' NotImp',
  ' Refused',
  ' YXDomain',
  ' YXRRSet',
  ' NXRRSet',
  ' NotAuth',
  ' NotZone',
];
const DNS_OPS = [
  '',
  ' inv_q',
  ' stat',
  ' op3',
  ' notify',
  ' update',
  ' op6',
  ' op7',
  ' op8',
  ' updateA',
  ' updateD',
  ' updateDA',
  ' updateM',
  ' updateMA',
  ' zoneInit',
  ' zoneRef',
];

/**
 * ns_print() for UDP port 53: id and flags, the question, the counts and answers (with
 * their owner names under -v; the question, authority and additional sections under -vv),
 * then the length. Names past the capture end the line with " [|domain]".
 */
class DnsPrinter {
  constructor(
    readonly o: Out,
    readonly d: Bytes,
    /** Start of the DNS message. */
    readonly at: number,
    readonly len: number,
    readonly v: number,
  ) {}

  /** ns_print()'s truncations go to its own label: caught here, so -x starts after the link header. */
  print(): void {
    try {
      this.message();
    } catch (e) {
      if (!(e instanceof Trunc)) throw e;
      this.o.w(' [|domain]');
    }
  }

  private message(): void {
    const { o, d, at } = this;
    // A cut header is caught in ns_print() (-x then starts after the link header).
    if (at + 12 > d.end) {
      o.w(' [|domain]');
      return;
    }
    const id = d.u16(at, 'domain');
    const b2 = d.u16(at + 2, 'domain');
    const qd = d.u16(at + 4, 'domain');
    const an = d.u16(at + 6, 'domain');
    const ns = d.u16(at + 8, 'domain');
    const ar = d.u16(at + 10, 'domain');
    const op = DNS_OPS[(b2 >> 11) & 0xf] as string;
    let cp = at + 12;
    if (b2 & 0x8000) {
      const rcode = b2 & 0xf;
      o.w(`${id}${op}${DNS_RCODES[rcode] ?? ` Resp${rcode}`}${b2 & 0x0400 ? '*' : ''}${b2 & 0x0080 ? '' : '-'}`);
      o.w(`${b2 & 0x0200 ? '|' : ''}${b2 & 0x0020 ? '$' : ''}`);
      if (qd !== 1) o.w(` [${qd}q]`);
      for (let i = 0; i < qd; i++) {
        if (this.v > 1) {
          o.w(i !== 0 ? ', q:' : ' q:');
          cp = this.question(cp);
        } else cp = this.skipName(cp) + 4;
      }
      o.w(` ${an}/${ns}/${ar}`);
      cp = this.records(cp, an, '');
      if (this.v > 1) {
        if (ns > 0) cp = this.records(cp, ns, ' ns:');
        if (ar > 0) cp = this.records(cp, ar, ' ar:');
      }
    } else {
      o.w(`${id}${op}${b2 & 0x0100 ? '+' : ''}${b2 & 0x0010 ? '%' : ''}`);
      if (b2 & 0x6cf) o.w(` [b2&3=0x${b2.toString(16)}]`);
      if (qd !== 1) o.w(` [${qd}q]`);
      if (an) o.w(` [${an}a]`);
      if (ns) o.w(` [${ns}n]`);
      if (ar) o.w(` [${ar}au]`);
      for (let i = 0; i < qd; i++) cp = this.question(cp);
      if (this.v > 1) {
        if (an > 0) cp = this.records(cp, an, ' an:');
        if (ns > 0) cp = this.records(cp, ns, ' ns:');
        if (ar > 0) cp = this.records(cp, ar, ' ar:');
      }
    }
    o.w(` (${this.len})`);
  }

  /** A domain name at `cp` (following compression pointers); returns it and where it ends. */
  private name(cp: number): { text: string; end: number } {
    const { d, at } = this;
    let text = '';
    let end = -1;
    let hops = 0;
    for (;;) {
      const l = d.u8(cp, 'domain');
      if ((l & 0xc0) === 0xc0) {
        const ptr = ((l & 0x3f) << 8) | d.u8(cp + 1, 'domain');
        if (end < 0) end = cp + 2;
        if (++hops > 64) throw new Trunc('domain');
        cp = at + ptr;
        continue;
      }
      if (l === 0) {
        if (end < 0) end = cp + 1;
        return { text: text === '' ? '.' : text, end };
      }
      d.need(cp + 1, l, 'domain');
      for (let i = 0; i < l; i++) text += printableChar(d.b[cp + 1 + i] as number);
      text += '.';
      cp += l + 1;
    }
  }

  private skipName(cp: number): number {
    return this.name(cp).end;
  }

  /** ns_qprint(): " TYPE? name." */
  private question(cp: number): number {
    const n = this.name(cp);
    const type = this.d.u16(n.end, 'domain');
    const klass = this.d.u16(n.end + 2, 'domain');
    const cls = klass === 1 ? '' : ` ${DNS_CLASSES[klass] ?? `(Class ${klass})`}`;
    this.o.w(` ${DNS_TYPES[type] ?? `Type${type}`}${cls}? ${n.text}`);
    return n.end + 4;
  }

  /**
   * A section's records, comma-separated, after `label`. Past the capture the loop stops;
   * records still owed then end the line with " [|domain]", as ns_print's trunc label does.
   */
  private records(cp: number, count: number, label: string): number {
    if (count === 0) return cp;
    // The -vv sections start only where there is something left to read.
    if (label !== '' && cp >= this.d.end) throw new Trunc('domain');
    this.o.w(label);
    cp = this.record(cp);
    let left = count - 1;
    while (cp < this.d.end && left > 0) {
      left--;
      this.o.w(',');
      cp = this.record(cp);
    }
    if (left > 0) throw new Trunc('domain');
    return cp;
  }

  /** ns_rprint(): " [name. ]TYPE data". */
  private record(cp: number): number {
    const { o, d } = this;
    let n: { text: string; end: number };
    if (this.v > 0) {
      // The owner name is printed as read: a cut one ends the line.
      o.w(' ');
      n = this.name(cp);
      o.w(n.text);
    } else {
      try {
        n = this.name(cp);
      } catch (e) {
        if (!(e instanceof Trunc)) throw e;
        return d.end;
      }
    }
    // Without the fixed part, ns_rprint() gives up quietly (returns snapend).
    if (n.end + 10 > d.end) return d.end;
    const type = d.u16(n.end, 'domain');
    const klass = d.u16(n.end + 2, 'domain');
    const rdlen = d.u16(n.end + 8, 'domain');
    const rd = n.end + 10;
    if (type !== 41 && klass !== 1) o.w(` ${DNS_CLASSES[klass] ?? `(Class ${klass})`}`);
    o.w(` ${DNS_TYPES[type] ?? `Type${type}`}`);
    // The whole RDATA must be there before any of it is printed.
    d.need(rd, rdlen, 'domain');
    switch (type) {
      case 1:
        d.need(rd, 4, 'domain');
        o.w(` ${ipv4(d.b, rd)}`);
        break;
      case 28:
        d.need(rd, 16, 'domain');
        o.w(` ${formatIpv6(d.b.subarray(rd, rd + 16))}`);
        break;
      case 2:
      case 5:
      case 12:
        o.w(` ${this.name(rd).text}`);
        break;
      case 15:
        o.w(` ${this.name(rd + 2).text} ${d.u16(rd, 'domain')}`);
        break;
      case 16: {
        for (let p = rd; p < rd + rdlen; ) {
          const l = d.u8(p, 'domain');
          d.need(p + 1, l, 'domain');
          o.w(` "${latin1(d.b, p + 1, l)}"`);
          p += l + 1;
        }
        break;
      }
      case 6:
        if (this.v > 0) {
          const m = this.name(rd);
          const r = this.name(m.end);
          const nums = [0, 4, 8, 12, 16].map((k) => d.u32(r.end + k, 'domain'));
          o.w(` ${m.text} ${r.text} ${nums.join(' ')}`);
        }
        break;
      case 41:
        o.w(` UDPsize=${klass}`);
        break;
    }
    return rd + rdlen;
  }
}

/** HTTP request methods txtproto_print() recognises (print-http.c's httpcmds). */
const HTTP_METHODS = new Set(
  'GET PUT COPY HEAD LOCK MOVE POLL POST BCOPY BMOVE MKCOL TRACE LABEL MERGE DELETE SEARCH UNLOCK REPORT UPDATE NOTIFY BDELETE CONNECT OPTIONS CHECKIN PROPFIND CHECKOUT CCM_POST SUBSCRIBE PROPPATCH BPROPFIND BPROPPATCH UNCHECKOUT MKACTIVITY MKWORKSPACE UNSUBSCRIBE RPC_CONNECT VERSION-CONTROL BASELINE-CONTROL'.split(
    ' ',
  ),
);

const isPrint = (c: number) => c >= 0x20 && c < 0x7f;

/** fetch_token(): the next token and where the following one starts, or 0 for none. */
function fetchToken(d: Bytes, at: number, idx: number, len: number): { tok: string; idx: number } {
  let tok = '';
  for (; idx < len; idx++) {
    if (at + idx >= d.end) return { tok: '', idx: 0 };
    const c = d.b[at + idx] as number;
    if (c >= 0x80) return { tok: '', idx: 0 };
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    if (!isPrint(c) || tok.length + 2 > 129) return { tok: '', idx: 0 };
    tok += String.fromCharCode(c);
  }
  if (tok === '') return { tok: '', idx: 0 };
  for (; idx < len; idx++) {
    if (at + idx >= d.end) break;
    const c = d.b[at + idx] as number;
    if (c === 0x0d || c === 0x0a || !isPrint(c) || (c !== 0x20 && c !== 0x09)) break;
  }
  return { tok, idx };
}

/** print_txt_line(): one CRLF- or LF-ended printable line after `prefix`; 0 ends printing. */
function printTxtLine(o: Out, d: Bytes, prefix: string, at: number, idx: number, len: number): number {
  const start = idx;
  while (idx < len) {
    const c = d.u8(at + idx, 'http');
    if (c === 0x0a) {
      o.w(prefix + latin1(d.b, at + start, idx - start));
      return idx + 1;
    }
    if (c === 0x0d) {
      if (idx + 1 >= len) return 0;
      if (d.u8(at + idx + 1, 'http') === 0x0a) {
        o.w(prefix + latin1(d.b, at + start, idx - start));
        return idx + 2;
      }
      return 0;
    }
    if (!isPrint(c) && c !== 0x09) return 0;
    idx++;
  }
  // Printable to the end with no line ending: shown as cut short.
  o.w(`${prefix}${latin1(d.b, at + start, idx - start)} [|http]`);
  return 0;
}

function latin1(b: Uint8Array, from: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[from + i] as number);
  return s;
}

/** fn_print_char(): high bytes as "M-", controls as "^X". */
function printableChar(c: number): string {
  let s = '';
  if (c & 0x80) {
    s = 'M-';
    c &= 0x7f;
  }
  return c >= 0x20 && c < 0x7f ? s + String.fromCharCode(c) : `${s}^${String.fromCharCode(c ^ 0x40)}`;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.byteLength; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x - y;
  }
  return 0;
}

function hexKey(a: Uint8Array): string {
  let s = '';
  for (const x of a) s += hex2(x);
  return s;
}

/**
 * The option list after ", options [". `stop` is set when tcpdump gives up on the segment
 * there: a bad option ("[bad opt]", then "]" unless it was the first) or bytes beyond the
 * capture (" [|tcp]", with ">" when a later option's data was cut; `longjmp` when an
 * option's kind or length byte itself is missing); nothing follows then.
 */
function tcpOptions(
  d: Bytes,
  at: number,
  hlen: number,
  rev: boolean,
  thseq: number,
  thack: number,
): { s: string; stop: boolean; longjmp?: boolean } {
  let out = '';
  let ch = '';
  let cp = at;
  let left = hlen;
  const bad = () => ({ s: `${out}[bad opt]${ch !== '' ? ']' : ''}`, stop: true });
  while (left > 0) {
    out += ch;
    if (cp >= d.end) return { s: out, stop: true, longjmp: true };
    const opt = d.b[cp++] as number;
    let len: number;
    if (opt === 0 || opt === 1) len = 1;
    else {
      if (cp >= d.end) return { s: out, stop: true, longjmp: true };
      len = d.b[cp++] as number;
      if (len < 2 || len > left) return bad();
      left--;
    }
    left--;
    out += TCP_OPTION_NAMES[opt] ?? `unknown-${opt}`;
    let datalen = 0;
    // LENCHECK(): more than the header holds is bad; more than was captured is truncation.
    const lencheck = (n: number): 'bad' | 'trunc' | null => (n > left ? 'bad' : cp + n > d.end ? 'trunc' : null);
    let fail: 'bad' | 'trunc' | null = null;
    switch (opt) {
      case 2:
        datalen = 2;
        fail = lencheck(2);
        if (fail === null) out += ` ${d.v.getUint16(cp)}`;
        break;
      case 3:
        datalen = 1;
        fail = lencheck(1);
        if (fail === null) out += ` ${d.b[cp]}`;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) out += ' invalid sack';
        else {
          out += ` ${datalen / 8} `;
          for (let i = 0; i < datalen && fail === null; i += 8) {
            fail = lencheck(i + 8);
            if (fail !== null) break;
            const base = rev ? thseq : thack;
            out += `{${(d.v.getUint32(cp + i) - base) >>> 0}:${(d.v.getUint32(cp + i + 4) - base) >>> 0}}`;
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        fail = lencheck(4);
        if (fail === null) out += ` ${d.v.getUint32(cp)}`;
        break;
      case 8:
        datalen = 8;
        fail = lencheck(8);
        if (fail === null) out += ` val ${d.v.getUint32(cp)} ecr ${d.v.getUint32(cp + 4)}`;
        break;
      case 0:
      case 1:
      case 4:
        break;
      default:
        // Byte by byte, so a cut capture shows what it has before " [|tcp]>".
        datalen = len - 2;
        if (datalen > 0) out += ' 0x';
        for (let i = 0; i < datalen && fail === null; i++) {
          fail = lencheck(i + 1);
          if (fail === null) out += hex2(d.b[cp + i] as number);
        }
    }
    if (fail === 'bad') return bad();
    if (fail === 'trunc') return { s: `${out} [|tcp]${ch !== '' ? '>' : ''}`, stop: true };
    cp += datalen;
    left -= datalen;
    const spec = datalen + 1 + (opt === 0 || opt === 1 ? 0 : 1);
    if (spec !== len) out += `[len ${len}]`;
    ch = ',';
    if (opt === 0) break;
  }
  return { s: out, stop: false };
}

/** IP options, as ip_optprint() names them; EOL ends the list, a bad length stops it. */
function ipOptions(b: Uint8Array, off: number, len: number): string {
  const names: Record<number, string> = {
    0: 'EOL',
    1: 'NOP',
    68: 'timestamp',
    130: 'security',
    7: 'RR',
    137: 'SSRR',
    131: 'LSRR',
    148: 'RA',
    82: 'traceroute',
  };
  let out = '';
  let sep = '';
  let i = 0;
  while (i < len) {
    const code = b[off + i] as number;
    out += `${sep}${names[code] ?? `unknown ${code}`}`;
    sep = ',';
    let optLen = 1;
    if (code !== 0 && code !== 1) {
      optLen = b[off + i + 1] ?? 0;
      if (optLen < 2) return `${out} [bad length ${optLen}]`;
    }
    if (optLen > len - i) return `${out} [bad length ${optLen}]`;
    if (code === 0) return out;
    i += optLen;
  }
  return out;
}

/** -x: "\n\t0x0000:  4500 0054 ..." sixteen bytes a line. */
export function hexOnly(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.byteLength; i += 16) {
    s += `\n\t0x${i.toString(16).padStart(4, '0')}: `;
    for (let j = i; j < Math.min(i + 16, b.byteLength); j += 2) {
      s += j + 1 < b.byteLength ? ` ${hex2(b[j] as number)}${hex2(b[j + 1] as number)}` : ` ${hex2(b[j] as number)}`;
    }
  }
  return s;
}

/** -X: hex as -x, then two spaces and the printable bytes (others as '.'). */
export function hexAndAscii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.byteLength; i += 16) {
    let hex = '';
    let asc = '';
    for (let j = i; j < Math.min(i + 16, b.byteLength); j += 2) {
      hex += j + 1 < b.byteLength ? ` ${hex2(b[j] as number)}${hex2(b[j + 1] as number)}` : ` ${hex2(b[j] as number)}`;
    }
    for (let j = i; j < Math.min(i + 16, b.byteLength); j++) {
      const c = b[j] as number;
      asc += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
    }
    s += `\n\t0x${i.toString(16).padStart(4, '0')}: ${hex.padEnd(40)}  ${asc}`;
  }
  return s;
}

/** -A: the bytes as text on a new line; unprintable ones as '.', most CRs dropped. */
export function asciiOnly(b: Uint8Array): string {
  let s = '\n';
  for (let i = 0; i < b.byteLength; i++) {
    const c = b[i] as number;
    if (c === 0x0d) {
      // 4.99.3 prints a CR as '.' only with at least two bytes after it, the next not LF.
      if (b.byteLength - i - 1 > 1 && b[i + 1] !== 0x0a) s += '.';
    } else if ((c > 0x20 && c < 0x7f) || c === 0x09 || c === 0x20 || c === 0x0a) s += String.fromCharCode(c);
    else s += '.';
  }
  return s;
}
