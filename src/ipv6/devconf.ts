/**
 * struct ipv6_devconf (net/ipv6/addrconf.c): net.ipv6.conf.{all,default,DEV}.*. A new
 * namespace starts from the compiled defaults (IPv6 does not inherit init_net's, unlike
 * IPv4); a device's inet6_dev copies `default`, with lo's exceptions (no DAD, no temporary
 * addresses). Writing `all.forwarding` sets it on `default` and every device
 * (addrconf_fixup_forwarding); ip6_forward reads `all`'s.
 */
import { IFF } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { parseProcInt, type SysctlEntry } from '../kernel/sysctl.js';
import type { Net } from '../net/net.js';
import { registerSysctlDir } from '../net/procfs.js';
import { in6DevGet } from './addrconf.js';

/** ipv6_devconf_dflt's values, by the names /proc/sys shows. */
const DFLT: Readonly<Record<string, number>> = {
  accept_dad: 1,
  accept_ra: 1,
  accept_ra_defrtr: 1,
  accept_ra_from_local: 0,
  accept_ra_min_hop_limit: 1,
  accept_ra_min_lft: 0,
  accept_ra_mtu: 1,
  accept_ra_pinfo: 1,
  accept_ra_rt_info_max_plen: 0,
  accept_ra_rt_info_min_plen: 0,
  accept_ra_rtr_pref: 1,
  accept_redirects: 1,
  accept_source_route: 0,
  accept_untracked_na: 0,
  addr_gen_mode: 0,
  autoconf: 1,
  dad_transmits: 1,
  disable_ipv6: 0,
  disable_policy: 0,
  drop_unicast_in_l2_multicast: 0,
  drop_unsolicited_na: 0,
  enhanced_dad: 1,
  force_forwarding: 0,
  force_mld_version: 0,
  force_tllao: 0,
  forwarding: 0,
  hop_limit: 64,
  ignore_routes_with_linkdown: 0,
  ioam6_enabled: 0,
  ioam6_id: 65535,
  ioam6_id_wide: 4294967295,
  keep_addr_on_down: 0,
  max_addresses: 16,
  max_desync_factor: 600,
  mldv1_unsolicited_report_interval: 10000,
  mldv2_unsolicited_report_interval: 1000,
  /** IPV6_MIN_MTU; a device shows its own. */
  mtu: 1280,
  ndisc_evict_nocarrier: 1,
  ndisc_notify: 0,
  ndisc_tclass: 0,
  optimistic_dad: 0,
  proxy_ndp: 0,
  ra_defrtr_metric: 1024,
  ra_honor_pio_life: 0,
  ra_honor_pio_pflag: 0,
  regen_max_retry: 3,
  regen_min_advance: 2,
  router_probe_interval: 60,
  router_solicitation_delay: 1,
  router_solicitation_interval: 4,
  router_solicitation_max_interval: 3600,
  router_solicitations: -1,
  rpl_seg_enabled: 0,
  seg6_enabled: 0,
  suppress_frag_ndisc: 1,
  temp_prefered_lft: 86400,
  temp_valid_lft: 604800,
  use_oif_addrs_only: 0,
  use_optimistic: 0,
  use_tempaddr: 0,
};

export interface Ipv6Devconf {
  data: Record<string, number>;
}

export interface Ipv6DevconfNet {
  all: Ipv6Devconf;
  dflt: Ipv6Devconf;
}

/** ipv6_devconf (all) differs from the default set in one place: no DAD. */
export function ipv6DevconfNetNew(): Ipv6DevconfNet {
  return { all: { data: { ...DFLT, accept_dad: 0 } }, dflt: { data: { ...DFLT } } };
}

/** ipv6_add_dev(): a copy of `default` with the device's MTU; lo does no DAD and no temporary addresses. */
export function ipv6DevconfForDev(net: Net, dev: NetDevice): Ipv6Devconf {
  const data: Record<string, number> = { ...net.ipv6.devconf.dflt.data, mtu: dev.mtu };
  if (dev.flags & IFF.LOOPBACK) {
    data.accept_dad = -1;
    data.use_tempaddr = -1;
  }
  return { data };
}

/** net->ipv6.devconf_all->forwarding, what ip6_forward asks. */
export const ipv6ForwardingAll = (net: Net): boolean => net.ipv6.devconf.all.data.forwarding !== 0;

function writeConf(net: Net, which: 'all' | 'default' | NetDevice, key: string, text: string): number {
  const v = parseProcInt(text);
  if (v === undefined) return -E.EINVAL;
  const dc = net.ipv6.devconf;
  const cnf = which === 'all' ? dc.all : which === 'default' ? dc.dflt : in6DevGet(which)?.cnf;
  if (cnf === undefined) return -E.ENOENT;
  // lonet routes by the device's MTU: a device's conf mtu is shown, not kept apart from it.
  if (key === 'mtu' && typeof which === 'object') return v < 1280 || v > which.mtu ? -E.EINVAL : 0;
  cnf.data[key] = v;
  if (key === 'hop_limit' && which === 'all') net.ipv6.sysctl.hop_limit = v;
  if (key === 'forwarding' && which === 'all') {
    // addrconf_fixup_forwarding(): default and every device follow all.
    dc.dflt.data.forwarding = v;
    for (const dev of net.devices) {
      const idev = in6DevGet(dev);
      if (idev !== undefined && idev !== null) idev.cnf.data.forwarding = v;
    }
  }
  if (key === 'forwarding') net.ipv6.genid++;
  return 0;
}

function confEntries(net: Net, which: 'all' | 'default' | NetDevice): SysctlEntry[] {
  const name = typeof which === 'string' ? which : which.name;
  const cnf = () => {
    const dc = net.ipv6.devconf;
    return which === 'all' ? dc.all : which === 'default' ? dc.dflt : in6DevGet(which)?.cnf;
  };
  return Object.keys(DFLT).map((key) => ({
    name: `net.ipv6.conf.${name}.${key}`,
    perNet: true,
    read: () => {
      // A device's mtu follows its MTU changes (NETDEV_CHANGEMTU sets cnf.mtu6).
      if (key === 'mtu' && typeof which === 'object') return String(which.mtu);
      if (key === 'hop_limit' && which === 'all') return String(net.ipv6.sysctl.hop_limit);
      return String(cnf()?.data[key] ?? 0);
    },
    write: (_k: Kernel, n: Net, text: string) => writeConf(n, which, key, text),
  }));
}

/** addrconf_sysctl_register for all, default and each device with IPv6. */
export function addrconfSysctlInit(): void {
  registerSysctlDir('net.ipv6.conf.', (net) => {
    const out = [...confEntries(net, 'all'), ...confEntries(net, 'default')];
    for (const dev of net.devices) if (in6DevGet(dev) !== null) out.push(...confEntries(net, dev));
    return out;
  });
}
