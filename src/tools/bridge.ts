/**
 * bridge(8) from iproute2 6.1, the `link` and `fdb` objects: ports and their STP
 * state (bridge/link.c), and the forwarding database (bridge/fdb.c), read the way the
 * kernel dumps them (rtnl_bridge_getlink, rtnl_fdb_dump: devices in ifindex order,
 * each port's entries from its master, then the device's own).
 *
 * The kernel's AF_BRIDGE link message carries IFLA_LINK without IFLA_LINK_NETNSID, so
 * `bridge link` names a veth port's peer by its ifindex in the namespace it lists,
 * whatever device that is there ("va@br0" for a peer with ifindex 2 elsewhere), as
 * iproute2 does.
 */
import { IFF } from '../core/if.js';
import { devGetIflink } from '../core/link-watch.js';
import { devGetFlags, type FdbDumpEntry, type NetDevice } from '../core/netdevice.js';
import { NLM_F, NTF, rtnlFdbChange } from '../core/rtnetlink.js';
import { strerror } from '../include/errno.js';
import type { Net } from '../net/net.js';
import type { Command } from './command.js';
import { defaultIpOptions, die, type IpContext, IpExit, matches } from './ip/common.js';
import { linkFlagNames } from './ip/link.js';
import { STP_STATES } from './ip/link-bridge.js';

const USAGE = `Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
       bridge [ -force ] -batch filename
where  OBJECT := { link | fdb | mdb | vlan | monitor }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
                    -o[neline] | -t[imestamp] | -n[etns] name |
                    -c[ompressvlans] -color -p[retty] -j[son] }
`;

const FDB_USAGE = `Usage: bridge fdb { add | append | del | replace } ADDR dev DEV
              [ self ] [ master ] [ use ] [ router ] [ extern_learn ]
              [ sticky ] [ local | static | dynamic ] [ vlan VID ]
              { [ dst IPADDR ] [ port PORT] [ vni VNI ] | [ nhid NHID ] }
	       [ via DEV ] [ src_vni VNI ]
       bridge fdb [ show [ br BRDEV ] [ brport DEV ] [ vlan VID ]
              [ state STATE ] [ dynamic ] ]
       bridge fdb get [ to ] LLADDR [ br BRDEV ] { brport | dev } DEV
              [ vlan VID ] [ vni VNI ] [ self ] [ master ] [ dynamic ]
       bridge fdb flush dev DEV [ brport DEV ] [ vlan VID ]
              [ self ] [ master ] [ [no]permanent | [no]static | [no]dynamic ]
              [ [no]added_by_user ] [ [no]extern_learn ] [ [no]sticky ]
              [ [no]offloaded ]
`;

/** NUD_* and NTF_* as the kernel reports FDB entries. */
const NUD = { REACHABLE: 0x02, STALE: 0x04, NOARP: 0x40, PERMANENT: 0x80 } as const;
const NTF_SELF = 0x02;

function llIndexToName(net: Net, ifindex: number): string {
  return net.devGetByIndex(ifindex)?.name ?? `if${ifindex}`;
}

/** nodev(): "Cannot find device", and -1 (exit 255). */
function nodev(ctx: IpContext, name: string): number {
  ctx.stderr.write(`Cannot find device "${name}"\n`);
  return -1;
}

// ---------------------------------------------------------------------------------
// bridge link

/** The port attributes print_protinfo shows with -d, in its order. */
const PROTINFO_DETAILS = [
  'hairpin',
  'guard',
  'root_block',
  'fastleave',
  'learning',
  'flood',
  'mcast_flood',
  'bcast_flood',
  'mcast_router',
  'mcast_to_unicast',
  'neigh_suppress',
  'vlan_tunnel',
  'isolated',
  'locked',
];

/** br_fill_ifinfo() + print_linkinfo(): one port. */
function brlinkText(ctx: IpContext, dev: NetDevice, master: NetDevice, details: boolean): string {
  const net = ctx.net;
  const iflink = devGetIflink(dev);
  let name = dev.name;
  let mDown = false;
  if (iflink !== dev.ifindex && iflink !== 0) {
    const other = net.devGetByIndex(iflink);
    name += `@${llIndexToName(net, iflink)}`;
    mDown = !((other !== undefined ? devGetFlags(other) : 0) & IFF.UP);
  }
  let s = `${dev.ifindex}: ${name}: <${linkFlagNames(devGetFlags(dev), mDown).join(',')}> mtu ${dev.mtu} master ${master.name} `;
  const info = new Map(master.rtnlLinkOps?.fillSlaveInfo?.(master, dev) ?? []);
  const state = info.get('state') as number;
  s += `state ${STP_STATES[state] ?? `(${state})`} priority ${info.get('priority')} cost ${info.get('cost')} `;
  if (details) {
    s += '\n    ';
    for (const k of PROTINFO_DETAILS) {
      const v = info.get(k);
      if (v === undefined) continue;
      s += k === 'mcast_router' ? `${k} ${v} ` : `${k} ${v ? 'on' : 'off'} `;
    }
  }
  return `${s}\n`;
}

function brlinkShow(ctx: IpContext, args: string[], details: boolean): number {
  let filter: string | null = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === 'dev') {
      const v = args[++i];
      if (v === undefined) die(ctx, 'Command line is not complete. Try option "help"\n');
      if (filter !== null) die(ctx, `Error: duplicate "dev": "${v}" is the second value.\n`);
      filter = v;
    }
  }
  let index = 0;
  if (filter !== null) {
    index = ctx.net.devGetByName(filter)?.ifindex ?? 0;
    if (index === 0) return nodev(ctx, filter);
  }
  let out = '';
  for (const dev of ctx.net.devices) {
    const master = dev.master;
    if (master === null || master.rtnlLinkOps?.fillSlaveInfo === undefined) continue;
    if (index !== 0 && dev.ifindex !== index) continue;
    out += brlinkText(ctx, dev, master, details);
  }
  ctx.stdout.write(out);
  return 0;
}

function doLink(ctx: IpContext, args: string[], details: boolean): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return brlinkShow(ctx, [], details);
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return brlinkShow(ctx, rest, details);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "bridge link help".\n`);
  throw new IpExit(255);
}

// ---------------------------------------------------------------------------------
// bridge fdb

interface FdbFilter {
  index: number;
  master: number;
  state: number;
  dynamic: boolean;
}

/** rtnl_fdb_dump(): devices in order; a port's entries from its master, then each device's own. */
function fdbDump(net: Net, brIdx: number, brportIdx: number): FdbDumpEntry[] {
  const out: FdbDumpEntry[] = [];
  const brDev = brIdx !== 0 ? net.devGetByIndex(brIdx) : undefined;
  for (const dev of net.devices) {
    if (brportIdx !== 0 && dev.ifindex !== brportIdx) continue;
    let master: NetDevice | null = null;
    if (brDev === undefined) master = dev.master;
    else {
      if (dev !== brDev && dev.master === null) continue;
      if (dev.master !== brDev && dev !== brDev) continue;
      master = dev.master;
    }
    if (master !== null) out.push(...(master.netdevOps.ndoFdbDump?.(master, dev) ?? []));
    out.push(...(dev.netdevOps.ndoFdbDump?.(dev, null) ?? []));
  }
  return out;
}

function stateText(s: number): string {
  if (s & NUD.PERMANENT) return 'permanent';
  if (s & NUD.NOARP) return 'static';
  if (s & NUD.STALE) return 'stale';
  if (s & NUD.REACHABLE) return '';
  return `state=0x${s.toString(16)}`;
}

/** print_fdb(). */
function fdbText(ctx: IpContext, e: FdbDumpEntry, f: FdbFilter, stats: boolean): string {
  if (f.index !== 0 && f.index !== e.ifindex) return '';
  if (f.state !== 0 && !(e.state & f.state)) return '';
  if (f.dynamic && e.state & NUD.PERMANENT) return '';
  let s = `${Array.from(e.lladdr, (b) => b.toString(16).padStart(2, '0')).join(':')} `;
  if (f.index === 0 && e.ifindex !== 0) s += `dev ${llIndexToName(ctx.net, e.ifindex)} `;
  if (stats) s += `used ${Math.floor(e.used / 100)}/${Math.floor(e.updated / 100)} `;
  if (e.flags & NTF_SELF) s += 'self ';
  if (e.flags & NTF.STICKY) s += 'sticky ';
  if (e.master !== 0) s += `master ${llIndexToName(ctx.net, e.master)} `;
  return `${s}${stateText(e.state)}\n`;
}

/** state_a2n(). */
function stateA2n(arg: string): number | null {
  if (matches(arg, 'permanent')) return NUD.PERMANENT;
  if (matches(arg, 'static') || matches(arg, 'temp')) return NUD.NOARP;
  if (matches(arg, 'stale')) return NUD.STALE;
  if (matches(arg, 'reachable') || matches(arg, 'dynamic')) return NUD.REACHABLE;
  if (arg === 'all') return ~0;
  return /^\d+$/.test(arg) ? Number(arg) : null;
}

function fdbShow(ctx: IpContext, args: string[], stats: boolean): number {
  let filterDev: string | null = null;
  let br: string | null = null;
  const f: FdbFilter = { index: 0, master: 0, state: 0, dynamic: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = (): string => args[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n');
    if (a === 'brport' || a === 'dev') filterDev = next();
    else if (a === 'br') br = next();
    else if (a === 'state') {
      const v = next();
      const s = stateA2n(v);
      if (s === null) die(ctx, `Error: argument "${v}" is wrong: invalid state\n`);
      f.state |= s;
    } else if (a === 'dynamic') f.dynamic = true;
    else if (matches(a, 'help')) die(ctx, FDB_USAGE);
  }
  if (br !== null) {
    f.master = ctx.net.devGetByName(br)?.ifindex ?? 0;
    if (f.master === 0) {
      ctx.stderr.write(`Cannot find bridge device "${br}"\n`);
      return -1;
    }
  }
  if (filterDev !== null) {
    f.index = ctx.net.devGetByName(filterDev)?.ifindex ?? 0;
    if (f.index === 0) return nodev(ctx, filterDev);
  }
  let out = '';
  for (const e of fdbDump(ctx.net, f.master, f.index)) out += fdbText(ctx, e, f, stats);
  ctx.stdout.write(out);
  return 0;
}

/**
 * fdb_modify(): `add|append|replace|del ADDR dev DEV [self] [master] [local|permanent|
 * static|temp|dynamic] [sticky]`. Neither self nor master means self; a state other than
 * static or dynamic means permanent.
 */
function fdbModify(ctx: IpContext, args: string[], add: boolean, nlFlags: number): number {
  let d: string | null = null;
  let addr: string | null = null;
  let ntf = 0;
  let state: number = NUD.NOARP;
  let sticky = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i] as string;
    const next = (): string => args[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n');
    if (a === 'dev') d = next();
    else if (a === 'self') ntf |= NTF.SELF;
    else if (matches(a, 'master')) ntf |= NTF.MASTER;
    else if (matches(a, 'local') || matches(a, 'permanent')) state |= NUD.PERMANENT;
    else if (matches(a, 'temp') || matches(a, 'static')) state |= NUD.REACHABLE;
    else if (matches(a, 'dynamic')) state = (state | NUD.REACHABLE) & ~NUD.NOARP;
    else if (matches(a, 'sticky')) sticky = true;
    else {
      if (a === 'to') a = next();
      if (matches(a, 'help')) die(ctx, FDB_USAGE);
      if (addr !== null) die(ctx, `Error: either "to" is duplicate, or "${a}" is a garbage.\n`);
      addr = a;
    }
  }
  if (d === null || addr === null) {
    ctx.stderr.write('Device and address are required arguments.\n');
    return -1;
  }
  if (!(ntf & (NTF.SELF | NTF.MASTER))) ntf |= NTF.SELF;
  if (!(state & (NUD.PERMANENT | NUD.REACHABLE))) state |= NUD.PERMANENT;
  // sscanf("%hhx:%hhx:%hhx:%hhx:%hhx:%hhx"): six hex fields, whatever follows.
  const m = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)/i.exec(addr);
  if (m === null) {
    ctx.stderr.write(`Invalid mac address ${addr}\n`);
    return -1;
  }
  const lladdr = Uint8Array.from(m.slice(1), (h) => Number.parseInt(h.slice(-2), 16));
  const dev = ctx.net.devGetByName(d);
  if (dev === undefined) return nodev(ctx, d);
  const err = rtnlFdbChange(dev, lladdr, state, ntf | (sticky ? NTF.STICKY : 0), nlFlags, add);
  if (err < 0) {
    ctx.stderr.write(`RTNETLINK answers: ${strerror(-err)}\n`);
    return -1;
  }
  return 0;
}

function doFdb(ctx: IpContext, args: string[], stats: boolean): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return fdbShow(ctx, [], stats);
  if (matches(cmd, 'add')) return fdbModify(ctx, rest, true, NLM_F.CREATE | NLM_F.EXCL);
  if (matches(cmd, 'append')) return fdbModify(ctx, rest, true, NLM_F.CREATE | NLM_F.APPEND);
  if (matches(cmd, 'replace')) return fdbModify(ctx, rest, true, NLM_F.CREATE | NLM_F.REPLACE);
  if (matches(cmd, 'delete')) return fdbModify(ctx, rest, false, 0);
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return fdbShow(ctx, rest, stats);
  if (matches(cmd, 'help')) die(ctx, FDB_USAGE);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "bridge fdb help".\n`);
  throw new IpExit(255);
}

// ---------------------------------------------------------------------------------
// main

function bridgeMain(ctx: IpContext & { net: Net }): number {
  const args = ctx.argv.slice(1);
  let stats = false;
  let details = false;
  let i = 0;
  for (; i < args.length; i++) {
    let opt = args[i] as string;
    if (opt === '--') {
      i++;
      break;
    }
    if (!opt.startsWith('-')) break;
    if (opt.startsWith('--')) opt = opt.slice(1);
    if (matches(opt, '-help')) die(ctx, USAGE);
    else if (matches(opt, '-Version')) {
      ctx.stdout.write('bridge utility, 6.1.0\n');
      return 0;
    } else if (matches(opt, '-stats') || matches(opt, '-statistics')) stats = true;
    else if (matches(opt, '-details')) details = true;
    else if (matches(opt, '-netns')) {
      const name = args[++i];
      if (name === undefined) die(ctx, USAGE);
      const net = ctx.net.kernel.netnsByName.get(name);
      if (net === undefined) die(ctx, `Cannot open network namespace "${name}": No such file or directory\n`);
      ctx.net = net;
    } else die(ctx, `Option "${args[i]}" is unknown, try "bridge help".\n`);
  }
  const obj = args[i];
  if (obj === undefined) die(ctx, USAGE);
  const rest = args.slice(i + 1);
  let rc: number;
  if (matches(obj, 'link')) rc = doLink(ctx, rest, details);
  else if (matches(obj, 'fdb')) rc = doFdb(ctx, rest, stats);
  else if (matches(obj, 'help')) die(ctx, USAGE);
  else {
    ctx.stderr.write(`Object "${obj}" is unknown, try "bridge help".\n`);
    rc = -1;
  }
  return rc & 0xff;
}

export const bridge: Command = (base) => {
  const ctx: IpContext & { net: Net } = {
    ...base,
    opts: defaultIpOptions(),
  };
  try {
    return bridgeMain(ctx);
  } catch (e) {
    if (e instanceof IpExit) return e.code;
    throw e;
  }
};
