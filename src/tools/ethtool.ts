/**
 * ethtool(8) 6.1: `ethtool DEV`, -k/-K (features), -i (driver), -S (statistics), -T
 * (time stamping). Linux's ethtool talks netlink for -k, -K, -T and the settings view
 * and the old ioctl for -i and -S; each path has its own error texts and exit codes,
 * and they are kept apart here the same way.
 */

import {
  type EthnlExtAck,
  ethnlFeaturesGet,
  ethnlSetFeatures,
  ethtoolGetLink,
  ethtoolGetTsInfo,
  type FeatureBitRequest,
  type FeaturesInfo,
  NETDEV_FEATURE_COUNT,
  netdevFeaturesStrings,
  type SetFeaturesReply,
} from '../core/ethtool.js';
import { IFNAMSIZ } from '../core/if.js';
import type { EthtoolTsInfo, NetDevice } from '../core/netdevice.js';
import { E, strerror } from '../include/errno.js';
import type { CommandContext, Output } from './command.js';

/** off_flag_def (ethtool common.c): the legacy offload flags and the kernel features they stand for. */
const OFF_FLAG_DEF: readonly { short: string; long: string; kernel: string }[] = [
  { short: 'rx', long: 'rx-checksumming', kernel: 'rx-checksum' },
  { short: 'tx', long: 'tx-checksumming', kernel: 'tx-checksum-*' },
  { short: 'sg', long: 'scatter-gather', kernel: 'tx-scatter-gather*' },
  { short: 'tso', long: 'tcp-segmentation-offload', kernel: 'tx-tcp*-segmentation' },
  { short: 'ufo', long: 'udp-fragmentation-offload', kernel: 'tx-udp-fragmentation' },
  { short: 'gso', long: 'generic-segmentation-offload', kernel: 'tx-generic-segmentation' },
  { short: 'gro', long: 'generic-receive-offload', kernel: 'rx-gro' },
  { short: 'lro', long: 'large-receive-offload', kernel: 'rx-lro' },
  { short: 'rxvlan', long: 'rx-vlan-offload', kernel: 'rx-vlan-hw-parse' },
  { short: 'txvlan', long: 'tx-vlan-offload', kernel: 'tx-vlan-hw-insert' },
  { short: 'ntuple', long: 'ntuple-filters', kernel: 'rx-ntuple-filter' },
  { short: 'rxhash', long: 'receive-hashing', kernel: 'rx-hashing' },
];
const UFO_INDEX = 4;

/** flag_pattern_match(): one '*' at most, matching any run of characters. */
function flagPatternMatch(name: string, pattern: string): boolean {
  const ast = pattern.indexOf('*');
  if (ast < 0) return name === pattern;
  if (name.length + 1 < pattern.length) return false;
  const head = pattern.slice(0, ast);
  const tail = pattern.slice(ast + 1);
  return name.startsWith(head) && name.slice(name.length - tail.length) === tail;
}

/** SOF_TIMESTAMPING_* names (ETH_SS_SOF_TIMESTAMPING). */
const SOF_NAMES = [
  'hardware-transmit',
  'software-transmit',
  'hardware-receive',
  'software-receive',
  'software-system-clock',
  'hardware-legacy-clock',
  'hardware-raw-clock',
  'option-id',
  'sched-transmit',
  'ack-transmit',
  'option-cmsg',
  'option-tsonly',
  'option-stats',
  'option-pktinfo',
  'option-tx-swhw',
  'bind-phc',
  'option-id-tcp',
  'option-rx-filter',
];
/** HWTSTAMP_TX_* names (ETH_SS_TS_TX_TYPES). */
const TX_TYPE_NAMES = ['off', 'on', 'onestep-sync', 'onestep-p2p'];
/** HWTSTAMP_FILTER_* names (ETH_SS_TS_RX_FILTERS). */
const RX_FILTER_NAMES = [
  'none',
  'all',
  'some',
  'ptpv1-l4-event',
  'ptpv1-l4-sync',
  'ptpv1-l4-delay-req',
  'ptpv2-l4-event',
  'ptpv2-l4-sync',
  'ptpv2-l4-delay-req',
  'ptpv2-l2-event',
  'ptpv2-l2-sync',
  'ptpv2-l2-delay-req',
  'ptpv2-event',
  'ptpv2-sync',
  'ptpv2-delay-req',
  'ntp-all',
];

/** Exit codes ethtool uses for these commands. */
const RC = {
  BAD_ARGS: 1,
  DRVINFO: 71,
  NO_DATA: 75,
  NL_ERROR: 92,
  NO_STATS: 94,
  STATS_STRINGS: 96,
} as const;

const HELP = `ethtool version 6.1
Usage:
        ethtool [ FLAGS ] DEVNAME\tDisplay standard information about device
        ethtool [ FLAGS ] -k|--show-features|--show-offload DEVNAME\tGet state of protocol offload and other features
        ethtool [ FLAGS ] -K|--features|--offload DEVNAME\tSet protocol offload and other features
                FEATURE on|off ...
        ethtool [ FLAGS ] -i|--driver DEVNAME\tShow driver information
        ethtool [ FLAGS ] -S|--statistics DEVNAME\tShow adapter statistics
        ethtool [ FLAGS ] -T|--show-time-stamping DEVNAME\tShow time stamping capabilities
        ethtool [ FLAGS ] -l|--show-channels DEVNAME\tQuery Channels
        ethtool [ FLAGS ] -h|--help\t\tShow this help
        ethtool [ FLAGS ] --version\t\tShow version number
`;

type Mode = 'settings' | 'gfeatures' | 'sfeatures' | 'drvinfo' | 'stats' | 'tsinfo' | 'gchannels';

const OPTIONS: ReadonlyMap<string, Mode> = new Map<string, Mode>([
  ['-k', 'gfeatures'],
  ['--show-features', 'gfeatures'],
  ['--show-offload', 'gfeatures'],
  ['-K', 'sfeatures'],
  ['--features', 'sfeatures'],
  ['--offload', 'sfeatures'],
  ['-i', 'drvinfo'],
  ['--driver', 'drvinfo'],
  ['-S', 'stats'],
  ['--statistics', 'stats'],
  ['-T', 'tsinfo'],
  ['-l', 'gchannels'],
  ['--show-channels', 'gchannels'],
  ['--show-time-stamping', 'tsinfo'],
]);

function badArgs(stderr: Output): number {
  stderr.write('ethtool: bad command line argument(s)\nFor more information run ethtool -h\n');
  return RC.BAD_ARGS;
}

/** What ethtool prints for a netlink error: the extack message (with its offset), then errno. */
function nlError(stderr: Output, err: number, msg?: string, offset?: number): void {
  if (msg !== undefined) stderr.write(`netlink error: ${msg}${offset === undefined ? '' : ` (offset ${offset})`}\n`);
  stderr.write(`netlink error: ${strerror(err)}\n`);
}

/** NLA_ALIGN(NLA_HDRLEN + payload). */
const nlaSize = (payload: number): number => (4 + payload + 3) & ~3;

/**
 * Where ETHTOOL_A_HEADER_DEV_NAME sits in a request: after nlmsghdr (16), genlmsghdr
 * (4) and the header nest (4). The kernel's "no device matches name" points there.
 */
const DEV_NAME_OFFSET = 24;

/**
 * ethnl_parse_header_dev_get(): the device a request names, or undefined after
 * printing the kernel's ENODEV.
 */
function nlDevGet(ctx: CommandContext, name: string): NetDevice | undefined {
  const dev = ctx.net.devGetByName(name);
  if (dev === undefined) nlError(ctx.stderr, -E.ENODEV, 'no device matches name', DEV_NAME_OFFSET);
  return dev;
}

export async function ethtool(ctx: CommandContext): Promise<number> {
  const { stdout, stderr } = ctx;
  const args = ctx.argv.slice(1);
  // Global flags before the command.
  while (args.length > 0) {
    const a = args[0] as string;
    if (a === '--debug') {
      if (args.length < 2) return badArgs(stderr);
      args.splice(0, 2);
    } else if (a === '--json' || a === '-I' || a === '--include-statistics') args.shift();
    else break;
  }
  const first = args[0];
  if (first === undefined) return badArgs(stderr);
  if (first === '-h' || first === '--help') {
    stdout.write(HELP);
    return 0;
  }
  if (first === '--version') {
    stdout.write('ethtool version 6.1\n');
    return 0;
  }
  let mode: Mode = 'settings';
  const opt = OPTIONS.get(first);
  if (opt !== undefined) {
    mode = opt;
    args.shift();
  } else if (first.startsWith('-')) return badArgs(stderr);
  const devname = args.shift();
  if (devname === undefined) return badArgs(stderr);
  switch (mode) {
    case 'settings':
      return doSettings(ctx, devname);
    case 'gfeatures':
      if (args.length > 0) {
        stderr.write(`ethtool: unexpected parameter '${args[0]}'\n`);
        return 1;
      }
      return doGfeatures(ctx, devname);
    case 'sfeatures':
      return doSfeatures(ctx, devname, args);
    case 'drvinfo':
      if (args.length > 0) return badArgs(stderr);
      return doDrvinfo(ctx, devname);
    case 'stats':
      if (args.length > 0) {
        stderr.write(`ethtool (-S): unknown parameter '${args[0]}'\n`);
        return 1;
      }
      return doStats(ctx, devname);
    case 'gchannels':
      if (args.length > 0) {
        stderr.write(`ethtool: unexpected parameter '${args[0]}'\n`);
        return 1;
      }
      return doGchannels(ctx, devname);
    case 'tsinfo':
      if (args.length > 0) {
        stderr.write(`ethtool: unexpected parameter '${args[0]}'\n`);
        return 1;
      }
      return doTsinfo(ctx, devname);
  }
}

/**
 * nl_gset(): five requests (link modes, link info, WoL, debug, link state); each one a
 * device does not support is skipped quietly. lo answers only the link state.
 */
function doSettings(ctx: CommandContext, devname: string): number {
  const dev = ctx.net.devGetByName(devname);
  if (dev === undefined) {
    for (let i = 0; i < 5; i++) nlError(ctx.stderr, -E.ENODEV, 'no device matches name', DEV_NAME_OFFSET);
    ctx.stdout.write('No data available\n');
    return RC.NO_DATA;
  }
  let out = `Settings for ${dev.name}:\n`;
  const link = ethtoolGetLink(dev);
  if (link >= 0) out += `\tLink detected: ${link ? 'yes' : 'no'}\n`;
  ctx.stdout.write(out);
  return 0;
}

const on = (mask: bigint, i: number): boolean => ((mask >> BigInt(i)) & 1n) !== 0n;

/** dump_feature(). */
function dumpFeature(r: FeaturesInfo, i: number, name: string, prefix: string): string {
  let suffix = '';
  if (!on(r.hw, i) || on(r.nochange, i)) suffix = ' [fixed]';
  else if (on(r.active, i) !== on(r.wanted, i)) suffix = on(r.wanted, i) ? ' [requested on]' : ' [requested off]';
  return `${prefix}${name}: ${on(r.active, i) ? 'on' : 'off'}${suffix}\n`;
}

/** dump_features(): the legacy groups first, then every other feature in bit order. */
export function dumpFeatures(r: FeaturesInfo): string {
  const names = netdevFeaturesStrings;
  const flagOf = names.map((name) =>
    name === '' ? -1 : OFF_FLAG_DEF.findIndex((d) => flagPatternMatch(name, d.kernel)),
  );
  let out = '';
  OFF_FLAG_DEF.forEach((def, fi) => {
    // No kernel with the netlink interface has UFO.
    if (fi === UFO_INDEX) return;
    const members = flagOf.flatMap((f, i) => (f === fi ? [i] : []));
    if (members.length !== 1) out += `${def.long}: ${members.some((i) => on(r.active, i)) ? 'on' : 'off'}\n`;
    for (const i of members) {
      out += members.length === 1 ? dumpFeature(r, i, def.long, '') : dumpFeature(r, i, names[i] as string, '\t');
    }
  });
  names.forEach((name, i) => {
    if (name !== '' && flagOf[i] === -1) out += dumpFeature(r, i, name, '');
  });
  return out;
}

function doGfeatures(ctx: CommandContext, devname: string): number {
  const dev = nlDevGet(ctx, devname);
  if (dev === undefined) return 1;
  ctx.stdout.write(`Features for ${dev.name}:\n${dumpFeatures(ethnlFeaturesGet(dev))}`);
  return 0;
}

/**
 * nl_sfeatures(): turn `name on|off` pairs into named bits (a legacy flag becomes every
 * feature its pattern matches), send them, and print what did not go as asked.
 */
function doSfeatures(ctx: CommandContext, devname: string, args: string[]): number {
  const { stdout, stderr } = ctx;
  const bits: FeatureBitRequest[] = [];
  /** ethtool's req_mask: the features it knows it asked for. */
  let reqMask = 0n;
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] as string;
    if (name === '--') break;
    const val = args[i + 1];
    if (val !== 'on' && val !== 'off') {
      stderr.write(`ethtool (-K): flag '${val ?? '(null)'}' for parameter '(null)' is not followed by 'on' or 'off'\n`);
      return 1;
    }
    const value = val === 'on';
    const def = OFF_FLAG_DEF.find((d) => d.short === name || d.long === name);
    if (def !== undefined) {
      netdevFeaturesStrings.forEach((fname, j) => {
        if (fname !== '' && flagPatternMatch(fname, def.kernel)) {
          bits.push({ name: fname, value });
          reqMask |= 1n << BigInt(j);
        }
      });
    } else {
      bits.push({ name, value });
      const j = netdevFeaturesStrings.indexOf(name);
      if (name !== '' && j >= 0) reqMask |= 1n << BigInt(j);
    }
  }
  const dev = nlDevGet(ctx, devname);
  if (dev === undefined) return RC.NL_ERROR;
  const reply: SetFeaturesReply = { wanted: 0n, wantedMask: 0n, active: 0n, activeMask: 0n };
  const extack: EthnlExtAck = {};
  const err = ethnlSetFeatures(dev, bits, reply, extack);
  if (err < 0) {
    nlError(
      stderr,
      err,
      extack.msg,
      extack.badBit === undefined ? undefined : bitNameOffset(devname, bits, extack.badBit),
    );
    return RC.NL_ERROR;
  }
  // show_feature_changes()
  const nothingChanged = reply.wantedMask === reqMask;
  if (reply.wantedMask !== 0n || (reply.activeMask & ~reqMask) !== 0n) {
    let out = 'Actual changes:\n';
    for (let i = 0; i < NETDEV_FEATURE_COUNT; i++) {
      if (!on(reply.wantedMask, i) && !on(reply.activeMask, i)) continue;
      out += `${netdevFeaturesStrings[i]}: `;
      if (on(reply.wantedMask, i)) {
        out += on(reply.wanted, i) ? 'off [requested on]' : 'on [requested off]';
      } else if (!on(reqMask, i)) out += `${on(reply.active, i) ? 'on' : 'off'} [not requested]`;
      else out += on(reply.active, i) ? 'on' : 'off';
      out += '\n';
    }
    stdout.write(out);
  }
  if (nothingChanged) {
    stderr.write('Could not change any device features\n');
    return 1;
  }
  return 0;
}

/**
 * The offset the kernel reports for a bad ETHTOOL_A_BITSET_BIT_NAME: the message as
 * ethtool lays it out (header with the device name and flags, the WANTED and BITS
 * nests, then one nest per bit holding its name and, for "on", an empty VALUE flag).
 */
function bitNameOffset(devname: string, bits: readonly FeatureBitRequest[], bad: number): number {
  const enc = new TextEncoder();
  let off = 16 + 4 + 4 + nlaSize(enc.encode(devname).byteLength + 1) + nlaSize(4) + 4 + 4;
  for (let i = 0; i < bad; i++) {
    const b = bits[i] as FeatureBitRequest;
    off += 4 + nlaSize(enc.encode(b.name).byteLength + 1) + (b.value ? 4 : 0);
  }
  return off + 4;
}

/** ethtool's ioctl path cannot name a device longer than IFNAMSIZ - 1. */
function ioctlNameTooLong(ctx: CommandContext, devname: string): boolean {
  if (new TextEncoder().encode(devname).byteLength < IFNAMSIZ) return false;
  ctx.stderr.write('ethtool netlink support for subcommand missing, device name longer than 15 not supported\n');
  return true;
}

/** do_gdrv(): ETHTOOL_GDRVINFO. */
function doDrvinfo(ctx: CommandContext, devname: string): number {
  if (ioctlNameTooLong(ctx, devname)) return 1;
  const dev = ctx.net.devGetByName(devname);
  const getDrvinfo = dev?.ethtoolOps?.getDrvinfo;
  if (dev === undefined || getDrvinfo === undefined) {
    ctx.stderr.write(`Cannot get driver information: ${strerror(dev === undefined ? E.ENODEV : E.EOPNOTSUPP)}\n`);
    return RC.DRVINFO;
  }
  const info = getDrvinfo(dev);
  const nStats = dev.ethtoolOps?.getSsetCount?.(dev) ?? 0;
  ctx.stdout.write(
    `driver: ${info.driver}\nversion: ${info.version}\nfirmware-version: \nexpansion-rom-version: \n` +
      `bus-info: ${info.busInfo}\nsupports-statistics: ${nStats > 0 ? 'yes' : 'no'}\nsupports-test: no\n` +
      'supports-eeprom-access: no\nsupports-register-dump: no\nsupports-priv-flags: no\n',
  );
  return 0;
}

/** do_gnicstats(): ETHTOOL_GSSET_INFO for ETH_SS_STATS first. */
function doStats(ctx: CommandContext, devname: string): number {
  if (ioctlNameTooLong(ctx, devname)) return 1;
  const dev = ctx.net.devGetByName(devname);
  if (dev === undefined) {
    ctx.stderr.write(`Cannot get stats strings information: ${strerror(E.ENODEV)}\n`);
    return RC.STATS_STRINGS;
  }
  // ETHTOOL_GSTATS: the driver's names and values (veth's per-queue counters); none is "no stats".
  const stats = dev.ethtoolOps?.getEthtoolStats?.(dev) ?? [];
  if (stats.length === 0) {
    ctx.stderr.write('no stats available\n');
    return RC.NO_STATS;
  }
  ctx.stdout.write(`NIC statistics:\n${stats.map(([name, v]) => `     ${name}: ${v}\n`).join('')}`);
  return 0;
}

/** nl_gchannels(): ETHTOOL_MSG_CHANNELS_GET; a driver without get_channels is EOPNOTSUPP. */
function doGchannels(ctx: CommandContext, devname: string): number {
  const dev = nlDevGet(ctx, devname);
  if (dev === undefined) return 1;
  const ch = dev.ethtoolOps?.getChannels?.(dev);
  if (ch === undefined) {
    nlError(ctx.stderr, -E.EOPNOTSUPP);
    return 1;
  }
  const rows = (rx: number, tx: number) => `RX:\t\t${rx}\nTX:\t\t${tx}\nOther:\t\tn/a\nCombined:\tn/a\n`;
  ctx.stdout.write(
    `Channel parameters for ${dev.name}:\nPre-set maximums:\n${rows(ch.maxRx, ch.maxTx)}` +
      `Current hardware settings:\n${rows(ch.rxCount, ch.txCount)}`,
  );
  return 0;
}

/** A bit list as tsinfo prints it: " none" when empty, else one name a line. */
function tsList(label: string, mask: number, names: readonly string[]): string {
  if (mask === 0) return `${label}: none\n`;
  let out = `${label}:\n`;
  for (let i = 0; i < 32; i++) if (mask & (1 << i)) out += `\t${names[i] ?? `bit${i}`}\n`;
  return out;
}

/** nl_tsinfo(): ETHTOOL_MSG_TSINFO_GET. */
function doTsinfo(ctx: CommandContext, devname: string): number {
  const dev = nlDevGet(ctx, devname);
  if (dev === undefined) return 1;
  const info: EthtoolTsInfo = { soTimestamping: 0, phcIndex: -1, txTypes: 0, rxFilters: 0 };
  const err = ethtoolGetTsInfo(dev, info);
  if (err < 0) {
    nlError(ctx.stderr, err);
    return 1;
  }
  ctx.stdout.write(
    `Time stamping parameters for ${dev.name}:\n` +
      tsList('Capabilities', info.soTimestamping, SOF_NAMES) +
      `PTP Hardware Clock: ${info.phcIndex < 0 ? 'none' : info.phcIndex}\n` +
      tsList('Hardware Transmit Timestamp Modes', info.txTypes, TX_TYPE_NAMES) +
      tsList('Hardware Receive Filter Modes', info.rxFilters, RX_FILTER_NAMES),
  );
  return 0;
}
