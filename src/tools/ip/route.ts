/**
 * `ip route` (iproute2 6.1 ip/iproute.c) for IPv4 and IPv6: list, flush, get and changes, all
 * rendered from the namespace's live FIBs as the RTM_NEWROUTE messages a dump would
 * carry. Changes go through fib-netlink.ts (IPv4) and ipv6/route-netlink.ts (IPv6),
 * which check them as the kernel does.
 */

import { LOOPBACK_IFINDEX } from '../../core/if.js';
import type { ExtAck } from '../../core/netdevice.js';
import { E, strerror } from '../../include/errno.js';
import { formatIpv4, RT_SCOPE } from '../../ipv4/devinet.js';
import { type FibAlias, flowi4, RT_TABLE, RTN, RTN_NAMES, RTNH_F, RTPROT } from '../../ipv4/fib.js';
import { fibGetTable, fibLookup } from '../../ipv4/fib-frontend.js';
import {
  type FibConfig,
  fibDeleteAliases,
  fibResultTable,
  inetRtmDelroute,
  inetRtmNewroute,
} from '../../ipv4/fib-netlink.js';
import { ipRouteOutputKey, RTCF } from '../../ipv4/route.js';
import { formatIpv6, IN6ADDR_ANY, ipv6PrefixEqual } from '../../ipv6/addr.js';
import { type Fib6Info, rt6FindCachedRt } from '../../ipv6/route.js';
import {
  type Fib6Config,
  fib6DeleteRoutes,
  fib6GetTable,
  inet6DumpFib,
  inet6RtmDelroute,
  inet6RtmGetroute,
  inet6RtmNewroute,
} from '../../ipv6/route-netlink.js';
import type { Net } from '../../net/net.js';
import { NLM_F } from '../../net/netlink.js';
import {
  AF,
  die,
  getInetAddr,
  getInetPrefix,
  getPrefix1,
  type InetPrefix,
  type IpContext,
  IpExit,
  invarg,
  JsonWriter,
  matches,
  nextArg,
} from './common.js';

// ---------------------------------------------------------------------------------
// Names (lib/rt_names.c with /etc/iproute2's rt_protos, rt_scopes, rt_tables).

const RT_PROTOS: Record<number, string> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};
const RT_SCOPES: Record<number, string> = { 0: 'global', 255: 'nowhere', 254: 'host', 253: 'link', 200: 'site' };
const RT_TABLES: Record<number, string> = { 255: 'local', 254: 'main', 253: 'default', 0: 'unspec' };

function a2n(names: Record<number, string>, arg: string, max: number): number | null {
  for (const [k, v] of Object.entries(names)) if (v === arg) return Number(k);
  const n = getUnsigned(arg);
  return n === null || n > max ? null : n;
}

export const rtprotN2a = (p: number) => RT_PROTOS[p] ?? String(p);
export const rtprotA2n = (arg: string) => a2n(RT_PROTOS, arg, 255);
export const rtscopeN2a = (s: number) => RT_SCOPES[s] ?? String(s);
export const rtscopeA2n = (arg: string) => a2n(RT_SCOPES, arg, 255);
export const rttableN2a = (t: number) => RT_TABLES[t] ?? String(t);
export const rttableA2n = (arg: string) => a2n(RT_TABLES, arg, 0xffffffff);
export const rtntypeN2a = (t: number) => RTN_NAMES[t] ?? String(t);

/** rtnl_rtntype_a2n(). */
export function rtntypeA2n(arg: string): number | null {
  const names: [string, number][] = [
    ['local', RTN.LOCAL],
    ['nat', RTN.NAT],
    ['broadcast', RTN.BROADCAST],
    ['brd', RTN.BROADCAST],
    ['anycast', RTN.ANYCAST],
    ['multicast', RTN.MULTICAST],
    ['prohibit', RTN.PROHIBIT],
    ['unreachable', RTN.UNREACHABLE],
    ['blackhole', RTN.BLACKHOLE],
    ['xresolve', RTN.XRESOLVE],
    ['unicast', RTN.UNICAST],
    ['throw', RTN.THROW],
  ];
  for (const [name, v] of names) if (matches(arg, name)) return v;
  const n = getUnsigned(arg);
  return n === null || n > 255 ? null : n;
}

/** get_unsigned(): strtoul base 0 over the whole word. */
export function getUnsigned(arg: string): number | null {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(arg);
  if (m === null) return null;
  const v = Number(/^0[0-7]+$/.test(arg) ? Number.parseInt(arg.slice(1), 8) : Number(arg));
  return v > 0xffffffff ? null : v;
}

// ---------------------------------------------------------------------------------
// Addresses and prefixes (lib/utils.c get_addr_1, get_prefix_1).

/** An IPv4 prefix as the IPv4 FIB and rule code want it: a u32 and a length. */
export interface Inet4Prefix {
  addr: number;
  bitlen: number;
}

/** The address bytes of an IPv4 inet_prefix as a host-order u32 (0 for "default"). */
const u32 = (data: Uint8Array): number =>
  (((data[0] ?? 0) << 24) | ((data[1] ?? 0) << 16) | ((data[2] ?? 0) << 8) | (data[3] ?? 0)) >>> 0;

/** get_prefix() for the IPv4-only callers (ip rule): exits like iproute2 on a bad word. */
export function getPrefix(ctx: IpContext, arg: string): Inet4Prefix {
  const p = getPrefix1(arg, AF.INET);
  if (p === null) {
    ctx.stderr.write(`Error: any valid prefix is expected rather than "${arg}".\n`);
    throw new IpExit(1);
  }
  return { addr: u32(p.data), bitlen: p.bitlen };
}

/** get_addr() for an IPv4 address. */
export function getAddr(ctx: IpContext, arg: string): number {
  return u32(getInetAddr(ctx, arg, AF.INET).data);
}

/** nodev(): iproute2's message for an unknown device name, exit 1. */
export function nodev(ctx: IpContext, name: string): never {
  ctx.stderr.write(`Cannot find device "${name}"\n`);
  throw new IpExit(1);
}

/** How iproute2 reports a refused request: the extack message, else strerror. rc 2. */
export function rtnlError(ctx: IpContext, err: number, extack: ExtAck): number {
  if (extack.msg !== undefined) {
    ctx.stderr.write(`Error: ${extack.msg.endsWith('.') ? extack.msg : `${extack.msg}.`}\n`);
  } else ctx.stderr.write(`RTNETLINK answers: ${strerror(err)}\n`);
  return -2;
}

// ---------------------------------------------------------------------------------
// The message: what RTM_NEWROUTE carries for one route.

export interface RouteMsg {
  family: number;
  type: number;
  table: number;
  dst: string | null;
  dstLen: number;
  hostLen: number;
  tos: number;
  protocol: number;
  scope: number;
  /** rtm_flags: RTNH_F_* for FIB entries, RTM_F_CLONED | RTCF_* for `get`. */
  flags: number;
  cloned: boolean;
  gateway: string | null;
  oif: number;
  prefsrc: string | null;
  priority: number | null;
  src: string | null;
  mark: number;
  uid: number | null;
  pref: string | null;
  /** RTA_CACHEINFO's rta_expires, in seconds (0 = none). */
  expires?: number;
  /** RTA_METRICS' RTAX_MTU and whether RTAX_LOCK holds it. */
  mtu?: number;
  mtuLock?: boolean;
}

/** fib_dump_info(). */
function fibDumpInfo(fa: FibAlias): RouteMsg {
  return {
    family: AF.INET,
    type: fa.type,
    table: fa.table,
    dst: fa.dstLen > 0 ? formatIpv4(fa.dst) : null,
    dstLen: fa.dstLen,
    hostLen: 32,
    tos: fa.tos,
    protocol: fa.protocol,
    scope: fa.scope,
    flags: fa.nhFlags & (RTNH_F.DEAD | RTNH_F.ONLINK | RTNH_F.LINKDOWN),
    cloned: false,
    gateway: fa.gateway !== 0 ? formatIpv4(fa.gateway) : null,
    oif: fa.dev?.ifindex ?? 0,
    prefsrc: fa.prefsrc !== 0 ? formatIpv4(fa.prefsrc) : null,
    priority: fa.priority !== 0 ? fa.priority : null,
    src: null,
    mark: 0,
    uid: null,
    pref: null,
  };
}

/** rt6_fill_info() for a FIB entry: IPv6 routes always carry their metric and preference. */
function fib6DumpInfo(rt: Fib6Info): RouteMsg {
  return {
    family: AF.INET6,
    type: rt.type,
    table: rt.table,
    dst: rt.dstLen > 0 ? formatIpv6(rt.dst) : null,
    dstLen: rt.dstLen,
    hostLen: 128,
    tos: 0,
    protocol: rt.protocol,
    scope: RT_SCOPE.UNIVERSE,
    flags: 0,
    cloned: false,
    gateway: rt.gateway !== undefined ? formatIpv6(rt.gateway) : null,
    oif: rt.dev.ifindex,
    prefsrc: rt.prefsrc !== undefined ? formatIpv6(rt.prefsrc) : null,
    priority: rt.metric,
    src: null,
    mark: 0,
    uid: null,
    pref: 'medium',
  };
}

// ---------------------------------------------------------------------------------
// Printing (print_route).

interface RouteFilter {
  tb: number;
  typemask: number;
  protocol: number;
  protocolmask: number;
  scope: number;
  scopemask: number;
  tos: number;
  tosmask: number;
  oif: number;
  oifmask: number;
  metric: number;
  metricmask: number;
  /** root (rdst), match (mdst), via and src prefixes; null when not asked for. */
  rdst: InetPrefix | null;
  mdst: InetPrefix | null;
  rvia: InetPrefix | null;
  rprefsrc: InetPrefix | null;
}

function emptyFilter(): RouteFilter {
  return {
    tb: 0,
    typemask: 0,
    protocol: 0,
    protocolmask: 0,
    scope: 0,
    scopemask: 0,
    tos: 0,
    tosmask: 0,
    oif: 0,
    oifmask: 0,
    metric: 0,
    metricmask: 0,
    rdst: null,
    mdst: null,
    rvia: null,
    rprefsrc: null,
  };
}

/** inet_addr_match(): the first `bits` bits agree ("default" with no bytes matches all). */
const prefixMatch = (a: Uint8Array, p: InetPrefix, bits: number) =>
  p.data.length === 0 || ipv6PrefixEqual(a, p.data, Math.min(bits, 8 * a.length));

/** A filter prefix's family must be the route's, unless "default" left it unset. */
const familyOk = (m: RouteMsg, p: InetPrefix) => p.family === AF.UNSPEC || p.family === m.family;

/** filter_nlmsg(). */
function filterRoute(d: Dumped, f: RouteFilter): boolean {
  const m = d.m;
  if (f.tb > 0 && f.tb !== m.table) return false;
  if ((f.protocol ^ m.protocol) & f.protocolmask) return false;
  if ((f.scope ^ m.scope) & f.scopemask) return false;
  if (f.typemask !== 0 && !(f.typemask & (1 << m.type))) return false;
  if ((f.tos ^ m.tos) & f.tosmask) return false;
  if (f.oifmask !== 0 && m.oif !== f.oif) return false;
  if (f.metricmask !== 0 && (m.priority ?? 0) !== f.metric) return false;
  const { rdst, mdst, rvia, rprefsrc } = f;
  if (rdst !== null && (!familyOk(m, rdst) || rdst.bitlen > m.dstLen || !prefixMatch(d.dst, rdst, rdst.bitlen)))
    return false;
  if (mdst !== null && (!familyOk(m, mdst) || mdst.bitlen < m.dstLen || !prefixMatch(d.dst, mdst, m.dstLen)))
    return false;
  const zero = d.dst.length === 4 ? new Uint8Array(4) : IN6ADDR_ANY;
  if (rvia !== null && (!familyOk(m, rvia) || !prefixMatch(d.gateway ?? zero, rvia, rvia.bitlen))) return false;
  if (rprefsrc !== null && (!familyOk(m, rprefsrc) || !prefixMatch(d.prefsrc ?? zero, rprefsrc, rprefsrc.bitlen)))
    return false;
  return true;
}

const CACHE_FLAGS: [number, string][] = [
  [RTCF.LOCAL, 'local'],
  [0x40000000, 'reject'],
  [RTCF.MULTICAST, 'mc'],
  [RTCF.BROADCAST, 'brd'],
  [0x08000000, 'dst-nat'],
  [0x00800000, 'src-nat'],
  [0x00400000, 'masq'],
  [0x00020000, 'dst-direct'],
  [RTCF.DIRECTSRC, 'src-direct'],
  [RTCF.REDIRECTED, 'redirected'],
  [RTCF.DOREDIRECT, 'redirect'],
  [0x00200000, 'fastroute'],
  [RTCF.NOTIFY, 'notify'],
  [0x00080000, 'proxy'],
];

function cacheFlagNames(flags: number): { names: string[]; rest: number } {
  let rest = (flags & ~0xffff) >>> 0;
  const names: string[] = [];
  for (const [bit, name] of CACHE_FLAGS) {
    if (rest & bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  return { names, rest };
}

function rtFlagNames(flags: number): string[] {
  const out: string[] = [];
  if (flags & RTNH_F.DEAD) out.push('dead');
  if (flags & RTNH_F.ONLINK) out.push('onlink');
  if (flags & RTNH_F.PERVASIVE) out.push('pervasive');
  if (flags & RTNH_F.OFFLOAD) out.push('offload');
  if (flags & RTCF.NOTIFY) out.push('notify');
  if (flags & RTNH_F.LINKDOWN) out.push('linkdown');
  return out;
}

interface Field {
  key: string;
  text: string;
  json: string | number | null;
}

/** print_route()'s fields in order; the text of each ends with its space. */
function routeFields(net: Net, m: RouteMsg, f: RouteFilter, details: number): Field[] {
  const out: Field[] = [];
  const add = (key: string, text: string, json: string | number | null) => out.push({ key, text, json });
  if ((m.type !== RTN.UNICAST || details > 0) && (f.typemask === 0 || f.typemask & (1 << m.type)))
    add('type', `${rtntypeN2a(m.type)} `, rtntypeN2a(m.type));
  const dst = m.dst === null ? 'default' : m.dstLen !== m.hostLen ? `${m.dst}/${m.dstLen}` : m.dst;
  add('dst', `${dst} `, dst);
  if (m.src !== null) add('from', `from ${m.src} `, m.src);
  if (m.tos !== 0 && f.tosmask !== -1) add('tos', `tos 0x${m.tos.toString(16)} `, `0x${m.tos.toString(16)}`);
  if (m.gateway !== null && (f.rvia === null || f.rvia.bitlen !== m.hostLen))
    add('gateway', `via ${m.gateway} `, m.gateway);
  if (m.oif !== 0 && f.oifmask !== -1) {
    const name = net.devGetByIndex(m.oif)?.name ?? `if${m.oif}`;
    add('dev', `dev ${name} `, name);
  }
  if (m.table !== 0 && (m.table !== RT_TABLE.MAIN || details > 0) && f.tb === 0)
    add('table', `table ${rttableN2a(m.table)} `, rttableN2a(m.table));
  if (!m.cloned) {
    if ((m.protocol !== RTPROT.BOOT || details > 0) && f.protocolmask !== -1)
      add('protocol', `proto ${rtprotN2a(m.protocol)} `, rtprotN2a(m.protocol));
    if ((m.scope !== RT_SCOPE.UNIVERSE || details > 0) && f.scopemask !== -1)
      add('scope', `scope ${rtscopeN2a(m.scope)} `, rtscopeN2a(m.scope));
  }
  if (m.prefsrc !== null && (f.rprefsrc === null || f.rprefsrc.bitlen !== m.hostLen))
    add('prefsrc', `src ${m.prefsrc} `, m.prefsrc);
  if (m.priority !== null && f.metricmask !== -1) add('metric', `metric ${m.priority} `, m.priority);
  return out;
}

function routeText(net: Net, m: RouteMsg, f: RouteFilter, details: number): string {
  let s = routeFields(net, m, f, details)
    .map((x) => x.text)
    .join('');
  for (const name of rtFlagNames(m.flags)) s += `${name} `;
  if (m.mark !== 0) s += m.mark >= 16 ? `mark 0x${m.mark.toString(16)} ` : `mark ${m.mark} `;
  if (m.uid !== null) s += `uid ${m.uid} `;
  if (m.family === AF.INET && m.cloned) {
    s += '\n    cache ';
    const { names, rest } = cacheFlagNames(m.flags);
    if (names.length > 0 || rest !== 0) {
      s += `<${names.join(',')}`;
      s += rest !== 0 ? `${names.length > 0 ? ',' : ''}${rest.toString(16)}>` : '> ';
    }
  }
  // print_rta_cacheinfo(), for either family (IPv6 has no "cache" line).
  if (m.expires) s += `expires ${m.expires}sec `;
  // print_rta_metrics().
  if (m.mtu !== undefined) s += `mtu ${m.mtuLock ? 'lock ' : ''}${m.mtu} `;
  if (m.pref !== null) s += `pref ${m.pref}`;
  return `${s}\n`;
}

function routeJson(w: JsonWriter, net: Net, m: RouteMsg, f: RouteFilter, details: number): void {
  w.startObject();
  for (const x of routeFields(net, m, f, details)) {
    w.name(x.key);
    if (typeof x.json === 'number') w.number(x.json);
    else w.string(String(x.json));
  }
  w.name('flags').startArray();
  for (const name of rtFlagNames(m.flags)) w.string(name);
  w.endArray();
  if (m.mark !== 0) w.name('mark').number(m.mark);
  if (m.uid !== null) w.name('uid').number(m.uid);
  if (m.family === AF.INET && m.cloned) {
    w.name('cache').startArray();
    for (const name of cacheFlagNames(m.flags).names) w.string(name);
    w.endArray();
  }
  if (m.expires) w.name('expires').number(m.expires);
  if (m.mtu !== undefined) {
    w.name('metrics').startArray().startObject();
    w.name('mtu').number(m.mtu);
    w.endObject().endArray();
  }
  if (m.pref !== null) w.name('pref').string(m.pref);
  w.endObject();
}

// ---------------------------------------------------------------------------------
// Dumps (inet_dump_fib and the inet6 stand-in).

/** Tables in the order inet_dump_fib walks its hash: by id & 255, newest first in a bucket. */
function tablesInDumpOrder(net: Net): number[] {
  return [...net.ipv4.fibTables.keys()].sort((a, b) => (a & 255) - (b & 255) || b - a);
}

/** A dumped route: its message, the entry it came from and its addresses as bytes for filters. */
interface Dumped {
  m: RouteMsg;
  entry: { family: typeof AF.INET; fa: FibAlias } | { family: typeof AF.INET6; rt: Fib6Info };
  dst: Uint8Array;
  gateway: Uint8Array | null;
  prefsrc: Uint8Array | null;
}

const be32 = (a: number) => Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);

function dumped4(fa: FibAlias): Dumped {
  return {
    m: fibDumpInfo(fa),
    entry: { family: AF.INET, fa },
    dst: be32(fa.dst),
    gateway: fa.gateway !== 0 ? be32(fa.gateway) : null,
    prefsrc: fa.prefsrc !== 0 ? be32(fa.prefsrc) : null,
  };
}

function dumped6(rt: Fib6Info): Dumped {
  return {
    m: fib6DumpInfo(rt),
    entry: { family: AF.INET6, rt },
    dst: rt.dst,
    gateway: rt.gateway ?? null,
    prefsrc: rt.prefsrc ?? null,
  };
}

/** RTM_GETROUTE dump: -ENOENT with the kernel's message for a missing table. */
function dumpRoutes(net: Net, family: number, tb: number, extack: ExtAck): Dumped[] | number {
  const out: Dumped[] = [];
  if (family === AF.UNSPEC || family === AF.INET) {
    if (tb !== 0) {
      const t = fibGetTable(net, tb);
      if (t === undefined) {
        if (family === AF.INET) {
          extack.msg = 'ipv4: FIB table does not exist';
          return -E.ENOENT;
        }
      } else for (const fa of t.dump()) out.push(dumped4(fa));
    } else {
      for (const id of tablesInDumpOrder(net))
        for (const fa of fibGetTable(net, id)?.dump() ?? []) out.push(dumped4(fa));
    }
  }
  if (family === AF.UNSPEC || family === AF.INET6) {
    if (tb !== 0 && fib6GetTable(net, tb) === undefined) {
      if (family === AF.INET6) {
        extack.msg = 'ipv6: FIB table does not exist';
        return -E.ENOENT;
      }
    } else for (const rt of inet6DumpFib(net, tb)) out.push(dumped6(rt));
  }
  return out;
}

// ---------------------------------------------------------------------------------
// ip route list / flush.

function parseListArgs(ctx: IpContext, args: string[], f: RouteFilter): void {
  const family = ctx.opts.family;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (matches(a, 'table')) {
      const v = nextArg(ctx, args, i++);
      const tid = rttableA2n(v);
      if (tid !== null) f.tb = tid;
      else if (v === 'all') f.tb = 0;
      else if (v === 'cache') die(ctx, 'lonet: the IPv4 route cache is not listed (Linux keeps no cache since 3.6)\n');
      else invarg(ctx, 'table id value is invalid\n', v);
    } else if (matches(a, 'cached') || matches(a, 'cloned')) {
      die(ctx, 'lonet: the IPv4 route cache is not listed (Linux keeps no cache since 3.6)\n');
    } else if (a === 'tos' || matches(a, 'dsfield')) {
      const v = nextArg(ctx, args, i++);
      const tos = getUnsigned(v);
      if (tos === null || tos > 255) invarg(ctx, 'TOS value is invalid\n', v);
      f.tos = tos;
      f.tosmask = -1;
    } else if (matches(a, 'protocol')) {
      const v = nextArg(ctx, args, i++);
      f.protocolmask = -1;
      const p = rtprotA2n(v);
      if (p === null) {
        if (v !== 'all') invarg(ctx, 'invalid "protocol"\n', v);
        f.protocol = 0;
        f.protocolmask = 0;
      } else f.protocol = p;
    } else if (matches(a, 'scope')) {
      const v = nextArg(ctx, args, i++);
      f.scopemask = -1;
      const s = rtscopeA2n(v);
      if (s === null) {
        if (v !== 'all') invarg(ctx, 'invalid "scope"\n', v);
        f.scope = RT_SCOPE.NOWHERE;
        f.scopemask = 0;
      } else f.scope = s;
    } else if (matches(a, 'type')) {
      const v = nextArg(ctx, args, i++);
      const t = rtntypeA2n(v);
      if (t === null) invarg(ctx, 'node type value is invalid\n', v);
      f.typemask = 1 << t;
    } else if (a === 'dev' || a === 'oif') {
      const v = nextArg(ctx, args, i++);
      const dev = ctx.net.devGetByName(v);
      if (dev === undefined) nodev(ctx, v);
      f.oif = dev.ifindex;
      f.oifmask = -1;
    } else if (matches(a, 'metric') || matches(a, 'priority') || a === 'preference') {
      const v = nextArg(ctx, args, i++);
      const n = getUnsigned(v);
      if (n === null) invarg(ctx, '"metric" value is invalid\n', v);
      f.metric = n;
      f.metricmask = -1;
    } else if (a === 'via') f.rvia = getInetPrefix(ctx, nextArg(ctx, args, i++), family);
    else if (a === 'src') f.rprefsrc = getInetPrefix(ctx, nextArg(ctx, args, i++), family);
    else {
      let w = a;
      if (matches(w, 'to')) w = nextArg(ctx, args, i++);
      if (matches(w, 'root')) f.rdst = getInetPrefix(ctx, nextArg(ctx, args, i++), family);
      else if (matches(w, 'match')) f.mdst = getInetPrefix(ctx, nextArg(ctx, args, i++), family);
      else {
        if (matches(w, 'exact')) w = nextArg(ctx, args, i++);
        f.mdst = getInetPrefix(ctx, w, family);
        f.rdst = f.mdst;
      }
    }
  }
}

/** iproute_list_flush_or_save(). */
function iprouteList(ctx: IpContext, args: string[], flush: boolean): number {
  const f = emptyFilter();
  f.tb = RT_TABLE.MAIN;
  if (flush && args.length === 0) {
    ctx.stderr.write('"ip route flush" requires arguments.\n');
    return -1;
  }
  parseListArgs(ctx, args, f);
  let family = ctx.opts.family;
  if (family === AF.UNSPEC && f.tb !== 0) family = AF.INET;
  const extack: ExtAck = {};
  const dumped = dumpRoutes(ctx.net, family, f.tb, extack);
  const shown = typeof dumped === 'number' ? [] : dumped.filter((d) => filterRoute(d, f));
  if (flush) {
    if (typeof dumped === 'number') {
      ctx.stderr.write(`Error: ${extack.msg}.\nFlush terminated\n`);
      return -2;
    }
    const v4: FibAlias[] = [];
    const v6: Fib6Info[] = [];
    for (const { entry } of shown) {
      if (entry.family === AF.INET) v4.push(entry.fa);
      else v6.push(entry.rt);
    }
    fibDeleteAliases(ctx.net, v4);
    fib6DeleteRoutes(ctx.net, v6);
    return 0;
  }
  const json = ctx.opts.json ? new JsonWriter(ctx.opts.pretty).startArray() : null;
  if (typeof dumped === 'number') {
    // save_route_errhndlr(): a missing main table is just an empty list.
    if (f.tb === RT_TABLE.MAIN) {
      if (json !== null) ctx.stdout.write(json.endArray().finish());
      return 0;
    }
    if (json !== null) ctx.stdout.write('[');
    ctx.stderr.write(`Error: ${extack.msg}.\nDump terminated\n`);
    return -2;
  }
  let text = '';
  for (const d of shown) {
    if (json !== null) routeJson(json, ctx.net, d.m, f, ctx.opts.details);
    else text += routeText(ctx.net, d.m, f, ctx.opts.details);
  }
  ctx.stdout.write(json !== null ? json.endArray().finish() : text);
  return 0;
}

// ---------------------------------------------------------------------------------
// ip route add / change / replace / prepend / append / test / delete.

/**
 * The request's family as iproute2 settles it: -4/-6 if given, else the family of the
 * first address parsed (req.r.rtm_family = addr.family).
 */
function settleFamily(family: number, p: InetPrefix): number {
  return family === AF.UNSPEC ? p.family : family;
}

/** What iproute_modify() parsed, before it is sent as IPv4 or IPv6. */
interface RouteRequest {
  type: number;
  table: number;
  dst: InetPrefix;
  tos: number;
  scope: number;
  protocol: number;
  priority: number;
  prefsrc: InetPrefix | null;
  gateway: InetPrefix | null;
  oif: number;
  flags: number;
}

/** iproute_modify(). */
function iprouteModify(ctx: IpContext, del: boolean, nlFlags: number, args: string[]): number {
  let family = ctx.opts.family;
  const cfg: Omit<RouteRequest, 'dst'> = {
    type: del ? 0 : RTN.UNICAST,
    table: RT_TABLE.MAIN,
    tos: 0,
    scope: del ? RT_SCOPE.NOWHERE : RT_SCOPE.UNIVERSE,
    protocol: del ? 0 : RTPROT.BOOT,
    priority: 0,
    prefsrc: null,
    gateway: null,
    oif: 0,
    flags: 0,
  };
  let dst: InetPrefix | null = null;
  let devName: string | null = null;
  let gwOk = false;
  let dstOk = false;
  let scopeOk = false;
  let tableOk = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'src') {
      cfg.prefsrc = getInetAddr(ctx, nextArg(ctx, args, i++), family);
      family = settleFamily(family, cfg.prefsrc);
    } else if (a === 'via') {
      if (gwOk) invarg(ctx, 'use nexthop syntax to specify multiple via\n', a);
      gwOk = true;
      let v = nextArg(ctx, args, i++);
      let viaFamily = family;
      if (v === 'inet' || v === 'inet6') {
        viaFamily = v === 'inet' ? AF.INET : AF.INET6;
        v = nextArg(ctx, args, i++);
      }
      cfg.gateway = getInetAddr(ctx, v, viaFamily);
      family = settleFamily(family, cfg.gateway);
    } else if (a === 'tos' || matches(a, 'dsfield')) {
      const v = nextArg(ctx, args, i++);
      const tos = getUnsigned(v);
      if (tos === null || tos > 255) invarg(ctx, '"tos" value is invalid\n', v);
      cfg.tos = tos;
    } else if (matches(a, 'metric') || matches(a, 'priority') || a === 'preference') {
      const v = nextArg(ctx, args, i++);
      const n = getUnsigned(v);
      if (n === null) invarg(ctx, '"metric" value is invalid\n', v);
      cfg.priority = n;
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      const s = rtscopeA2n(v);
      if (s === null) invarg(ctx, 'invalid "scope" value\n', v);
      cfg.scope = s;
      scopeOk = true;
    } else if (a === 'onlink') cfg.flags |= RTNH_F.ONLINK;
    else if (matches(a, 'protocol')) {
      const v = nextArg(ctx, args, i++);
      const p = rtprotA2n(v);
      if (p === null) invarg(ctx, '"protocol" value is invalid\n', v);
      cfg.protocol = p;
    } else if (matches(a, 'table')) {
      const v = nextArg(ctx, args, i++);
      const t = rttableA2n(v);
      if (t === null) invarg(ctx, '"table" value is invalid\n', v);
      cfg.table = t;
      tableOk = true;
    } else if (a === 'dev' || a === 'oif') devName = nextArg(ctx, args, i++);
    else {
      let w = a;
      if (w === 'to') w = nextArg(ctx, args, i++);
      const t = /^[0-9]/.test(w) ? null : rtntypeA2n(w);
      if (t !== null) {
        w = nextArg(ctx, args, i++);
        cfg.type = t;
      }
      if (matches(w, 'help')) return iprouteUsage(ctx);
      if (dstOk) die(ctx, `Error: either "to" is duplicate, or "${w}" is a garbage.\n`);
      dst = getInetPrefix(ctx, w, family);
      family = settleFamily(family, dst);
      dstOk = true;
    }
  }
  if (dst === null) return iprouteUsage(ctx);
  if (devName !== null) {
    const dev = ctx.net.devGetByName(devName);
    if (dev === undefined) nodev(ctx, devName);
    cfg.oif = dev.ifindex;
  }
  if (!tableOk && (cfg.type === RTN.LOCAL || cfg.type === RTN.BROADCAST || cfg.type === RTN.NAT))
    cfg.table = RT_TABLE.LOCAL;
  if (!tableOk && cfg.type === RTN.ANYCAST) cfg.table = RT_TABLE.LOCAL;
  if (!scopeOk) {
    if (cfg.type === RTN.LOCAL || cfg.type === RTN.NAT) cfg.scope = RT_SCOPE.HOST;
    else if (cfg.type === RTN.BROADCAST || cfg.type === RTN.MULTICAST || cfg.type === RTN.ANYCAST)
      cfg.scope = RT_SCOPE.LINK;
    else if (cfg.type === RTN.UNICAST || cfg.type === RTN.UNSPEC) {
      if (del) cfg.scope = RT_SCOPE.NOWHERE;
      else if (!gwOk) cfg.scope = RT_SCOPE.LINK;
    }
  }
  const req: RouteRequest = { ...cfg, dst };
  const extack: ExtAck = {};
  let err: number;
  if (family === AF.INET6) {
    const c6 = fib6Config(req, nlFlags);
    err = del ? inet6RtmDelroute(ctx.net, c6, extack) : inet6RtmNewroute(ctx.net, c6, extack);
  } else {
    const c4 = fibConfig(req, nlFlags);
    err = del ? inetRtmDelroute(ctx.net, c4, extack) : inetRtmNewroute(ctx.net, c4, extack);
  }
  return err === 0 ? 0 : rtnlError(ctx, err, extack);
}

/** rtm_to_fib_config(): the IPv4 request. */
function fibConfig(r: RouteRequest, nlFlags: number): FibConfig {
  const v4 = (p: InetPrefix | null) => (p === null ? 0 : u32(p.data));
  return {
    type: r.type,
    table: r.table,
    dst: v4(r.dst),
    dstLen: r.dst.bitlen,
    tos: r.tos,
    scope: r.scope,
    protocol: r.protocol,
    priority: r.priority,
    prefsrc: v4(r.prefsrc),
    gateway: v4(r.gateway),
    oif: r.oif,
    flags: r.flags,
    nlFlags,
  };
}

/** rtm_to_fib6_config(): the IPv6 request ("default" carries no address bytes). */
function fib6Config(r: RouteRequest, nlFlags: number): Fib6Config {
  return {
    type: r.type,
    table: r.table,
    dst: r.dst.data.length === 16 ? r.dst.data : IN6ADDR_ANY,
    dstLen: r.dst.bitlen,
    protocol: r.protocol,
    metric: r.priority,
    ifindex: r.oif,
    gateway: r.gateway?.data ?? null,
    prefsrc: r.prefsrc?.data ?? null,
    flags: r.flags,
    nlFlags,
  };
}

// ---------------------------------------------------------------------------------
// ip route get (inet_rtm_getroute + rt_fill_info).

function iprouteGet(ctx: IpContext, args: string[]): number {
  let family = ctx.opts.family;
  let dstP: InetPrefix | null = null;
  let srcP: InetPrefix | null = null;
  let mark = 0;
  let odev: string | null = null;
  let notify = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'tos' || matches(a, 'dsfield')) nextArg(ctx, args, i++);
    else if (matches(a, 'from')) {
      srcP = getInetPrefix(ctx, nextArg(ctx, args, i++), family);
      family = settleFamily(family, srcP);
    } else if (matches(a, 'iif')) {
      nextArg(ctx, args, i++);
      return die(ctx, 'lonet: ip route get iif (input routes) is not supported yet\n');
    } else if (matches(a, 'mark')) {
      const v = nextArg(ctx, args, i++);
      const n = getUnsigned(v);
      if (n === null) invarg(ctx, 'invalid mark value', v);
      mark = n;
    } else if (matches(a, 'oif') || a === 'dev') odev = nextArg(ctx, args, i++);
    else if (matches(a, 'notify')) notify = true;
    else if (matches(a, 'connected') || matches(a, 'fibmatch')) {
      // Accepted; lonet answers with the resolved route either way.
    } else if (matches(a, 'uid')) nextArg(ctx, args, i++);
    else {
      let w = a;
      if (w === 'to') w = nextArg(ctx, args, i++);
      if (matches(w, 'help')) return iprouteUsage(ctx);
      dstP = getInetPrefix(ctx, w, family);
      family = settleFamily(family, dstP);
      const host = 8 * dstP.data.length;
      if (dstP.bitlen !== host)
        ctx.stderr.write(`Warning: /${dstP.bitlen} as prefix is invalid, only /${host} (or none) is supported.\n`);
    }
  }
  if (dstP === null) {
    ctx.stderr.write('need at least a destination address\n');
    return -1;
  }
  let oif = 0;
  if (odev !== null) {
    const dev = ctx.net.devGetByName(odev);
    if (dev === undefined) nodev(ctx, odev);
    oif = dev.ifindex;
  }
  if (family === AF.INET6) return iproute6Get(ctx, dstP, srcP, oif);
  const dst = u32(dstP.data);
  const src = srcP === null ? 0 : u32(srcP.data);
  const fromOk = srcP !== null;
  const fl4 = flowi4({ daddr: dst, saddr: src, oif, mark });
  const rt = ipRouteOutputKey(ctx.net, fl4);
  if (typeof rt === 'number') return rtnlError(ctx, rt, {});
  // RTM_F_LOOKUP_TABLE: the table the FIB answered from, none when no lookup ran.
  let table = 0;
  if (dst !== 0) {
    const res = fibLookup(ctx.net, flowi4({ daddr: dst, saddr: src, oif, mark, iif: LOOPBACK_IFINDEX }));
    if (typeof res !== 'number') table = fibResultTable(ctx.net, res);
  }
  const usesGateway = rt.rtGateway !== 0 && !(rt.rtFlags & RTCF.LOCAL);
  const m: RouteMsg = {
    family: AF.INET,
    type: rt.rtType,
    table,
    dst: formatIpv4(dst),
    dstLen: 32,
    hostLen: 32,
    tos: 0,
    protocol: RTPROT.UNSPEC,
    scope: RT_SCOPE.UNIVERSE,
    flags: (rt.rtFlags | (notify ? RTCF.NOTIFY : 0)) >>> 0,
    cloned: true,
    gateway: usesGateway ? formatIpv4(rt.rtGateway) : null,
    oif: rt.dev.ifindex,
    prefsrc: fl4.saddr !== src ? formatIpv4(fl4.saddr) : null,
    priority: null,
    src: fromOk ? formatIpv4(src) : null,
    mark,
    uid: 0,
    pref: null,
  };
  // rt_fill_info(): what an exception taught (a PMTU, a redirect) shows as the route's
  // expiry, and a PMTU as its mtu metric.
  const now = ctx.net.kernel.clock.now();
  if (now < rt.expires) {
    m.expires = Math.floor((rt.expires - now) / 1e9);
    if (rt.rtPmtu > 0) {
      m.mtu = rt.rtPmtu;
      m.mtuLock = rt.mtuLocked;
    }
  }
  const f = emptyFilter();
  if (ctx.opts.json) {
    const w = new JsonWriter(ctx.opts.pretty).startArray();
    routeJson(w, ctx.net, m, f, ctx.opts.details);
    ctx.stdout.write(w.endArray().finish());
  } else ctx.stdout.write(routeText(ctx.net, m, f, ctx.opts.details));
  return 0;
}

/** inet6_rtm_getroute() + rt6_fill_info(): the route with `from` (:: when not given) and its source. */
function iproute6Get(ctx: IpContext, dstP: InetPrefix, srcP: InetPrefix | null, oif: number): number {
  const daddr = dstP.data.length === 16 ? dstP.data : IN6ADDR_ANY;
  const saddr = srcP !== null && srcP.data.length === 16 ? srcP.data : IN6ADDR_ANY;
  const res = inet6RtmGetroute(ctx.net, daddr, oif);
  if (typeof res === 'number') return rtnlError(ctx, res, {});
  const m: RouteMsg = {
    ...fib6DumpInfo(res.rt),
    dst: formatIpv6(daddr),
    dstLen: 128,
    src: formatIpv6(saddr),
    prefsrc: res.prefsrc !== null ? formatIpv6(res.prefsrc) : null,
  };
  // rt6_fill_info() of the cached copy: a learned PMTU shows as its expiry and mtu metric.
  // A redirect shows as the cached route's gateway (none when the destination is on-link).
  const ex = rt6FindCachedRt(ctx.net, daddr);
  if (ex !== undefined && ex.pmtu > 0) {
    m.expires = Math.floor((ex.expires - ctx.net.kernel.clock.now()) / 1e9);
    m.mtu = ex.pmtu;
  }
  if (ex?.redirect !== undefined) m.gateway = ex.redirect === null ? null : formatIpv6(ex.redirect);
  const f = emptyFilter();
  if (ctx.opts.json) {
    const w = new JsonWriter(ctx.opts.pretty).startArray();
    routeJson(w, ctx.net, m, f, ctx.opts.details);
    ctx.stdout.write(w.endArray().finish());
  } else ctx.stdout.write(routeText(ctx.net, m, f, ctx.opts.details));
  return 0;
}

// ---------------------------------------------------------------------------------

const USAGE = `Usage: ip route { list | flush } SELECTOR
       ip route save SELECTOR
       ip route restore
       ip route showdump
       ip route get [ ROUTE_GET_FLAGS ] [ to ] ADDRESS
                            [ from ADDRESS iif STRING ]
                            [ oif STRING ] [ tos TOS ]
                            [ mark NUMBER ] [ vrf NAME ]
                            [ uid NUMBER ] [ ipproto PROTOCOL ]
                            [ sport NUMBER ] [ dport NUMBER ]
       ip route { add | del | change | append | replace } ROUTE
SELECTOR := [ root PREFIX ] [ match PREFIX ] [ exact PREFIX ]
            [ table TABLE_ID ] [ vrf NAME ] [ proto RTPROTO ]
            [ type TYPE ] [ scope SCOPE ]
ROUTE := NODE_SPEC [ INFO_SPEC ]
NODE_SPEC := [ TYPE ] PREFIX [ tos TOS ]
             [ table TABLE_ID ] [ proto RTPROTO ]
             [ scope SCOPE ] [ metric METRIC ]
             [ ttl-propagate { enabled | disabled } ]
INFO_SPEC := { NH | nhid ID } OPTIONS FLAGS [ nexthop NH ]...
NH := [ encap ENCAPTYPE ENCAPHDR ] [ via [ FAMILY ] ADDRESS ]
	    [ dev STRING ] [ weight NUMBER ] NHFLAGS
FAMILY := [ inet | inet6 | mpls | bridge | link ]
OPTIONS := FLAGS [ mtu NUMBER ] [ advmss NUMBER ] [ as [ to ] ADDRESS ]
           [ rtt TIME ] [ rttvar TIME ] [ reordering NUMBER ]
           [ window NUMBER ] [ cwnd NUMBER ] [ initcwnd NUMBER ]
           [ ssthresh NUMBER ] [ realms REALM ] [ src ADDRESS ]
           [ rto_min TIME ] [ hoplimit NUMBER ] [ initrwnd NUMBER ]
           [ features FEATURES ] [ quickack BOOL ] [ congctl NAME ]
           [ pref PREF ] [ expires TIME ] [ fastopen_no_cookie BOOL ]
TYPE := { unicast | local | broadcast | multicast | throw |
          unreachable | prohibit | blackhole | nat }
TABLE_ID := [ local | main | default | all | NUMBER ]
SCOPE := [ host | link | global | NUMBER ]
NHFLAGS := [ onlink | pervasive ]
RTPROTO := [ kernel | boot | static | NUMBER ]
PREF := [ low | medium | high ]
TIME := NUMBER[s|ms]
BOOL := [1|0]
FEATURES := ecn
ENCAPTYPE := [ mpls | ip | ip6 | seg6 | seg6local | rpl | ioam6 ]
ENCAPHDR := [ MPLSLABEL | SEG6HDR | SEG6LOCAL | IOAM6HDR ]
SEG6HDR := [ mode SEGMODE ] segs ADDR1,ADDRi,ADDRn [hmac HMACKEYID] [cleanup]
SEGMODE := [ encap | inline ]
SEG6LOCAL := action ACTION [ OPTIONS ] [ count ]
ACTION := { End | End.X | End.T | End.DX2 | End.DX6 | End.DX4 |
            End.DT6 | End.DT4 | End.DT46 | End.B6 | End.B6.Encaps |
            End.BM | End.S | End.AS | End.AM | End.BPF }
OPTIONS := OPTION [ OPTIONS ]
OPTION := { srh SEG6HDR | nh4 ADDR | nh6 ADDR | iif DEV | oif DEV |
            table TABLEID | vrftable TABLEID | endpoint PROGNAME }
IOAM6HDR := trace prealloc type IOAM6_TRACE_TYPE ns IOAM6_NAMESPACE size IOAM6_TRACE_SIZE
ROUTE_GET_FLAGS := [ fibmatch ]
`;

function iprouteUsage(ctx: IpContext): never {
  return die(ctx, USAGE);
}

/** do_iproute(). */
export function doIproute(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return iprouteList(ctx, [], false);
  if (matches(cmd, 'add')) return iprouteModify(ctx, false, NLM_F.CREATE | NLM_F.EXCL, rest);
  if (matches(cmd, 'change') || cmd === 'chg') return iprouteModify(ctx, false, NLM_F.REPLACE, rest);
  if (matches(cmd, 'replace')) return iprouteModify(ctx, false, NLM_F.CREATE | NLM_F.REPLACE, rest);
  if (matches(cmd, 'prepend')) return iprouteModify(ctx, false, NLM_F.CREATE, rest);
  if (matches(cmd, 'append')) return iprouteModify(ctx, false, NLM_F.CREATE | NLM_F.APPEND, rest);
  if (matches(cmd, 'test')) return iprouteModify(ctx, false, NLM_F.EXCL, rest);
  if (matches(cmd, 'delete')) return iprouteModify(ctx, true, 0, rest);
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return iprouteList(ctx, rest, false);
  if (matches(cmd, 'get')) return iprouteGet(ctx, rest);
  if (matches(cmd, 'flush')) return iprouteList(ctx, rest, true);
  if (matches(cmd, 'help')) return iprouteUsage(ctx);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip route help".\n`);
  throw new IpExit(255);
}
