/** net/ipv6/af_inet6.c inet6_init() and the per-namespace IPv6 setup. */
import type { Kernel } from '../kernel/kernel.js';
import { intSysctl } from '../kernel/sysctl.js';
import { type Net, type PernetOperations, registerPernetSubsys } from '../net/net.js';
import { addrconfDadInit } from './addrconf-dad.js';
import { addrconfSysctlInit, ipv6DevconfNetNew } from './devconf.js';
import { icmpv6Init } from './icmp.js';
import { ip6ForwardInit } from './ip6-forward.js';
import { ip6InputInit } from './ip6-input.js';
import { ndTblNew } from './ndisc.js';
import { ipv6MibNew } from './netns.js';
import { ipv6ProcInit } from './proc.js';
import { ip6RouteInit } from './route.js';

const ipv6NetOps: PernetOperations = {
  name: 'ipv6',
  init(net: Net): void {
    net.ipv6 = {
      tables: new Map(),
      genid: 0,
      sysctl: { hop_limit: 64, auto_flowlabels: 1, echo_ignore_all: 0, ratelimit: 100, bindv6only: 0 },
      mib: ipv6MibNew(),
      ndTbl: ndTblNew(net.kernel),
      devconf: ipv6DevconfNetNew(),
    };
  },
};

export function inet6Init(kernel: Kernel): void {
  const h = (_k: Kernel, net: Net) => net.ipv6.sysctl as unknown as Record<string, unknown>;
  kernel.registerSysctl(intSysctl('net.ipv6.bindv6only', true, h, 'bindv6only', { min: 0, max: 1 }));
  kernel.registerSysctl(intSysctl('net.ipv6.auto_flowlabels', true, h, 'auto_flowlabels', { min: 0, max: 3 }));
  kernel.registerSysctl(intSysctl('net.ipv6.icmp.echo_ignore_all', true, h, 'echo_ignore_all', { min: 0, max: 1 }));
  kernel.registerSysctl(intSysctl('net.ipv6.icmp.ratelimit', true, h, 'ratelimit', { min: 0 }));
  registerPernetSubsys(kernel, ipv6NetOps);
  addrconfSysctlInit();
  ip6RouteInit(kernel);
  ip6InputInit(kernel);
  ip6ForwardInit();
  icmpv6Init(kernel);
  addrconfDadInit(kernel);
  ipv6ProcInit();
}
