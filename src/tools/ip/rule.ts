/**
 * `ip rule` (iproute2 6.1 ip/iprule.c) for IPv4: the namespace's policy rules as
 * RTM_NEWRULE messages print, and changes through fib-netlink.ts. IPv6 rules are not
 * modelled: `ip -6 rule` shows the two fixed defaults Linux starts with.
 */
import type { ExtAck } from '../../core/netdevice.js';
import { formatIpv4 } from '../../ipv4/devinet.js';
import { RT_TABLE, RTN, RTPROT } from '../../ipv4/fib.js';
import { type FibRuleMatch, fibNlDelrule, fibNlNewrule } from '../../ipv4/fib-netlink.js';
import { type FibRule, FR_ACT, fibRule } from '../../ipv4/fib-rules.js';
import { NLM_F } from '../../net/netlink.js';
import { AF, checkIfname, die, type IpContext, IpExit, invarg, JsonWriter, matches, nextArg } from './common.js';
import {
  getPrefix,
  getUnsigned,
  rtnlError,
  rtntypeA2n,
  rtntypeN2a,
  rtprotA2n,
  rtprotN2a,
  rttableA2n,
  rttableN2a,
} from './route.js';

const USAGE = `Usage: ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule [ list [ SELECTOR ]]
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ nat ADDRESS ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]
`;

function usage(ctx: IpContext): never {
  return die(ctx, USAGE);
}

/** fib6's default rules (fib6_rules_net_init): lonet has no IPv6 policy routing yet. */
function inet6DefaultRules(): FibRule[] {
  return [
    fibRule({ pref: 0, table: RT_TABLE.LOCAL, protocol: RTPROT.KERNEL }),
    fibRule({ pref: 32766, table: RT_TABLE.MAIN, protocol: RTPROT.KERNEL }),
  ];
}

interface Field {
  text: string;
  key: string | null;
  json: string | number | null;
}

/** print_rule()'s pieces; JSON-only keys have no text and text-only ones no key. */
function ruleFields(r: FibRule, details: number): Field[] {
  const out: Field[] = [];
  const add = (text: string, key: string | null, json: string | number | null) => out.push({ text, key, json });
  add(`${r.pref}:\t`, 'priority', r.pref);
  if (r.invert) add('not ', 'not', null);
  if (r.srcLen > 0) {
    add(`from ${formatIpv4(r.src)}`, 'src', formatIpv4(r.src));
    if (r.srcLen !== 32) add(`/${r.srcLen}`, 'srclen', r.srcLen);
  } else add('from all', 'src', 'all');
  if (r.dstLen > 0) {
    add(` to ${formatIpv4(r.dst)}`, 'dst', formatIpv4(r.dst));
    if (r.dstLen !== 32) add(`/${r.dstLen}`, 'dstlen', r.dstLen);
  }
  if (r.tos !== 0) add(` tos 0x${r.tos.toString(16)}`, 'tos', `0x${r.tos.toString(16)}`);
  if (r.mark !== 0 || r.markMask !== 0) {
    const hex = (v: number) => (v === 0 ? '0' : `0x${v.toString(16)}`);
    add(` fwmark ${hex(r.mark)}`, 'fwmark', hex(r.mark));
    if (r.markMask !== 0xffffffff) add(`/${hex(r.markMask)}`, 'fwmask', hex(r.markMask));
  }
  if (r.iifname !== '') add(` iif ${r.iifname}`, 'iif', r.iifname);
  if (r.oifname !== '') add(` oif ${r.oifname}`, 'oif', r.oifname);
  if (r.action === FR_ACT.TO_TBL || (r.action !== FR_ACT.GOTO && r.table !== 0)) {
    if (r.table !== 0) add(` lookup ${rttableN2a(r.table)}`, 'table', rttableN2a(r.table));
  }
  if (r.action === FR_ACT.GOTO) add(` goto ${r.table}`, 'goto', r.table);
  else if (r.action === FR_ACT.NOP) add(' nop', 'nop', null);
  else if (r.action !== FR_ACT.TO_TBL) add(` ${rtntypeN2a(r.action)}`, 'action', rtntypeN2a(r.action));
  if ((r.protocol !== 0 && r.protocol !== RTPROT.KERNEL) || details > 0)
    add(` proto ${rtprotN2a(r.protocol)}`, 'protocol', rtprotN2a(r.protocol));
  return out;
}

/** The rules as iproute2's JSON: flat objects, `"not":null` for an inverted rule. */
function rulesJson(objs: Field[][], pretty: boolean): string {
  const w = new JsonWriter(pretty).startArray();
  for (const fields of objs) {
    w.startObject();
    for (const x of fields) {
      if (x.key === null) continue;
      w.name(x.key);
      if (x.json === null) w.null();
      else if (typeof x.json === 'number') w.number(x.json);
      else w.string(x.json);
    }
    w.endObject();
  }
  return w.endArray().finish();
}

interface RuleFilter {
  pref: number | null;
  not: boolean;
  tb: number;
  iif: string | null;
  oif: string | null;
}

function iruleList(ctx: IpContext, args: string[], flush: boolean): number {
  const f: RuleFilter = { pref: null, not: false, tb: 0, iif: null, oif: null };
  let protocol: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      const v = nextArg(ctx, args, i++);
      const n = getUnsigned(v);
      if (n === null) invarg(ctx, 'preference value is invalid\n', v);
      f.pref = n;
    } else if (a === 'not') f.not = true;
    else if (matches(a, 'lookup') || matches(a, 'table')) {
      const v = nextArg(ctx, args, i++);
      const t = rttableA2n(v);
      if (t === null) invarg(ctx, 'table id value is invalid\n', v);
      f.tb = t;
    } else if (a === 'dev' || a === 'iif') f.iif = nextArg(ctx, args, i++);
    else if (a === 'oif') f.oif = nextArg(ctx, args, i++);
    else if (matches(a, 'protocol')) {
      const v = nextArg(ctx, args, i++);
      const p = rtprotA2n(v);
      if (p === null && v !== 'all') invarg(ctx, 'invalid "protocol"\n', v);
      protocol = p;
    } else return usage(ctx);
  }
  const rules = ctx.opts.family === AF.INET6 ? inet6DefaultRules() : ctx.net.ipv4.rules;
  const shown = rules.filter(
    (r) =>
      (f.pref === null || r.pref === f.pref) &&
      (!f.not || r.invert) &&
      (f.tb === 0 || r.table === f.tb) &&
      (f.iif === null || r.iifname === f.iif) &&
      (f.oif === null || r.oifname === f.oif),
  );
  if (flush) {
    if (ctx.opts.family === AF.INET6) return die(ctx, 'lonet: IPv6 rules cannot be changed yet\n');
    // flush_rule(): every rule that carries a priority, i.e. all but pref 0.
    for (const r of shown) {
      if (r.pref === 0 || (protocol !== null && r.protocol !== protocol)) continue;
      const i = ctx.net.ipv4.rules.indexOf(r);
      if (i >= 0) fibNlDelrule(ctx.net, { ...r });
    }
    return 0;
  }
  if (ctx.opts.json) {
    ctx.stdout.write(
      rulesJson(
        shown.map((r) => ruleFields(r, ctx.opts.details)),
        ctx.opts.pretty,
      ),
    );
    return 0;
  }
  let text = '';
  for (const r of shown)
    text += `${ruleFields(r, ctx.opts.details)
      .map((x) => x.text)
      .join('')}\n`;
  ctx.stdout.write(text);
  return 0;
}

/** get_u32 for rule fields. */
function u32(ctx: IpContext, v: string, msg: string): number {
  const n = getUnsigned(v);
  if (n === null) invarg(ctx, msg, v);
  return n;
}

/** iprule_modify(). */
function iruleModify(ctx: IpContext, add: boolean, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write(`"ip rule ${add ? 'add' : 'del'}" requires arguments.\n`);
    return -1;
  }
  if (ctx.opts.family === AF.INET6) return die(ctx, 'lonet: IPv6 rules cannot be changed yet\n');
  const m: FibRuleMatch = {};
  let action: number = add ? FR_ACT.TO_TBL : FR_ACT.UNSPEC;
  let table = 0;
  let tableOk = false;
  let pref: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'not') m.invert = true;
    else if (a === 'from') {
      const p = getPrefix(ctx, nextArg(ctx, args, i++));
      m.src = p.addr;
      m.srcLen = p.bitlen;
    } else if (a === 'to') {
      const p = getPrefix(ctx, nextArg(ctx, args, i++));
      m.dst = p.addr;
      m.dstLen = p.bitlen;
    } else if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      pref = u32(ctx, nextArg(ctx, args, i++), 'preference value is invalid\n');
    } else if (a === 'tos' || matches(a, 'dsfield')) {
      const v = nextArg(ctx, args, i++);
      const tos = getUnsigned(v);
      if (tos === null || tos > 255) invarg(ctx, 'TOS value is invalid\n', v);
      m.tos = tos;
    } else if (a === 'fwmark') {
      const [mark, mask] = nextArg(ctx, args, i++).split('/', 2) as [string, string | undefined];
      m.mark = u32(ctx, mark, 'fwmark value is invalid\n');
      // The kernel gives a mark without a mask the full mask.
      m.markMask = mask !== undefined ? u32(ctx, mask, 'fwmask value is invalid\n') : m.mark !== 0 ? 0xffffffff : 0;
    } else if (matches(a, 'protocol')) {
      const v = nextArg(ctx, args, i++);
      const p = rtprotA2n(v);
      if (p === null) invarg(ctx, '"protocol" value is invalid\n', v);
      m.protocol = p;
    } else if (matches(a, 'table') || a === 'lookup') {
      const v = nextArg(ctx, args, i++);
      const t = rttableA2n(v);
      if (t === null) invarg(ctx, 'invalid table ID\n', v);
      table = t;
      tableOk = true;
    } else if (a === 'dev' || a === 'iif') {
      const v = nextArg(ctx, args, i++);
      if (!checkIfname(v)) invarg(ctx, '"iif"/"dev" not a valid ifname', v);
      m.iifname = v;
    } else if (a === 'oif') {
      const v = nextArg(ctx, args, i++);
      if (!checkIfname(v)) invarg(ctx, '"oif" not a valid ifname', v);
      m.oifname = v;
    } else {
      let w = a;
      if (w === 'type') w = nextArg(ctx, args, i++);
      if (matches(w, 'help')) return usage(ctx);
      if (matches(w, 'goto')) {
        action = FR_ACT.GOTO;
        table = u32(ctx, nextArg(ctx, args, i++), 'invalid target\n');
      } else if (matches(w, 'nop')) action = FR_ACT.NOP;
      else {
        const t = rtntypeA2n(w);
        if (t === null) invarg(ctx, 'Failed to parse rule type', w);
        action = t === RTN.UNICAST ? FR_ACT.TO_TBL : t;
      }
      tableOk = true;
    }
  }
  if (!tableOk && add) table = RT_TABLE.MAIN;
  const extack: ExtAck = {};
  let err: number;
  if (add) {
    const rule = fibRule({ ...m, pref: pref ?? 0, action, table });
    err = fibNlNewrule(ctx.net, rule, { userPref: pref !== null, nlFlags: NLM_F.CREATE | NLM_F.EXCL }, extack);
  } else {
    if (pref !== null) m.pref = pref;
    if (action !== FR_ACT.UNSPEC) m.action = action;
    if (table !== 0) m.table = table;
    err = fibNlDelrule(ctx.net, m);
  }
  return err === 0 ? 0 : rtnlError(ctx, err, extack);
}

/** do_iprule(). */
export function doIprule(ctx: IpContext, args: string[]): number {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return iruleList(ctx, [], false);
  if (matches(cmd, 'list') || matches(cmd, 'lst') || matches(cmd, 'show')) return iruleList(ctx, rest, false);
  if (matches(cmd, 'add')) return iruleModify(ctx, true, rest);
  if (matches(cmd, 'delete')) return iruleModify(ctx, false, rest);
  if (matches(cmd, 'flush')) return iruleList(ctx, rest, true);
  if (matches(cmd, 'help')) return usage(ctx);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip rule help".\n`);
  throw new IpExit(255);
}
