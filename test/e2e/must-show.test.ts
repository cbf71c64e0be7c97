/**
 * Issue "The loopback path", must show: what `lonet -c` prints for lo is what Linux
 * prints (spec §4), from lonet's live state, and the same as the real tools print for
 * a real namespace in the same state when this machine can make one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { ETH_P_802_EX1, frame, listen, xmit } from '../helpers/frames.js';
import { inLinuxNetns } from '../helpers/linux.js';

const SPEC_IP_D = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
`;

const SPEC_ETHTOOL_K_ON = `rx-checksumming: on [fixed]
tx-checksumming: on
	tx-checksum-ipv4: off [fixed]
	tx-checksum-ip-generic: on [fixed]
	tx-checksum-sctp: on [fixed]
scatter-gather: on
	tx-scatter-gather: on [fixed]
	tx-scatter-gather-fraglist: on [fixed]
tcp-segmentation-offload: on
	tx-tcp-segmentation: on
	tx-tcp-ecn-segmentation: on
	tx-tcp-mangleid-segmentation: on
	tx-tcp6-segmentation: on
generic-segmentation-offload: on
generic-receive-offload: on
highdma: on [fixed]
vlan-challenged: on [fixed]
tx-sctp-segmentation: on
tx-udp-segmentation: on
tx-gso-list: on
loopback: on [fixed]`.split('\n');

const COMMANDS = ['ip -d link show lo', 'ifconfig lo', 'ethtool -k lo', 'cat /proc/net/dev'];

test('ip -d link show lo, ifconfig lo, ethtool -k lo, cat /proc/net/dev: as spec §4 and real Linux', async (t) => {
  const ns = new Namespace();
  const [ipd, ifc, ethk, dev] = await Promise.all(COMMANDS.map((c) => ns.exec(c)));
  assert.equal(ipd?.stdout, SPEC_IP_D);
  assert.equal(
    ifc?.stdout,
    `lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        inet6 ::1  prefixlen 128  scopeid 0x10<host>
        loop  txqueuelen 1000  (Local Loopback)
        RX packets 0  bytes 0 (0.0 B)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 0  bytes 0 (0.0 B)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

`,
  );
  // Every key line of spec §4 is there; every other feature line is "off [fixed]",
  // except 6.18's AccECN segmentation, which the running 6.18 kernel turns on too.
  const lines = (ethk?.stdout ?? '').trimEnd().split('\n');
  assert.equal(lines[0], 'Features for lo:');
  for (const l of SPEC_ETHTOOL_K_ON) assert.ok(lines.includes(l), `has "${l}"`);
  for (const l of lines.slice(1)) {
    if (SPEC_ETHTOOL_K_ON.includes(l)) continue;
    assert.ok(
      /: off \[fixed\]$/.test(l) ||
        ['\ttx-tcp-accecn-segmentation: on', 'rx-gro-list: off', 'rx-udp-gro-forwarding: off'].includes(l) ||
        /^\ttx-checksum-(ipv6|fcoe-crc): off \[fixed\]$/.test(l),
      `unexpected "${l}"`,
    );
  }
  assert.equal(
    dev?.stdout.split('\n')[2],
    '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
  );

  const linux = inLinuxNetns(['ip link set lo up'], COMMANDS);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(
    [ipd, ifc, ethk, dev],
    linux,
    'the same bytes, stderr and exit codes as Linux 6.18 for a fresh namespace with lo up',
  );
});

test('after traffic, every view agrees on the same live counters', async () => {
  const ns = new Namespace();
  listen(ns, ETH_P_802_EX1);
  for (let i = 0; i < 3; i++) xmit(ns, frame(ETH_P_802_EX1, 84 - 0)); // 84-byte L3 packets
  await ns.kernel.settle();
  const r = await ns.exec('ifconfig lo; cat /proc/net/dev; ip -s link show lo; cat /proc/net/softnet_stat');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /RX packets 3 {2}bytes 252 \(252\.0 B\)/);
  assert.match(r.stdout, /TX packets 3 {2}bytes 252 \(252\.0 B\)/);
  const lines = r.stdout.split('\n');
  assert.ok(
    lines.includes(
      '    lo:     252       3    0    0    0     0          0         0      252       3    0    0    0     0       0          0',
    ),
  );
  assert.equal(
    lines.filter((l) => l === '           252       3      0       0       0       0 ').length,
    2,
    'ip -s: RX and TX',
  );
  // processed 3, dropped 0; time_squeeze (third) counts budget overruns, which a loaded CPU may cause.
  assert.match(r.stdout, /^00000003 00000000 [0-9a-f]{8} /m, 'softnet_stat: 3 processed on CPU 0');
});

test('softnet_stat has a line per CPU in Linux format', async (t) => {
  const ns = new Namespace();
  const mine = (await ns.exec('cat /proc/net/softnet_stat')).stdout.trimEnd().split('\n');
  assert.equal(mine.length, 2);
  for (const [i, line] of mine.entries()) {
    const f = line.split(' ');
    assert.equal(f.length, 15);
    assert.ok(f.every((x) => /^[0-9a-f]{8}$/.test(x)));
    assert.equal(Number.parseInt(f[12] as string, 16), i);
  }
  const linux = inLinuxNetns([], ['cat /proc/net/softnet_stat']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const first = linux[0]?.stdout.split('\n')[0] ?? '';
  assert.match(first, /^([0-9a-f]{8} ){14}[0-9a-f]{8}$/, 'the same shape as the running kernel');
});
