/**
 * tcp_v4_rcv / tcp_v6_rcv: header and checksum checks (InErrs, InCsumErrors), the
 * socket lookup — established and TIME_WAIT sockets by 4-tuple, request socks, then
 * listeners — and RST for segments nobody wants. Registered as IPPROTO_TCP for both
 * families; ICMP errors reach connections through tcp_v4_err.
 */

import { CHECKSUM, ipHdr, kfreeSkb, pskbMayPull, type SkBuff, skbChecksum } from '../../core/skbuff.js';
import { E } from '../../include/errno.js';
import { inet6AddProtocol, inetAddProtocol } from '../../ipv4/protocol.js';
import { ipv6AddrAny, ipv6AddrEqual } from '../../ipv6/addr.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Net } from '../../net/net.js';
import { csumFold, csumPseudo } from '../../wire/checksum.js';
import { ICMP } from '../../wire/icmp.js';
import { ICMPV6 } from '../../wire/icmpv6.js';
import { IPPROTO, Ipv4Header } from '../../wire/ipv4.js';
import { Ipv6Header } from '../../wire/ipv6.js';
import { TCPHDR, TcpHeader, tcpOptionsReceived, tcpParseOptionsInto } from '../../wire/tcp.js';
import { isV4Mapped, mappedV4, v4Mapped } from '../udp.js';
import { tcpCold } from './cold.js';
import { type TcpCb, tcpRcvStateProcess } from './input.js';
import { type Md5Seen, type TcpMd5Key, tcpInboundMd5Drop } from './md5.js';
import {
  cookieCheckAck,
  TcpRequestSock,
  TcpTimewaitSock,
  tcpCheckReq,
  tcpConnRequest,
  tcpSendReset,
  tcpTimewaitProcess,
} from './minisocks.js';
import { tcpNet } from './netns.js';
import { registerTcpProc } from './proc.js';
import { TCP, TcpSock } from './sock.js';
import { tcpWriteErr } from './timer.js';

/** The best listener for a segment to laddr:lport (inet_lhash2_lookup's compute_score). */
function listenerLookup(net: Net, v4: boolean, laddr: Uint8Array, lport: number): TcpSock | undefined {
  const list = tcpNet(net).lhash.get(lport);
  if (list === undefined) return undefined;
  let best: TcpSock | undefined;
  let bestScore = -1;
  for (const sk of list) {
    let score = -1;
    const a = sk.localAddr;
    if (v4) {
      if (sk.family === 4 || isV4Mapped(a)) {
        const la = mappedV4(a);
        if (la === 0) score = sk.family === 4 ? 2 : 1;
        else if (la === mappedV4(laddr)) score = 4;
      } else if (ipv6AddrAny(a) && !sk.v6only) score = 1;
    } else if (sk.family === 6 && !isV4Mapped(a)) {
      if (ipv6AddrAny(a)) score = 2;
      else if (ipv6AddrEqual(a, laddr)) score = 4;
    }
    if (score > bestScore) {
      best = sk;
      bestScore = score;
    }
  }
  return bestScore < 0 ? undefined : best;
}

/** The segment's data as chunks: what follows the header in the head, then the page fragments. */
function payloadChunks(skb: SkBuff, hl: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (hl < skb.headlen) out.push(skb.head.subarray(skb.data + hl, skb.tail));
  for (const f of skb.frags) if (f.byteLength > 0) out.push(f);
  return out;
}

/** The options of the segment being received, parsed once and copied into its TcpCb. */
const rcvOpts = tcpOptionsReceived([]);

function tcpRcv(skb: SkBuff, family: 4 | 6): number {
  const net = skb.dev?.net;
  if (net === null || net === undefined) {
    kfreeSkb(skb);
    return 0;
  }
  const mib = net.ipv4.mib.tcp;
  mib.InSegs++;
  if (!pskbMayPull(skb, 20)) {
    kfreeSkb(skb);
    return 0;
  }
  const doff = new TcpHeader(skb.head, skb.data, skb.headlen).doff;
  if (doff < 5) {
    mib.InErrs++;
    kfreeSkb(skb);
    return 0;
  }
  const hl = doff * 4;
  if (!pskbMayPull(skb, hl)) {
    kfreeSkb(skb);
    return 0;
  }
  const th = new TcpHeader(skb.head, skb.data, skb.headlen);
  // IPv4 addresses stay numbers until a slow path needs them as v4-mapped bytes.
  let saddr4 = 0;
  let daddr4 = 0;
  let saddr: Uint8Array | null = null;
  let daddr: Uint8Array | null = null;
  let ecnField: number;
  if (family === 4) {
    const iph = ipHdr(skb);
    saddr4 = iph.src;
    daddr4 = iph.dst;
    ecnField = iph.tos & 3;
  } else {
    const ip6 = new Ipv6Header(skb.head, skb.networkHeader);
    saddr = ip6.src.slice();
    daddr = ip6.dst.slice();
    ecnField = ip6.trafficClass & 3;
  }
  if (skb.ipSummed !== CHECKSUM.PARTIAL && skb.ipSummed !== CHECKSUM.UNNECESSARY) {
    const pseudo =
      saddr === null || daddr === null
        ? csumPseudo({ src: saddr4, dst: daddr4 }, skb.len, IPPROTO.TCP)
        : csumPseudo({ src: saddr, dst: daddr }, skb.len, IPPROTO.TCP);
    if (csumFold(skbChecksum(skb, 0, skb.len, pseudo)) !== 0) {
      mib.InCsumErrors++;
      mib.InErrs++;
      kfreeSkb(skb);
      return 0;
    }
  }
  const opts = rcvOpts;
  tcpParseOptionsInto(skb.head, skb.data + 20, skb.data + hl, opts);
  const flags = th.flags & 0xff;
  const len = skb.len - hl;
  const syn = (flags & TCPHDR.SYN) !== 0;
  const cb: TcpCb = {
    seq: th.seq,
    end: (th.seq + len + (syn ? 1 : 0) + (flags & TCPHDR.FIN ? 1 : 0)) >>> 0,
    ack: th.ackSeq,
    flags,
    window: th.window,
    data: len > 0 ? payloadChunks(skb, hl) : [],
    len,
    truesize: skb.truesize,
    gsoSize: skb.gsoSize,
    mss: syn ? opts.mss : undefined,
    wscale: syn ? opts.wscale : undefined,
    sackOk: syn && opts.sackOk,
    tsval: opts.tsval,
    tsecr: opts.tsecr,
    sack: opts.sack,
    ecn: ecnField,
    fastopen: syn ? opts.fastopen : undefined,
    urgPtr: th.urgPtr,
  };
  const sport = th.srcPort;
  const dport = th.dstPort;
  // An MD5 signature option: what checking it takes (the header before it is freed).
  const seen: Md5Seen | null =
    opts.md5 < 0
      ? null
      : {
          digest: skb.head.slice(opts.md5, opts.md5 + 16),
          header: skb.head.slice(skb.data, skb.data + 20),
          payload: cb.data,
          tcpLen: skb.len,
        };
  kfreeSkb(skb);
  if (saddr === null || daddr === null) {
    // __inet_lookup_established(): the common case, a connected socket, found by the 4-tuple
    // without making address bytes or a key string.
    const found = tcpNet(net).ehash.lookup4(daddr4, dport, saddr4, sport);
    if (found instanceof TcpSock && seen === null && found.md5Keys === null) {
      tcpRcvStateProcess(found, cb);
      return 0;
    }
    saddr = v4Mapped(saddr4);
    daddr = v4Mapped(daddr4);
  }
  tcpDispatch(net, family === 4, cb, saddr, sport, daddr, dport, seen);
  return 0;
}

const NO_MD5: Md5Seen = { digest: null, header: new Uint8Array(20), payload: [], tcpLen: 20 };

/** tcp_inbound_hash() for the socket a segment reached (a request socket asks its listener's keys). */
function md5Drop(
  net: Net,
  keys: TcpMd5Key[] | null,
  saddr: Uint8Array,
  daddr: Uint8Array,
  seen: Md5Seen | null,
): boolean {
  if (seen === null && keys === null) return false;
  return tcpInboundMd5Drop(tcpNet(net), keys, saddr, daddr, seen ?? NO_MD5);
}

/** From the lookup to the state machine. */
function tcpDispatch(
  net: Net,
  v4: boolean,
  cb: TcpCb,
  saddr: Uint8Array,
  sport: number,
  daddr: Uint8Array,
  dport: number,
  seen: Md5Seen | null = null,
): void {
  const tn = tcpNet(net);
  const key = TcpSock.ehashKey(daddr, dport, saddr, sport);
  const found = tn.ehash.get(key);
  if (found instanceof TcpSock) {
    if (md5Drop(net, found.md5Keys, saddr, daddr, seen)) return;
    tcpRcvStateProcess(found, cb);
    return;
  }
  if (found instanceof TcpTimewaitSock) {
    if (tcpTimewaitProcess(found, cb) !== 'syn') return;
    found.kill();
  } else if (found instanceof TcpRequestSock) {
    if (md5Drop(net, found.listener.md5Keys, saddr, daddr, seen)) return;
    tcpCheckReq(found, cb);
    return;
  }
  const flow = { v4, saddr: daddr, daddr: saddr, sport: dport, dport: sport };
  const l = listenerLookup(net, v4, daddr, dport);
  if (l === undefined) {
    tcpSendReset(net, flow, cb);
    return;
  }
  if (md5Drop(net, l.md5Keys, saddr, daddr, seen)) return;
  const f = cb.flags;
  if (f & TCPHDR.RST) return;
  if (f & TCPHDR.ACK) {
    // An ACK to a listener: a SYN cookie, or a reset.
    if (!cookieCheckAck(l, cb, v4, daddr, dport, saddr, sport)) tcpSendReset(net, flow, cb);
    return;
  }
  if (!(f & TCPHDR.SYN) || f & TCPHDR.FIN) return;
  tcpConnRequest(l, cb, v4, daddr, dport, saddr, sport);
}

/** tcp_v4_err / tcp_v6_err: a hard ICMP error about a connection being opened aborts it. */
function tcpErr(net: Net, v4: boolean, quoted: Uint8Array, errno: number): void {
  let saddr: Uint8Array;
  let daddr: Uint8Array;
  let off: number;
  if (v4) {
    if (quoted.byteLength < 20) return;
    const iph = new Ipv4Header(quoted, 0);
    saddr = v4Mapped(iph.src);
    daddr = v4Mapped(iph.dst);
    off = iph.headerLen;
  } else {
    if (quoted.byteLength < 40) return;
    const ip6 = new Ipv6Header(quoted, 0);
    saddr = ip6.src.slice();
    daddr = ip6.dst.slice();
    off = 40;
  }
  if (quoted.byteLength < off + 8) return;
  const sport = (quoted[off]! << 8) | quoted[off + 1]!;
  const dport = (quoted[off + 2]! << 8) | quoted[off + 3]!;
  const sk = tcpNet(net).ehash.get(TcpSock.ehashKey(saddr, sport, daddr, dport));
  if (!(sk instanceof TcpSock)) return;
  if (sk.state === TCP.SYN_SENT || sk.state === TCP.SYN_RECV) tcpWriteErr(sk, errno);
  else tcpCold(sk).softErr = errno;
}

export function tcpInit(kernel: Kernel): void {
  registerTcpProc(kernel);
  inetAddProtocol(kernel, IPPROTO.TCP, {
    handler: (skb) => tcpRcv(skb, 4),
    errHandler: (skb, type, code) => {
      const net = skb.dev?.net;
      if (net === null || net === undefined || type !== ICMP.DEST_UNREACH) return;
      const errno = code === ICMP.PORT_UNREACH ? E.ECONNREFUSED : code === 1 ? E.EHOSTUNREACH : E.ENETUNREACH;
      tcpErr(net, true, skb.toBytes().subarray(8), errno);
    },
  });
  inet6AddProtocol(kernel, IPPROTO.TCP, {
    handler: (skb) => tcpRcv(skb, 6),
    errHandler: (skb, type, code) => {
      const net = skb.dev?.net;
      if (net === null || net === undefined || type !== ICMPV6.DEST_UNREACH) return;
      const errno = code === ICMPV6.PORT_UNREACH ? E.ECONNREFUSED : E.ENETUNREACH;
      tcpErr(net, false, skb.toBytes().subarray(8), errno);
    },
  });
}
