/**
 * The rtnetlink side of the IPv4 FIB: what inet_rtm_newroute / inet_rtm_delroute
 * (fib_frontend.c, fib_semantics.c fib_create_info + fib_check_nh, fib_trie.c
 * fib_table_insert/delete) and fib_nl_newrule / fib_nl_delrule (core/fib_rules.c)
 * check and do, with their -errno and extack messages. Every change flushes the
 * route cache so sockets look their routes up again.
 */

import { IFF, LOOPBACK_IFINDEX } from '../core/if.js';
import type { ExtAck } from '../core/netdevice.js';
import { E } from '../include/errno.js';
import type { Net } from '../net/net.js';
import { NLM_F } from '../net/netlink.js';
import { inDevGet, inetMakeMask, RT_SCOPE } from './devinet.js';
import {
  type FibAlias,
  type FibResult,
  type FibTable,
  fibAliasSameInfo,
  flowi4,
  RT_TABLE,
  RTN,
  RTNH_F,
} from './fib.js';
import { fibGetTable, fibLookup, fibNewTable, inetAddrType, rtCacheFlush } from './fib-frontend.js';
import { type FibRule, FR_ACT, fibRuleInsert } from './fib-rules.js';

/** fib_props[type].scope: the widest scope a route of this type may have. */
const FIB_PROPS_SCOPE: readonly number[] = [
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.HOST,
  RT_SCOPE.LINK,
  RT_SCOPE.LINK,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.UNIVERSE,
  RT_SCOPE.NOWHERE,
  RT_SCOPE.NOWHERE,
];

/** Route types whose lookups answer an error (fib_props[type].error != 0). */
export function rtnIsReject(type: number): boolean {
  return type === RTN.BLACKHOLE || type === RTN.UNREACHABLE || type === RTN.PROHIBIT || type === RTN.THROW;
}

/** struct fib_config: what an RTM_NEWROUTE / RTM_DELROUTE request carries. */
export interface FibConfig {
  /** RTN_*; 0 (unspec) on delete matches any type. */
  type: number;
  table: number;
  dst: number;
  dstLen: number;
  tos: number;
  /** RT_SCOPE_NOWHERE on delete matches any scope. */
  scope: number;
  /** 0 on delete matches any. */
  protocol: number;
  /** 0 on delete matches any. */
  priority: number;
  prefsrc: number;
  gateway: number;
  /** Output device ifindex, 0 for none. */
  oif: number;
  /** RTNH_F_* (onlink). */
  flags: number;
  /** NLM_F_* of the request. */
  nlFlags: number;
}

/** The table a lookup answer is reported from, as RTM_F_LOOKUP_TABLE gives it. */
export function fibResultTable(net: Net, res: FibResult): number {
  if (!net.ipv4.fibHasCustomRules && res.table === RT_TABLE.LOCAL) return RT_TABLE.MAIN;
  return res.table;
}

/** fib_check_nh_v4_gw(). Fills in the next hop's device and scope. */
function fibCheckNhGw(net: Net, cfg: FibConfig, nh: FibAlias, extack: ExtAck): number {
  if (cfg.flags & RTNH_F.ONLINK) {
    if (cfg.scope >= RT_SCOPE.LINK) {
      extack.msg = 'Nexthop has invalid scope';
      return -E.EINVAL;
    }
    const dev = net.devGetByIndex(cfg.oif);
    if (dev === undefined) {
      extack.msg = 'Nexthop device required for onlink';
      return -E.ENODEV;
    }
    if (!(dev.flags & IFF.UP)) {
      extack.msg = 'Nexthop device is not up';
      return -E.ENETDOWN;
    }
    if (inetAddrType(net, cfg.gateway) !== RTN.UNICAST) {
      extack.msg = 'Nexthop has invalid gateway';
      return -E.EINVAL;
    }
    nh.dev = dev;
    nh.nhScope = RT_SCOPE.LINK;
    return 0;
  }
  const fl4 = flowi4({
    daddr: cfg.gateway,
    scope: Math.max(cfg.scope + 1, RT_SCOPE.LINK),
    oif: cfg.oif,
    iif: LOOPBACK_IFINDEX,
  });
  let res: FibResult | number = -E.EAGAIN;
  const tbl = cfg.table !== 0 && cfg.table !== RT_TABLE.MAIN ? fibGetTable(net, cfg.table) : undefined;
  if (tbl !== undefined) res = tbl.lookup(fl4);
  // No table given, or nothing there: a full lookup, as the gateway may be in local.
  if (typeof res === 'number') res = fibLookup(net, fl4);
  if (typeof res === 'number' || (res.type !== RTN.UNICAST && res.type !== RTN.LOCAL)) {
    extack.msg = 'Nexthop has invalid gateway';
    return typeof res === 'number' ? res : -E.EINVAL;
  }
  const dev = res.fa.dev;
  if (dev === null) {
    extack.msg = 'No egress device for nexthop gateway';
    return -E.EINVAL;
  }
  nh.nhScope = res.scope;
  nh.dev = dev;
  return dev.flags & IFF.UP ? 0 : -E.ENETDOWN;
}

/** fib_check_nh_nongw(). */
function fibCheckNhNongw(net: Net, cfg: FibConfig, nh: FibAlias, extack: ExtAck): number {
  if (cfg.flags & (RTNH_F.DEAD | RTNH_F.ONLINK)) {
    extack.msg = 'Invalid flags for nexthop - PERVASIVE and ONLINK can not be set';
    return -E.EINVAL;
  }
  const dev = net.devGetByIndex(cfg.oif);
  if (dev === undefined || inDevGet(dev) === null) return -E.ENODEV;
  if (!(dev.flags & IFF.UP)) {
    extack.msg = 'Device for nexthop is not up';
    return -E.ENETDOWN;
  }
  nh.dev = dev;
  nh.nhScope = RT_SCOPE.HOST;
  return 0;
}

/** fib_valid_prefsrc(): a preferred source must be an address of this host. */
function fibValidPrefsrc(net: Net, cfg: FibConfig): boolean {
  if (cfg.type === RTN.LOCAL && cfg.dst !== 0 && cfg.prefsrc === cfg.dst) return true;
  return inetAddrType(net, cfg.prefsrc) === RTN.LOCAL;
}

/** fib_create_info(): the route as it will be stored, or -errno. */
function fibCreateInfo(net: Net, cfg: FibConfig, extack: ExtAck): FibAlias | number {
  if (cfg.type > RTN.XRESOLVE) {
    extack.msg = 'Invalid route type';
    return -E.EINVAL;
  }
  if ((FIB_PROPS_SCOPE[cfg.type] ?? 0) > cfg.scope) {
    extack.msg = 'Invalid scope';
    return -E.EINVAL;
  }
  const fa: FibAlias = {
    dst: cfg.dst,
    dstLen: cfg.dstLen,
    tos: cfg.tos,
    type: cfg.type,
    scope: cfg.scope,
    priority: cfg.priority,
    protocol: cfg.protocol,
    prefsrc: cfg.prefsrc,
    dev: null,
    gateway: cfg.gateway,
    nhScope: RT_SCOPE.NOWHERE,
    nhFlags: cfg.flags & RTNH_F.ONLINK,
    table: cfg.table,
  };
  if (rtnIsReject(cfg.type)) {
    if (cfg.gateway !== 0 || cfg.oif !== 0) {
      extack.msg = 'Gateway, device and multipath can not be specified for this route type';
      return -E.EINVAL;
    }
    return fa;
  }
  if (cfg.type !== RTN.UNICAST && cfg.type !== RTN.LOCAL && cfg.type !== RTN.BROADCAST) {
    if (cfg.type !== RTN.ANYCAST && cfg.type !== RTN.MULTICAST) {
      extack.msg = 'Invalid route type';
      return -E.EINVAL;
    }
  }
  if (cfg.scope > RT_SCOPE.HOST) {
    extack.msg = 'Invalid scope';
    return -E.EINVAL;
  }
  if (cfg.scope === RT_SCOPE.HOST) {
    if (cfg.gateway !== 0) {
      extack.msg = 'Route with host scope can not have a gateway';
      return -E.EINVAL;
    }
    const dev = net.devGetByIndex(cfg.oif);
    if (dev === undefined) return -E.ENODEV;
    fa.dev = dev;
    fa.nhScope = RT_SCOPE.NOWHERE;
  } else {
    const err = cfg.gateway !== 0 ? fibCheckNhGw(net, cfg, fa, extack) : fibCheckNhNongw(net, cfg, fa, extack);
    if (err < 0) return err;
    if (fa.dev !== null && !fa.dev.carrierOk) fa.nhFlags |= RTNH_F.LINKDOWN;
  }
  if (cfg.prefsrc !== 0 && !fibValidPrefsrc(net, cfg)) {
    extack.msg = 'Invalid prefsrc address';
    return -E.EINVAL;
  }
  return fa;
}

/** The aliases of one prefix, in table order. */
function aliasesOf(tb: FibTable, dst: number, dstLen: number): FibAlias[] {
  return tb.dump().filter((fa) => fa.dst === dst && fa.dstLen === dstLen);
}

/**
 * fib_table_insert() after fib_create_info(): NLM_F_EXCL refuses any route of the same
 * prefix, tos and metric; NLM_F_REPLACE swaps the first of them; NLM_F_APPEND goes
 * after them and plain create before; an identical route is EEXIST; without
 * NLM_F_CREATE nothing new is made (ENOENT).
 */
function fibTableInsert(tb: FibTable, fa: FibAlias, nlFlags: number): number {
  const group = aliasesOf(tb, fa.dst, fa.dstLen).filter((o) => o.tos === fa.tos && o.priority === fa.priority);
  const first = group[0];
  if (first !== undefined) {
    if (nlFlags & NLM_F.EXCL) return -E.EEXIST;
    const match = group.find((o) => fibAliasSameInfo(o, fa));
    if (nlFlags & NLM_F.REPLACE) {
      if (match !== undefined) return match === first ? 0 : -E.EEXIST;
      return tb.insert(fa, { replace: true });
    }
    if (match !== undefined) return -E.EEXIST;
  }
  if (!(nlFlags & NLM_F.CREATE)) return -E.ENOENT;
  return tb.insert(fa, { prepend: !(nlFlags & NLM_F.APPEND) });
}

/** fib_valid_key_len(): no host bits under the prefix length. */
function fibValidKeyLen(cfg: FibConfig, extack: ExtAck): boolean {
  if (cfg.dstLen > 32 || (cfg.dst & ~inetMakeMask(cfg.dstLen)) >>> 0 !== 0) {
    extack.msg = 'Invalid prefix for given prefix length';
    return false;
  }
  return true;
}

/** inet_rtm_newroute(). The table is created first, as Linux does, even if the route is then refused. */
export function inetRtmNewroute(net: Net, cfg: FibConfig, extack: ExtAck = {}): number {
  if (cfg.oif !== 0 && net.devGetByIndex(cfg.oif) === undefined) {
    extack.msg = 'Invalid device';
    return -E.ENODEV;
  }
  const tb = fibNewTable(net, cfg.table);
  cfg.table = tb.id;
  if (!fibValidKeyLen(cfg, extack)) return -E.EINVAL;
  const fa = fibCreateInfo(net, cfg, extack);
  if (typeof fa === 'number') return fa;
  const err = fibTableInsert(tb, fa, cfg.nlFlags);
  if (err === 0) {
    if (fa.type === RTN.LOCAL) net.ipv4.fibHasCustomLocalRoutes = true;
    rtCacheFlush(net);
  }
  return err;
}

/** inet_rtm_delroute() + fib_table_delete(): the first alias matching what was given. */
export function inetRtmDelroute(net: Net, cfg: FibConfig, extack: ExtAck = {}): number {
  const tb = fibGetTable(net, cfg.table);
  if (tb === undefined) {
    extack.msg = 'FIB table does not exist';
    return -E.ESRCH;
  }
  if (!fibValidKeyLen(cfg, extack)) return -E.EINVAL;
  const victim = aliasesOf(tb, cfg.dst, cfg.dstLen).find(
    (fa) =>
      fa.tos === cfg.tos &&
      (cfg.type === 0 || fa.type === cfg.type) &&
      (cfg.scope === RT_SCOPE.NOWHERE || fa.scope === cfg.scope) &&
      (cfg.prefsrc === 0 || fa.prefsrc === cfg.prefsrc) &&
      (cfg.protocol === 0 || fa.protocol === cfg.protocol) &&
      (cfg.priority === 0 || fa.priority === cfg.priority) &&
      (cfg.oif === 0 || fa.dev?.ifindex === cfg.oif) &&
      (cfg.gateway === 0 || fa.gateway === cfg.gateway),
  );
  if (victim === undefined) return -E.ESRCH;
  tb.flush((fa) => fa === victim);
  rtCacheFlush(net);
  return 0;
}

/** Removes exactly these routes (what `ip route flush` sends back as RTM_DELROUTE). */
export function fibDeleteAliases(net: Net, victims: readonly FibAlias[]): void {
  const set = new Set(victims);
  for (const tb of net.ipv4.fibTables.values()) tb.flush((fa) => set.has(fa));
  if (set.size > 0) rtCacheFlush(net);
}

// ---------------------------------------------------------------------------------
// Rules (net/core/fib_rules.c).

/** fib_default_rule_pref(): one below the second rule's preference. */
function fibDefaultRulePref(rules: readonly FibRule[]): number {
  const second = rules[1];
  return second !== undefined && second.pref !== 0 ? second.pref - 1 : 0;
}

function sameRule(a: FibRule, b: FibRule): boolean {
  return (
    a.pref === b.pref &&
    a.action === b.action &&
    a.table === b.table &&
    a.src === b.src &&
    a.srcLen === b.srcLen &&
    a.dst === b.dst &&
    a.dstLen === b.dstLen &&
    a.tos === b.tos &&
    a.mark === b.mark &&
    a.markMask === b.markMask &&
    a.iifname === b.iifname &&
    a.oifname === b.oifname &&
    a.invert === b.invert &&
    a.protocol === b.protocol
  );
}

/**
 * fib_nl_newrule(): pref defaults below the second rule; a goto must go forward;
 * TO_TBL with no table gets a fresh empty one; an identical rule is EEXIST under
 * NLM_F_EXCL.
 */
export function fibNlNewrule(
  net: Net,
  rule: FibRule,
  opts: { userPref: boolean; nlFlags: number },
  extack: ExtAck = {},
): number {
  const rules = net.ipv4.rules;
  if (!opts.userPref) rule.pref = fibDefaultRulePref(rules);
  if (rule.action === FR_ACT.GOTO && rule.table <= rule.pref) {
    extack.msg = 'Backward goto not supported';
    return -E.EINVAL;
  }
  if (rule.tos & ~0x1e) {
    extack.msg = 'Invalid tos';
    return -E.EINVAL;
  }
  if (rule.action === FR_ACT.TO_TBL && rule.table === RT_TABLE.UNSPEC) {
    let id = 1;
    while (net.ipv4.fibTables.has(id)) id++;
    rule.table = fibNewTable(net, id).id;
  }
  if (rules.some((r) => sameRule(r, rule))) {
    if (opts.nlFlags & NLM_F.EXCL) return -E.EEXIST;
    return 0;
  }
  fibRuleInsert(rules, rule);
  net.ipv4.fibHasCustomRules = true;
  rtCacheFlush(net);
  return 0;
}

/** What an RTM_DELRULE names: fields left undefined match anything. */
export type FibRuleMatch = { [K in keyof FibRule]?: FibRule[K] };

/** fib_nl_delrule() + rule_find(): the first rule matching every field given. */
export function fibNlDelrule(net: Net, match: FibRuleMatch): number {
  const rules = net.ipv4.rules;
  const i = rules.findIndex((r) =>
    (Object.entries(match) as [keyof FibRule, unknown][]).every(([k, v]) => v === undefined || r[k] === v),
  );
  if (i < 0) return -E.ENOENT;
  rules.splice(i, 1);
  net.ipv4.fibHasCustomRules = true;
  rtCacheFlush(net);
  return 0;
}
