import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { Kernel } from '../../src/init.js';
import { inLinuxNetns } from '../helpers/linux.js';

test('net.core defaults are Linux defaults (HZ=1000)', async () => {
  const ns = new Namespace();
  const r = await ns.exec(
    'sysctl net.core.netdev_max_backlog net.core.netdev_budget net.core.netdev_budget_usecs net.core.dev_weight net.core.somaxconn net.core.rmem_default net.core.wmem_default',
  );
  assert.equal(
    r.stdout,
    [
      'net.core.netdev_max_backlog = 1000',
      'net.core.netdev_budget = 300',
      'net.core.netdev_budget_usecs = 2000',
      'net.core.dev_weight = 64',
      'net.core.somaxconn = 4096',
      'net.core.rmem_default = 212992',
      'net.core.wmem_default = 212992',
      '',
    ].join('\n'),
  );
  assert.equal(r.code, 0);
});

test('sysctl -w changes what the stack uses; bad values get EINVAL as proc_dointvec_minmax gives it', async () => {
  const ns = new Namespace();
  assert.deepEqual(await ns.exec('sysctl -w net.core.netdev_max_backlog=10'), {
    code: 0,
    stdout: 'net.core.netdev_max_backlog = 10\n',
    stderr: '',
  });
  assert.equal(ns.kernel.core.netdev_max_backlog, 10);
  assert.deepEqual(await ns.exec('sysctl -w net.core.dev_weight=0'), {
    code: 1,
    stdout: '',
    stderr: 'sysctl: setting key "net.core.dev_weight": Invalid argument\n',
  });
  assert.equal((await ns.exec('sysctl -w net.core.somaxconn=abc')).code, 1);
  assert.equal((await ns.exec('sysctl -w net.core.netdev_budget_usecs=1999')).code, 1);
  assert.deepEqual(await ns.exec('sysctl -n net/core/somaxconn'), { code: 0, stdout: '4096\n', stderr: '' });
  assert.deepEqual(await ns.exec('sysctl -q net.core.somaxconn=128; cat /proc/sys/net/core/somaxconn'), {
    code: 0,
    stdout: '128\n',
    stderr: '',
  });
  assert.deepEqual(await ns.exec('sysctl net.core.bogus'), {
    code: 1,
    stdout: '',
    stderr: 'sysctl: cannot stat /proc/sys/net/core/bogus: No such file or directory\n',
  });
  assert.equal((await ns.exec('sysctl -e net.core.bogus')).code, 0);
});

test('global net.core sysctls exist only in the initial namespace, as in Linux', async (t) => {
  const kernel = new Kernel();
  const init = new Namespace({ kernel });
  const child = new Namespace({ kernel, bare: true });
  assert.equal((await init.exec('sysctl -n net.core.netdev_max_backlog')).stdout, '1000\n');
  const r = await child.exec('sysctl net.core.netdev_max_backlog');
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr: 'sysctl: cannot stat /proc/sys/net/core/netdev_max_backlog: No such file or directory\n',
  });
  const childAll = (await child.exec('sysctl -a')).stdout;
  // Per-namespace values are per namespace.
  await child.exec('sysctl -w net.core.somaxconn=5');
  assert.equal((await init.exec('sysctl -n net.core.somaxconn')).stdout, '4096\n');

  const linux = inLinuxNetns([], ['sysctl net.core.netdev_max_backlog', 'sysctl -a']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  assert.deepEqual(r, linux[0]);
  const linuxAll = (linux[1]?.stdout ?? '').split('\n');
  // A new namespace inherits these from the host's init_net (tuning, loaded modules such as
  // bbr); lonet boots a stock kernel, so only the key must exist.
  const hostTuned =
    /^net\.ipv4\.tcp_(rmem|wmem|congestion_control|available_congestion_control|allowed_congestion_control) = /;
  const linuxKeys = new Set(linuxAll.map((l) => l.split(' = ')[0]));
  for (const line of childAll.trimEnd().split('\n')) {
    if (hostTuned.test(line)) assert.ok(linuxKeys.has(line.split(' = ')[0]), `Linux has ${line.split(' = ')[0]} too`);
    else assert.ok(linuxAll.includes(line), `Linux has "${line}" too`);
  }
});

test('cat /proc/net/dev and softnet_stat render live counters in Linux format', async () => {
  const ns = new Namespace();
  const dev = await ns.exec('cat /proc/net/dev');
  assert.equal(
    dev.stdout,
    'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n',
  );
  const softnet = (await ns.exec('cat /proc/net/softnet_stat')).stdout.split('\n');
  assert.equal(
    softnet[0],
    '00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000',
  );
  assert.equal(softnet[1]?.split(' ')[12], '00000001', 'the CPU index column');
  assert.deepEqual(await ns.exec('cat /proc/net/nosuch'), {
    code: 1,
    stdout: '',
    stderr: 'cat: /proc/net/nosuch: No such file or directory\n',
  });
});
