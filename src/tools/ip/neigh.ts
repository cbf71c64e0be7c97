/**
 * `ip neigh` (iproute2 6.1 ip/ipneigh.c) for IPv4: the namespace's arp_tbl. On lo
 * every entry is NUD_NOARP and folded into 0.0.0.0 (neighbour.ts), so entries appear
 * once traffic has used lo, hidden from the default listing (which skips NOARP) and
 * untouched by flush (which skips NOARP and PERMANENT), as on Linux.
 */
import { type Neighbour, NUD } from '../../core/neighbour.js';
import { formatHwAddr } from '../../core/netdevice.js';
import { AF, die, type IpContext, IpExit, invarg, JsonWriter, matches, nextArg } from './common.js';
import { getAddr, nodev } from './route.js';

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
      if (matches(a, 'to')) getAddr(ctx, nextArg(ctx, args, i++));
    } else getAddr(ctx, a);
  }
  return f;
}

function passes(n: Neighbour, f: NeighFilter): boolean {
  if (f.ifindex !== 0 && n.dev.ifindex !== f.ifindex) return false;
  if (n.nudState === NUD.NONE) return f.state === ~0;
  return (n.nudState & f.state) !== 0;
}

const keyText = (n: Neighbour) => [...n.key].join('.');

function neighList(ctx: IpContext, args: string[]): number {
  const f = parseFilter(ctx, args, false);
  const entries = ctx.opts.family === AF.INET6 ? [] : ctx.net.ipv4.arpTbl.entries.filter((n) => passes(n, f));
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
  const victims = ctx.net.ipv4.arpTbl.entries.filter((n) => passes(n, f));
  // Every IPv4 entry on a device is the one folded entry, so flushing it is flushing the device.
  for (const dev of new Set(victims.map((n) => n.dev))) ctx.net.ipv4.arpTbl.flushDev(dev);
  return 0;
}

/**
 * ip neigh add/replace/change/del on lo: arp_tbl folds every key to 0.0.0.0 on a
 * NOARP device, so an add lands on that one entry and makes it PERMANENT with the
 * given (or lo's) address; a delete finds only 0.0.0.0.
 */
function neighModify(ctx: IpContext, cmd: 'add' | 'change' | 'replace' | 'del', args: string[]): number {
  let dst: number | null = null;
  let lladdr: Uint8Array | null = null;
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'lladdr') {
      const v = nextArg(ctx, args, i++);
      const bytes = v.split(':').map((x) => Number.parseInt(x, 16));
      if (bytes.some((b) => Number.isNaN(b) || b > 255)) invarg(ctx, '"lladdr" is invalid\n', v);
      lladdr = Uint8Array.from(bytes);
    } else if (a === 'nud') nextArg(ctx, args, i++);
    else if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'router' || a === 'extern_learn' || a === 'proxy') {
      // Flags lo has no use for.
    } else {
      const w = a === 'to' ? nextArg(ctx, args, i++) : a;
      if (dst !== null) die(ctx, `Error: either "to" is duplicate, or "${w}" is a garbage.\n`);
      dst = getAddr(ctx, w);
    }
  }
  if (devName === null || dst === null) {
    ctx.stderr.write('Device and destination are required arguments.\n');
    throw new IpExit(255);
  }
  const dev = ctx.net.devGetByName(devName);
  if (dev === undefined) nodev(ctx, devName);
  if (ctx.opts.family === AF.INET6) return die(ctx, 'lonet: IPv6 neighbours are not modelled yet\n');
  const tbl = ctx.net.ipv4.arpTbl;
  const key = Uint8Array.of(dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255);
  if (cmd === 'del') {
    const hit = tbl.entries.find((n) => n.dev === dev && keyText(n) === [...key].join('.'));
    if (hit === undefined) {
      ctx.stderr.write('RTNETLINK answers: No such file or directory\n');
      return -2;
    }
    tbl.flushDev(dev);
    return 0;
  }
  const n = tbl.lookupOrCreate(key, dev);
  if (lladdr !== null) n.ha.set(lladdr.subarray(0, n.ha.length));
  n.nudState = NUD.PERMANENT;
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
