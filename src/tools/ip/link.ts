/**
 * `ip link` (iproute2 6.1 ip/iplink.c, and the link half of ip/ipaddress.c): show a
 * namespace's devices as RTM_NEWLINK messages print, and change them the way
 * rtnetlink's do_setlink() does, in the kernel's order. A snapshot of each device is
 * taken first (what rtnl_fill_ifinfo would put on the wire), then printed as text,
 * oneline, brief or JSON.
 */

import { ARPHRD, IF_OPER_NAMES, IFF } from '../../core/if.js';
import { devGetIflink } from '../../core/link-watch.js';
import {
  devChangeName,
  devChangeTxQueueLen,
  devClose,
  devGetFlags,
  devGetStats,
  devOpen,
  devReportedOperstate,
  devSetMacAddress,
  devSetMtu,
  type ExtAck,
  formatHwAddr,
  type NetDevice,
  type RtnlLinkStats64,
} from '../../core/netdevice.js';
import { doSetMaster, type LinkAttrs, type LinkInfoData, rtnlDellink, rtnlNewlink } from '../../core/rtnetlink.js';
import { E, strerror } from '../../include/errno.js';
import { in6DevGet } from '../../ipv6/addrconf.js';
import { addrconfSetAddrGenMode, addrGenModeName } from '../../ipv6/addrconf-dad.js';
import type { Net } from '../../net/net.js';
import {
  checkIfname,
  duparg,
  duparg2,
  getInteger,
  type IpContext,
  IpExit,
  type IpOptions,
  invarg,
  JsonWriter,
  matches,
  nextArg,
} from './common.js';
import { bridgeInfoText, bridgeParseOpt } from './link-bridge.js';

// ---------------------------------------------------------------------------------
// The message: what RTM_NEWLINK carries for one device.

/** The IFLA_* attributes iproute2 prints for a link. */
export interface LinkMsg {
  ifindex: number;
  ifname: string;
  /** ifi_flags, from dev_get_flags(). */
  flags: number;
  type: number;
  mtu: number;
  qdisc: string;
  operstate: number;
  linkmode: number;
  group: number;
  /** IFLA_TXQLEN is a u32 that iproute2 prints as an int (so 0xffffffff shows as -1). */
  txqlen: number;
  /** null when addr_len is 0: the kernel then sends neither address nor broadcast. */
  address: string | null;
  broadcast: string | null;
  promiscuity: number;
  allmulti: number;
  minMtu: number;
  maxMtu: number;
  /** IFLA_INET6_ADDR_GEN_MODE, present while the device has IPv6 state (inet6_dev). */
  addrGenMode: string | null;
  numTxQueues: number;
  numRxQueues: number;
  gsoMaxSize: number;
  gsoMaxSegs: number;
  tsoMaxSize: number;
  tsoMaxSegs: number;
  groMaxSize: number;
  stats: RtnlLinkStats64;
  /** IFLA_CARRIER_CHANGES. */
  carrierChanges: number;
  /** IFLA_LINK: set when the device is tied to another (veth's peer); 0 there means none. */
  link: number | null;
  /** IFLA_LINK_NETNSID: the id this namespace gives the namespace of that other device. */
  linkNetnsid: number | null;
  /** IFLA_INFO_KIND. */
  kind: string | null;
  /** IFLA_INFO_DATA, and the master's IFLA_INFO_SLAVE_KIND/_DATA for a port. */
  kindInfo: LinkInfoData | null;
  slaveKind: string | null;
  slaveInfo: LinkInfoData | null;
  /** IFLA_MASTER, by name (iproute2's ll_index_to_name). */
  master: string | null;
  /**
   * What iproute2 makes of IFLA_LINK with its own name cache (ll_index_to_name/flags)
   * of the namespace it lists, which is the device's: "veth0@veth1", "veth0@if2".
   */
  displayName: string;
  /** M-DOWN: the other device is in this namespace and down. */
  mDown: boolean;
  /** The /run/netns name iproute2 finds for linkNetnsid, if any (`link-netns NAME`). */
  linkNetnsName: string | null;
}

/** rtnl_fill_ifinfo(), the attributes `ip link` uses. */
export function rtnlFillIfinfo(dev: NetDevice): LinkMsg {
  const hasAddr = dev.addrLen > 0;
  const iflink = devGetIflink(dev);
  // rtnl_fill_link_netnsid(): the other device's namespace, when not this one, gets an id here.
  const linkNet = dev.rtnlLinkOps?.getLinkNet?.(dev) ?? null;
  const net = dev.net;
  const linkNetnsid = linkNet !== null && net !== null && linkNet !== net ? net.peernet2idAlloc(linkNet) : null;
  // nla_put_iflink(): always with a link-netnsid, else only when it names another device.
  const hasLink = linkNetnsid !== null || iflink !== dev.ifindex;
  return {
    ifindex: dev.ifindex,
    ifname: dev.name,
    flags: devGetFlags(dev),
    type: dev.type,
    mtu: dev.mtu,
    qdisc: dev.qdisc,
    operstate: devReportedOperstate(dev),
    linkmode: dev.linkmode,
    group: dev.group,
    txqlen: dev.txQueueLen | 0,
    address: hasAddr ? formatHwAddr(dev.devAddr, dev.addrLen) : null,
    broadcast: hasAddr ? formatHwAddr(dev.broadcast, dev.addrLen) : null,
    promiscuity: dev.promiscuity,
    allmulti: dev.allmulti,
    minMtu: dev.minMtu,
    maxMtu: dev.maxMtu,
    addrGenMode: in6DevGet(dev) !== null ? addrGenModeName(dev) : null,
    numTxQueues: dev.numTxQueues,
    numRxQueues: dev.numRxQueues,
    gsoMaxSize: dev.gsoMaxSize,
    gsoMaxSegs: dev.gsoMaxSegs,
    tsoMaxSize: dev.tsoMaxSize,
    tsoMaxSegs: dev.tsoMaxSegs,
    groMaxSize: dev.groMaxSize,
    stats: devGetStats(dev),
    carrierChanges: dev.carrierChanges,
    link: hasLink ? iflink : null,
    linkNetnsid,
    kind: dev.rtnlLinkOps?.kind ?? null,
    kindInfo: dev.rtnlLinkOps?.fillInfo?.(dev) ?? null,
    slaveKind: dev.master?.rtnlLinkOps?.slaveKind ?? null,
    slaveInfo: dev.master !== null ? (dev.master.rtnlLinkOps?.fillSlaveInfo?.(dev.master, dev) ?? null) : null,
    master: dev.master?.name ?? null,
    ...linkDisplay(dev, hasLink ? iflink : dev.ifindex, linkNet),
    linkNetnsName: linkNetnsid !== null && net !== null ? nsidName(net, linkNetnsid) : null,
  };
}

function linkDisplay(dev: NetDevice, iflink: number, linkNet: Net | null): { displayName: string; mDown: boolean } {
  if (linkNet !== null && linkNet !== dev.net) return { displayName: `${dev.name}@if${iflink}`, mDown: false };
  if (iflink === dev.ifindex) return { displayName: dev.name, mDown: false };
  if (iflink === 0) return { displayName: `${dev.name}@NONE`, mDown: false };
  const other = dev.net?.devGetByIndex(iflink);
  return {
    displayName: `${dev.name}@${other?.name ?? `if${iflink}`}`,
    mDown: other === undefined || !(devGetFlags(other) & IFF.UP),
  };
}

// ---------------------------------------------------------------------------------
// Names iproute2 gives to numbers.

/** print_link_flags() order; RUNNING is never printed (NO-CARRIER stands for its absence). */
const FLAG_ORDER = [
  'LOOPBACK',
  'BROADCAST',
  'POINTOPOINT',
  'MULTICAST',
  'NOARP',
  'ALLMULTI',
  'PROMISC',
  'MASTER',
  'SLAVE',
  'DEBUG',
  'DYNAMIC',
  'AUTOMEDIA',
  'PORTSEL',
  'NOTRAILERS',
  'UP',
  'LOWER_UP',
  'DORMANT',
  'ECHO',
] as const satisfies readonly (keyof typeof IFF)[];

export function linkFlagNames(flags: number, mDown = false): string[] {
  const names: string[] = [];
  if (flags & IFF.UP && !(flags & IFF.RUNNING)) names.push('NO-CARRIER');
  let rest = flags & ~IFF.RUNNING;
  for (const f of FLAG_ORDER) {
    if (!(rest & IFF[f])) continue;
    rest &= ~IFF[f];
    names.push(f);
  }
  if (rest !== 0) names.push(rest.toString(16));
  if (mDown) names.push('M-DOWN');
  return names;
}

/** ll_type_n2a(). */
export function llTypeName(type: number): string {
  const names: Record<number, string> = {
    [ARPHRD.ETHER]: 'ether',
    [ARPHRD.LOOPBACK]: 'loopback',
    [ARPHRD.NONE]: 'none',
    [ARPHRD.VOID]: 'void',
  };
  return names[type] ?? `[${type}]`;
}

/** rtnl_group_n2a() with the stock /etc/iproute2/group ("0 default"). */
export function groupName(group: number): string {
  return group === 0 ? 'default' : String(group);
}

const LINK_MODES = ['DEFAULT', 'DORMANT'] as const;

// ---------------------------------------------------------------------------------
// Text output (print_linkinfo and print_stats64 on a FILE).

function linkHeaderText(m: LinkMsg): string {
  let s = `${m.ifindex}: ${m.displayName}: <${linkFlagNames(m.flags, m.mDown).join(',')}> mtu ${m.mtu} qdisc ${m.qdisc} `;
  if (m.master !== null) s += `master ${m.master} `;
  const oper = IF_OPER_NAMES[m.operstate];
  s += oper !== undefined ? `state ${oper} ` : `state 0x${m.operstate.toString(16)} `;
  const mode = LINK_MODES[m.linkmode];
  s += mode !== undefined ? `mode ${mode} ` : `mode ${m.linkmode} `;
  s += `group ${groupName(m.group)} `;
  // print_queuelen(): nothing at all for 0, which leaves the space after the group.
  if (m.txqlen !== 0) s += `qlen ${m.txqlen}`;
  return s;
}

function linkLayerText(m: LinkMsg): string {
  let s = `    link/${llTypeName(m.type)} `;
  if (m.address !== null) s += m.address;
  if (m.broadcast !== null) s += ` ${m.flags & IFF.POINTOPOINT ? 'peer' : 'brd'} ${m.broadcast}`;
  s += linkNetnsText(m);
  return s;
}

/** get_name_from_nsid(): the /run/netns name whose namespace has this id here. */
function nsidName(net: Net, nsid: number): string | null {
  for (const [name, other] of net.kernel.netnsByName) if (net.peernet2id(other) === nsid) return name;
  return null;
}

/** link-netns NAME when iproute2 can name the namespace, else link-netnsid ID; nothing without one. */
export function linkNetnsText(m: LinkMsg): string {
  if (m.linkNetnsid === null) return '';
  return m.linkNetnsName !== null ? ` link-netns ${m.linkNetnsName}` : ` link-netnsid ${m.linkNetnsid}`;
}

/** -d: each value ends in a space; iproute2 6.1 also starts promiscuity and allmulti with one (hence "0  allmulti"). */
export function linkDetailsText(m: LinkMsg, sl = '\n'): string {
  let s = ` promiscuity ${m.promiscuity}  allmulti ${m.allmulti} minmtu ${m.minMtu} maxmtu ${m.maxMtu} `;
  // print_linktype(): the kind on a line of its own.
  if (m.kind !== null) {
    s += `${sl}    ${m.kind} `;
    if (m.kindInfo !== null) s += bridgeInfoText(m.kind, m.kindInfo);
  }
  if (m.slaveKind !== null) {
    s += `${sl}    ${m.slaveKind} `;
    if (m.slaveInfo !== null) s += bridgeInfoText(m.slaveKind, m.slaveInfo);
  }
  if (m.addrGenMode !== null) s += `addrgenmode ${m.addrGenMode} `;
  s += `numtxqueues ${m.numTxQueues} numrxqueues ${m.numRxQueues} `;
  s += `gso_max_size ${m.gsoMaxSize} gso_max_segs ${m.gsoMaxSegs} `;
  s += `tso_max_size ${m.tsoMaxSize} tso_max_segs ${m.tsoMaxSegs} `;
  s += `gro_max_size ${m.groMaxSize} `;
  return s;
}

/** print_num(): right-aligned in `width`, then a space; -h scales by 1000 (-iec: 1024). */
export function printNum(width: number, count: number, o: Pick<IpOptions, 'human' | 'iec'>): string {
  const base = o.iec ? 1024 : 1000;
  if (!o.human || count < base) return `${String(count).padStart(width)} `;
  const prefixes = 'kMGTPE';
  let p = 0;
  let powi = 1;
  for (;;) {
    powi *= base;
    if (Math.floor(count / base) < powi || p === prefixes.length - 1) break;
    p++;
  }
  let precision = 2;
  for (let powj = 10; precision > 0; precision--, powj *= 10) if (Math.floor(count / powi) < powj) break;
  const buf = `${(count / powi).toFixed(precision)}${prefixes[p]}${o.iec ? 'i' : ''}`;
  return `${buf.padStart(width)} `;
}

/** Column widths of the stats table, shared by the RX and TX rows. */
type StatCols = number[];

/** size_columns(): widen each column to the digits of its value (not under -h). */
function sizeColumns(cols: StatCols, human: boolean, ...vals: number[]): void {
  if (human) return;
  vals.forEach((v, i) => {
    cols[i] = Math.max(cols[i] ?? 0, String(v).length);
  });
}

function statColumns(s: RtnlLinkStats64, m: LinkMsg, o: IpOptions): StatCols {
  // The widths of the header words: "*X errors:", packets, errors, dropped, heartbt, overrun, compressed, otherhost.
  const cols: StatCols = [10, 7, 6, 7, 7, 7, 10, 9];
  const h = o.human;
  const ext = o.stats > 1;
  sizeColumns(cols, h, s.rxBytes, s.rxPackets, s.rxErrors, s.rxDropped, s.rxMissedErrors, s.multicast, s.rxCompressed);
  if (ext) {
    const { rxLengthErrors, rxCrcErrors, rxFrameErrors, rxFifoErrors, rxOverErrors } = s;
    sizeColumns(cols, h, 0, rxLengthErrors, rxCrcErrors, rxFrameErrors, rxFifoErrors, rxOverErrors);
    sizeColumns(cols, h, 0, 0, 0, 0, 0, 0, s.rxNohandler, s.rxOtherhostDropped);
  }
  sizeColumns(
    cols,
    h,
    s.txBytes,
    s.txPackets,
    s.txErrors,
    s.txDropped,
    s.txCarrierErrors,
    s.collisions,
    s.txCompressed,
  );
  // iproute2 6.1 sizes the TX error row one column to the right of where it prints it.
  if (ext) {
    const { txAbortedErrors, txFifoErrors, txWindowErrors, txHeartbeatErrors } = s;
    sizeColumns(cols, h, 0, 0, txAbortedErrors, txFifoErrors, txWindowErrors, txHeartbeatErrors, m.carrierChanges);
  }
  return cols;
}

const col = (cols: StatCols, i: number): number => cols[i] ?? 0;

/** A header line: each word right-aligned in its column, the first 4 narrower for "RX: ". */
function statHeader(dir: string, cols: StatCols, words: string[]): string {
  const [w0 = '', ...rest] = words;
  return `    ${dir}: ${w0.padStart(col(cols, 0) - 4)} ${rest.map((w, i) => w.padStart(col(cols, i + 1))).join(' ')}`;
}

function statValues(lead: string, cols: StatCols, first: number, vals: number[], o: IpOptions): string {
  return lead + vals.map((v, i) => printNum(col(cols, first + i), v, o)).join('');
}

function rxStatsText(s: RtnlLinkStats64, cols: StatCols, o: IpOptions, sl: string): string {
  const rx = [s.rxBytes, s.rxPackets, s.rxErrors, s.rxDropped, s.rxMissedErrors, s.multicast];
  if (s.rxCompressed) rx.push(s.rxCompressed);
  const words = ['bytes', 'packets', 'errors', 'dropped', 'missed', 'mcast', s.rxCompressed ? 'compressed' : ''];
  let t = statHeader('RX', cols, words) + sl + statValues('    ', cols, 0, rx, o);
  if (o.stats > 1) {
    t += sl;
    t += `    RX errors:${''.padStart(col(cols, 0) - 10)} ${['length', 'crc', 'frame', 'fifo', 'overrun'].map((w, i) => w.padStart(col(cols, i + 1))).join(' ')}`;
    // Extra columns appear only when non-zero, each carrying its own leading space.
    if (s.rxNohandler) t += ' nohandler'.padStart(col(cols, 6) + 1);
    if (s.rxOtherhostDropped) t += ' otherhost'.padStart(col(cols, 7) + 1);
    const errs = [s.rxLengthErrors, s.rxCrcErrors, s.rxFrameErrors, s.rxFifoErrors, s.rxOverErrors];
    t += sl + statValues(''.padStart(col(cols, 0) + 5), cols, 1, errs, o);
    if (s.rxNohandler) t += printNum(col(cols, 6), s.rxNohandler, o);
    if (s.rxOtherhostDropped) t += printNum(col(cols, 7), s.rxOtherhostDropped, o);
  }
  return t;
}

function txStatsText(s: RtnlLinkStats64, m: LinkMsg, cols: StatCols, o: IpOptions, sl: string): string {
  const tx = [s.txBytes, s.txPackets, s.txErrors, s.txDropped, s.txCarrierErrors, s.collisions];
  if (s.txCompressed) tx.push(s.txCompressed);
  const words = ['bytes', 'packets', 'errors', 'dropped', 'carrier', 'collsns', s.txCompressed ? 'compressed' : ''];
  let t = statHeader('TX', cols, words) + sl + statValues('    ', cols, 0, tx, o);
  if (o.stats > 1) {
    const errWords = ['aborted', 'fifo', 'window', 'heartbt', 'transns'];
    t += `${sl}    TX errors:${''.padStart(col(cols, 0) - 10)} ${errWords.map((w, i) => w.padStart(col(cols, i + 1))).join(' ')}`;
    const errs = [s.txAbortedErrors, s.txFifoErrors, s.txWindowErrors, s.txHeartbeatErrors, m.carrierChanges];
    t += sl + statValues(''.padStart(col(cols, 0) + 5), cols, 1, errs, o);
  }
  return t;
}

/** print_stats64() on a FILE. */
export function statsText(m: LinkMsg, o: IpOptions, sl: string): string {
  const cols = statColumns(m.stats, m, o);
  return rxStatsText(m.stats, cols, o, sl) + sl + txStatsText(m.stats, m, cols, o, sl);
}

/** print_linkinfo() on a FILE; `-o` joins the lines with a backslash (_SL_). */
export function linkText(m: LinkMsg, o: IpOptions): string {
  const sl = o.oneline ? '\\' : '\n';
  let s = linkHeaderText(m) + sl + linkLayerText(m);
  if (o.details) s += linkDetailsText(m, sl);
  if (o.stats) s += sl + statsText(m, o, sl);
  return `${s}\n`;
}

/** print_linkinfo_brief(). */
export function linkBriefText(m: LinkMsg): string {
  const oper = IF_OPER_NAMES[m.operstate] ?? String(m.operstate);
  const addr = m.address !== null ? `${m.address} ` : '';
  return `${m.displayName.padEnd(16)} ${oper.padEnd(14)} ${addr}<${linkFlagNames(m.flags, m.mDown).join(',')}> \n`;
}

// ---------------------------------------------------------------------------------
// JSON output (the same print_* calls in a JSON context).

export function statsJson(w: JsonWriter, m: LinkMsg, o: IpOptions): void {
  const s = m.stats;
  const put = (k: string, v: number) => w.name(k).number(v);
  w.name('stats64').startObject();
  w.name('rx').startObject();
  put('bytes', s.rxBytes);
  put('packets', s.rxPackets);
  put('errors', s.rxErrors);
  put('dropped', s.rxDropped);
  // JSON names rx_over_errors here, where text prints rx_missed_errors.
  put('over_errors', s.rxOverErrors);
  put('multicast', s.multicast);
  if (s.rxCompressed) put('compressed', s.rxCompressed);
  if (o.stats > 1) {
    put('length_errors', s.rxLengthErrors);
    put('crc_errors', s.rxCrcErrors);
    put('frame_errors', s.rxFrameErrors);
    put('fifo_errors', s.rxFifoErrors);
    put('missed_errors', s.rxMissedErrors);
    if (s.rxNohandler) put('nohandler', s.rxNohandler);
    if (s.rxOtherhostDropped) put('otherhost', s.rxOtherhostDropped);
  }
  w.endObject();
  w.name('tx').startObject();
  put('bytes', s.txBytes);
  put('packets', s.txPackets);
  put('errors', s.txErrors);
  put('dropped', s.txDropped);
  put('carrier_errors', s.txCarrierErrors);
  put('collisions', s.collisions);
  if (s.txCompressed) put('compressed', s.txCompressed);
  if (o.stats > 1) {
    put('aborted_errors', s.txAbortedErrors);
    put('fifo_errors', s.txFifoErrors);
    put('window_errors', s.txWindowErrors);
    put('heartbeat_errors', s.txHeartbeatErrors);
    put('carrier_changes', m.carrierChanges);
  }
  w.endObject();
  w.endObject();
}

export function detailsJson(w: JsonWriter, m: LinkMsg): void {
  w.name('promiscuity').number(m.promiscuity);
  w.name('allmulti').number(m.allmulti);
  w.name('min_mtu').number(m.minMtu);
  w.name('max_mtu').number(m.maxMtu);
  if (m.kind !== null) w.name('linkinfo').startObject().name('info_kind').string(m.kind).endObject();
  if (m.addrGenMode !== null) w.name('inet6_addr_gen_mode').string(m.addrGenMode);
  w.name('num_tx_queues').number(m.numTxQueues);
  w.name('num_rx_queues').number(m.numRxQueues);
  w.name('gso_max_size').number(m.gsoMaxSize);
  w.name('gso_max_segs').number(m.gsoMaxSegs);
  w.name('tso_max_size').number(m.tsoMaxSize);
  w.name('tso_max_segs').number(m.tsoMaxSegs);
  w.name('gro_max_size').number(m.groMaxSize);
}

function flagsJson(w: JsonWriter, m: LinkMsg): void {
  w.name('flags').startArray();
  for (const f of linkFlagNames(m.flags, m.mDown)) w.string(f);
  w.endArray();
}

/** print_linkinfo() in a JSON context: the members of one (already opened) object. */
export function linkJson(w: JsonWriter, m: LinkMsg, o: IpOptions): void {
  w.name('ifindex').number(m.ifindex);
  w.name('ifname').string(m.ifname);
  if (m.link !== null) {
    if (m.linkNetnsid !== null) w.name('link_index').number(m.link);
    else w.name('link').string(m.displayName.slice(m.ifname.length + 1));
  }
  flagsJson(w, m);
  w.name('mtu').number(m.mtu);
  w.name('qdisc').string(m.qdisc);
  if (m.master !== null) w.name('master').string(m.master);
  const oper = IF_OPER_NAMES[m.operstate];
  if (oper !== undefined) w.name('operstate').string(oper);
  else w.name('operstate_index').number(m.operstate);
  const mode = LINK_MODES[m.linkmode];
  if (mode !== undefined) w.name('linkmode').string(mode);
  else w.name('linkmode_index').number(m.linkmode);
  w.name('group').string(groupName(m.group));
  if (m.txqlen !== 0) w.name('txqlen').number(m.txqlen);
  w.name('link_type').string(llTypeName(m.type));
  if (m.address !== null) w.name('address').string(m.address);
  if (m.broadcast !== null) w.name('broadcast').string(m.broadcast);
  if (m.linkNetnsid !== null) w.name('link_netnsid').number(m.linkNetnsid);
  if (o.details) detailsJson(w, m);
  if (o.stats) statsJson(w, m, o);
}

export function linkBriefJson(w: JsonWriter, m: LinkMsg): void {
  w.name('ifname').string(m.ifname);
  w.name('operstate').string(IF_OPER_NAMES[m.operstate] ?? String(m.operstate));
  if (m.address !== null) w.name('address').string(m.address);
  flagsJson(w, m);
}

// ---------------------------------------------------------------------------------
// ip link show / list / lst (ipaddr_list_flush_or_save with do_link).

interface LinkFilter {
  dev: string | null;
  up: boolean;
  /** -1: any group. */
  group: number;
  /** "type KIND": only devices of that kind. */
  kind: string | null;
  /** "master DEV": only its ports (IFLA_MASTER in the dump request). */
  master: number;
}

/** rtnl_group_a2n(). */
function groupA2n(arg: string): number | null {
  return arg === 'default' ? 0 : getInteger(arg);
}

/** ll_name_to_index(): by name, else the "if<N>" spelling of an index. */
export function llNameToIndex(net: Net, name: string): number {
  const dev = net.devGetByName(name);
  if (dev !== undefined) return dev.ifindex;
  const m = /^if(\d+)$/.exec(name);
  return m !== null && net.devGetByIndex(Number(m[1])) !== undefined ? Number(m[1]) : 0;
}

function parseShowArgs(ctx: IpContext, args: string[]): LinkFilter {
  const f: LinkFilter = { dev: null, up: false, group: -1, kind: null, master: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'up') f.up = true;
    else if (a === 'group') {
      const g = nextArg(ctx, args, i++);
      f.group = groupA2n(g) ?? invarg(ctx, 'Invalid "group" value\n', g);
    } else if (a === 'master') {
      const m = nextArg(ctx, args, i++);
      f.master = llNameToIndex(ctx.net, m);
      if (f.master === 0) invarg(ctx, 'Device does not exist\n', m);
    } else if (a === 'type') f.kind = nextArg(ctx, args, i++);
    else if (a === 'nomaster') continue;
    else {
      let name = a;
      if (a === 'dev') name = nextArg(ctx, args, i++);
      else if (matches(a, 'help')) iplinkUsage(ctx);
      if (f.dev !== null) duparg2(ctx, 'dev', name);
      f.dev = name;
    }
  }
  return f;
}

/** The filters print_linkinfo applies itself; a device they reject prints as nothing. */
function passesFilter(dev: NetDevice, f: LinkFilter): boolean {
  if (f.up && !(devGetFlags(dev) & IFF.UP)) return false;
  if (f.group !== -1 && dev.group !== f.group) return false;
  return f.kind === null || dev.rtnlLinkOps?.kind === f.kind;
}

function showLinks(ctx: IpContext, devs: NetDevice[], f: LinkFilter): void {
  const o = ctx.opts;
  const w = o.json ? new JsonWriter(o.pretty).startArray() : null;
  let text = '';
  for (const dev of devs) {
    const pass = passesFilter(dev, f);
    const m = pass ? rtnlFillIfinfo(dev) : null;
    if (w !== null) {
      // iproute2 opens an object per device even when the filter then prints nothing.
      w.startObject();
      if (m !== null && o.brief) linkBriefJson(w, m);
      else if (m !== null) linkJson(w, m, o);
      w.endObject();
    } else if (m !== null) text += o.brief ? linkBriefText(m) : linkText(m, o);
  }
  ctx.stdout.write(w !== null ? w.endArray().finish() : text);
}

function ipLinkList(ctx: IpContext, args: string[]): number {
  const f = parseShowArgs(ctx, args);
  const net = ctx.net;
  let devs = net.devices;
  if (f.dev !== null) {
    const ifindex = llNameToIndex(net, f.dev);
    if (ifindex <= 0) {
      ctx.stderr.write(`Device "${f.dev}" does not exist.\n`);
      return -1;
    }
    const dev = net.devGetByName(f.dev);
    if (f.group === -1 && dev === undefined) {
      // iplink_get() asks by name, and "if<N>" is no device's name.
      ctx.stderr.write('RTNETLINK answers: No such device\nCannot send link get request: No such device\n');
      throw new IpExit(1);
    }
    devs = devs.filter((d) => d.ifindex === ifindex);
  }
  if (f.master !== 0) devs = devs.filter((d) => d.master?.ifindex === f.master);
  showLinks(ctx, devs, f);
  return 0;
}

// ---------------------------------------------------------------------------------
// Parsing changes (iplink_parse).

/** A C string pointer: iproute2 compares `dev` and `name` by identity, not by value. */
interface CStr {
  s: string;
}

export interface LinkRequest {
  dev: CStr | null;
  name: CStr | null;
  /** ifi_change/ifi_flags for IFF_UP. */
  up: boolean | null;
  mtu: number | null;
  txqlen: number | null;
  address: Uint8Array | null;
  /** IFLA_NET_NS_FD (a /run/netns name) or IFLA_NET_NS_PID. */
  netns: Net | number | null;
  type: string | null;
  /** IFLA_MASTER: an ifindex, 0 for nomaster. */
  master: number | null;
  /** Words after "type KIND". */
  rest: string[];
  /** Attributes iproute2 accepts but lonet cannot apply yet. */
  unsupported: string[];
  /** IFLA_INET6_ADDR_GEN_MODE, by name. */
  addrGenMode?: string;
}

/** sscanf("%x") on one field: optional sign and 0x, at least one hex digit, rest ignored. */
function scanHex(field: string): number | null {
  const m = /^[\t\n\v\f\r ]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(field);
  if (m === null) return null;
  const v = Number.parseInt(m[2] as string, 16);
  return m[1] === '-' ? -v : v;
}

/** ll_addr_a2n(): colon-separated hex bytes, or a dotted IPv4 address (4 bytes). */
export function llAddrA2n(ctx: IpContext, arg: string): Uint8Array | null {
  const bad = (what: string): null => {
    ctx.stderr.write(`"${what}" is invalid lladdr.\n`);
    return null;
  };
  if (arg.includes('.')) {
    const parts = arg.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return bad(arg);
    return Uint8Array.from(parts);
  }
  const bytes: number[] = [];
  for (const field of arg.split(':').slice(0, 32)) {
    const v = scanHex(field);
    if (v === null || v < 0 || v > 255) return bad(field);
    bytes.push(v);
  }
  return Uint8Array.from(bytes);
}

/** on_off(): the message for a flag keyword given neither "on" nor "off". */
function onOff(ctx: IpContext, key: string, value: string): number {
  ctx.stderr.write(`Error: argument of "${key}" must be "on" or "off", not "${value}"\n`);
  return -1;
}

/** Keywords iproute2 knows, lonet cannot apply: flags taking on/off, and one-value attributes. */
const ON_OFF_KEYS = new Set(['multicast', 'allmulticast', 'promisc', 'trailers', 'arp', 'carrier', 'protodown']);
const VALUE_KEYS = ['alias', 'group', 'mode', 'state', 'vrf', 'gso_max_size', 'gso_max_segs'];

function newRequest(): LinkRequest {
  return {
    dev: null,
    name: null,
    up: null,
    mtu: null,
    txqlen: null,
    address: null,
    netns: null,
    type: null,
    master: null,
    rest: [],
    unsupported: [],
  };
}

/** One keyword with its value; returns how many extra words it used, or -1 on a returned error. */
function parseKeyword(ctx: IpContext, req: LinkRequest, args: string[], i: number): number {
  const a = args[i] as string;
  if (a === 'up' || a === 'down') {
    req.up = a === 'up';
    return 0;
  }
  if (a === 'name') return parseName(ctx, req, nextArg(ctx, args, i));
  if (matches(a, 'address')) {
    const addr = llAddrA2n(ctx, nextArg(ctx, args, i));
    if (addr === null) return -1;
    req.address = addr;
    return 1;
  }
  if (matches(a, 'broadcast') || a === 'brd') {
    if (llAddrA2n(ctx, nextArg(ctx, args, i)) === null) return -1;
    req.unsupported.push('broadcast');
    return 1;
  }
  if (matches(a, 'txqueuelen') || a === 'qlen' || matches(a, 'txqlen')) {
    const v = nextArg(ctx, args, i);
    if (req.txqlen !== null) duparg(ctx, 'txqueuelen', v);
    req.txqlen = getInteger(v) ?? invarg(ctx, 'Invalid "txqueuelen" value\n', v);
    return 1;
  }
  if (a === 'mtu') {
    const v = nextArg(ctx, args, i);
    if (req.mtu !== null) duparg(ctx, 'mtu', v);
    req.mtu = getInteger(v) ?? invarg(ctx, 'Invalid "mtu" value\n', v);
    return 1;
  }
  if (a === 'netns') return parseNetns(ctx, req, nextArg(ctx, args, i));
  if (a === 'master') {
    const v = nextArg(ctx, args, i);
    req.master = llNameToIndex(ctx.net, v);
    if (req.master === 0) invarg(ctx, 'Device does not exist\n', v);
    return 1;
  }
  if (a === 'nomaster') {
    req.master = 0;
    return 0;
  }
  if (ON_OFF_KEYS.has(a) || matches(a, 'dynamic')) {
    const v = nextArg(ctx, args, i);
    if (v !== 'on' && v !== 'off') return onOff(ctx, ON_OFF_KEYS.has(a) ? a : 'dynamic', v);
    req.unsupported.push(a);
    return 1;
  }
  if (a === 'addrgenmode') {
    const v = nextArg(ctx, args, i);
    if (!['eui64', 'none', 'stable_secret', 'random'].includes(v)) invarg(ctx, 'Invalid address generation mode\n', v);
    req.addrGenMode = v;
    return 1;
  }
  if (VALUE_KEYS.includes(a)) {
    nextArg(ctx, args, i);
    req.unsupported.push(a);
    return 1;
  }
  return parseDev(ctx, req, args, i);
}

function parseName(ctx: IpContext, req: LinkRequest, v: string): number {
  if (req.name !== null) duparg(ctx, 'name', v);
  if (!checkIfname(v)) invarg(ctx, '"name" not a valid ifname', v);
  req.name = { s: v };
  req.dev ??= req.name;
  return 1;
}

/** netns NAME|PID: a name in /run/netns first, else a process id (lonet has no processes). */
function parseNetns(ctx: IpContext, req: LinkRequest, v: string): number {
  if (req.netns !== null) duparg(ctx, 'netns', v);
  req.netns = ctx.net.kernel.netnsByName.get(v) ?? getInteger(v) ?? invarg(ctx, 'Invalid "netns" value\n', v);
  return 1;
}

/** The catch-all: "dev NAME", a bare device name, or "help". */
function parseDev(ctx: IpContext, req: LinkRequest, args: string[], i: number): number {
  const a = args[i] as string;
  if (matches(a, 'help')) iplinkUsage(ctx);
  const used = a === 'dev' ? 1 : 0;
  const v = used ? nextArg(ctx, args, i) : a;
  if (req.dev !== req.name) duparg2(ctx, 'dev', v);
  if (!checkIfname(v)) invarg(ctx, '"dev" not a valid ifname', v);
  req.dev = { s: v };
  return used;
}

/** iplink_parse(): returns the request, or -1 after printing why. */
function iplinkParse(ctx: IpContext, args: string[]): LinkRequest | number {
  const req = newRequest();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    // "t" is txqueuelen: iproute2 tries txqueuelen before type.
    if (matches(a, 'type') && !matches(a, 'txqueuelen')) {
      req.type = nextArg(ctx, args, i);
      req.rest = args.slice(i + 2);
      break;
    }
    const used = parseKeyword(ctx, req, args, i);
    if (used < 0) return -1;
    i += used;
  }
  // "ip link set lo name lo" is no rename: the two names become one pointer.
  if (req.name === null) req.name = req.dev;
  else if (req.dev === null) req.dev = req.name;
  else if (req.name.s === req.dev.s) req.name = req.dev;
  return req;
}

// ---------------------------------------------------------------------------------
// Applying changes (rtnetlink's do_setlink, newlink and dellink).

/** How iproute2 reports a failed request: the kernel's extack message, else strerror. */
function rtnlError(ctx: IpContext, err: number, extack: ExtAck): number {
  if (extack.msg !== undefined) {
    const msg = extack.msg.endsWith('.') ? extack.msg : `${extack.msg}.`;
    ctx.stderr.write(`Error: ${msg}\n`);
  } else ctx.stderr.write(`RTNETLINK answers: ${strerror(err)}\n`);
  return -2;
}

/**
 * get_net_ns_by_pid(): lonet runs no processes but init, whose namespace is the
 * kernel's first (init_net); any other PID is ESRCH.
 */
function netByPid(net: Net, pid: number): Net | null {
  return pid === 1 ? net.kernel.initNet : null;
}

/** rtnl_link_get_net + __dev_change_net_namespace(). */
function setNetns(dev: NetDevice, target: Net | number, extack: ExtAck): number {
  const net = typeof target === 'number' ? netByPid(dev.net as Net, target) : target;
  if (net === null) return -E.ESRCH;
  return (dev.net as Net).devChangeNetNamespace(dev, net, extack);
}

/** dev_change_flags() for IFF_UP. */
function setUp(dev: NetDevice, up: boolean): number {
  if (up === Boolean(dev.flags & IFF.UP)) return 0;
  return up ? devOpen(dev) : devClose(dev);
}

/**
 * do_setlink(): one change after another in the kernel's order; the first failure
 * stops the rest, and what was already done stays done.
 */
function doSetlink(dev: NetDevice, req: LinkRequest, extack: ExtAck): number {
  const steps: (() => number)[] = [
    () => (req.netns !== null ? setNetns(dev, req.netns, extack) : 0),
    () => (req.address !== null ? devSetMacAddress(dev, req.address) : 0),
    () => (req.mtu !== null ? devSetMtu(dev, req.mtu, extack) : 0),
    () => (req.name !== null && req.name !== req.dev ? devChangeName(dev, req.name.s) : 0),
    () => (req.master !== null ? doSetMaster(dev, req.master, extack) : 0),
    () => (req.up !== null ? setUp(dev, req.up) : 0),
    // IFLA_TXQLEN is a u32: -1 from the command line is 4294967295.
    () => (req.txqlen !== null ? devChangeTxQueueLen(dev, req.txqlen >>> 0) : 0),
    () => (req.addrGenMode !== undefined ? addrconfSetAddrGenMode(dev, req.addrGenMode) : 0),
    () => (req.unsupported.length > 0 ? -E.EOPNOTSUPP : 0),
  ];
  for (const step of steps) {
    const err = step();
    if (err !== 0) return err;
  }
  return 0;
}

/** The IFLA_* attributes of a request, for a new device. */
function linkAttrs(req: LinkRequest): LinkAttrs {
  const attrs: LinkAttrs = {};
  if (req.address !== null) attrs.address = req.address;
  if (req.mtu !== null) attrs.mtu = req.mtu;
  if (req.txqlen !== null) attrs.txqlen = req.txqlen >>> 0;
  return attrs;
}

/**
 * rtnl_newlink() for a new device, through the kinds drivers registered. It is made in
 * the namespace `netns` names, if any; a veth peer stays in the caller's unless its own
 * `netns` says otherwise.
 */
function newLink(
  net: Net,
  req: LinkRequest,
  peer: LinkRequest | null,
  replace: boolean,
  extack: ExtAck,
  kindData: Record<string, unknown> | null,
): number {
  const existing = req.dev !== null ? net.devGetByName(req.dev.s) : undefined;
  if (existing !== undefined) return replace ? -E.EOPNOTSUPP : -E.EEXIST;
  const dest = typeof req.netns === 'number' ? netByPid(net, req.netns) : (req.netns ?? net);
  const peerNet = typeof peer?.netns === 'number' ? netByPid(net, peer.netns) : (peer?.netns ?? net);
  if (dest === null || peerNet === null) return -E.ESRCH;
  const attrs = linkAttrs(req);
  if (peer !== null) {
    const p = linkAttrs(peer);
    attrs.data = { peer: { ...p, net: peerNet, ...(peer.dev !== null ? { name: peer.dev.s } : {}) } };
  }
  if (kindData !== null) attrs.data = kindData;
  return rtnlNewlink(dest, req.type ?? '', req.dev?.s ?? '', attrs, extack);
}

/** veth_parse_opt(): nothing, or "peer" and the peer's own iplink_parse options. */
function vethParseOpt(ctx: IpContext, rest: string[]): LinkRequest | null | number {
  if (rest.length === 0) return null;
  if (rest[0] !== 'peer') {
    ctx.stdout.write("Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'\n");
    return -1;
  }
  const peer = iplinkParse(ctx, rest.slice(1));
  if (typeof peer === 'number') return peer;
  if (peer.type !== null) duparg(ctx, 'type', peer.type);
  if (peer.name !== peer.dev) {
    ctx.stderr.write('both "name" and "dev" cannot be used when creating devices.\n');
    throw new IpExit(255);
  }
  return peer;
}

type LinkCmd = 'add' | 'set' | 'replace' | 'delete';

/** The part of iplink_parse that differs between creating and changing. */
function resolveTarget(ctx: IpContext, req: LinkRequest, create: boolean): NetDevice | null | number {
  if (create) {
    if (req.name !== req.dev) {
      ctx.stderr.write('both "name" and "dev" cannot be used when creating devices.\n');
      throw new IpExit(255);
    }
    return null;
  }
  if (req.dev === null) {
    ctx.stderr.write('Not enough information: "dev" argument is required.\n');
    throw new IpExit(255);
  }
  const dev = ctx.net.devGetByName(req.dev.s);
  if (dev === undefined) {
    ctx.stderr.write(`Cannot find device "${req.dev.s}"\n`);
    return -1;
  }
  return dev;
}

/** The address length check iplink_parse makes against the device it will change. */
function checkAddrLen(ctx: IpContext, req: LinkRequest): boolean {
  const dev = req.dev !== null ? ctx.net.devGetByName(req.dev.s) : undefined;
  if (req.address === null || dev === undefined || req.address.length === dev.addrLen) return true;
  ctx.stderr.write(`Invalid address length ${req.address.length} - must be ${dev.addrLen} bytes\n`);
  return false;
}

/** iplink_modify(). */
function iplinkModify(ctx: IpContext, cmd: LinkCmd, args: string[]): number {
  const req = iplinkParse(ctx, args);
  if (typeof req === 'number') return req;
  if (!checkAddrLen(ctx, req)) return -1;
  const create = cmd === 'add' || cmd === 'replace';
  const target = resolveTarget(ctx, req, create);
  if (typeof target === 'number') return target;
  let peer: LinkRequest | null = null;
  let kindData: Record<string, unknown> | null = null;
  if (req.type === 'veth') {
    const p = vethParseOpt(ctx, req.rest);
    if (typeof p === 'number') return p;
    peer = p;
  } else if (req.type === 'bridge') {
    const d = bridgeParseOpt(ctx, req.rest);
    if (typeof d === 'number') return d;
    kindData = d;
  } else if (req.rest.length > 0) {
    if (matches(req.rest[0] as string, 'help')) iplinkUsage(ctx);
    ctx.stderr.write(`Garbage instead of arguments "${req.rest[0]} ...". Try "ip link help".\n`);
    return -1;
  }
  if (create && req.type === null) {
    ctx.stderr.write('Not enough information: "type" argument is required\n');
    return -1;
  }
  const extack: ExtAck = {};
  let err: number;
  if (target === null) err = newLink(ctx.net, req, peer, cmd === 'replace', extack, kindData);
  // rtnl_dellink(): only devices with rtnl_link_ops can go (not lo).
  else if (cmd === 'delete') err = rtnlDellink(target);
  else {
    err = doSetlink(target, req, extack);
    // rtnl_changelink(): the kind's own options, for a device of that kind only.
    if (err === 0 && kindData !== null) {
      const ops = target.rtnlLinkOps;
      err =
        ops?.kind === req.type && ops.changelink !== undefined
          ? ops.changelink(target, kindData, extack)
          : -E.EOPNOTSUPP;
    }
  }
  return err === 0 ? 0 : rtnlError(ctx, err, extack);
}

// ---------------------------------------------------------------------------------
// Usage and dispatch.

const IPLINK_USAGE = `Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME
		    [ txqueuelen PACKETS ]
		    [ address LLADDR ]
		    [ broadcast LLADDR ]
		    [ mtu MTU ] [index IDX ]
		    [ numtxqueues QUEUE_COUNT ]
		    [ numrxqueues QUEUE_COUNT ]
		    [ netns { PID | NAME } ]
		    type TYPE [ ARGS ]

	ip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]

	ip link set { DEVICE | dev DEVICE | group DEVGROUP }
			[ { up | down } ]
			[ type TYPE ARGS ]
		[ arp { on | off } ]
		[ dynamic { on | off } ]
		[ multicast { on | off } ]
		[ allmulticast { on | off } ]
		[ promisc { on | off } ]
		[ trailers { on | off } ]
		[ carrier { on | off } ]
		[ txqueuelen PACKETS ]
		[ name NEWNAME ]
		[ address LLADDR ]
		[ broadcast LLADDR ]
		[ mtu MTU ]
		[ netns { PID | NAME } ]
		[ link-netns NAME | link-netnsid ID ]
		[ alias NAME ]
		[ vf NUM [ mac LLADDR ]
			 [ vlan VLANID [ qos VLAN-QOS ] [ proto VLAN-PROTO ] ]
			 [ rate TXRATE ]
			 [ max_tx_rate TXRATE ]
			 [ min_tx_rate TXRATE ]
			 [ spoofchk { on | off} ]
			 [ query_rss { on | off} ]
			 [ state { auto | enable | disable} ]
			 [ trust { on | off} ]
			 [ node_guid EUI64 ]
			 [ port_guid EUI64 ] ]
		[ { xdp | xdpgeneric | xdpdrv | xdpoffload } { off |
			  object FILE [ { section | program } NAME ] [ verbose ] |
			  pinned FILE } ]
		[ master DEVICE ][ vrf NAME ]
		[ nomaster ]
		[ addrgenmode { eui64 | none | stable_secret | random } ]
		[ protodown { on | off } ]
		[ protodown_reason PREASON { on | off } ]
		[ gso_max_size BYTES ] | [ gso_max_segs PACKETS ]
		[ gro_max_size BYTES ]

	ip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]
		[nomaster]

	ip link xstats type TYPE [ ARGS ]

	ip link afstats [ dev DEVICE ]
	ip link property add dev DEVICE [ altname NAME .. ]
	ip link property del dev DEVICE [ altname NAME .. ]

	ip link help [ TYPE ]

TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
          dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
          ip6erspan | ip6gre | ip6gretap | ip6tnl |
          ipip | ipoib | ipvlan | ipvtap |
          macsec | macvlan | macvtap |
          netdevsim | nlmon | rmnet | sit | team | team_slave |
          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
          xfrm | virt_wifi }
`;

/** iplink_usage(): to stderr, then exit(-1). */
export function iplinkUsage(ctx: IpContext): never {
  ctx.stderr.write(IPLINK_USAGE);
  throw new IpExit(255);
}

/** do_iplink(): the first matching command wins, in iproute2's order ("s" is set). */
export function doIplink(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return ipLinkList(ctx, []);
  if (matches(cmd, 'add')) return iplinkModify(ctx, 'add', rest);
  if (matches(cmd, 'set') || matches(cmd, 'change')) return iplinkModify(ctx, 'set', rest);
  if (matches(cmd, 'replace')) return iplinkModify(ctx, 'replace', rest);
  if (matches(cmd, 'delete')) return iplinkModify(ctx, 'delete', rest);
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return ipLinkList(ctx, rest);
  if (matches(cmd, 'help')) return iplinkUsage(ctx);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip link help".\n`);
  throw new IpExit(255);
}
