/**
 * `ip address` (iproute2 6.1 ip/ipaddress.c): list a namespace's addresses under
 * each device's header, as RTM_NEWLINK and RTM_NEWADDR dumps print, and add, change,
 * replace, delete and flush them through what inet_rtm_*addr / inet6_rtm_*addr do.
 * Messages (devices, addresses) are snapshots taken first, then printed as text,
 * oneline, brief or JSON, so every output mode shows the same state.
 */

import { IF_OPER_NAMES, IFF } from '../../core/if.js';
import type { ExtAck, NetDevice } from '../../core/netdevice.js';
import { E, strerror } from '../../include/errno.js';
import {
  formatIpv4,
  IFA_F,
  type IfaddrRequest,
  INFINITY_LIFE_TIME,
  inDevGet,
  inetIfaCacheinfo,
  inetRtmDeladdr,
  inetRtmNewaddr,
  RT_SCOPE,
} from '../../ipv4/devinet.js';
import { formatIpv6 } from '../../ipv6/addr.js';
import { in6DevGet, inet6IfaCacheinfo, inet6RtmDeladdr, inet6RtmNewaddr, ipv6RtScope } from '../../ipv6/addrconf.js';
import type { Net } from '../../net/net.js';
import { NLM_F } from '../../net/netlink.js';
import { fnmatch } from '../fnmatch.js';
import {
  AF,
  duparg,
  duparg2,
  getInetAddr,
  getInetPrefix,
  type InetPrefix,
  type IpContext,
  IpExit,
  type IpOptions,
  invarg,
  JsonWriter,
  matches,
  nextArg,
  strtoul0,
} from './common.js';
import {
  detailsJson,
  groupName,
  type LinkMsg,
  linkBriefJson,
  linkBriefText,
  linkDetailsText,
  linkFlagNames,
  linkNetnsText,
  llNameToIndex,
  llTypeName,
  rtnlFillIfinfo,
  statsJson,
  statsText,
} from './link.js';

/** /etc/iproute2/rt_scopes as shipped. */
const SCOPE_NAMES: Record<number, string> = {
  [RT_SCOPE.UNIVERSE]: 'global',
  [RT_SCOPE.NOWHERE]: 'nowhere',
  [RT_SCOPE.HOST]: 'host',
  [RT_SCOPE.LINK]: 'link',
  [RT_SCOPE.SITE]: 'site',
};

/** rtnl_rtscope_a2n(): a name from rt_scopes or a number up to 255. */
function rtscopeA2n(arg: string): number | null {
  for (const [id, name] of Object.entries(SCOPE_NAMES)) if (name === arg) return Number(id);
  const n = strtoul0(arg);
  return n !== null && n <= 255 ? n : null;
}

function rtscopeN2a(scope: number): string {
  return SCOPE_NAMES[scope] ?? String(scope);
}

// ---------------------------------------------------------------------------------
// The messages: what RTM_NEWADDR carries for one address.

/** The IFA_* attributes iproute2 prints, as inet_fill_ifaddr / inet6_fill_ifaddr send them. */
interface AddrMsg {
  family: number;
  ifindex: number;
  prefixlen: number;
  /** IFA_FLAGS. */
  flags: number;
  scope: number;
  /** IFA_LOCAL (or IFA_ADDRESS when no local was sent), raw and printed. */
  localBytes: Uint8Array;
  local: string;
  /** IFA_ADDRESS when it differs from the local address: the peer. */
  peer: string | null;
  broadcast: string | null;
  /** IFA_LABEL: IPv4 only, and only when not empty. */
  label: string | null;
  metric: number;
  valid: number;
  preferred: number;
}

const u32Bytes = (v: number): Uint8Array => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);

/** The RTM_GETADDR dump of one device: IPv4 first, then IPv6, each in the device's list order. */
function dumpAddrs(dev: NetDevice, family: number): AddrMsg[] {
  const now = dev.kernel.clock.now();
  const out: AddrMsg[] = [];
  if (family === AF.UNSPEC || family === AF.INET) {
    for (const ifa of inDevGet(dev)?.ifaList ?? []) {
      const ci = inetIfaCacheinfo(ifa, now);
      // Zero addresses are not sent; iproute2 then uses the other one for both.
      const local = ifa.local !== 0 ? ifa.local : ifa.address;
      const address = ifa.address !== 0 ? ifa.address : ifa.local;
      out.push({
        family: AF.INET,
        ifindex: dev.ifindex,
        prefixlen: ifa.prefixlen,
        flags: ifa.flags,
        scope: ifa.scope,
        localBytes: u32Bytes(local),
        local: formatIpv4(local),
        peer: address !== local ? formatIpv4(address) : null,
        broadcast: ifa.broadcast !== 0 ? formatIpv4(ifa.broadcast) : null,
        label: ifa.label !== '' ? ifa.label : null,
        metric: ifa.rtPriority ?? 0,
        valid: ci.valid,
        preferred: ci.preferred,
      });
    }
  }
  if (family === AF.UNSPEC || family === AF.INET6) {
    for (const ifa of in6DevGet(dev)?.addrList ?? []) {
      const ci = inet6IfaCacheinfo(ifa, now);
      const peer = ifa.peer?.some((b) => b !== 0) ? formatIpv6(ifa.peer) : null;
      out.push({
        family: AF.INET6,
        ifindex: dev.ifindex,
        prefixlen: ifa.prefixlen,
        flags: ifa.flags,
        scope: ipv6RtScope(ifa.scope),
        localBytes: ifa.addr,
        local: formatIpv6(ifa.addr),
        peer,
        broadcast: null,
        label: null,
        metric: ifa.rtPriority ?? 0,
        valid: ci.valid,
        preferred: ci.preferred,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Filters (struct filter in ipaddress.c).

interface AddrFilter {
  family: number;
  ifindex: number;
  scope: number;
  scopemask: number;
  flags: number;
  flagmask: number;
  label: string | null;
  pfx: InetPrefix | null;
  up: boolean;
  group: number;
  /** "master DEV": no lonet device has a master, so the kernel's dump is empty. */
  master: boolean;
  /** "type KIND": lonet's devices have no link kind, so print_linkinfo drops each one. */
  kind: string | null;
  oneline: boolean;
}

/** ifa_flag_data[]: names, masks, and whether a user may set them (and only on IPv6). */
const IFA_FLAG_DATA: readonly { name: string; mask: number; readonly: boolean; v6only: boolean }[] = [
  { name: 'secondary', mask: IFA_F.SECONDARY, readonly: true, v6only: false },
  { name: 'temporary', mask: IFA_F.SECONDARY, readonly: true, v6only: false },
  { name: 'nodad', mask: IFA_F.NODAD, readonly: false, v6only: true },
  { name: 'optimistic', mask: IFA_F.OPTIMISTIC, readonly: false, v6only: true },
  { name: 'dadfailed', mask: IFA_F.DADFAILED, readonly: true, v6only: true },
  { name: 'home', mask: IFA_F.HOMEADDRESS, readonly: false, v6only: true },
  { name: 'deprecated', mask: IFA_F.DEPRECATED, readonly: true, v6only: true },
  { name: 'tentative', mask: IFA_F.TENTATIVE, readonly: true, v6only: true },
  { name: 'permanent', mask: IFA_F.PERMANENT, readonly: true, v6only: true },
  { name: 'mngtmpaddr', mask: IFA_F.MANAGETEMPADDR, readonly: false, v6only: true },
  { name: 'noprefixroute', mask: IFA_F.NOPREFIXROUTE, readonly: false, v6only: false },
  { name: 'autojoin', mask: IFA_F.MCAUTOJOIN, readonly: false, v6only: false },
  { name: 'stable-privacy', mask: IFA_F.STABLE_PRIVACY, readonly: true, v6only: true },
];

/** get_filter(): FLAG or -FLAG; "dynamic" and "primary" are the negations of permanent and secondary. */
function getFilter(f: AddrFilter, arg: string): boolean {
  let inv = arg.startsWith('-');
  let name = inv ? arg.slice(1) : arg;
  if (name === 'dynamic' || name === 'primary') {
    inv = !inv;
    name = name === 'dynamic' ? 'permanent' : 'secondary';
  }
  const data = IFA_FLAG_DATA.find((d) => d.name === name);
  if (data === undefined) return false;
  f.flags = inv ? f.flags & ~data.mask : f.flags | data.mask;
  f.flagmask |= data.mask;
  return true;
}

/** inet_addr_match(): the first `bitlen` bits are equal. */
function prefixMatch(a: Uint8Array, pfx: InetPrefix): boolean {
  for (let bit = 0; bit < pfx.bitlen; bit += 8) {
    const mask = pfx.bitlen - bit >= 8 ? 0xff : (0xff << (8 - (pfx.bitlen - bit))) & 0xff;
    if ((((a[bit >> 3] ?? 0) ^ (pfx.data[bit >> 3] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/** The per-address tests of print_addrinfo() and ipaddr_filter(). */
function addrPasses(f: AddrFilter, a: AddrMsg, devName: string): boolean {
  if (f.ifindex && f.ifindex !== a.ifindex) return false;
  if ((f.scope ^ a.scope) & f.scopemask) return false;
  if ((f.flags ^ a.flags) & f.flagmask) return false;
  if (f.family && f.family !== a.family) return false;
  if (f.label !== null && !fnmatch(f.label, a.label ?? devName)) return false;
  // A "to" of family 0 ("to default" with no -4/-6) matches everything.
  if (f.pfx?.family && (f.pfx.family !== a.family || !prefixMatch(a.localBytes, f.pfx))) return false;
  return true;
}

function newFilter(o: IpOptions): AddrFilter {
  return {
    family: o.family,
    ifindex: 0,
    scope: 0,
    scopemask: 0,
    flags: 0,
    flagmask: 0,
    label: null,
    pfx: null,
    up: false,
    group: -1,
    master: false,
    kind: null,
    oneline: o.oneline,
  };
}

/** The argument loop of ipaddr_list_flush_or_save(); returns the device named, if any. */
function parseFilter(ctx: IpContext, f: AddrFilter, args: string[]): string | null {
  let dev: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'to') {
      f.pfx = getInetPrefix(ctx, nextArg(ctx, args, i++), f.family);
      if (f.family === AF.UNSPEC) f.family = f.pfx.family;
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      const scope = rtscopeA2n(v);
      f.scopemask = -1;
      if (scope === null) {
        if (v !== 'all') invarg(ctx, 'invalid "scope"\n', v);
        f.scope = RT_SCOPE.NOWHERE;
        f.scopemask = 0;
      } else f.scope = scope;
    } else if (a === 'up') f.up = true;
    else if (getFilter(f, a)) continue;
    else if (a === 'label') f.label = nextArg(ctx, args, i++);
    else if (a === 'group') {
      const v = nextArg(ctx, args, i++);
      const g = v === 'default' ? 0 : strtoul0(v);
      f.group = g ?? invarg(ctx, 'Invalid "group" value\n', v);
    } else if (a === 'master' || a === 'vrf') {
      const v = nextArg(ctx, args, i++);
      // No lonet device is a VRF, and none has a master, so nothing is listed.
      if (llNameToIndex(ctx.net, v) === 0 || a === 'vrf')
        invarg(ctx, a === 'master' ? 'Device does not exist\n' : 'Not a valid VRF name\n', v);
      f.master = true;
    } else if (a === 'nomaster') continue;
    else if (a === 'type') f.kind = nextArg(ctx, args, i++);
    else {
      let name = a;
      if (a === 'dev') name = nextArg(ctx, args, i++);
      else if (matches(a, 'help')) ipaddrUsage(ctx);
      if (dev !== null) duparg2(ctx, 'dev', name);
      dev = name;
    }
  }
  return dev;
}

// ---------------------------------------------------------------------------------
// Printing (print_linkinfo for a non-link object, print_addrinfo, print_selected_addrinfo).

/** Which RTM_NEWLINK the header comes from: the full one, or inet6_fill_ifinfo's for an AF_INET6 dump. */
type LinkView = 'full' | 'inet6';

/** Flag words print_ifa_flags() shows, in its order; "dynamic" stands for a missing "permanent". */
function ifaFlagWords(a: AddrMsg): { words: string[]; rest: number } {
  const words: string[] = [];
  let flags = a.flags;
  for (const d of IFA_FLAG_DATA) {
    if (d.mask === IFA_F.PERMANENT) {
      if (!(flags & d.mask)) words.push('dynamic');
    } else if (flags & d.mask) {
      words.push(d.mask === IFA_F.SECONDARY && a.family === AF.INET6 ? 'temporary' : d.name);
    }
    flags &= ~d.mask;
  }
  return { words, rest: flags };
}

const lft = (v: number): string => (v === INFINITY_LIFE_TIME ? 'forever' : `${v}sec`);

/** print_addrinfo() on a FILE; `prefix` is "1: lo" in oneline and flush output. */
function addrText(a: AddrMsg, o: IpOptions, prefix: string): string {
  if (o.brief)
    return `${a.local}${a.peer !== null ? ` peer ${a.peer}` : ''}/${a.prefixlen} ${a.metric ? `metric ${a.metric} ` : ''}`;
  const sl = o.oneline ? '\\' : '\n';
  let s = `${prefix}    ${a.family === AF.INET ? 'inet' : 'inet6'} ${a.local}`;
  if (a.peer !== null) s += ` peer ${a.peer}`;
  s += `/${a.prefixlen} `;
  if (a.metric) s += `metric ${a.metric} `;
  if (a.broadcast !== null) s += `brd ${a.broadcast} `;
  s += `scope ${rtscopeN2a(a.scope)} `;
  const { words, rest } = ifaFlagWords(a);
  for (const w of words) s += `${w} `;
  if (rest) s += `flags ${rest.toString(16).padStart(2, '0')} `;
  if (a.label !== null) s += a.label;
  // A deprecated address's preferred lifetime is printed signed (%d).
  const pref = a.flags & IFA_F.DEPRECATED && a.preferred !== INFINITY_LIFE_TIME ? a.preferred | 0 : a.preferred;
  s += `${sl}       valid_lft ${lft(a.valid)} preferred_lft ${a.preferred === INFINITY_LIFE_TIME ? 'forever' : `${pref}sec`}`;
  return `${s}\n`;
}

/** print_bool(PRINT_JSON, key, NULL, true). */
function jsonTrue(w: JsonWriter, key: string): void {
  w.name(key).bool(true);
}

/** print_addrinfo() in a JSON context: the members of one address object. */
function addrJson(w: JsonWriter, a: AddrMsg, o: IpOptions, devName: string | null): void {
  if (!o.brief && devName !== null) {
    w.name('index').number(a.ifindex);
    w.name('dev').string(devName);
  }
  if (!o.brief) w.name('family').string(a.family === AF.INET ? 'inet' : 'inet6');
  w.name('local').string(a.local);
  if (a.peer !== null) w.name('address').string(a.peer);
  w.name('prefixlen').number(a.prefixlen);
  if (a.metric) w.name('metric').number(a.metric);
  if (o.brief) return;
  if (a.broadcast !== null) w.name('broadcast').string(a.broadcast);
  w.name('scope').string(rtscopeN2a(a.scope));
  const { words, rest } = ifaFlagWords(a);
  for (const word of words) jsonTrue(w, word);
  if (rest) w.name('ifa_flags').string(rest.toString(16).padStart(2, '0'));
  if (a.label !== null) w.name('label').string(a.label);
  w.name('valid_life_time').number(a.valid);
  const pref = a.flags & IFA_F.DEPRECATED && a.preferred !== INFINITY_LIFE_TIME ? a.preferred | 0 : a.preferred;
  w.name('preferred_life_time').number(pref);
}

/** The header print_linkinfo() gives an address listing: no "mode", and no link/ line under a family filter. */
function headerText(m: LinkMsg, view: LinkView, f: AddrFilter, o: IpOptions): string {
  let s = `${m.ifindex}: ${m.displayName}: <${linkFlagNames(m.flags, m.mDown).join(',')}> mtu ${m.mtu} `;
  if (view === 'full') s += `qdisc ${m.qdisc} `;
  const oper = IF_OPER_NAMES[m.operstate];
  s += oper !== undefined ? `state ${oper} ` : `state 0x${m.operstate.toString(16)} `;
  if (view === 'full') s += `group ${groupName(m.group)} `;
  if (m.txqlen !== 0) s += `qlen ${m.txqlen}`;
  if (!f.family || f.family === AF.PACKET || o.details) {
    s += `${o.oneline ? '\\' : '\n'}    link/${llTypeName(m.type)} `;
    if (m.address !== null) s += m.address;
    if (m.broadcast !== null && view === 'full') s += ` ${m.flags & IFF.POINTOPOINT ? 'peer' : 'brd'} ${m.broadcast}`;
    if (view === 'full') s += linkNetnsText(m);
    // An address listing shows no addrgenmode: that is IFLA_AF_SPEC, printed for `ip link` only.
    if (o.details && view === 'full') s += linkDetailsText({ ...m, addrGenMode: null });
  } else if (view === 'full') s += linkNetnsText(m);
  return `${s}\n`;
}

function headerJson(w: JsonWriter, m: LinkMsg, view: LinkView, f: AddrFilter, o: IpOptions): void {
  w.name('ifindex').number(m.ifindex);
  w.name('ifname').string(m.ifname);
  w.name('flags').startArray();
  for (const name of linkFlagNames(m.flags, m.mDown)) w.string(name);
  w.endArray();
  w.name('mtu').number(m.mtu);
  if (view === 'full') w.name('qdisc').string(m.qdisc);
  const oper = IF_OPER_NAMES[m.operstate];
  if (oper !== undefined) w.name('operstate').string(oper);
  else w.name('operstate_index').number(m.operstate);
  if (view === 'full') w.name('group').string(groupName(m.group));
  if (m.txqlen !== 0) w.name('txqlen').number(m.txqlen);
  if (!f.family || f.family === AF.PACKET || o.details) {
    w.name('link_type').string(llTypeName(m.type));
    if (m.address !== null) w.name('address').string(m.address);
    if (m.broadcast !== null && view === 'full') w.name('broadcast').string(m.broadcast);
    if (o.details && view === 'full') detailsJson(w, { ...m, addrGenMode: null });
  }
}

/** print_linkinfo_brief() for addresses: name and state, then the addresses on the same line. */
function briefHeaderText(m: LinkMsg): string {
  const oper = IF_OPER_NAMES[m.operstate] ?? String(m.operstate);
  return `${m.displayName.padEnd(16)} ${oper.padEnd(14)} `;
}

// ---------------------------------------------------------------------------------
// ip address show / list / lst (ipaddr_list_flush_or_save, IPADD_LIST).

interface DevEntry {
  dev: NetDevice;
  link: LinkMsg;
  addrs: AddrMsg[];
}

/** The link dump (or the one device asked for) and each device's address dump. */
function collect(net: Net, f: AddrFilter, view: LinkView): DevEntry[] {
  let devs = net.devices;
  if (f.ifindex) devs = devs.filter((d) => d.ifindex === f.ifindex);
  // An AF_INET6 link dump (inet6_dump_ifinfo) lists only devices with IPv6 state.
  else if (view === 'inet6') devs = devs.filter((d) => in6DevGet(d) !== null);
  const addrFamily = f.family === AF.PACKET ? AF.UNSPEC : f.family;
  return devs.map((dev) => ({ dev, link: rtnlFillIfinfo(dev), addrs: dumpAddrs(dev, addrFamily) }));
}

/** ipaddr_filter(): a device stays if one of its addresses passes, or if it has none at all. */
function ipaddrFilter(entries: DevEntry[], f: AddrFilter): DevEntry[] {
  return entries.filter((e) => {
    const all = dumpAddrs(e.dev, AF.UNSPEC);
    if (all.length === 0) return f.family === AF.UNSPEC || f.family === AF.PACKET;
    return e.addrs.some((a) => addrPasses({ ...f, ifindex: 0 }, a, e.dev.name));
  });
}

function ipaddrList(ctx: IpContext, args: string[]): number {
  const o = ctx.opts;
  const f = newFilter(o);
  const devName = parseFilter(ctx, f, args);
  if (devName !== null) {
    f.ifindex = llNameToIndex(ctx.net, devName);
    if (f.ifindex <= 0) {
      ctx.stderr.write(`Device "${devName}" does not exist.\n`);
      return -1;
    }
  }
  // ipaddr_link_get() asks for one device (the full message); a link dump under -6 is inet6's.
  const view: LinkView = o.family === AF.INET6 && !f.ifindex ? 'inet6' : 'full';
  let entries = collect(ctx.net, f, view);
  if (f.family !== AF.PACKET) entries = ipaddrFilter(entries, f);
  if (f.master) entries = [];
  const noLink = f.family !== AF.PACKET && f.oneline;
  const w = o.json ? new JsonWriter(o.pretty).startArray() : null;
  let text = '';
  for (const e of entries) {
    w?.startObject();
    // print_linkinfo(): -1 for a device the filter drops, 0 under a label filter (no header), 1 printed.
    let res = 0;
    if (o.brief || !noLink) {
      if (f.up && !(e.link.flags & IFF.UP)) res = -1;
      else if (f.label !== null) res = 0;
      else if ((f.group !== -1 && e.dev.group !== f.group) || f.kind !== null) res = -1;
      else {
        res = 1;
        text += printLinkHeader(w, e.link, view, f, o);
      }
    }
    if (res >= 0 && f.family !== AF.PACKET) text += printSelected(w, e, f, o, ctx.net);
    if (res > 0 && o.stats && !o.brief) {
      if (w !== null) statsJson(w, e.link, o);
      else text += `${statsText(e.link, o, '\n')}\n`;
    }
    w?.endObject();
  }
  ctx.stdout.write(w !== null ? w.endArray().finish() : text);
  return 0;
}

function printLinkHeader(w: JsonWriter | null, m: LinkMsg, view: LinkView, f: AddrFilter, o: IpOptions): string {
  if (o.brief) {
    if (f.family === AF.PACKET) {
      if (w !== null) linkBriefJson(w, m);
      return w !== null ? '' : linkBriefText(m);
    }
    if (w !== null) {
      w.name('ifname').string(m.ifname);
      w.name('operstate').string(IF_OPER_NAMES[m.operstate] ?? String(m.operstate));
      return '';
    }
    return briefHeaderText(m);
  }
  if (w !== null) {
    headerJson(w, m, view, f, o);
    return '';
  }
  return headerText(m, view, f, o);
}

/** print_selected_addrinfo(). */
function printSelected(w: JsonWriter | null, e: DevEntry, f: AddrFilter, o: IpOptions, net: Net): string {
  const dev = net.devGetByIndex(e.dev.ifindex);
  const name = dev?.name ?? `if${e.dev.ifindex}`;
  w?.name('addr_info').startArray();
  let text = '';
  for (const a of e.addrs) {
    if (f.family && f.family !== a.family) continue;
    if (f.up && !(e.link.flags & IFF.UP)) continue;
    const pass = addrPasses(f, a, e.dev.name);
    if (w !== null) {
      // The object is opened before print_addrinfo() applies its filters, so a rejected address is "{}".
      w.startObject();
      if (pass) addrJson(w, a, o, f.oneline ? name : null);
      w.endObject();
    } else if (pass) text += addrText(a, o, f.oneline ? `${a.ifindex}: ${name}` : '');
  }
  w?.endArray();
  if (o.brief && w === null) text += '\n';
  return text;
}

// ---------------------------------------------------------------------------------
// ip address flush (ipaddr_flush).

/** MAX_ROUNDS: how many dump-and-delete rounds -l allows by default. */
const MAX_FLUSH_LOOPS = 10;

/** The RTM_DELADDR a flush sends for a dumped address: the same attributes as the dump carried. */
function delRequestOf(dev: NetDevice, a: AddrMsg): IfaddrRequest {
  const req: IfaddrRequest = {
    ifindex: dev.ifindex,
    prefixlen: a.prefixlen,
    flags: a.flags,
    scope: a.scope,
    nlFlags: 0,
    local: a.localBytes,
  };
  if (a.family === AF.INET) {
    const ifa = inDevGet(dev)?.ifaList.find((i) => formatIpv4(i.local) === a.local);
    if (ifa !== undefined) req.address = u32Bytes(ifa.address !== 0 ? ifa.address : ifa.local);
    if (a.label !== null) req.label = a.label;
  } else {
    const ifa = in6DevGet(dev)?.addrList.find((i) => formatIpv6(i.addr) === a.local);
    req.address = ifa?.peer ?? a.localBytes;
  }
  return req;
}

function ipaddrFlush(ctx: IpContext, args: string[]): number {
  const o = ctx.opts;
  const f = newFilter(o);
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return -1;
  }
  if (f.family === AF.PACKET) {
    ctx.stderr.write('Cannot flush link addresses.\n');
    return -1;
  }
  const devName = parseFilter(ctx, f, args);
  if (devName !== null) {
    f.ifindex = llNameToIndex(ctx.net, devName);
    if (f.ifindex <= 0) {
      ctx.stderr.write(`Device "${devName}" does not exist.\n`);
      return -1;
    }
  }
  let round = 0;
  const done = (): number => {
    if (o.stats) {
      ctx.stdout.write(
        round === 0 ? 'Nothing to flush.\n' : `*** Flush is complete after ${round} round${round > 1 ? 's' : ''} ***\n`,
      );
    }
    return 0;
  };
  while (round < MAX_FLUSH_LOOPS) {
    const victims: [NetDevice, AddrMsg][] = [];
    for (const dev of ctx.net.devices) {
      for (const a of dumpAddrs(dev, f.family)) {
        if (!addrPasses(f, a, dev.name)) continue;
        victims.push([dev, a]);
        if (o.stats >= 2) ctx.stdout.write(addrText(a, { ...o, brief: false }, `${a.ifindex}: ${dev.name}`));
      }
    }
    if (victims.length === 0) return done();
    round++;
    for (const [dev, a] of victims) {
      const req = delRequestOf(dev, a);
      // A primary takes its secondaries with it, so their own deletes find nothing: that is expected.
      const err = a.family === AF.INET ? inetRtmDeladdr(ctx.net, req, {}) : inet6RtmDeladdr(ctx.net, req, {});
      if (err !== 0 && err !== -E.EADDRNOTAVAIL) {
        ctx.stderr.write(`Failed to send flush request: ${strerror(err)}\n`);
        return 1;
      }
    }
    if (o.stats) ctx.stdout.write(`\n*** Round ${round}, deleting ${victims.length} addresses ***\n`);
    // Flushing primaries only is one round: more would take secondaries that got promoted.
    if (!(f.flags & IFA_F.SECONDARY) && f.flagmask & IFA_F.SECONDARY) return done();
  }
  ctx.stderr.write(`*** Flush remains incomplete after ${MAX_FLUSH_LOOPS} rounds. ***\n`);
  return 1;
}

// ---------------------------------------------------------------------------------
// ip address add / change / replace / del (ipaddr_modify).

type ModifyCmd = 'new' | 'del';

/** What ipaddr_modify collects before it talks to the kernel. */
interface ModifyArgs {
  family: number;
  dev: string | null;
  label: string | null;
  local: InetPrefix | null;
  localArg: string;
  peer: InetPrefix | null;
  broadcast: InetPrefix | null;
  /** -1: "+", -2: "-" (computed from the prefix), 0: none. */
  brdMode: number;
  scope: number | null;
  metric: number | null;
  valid: string | null;
  preferred: string | null;
  validLft: number;
  preferredLft: number;
  flags: number;
}

/** set_lifetime(): "forever" or a u32. */
function setLifetime(arg: string): number | null {
  if (arg === 'forever') return INFINITY_LIFE_TIME;
  const n = strtoul0(arg);
  return n !== null && n <= 0xffffffff ? n : null;
}

function parseModify(ctx: IpContext, args: string[]): ModifyArgs {
  const m: ModifyArgs = {
    family: ctx.opts.family,
    dev: null,
    label: null,
    local: null,
    localArg: '',
    peer: null,
    broadcast: null,
    brdMode: 0,
    scope: null,
    metric: null,
    valid: null,
    preferred: null,
    validLft: INFINITY_LIFE_TIME,
    preferredLft: INFINITY_LIFE_TIME,
    flags: 0,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'peer' || a === 'remote') {
      const v = nextArg(ctx, args, i++);
      if (m.peer !== null) duparg(ctx, 'peer', v);
      m.peer = getInetPrefix(ctx, v, m.family);
      if (m.family === AF.UNSPEC) m.family = m.peer.family;
    } else if (matches(a, 'broadcast') || a === 'brd') {
      const v = nextArg(ctx, args, i++);
      if (m.brdMode !== 0 || m.broadcast !== null) duparg(ctx, 'broadcast', v);
      if (v === '+') m.brdMode = -1;
      else if (v === '-') m.brdMode = -2;
      else {
        m.broadcast = getInetAddr(ctx, v, m.family);
        if (m.family === AF.UNSPEC) m.family = m.broadcast.family;
      }
    } else if (a === 'anycast') {
      // IPv4 ignores IFA_ANYCAST and lonet has no IPv6 anycast: the address is checked and dropped.
      const v = nextArg(ctx, args, i++);
      const any = getInetAddr(ctx, v, m.family);
      if (m.family === AF.UNSPEC) m.family = any.family;
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      m.scope = rtscopeA2n(v) ?? invarg(ctx, 'invalid scope value.', v);
    } else if (a === 'dev') m.dev = nextArg(ctx, args, i++);
    else if (a === 'label') m.label = nextArg(ctx, args, i++);
    else if (matches(a, 'metric') || matches(a, 'priority') || matches(a, 'preference')) {
      const v = nextArg(ctx, args, i++);
      const n = strtoul0(v);
      m.metric = n !== null && n <= 0xffffffff ? n : invarg(ctx, '"metric" value is invalid\n', v);
    } else if (matches(a, 'valid_lft') || matches(a, 'preferred_lft')) {
      const valid = matches(a, 'valid_lft');
      const key = valid ? 'valid_lft' : 'preferred_lft';
      // iproute2 checks for a duplicate before taking the value, so it names the keyword.
      if ((valid ? m.valid : m.preferred) !== null) duparg(ctx, key, a);
      const v = nextArg(ctx, args, i++);
      const n = setLifetime(v) ?? invarg(ctx, `${key} value`, v);
      if (valid) {
        m.valid = v;
        m.validLft = n;
      } else {
        m.preferred = v;
        m.preferredLft = n;
      }
    } else {
      const data = IFA_FLAG_DATA.find((d) => d.name === a);
      if (data !== undefined) {
        if (data.readonly) ctx.stderr.write(`Warning: ${data.name} option is not mutable from userspace\n`);
        else if (data.v6only && m.family !== AF.INET6)
          ctx.stderr.write(`Warning: ${data.name} option can be set only for IPv6 addresses\n`);
        else m.flags |= data.mask;
        continue;
      }
      let v = a;
      if (a === 'local') v = nextArg(ctx, args, i++);
      if (matches(v, 'help')) ipaddrUsage(ctx);
      if (m.local !== null) duparg2(ctx, 'local', v);
      m.localArg = v;
      m.local = getInetPrefix(ctx, v, m.family);
      if (m.family === AF.UNSPEC) m.family = m.local.family;
    }
  }
  return m;
}

/** The rest of ipaddr_modify(): iproute2's own checks, then the request; -1 or -2 as it returns. */
function ipaddrModify(ctx: IpContext, cmd: ModifyCmd, nlFlags: number, args: string[]): number {
  const m = parseModify(ctx, args);
  if (m.dev === null) {
    ctx.stderr.write('Not enough information: "dev" argument is required.\n');
    return -1;
  }
  const req: IfaddrRequest = { ifindex: 0, prefixlen: 0, flags: m.flags, scope: 0, nlFlags };
  if (m.local !== null) req.local = m.local.data;
  if (m.peer !== null) {
    req.address = m.peer.data;
    req.prefixlen = m.peer.bitlen;
  }
  let peer = m.peer;
  if (m.peer === null && m.local !== null) {
    if (cmd === 'del' && m.local.family === AF.INET && !m.local.specified) {
      ctx.stderr.write(
        'Warning: Executing wildcard deletion to stay compatible with old scripts.\n' +
          `         Explicitly specify the prefix length (${m.localArg}/${m.local.data.length * 8}) to avoid this warning.\n` +
          '         This special behaviour is likely to disappear in further releases,\n' +
          '         fix your scripts!\n',
      );
    } else {
      peer = m.local;
      req.address = m.local.data;
    }
  }
  if (req.prefixlen === 0) req.prefixlen = m.local?.bitlen ?? 0;
  if (m.broadcast !== null) req.broadcast = m.broadcast.data;
  if (m.brdMode < 0 && cmd !== 'del') {
    if (m.family !== AF.INET) {
      ctx.stderr.write('Broadcast can be set only for IPv4 addresses\n');
      return -1;
    }
    if (peer !== null && peer.bitlen <= 30) {
      const brd = Uint8Array.from(peer.data);
      for (let i = 31; i >= peer.bitlen; i--) {
        const byte = i >> 3;
        const bit = 0x80 >> (i & 7);
        brd[byte] = m.brdMode === -1 ? (brd[byte] ?? 0) | bit : (brd[byte] ?? 0) & ~bit;
      }
      req.broadcast = brd;
    }
  }
  if (m.scope !== null) req.scope = m.scope;
  // default_scope(): a 127/8 address is scope host unless told otherwise.
  else if (cmd !== 'del') req.scope = m.local?.family === AF.INET && m.local.data[0] === 127 ? RT_SCOPE.HOST : 0;
  if (m.label !== null) req.label = m.label;
  if (m.metric !== null) req.rtPriority = m.metric;
  req.ifindex = llNameToIndex(ctx.net, m.dev);
  if (req.ifindex === 0) {
    ctx.stderr.write(`Cannot find device "${m.dev}"\n`);
    return -1;
  }
  if (m.valid !== null || m.preferred !== null) {
    if (m.validLft === 0) {
      ctx.stderr.write('valid_lft is zero\n');
      return -1;
    }
    if (m.validLft < m.preferredLft) {
      ctx.stderr.write('preferred_lft is greater than valid_lft\n');
      return -1;
    }
    req.cacheinfo = { valid: m.validLft, preferred: m.preferredLft };
  }
  if (m.flags & IFA_F.MCAUTOJOIN && !isMulticast(m.local)) {
    ctx.stderr.write('autojoin needs multicast address\n');
    return -1;
  }
  return rtnlTalk(ctx, m.family, cmd, req);
}

function isMulticast(p: InetPrefix | null): boolean {
  if (p === null) return false;
  return p.family === AF.INET ? ((p.data[0] ?? 0) & 0xf0) === 0xe0 : p.data[0] === 0xff;
}

/** rtnl_talk(): the family picks the kernel's handler; AF_UNSPEC has none for addresses. */
function rtnlTalk(ctx: IpContext, family: number, cmd: ModifyCmd, req: IfaddrRequest): number {
  const extack: ExtAck = {};
  let err: number;
  if (family === AF.INET) err = (cmd === 'new' ? inetRtmNewaddr : inetRtmDeladdr)(ctx.net, req, extack);
  else if (family === AF.INET6) err = (cmd === 'new' ? inet6RtmNewaddr : inet6RtmDeladdr)(ctx.net, req, extack);
  else err = -E.EOPNOTSUPP;
  if (err === 0) return 0;
  if (extack.msg !== undefined)
    ctx.stderr.write(`Error: ${extack.msg.endsWith('.') ? extack.msg : `${extack.msg}.`}\n`);
  else ctx.stderr.write(`RTNETLINK answers: ${strerror(err)}\n`);
  return -2;
}

// ---------------------------------------------------------------------------------
// Usage and dispatch.

const IPADDR_USAGE = `Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]
                                                      [ CONFFLAG-LIST ]
       ip address del IFADDR dev IFNAME [mngtmpaddr]
       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ]
                            [ to PREFIX ] [ FLAG-LIST ] [ label LABEL ] [up]
       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ master DEVICE ]
                         [ nomaster ]
                         [ type TYPE ] [ to PREFIX ] [ FLAG-LIST ]
                         [ label LABEL ] [up] [ vrf NAME ] ]
       ip address {showdump|restore}
IFADDR := PREFIX | ADDR peer PREFIX
          [ broadcast ADDR ] [ anycast ADDR ]
          [ label IFNAME ] [ scope SCOPE-ID ] [ metric METRIC ]
SCOPE-ID := [ host | link | global | NUMBER ]
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG  := [ permanent | dynamic | secondary | primary |
           [-]tentative | [-]deprecated | [-]dadfailed | temporary |
           CONFFLAG-LIST ]
CONFFLAG-LIST := [ CONFFLAG-LIST ] CONFFLAG
CONFFLAG  := [ home | nodad | mngtmpaddr | noprefixroute | autojoin ]
LIFETIME := [ valid_lft LFT ] [ preferred_lft LFT ]
LFT := forever | SECONDS
TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
          dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
          ip6erspan | ip6gre | ip6gretap | ip6tnl |
          ipip | ipoib | ipvlan | ipvtap |
          macsec | macvlan | macvtap |
          netdevsim | nlmon | rmnet | sit | team | team_slave |
          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
          xfrm | virt_wifi }
`;

/** usage(): to stderr, then exit(-1). */
function ipaddrUsage(ctx: IpContext): never {
  ctx.stderr.write(IPADDR_USAGE);
  throw new IpExit(255);
}

/** do_ipaddr(): the first matching command wins, in iproute2's order ("s" is show, "d" delete). */
export function doIpaddr(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return ipaddrList(ctx, []);
  if (matches(cmd, 'add')) return ipaddrModify(ctx, 'new', NLM_F.CREATE | NLM_F.EXCL, rest);
  if (matches(cmd, 'change') || cmd === 'chg') return ipaddrModify(ctx, 'new', NLM_F.REPLACE, rest);
  if (matches(cmd, 'replace')) return ipaddrModify(ctx, 'new', NLM_F.CREATE | NLM_F.REPLACE, rest);
  if (matches(cmd, 'delete')) return ipaddrModify(ctx, 'del', 0, rest);
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return ipaddrList(ctx, rest);
  if (matches(cmd, 'flush')) return ipaddrFlush(ctx, rest);
  if (matches(cmd, 'save') || matches(cmd, 'showdump') || matches(cmd, 'restore')) {
    // The binary dump format needs a file to go to; lonet's shell has no redirection.
    ctx.stderr.write('Not sending a binary stream to stdout\n');
    return -1;
  }
  if (matches(cmd, 'help')) ipaddrUsage(ctx);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip address help".\n`);
  throw new IpExit(255);
}
