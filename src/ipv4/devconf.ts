/**
 * struct ipv4_devconf (net/ipv4/devinet.c): net.ipv4.conf.{all,default,DEV}.*. Every
 * namespace has an `all` and a `default` set; a device's in_device copies `default` when
 * IPv4 comes to it. Writing `default.X` reaches every device that has not had X written
 * itself (devinet_copy_dflt_conf); writing `all.forwarding` or `ip_forward` sets it
 * everywhere (inet_forward_change). Readers combine `all` and the device's value as the
 * IN_DEV_* macros do: some OR them, rp_filter takes the larger, forwarding is the device's.
 */
import { IFF } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { parseProcInt, type SysctlEntry } from '../kernel/sysctl.js';
import type { Net } from '../net/net.js';
import { registerSysctlDir } from '../net/procfs.js';
import { type InDevice, inDevGet } from './devinet.js';

/** The IPV4_DEVCONF_* names as /proc/sys shows them, with ipv4_devconf_dflt's values. */
const DFLT: Readonly<Record<string, number>> = {
  accept_local: 0,
  accept_redirects: 1,
  accept_source_route: 1,
  arp_accept: 0,
  arp_announce: 0,
  arp_evict_nocarrier: 1,
  arp_filter: 0,
  arp_ignore: 0,
  arp_notify: 0,
  bc_forwarding: 0,
  bootp_relay: 0,
  disable_policy: 0,
  disable_xfrm: 0,
  drop_gratuitous_arp: 0,
  drop_unicast_in_l2_multicast: 0,
  force_igmp_version: 0,
  forwarding: 0,
  igmpv2_unsolicited_report_interval: 10000,
  igmpv3_unsolicited_report_interval: 1000,
  ignore_routes_with_linkdown: 0,
  log_martians: 0,
  mc_forwarding: 0,
  medium_id: 0,
  promote_secondaries: 0,
  proxy_arp: 0,
  proxy_arp_pvlan: 0,
  route_localnet: 0,
  rp_filter: 0,
  secure_redirects: 1,
  send_redirects: 1,
  shared_media: 1,
  src_valid_mark: 0,
  tag: 0,
};

export type Ipv4DevconfKey = keyof typeof DFLT & string;

/** struct ipv4_devconf: the values and which of them were written on this set (its state bitmap). */
export interface Ipv4Devconf {
  data: Record<string, number>;
  set: Set<string>;
}

/** Namespace-wide sets; devices carry theirs on the in_device. */
export interface Ipv4DevconfNet {
  all: Ipv4Devconf;
  dflt: Ipv4Devconf;
}

/** ipv4_devconf (all) differs from the default set in one place: source routing is off. */
export function ipv4DevconfNetNew(): Ipv4DevconfNet {
  return {
    all: { data: { ...DFLT, accept_source_route: 0 }, set: new Set() },
    dflt: { data: { ...DFLT }, set: new Set() },
  };
}

/** inetdev_init(): a copy of `default`; loopback is exempt from IPsec policy (disable_xfrm/policy 1). */
export function ipv4DevconfForDev(net: Net, dev: NetDevice): Ipv4Devconf {
  const cnf: Ipv4Devconf = { data: { ...net.ipv4.devconf.dflt.data }, set: new Set() };
  if (dev.flags & IFF.LOOPBACK) {
    cnf.data.disable_xfrm = 1;
    cnf.data.disable_policy = 1;
  }
  return cnf;
}

const all = (inDev: InDevice, key: Ipv4DevconfKey): number =>
  (inDev.dev.net as Net).ipv4.devconf.all.data[key] as number;
const own = (inDev: InDevice, key: Ipv4DevconfKey): number => inDev.cnf.data[key] as number;

/** IN_DEV_FORWARD(): the device's own forwarding value. */
export const inDevForward = (inDev: InDevice): boolean => own(inDev, 'forwarding') !== 0;
/** IN_DEV_RPFILTER(): IN_DEV_MAXCONF, the stricter of all and the device. */
export const inDevRpfilter = (inDev: InDevice): number => Math.max(all(inDev, 'rp_filter'), own(inDev, 'rp_filter'));
/** IN_DEV_MAXCONF(): the larger of all and the device (arp_ignore, arp_announce, arp_accept). */
export const inDevMaxconf = (inDev: InDevice, key: Ipv4DevconfKey): number =>
  Math.max(all(inDev, key), own(inDev, key));
/** IN_DEV_ORCONF(): either all or the device. */
export const inDevOrconf = (inDev: InDevice, key: Ipv4DevconfKey): boolean =>
  all(inDev, key) !== 0 || own(inDev, key) !== 0;
/** IN_DEV_ANDCONF(). */
export const inDevAndconf = (inDev: InDevice, key: Ipv4DevconfKey): boolean =>
  all(inDev, key) !== 0 && own(inDev, key) !== 0;
/** IN_DEV_TX_REDIRECTS(): send_redirects of all OR the device. */
export const inDevTxRedirects = (inDev: InDevice): boolean => inDevOrconf(inDev, 'send_redirects');

/** IPV4_DEVCONF_ALL(net, FORWARDING): what ip_forward and the Ip: Forwarding column read. */
export const ipv4ForwardingAll = (net: Net): boolean => net.ipv4.devconf.all.data.forwarding !== 0;

/**
 * inet_forward_change(): forwarding on or off everywhere. Turning it on also turns
 * accept_redirects of `all` off (a router does not take redirects).
 */
function inetForwardChange(net: Net, on: number): void {
  const dc = net.ipv4.devconf;
  dc.all.data.forwarding = on;
  dc.all.data.accept_redirects = on ? 0 : 1;
  dc.dflt.data.forwarding = on;
  for (const dev of net.devices) {
    const inDev = inDevGet(dev);
    if (inDev === null) continue;
    // Written, as IN_DEV_CONF_SET does: a later default.forwarding no longer reaches it.
    inDev.cnf.data.forwarding = on;
    inDev.cnf.set.add('forwarding');
  }
}

/** The writes that change routing decisions flush the route cache (rt_cache_flush). */
const FLUSHES = new Set(['accept_local', 'rp_filter', 'route_localnet', 'forwarding', 'src_valid_mark']);

/** devinet_conf_proc / devinet_sysctl_forward for one name of one set. */
function writeConf(net: Net, which: 'all' | 'default' | NetDevice, key: string, text: string): number {
  const v = parseProcInt(text);
  if (v === undefined) return -E.EINVAL;
  const dc = net.ipv4.devconf;
  if (key === 'forwarding' && which === 'all') {
    if (v !== dc.all.data.forwarding) inetForwardChange(net, v);
    net.ipv4.rtGenid++;
    return 0;
  }
  const cnf = which === 'all' ? dc.all : which === 'default' ? dc.dflt : inDevGet(which)?.cnf;
  if (cnf === undefined) return -E.ENOENT;
  cnf.data[key] = v;
  cnf.set.add(key);
  if (which === 'default') {
    // devinet_copy_dflt_conf(): every device that has not set it itself follows.
    for (const dev of net.devices) {
      const inDev = inDevGet(dev);
      if (inDev !== null && !inDev.cnf.set.has(key)) inDev.cnf.data[key] = v;
    }
  }
  if (FLUSHES.has(key)) net.ipv4.rtGenid++;
  return 0;
}

function confEntries(net: Net, which: 'all' | 'default' | NetDevice): SysctlEntry[] {
  const name = typeof which === 'string' ? which : which.name;
  const cnf = () => {
    const dc = net.ipv4.devconf;
    return which === 'all' ? dc.all : which === 'default' ? dc.dflt : inDevGet(which)?.cnf;
  };
  return Object.keys(DFLT).map((key) => ({
    name: `net.ipv4.conf.${name}.${key}`,
    perNet: true,
    read: () => String(cnf()?.data[key] ?? 0),
    write: (_k: Kernel, n: Net, text: string) => writeConf(n, which, key, text),
  }));
}

/** net.ipv4.ip_forward: IPV4_DEVCONF_ALL(FORWARDING) under another name (ipv4_sysctl_forward). */
export const ipForwardSysctl: SysctlEntry = {
  name: 'net.ipv4.ip_forward',
  perNet: true,
  read: (_k, net) => String(net.ipv4.devconf.all.data.forwarding),
  write: (_k, net, text) => writeConf(net, 'all', 'forwarding', text),
};

/** devinet_init_net's tables and each in_device's (devinet_sysctl_register): one set per device with IPv4. */
export function devinetSysctlInit(kernel: Kernel): void {
  kernel.registerSysctl(ipForwardSysctl);
  registerSysctlDir('net.ipv4.conf.', (net) => {
    const out = [...confEntries(net, 'all'), ...confEntries(net, 'default')];
    for (const dev of net.devices) if (inDevGet(dev) !== null) out.push(...confEntries(net, dev));
    return out;
  });
}
