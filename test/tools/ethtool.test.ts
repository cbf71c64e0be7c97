import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devClose, devOpen } from '../../src/core/netdevice.js';
import { Net } from '../../src/init.js';
import { runTool } from '../../src/tools/command.js';
import { ethtool } from '../../src/tools/ethtool.js';
import { inLinuxNetns } from '../helpers/linux.js';

/** `ethtool -k lo` on a Linux 6.18 host, as captured. */
const LINUX_6_18_K_LO = [
  'Features for lo:',
  'rx-checksumming: on [fixed]',
  'tx-checksumming: on',
  '\ttx-checksum-ipv4: off [fixed]',
  '\ttx-checksum-ip-generic: on [fixed]',
  '\ttx-checksum-ipv6: off [fixed]',
  '\ttx-checksum-fcoe-crc: off [fixed]',
  '\ttx-checksum-sctp: on [fixed]',
  'scatter-gather: on',
  '\ttx-scatter-gather: on [fixed]',
  '\ttx-scatter-gather-fraglist: on [fixed]',
  'tcp-segmentation-offload: on',
  '\ttx-tcp-segmentation: on',
  '\ttx-tcp-ecn-segmentation: on',
  '\ttx-tcp-mangleid-segmentation: on',
  '\ttx-tcp6-segmentation: on',
  '\ttx-tcp-accecn-segmentation: on',
  'generic-segmentation-offload: on',
  'generic-receive-offload: on',
  'large-receive-offload: off [fixed]',
  'rx-vlan-offload: off [fixed]',
  'tx-vlan-offload: off [fixed]',
  'ntuple-filters: off [fixed]',
  'receive-hashing: off [fixed]',
  'highdma: on [fixed]',
  'rx-vlan-filter: off [fixed]',
  'vlan-challenged: on [fixed]',
  'tx-gso-robust: off [fixed]',
  'tx-fcoe-segmentation: off [fixed]',
  'tx-gre-segmentation: off [fixed]',
  'tx-gre-csum-segmentation: off [fixed]',
  'tx-ipxip4-segmentation: off [fixed]',
  'tx-ipxip6-segmentation: off [fixed]',
  'tx-udp_tnl-segmentation: off [fixed]',
  'tx-udp_tnl-csum-segmentation: off [fixed]',
  'tx-gso-partial: off [fixed]',
  'tx-tunnel-remcsum-segmentation: off [fixed]',
  'tx-sctp-segmentation: on',
  'tx-esp-segmentation: off [fixed]',
  'tx-udp-segmentation: on',
  'tx-gso-list: on',
  'tx-nocache-copy: off [fixed]',
  'loopback: on [fixed]',
  'rx-fcs: off [fixed]',
  'rx-all: off [fixed]',
  'tx-vlan-stag-hw-insert: off [fixed]',
  'rx-vlan-stag-hw-parse: off [fixed]',
  'rx-vlan-stag-filter: off [fixed]',
  'l2-fwd-offload: off [fixed]',
  'hw-tc-offload: off [fixed]',
  'esp-hw-offload: off [fixed]',
  'esp-tx-csum-hw-offload: off [fixed]',
  'rx-udp_tunnel-port-offload: off [fixed]',
  'tls-hw-tx-offload: off [fixed]',
  'tls-hw-rx-offload: off [fixed]',
  'rx-gro-hw: off [fixed]',
  'tls-hw-record: off [fixed]',
  'rx-gro-list: off',
  'macsec-hw-offload: off [fixed]',
  'rx-udp-gro-forwarding: off',
  'hsr-tag-ins-offload: off [fixed]',
  'hsr-tag-rm-offload: off [fixed]',
  'hsr-fwd-offload: off [fixed]',
  'hsr-dup-offload: off [fixed]',
  '',
].join('\n');

const run = (net: Net, line: string) => runTool(ethtool, net, line.split(' '));

test('ethtool -k lo prints the 6.18 feature list: legacy groups first, then the rest in bit order', async () => {
  for (const net of [new Net(), new Net({ bare: true })]) {
    assert.deepEqual(await run(net, 'ethtool -k lo'), { code: 0, stdout: LINUX_6_18_K_LO, stderr: '' });
    assert.deepEqual(await run(net, 'ethtool --show-offload lo'), await run(net, 'ethtool --show-features lo'));
  }
});

test('ethtool -K lo tso off turns off all five TCP segmentation features, and -k shows it', async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool -K lo tso off'), { code: 0, stdout: '', stderr: '' });
  const k = (await run(net, 'ethtool -k lo')).stdout;
  assert.match(
    k,
    /tcp-segmentation-offload: off\n\ttx-tcp-segmentation: off\n\ttx-tcp-ecn-segmentation: off\n\ttx-tcp-mangleid-segmentation: off\n\ttx-tcp6-segmentation: off\n\ttx-tcp-accecn-segmentation: off\n/,
  );
  // IPv4 ID mangling needs TSO: refused, and -k remembers the request.
  assert.deepEqual(await run(net, 'ethtool -K lo tx-tcp-mangleid-segmentation on'), {
    code: 1,
    stdout: 'Actual changes:\ntx-tcp-mangleid-segmentation: off [requested on]\n',
    stderr: 'Could not change any device features\n',
  });
  assert.match((await run(net, 'ethtool -k lo')).stdout, /\ttx-tcp-mangleid-segmentation: off \[requested on\]\n/);
  // Turning TSO back on satisfies the old request too.
  assert.deepEqual(await run(net, 'ethtool -K lo tso on'), { code: 0, stdout: '', stderr: '' });
  assert.equal((await run(net, 'ethtool -k lo')).stdout, LINUX_6_18_K_LO);
});

test('a feature change that drags another one along is reported as [not requested]', async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool -K lo rx off tx-tcp-segmentation off'), {
    code: 0,
    stdout:
      'Actual changes:\ntx-tcp-segmentation: off\ntx-tcp-mangleid-segmentation: off [not requested]\nrx-checksum: on [requested off]\n',
    stderr: '',
  });
  assert.equal(net.lo.features & (1n << 19n), 0n);
});

test("fixed features cannot change: rx off is refused, vlan-challenged is not even ethtool's", async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool -K lo rx off'), {
    code: 1,
    stdout: 'Actual changes:\nrx-checksum: on [requested off]\n',
    stderr: 'Could not change any device features\n',
  });
  assert.deepEqual(await run(net, 'ethtool -K lo vlan-challenged off'), {
    code: 92,
    stdout: '',
    stderr: 'netlink error: attempt to change non-ethtool features\nnetlink error: Invalid argument\n',
  });
  assert.deepEqual(await run(net, 'ethtool -K lo'), {
    code: 1,
    stdout: '',
    stderr: 'Could not change any device features\n',
  });
});

test('an unknown feature name fails the whole request with the netlink offset of its name', async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool -K lo bogus on'), {
    code: 92,
    stdout: '',
    stderr: 'netlink error: bit name not found (offset 52)\nnetlink error: Operation not supported\n',
  });
  const r = await run(net, 'ethtool -K lo tso off bogus on');
  assert.equal(r.stderr, 'netlink error: bit name not found (offset 220)\nnetlink error: Operation not supported\n');
  // Nothing was applied.
  assert.equal((await run(net, 'ethtool -k lo')).stdout, LINUX_6_18_K_LO);
  assert.deepEqual(await run(net, 'ethtool -K lo tso maybe'), {
    code: 1,
    stdout: '',
    stderr: "ethtool (-K): flag 'maybe' for parameter '(null)' is not followed by 'on' or 'off'\n",
  });
});

test('ethtool lo: link detected only while lo is up', async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool lo'), {
    code: 0,
    stdout: 'Settings for lo:\n\tLink detected: yes\n',
    stderr: '',
  });
  devClose(net.lo);
  assert.equal((await run(net, 'ethtool lo')).stdout, 'Settings for lo:\n\tLink detected: no\n');
  devOpen(net.lo);
  assert.equal((await run(net, 'ethtool lo')).stdout, 'Settings for lo:\n\tLink detected: yes\n');
});

test('ethtool -i, -S and -T on lo', async () => {
  const net = new Net();
  assert.deepEqual(await run(net, 'ethtool -i lo'), {
    code: 71,
    stdout: '',
    stderr: 'Cannot get driver information: Operation not supported\n',
  });
  assert.deepEqual(await run(net, 'ethtool -S lo'), { code: 94, stdout: '', stderr: 'no stats available\n' });
  assert.deepEqual(await run(net, 'ethtool -T lo'), {
    code: 0,
    stdout:
      'Time stamping parameters for lo:\nCapabilities:\n\tsoftware-transmit\n\tsoftware-receive\n\tsoftware-system-clock\n' +
      'PTP Hardware Clock: none\nHardware Transmit Timestamp Modes: none\nHardware Receive Filter Modes: none\n',
    stderr: '',
  });
});

test("unknown devices and bad arguments get ethtool's messages and exit codes", async () => {
  const net = new Net();
  const enodev = 'netlink error: no device matches name (offset 24)\nnetlink error: No such device\n';
  assert.deepEqual(await run(net, 'ethtool nosuch'), {
    code: 75,
    stdout: 'No data available\n',
    stderr: enodev.repeat(5),
  });
  assert.deepEqual(await run(net, 'ethtool -k nosuch'), { code: 1, stdout: '', stderr: enodev });
  assert.deepEqual(await run(net, 'ethtool -K nosuch tso off'), { code: 92, stdout: '', stderr: enodev });
  assert.deepEqual(await run(net, 'ethtool -T nosuch'), { code: 1, stdout: '', stderr: enodev });
  assert.deepEqual(await run(net, 'ethtool -i nosuch'), {
    code: 71,
    stdout: '',
    stderr: 'Cannot get driver information: No such device\n',
  });
  assert.deepEqual(await run(net, 'ethtool -S nosuch'), {
    code: 96,
    stdout: '',
    stderr: 'Cannot get stats strings information: No such device\n',
  });
  const bad = {
    code: 1,
    stdout: '',
    stderr: 'ethtool: bad command line argument(s)\nFor more information run ethtool -h\n',
  };
  assert.deepEqual(await runTool(ethtool, net, ['ethtool']), bad);
  assert.deepEqual(await run(net, 'ethtool --foo lo'), bad);
  assert.deepEqual(await run(net, 'ethtool -k'), bad);
  assert.deepEqual(await run(net, 'ethtool -k lo extra'), {
    code: 1,
    stdout: '',
    stderr: "ethtool: unexpected parameter 'extra'\n",
  });
});

test('the same ethtool commands print the same on lonet and on Linux', async (t) => {
  const lines = [
    'ethtool lo',
    'ethtool -k lo',
    'ethtool -K lo tso off',
    'ethtool -K lo tx-tcp-ecn-segmentation on',
    'ethtool -K lo tx-tcp-accecn-segmentation on',
    'ethtool -k lo',
    'ethtool -K lo gro off rx-gro-list on',
    'ethtool -K lo sg off gso off',
    'ethtool -K lo tx off',
    'ethtool -k lo',
    'ethtool -K lo tso on gro on gso on',
    'ethtool -T lo',
    'ethtool -i lo',
    'ethtool -S lo',
    'ethtool -K lo tso off bogus on',
    'ethtool nosuch',
  ];
  const linux = inLinuxNetns([], lines);
  if (linux === undefined) {
    t.skip('no Linux network namespaces here');
    return;
  }
  const net = new Net({ bare: true });
  for (const [i, line] of lines.entries()) assert.deepEqual(await run(net, line), linux[i], line);
});
