/**
 * net/ipv4/fib_frontend.c: the FIB's side of address and device events, and the
 * lookup everything routes through. Adding an address installs the routes Linux
 * installs (fib_add_ifaddr): a local /32, the prefix route — RTN_LOCAL on a loopback
 * device, which is why every 127/8 address is this host — and broadcast routes.
 * A device going down kills the next hops that are not host-scoped, so lo's local
 * routes survive `ip link set lo down` while its broadcast route goes.
 */

import { IFF, NETDEV } from '../core/if.js';
import { type NetDevice, registerNetdeviceNotifier } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { IFA_F, type InDevice, type InIfaddr, inDevGet, inetMakeMask, RT_SCOPE } from './devinet.js';
import { type FibAlias, type FibResult, FibTable, type Flowi4, RT_TABLE, RTN, RTNH_F, RTPROT } from './fib.js';
import { fibRulesLookup, type RuleContext } from './fib-rules.js';

/** fib_get_table(). */
export function fibGetTable(net: Net, id: number): FibTable | undefined {
  return net.ipv4.fibTables.get(id === RT_TABLE.UNSPEC ? RT_TABLE.MAIN : id);
}

/** fib_new_table(): tables come into being when first used. */
export function fibNewTable(net: Net, id: number): FibTable {
  const tid = id === RT_TABLE.UNSPEC ? RT_TABLE.MAIN : id;
  let tb = net.ipv4.fibTables.get(tid);
  if (tb === undefined) {
    tb = new FibTable(tid);
    net.ipv4.fibTables.set(tid, tb);
  }
  return tb;
}

/** rt_cache_flush(): every cached route is stale from now on. */
export function rtCacheFlush(net: Net): void {
  net.ipv4.rtGenid++;
}

/** One per namespace: every fib_lookup needs it, so it is made once rather than per packet. */
const ruleContexts = new WeakMap<Net, RuleContext>();

function ruleContext(net: Net): RuleContext {
  let ctx = ruleContexts.get(net);
  if (ctx === undefined) {
    ctx = {
      iifName: (ifindex) => net.devGetByIndex(ifindex)?.name,
      table: (id) => net.ipv4.fibTables.get(id),
    };
    ruleContexts.set(net, ctx);
  }
  return ctx;
}

/** fib_lookup(): through the rules; nothing found is ENETUNREACH. */
export function fibLookup(net: Net, flp: Flowi4): FibResult | number {
  const r = fibRulesLookup(net.ipv4.rules, flp, ruleContext(net));
  return r === -E.ESRCH ? -E.ENETUNREACH : r;
}

/** inet_addr_type_table(): what the local table says this address is to us. */
export function inetAddrType(net: Net, addr: number): number {
  if (addr === 0 || addr >>> 28 === 0xe) return addr === 0 ? RTN.BROADCAST : RTN.MULTICAST;
  if (addr === 0xffffffff) return RTN.BROADCAST;
  const tb = net.ipv4.fibTables.get(RT_TABLE.LOCAL);
  const res = tb?.lookup({
    daddr: addr,
    saddr: 0,
    oif: 0,
    iif: 0,
    tos: 0,
    scope: RT_SCOPE.UNIVERSE,
    mark: 0,
    proto: 0,
  });
  return res === undefined || typeof res === 'number' ? RTN.UNICAST : res.type;
}

/** The kernel routes one address asks for (fib_add_ifaddr's fib_magic calls). */
function routesFor(ifa: InIfaddr, inDev: InDevice): FibAlias[] {
  const dev = inDev.dev;
  const prim =
    ifa.flags & IFA_F.SECONDARY
      ? inDev.ifaList.find(
          (p) => !(p.flags & IFA_F.SECONDARY) && p.mask === ifa.mask && ((p.address ^ ifa.address) & p.mask) === 0,
        )
      : ifa;
  if (prim === undefined) return [];
  const magic = (type: number, dst: number, dstLen: number): FibAlias => ({
    dst: (dst & inetMakeMask(dstLen)) >>> 0,
    dstLen,
    tos: 0,
    type,
    scope: type === RTN.LOCAL ? RT_SCOPE.HOST : RT_SCOPE.LINK,
    priority: 0,
    protocol: RTPROT.KERNEL,
    prefsrc: prim.local,
    dev,
    gateway: 0,
    nhScope: type === RTN.LOCAL ? RT_SCOPE.NOWHERE : RT_SCOPE.HOST,
    // fib_check_nh(): a next hop on a device without carrier is marked linkdown.
    nhFlags: type !== RTN.LOCAL && !dev.carrierOk ? RTNH_F.LINKDOWN : 0,
    table: type === RTN.UNICAST ? RT_TABLE.MAIN : RT_TABLE.LOCAL,
  });
  const out = [magic(RTN.LOCAL, ifa.local, 32)];
  if (!(dev.flags & IFF.UP)) return out;
  if (ifa.broadcast !== 0 && ifa.broadcast !== 0xffffffff) out.push(magic(RTN.BROADCAST, ifa.broadcast, 32));
  const prefix = (ifa.address & ifa.mask) >>> 0;
  if (prefix !== 0 && !(ifa.flags & IFA_F.SECONDARY) && (prefix !== ifa.local || ifa.prefixlen < 32)) {
    if (!(ifa.flags & IFA_F.NOPREFIXROUTE)) {
      out.push(magic(dev.flags & IFF.LOOPBACK ? RTN.LOCAL : RTN.UNICAST, prefix, ifa.prefixlen));
    }
    if (ifa.prefixlen < 31) out.push(magic(RTN.BROADCAST, (prefix | ~ifa.mask) >>> 0, 32));
  }
  return out;
}

/** fib_add_ifaddr(). An identical route already there is left as it is. */
export function fibAddIfaddr(net: Net, ifa: InIfaddr, inDev: InDevice): void {
  for (const fa of routesFor(ifa, inDev)) fibNewTable(net, fa.table).insert(fa);
}

/** Every kernel route the namespace's remaining addresses justify, as keys. */
function wantedKernelRoutes(net: Net): Set<string> {
  const keys = new Set<string>();
  for (const dev of net.devices) {
    const inDev = inDevGet(dev);
    if (inDev === null) continue;
    for (const ifa of inDev.ifaList) for (const fa of routesFor(ifa, inDev)) keys.add(routeKey(fa));
  }
  return keys;
}

function routeKey(fa: FibAlias): string {
  return `${fa.table}/${fa.type}/${fa.dst}/${fa.dstLen}/${fa.dev?.ifindex ?? 0}/${fa.prefsrc}`;
}

/**
 * fib_del_ifaddr(): the routes this address installed go, unless another address
 * still asks for the same one (a shared local /32, a shared broadcast).
 */
export function fibDelIfaddr(net: Net, ifa: InIfaddr, inDev: InDevice): void {
  const candidates = routesFor(ifa, { ...inDev, ifaList: [...inDev.ifaList, ifa] });
  const wanted = wantedKernelRoutes(net);
  for (const fa of candidates) {
    if (wanted.has(routeKey(fa))) continue;
    net.ipv4.fibTables.get(fa.table)?.delete({
      dst: fa.dst,
      dstLen: fa.dstLen,
      type: fa.type,
      dev: fa.dev,
      prefsrc: fa.prefsrc,
      protocol: RTPROT.KERNEL,
    });
  }
}

/**
 * fib_sync_down_dev() + fib_flush(): on NETDEV_DOWN, next hops through the device
 * die unless host-scoped (local routes); on unregister, all of them.
 */
function fibSyncDownDev(net: Net, dev: NetDevice, force: boolean): void {
  for (const tb of net.ipv4.fibTables.values()) {
    tb.flush((fa) => fa.dev === dev && (force || fa.nhScope !== RT_SCOPE.NOWHERE));
  }
}

/**
 * fib_sync_down_dev(NETDEV_CHANGE) / fib_sync_up(RTNH_F_LINKDOWN): next hops through the
 * device (all but host-scope local routes) follow its carrier.
 */
function fibSyncLinkdown(net: Net, dev: NetDevice): void {
  for (const tb of net.ipv4.fibTables.values()) {
    for (const fa of tb.dump()) {
      if (fa.dev !== dev || fa.nhScope === RT_SCOPE.NOWHERE) continue;
      if (dev.carrierOk) fa.nhFlags &= ~RTNH_F.LINKDOWN;
      else fa.nhFlags |= RTNH_F.LINKDOWN;
    }
  }
}

function fibInetaddrEvent(event: number, ifa: InIfaddr, inDev: InDevice): void {
  const net = inDev.dev.net;
  if (net === null) return;
  if (event === NETDEV.UP) fibAddIfaddr(net, ifa, inDev);
  else if (event === NETDEV.DOWN) fibDelIfaddr(net, ifa, inDev);
  rtCacheFlush(net);
}

function fibNetdevEvent(event: number, dev: NetDevice): void {
  const net = dev.net;
  if (net === null || net.ipv4 === undefined) return;
  switch (event) {
    case NETDEV.UP: {
      const inDev = inDevGet(dev);
      for (const ifa of inDev?.ifaList ?? []) fibAddIfaddr(net, ifa, inDev as InDevice);
      rtCacheFlush(net);
      break;
    }
    case NETDEV.DOWN:
      fibSyncDownDev(net, dev, false);
      rtCacheFlush(net);
      break;
    case NETDEV.UNREGISTER:
      fibSyncDownDev(net, dev, true);
      rtCacheFlush(net);
      break;
    case NETDEV.CHANGE:
      fibSyncLinkdown(net, dev);
      rtCacheFlush(net);
      break;
    case NETDEV.CHANGEMTU:
    case NETDEV.CHANGEADDR:
      rtCacheFlush(net);
      break;
  }
}

/** ip_fib_init(): follow address and device events. */
export function ipFibInit(kernel: Kernel): void {
  kernel.inetaddrChain.push(fibInetaddrEvent);
  registerNetdeviceNotifier(kernel, fibNetdevEvent);
}

export { RTNH_F };
