/**
 * IPv4 policy routing rules (net/core/fib_rules.c, net/ipv4/fib_rules.c): an ordered
 * list; each rule that matches the flow names a table to look in or a verdict.
 * A table with no answer (-EAGAIN) passes the lookup on to the next rule.
 */
import { E } from '../include/errno.js';
import { inetMakeMask } from './devinet.js';
import { type FibResult, type FibTable, type Flowi4, RT_TABLE } from './fib.js';

/** FR_ACT_* rule actions. */
export const FR_ACT = {
  UNSPEC: 0,
  TO_TBL: 1,
  GOTO: 2,
  NOP: 3,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
} as const;

export interface FibRule {
  pref: number;
  action: number;
  table: number;
  src: number;
  srcLen: number;
  dst: number;
  dstLen: number;
  tos: number;
  mark: number;
  markMask: number;
  iifname: string;
  oifname: string;
  /** Resolved at lookup time: 0 when the named device does not exist (the rule then never matches). */
  invert: boolean;
  protocol: number;
}

export function fibRule(init: Partial<FibRule> & { pref: number }): FibRule {
  return {
    action: FR_ACT.TO_TBL,
    table: RT_TABLE.UNSPEC,
    src: 0,
    srcLen: 0,
    dst: 0,
    dstLen: 0,
    tos: 0,
    mark: 0,
    markMask: 0,
    iifname: '',
    oifname: '',
    invert: false,
    protocol: 0,
    ...init,
  };
}

/** fib_default_rules_init(): local at 0, main at 32766, default at 32767. */
export function fib4DefaultRules(): FibRule[] {
  return [
    fibRule({ pref: 0, table: RT_TABLE.LOCAL }),
    fibRule({ pref: 32766, table: RT_TABLE.MAIN }),
    fibRule({ pref: 32767, table: RT_TABLE.DEFAULT }),
  ];
}

/** Inserts keeping preference order; a rule of equal preference goes after those already there. */
export function fibRuleInsert(rules: FibRule[], rule: FibRule): void {
  let i = 0;
  while (i < rules.length && (rules[i] as FibRule).pref <= rule.pref) i++;
  rules.splice(i, 0, rule);
}

export interface RuleContext {
  iifName(ifindex: number): string | undefined;
  table(id: number): FibTable | undefined;
}

/** fib_rule_match() + fib4_rule_match(). */
function fibRuleMatch(r: FibRule, flp: Flowi4, ctx: RuleContext): boolean {
  let ok = true;
  if (r.iifname !== '' && ctx.iifName(flp.iif) !== r.iifname) ok = false;
  else if (r.oifname !== '' && ctx.iifName(flp.oif) !== r.oifname) ok = false;
  else if (r.markMask !== 0 && ((flp.mark ^ r.mark) & r.markMask) !== 0) ok = false;
  else if (r.srcLen > 0 && ((flp.saddr ^ r.src) & inetMakeMask(r.srcLen)) !== 0) ok = false;
  else if (r.dstLen > 0 && ((flp.daddr ^ r.dst) & inetMakeMask(r.dstLen)) !== 0) ok = false;
  else if (r.tos !== 0 && r.tos !== flp.tos) ok = false;
  return ok !== r.invert;
}

/**
 * fib_rules_lookup() with fib4_rule_action(): the first matching rule with an answer
 * wins; none → -ESRCH, which fib_lookup reports as ENETUNREACH.
 */
export function fibRulesLookup(rules: readonly FibRule[], flp: Flowi4, ctx: RuleContext): FibResult | number {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i] as FibRule;
    if (!fibRuleMatch(r, flp, ctx)) continue;
    let err: FibResult | number;
    switch (r.action) {
      case FR_ACT.NOP:
        continue;
      case FR_ACT.GOTO: {
        const target = rules.findIndex((o) => o.pref === r.table);
        if (target > i) i = target - 1;
        continue;
      }
      case FR_ACT.TO_TBL: {
        const tb = ctx.table(r.table);
        err = tb === undefined ? -E.EAGAIN : tb.lookup(flp);
        break;
      }
      case FR_ACT.UNREACHABLE:
        err = -E.ENETUNREACH;
        break;
      case FR_ACT.PROHIBIT:
        err = -E.EACCES;
        break;
      default:
        err = -E.EINVAL;
    }
    if (err !== -E.EAGAIN) return err;
  }
  return -E.ESRCH;
}
