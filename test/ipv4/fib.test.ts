import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devClose, devOpen, devSetMtu } from '../../src/core/netdevice.js';
import { E } from '../../src/include/errno.js';
import { Net } from '../../src/init.js';
import { IFA_F, inDevGet, inetInsertIfa, inetMakeMask, RT_SCOPE } from '../../src/ipv4/devinet.js';
import { type FibAlias, flowi4, RT_TABLE, RTN, RTPROT } from '../../src/ipv4/fib.js';
import { fibNewTable } from '../../src/ipv4/fib-frontend.js';
import { FR_ACT, fibRule, fibRuleInsert } from '../../src/ipv4/fib-rules.js';
import { ipRouteOutputKey, RouteCache, Rtable } from '../../src/ipv4/route.js';

const ip = (s: string) => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

function localTable(net: Net): string[] {
  return (net.ipv4.fibTables.get(RT_TABLE.LOCAL)?.dump() ?? []).map(
    (fa) =>
      `${['', '', 'local', 'broadcast'][fa.type]} ${fa.dst.toString(16)}/${fa.dstLen} scope ${fa.scope} src ${fa.prefsrc.toString(16)}`,
  );
}

test("a booted namespace's local table is Linux's: 127/8 local, 127.0.0.1 local, 127.255.255.255 broadcast", () => {
  const net = new Net();
  assert.deepEqual(localTable(net), [
    'local 7f000000/8 scope 254 src 7f000001',
    'local 7f000001/32 scope 254 src 7f000001',
    'broadcast 7fffffff/32 scope 253 src 7f000001',
  ]);
  assert.equal(net.ipv4.fibTables.get(RT_TABLE.MAIN), undefined, 'no main table until a unicast route needs it');
  assert.deepEqual(
    net.ipv4.rules.map((r) => [r.pref, r.table]),
    [
      [0, 255],
      [32766, 254],
      [32767, 253],
    ],
  );
});

test('every 127/8 address is local and goes through lo; no destination means 127.0.0.1', () => {
  const net = new Net();
  const fl = flowi4({ daddr: ip('127.1.2.3') });
  const rt = ipRouteOutputKey(net, fl);
  assert.ok(rt instanceof Rtable);
  assert.equal(rt.dev, net.lo);
  assert.equal(rt.rtType, RTN.LOCAL);
  assert.equal(fl.saddr, ip('127.0.0.1'), 'src from the route: prefsrc');
  const any = flowi4();
  const rt0 = ipRouteOutputKey(net, any);
  assert.ok(rt0 instanceof Rtable);
  assert.deepEqual([any.daddr, any.saddr, rt0.dev.name], [ip('127.0.0.1'), ip('127.0.0.1'), 'lo']);
  assert.equal(ipRouteOutputKey(net, flowi4({ daddr: ip('8.8.8.8') })), -E.ENETUNREACH);
  assert.equal(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.1'), saddr: ip('10.0.0.1') })), -E.ENETUNREACH);
});

test('a bare namespace has no routes: everything is unreachable until lo comes up', () => {
  const net = new Net({ bare: true });
  assert.equal(net.ipv4.fibTables.size, 0, '"Error: ipv4: FIB table does not exist."');
  assert.equal(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.1') })), -E.ENETUNREACH);
  devOpen(net.lo);
  assert.ok(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.1') })) instanceof Rtable);
});

test('down keeps the local routes and drops the broadcast route; up restores it', () => {
  const net = new Net();
  devClose(net.lo);
  assert.deepEqual(localTable(net), [
    'local 7f000000/8 scope 254 src 7f000001',
    'local 7f000001/32 scope 254 src 7f000001',
  ]);
  assert.ok(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.1') })) instanceof Rtable, 'still routable');
  devOpen(net.lo);
  assert.equal(localTable(net).length, 3);
});

test('MTU below 68 takes IPv4 and its routes away', () => {
  const net = new Net();
  devSetMtu(net.lo, 67);
  assert.deepEqual(localTable(net), []);
  assert.equal(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.1') })), -E.ENETUNREACH);
});

test('an alias 127.168.1.1/8 label lo:1 is secondary and adds only its local /32, src 127.0.0.1', () => {
  const net = new Net();
  const inDev = inDevGet(net.lo);
  assert.ok(inDev !== null);
  inetInsertIfa(inDev, {
    local: ip('127.168.1.1'),
    address: ip('127.168.1.1'),
    prefixlen: 8,
    mask: inetMakeMask(8),
    broadcast: 0,
    scope: RT_SCOPE.HOST,
    flags: IFA_F.PERMANENT,
    label: 'lo:1',
    validLft: 0xffffffff,
    preferredLft: 0xffffffff,
  });
  assert.equal((inDev.ifaList[1]?.flags ?? 0) & IFA_F.SECONDARY, IFA_F.SECONDARY);
  assert.ok(localTable(net).includes('local 7fa80101/32 scope 254 src 7f000001'));
  assert.equal(localTable(net).length, 4);
});

function route(type: number, dst: string, len: number, table: number = RT_TABLE.MAIN): FibAlias {
  return {
    dst: ip(dst),
    dstLen: len,
    tos: 0,
    type,
    scope: RT_SCOPE.UNIVERSE,
    priority: 0,
    protocol: RTPROT.BOOT,
    prefsrc: 0,
    dev: null,
    gateway: 0,
    nhScope: RT_SCOPE.UNIVERSE,
    nhFlags: 0,
    table,
  };
}

test('reject routes answer with their errors, as ping prints them', () => {
  const net = new Net();
  const main = fibNewTable(net, RT_TABLE.MAIN);
  main.insert(route(RTN.BLACKHOLE, '10.1.0.0', 16));
  main.insert(route(RTN.UNREACHABLE, '10.2.0.0', 16));
  main.insert(route(RTN.PROHIBIT, '10.3.0.0', 16));
  main.insert(route(RTN.THROW, '10.4.0.0', 16));
  const get = (d: string) => ipRouteOutputKey(net, flowi4({ daddr: ip(d) }));
  assert.equal(get('10.1.2.3'), -E.EINVAL, 'blackhole: "connect: Invalid argument"');
  assert.equal(get('10.2.2.3'), -E.EHOSTUNREACH, 'unreachable: "No route to host"');
  assert.equal(get('10.3.2.3'), -E.EACCES, 'prohibit');
  assert.equal(get('10.4.2.3'), -E.ENETUNREACH, 'throw: on to the next rule, then nothing');
  assert.equal(main.insert(route(RTN.BLACKHOLE, '10.1.0.0', 16)), -E.EEXIST);
});

test('rules: a prohibit rule before main wins; a rule for a missing table falls through; local comes first', () => {
  const net = new Net();
  const main = fibNewTable(net, RT_TABLE.MAIN);
  main.insert({ ...route(RTN.UNICAST, '10.9.0.0', 16), dev: net.lo, scope: RT_SCOPE.LINK });
  fibRuleInsert(net.ipv4.rules, fibRule({ pref: 100, table: 100 }));
  assert.ok(ipRouteOutputKey(net, flowi4({ daddr: ip('10.9.0.9') })) instanceof Rtable);
  fibRuleInsert(net.ipv4.rules, fibRule({ pref: 200, action: FR_ACT.PROHIBIT, dst: ip('10.9.0.9'), dstLen: 32 }));
  assert.equal(ipRouteOutputKey(net, flowi4({ daddr: ip('10.9.0.9') })), -E.EACCES);
  assert.ok(ipRouteOutputKey(net, flowi4({ daddr: ip('10.9.0.8') })) instanceof Rtable);
  // An equal preference goes after the rules already there: the local table still answers first.
  fibRuleInsert(net.ipv4.rules, fibRule({ pref: 0, action: FR_ACT.PROHIBIT, dst: ip('127.0.0.9'), dstLen: 32 }));
  assert.ok(ipRouteOutputKey(net, flowi4({ daddr: ip('127.0.0.9') })) instanceof Rtable);
});

test("a socket's cached route is reused until routes or addresses change", () => {
  const net = new Net();
  const cache = new RouteCache();
  const a = cache.get(net, flowi4({ daddr: ip('127.0.0.1') }));
  const fl = flowi4({ daddr: ip('127.0.0.1') });
  const b = cache.get(net, fl);
  assert.equal(a, b, 'no second table search');
  assert.equal(fl.saddr, ip('127.0.0.1'), 'the chosen source comes back with a hit');
  devClose(net.lo);
  const c = cache.get(net, flowi4({ daddr: ip('127.0.0.1') }));
  assert.notEqual(c, a, 'a device event bumps the route generation');
  assert.ok(a instanceof Rtable && !a.check());
});
