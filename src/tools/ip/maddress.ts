/**
 * `ip maddress` (iproute2 6.1 ip/ipmaddr.c): the multicast groups of each device, read as
 * iproute2 reads them, from /proc/net/igmp and /proc/net/igmp6 (/proc/net/dev_mcast, the
 * link-layer list, lonet does not have: lo keeps none).
 *
 * `ip maddr add|del` (SIOCADDMULTI/SIOCDELMULTI, link-layer addresses) is not in lonet.
 */

import { formatIpv6 } from '../../ipv6/addr.js';
import { fileRead } from '../../userland/files.js';
import { AF, die, duparg2, type IpContext, JsonWriter, matches, nextArg } from './common.js';

const USAGE = 'Usage: ip maddr [ add | del ] MULTIADDR dev STRING\n       ip maddr show [ dev STRING ]\n';

/** struct ma_info. */
interface MaInfo {
  index: number;
  name: string;
  users: number;
  family: number;
  address: string;
}

function readProc(ctx: IpContext, path: string): string[] {
  const text = fileRead(ctx.net, path);
  return typeof text === 'string' ? text.split('\n').filter((l) => l.length > 0) : [];
}

/** maddr_ins(): after every entry of a lower or equal index. */
function maddrIns(list: MaInfo[], m: MaInfo): void {
  const at = list.findIndex((x) => x.index > m.index);
  if (at < 0) list.push(m);
  else list.splice(at, 0, m);
}

/** read_igmp(): a device line, then its groups as %08X of the __be32 (a little-endian u32). */
function readIgmp(ctx: IpContext, dev: string | null, list: MaInfo[]): void {
  let index = 0;
  let name = '';
  for (const line of readProc(ctx, '/proc/net/igmp').slice(1)) {
    if (line[0] !== '\t') {
      const [i, n] = line.trim().split(/\s+/);
      index = Number.parseInt(i ?? '0', 10);
      name = (n ?? '').replace(/:$/, '');
      continue;
    }
    if (dev !== null && dev !== name) continue;
    const [hex, users] = line.trim().split(/\s+/);
    const v = Number.parseInt(hex ?? '0', 16);
    const address = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].join('.');
    maddrIns(list, { index, name, users: Number.parseInt(users ?? '0', 10), family: AF.INET, address });
  }
}

/** read_igmp6(): index, name, the address in hex, users. */
function readIgmp6(ctx: IpContext, dev: string | null, list: MaInfo[]): void {
  for (const line of readProc(ctx, '/proc/net/igmp6')) {
    const [i, name, hex, users] = line.trim().split(/\s+/);
    if (dev !== null && dev !== name) continue;
    const bytes = Uint8Array.from((hex ?? '').match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    maddrIns(list, {
      index: Number.parseInt(i ?? '0', 10),
      name: name ?? '',
      users: Number.parseInt(users ?? '0', 10),
      family: AF.INET6,
      address: formatIpv6(bytes),
    });
  }
}

/** print_mlist() / print_maddr(). */
function printMlist(ctx: IpContext, list: readonly MaInfo[]): void {
  const { json, pretty, oneline } = ctx.opts;
  if (json) {
    const w = new JsonWriter(pretty).startArray();
    let cur = 0;
    for (const m of list) {
      if (m.index !== cur || oneline) {
        if (cur !== 0) w.endArray().endObject();
        w.startObject().name('ifindex').number(m.index).name('ifname').string(m.name).name('maddr').startArray();
        cur = m.index;
      }
      w.startObject()
        .name('family')
        .string(m.family === AF.INET ? 'inet' : 'inet6')
        .name('address')
        .string(m.address);
      if (m.users !== 1) w.name('users').number(m.users);
      w.endObject();
    }
    if (cur !== 0) w.endArray().endObject();
    ctx.stdout.write(w.endArray().finish());
    return;
  }
  let out = '';
  let cur = 0;
  for (const m of list) {
    if (m.index !== cur || oneline) {
      out += `${m.index}:\t${m.name}${oneline ? '\\' : '\n'}`;
      cur = m.index;
    }
    out += `\t${m.family === AF.INET ? 'inet ' : 'inet6'} ${m.address}`;
    if (m.users !== 1) out += ` users ${m.users}`;
    out += '\n';
  }
  ctx.stdout.write(out);
}

/** multiaddr_list(). */
function multiaddrList(ctx: IpContext, args: string[]): number {
  let dev: string | null = null;
  for (let i = 0; i < args.length; i++) {
    let a = args[i] as string;
    if (a === 'dev') a = nextArg(ctx, args, i++);
    else if (matches(a, 'help')) die(ctx, USAGE);
    if (dev !== null) duparg2(ctx, 'dev', a);
    dev = a;
  }
  const family = ctx.opts.family;
  const list: MaInfo[] = [];
  if (family === AF.UNSPEC || family === AF.INET) readIgmp(ctx, dev, list);
  if (family === AF.UNSPEC || family === AF.INET6) readIgmp6(ctx, dev, list);
  printMlist(ctx, list);
  return 0;
}

/** do_multiaddr(). */
export function doIpmaddr(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return multiaddrList(ctx, []);
  if (matches(cmd, 'add') || matches(cmd, 'delete')) {
    ctx.stderr.write('ip maddr add/del: link-layer multicast addresses are not in lonet\n');
    return -1;
  }
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return multiaddrList(ctx, rest);
  if (matches(cmd, 'help')) die(ctx, USAGE);
  return die(ctx, `Command "${cmd}" is unknown, try "ip maddr help".\n`);
}
