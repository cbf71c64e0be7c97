/**
 * `ip neigh` (iproute2 6.1 ip/ipneigh.c): the namespace's arp_tbl and nd_tbl, IPv4
 * first as an AF_UNSPEC dump walks the families. Entries come from the kernel's
 * neighbour core (ARP/ND resolution, NUD timers); add/change/replace/del go through
 * neigh_add/neigh_delete with their netlink flags, so errors are the kernel's. lo's
 * entries are NUD_NOARP (IPv4 folds them into 0.0.0.0), hidden from the default listing
 * and untouched by flush, as on Linux.
 */
import {
  type Neighbour,
  type NeighTable,
  NTF,
  NUD,
  NUD_VALID,
  neighAdd,
  neighAges,
  neighDelete,
  neighRefcnt,
} from '../../core/neighbour.js';
import { formatHwAddr } from '../../core/netdevice.js';
import { E, strerror } from '../../include/errno.js';
import { formatIpv6 } from '../../ipv6/addr.js';
import type { Net } from '../../net/net.js';
import {
  AF,
  die,
  getInetAddr,
  getInetPrefix,
  type InetPrefix,
  type IpContext,
  IpExit,
  invarg,
  JsonWriter,
  matches,
  nextArg,
} from './common.js';
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
  prefix: InetPrefix | null;
}

function parseFilter(ctx: IpContext, args: string[], flush: boolean): NeighFilter {
  // Listing skips NOARP entries unless asked; flush also spares PERMANENT ones but takes
  // entries in no state at all (bit 0x100 of the filter stands for NUD_NONE).
  const f: NeighFilter = {
    state: flush ? ~(NUD.PERMANENT | NUD.NOARP) : 0xff & ~NUD.NOARP,
    ifindex: 0,
    prefix: null,
  };
  let nudGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'dev') {
      const v = nextArg(ctx, args, i++);
      const dev = ctx.net.devGetByName(v);
      if (dev === undefined) nodev(ctx, v);
      f.ifindex = dev.ifindex;
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = nudA2n(v);
      if (s === null) invarg(ctx, 'nud state is bad', v);
      const bit = s === NUD.NONE ? 0x100 : s;
      f.state = nudGiven ? f.state | bit : bit;
      if (s === 0xff) f.state = ~0;
      nudGiven = true;
    } else if (a === 'all' || matches(a, 'unused') || a === 'proxy') {
      // Nothing more to narrow: no proxy entries, and unused entries are listed anyway.
    } else {
      const w = matches(a, 'to') ? nextArg(ctx, args, i++) : a;
      f.prefix = getInetPrefix(ctx, w, ctx.opts.family);
    }
  }
  return f;
}

function inPrefix(key: Uint8Array, p: InetPrefix): boolean {
  if (p.data.length !== key.length) return false;
  let bits = p.bitlen;
  for (let i = 0; i < key.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((key[i] as number) & mask) !== ((p.data[i] as number) & mask)) return false;
  }
  return true;
}

function passes(n: Neighbour, f: NeighFilter): boolean {
  if (f.ifindex !== 0 && n.dev.ifindex !== f.ifindex) return false;
  if (f.prefix !== null && !inPrefix(n.key, f.prefix)) return false;
  if (n.nudState === NUD.NONE) return (f.state & 0x100) !== 0;
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

/** print_neigh(): one entry, text or JSON; the link address only while the entry is valid. */
function printNeigh(ctx: IpContext, n: Neighbour, showDev: boolean, w: JsonWriter | null): string {
  const valid = (n.nudState & NUD_VALID) !== 0;
  const stats = ctx.opts.stats > 0;
  if (w !== null) {
    w.startObject().name('dst').string(keyText(n));
    if (showDev) w.name('dev').string(n.dev.name);
    if (valid) w.name('lladdr').string(formatHwAddr(n.ha, n.ha.length));
    if (n.flags & NTF.ROUTER) w.name('router').null();
    if (stats) {
      const a = neighAges(n);
      const ref = neighRefcnt(n);
      if (ref !== 0) w.name('refcnt').number(ref);
      w.name('used').number(a.used).name('confirmed').number(a.confirmed).name('updated').number(a.updated);
      w.name('probes').number(n.probes);
    }
    w.name('state').startArray();
    for (const s of stateNames(n.nudState)) w.string(s);
    w.endArray().endObject();
    return '';
  }
  let text = `${keyText(n)} `;
  if (showDev) text += `dev ${n.dev.name} `;
  if (valid) text += `lladdr ${formatHwAddr(n.ha, n.ha.length)} `;
  if (n.flags & NTF.ROUTER) text += 'router ';
  if (n.flags & NTF.EXT_LEARNED) text += 'extern_learn ';
  if (stats) {
    const ref = neighRefcnt(n);
    const a = neighAges(n);
    if (ref !== 0) text += ` ref ${ref}`;
    text += ` used ${a.used}/${a.confirmed}/${a.updated}probes ${n.probes} `;
  }
  if (n.nudState !== NUD.NONE) text += `${stateNames(n.nudState).join(' ')} `;
  return `${text}\n`;
}

function neighList(ctx: IpContext, args: string[]): number {
  const f = parseFilter(ctx, args, false);
  const entries = neighTables(ctx.net, ctx.opts.family).flatMap((t) => t.entries.filter((n) => passes(n, f)));
  if (ctx.opts.json) {
    const w = new JsonWriter(ctx.opts.pretty).startArray();
    for (const n of entries) printNeigh(ctx, n, f.ifindex === 0, w);
    ctx.stdout.write(w.endArray().finish());
    return 0;
  }
  ctx.stdout.write(entries.map((n) => printNeigh(ctx, n, f.ifindex === 0, null)).join(''));
  return 0;
}

/**
 * ip neigh flush: each matching entry is deleted as `ip neigh del` would; NOARP and
 * PERMANENT entries stay unless asked for by nud. With -s it reports the rounds.
 */
function neighFlush(ctx: IpContext, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return -1;
  }
  const f = parseFilter(ctx, args, true);
  let flushed = 0;
  for (const tbl of neighTables(ctx.net, ctx.opts.family)) {
    for (const n of tbl.entries) {
      if (!passes(n, f)) continue;
      neighDelete(tbl, n);
      flushed++;
    }
  }
  if (ctx.opts.stats > 0) {
    ctx.stdout.write(
      flushed === 0
        ? 'Nothing to flush.\n'
        : `\n*** Round 1, deleting ${flushed} entries ***\n*** Flush is complete after 1 round ***\n`,
    );
  }
  return 0;
}

/** ll_addr_a2n(): colon-separated hex bytes. */
function parseLladdr(ctx: IpContext, v: string): Uint8Array {
  const parts = v.split(':');
  const bytes = parts.map((x) => (/^[0-9a-fA-F]{1,2}$/.test(x) ? Number.parseInt(x, 16) : Number.NaN));
  if (bytes.some((b) => Number.isNaN(b))) {
    ctx.stderr.write(`"${v}" is invalid lladdr.\n`);
    throw new IpExit(1);
  }
  return Uint8Array.from(bytes);
}

function rtnlAnswer(ctx: IpContext, err: number, msg: string | undefined): number {
  if (msg !== undefined) ctx.stderr.write(`Error: ${msg}.\n`);
  else ctx.stderr.write(`RTNETLINK answers: ${strerror(err)}\n`);
  // do_cmd() negates this into exit code 2.
  return -2;
}

/** ipneigh_modify(): add/change/replace/del with the flags iproute2 sends. */
function neighModify(ctx: IpContext, cmd: 'add' | 'change' | 'replace' | 'del', args: string[]): number {
  let dst: Uint8Array | null = null;
  let family = ctx.opts.family;
  let state: number = NUD.PERMANENT;
  let lladdr: Uint8Array | null = null;
  let devName: string | null = null;
  let ntf = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'lladdr') lladdr = parseLladdr(ctx, nextArg(ctx, args, i++));
    else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = nudA2n(v);
      if (s === null || s === 0xff) invarg(ctx, 'nud state is bad', v);
      state = s;
    } else if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'router') ntf |= NTF.ROUTER;
    else if (a === 'extern_learn') ntf |= NTF.EXT_LEARNED;
    else if (a === 'use') ntf |= NTF.USE;
    else if (a === 'proxy') {
      // Proxy entries: lonet has none.
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
    const err = neighDelete(tbl, hit?.key.every((b, i) => b === dst[i]) ? hit : undefined);
    return err === 0 ? 0 : rtnlAnswer(ctx, err, undefined);
  }
  const extack: { msg?: string } = {};
  const err = neighAdd(
    tbl,
    dst,
    dev,
    { lladdr, state, ntf, create: cmd !== 'change', excl: cmd === 'add', replace: cmd !== 'add' },
    extack,
  );
  return err === 0 ? 0 : rtnlAnswer(ctx, err, extack.msg);
}

/** ip neigh get ADDR dev DEV (RTM_GETNEIGH): the one entry, or the kernel's extack. */
function neighGet(ctx: IpContext, args: string[]): number {
  let dst: InetPrefix | null = null;
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a !== 'proxy') dst = getInetAddr(ctx, a === 'to' ? nextArg(ctx, args, i++) : a, ctx.opts.family);
  }
  if (devName === null || dst === null) {
    ctx.stderr.write('Device and address are required arguments.\n');
    throw new IpExit(255);
  }
  const dev = ctx.net.devGetByName(devName);
  if (dev === undefined) nodev(ctx, devName);
  const tbl = dst.family === AF.INET6 ? ctx.net.ipv6.ndTbl : ctx.net.ipv4.arpTbl;
  const n = tbl.lookup(dst.data, dev);
  if (n === undefined) return rtnlAnswer(ctx, -E.ENOENT, 'Neighbour entry not found');
  if (ctx.opts.json) {
    const w = new JsonWriter(ctx.opts.pretty).startArray();
    printNeigh(ctx, n, true, w);
    ctx.stdout.write(w.endArray().finish());
  } else ctx.stdout.write(printNeigh(ctx, n, true, null));
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
  if (cmd === 'get') return neighGet(ctx, rest);
  if (matches(cmd, 'help')) return die(ctx, USAGE);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip neigh help".\n`);
  throw new IpExit(255);
}
