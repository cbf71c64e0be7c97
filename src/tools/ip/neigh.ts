/**
 * `ip neigh` (iproute2 6.1 ip/ipneigh.c): the namespace's arp_tbl and nd_tbl, IPv4
 * first as an AF_UNSPEC dump walks the families. On lo every entry is NUD_NOARP (IPv4
 * folds them into 0.0.0.0, neighbour.ts; IPv6 keeps one per address), so entries appear
 * once traffic has used lo, hidden from the default listing (which skips NOARP) and
 * untouched by flush (which skips NOARP and PERMANENT), as on Linux.
 */
import { type Neighbour, type NeighTable, NUD } from '../../core/neighbour.js';
import { formatHwAddr } from '../../core/netdevice.js';
import { formatIpv6 } from '../../ipv6/addr.js';
import type { Net } from '../../net/net.js';
import { AF, die, getInetAddr, type IpContext, IpExit, invarg, JsonWriter, matches, nextArg } from './common.js';
import { nodev } from './route.js';

/** nud_state_a2n() names, in print_neigh_state() order. */
const NUD_NAMES: [number, string][] = [
  [NUD.INCOMPLETE, 'INCOMPLETE'],
  [NUD.REACHABLE, 'REACHABLE'],
  [NUD.STALE, 'STALE'],
  [NUD.DELAY, 'DELAY'],
  [NUD.PROBE, 'PROBE'],
  [NUD.FAILED, 'FAILED'],
  [NUD.NOARP, 'NOARP'],
  [NUD.PERMANENT, 'PERMANENT'],
];

function nudA2n(arg: string): number | null {
  if (arg === 'all') return 0xff;
  if (arg === 'none') return NUD.NONE;
  const hit = NUD_NAMES.find(([, name]) => name.toLowerCase() === arg.toLowerCase());
  if (hit !== undefined) return hit[0];
  const n = Number(arg);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : null;
}

function stateNames(state: number): string[] {
  return state === NUD.NONE ? ['NONE'] : NUD_NAMES.filter(([bit]) => state & bit).map(([, name]) => name);
}

interface NeighFilter {
  state: number;
  ifindex: number;
}

function parseFilter(ctx: IpContext, args: string[], flush: boolean): NeighFilter {
  // Listing skips NOARP entries unless asked; flush also spares PERMANENT ones.
  const f: NeighFilter = { state: flush ? ~(NUD.PERMANENT | NUD.NOARP) & 0xff : 0xff & ~NUD.NOARP, ifindex: 0 };
  let nudGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'dev') {
      const v = nextArg(ctx, args, i++);
      const dev = ctx.net.devGetByName(v);
      if (dev === undefined) invarg(ctx, 'Device does not exist\n', v);
      f.ifindex = dev.ifindex;
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = nudA2n(v);
      if (s === null) invarg(ctx, 'nud state is bad', v);
      f.state = nudGiven ? f.state | s : s;
      if (s === 0xff) f.state = ~0;
      nudGiven = true;
    } else if (a === 'all' || matches(a, 'unused') || a === 'proxy' || matches(a, 'to')) {
      if (matches(a, 'to')) getInetAddr(ctx, nextArg(ctx, args, i++), ctx.opts.family);
    } else getInetAddr(ctx, a, ctx.opts.family);
  }
  return f;
}

function passes(n: Neighbour, f: NeighFilter): boolean {
  if (f.ifindex !== 0 && n.dev.ifindex !== f.ifindex) return false;
  if (n.nudState === NUD.NONE) return f.state === ~0;
  return (n.nudState & f.state) !== 0;
}

const keyText = (n: Neighbour) => (n.key.length === 16 ? formatIpv6(n.key) : [...n.key].join('.'));

/** The tables a request for this family reaches: arp_tbl, then nd_tbl. */
function neighTables(net: Net, family: number): NeighTable[] {
  const out: NeighTable[] = [];
  if (family === AF.UNSPEC || family === AF.INET) out.push(net.ipv4.arpTbl);
  if (family === AF.UNSPEC || family === AF.INET6) out.push(net.ipv6.ndTbl);
  return out;
}

function neighList(ctx: IpContext, args: string[]): number {
  const f = parseFilter(ctx, args, false);
  const entries = neighTables(ctx.net, ctx.opts.family).flatMap((t) => t.entries.filter((n) => passes(n, f)));
  if (ctx.opts.json) {
    const w = new JsonWriter(ctx.opts.pretty).startArray();
    for (const n of entries) {
      w.startObject().name('dst').string(keyText(n));
      if (f.ifindex === 0) w.name('dev').string(n.dev.name);
      w.name('lladdr').string(formatHwAddr(n.ha, n.ha.length));
      w.name('state').startArray();
      for (const s of stateNames(n.nudState)) w.string(s);
      w.endArray().endObject();
    }
    ctx.stdout.write(w.endArray().finish());
    return 0;
  }
  let text = '';
  for (const n of entries) {
    text += `${keyText(n)} `;
    if (f.ifindex === 0) text += `dev ${n.dev.name} `;
    text += `lladdr ${formatHwAddr(n.ha, n.ha.length)} `;
    // lonet keeps no per-entry timers: used/confirmed/updated read as 0 seconds ago.
    if (ctx.opts.stats > 0) text += ` used 0/0/0probes 0 `;
    text += `${stateNames(n.nudState).join(' ')} \n`;
  }
  ctx.stdout.write(text);
  return 0;
}

/** ip neigh flush: NOARP and PERMANENT entries stay, so lo's entry always does. */
function neighFlush(ctx: IpContext, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return -1;
  }
  const f = parseFilter(ctx, args, true);
  for (const tbl of neighTables(ctx.net, ctx.opts.family)) {
    for (const n of tbl.entries) if (passes(n, f)) tbl.delete(n);
  }
  return 0;
}

/**
 * ip neigh add/replace/change/del (neigh_add / neigh_delete): an add makes the entry
 * PERMANENT (or the `nud` given) with the given (or the device's) address. On lo
 * arp_tbl folds every IPv4 key to 0.0.0.0, so an add lands on that one entry and a
 * delete finds only 0.0.0.0; nd_tbl keeps each IPv6 address.
 */
function neighModify(ctx: IpContext, cmd: 'add' | 'change' | 'replace' | 'del', args: string[]): number {
  let dst: Uint8Array | null = null;
  let family = ctx.opts.family;
  let state: number = NUD.PERMANENT;
  let lladdr: Uint8Array | null = null;
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'lladdr') {
      const v = nextArg(ctx, args, i++);
      const bytes = v.split(':').map((x) => Number.parseInt(x, 16));
      if (bytes.some((b) => Number.isNaN(b) || b > 255)) invarg(ctx, '"lladdr" is invalid\n', v);
      lladdr = Uint8Array.from(bytes);
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = nudA2n(v);
      if (s === null || s === 0xff) invarg(ctx, 'nud state is bad', v);
      state = s;
    } else if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'router' || a === 'extern_learn' || a === 'proxy') {
      // Flags lo has no use for.
    } else {
      const w = a === 'to' ? nextArg(ctx, args, i++) : a;
      if (dst !== null) die(ctx, `Error: either "to" is duplicate, or "${w}" is a garbage.\n`);
      const p = getInetAddr(ctx, w, family);
      if (family === AF.UNSPEC) family = p.family;
      dst = p.data;
    }
  }
  if (devName === null || dst === null) {
    ctx.stderr.write('Device and destination are required arguments.\n');
    throw new IpExit(255);
  }
  const dev = ctx.net.devGetByName(devName);
  if (dev === undefined) nodev(ctx, devName);
  const tbl = family === AF.INET6 ? ctx.net.ipv6.ndTbl : ctx.net.ipv4.arpTbl;
  if (cmd === 'del') {
    // Only an entry stored under exactly this key goes (lo's folded IPv4 entry answers to 0.0.0.0 alone).
    const hit = tbl.lookup(dst, dev);
    if (hit === undefined || !hit.key.every((b, i) => b === dst[i])) {
      ctx.stderr.write('RTNETLINK answers: No such file or directory\n');
      return -2;
    }
    tbl.delete(hit);
    return 0;
  }
  tbl.update(tbl.lookupOrCreate(dst, dev), lladdr, state);
  return 0;
}

const USAGE = `Usage: ip neigh { add | del | change | replace }
                { ADDR [ lladdr LLADDR ] [ nud STATE ] proxy ADDR }
                [ dev DEV ] [ router ] [ extern_learn ] [ protocol PROTO ]

       ip neigh { show | flush } [ proxy ] [ to PREFIX ] [ dev DEV ] [ nud STATE ]
                                 [ vrf NAME ]
       ip neigh get { ADDR | proxy ADDR } dev DEV

STATE := { delay | failed | incomplete | noarp | none |
           permanent | probe | reachable | stale }
`;

/** do_ipneigh(). */
export function doIpneigh(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return neighList(ctx, []);
  if (matches(cmd, 'add')) return neighModify(ctx, 'add', rest);
  if (matches(cmd, 'change') || cmd === 'chg') return neighModify(ctx, 'change', rest);
  if (matches(cmd, 'replace')) return neighModify(ctx, 'replace', rest);
  if (matches(cmd, 'delete')) return neighModify(ctx, 'del', rest);
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return neighList(ctx, rest);
  if (matches(cmd, 'flush')) return neighFlush(ctx, rest);
  if (matches(cmd, 'help')) return die(ctx, USAGE);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip neigh help".\n`);
  throw new IpExit(255);
}
