import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Net } from '../../src/init.js';
import { runTool } from '../../src/tools/command.js';
import { ip } from '../../src/tools/ip/index.js';
import { rtnlFillIfinfo, statsText } from '../../src/tools/ip/link.js';
import { frame, listen, xmit } from '../helpers/frames.js';
import { inLinuxNetns } from '../helpers/linux.js';

const run = (net: Net, line: string) => runTool(ip, net, ['ip', ...line.split(' ').filter((w) => w.length > 0)]);

const UP_LINE =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000';
const DOWN_LINE = '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000';
const LINK_LINE = '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00';
const DETAILS =
  ' promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1' +
  ' gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ';

test('ip link show lo: a booted host has lo up, a new namespace has it down', async () => {
  assert.deepEqual(await run(new Net(), 'link show lo'), { code: 0, stdout: `${UP_LINE}\n${LINK_LINE}\n`, stderr: '' });
  assert.deepEqual(await run(new Net({ bare: true }), 'link show lo'), {
    code: 0,
    stdout: `${DOWN_LINE}\n${LINK_LINE}\n`,
    stderr: '',
  });
});

test('objects and commands match by prefix, as iproute2 matches() does', async () => {
  const net = new Net();
  const want = `${UP_LINE}\n${LINK_LINE}\n`;
  for (const line of ['l', 'li', 'link', 'link show', 'l sh lo', 'link list', 'link lst dev lo', '-- link']) {
    assert.equal((await run(net, line)).stdout, want, line);
  }
  // "ip l s" is "set", not "show": it changes nothing and prints nothing.
  assert.deepEqual(await run(net, 'l s lo'), { code: 0, stdout: '', stderr: '' });
});

test('ip -d link show lo ends with a space and has the double space after promiscuity', async () => {
  const r = await run(new Net(), '-d link show lo');
  assert.equal(r.stdout, `${UP_LINE}\n${LINK_LINE}${DETAILS}\n`);
  assert.equal((await run(new Net(), '-details -o link')).stdout, `${UP_LINE}\\${LINK_LINE}${DETAILS}\n`);
});

test('ip -s -s link show lo counts L3 bytes of what went through lo, rx == tx', async () => {
  const net = new Net();
  // A receiver for IPv4 frames, so none of them is dropped for want of a handler.
  listen(net, 0x0800);
  for (let i = 0; i < 3; i++) xmit(net, frame(0x0800, 84));
  await net.kernel.settle();
  const r = await run(net, '-s -s link show lo');
  assert.equal(
    r.stdout,
    [
      UP_LINE,
      LINK_LINE,
      '    RX:  bytes packets errors dropped  missed   mcast           ',
      '           252       3      0       0       0       0 ',
      '    RX errors:  length    crc   frame    fifo overrun',
      '                     0      0       0       0       0 ',
      '    TX:  bytes packets errors dropped carrier collsns           ',
      '           252       3      0       0       0       0 ',
      '    TX errors: aborted   fifo  window heartbt transns',
      '                     0      0       0       0       0 ',
      '',
    ].join('\n'),
  );
  // One -s leaves out the two error rows.
  const short = (await run(net, '-s link show lo')).stdout.split('\n');
  assert.equal(short.length, 7);
  assert.ok(!short.some((l) => l.includes('errors:')));
});

test('a packet sent while lo is down shows in TX dropped', async () => {
  const net = new Net();
  await run(net, 'link set lo down');
  xmit(net, frame(0x0800, 84));
  await net.kernel.settle();
  const j = JSON.parse((await run(net, '-j -s link show lo')).stdout) as [{ stats64: { tx: { dropped: number } } }];
  assert.equal(j[0].stats64.tx.dropped, 1);
});

test('stats columns widen with the numbers, as iproute2 sizes them', () => {
  const m = rtnlFillIfinfo(new Net().lo);
  Object.assign(m.stats, { rxBytes: 4377049473, txBytes: 4377049473, rxPackets: 1109239, txPackets: 1109239 });
  const opts = {
    stats: 1,
    details: 0,
    json: false,
    pretty: false,
    oneline: false,
    brief: false,
    human: false,
    all: false,
  };
  assert.equal(
    statsText(m, { ...opts, iec: false, family: 0 }, '\n'),
    '    RX:  bytes packets errors dropped  missed   mcast           \n' +
      '    4377049473 1109239      0       0       0       0 \n' +
      '    TX:  bytes packets errors dropped carrier collsns           \n' +
      '    4377049473 1109239      0       0       0       0 ',
  );
  Object.assign(m.stats, { rxBytes: 126570234447969, rxPackets: 15016149200 });
  const wide = statsText(m, { ...opts, iec: false, family: 0 }, '\n').split('\n');
  assert.equal(wide[0], '    RX:       bytes     packets errors dropped  missed   mcast           ');
  assert.equal(wide[1], '    126570234447969 15016149200      0       0       0       0 ');
  const human = statsText(m, { ...opts, human: true, iec: false, family: 0 }, '\n').split('\n');
  // -h stops the widening and keeps as many decimals as fit three digits (print_num).
  assert.equal(human[1], '          127T   15.0G      0       0       0       0 ');
});

test('ip -j prints iproute2 JSON; -p indents it the iproute2 way', async () => {
  const net = new Net({ bare: true });
  const j = (await run(net, '-j link show lo')).stdout;
  assert.equal(
    j,
    '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"qdisc":"noop","operstate":"DOWN",' +
      '"linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback",' +
      '"address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"}]\n',
  );
  const full = JSON.parse((await run(net, '-j -s -s -d link')).stdout) as {
    inet6_addr_gen_mode: string;
    stats64: { tx: object };
  }[];
  assert.equal(full.length, 1);
  assert.equal(full[0]?.inet6_addr_gen_mode, 'eui64');
  assert.deepEqual(Object.keys(full[0]?.stats64.tx ?? {}), [
    'bytes',
    'packets',
    'errors',
    'dropped',
    'carrier_errors',
    'collisions',
    'aborted_errors',
    'fifo_errors',
    'window_errors',
    'heartbeat_errors',
    'carrier_changes',
  ]);
  const pretty = (await run(net, '-j -p link show lo')).stdout;
  assert.ok(
    pretty.startsWith('[ {\n        "ifindex": 1,\n        "ifname": "lo",\n        "flags": [ "LOOPBACK" ],\n'),
  );
  assert.ok(pretty.endsWith('        "broadcast": "00:00:00:00:00:00"\n    } ]\n'));
  assert.deepEqual(JSON.parse(pretty), JSON.parse(j));
  // A device the filter rejects still gets its (empty) object.
  assert.equal((await run(net, '-j link show up')).stdout, '[{}]\n');
});

test('ip -br link is one line per device', async () => {
  assert.equal(
    (await run(new Net(), '-br link')).stdout,
    'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n',
  );
});

test('ip link set changes the device: up, mtu, txqueuelen, name, address, several at once', async () => {
  const net = new Net({ bare: true });
  assert.deepEqual(await run(net, 'link set dev lo up mtu 1500 txqueuelen 0'), { code: 0, stdout: '', stderr: '' });
  assert.equal(
    (await run(net, 'link show lo')).stdout,
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default \n' +
      `${LINK_LINE}\n`,
  );
  assert.equal((await run(net, 'link set lo name lo0 address 00:11:22:33:44:55 txqlen 0x10')).code, 0);
  assert.equal(net.lo.name, 'lo0');
  assert.equal(net.lo.txQueueLen, 16);
  assert.match((await run(net, 'link show lo0')).stdout, /link\/loopback 00:11:22:33:44:55 brd/);
  // The zero MAC is refused once it is no longer the current one.
  assert.deepEqual(await run(net, 'link set lo0 address 00:00:00:00:00:00'), {
    code: 2,
    stdout: '',
    stderr: 'RTNETLINK answers: Cannot assign requested address\n',
  });
  // "txqueuelen -1" is a u32 the kernel keeps and iproute2 prints as an int.
  await run(net, 'link set lo0 txqueuelen -1');
  assert.match((await run(net, 'link show lo0')).stdout, / qlen -1\n/);
});

test('ip link errors and exit codes are iproute2 6.1 and Linux 6.18', async () => {
  const net = new Net();
  const cases: [string, number, string][] = [
    ['bogus', 1, 'Object "bogus" is unknown, try "ip help".\n'],
    ['-zz link', 255, 'Option "-zz" is unknown, try "ip -help".\n'],
    ['link bogus', 255, 'Command "bogus" is unknown, try "ip link help".\n'],
    ['link show nosuch', 1, 'Device "nosuch" does not exist.\n'],
    ['link set nosuch up', 1, 'Cannot find device "nosuch"\n'],
    ['link set lo bogus', 255, 'Error: either "dev" is duplicate, or "bogus" is a garbage.\n'],
    ['link set lo mtu abc', 255, 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n'],
    ['link set lo mtu -1', 2, 'Error: mtu less than device minimum.\n'],
    ['link set lo mtu 1 mtu 2', 255, 'Error: duplicate "mtu": "2" is the second value.\n'],
    ['link set lo mtu', 255, 'Command line is not complete. Try option "help"\n'],
    ['link set lo address zz', 1, '"zz" is invalid lladdr.\n'],
    ['link set lo address 0:1:2', 1, 'Invalid address length 3 - must be 6 bytes\n'],
    ['link set lo name a/b', 255, 'Error: argument "a/b" is wrong: "name" not a valid ifname\n'],
    ['link set lo name a:b', 2, 'RTNETLINK answers: Invalid argument\n'],
    ['link set', 255, 'Not enough information: "dev" argument is required.\n'],
    ['link del lo', 2, 'RTNETLINK answers: Operation not supported\n'],
    ['link add foo type loopback', 2, 'Error: Unknown device type.\n'],
    ['link add lo type dummy', 2, 'RTNETLINK answers: File exists\n'],
    ['link add foo', 1, 'Not enough information: "type" argument is required\n'],
    ['link set lo netns 1', 2, 'Error: The interface netns is immutable.\n'],
    ['link set lo netns foo', 255, 'Error: argument "foo" is wrong: Invalid "netns" value\n\n'],
  ];
  for (const [line, code, stderr] of cases) assert.deepEqual(await run(net, line), { code, stdout: '', stderr }, line);
  const help = await run(net, 'link help');
  assert.equal(help.code, 255);
  assert.ok(help.stderr.startsWith('Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME\n'));
  // Nothing above changed lo.
  assert.equal((await run(net, 'link show lo')).stdout, `${UP_LINE}\n${LINK_LINE}\n`);
});

test('lonet prints what Linux prints for the same lo', async (t) => {
  const lines = [
    'ip link show lo',
    'ip -d link show lo',
    'ip -s -s link show lo',
    'ip -j -p -d link show lo',
    'ip link set lo up',
    'ip -d link',
    'ip -j -s -d link show lo',
    'ip link set lo mtu 1500 txqueuelen 0',
    'ip -br link',
    'ip link show lo',
    'ip link set lo mtu abc',
    'ip link set lo bogus',
    'ip link set lo netns 1',
    'ip link del lo',
    'ip link add foo type loopback',
    'ip -o -s link',
  ];
  const linux = inLinuxNetns([], lines);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const net = new Net({ bare: true });
  for (const [i, line] of lines.entries()) {
    assert.deepEqual(await run(net, line.slice(3)), linux[i], line);
  }
});
