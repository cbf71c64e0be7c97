/**
 * ifconfig(8) from net-tools 2.10: show interfaces the way lib/interface.c's
 * ife_print_long/ife_print_short do, from what the old ioctls would return
 * (SIOCGIFFLAGS, SIOCGIFADDR by label, /proc/net/dev, /proc/net/if_inet6), and set
 * up/down, mtu, txqueuelen and hw addresses with ifconfig.c's messages and exit codes.
 */

import { ARPHRD, IFF, IFNAMSIZ } from '../core/if.js';
import {
  devChangeTxQueueLen,
  devClose,
  devGetFlags,
  devGetStats,
  devOpen,
  devSetMacAddress,
  devSetMtu,
  formatHwAddr,
  type NetDevice,
} from '../core/netdevice.js';
import { E, strerror } from '../include/errno.js';
import { formatIpv4, type InIfaddr, inDevGet, inetDelIfa } from '../ipv4/devinet.js';
import { formatIpv6 } from '../ipv6/addr.js';
import { in6DevGet } from '../ipv6/addrconf.js';
import type { Net } from '../net/net.js';
import type { CommandContext, Output } from './command.js';

const USAGE = `Usage:
  ifconfig [-a] [-v] [-s] <interface> [[<AF>] <address>]
  [add <address>[/<prefixlen>]]
  [del <address>[/<prefixlen>]]
  [[-]broadcast [<address>]]  [[-]pointopoint [<address>]]
  [netmask <address>]  [dstaddr <address>]  [tunnel <address>]
  [outfill <NN>] [keepalive <NN>]
  [hw <HW> <address>]  [mtu <NN>]
  [[-]trailers]  [[-]arp]  [[-]allmulti]
  [multicast]  [[-]promisc]
  [mem_start <NN>]  [io_addr <NN>]  [irq <NN>]  [media <type>]
  [txqueuelen <NN>]
  [name <newname>]
  [[-]dynamic]
  [up|down] ...

  <HW>=Hardware Type.
  List of possible hardware types:
`;
const HW_LIST = `    loop (Local Loopback) slip (Serial Line IP) cslip (VJ Serial Line IP) 
    slip6 (6-bit Serial Line IP) cslip6 (VJ 6-bit Serial Line IP) adaptive (Adaptive Serial Line IP) 
    ash (Ash) ether (Ethernet) ax25 (AMPR AX.25) 
    netrom (AMPR NET/ROM) rose (AMPR ROSE) tunnel (IPIP Tunnel) 
    ppp (Point-to-Point Protocol) hdlc ((Cisco)-HDLC) lapb (LAPB) 
    arcnet (ARCnet) dlci (Frame Relay DLCI) frad (Frame Relay Access Device) 
    sit (IPv6-in-IPv4) fddi (Fiber Distributed Data Interface) hippi (HIPPI) 
    irda (IrLAP) ec (Econet) x25 (generic X.25) 
    eui64 (Generic EUI-64) 
`;
const AF_HEAD = `  <AF>=Address family. Default: inet
  List of possible address families:
`;
const AF_LIST = `    unix (UNIX Domain) inet (DARPA Internet) inet6 (IPv6) 
    ax25 (AMPR AX.25) netrom (AMPR NET/ROM) rose (AMPR ROSE) 
    ipx (Novell IPX) ddp (Appletalk DDP) ec (Econet) 
    ash (Ash) x25 (CCITT X.25) 
`;
/** The hardware type names `hw` accepts (net-tools' hwtypes). */
const HW_TYPES = [
  'loop',
  'slip',
  'cslip',
  'slip6',
  'cslip6',
  'adaptive',
  'ash',
  'ether',
  'ax25',
  'netrom',
  'rose',
  'tunnel',
  'ppp',
  'hdlc',
  'lapb',
  'arcnet',
  'dlci',
  'frad',
  'sit',
  'fddi',
  'hippi',
  'irda',
  'ec',
  'x25',
  'eui64',
];

/** E_OPTERR / E_USAGE: the exit code of a usage error. */
const E_USAGE = 3;

/**
 * usage(): the text goes to stdout for --help and to stderr on an error; the two lists
 * are always printed to stderr (print_hwlist/print_aflist).
 */
function usage(ctx: CommandContext, rc: number): number {
  const out = rc === 0 ? ctx.stdout : ctx.stderr;
  out.write(USAGE);
  ctx.stderr.write(HW_LIST);
  out.write(AF_HEAD);
  ctx.stderr.write(AF_LIST);
  return rc;
}

/** What ifconfig knows of one interface name (struct interface after if_fetch). */
interface Interface {
  name: string;
  dev: NetDevice;
  flags: number;
  /** The IPv4 address whose label is exactly this name (SIOCGIFADDR), if any. */
  ifa: InIfaddr | undefined;
  /** Only names in /proc/net/dev have statistics; aliases do not. */
  statisticsValid: boolean;
}

/** The device an ioctl names: the part before a colon is the device, the rest an alias label. */
function devOfName(net: Net, name: string): NetDevice | undefined {
  const colon = name.indexOf(':');
  return net.devGetByName(colon < 0 ? name : name.slice(0, colon));
}

/** safe_strncpy(…, IFNAMSIZ): names are cut to 15 bytes before anything is asked. */
function ifName(arg: string): string {
  const bytes = new TextEncoder().encode(arg);
  return bytes.byteLength < IFNAMSIZ ? arg : new TextDecoder().decode(bytes.subarray(0, IFNAMSIZ - 1));
}

/** if_fetch(): -ENODEV when SIOCGIFFLAGS fails. */
function ifFetch(net: Net, name: string): Interface | number {
  const dev = devOfName(net, name);
  if (dev === undefined) return -E.ENODEV;
  // SIOCGIFFLAGS returns a short: LOWER_UP and above do not fit.
  const flags = devGetFlags(dev) & 0xffff;
  const ifa = inDevGet(dev)?.ifaList.find((i) => i.label === name);
  return { name, dev, flags, ifa, statisticsValid: net.devGetByName(name) === dev };
}

/** nstrcmp(): names ordered with their numbers compared as numbers (lo:2 before lo:10). */
function nstrcmp(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i] as string;
    const y = cb[i] as string;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

/** if_readlist(): every device (/proc/net/dev) and every IPv4 label (SIOCGIFCONF), sorted. */
function ifReadlist(net: Net): string[] {
  const names = new Set<string>();
  for (const dev of net.devices) {
    names.add(dev.name);
    for (const ifa of inDevGet(dev)?.ifaList ?? []) names.add(ifa.label);
  }
  return [...names].sort(nstrcmp);
}

/** Hardware types as net-tools names and prints them (lib/hw.c). */
function hwType(dev: NetDevice): { name: string; title: string; addr: string | null } {
  switch (dev.type) {
    case ARPHRD.LOOPBACK:
      // loop_hwtype has no print function: lo's address is never shown.
      return { name: 'loop', title: 'Local Loopback', addr: null };
    case ARPHRD.ETHER:
      return { name: 'ether', title: 'Ethernet', addr: formatHwAddr(dev.devAddr, 6) };
    default: {
      // unspec_hwtype: pr_unspec() prints 16 bytes in upper-case hex.
      const bytes = Array.from(dev.devAddr.subarray(0, 16), (b) => b.toString(16).toUpperCase().padStart(2, '0'));
      return { name: 'unspec', title: 'UNSPEC', addr: bytes.join('-') };
    }
  }
}

/** The human-readable size ife_print_long prints after a byte count: "(4.1 GiB)". */
export function bytesScaled(n: bigint): string {
  const units: [bigint, string][] = [
    [1125899906842624n, 'PiB'],
    [1099511627776n, 'TiB'],
    [1073741824n, 'GiB'],
    [1048576n, 'MiB'],
    [1024n, 'KiB'],
  ];
  let short = n * 10n;
  let ext = 'B';
  if (n > 1152921504606846976n) {
    // net-tools 2.10 scales EiB by a tenth of an EiB straight from the count.
    short = n / 115292150460684697n;
    ext = 'EiB';
  } else {
    for (const [div, name] of units) {
      if (n > div) {
        short /= div;
        ext = name;
        break;
      }
    }
  }
  return `(${short / 10n}.${short % 10n} ${ext})`;
}

const FLAG_NAMES: [number, string][] = [
  [IFF.UP, 'UP'],
  [IFF.BROADCAST, 'BROADCAST'],
  [IFF.DEBUG, 'DEBUG'],
  [IFF.LOOPBACK, 'LOOPBACK'],
  [IFF.POINTOPOINT, 'POINTOPOINT'],
  [IFF.NOTRAILERS, 'NOTRAILERS'],
  [IFF.RUNNING, 'RUNNING'],
  [IFF.NOARP, 'NOARP'],
  [IFF.PROMISC, 'PROMISC'],
  [IFF.ALLMULTI, 'ALLMULTI'],
  [IFF.SLAVE, 'SLAVE'],
  [IFF.MASTER, 'MASTER'],
  [IFF.MULTICAST, 'MULTICAST'],
  [IFF.DYNAMIC, 'DYNAMIC'],
];

/** "flags=73<UP,LOOPBACK,RUNNING>"; with no flags net-tools cuts its own '>' off: "flags=0<". */
function flagsText(flags: number): string {
  const names = FLAG_NAMES.filter(([f]) => flags & f).map(([, n]) => n);
  return names.length === 0 ? `flags=${flags}<` : `flags=${flags}<${names.join(',')}>`;
}

/** scopeid 0x10<host>: the scope bits of /proc/net/if_inet6 spelled out. */
function scopeText(scope: number): string {
  let s = scope;
  const parts: string[] = [];
  if (s & 0x0080) {
    parts.push('compat');
    s -= 0x0080;
  }
  if (s === 0) parts.push('global');
  if (s & 0x0020) parts.push('link');
  if (s & 0x0040) parts.push('site');
  if (s & 0x0010) parts.push('host');
  return parts.length === 0 ? '' : `<${parts.join(',')}>`;
}

/** A C int as printf("%d") shows it. */
const int32 = (n: number): number => n | 0;

/** ife_print_long(). */
function ifePrintLong(ife: Interface): string {
  const { dev } = ife;
  let out = `${ife.name}: ${flagsText(ife.flags)}  mtu ${int32(dev.mtu)}\n`;
  if (ife.ifa !== undefined) {
    out += `        inet ${formatIpv4(ife.ifa.local)}  netmask ${formatIpv4(ife.ifa.mask)}`;
    if (ife.flags & IFF.BROADCAST) out += `  broadcast ${formatIpv4(ife.ifa.broadcast)}`;
    if (ife.flags & IFF.POINTOPOINT) out += `  destination ${formatIpv4(ife.ifa.address)}`;
    out += '\n';
  }
  // /proc/net/if_inet6 names the device, so an alias shows no IPv6 addresses.
  if (ife.name === dev.name) {
    for (const a of in6DevGet(dev)?.addrList ?? []) {
      out += `        inet6 ${formatIpv6(a.addr)}  prefixlen ${a.prefixlen}  scopeid 0x${a.scope.toString(16)}${scopeText(a.scope)}\n`;
    }
  }
  const hw = hwType(dev);
  out += `        ${hw.name}${hw.addr === null ? '' : ` ${hw.addr}`}  txqueuelen ${int32(dev.txQueueLen)}  (${hw.title})\n`;
  if (ife.statisticsValid) {
    // The columns of /proc/net/dev, folded the way dev_seq_printf_stats folds them.
    const s = devGetStats(dev);
    const rx = BigInt(s.rxBytes);
    const tx = BigInt(s.txBytes);
    out +=
      `        RX packets ${s.rxPackets}  bytes ${rx} ${bytesScaled(rx)}\n` +
      `        RX errors ${s.rxErrors}  dropped ${s.rxDropped + s.rxMissedErrors}  overruns ${s.rxFifoErrors}  frame ${s.rxLengthErrors + s.rxOverErrors + s.rxCrcErrors + s.rxFrameErrors}\n` +
      `        TX packets ${s.txPackets}  bytes ${tx} ${bytesScaled(tx)}\n` +
      `        TX errors ${s.txErrors}  dropped ${s.txDropped} overruns ${s.txFifoErrors}  carrier ${s.txCarrierErrors + s.txAbortedErrors + s.txWindowErrors + s.txHeartbeatErrors}  collisions ${s.collisions}\n`;
  }
  return `${out}\n`;
}

const SHORT_HEADER = 'Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n';

const SHORT_FLAGS: [number, string][] = [
  [IFF.ALLMULTI, 'A'],
  [IFF.BROADCAST, 'B'],
  [IFF.DEBUG, 'D'],
  [IFF.LOOPBACK, 'L'],
  [IFF.MULTICAST, 'M'],
  [IFF.DYNAMIC, 'd'],
  [IFF.PROMISC, 'P'],
  [IFF.NOTRAILERS, 'N'],
  [IFF.NOARP, 'O'],
  [IFF.POINTOPOINT, 'P'],
  [IFF.SLAVE, 's'],
  [IFF.MASTER, 'm'],
  [IFF.RUNNING, 'R'],
  [IFF.UP, 'U'],
];

/** ife_print_short(). */
function ifePrintShort(ife: Interface): string {
  let out = `${ife.name.slice(0, 15).padEnd(15)} ${String(int32(ife.dev.mtu)).padStart(5)} `;
  if (ife.statisticsValid) {
    const s = devGetStats(ife.dev);
    const r = (v: number, w: number) => String(v).padStart(w);
    out +=
      `${r(s.rxPackets, 8)} ${r(s.rxErrors, 6)} ${r(s.rxDropped + s.rxMissedErrors, 6)} ${String(s.rxFifoErrors).padEnd(6)} ` +
      `${r(s.txPackets, 8)} ${r(s.txErrors, 6)} ${r(s.txDropped, 6)} ${r(s.txFifoErrors, 6)} `;
  } else {
    out += '     - no statistics available -'.padEnd(56);
  }
  if (ife.flags === 0) out += '[NO FLAGS]';
  for (const [f, c] of SHORT_FLAGS) if (ife.flags & f) out += c;
  return `${out}\n`;
}

/** do_if_fetch()'s complaint. */
function fetchError(stderr: Output, name: string, err: number): void {
  const msg = err === -E.ENODEV ? 'Device not found' : strerror(err);
  stderr.write(`${name}: error fetching interface information: ${msg}\n`);
}

/** if_print(): one named interface, or all of them (only UP ones without -a). */
function ifPrint(ctx: CommandContext, name: string | null, all: boolean, short: boolean): number {
  const print = (ife: Interface) => ctx.stdout.write(short ? ifePrintShort(ife) : ifePrintLong(ife));
  if (short) ctx.stdout.write(SHORT_HEADER);
  if (name === null) {
    let res = 0;
    for (const n of ifReadlist(ctx.net)) {
      const ife = ifFetch(ctx.net, n);
      if (typeof ife === 'number') {
        fetchError(ctx.stderr, n, ife);
        res = -1;
      } else if (ife.flags & IFF.UP || all) print(ife);
    }
    return res;
  }
  const ife = ifFetch(ctx.net, name);
  if (typeof ife === 'number') {
    fetchError(ctx.stderr, name, ife);
    return -1;
  }
  print(ife);
  return 0;
}

/** strtol() then a cast to int, as atoi() and strtoul()-into-int do. */
function cInt(s: string, base0: boolean, unsigned: boolean): number {
  const m = /^[\s]*([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)?/.exec(s);
  const sign = m?.[1] === '-' ? -1n : 1n;
  const digits = m?.[2];
  if (digits === undefined) return 0;
  let v: bigint;
  if (base0 && /^0[xX]/.test(digits)) v = BigInt(digits);
  else if (base0 && digits.length > 1 && digits.startsWith('0')) {
    const oct = /^0[0-7]*/.exec(digits)?.[0] ?? '0';
    v = BigInt(`0o${oct.slice(1) || '0'}`);
  } else v = BigInt(digits);
  if (unsigned) {
    // strtoul saturates at ULONG_MAX, then negates modulo 2^64.
    if (v > 0xffffffffffffffffn) v = 0xffffffffffffffffn;
    v = BigInt.asUintN(64, sign * v);
  } else {
    v *= sign;
    if (v > 0x7fffffffffffffffn) v = 0x7fffffffffffffffn;
    if (v < -0x8000000000000000n) v = -0x8000000000000000n;
  }
  return Number(BigInt.asIntN(32, v));
}

/** in_ether() (lib/ether.c): hex byte pairs, colons optional, no trailing junk. */
function inEther(s: string): Uint8Array | null {
  const out = new Uint8Array(6);
  const hex = (c: string | undefined) => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? Number.parseInt(c, 16) : -1);
  let p = 0;
  let i = 0;
  while (p < s.length && i < 6) {
    let val = hex(s[p++]);
    if (val < 0) return null;
    const c = s[p];
    const lo = hex(c);
    if (lo >= 0) val = (val << 4) | lo;
    else if (c !== ':' && c !== undefined) return null;
    if (c !== undefined) p++;
    out[i++] = val;
    if (s[p] === ':' && lo >= 0) p++;
  }
  if (i === 6 && p < s.length) return null;
  return out;
}

/**
 * SIOCSIFFLAGS (devinet_ioctl): on an alias label, "down" deletes that address and
 * "up" only checks it exists; on a device, dev_change_flags() opens or closes it.
 */
function siocsifflags(net: Net, name: string, up: boolean): number {
  const dev = devOfName(net, name);
  if (dev === undefined) return -E.ENODEV;
  if (name.includes(':')) {
    const inDev = inDevGet(dev);
    const ifa = inDev?.ifaList.find((i) => i.label === name);
    if (inDev === null || ifa === undefined) return -E.EADDRNOTAVAIL;
    if (!up) inetDelIfa(inDev, ifa);
    return 0;
  }
  return up ? devOpen(dev) : devClose(dev);
}

const KEYWORDS_NOT_MODELLED = new Set([
  'arp',
  '-arp',
  'trailers',
  '-trailers',
  'promisc',
  '-promisc',
  'multicast',
  'allmulti',
  '-allmulti',
  'dynamic',
  '-dynamic',
  'metric',
  'add',
  'del',
  'netmask',
  'broadcast',
  '-broadcast',
  'dstaddr',
  'pointopoint',
  '-pointopoint',
  'tunnel',
  'outfill',
  'keepalive',
  'mem_start',
  'io_addr',
  'irq',
  'media',
  'name',
]);

export function ifconfig(ctx: CommandContext): number {
  const { stdout, stderr, net } = ctx;
  const args = ctx.argv.slice(1);
  let all = false;
  let short = false;
  while (args.length > 0 && (args[0] as string).startsWith('-')) {
    const a = args.shift() as string;
    if (a === '-a') all = true;
    else if (a === '-s') short = true;
    else if (a === '-v') continue;
    else if (a === '-V' || a === '-version' || a === '--version') {
      stdout.write('net-tools 2.10\n');
      return 0;
    } else if (a === '-?' || a === '-h' || a === '-help' || a === '--help') return usage(ctx, 0);
    else {
      stderr.write(`ifconfig: option \`${a}' not recognised.\nifconfig: \`--help' gives usage information.\n`);
      return 1;
    }
  }
  if (args.length === 0) return ifPrint(ctx, null, all, short) < 0 ? 1 : 0;
  const name = ifName(args.shift() as string);
  if (args.length === 0) return ifPrint(ctx, name, all, short) < 0 ? 1 : 0;

  // The set commands, in order; each failure is reported and the rest still run.
  let goterr = 0;
  const dev = () => devOfName(net, name);
  while (args.length > 0) {
    const word = args.shift() as string;
    if (word === 'inet') continue;
    if (word === 'up' || word === 'down') {
      // set_flag()/clr_flag(): SIOCGIFFLAGS first, then SIOCSIFFLAGS.
      if (dev() === undefined) {
        stderr.write(`${name}: ERROR while getting interface flags: ${strerror(E.ENODEV)}\n`);
        goterr = -1;
        continue;
      }
      const err = siocsifflags(net, name, word === 'up');
      if (err < 0) {
        stderr.write(`SIOCSIFFLAGS: ${strerror(err)}\n`);
        goterr = -1;
      }
      continue;
    }
    if (word === 'mtu' || word === 'txqueuelen') {
      const arg = args.shift();
      if (arg === undefined) return usage(ctx, E_USAGE);
      const d = dev();
      let err: number;
      if (word === 'mtu') err = d === undefined ? -E.ENODEV : devSetMtu(d, cInt(arg, false, false));
      else {
        const qlen = cInt(arg, true, true);
        err = d === undefined ? -E.ENODEV : qlen < 0 ? -E.EINVAL : devChangeTxQueueLen(d, qlen);
      }
      if (err < 0) {
        stderr.write(`${word === 'mtu' ? 'SIOCSIFMTU' : 'SIOCSIFTXQLEN'}: ${strerror(err)}\n`);
        goterr |= 1;
      }
      continue;
    }
    if (word === 'hw') {
      const type = args.shift();
      if (type === undefined || !HW_TYPES.includes(type)) return usage(ctx, E_USAGE);
      if (type === 'loop') {
        // loop_hwtype has no input routine.
        stderr.write(`hw address type \`${type}' has no handler to set address. failed.\n`);
        args.shift();
        goterr |= 1;
        continue;
      }
      const addrArg = args.shift();
      if (addrArg === undefined) return usage(ctx, E_USAGE);
      // Only ether's address syntax is modelled; no lonet device has another of these types.
      const addr = type === 'ether' ? inEther(addrArg) : new Uint8Array(0);
      if (addr === null) {
        stderr.write(`${addrArg}: invalid ether address.\n`);
        goterr |= 1;
        continue;
      }
      const d = dev();
      // dev_set_mac_address_user(): the address family must be the device's type.
      const family = type === 'ether' ? ARPHRD.ETHER : -1;
      const err = d === undefined ? -E.ENODEV : d.type !== family ? -E.EINVAL : devSetMacAddress(d, addr);
      if (err < 0) {
        stderr.write(`SIOCSIFHWADDR: ${strerror(err)}\n`);
        goterr |= 1;
      }
      continue;
    }
    if (KEYWORDS_NOT_MODELLED.has(word)) {
      stderr.write(`ifconfig: \`${word}' is not supported by lonet yet\n`);
      return 1;
    }
    // Anything else is an address to set: only names that resolve reach SIOCSIFADDR.
    if (/^\d+(\.\d+){0,3}$/.test(word)) {
      stderr.write(`ifconfig: setting an address is not supported by lonet yet; use ip addr\n`);
      return 1;
    }
    stderr.write(`${word}: Host name lookup failure\nifconfig: \`--help' gives usage information.\n`);
    return 1;
  }
  // main() returns goterr: -1 leaves as 255.
  return goterr & 0xff;
}
