/**
 * net/core/sysctl_net_core.c: the net.core table. Ranges are those a Linux 6.18
 * kernel enforces (probed with `sysctl -w`); HZ is taken as 1000, so
 * netdev_budget_usecs defaults to, and may not go below, 2 jiffies = 2000 µs.
 */

import { E } from '../include/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { intSysctl, type SysctlEntry } from '../kernel/sysctl.js';
import { flowLimitUpdate } from './dev.js';

/** Per-namespace net.core values (struct netns_core and friends). */
export interface NetCorePerNet {
  somaxconn: number;
  rmem_default: number;
  rmem_max: number;
  wmem_default: number;
  wmem_max: number;
  optmem_max: number;
  txrehash: number;
  tstamp_allow_data: number;
}

export function perNetCoreDefaults(): NetCorePerNet {
  return {
    somaxconn: 4096,
    rmem_default: 212992,
    rmem_max: 4194304,
    wmem_default: 212992,
    wmem_max: 4194304,
    optmem_max: 131072,
    txrehash: 1,
    tstamp_allow_data: 1,
  };
}

/** SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86_64 (2 × SKB_TRUESIZE(256)). */
const SOCK_MIN_BUF = 4608;
const USEC_PER_SEC = 1_000_000;
const HZ = 1000;
const isPowerOf2 = (v: number) => v > 0 && (v & (v - 1)) === 0;

/** sysctl_core_init() (an fs_initcall): the net.core table. */
export function sysctlCoreInit(kernel: Kernel): void {
  for (const e of netCoreSysctls()) kernel.registerSysctl(e);
}

export function netCoreSysctls(): SysctlEntry[] {
  const g = (k: { core: object }) => k.core as Record<string, unknown>;
  const n = (_k: unknown, net: { core: object }) => net.core as Record<string, unknown>;
  const glob = (name: string, opts: Parameters<typeof intSysctl>[4] = {}) =>
    intSysctl(`net.core.${name}`, false, (k) => g(k), name, opts);
  const pernet = (name: string, opts: Parameters<typeof intSysctl>[4] = {}) =>
    intSysctl(`net.core.${name}`, true, n, name, opts);

  const flowBitmap: SysctlEntry = {
    name: 'net.core.flow_limit_cpu_bitmap',
    perNet: false,
    read: (k) => k.core.flow_limit_cpu_bitmap.toString(16),
    write: (k, _net, text) => {
      const t = text.trim().replace(/,/g, '');
      if (!/^[0-9a-fA-F]+$/.test(t)) return -E.EINVAL;
      const v = Number.parseInt(t, 16);
      if (v >= 2 ** k.cpus.length) return -E.EINVAL;
      k.core.flow_limit_cpu_bitmap = v;
      flowLimitUpdate(k);
      return 0;
    },
  };

  return [
    glob('dev_weight', { min: 1 }),
    glob('dev_weight_rx_bias', { min: 1 }),
    glob('dev_weight_tx_bias', { min: 1 }),
    flowBitmap,
    glob('flow_limit_table_len', { min: 1, max: 1 << 30, valid: isPowerOf2 }),
    glob('max_skb_frags', { min: 1, max: 17 }),
    glob('message_burst'),
    glob('message_cost', { max: Math.floor(0x7fffffff / HZ) }),
    glob('netdev_budget'),
    glob('netdev_budget_usecs', { min: (2 * USEC_PER_SEC) / HZ }),
    glob('netdev_max_backlog'),
    glob('netdev_tstamp_prequeue'),
    pernet('optmem_max', { min: 0 }),
    pernet('rmem_default', { min: SOCK_MIN_BUF }),
    pernet('rmem_max', { min: SOCK_MIN_BUF }),
    pernet('somaxconn', { min: 0 }),
    pernet('tstamp_allow_data', { min: 0, max: 1 }),
    pernet('txrehash', { min: 0, max: 1 }),
    pernet('wmem_default', { min: SOCK_MIN_BUF }),
    pernet('wmem_max', { min: SOCK_MIN_BUF }),
  ];
}
