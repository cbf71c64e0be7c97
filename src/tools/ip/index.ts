/**
 * ip(8) from iproute2 6.1: global options, then an OBJECT chosen by prefix (`ip l`,
 * `ip li`, `ip link`), each object a file of its own in this folder; common.ts holds
 * what they share.
 */

import type { Net } from '../../net/net.js';
import type { Command } from '../command.js';
import { doIpaddr } from './address.js';
import { AF, defaultIpOptions, die, type IpContext, IpExit, type IpObject, invarg, matches } from './common.js';
import { doIplink } from './link.js';
import { doIpmaddr } from './maddress.js';
import { doIpneigh } from './neigh.js';
import { cannotOpen, doNetns } from './netns.js';
import { doIproute } from './route.js';
import { doIprule } from './rule.js';

const USAGE = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
`;

function usage(ctx: IpContext): never {
  return die(ctx, USAGE);
}

/**
 * ip.c's cmds[], in its order: prefixes resolve against the whole table, so `ip n`
 * means neighbor even while lonet has no neighbor object. Objects lonet does not have
 * yet are null and reported as unknown.
 */
function objectTable(): ReadonlyArray<readonly [string, IpObject | null]> {
  return [
    ['address', doIpaddr],
    ['addrlabel', null],
    ['maddress', doIpmaddr],
    ['route', doIproute],
    ['rule', doIprule],
    ['neighbor', doIpneigh],
    ['neighbour', doIpneigh],
    ['ntable', null],
    ['ntbl', null],
    ['link', doIplink],
    ['l2tp', null],
    ['fou', null],
    ['ila', null],
    ['macsec', null],
    ['tunnel', null],
    ['tunl', null],
    ['tuntap', null],
    ['tap', null],
    ['token', null],
    ['tcpmetrics', null],
    ['tcp_metrics', null],
    ['monitor', null],
    ['xfrm', null],
    ['mroute', null],
    ['mrule', null],
    ['netns', (ctx, args) => doNetns(ctx, args, ctx.opts.all)],
    ['netconf', null],
    ['vrf', null],
    ['sr', null],
    ['nexthop', null],
    ['mptcp', null],
    ['ioam', null],
    ['help', (ctx) => usage(ctx)],
    ['stats', null],
  ];
}

/** do_cmd(): the object's return value is negated into the exit code (-1 → 1, -2 → 2). */
function doCmd(ctx: IpContext, obj: string, args: string[]): number | Promise<number> {
  for (const [name, fn] of objectTable()) {
    if (!matches(obj, name)) continue;
    if (fn === null) break;
    const rc = fn(ctx, args);
    if (typeof rc !== 'number') return rc.then((r) => (r === 0 ? 0 : -r));
    return rc === 0 ? 0 : -rc;
  }
  ctx.stderr.write(`Object "${obj}" is unknown, try "ip help".\n`);
  return 1;
}

const FAMILIES: Record<string, number> = { inet: AF.INET, inet6: AF.INET6, link: AF.PACKET };

/** One global option (already stripped of a second leading dash); returns how many words it used. */
function globalOption(ctx: IpContext & { net: Net }, opt: string, raw: string, next: string | undefined): number {
  const o = ctx.opts;
  const flag: [string, () => void][] = [
    [
      '-human',
      () => {
        o.human = true;
      },
    ],
    [
      '-human-readable',
      () => {
        o.human = true;
      },
    ],
    [
      '-iec',
      () => {
        o.iec = true;
      },
    ],
    ['-stats', () => o.stats++],
    ['-statistics', () => o.stats++],
    ['-details', () => o.details++],
    ['-resolve', () => {}],
    [
      '-oneline',
      () => {
        o.oneline = true;
      },
    ],
    ['-timestamp', () => {}],
    [
      '-brief',
      () => {
        o.brief = true;
      },
    ],
    [
      '-json',
      () => {
        o.json = true;
      },
    ],
    [
      '-pretty',
      () => {
        o.pretty = true;
      },
    ],
    ['-Numeric', () => {}],
  ];
  if (matches(opt, '-netns')) {
    // netns_switch(): the rest of the command runs in that namespace.
    if (next === undefined) return usage(ctx);
    ctx.net = ctx.net.kernel.netnsByName.get(next) ?? cannotOpen(ctx, next);
    return 2;
  }
  if (matches(opt, '-all')) {
    o.all = true;
    return 1;
  }
  if (opt === '-4') o.family = AF.INET;
  else if (opt === '-6') o.family = AF.INET6;
  else if (opt === '-0') o.family = AF.PACKET;
  else if (matches(opt, '-family')) {
    if (next === undefined) return usage(ctx);
    const f = FAMILIES[next];
    if (f === undefined) return invarg(ctx, 'invalid protocol family', next);
    o.family = f;
    return 2;
  } else if (matches(opt, '-Version')) {
    ctx.stdout.write('ip utility, iproute2-6.1.0, libbpf 1.1.2\n');
    throw new IpExit(0);
  } else if (matches(opt, '-help')) {
    return usage(ctx);
  } else {
    const hit = flag.find(([name]) => matches(opt, name));
    if (hit === undefined) return die(ctx, `Option "${raw}" is unknown, try "ip -help".\n`);
    hit[1]();
  }
  return 1;
}

/** ip.c main(): options while words start with '-', then the object. */
function ipMain(ctx: IpContext & { net: Net }): number | Promise<number> {
  const args = ctx.argv.slice(1);
  let i = 0;
  while (i < args.length) {
    const raw = args[i] as string;
    if (raw === '--') {
      i++;
      break;
    }
    if (!raw.startsWith('-')) break;
    // `--stats` is `-stats`; the unknown-option message still names the word as typed.
    i += globalOption(ctx, raw.startsWith('--') ? raw.slice(1) : raw, raw, args[i + 1]);
  }
  const obj = args[i];
  if (obj === undefined) return usage(ctx);
  return doCmd(ctx, obj, args.slice(i + 1));
}

export const ip: Command = (base) => {
  const ctx: IpContext & { net: Net } = {
    ...base,
    opts: defaultIpOptions(),
  };
  const exit = (e: unknown): number => {
    if (e instanceof IpExit) return e.code;
    throw e;
  };
  try {
    const rc = ipMain(ctx);
    return typeof rc === 'number' ? rc : rc.catch(exit);
  } catch (e) {
    return exit(e);
  }
};
