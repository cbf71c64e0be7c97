/**
 * net/ipv6/addrconf.c, the part that talks on the link: once an Ethernet-like device is
 * up with carrier (addrconf_dev_config) it gets its `multicast ff00::/8` route and an
 * EUI-64 link-local address (addrgenmode eui64; none makes none); every tentative
 * address then runs duplicate address detection: after a random delay below
 * rtr_solicit_delay, dad_transmits solicitations from :: (with a nonce) retrans_time
 * apart; silence makes it usable, an answer or another node's probe makes it dadfailed.
 * The first link-local to complete sends a router solicitation. Settings are
 * net.ipv6.conf.DEV.{dad_transmits,accept_dad} and net.ipv6.neigh.DEV.*.
 */
import { IFF, NETDEV } from '../core/if.js';
import { neighSysctlEntries } from '../core/neighbour.js';
import { type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { IFA_F, INFINITY_LIFE_TIME } from '../ipv4/devinet.js';
import { RT_TABLE, RTN, RTPROT } from '../ipv4/fib.js';
import type { Timer } from '../kernel/clock.js';
import type { Kernel } from '../kernel/kernel.js';
import { getRandomU32 } from '../kernel/random.js';
import type { Net } from '../net/net.js';
import { registerSysctlDir } from '../net/procfs.js';
import { formatIpv6, ipv6AddrEqual } from './addr.js';
import { type Inet6Dev, type Inet6Ifaddr, IPV6_ADDR_SCOPE, in6DevGet, ipv6AddAddr } from './addrconf.js';
import { icmpv6Ndisc } from './icmp.js';
import { addrconfJoinSolict, addrconfLeaveSolict, ipv6McDadComplete, ipv6McDown, ipv6McUp } from './mcast.js';
import {
  addrconfAddrSolictMult,
  IN6ADDR_LINKLOCAL_ALLROUTERS,
  ndiscDadHooks,
  ndiscRcv,
  ndiscSendNs,
  ndiscSendRs,
} from './ndisc.js';
import { fib6NewTable } from './route.js';

/** The DAD part of struct ipv6_devconf (with Linux's defaults). */
export const IN6_ADDR_GEN_MODE = { EUI64: 0, NONE: 1, STABLE_PRIVACY: 2, RANDOM: 3 } as const;

/** idev->cnf (net.ipv6.conf.DEV.*); a device without IPv6 reads the namespace's default. */
function ipv6Devconf(dev: NetDevice): Record<string, number> {
  return in6DevGet(dev)?.cnf.data ?? (dev.net as Net).ipv6.devconf.dflt.data;
}

/** What DAD keeps per address (ifp->dad_probes, dad_nonce, dad_work). */
interface DadState {
  probes: number;
  nonce: Uint8Array;
  timer: Timer | null;
}

const dadStates = new WeakMap<Inet6Ifaddr, DadState>();

/** Router solicitation state of devices whose first link-local finished DAD (IF_RS_SENT). */
interface RsState {
  /** idev->rs_probes: solicitations sent. */
  probes: number;
  /** idev->rs_interval, in ms. */
  interval: number;
  timer: Timer | null;
}

const rsSent = new WeakMap<NetDevice, RsState>();

/** rfc3315_s14_backoff_init(): the first retransmission time, irt ± 10 %. */
function rsBackoffInit(irt: number): number {
  return Math.floor(((900000 + (getRandomU32() % 200001)) * irt) / 1000000);
}

/** rfc3315_s14_backoff_update(): doubled ± 5 %, and mrt ± 10 % once past mrt. */
function rsBackoffUpdate(rt: number, mrt: number): number {
  const next = Math.floor(((1900000 + (getRandomU32() % 200001)) * rt) / 1000000);
  return next > mrt ? Math.floor(((900000 + (getRandomU32() % 200001)) * mrt) / 1000000) : next;
}

/** addrconf_mod_rs_timer(). */
function addrconfModRsTimer(dev: NetDevice, st: RsState, ms: number): void {
  st.timer?.cancel();
  const kernel = dev.kernel;
  st.timer = kernel.clock.setTimer(ms * 1e6, () => {
    st.timer = null;
    if (!dev.net?.alive || rsSent.get(dev) !== st) return;
    kernel.runOn(kernel.curCpu, () => addrconfRsTimer(dev, st));
  });
  st.timer.unref();
}

/**
 * addrconf_rs_timer(): another solicitation while router_solicitations allows (-1: for
 * ever), the interval doubling up to router_solicitation_max_interval; the wait after the
 * last one is router_solicitation_delay.
 */
function addrconfRsTimer(dev: NetDevice, st: RsState): void {
  const conf = ipv6Devconf(dev);
  const solicits = conf.router_solicitations as number;
  if (!(st.probes++ < solicits || solicits < 0)) return;
  const ll = in6DevGet(dev)?.addrList.find(
    (a) => a.scope === IPV6_ADDR_SCOPE.LINKLOCAL && !(a.flags & (IFA_F.TENTATIVE | IFA_F.DADFAILED)),
  );
  if (ll === undefined) return;
  ndiscSendRs(dev, ll.addr, IN6ADDR_LINKLOCAL_ALLROUTERS);
  st.interval = rsBackoffUpdate(st.interval, (conf.router_solicitation_max_interval as number) * 1000);
  addrconfModRsTimer(dev, st, st.probes === solicits ? (conf.router_solicitation_delay as number) * 1000 : st.interval);
}

function rsStop(dev: NetDevice): void {
  rsSent.get(dev)?.timer?.cancel();
  rsSent.delete(dev);
}

/** addrconf_link_ready(): up with carrier (or a device that has none to lose). */
function addrconfLinkReady(dev: NetDevice): boolean {
  return dev.running && dev.carrierOk;
}

/** ipv6_generate_eui64() for Ethernet: the MAC with ff:fe in the middle and the U/L bit flipped. */
export function ipv6GenerateEui64(mac: Uint8Array): Uint8Array {
  return Uint8Array.of(
    (mac[0] as number) ^ 0x02,
    mac[1] as number,
    mac[2] as number,
    0xff,
    0xfe,
    mac[3] as number,
    mac[4] as number,
    mac[5] as number,
  );
}

/** addrconf_add_mroute(): ff00::/8 in the local table, through the device. */
function addrconfAddMroute(net: Net, dev: NetDevice): void {
  const tbl = fib6NewTable(net, RT_TABLE.LOCAL);
  const dst = new Uint8Array(16);
  dst[0] = 0xff;
  tbl.insert({
    dst,
    dstLen: 8,
    type: RTN.MULTICAST,
    dev,
    metric: 256,
    protocol: RTPROT.KERNEL,
    pref: 1,
    table: RT_TABLE.LOCAL,
  });
  net.ipv6.genid++;
}

function addrconfDelMroute(net: Net, dev: NetDevice): void {
  net.ipv6.tables.get(RT_TABLE.LOCAL)?.delete((rt) => rt.dev === dev && rt.type === RTN.MULTICAST && rt.dstLen === 8);
  net.ipv6.genid++;
}

/** addrconf_dev_config() + addrconf_addr_gen(): the link-local address, unless addrgenmode says none. */
function addrconfDevConfig(dev: NetDevice, idev: Inet6Dev): void {
  const net = dev.net as Net;
  if (dev.addrLen !== 6 || dev.flags & IFF.LOOPBACK) return;
  addrconfAddMroute(net, dev);
  const mode = ipv6Devconf(dev).addr_gen_mode;
  if (mode === IN6_ADDR_GEN_MODE.NONE) return;
  const addr = new Uint8Array(16);
  addr[0] = 0xfe;
  addr[1] = 0x80;
  if (mode === IN6_ADDR_GEN_MODE.EUI64) addr.set(ipv6GenerateEui64(dev.devAddr), 8);
  else crypto.getRandomValues(addr.subarray(8));
  if (idev.addrList.some((a) => ipv6AddrEqual(a.addr, addr))) return;
  ipv6AddAddr(idev, {
    addr,
    prefixlen: 64,
    scope: IPV6_ADDR_SCOPE.LINKLOCAL,
    flags:
      IFA_F.PERMANENT |
      (mode === IN6_ADDR_GEN_MODE.RANDOM ? IFA_F.STABLE_PRIVACY : 0) |
      (dev.flags & IFF.NOARP ? 0 : IFA_F.TENTATIVE),
    validLft: INFINITY_LIFE_TIME,
    preferredLft: INFINITY_LIFE_TIME,
  });
}

/** addrconf_dad_start() / addrconf_dad_kick(): probing starts after a random delay. */
function addrconfDadStart(dev: NetDevice, ifa: Inet6Ifaddr): void {
  if (!(ifa.flags & IFA_F.TENTATIVE) || ifa.flags & IFA_F.DADFAILED || dadStates.has(ifa)) return;
  if (!addrconfLinkReady(dev)) return;
  const conf = ipv6Devconf(dev);
  const all = (dev.net as Net).ipv6.devconf.all.data;
  if (
    dev.flags & (IFF.NOARP | IFF.LOOPBACK) ||
    ((conf.accept_dad as number) < 1 && (all.accept_dad as number) < 1) ||
    conf.dad_transmits === 0 ||
    ifa.flags & IFA_F.NODAD
  ) {
    addrconfDadCompleted(dev, ifa);
    return;
  }
  const nonce = new Uint8Array(6);
  do crypto.getRandomValues(nonce);
  while (nonce.every((b) => b === 0));
  const st: DadState = { probes: conf.dad_transmits as number, nonce, timer: null };
  dadStates.set(ifa, st);
  const delay = getRandomU32() % Math.max(1, (conf.router_solicitation_delay as number) * 1000);
  dadSchedule(dev, ifa, st, delay);
}

function dadSchedule(dev: NetDevice, ifa: Inet6Ifaddr, st: DadState, ms: number): void {
  st.timer?.cancel();
  const kernel = dev.kernel;
  st.timer = kernel.clock.setTimer(ms * 1e6, () => {
    st.timer = null;
    if (!dev.net?.alive || !in6DevGet(dev)?.addrList.includes(ifa) || dadStates.get(ifa) !== st) return;
    kernel.runOn(kernel.curCpu, () => addrconfDadWork(dev, ifa, st));
  });
  st.timer.unref();
}

/** addrconf_dad_work(): one more probe, or done. */
function addrconfDadWork(dev: NetDevice, ifa: Inet6Ifaddr, st: DadState): void {
  if (st.probes === 0) {
    dadStates.delete(ifa);
    addrconfDadCompleted(dev, ifa);
    return;
  }
  st.probes--;
  const net = dev.net as Net;
  dadSchedule(dev, ifa, st, net.ipv6.ndTbl.parms(dev).retrans_time);
  ndiscSendNs(dev, ifa.addr, addrconfAddrSolictMult(ifa.addr), new Uint8Array(16), st.nonce);
}

/** ipv6_lonely_lladdr(): no other link-local of the device is usable yet. */
function ipv6LonelyLladdr(idev: Inet6Dev, ifa: Inet6Ifaddr): boolean {
  const busy = IFA_F.PERMANENT | IFA_F.TENTATIVE | IFA_F.OPTIMISTIC | IFA_F.DADFAILED;
  return !idev.addrList.some(
    (a) => a !== ifa && a.scope === IPV6_ADDR_SCOPE.LINKLOCAL && (a.flags & busy) === IFA_F.PERMANENT,
  );
}

/** addrconf_dad_completed(): the address is usable; the first link-local reports its groups again and solicits routers. */
function addrconfDadCompleted(dev: NetDevice, ifa: Inet6Ifaddr): void {
  ifa.flags &= ~IFA_F.TENTATIVE;
  const net = dev.net as Net;
  net.ipv6.genid++;
  const idev = in6DevGet(dev);
  if (idev !== null && ifa.scope === IPV6_ADDR_SCOPE.LINKLOCAL && ipv6LonelyLladdr(idev, ifa)) ipv6McDadComplete(idev);
  // ipv6_accept_ra(): a router takes advertisements only with accept_ra 2.
  const conf = ipv6Devconf(dev);
  const acceptRa = conf.forwarding ? conf.accept_ra === 2 : conf.accept_ra !== 0;
  if (
    ifa.scope === IPV6_ADDR_SCOPE.LINKLOCAL &&
    idev !== null &&
    ipv6LonelyLladdr(idev, ifa) &&
    !rsSent.has(dev) &&
    acceptRa &&
    conf.router_solicitations !== 0 &&
    !(dev.flags & IFF.LOOPBACK)
  ) {
    ndiscSendRs(dev, ifa.addr, IN6ADDR_LINKLOCAL_ALLROUTERS);
    const st: RsState = {
      probes: 1,
      interval: rsBackoffInit((conf.router_solicitation_interval as number) * 1000),
      timer: null,
    };
    rsSent.set(dev, st);
    addrconfModRsTimer(dev, st, st.interval);
  }
}

/** addrconf_dad_failure(): the address stays, tentative and dadfailed, unused. */
function addrconfDadFailure(ifa: Inet6Ifaddr, dev: NetDevice): void {
  const st = dadStates.get(ifa);
  st?.timer?.cancel();
  dadStates.delete(ifa);
  ifa.flags |= IFA_F.DADFAILED;
  dev.kernel.printk('info', `IPv6: ${dev.name}: IPv6 duplicate address ${formatIpv6(ifa.addr)} detected!`);
}

/** net.ipv6.neigh.DEV.* for each device with IPv6, and init_net's net.ipv6.neigh.default. */
function ndiscSysctlInit(): void {
  registerSysctlDir('net.ipv6.neigh.', (net) => {
    const tbl = net.ipv6.ndTbl;
    const out = net.isInitNet ? neighSysctlEntries(tbl, null, 'net.ipv6.neigh.default') : [];
    for (const dev of net.devices)
      if (in6DevGet(dev) !== null) out.push(...neighSysctlEntries(tbl, dev, `net.ipv6.neigh.${dev.name}`));
    return out;
  });
}

function addrconfLinkEvent(event: number, dev: NetDevice): void {
  const net = dev.net as Net | null;
  if (net === null || net.ipv6 === undefined) return;
  const idev = in6DevGet(dev);
  switch (event) {
    case NETDEV.UNREGISTER:
      net.ipv6.ndTbl.releaseParms(dev);
      rsStop(dev);
      break;
    case NETDEV.UP:
    case NETDEV.CHANGE:
      // disable_ipv6 (addrconf_notify): the device gets no link-local and probes for nothing.
      if (idev === null || idev.cnf.data.disable_ipv6 || !addrconfLinkReady(dev)) break;
      // ipv6_find_idev() on a new link, or NETDEV_CHANGE on a configured one ("we might
      // have roamed"): every group is reported again.
      ipv6McUp(idev);
      if (!idev.addrList.some((a) => a.scope === IPV6_ADDR_SCOPE.LINKLOCAL) && !(dev.flags & IFF.LOOPBACK)) {
        addrconfDevConfig(dev, idev);
      }
      // addrconf_dad_run(): addresses added while the link was not ready probe now.
      for (const ifa of idev.addrList) addrconfDadStart(dev, ifa);
      break;
    case NETDEV.DOWN:
      if (idev !== null) ipv6McDown(idev);
      addrconfDelMroute(net, dev);
      net.ipv6.ndTbl.flushDev(dev);
      rsStop(dev);
      break;
  }
}

/** An address was added: a tentative one starts DAD when the link is ready. */
function addrconfAddrEvent(event: number, ifa: Inet6Ifaddr, idev: Inet6Dev): void {
  if (event === NETDEV.UP) {
    // inet6_addr_add() → ipv6_find_idev() → ipv6_mc_up() on an up device; then
    // addrconf_dad_begin() joins the address's solicited-node group.
    if (idev.dev.flags & IFF.UP) ipv6McUp(idev);
    addrconfJoinSolict(idev, ifa.addr);
    addrconfDadStart(idev.dev, ifa);
  } else {
    dadStates.get(ifa)?.timer?.cancel();
    addrconfLeaveSolict(idev, ifa.addr);
  }
}

/** The device-level part of addrconf_init(). */
export function addrconfDadInit(kernel: Kernel): void {
  registerNetdeviceNotifier(kernel, addrconfLinkEvent);
  kernel.inet6addrChain.push(addrconfAddrEvent);
  ndiscDadHooks.failure = addrconfDadFailure;
  ndiscDadHooks.ownNonce = (ifa, nonce) => {
    const st = dadStates.get(ifa);
    return st !== undefined && nonce !== null && st.nonce.every((b, i) => b === nonce[i]);
  };
  icmpv6Ndisc.rcv = ndiscRcv;
  ndiscSysctlInit();
}

const ADDR_GEN_MODE_NAMES = ['eui64', 'none', 'stable_secret', 'random'] as const;

/** IFLA_INET6_ADDR_GEN_MODE as `ip -d link` names it. */
export function addrGenModeName(dev: NetDevice): string {
  return ADDR_GEN_MODE_NAMES[ipv6Devconf(dev).addr_gen_mode as number] ?? 'eui64';
}

/**
 * inet6_set_link_af(IFLA_INET6_ADDR_GEN_MODE): how the next link-local is made; the one
 * there now stays. stable_secret needs a secret lonet has no way to set (EINVAL).
 */
export function addrconfSetAddrGenMode(dev: NetDevice, name: string): number {
  const mode = ADDR_GEN_MODE_NAMES.indexOf(name as (typeof ADDR_GEN_MODE_NAMES)[number]);
  if (mode < 0 || mode === IN6_ADDR_GEN_MODE.STABLE_PRIVACY || in6DevGet(dev) === null) return -22;
  ipv6Devconf(dev).addr_gen_mode = mode;
  return 0;
}
