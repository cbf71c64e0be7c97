import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inLinuxNetns, type LinuxResult } from '../helpers/linux.js';
import { virtualNs } from '../helpers/virtual-shell.js';

/**
 * One session of tc commands, run in lonet and in a fresh Linux namespace. The real
 * kernel numbers automatic handles from one host-wide counter (8001:, 8002:, …), so
 * those are compared as "H:". Netem is not in the reference kernel (CONFIG_NET_SCH_NETEM
 * is off), so this session uses the kinds it has.
 */
const SESSION = [
  'tc qdisc show',
  'tc -s qdisc show',
  'tc qdisc add dev lo root pfifo limit 5',
  'tc qdisc show dev lo',
  'tc qdisc add dev lo root pfifo',
  'tc qdisc change dev lo root pfifo limit 7',
  'ping -c 2 -i 0.2 -q 127.0.0.1',
  'tc -s qdisc show',
  'tc qdisc replace dev lo root bfifo limit 3000',
  'tc -s qdisc show dev lo',
  'tc qdisc del dev lo root pfifo',
  'tc qdisc del dev lo root',
  'tc qdisc del dev lo root',
  'tc qdisc change dev lo root pfifo',
  'tc qdisc add dev lo root handle 1: pfifo',
  'tc qdisc show',
  'tc qdisc add dev lo root handle 2: pfifo',
  'tc qdisc replace dev lo root handle 1: bfifo',
  'tc qdisc del dev lo root handle 2:',
  'tc qdisc del dev lo',
  'tc qdisc add dev lo root handle 1:2 pfifo',
  'tc qdisc del dev lo root',
  'tc qdisc add dev lo root foo',
  'tc qdisc add dev nope root pfifo',
  'tc qdisc show dev nope',
  'tc qdisc add root pfifo',
  'tc qdisc add dev lo root pfifo bogus',
  'tc qdisc add dev lo root pfifo limit abc',
  'tc qdisc add dev lo root handle zz pfifo',
  'tc qdisc add dev lo',
  'tc qdisc add dev lo root pfifo limit',
  'tc qdisc add dev lo dev lo',
  'tc foo',
  'tc qdisc bar',
  'tc -x qdisc',
  'tc qdisc add dev lo root pfifo_head_drop limit 2',
  'tc qdisc show',
  'tc qdisc del dev lo root',
  'tc qdisc add dev lo root bfifo',
  'tc qdisc show',
  'tc qdisc add dev lo root pfifo limit 0',
  'ping -c 1 -W 1 127.0.0.1',
  'tc -s qdisc show',
  'tc qdisc del dev lo root',
  'ip link set lo down',
  'tc qdisc show',
  'tc qdisc add dev lo root pfifo',
  'ip link show lo',
  'tc qdisc del dev lo root',
  'tc qdisc show',
  'ip link set lo up',
  'tc qdisc show',
  'tc -j qdisc show',
  'tc qdisc add dev lo root pfifo limit 5',
  'tc -j qdisc show',
  'tc -j -s qdisc show dev lo',
  'tc qdisc replace dev lo root bfifo limit 3000',
  'tc -j qdisc',
  'tc qdisc del dev lo root',
  'tc -j qdisc show dev lo',
];

const handles = (s: string) => s.replace(/\b8[0-9a-f]{3}:/g, 'H:');

test('tc qdisc: a whole session prints what iproute2 prints against Linux, byte for byte', async (t) => {
  const real = inLinuxNetns(['ip link set lo up'], SESSION);
  if (real === undefined) {
    t.skip('no Linux namespaces here');
    return;
  }
  const { run } = virtualNs();
  for (const [i, line] of SESSION.entries()) {
    const r = await run(line);
    const want: LinuxResult | undefined = real[i];
    assert.ok(want !== undefined);
    // ping's times differ; what it says about a full queue must not.
    if (line.startsWith('ping')) {
      assert.equal(r.stderr, want.stderr, `stderr of ${line}`);
      continue;
    }
    assert.equal(handles(r.stdout), handles(want.stdout), `stdout of ${line}`);
    assert.equal(r.stderr, want.stderr, `stderr of ${line}`);
    assert.equal(r.code, want.code, `exit code of ${line}`);
  }
});

test('a bare namespace (lo down) shows no qdisc: noop is built in and never dumped', async () => {
  const { run } = virtualNs({ bare: true });
  assert.deepEqual(await run('tc -s qdisc show'), { code: 0, stdout: '', stderr: '' });
  const real = inLinuxNetns([], ['tc -s qdisc show']);
  if (real !== undefined) assert.equal(real[0]?.stdout, '');
});

test('netem: options print back as iproute2 prints them (with seed, as 6.6+ does)', async () => {
  const { run } = virtualNs();
  const add = await run(
    'tc qdisc add dev lo root netem limit 50 delay 10ms 5ms 25% loss 0.5% 10 duplicate 1% reorder 25% 50% corrupt 0.1% rate 1mbit 20 seed 42',
  );
  assert.deepEqual(add, { code: 0, stdout: '', stderr: '' });
  const show = await run('tc qdisc show dev lo');
  assert.equal(
    show.stdout,
    'qdisc netem 8001: root refcnt 2 limit 50 delay 10ms  5ms 25% loss 0.5% 10% duplicate 1% reorder 25% 50% corrupt 0.1% seed 42 rate 1Mbit packetoverhead 20 gap 1\n',
  );
  // -j as iproute2's netem_print_opt writes JSON: seconds and fractions.
  assert.equal(
    (await run('tc -j qdisc show dev lo')).stdout,
    '[{"kind":"netem","handle":"8001:","root":true,"refcnt":2,"options":{"limit":50,' +
      '"delay":{"delay":0.01,"jitter":0.005,"correlation":0.25},"loss-random":{"loss":0.005,"correlation":0.1},' +
      '"duplicate":{"duplicate":0.01,"correlation":0},"reorder":{"reorder":0.25,"correlation":0.5},' +
      '"corrupt":{"corrupt":0.001,"correlation":0},"seed":42,' +
      '"rate":{"rate":125000,"packetoverhead":20,"cellsize":0,"celloverhead":0},"ecn":false,"gap":1}}]\n',
  );
  // change resets what the new qopt carries; reorder/corrupt/rate stay unless given again.
  await run('tc qdisc change dev lo root netem delay 1.5ms seed 42');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 delay 1.5ms reorder 25% 50% corrupt 0.1% seed 42 rate 1Mbit packetoverhead 20\n',
  );
  // replace with the same kind is a change too (same handle, same leftovers).
  await run('tc qdisc replace dev lo root netem delay 2s');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 delay 2s reorder 25% 50% corrupt 0.1% seed 42 rate 1Mbit packetoverhead 20\n',
  );
  // A new netem (after del) starts from a random seed.
  await run('tc qdisc del dev lo root');
  await run('tc qdisc add dev lo root netem delay 2s');
  assert.match(
    (await run('tc qdisc show dev lo')).stdout,
    /^qdisc netem 8002: root refcnt 2 limit 1000 delay 2s seed \d+\n$/,
  );
});

test('netem loss models print back as iproute2 prints them', async () => {
  const { run } = virtualNs();
  await run('tc qdisc add dev lo root netem loss state 1% 30% 2% 80% 0.5% seed 3');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 loss state p13 1% p31 30% p32 2% p23 80% p14 0.5% seed 3\n',
  );
  await run('tc qdisc change dev lo root netem loss gemodel 1% 10% 70% 0.1% seed 3');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 loss gemodel p 1% r 10% 1-h 70% 1-k 0.1% seed 3\n',
  );
  await run('tc qdisc change dev lo root netem loss state 2 seed 3');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 loss state p13 2% p31 98% p32 0% p23 100% p14 0% seed 3\n',
  );
  const bad = await run('tc qdisc change dev lo root netem loss 1% loss 2%');
  assert.deepEqual([bad.code, bad.stderr], [1, 'Illegal "duplicate loss argument\n"\n']);
});

test('netem slot prints back as iproute2 prints it', async () => {
  const { run } = virtualNs();
  await run('tc qdisc add dev lo root netem delay 1ms slot 800us 1.2ms packets 4 bytes 64k seed 9');
  assert.equal(
    (await run('tc qdisc show dev lo')).stdout,
    'qdisc netem 8001: root refcnt 2 limit 1000 delay 1ms seed 9 slot 800us 1.2ms packets 4 bytes 65536\n',
  );
  const bad = await run('tc qdisc change dev lo root netem slot 2ms 1ms');
  assert.deepEqual([bad.code, bad.stderr], [1, 'Illegal "slot max_delay"\n']);
});

test('netem: iproute2 refuses what it refuses, with its words and exit code 1', async () => {
  const { run } = virtualNs();
  const cases: [string, string][] = [
    ['tc qdisc add dev lo root netem reorder 10%', 'reordering not possible without specifying some delay\n'],
    ['tc qdisc add dev lo root netem delay 10ms gap 5', 'gap specified without reorder probability\n'],
    ['tc qdisc add dev lo root netem loss 120%', 'Illegal "loss percent"\n'],
    ['tc qdisc add dev lo root netem delay 10parsecs', 'Illegal "latency"\n'],
    ['tc qdisc add dev lo root netem bogus', 'What is "bogus"?\n'],
    ['tc qdisc add dev lo root netem distribution normal', 'No distribution data for normal'],
  ];
  for (const [line, err] of cases) {
    const r = await run(line);
    assert.equal(r.code, 1, line);
    assert.ok(r.stderr.startsWith(err), `${line}: ${r.stderr}`);
  }
  assert.equal((await run('tc qdisc add dev lo root netem delay')).code, 255);
  assert.equal((await run('tc qdisc show')).stdout, 'qdisc noqueue 0: dev lo root refcnt 2 \n');
});
