/**
 * The boot sequence (init/main.c do_initcalls): every subsystem's initcall, by level, in
 * Linux's order. This is the one module that names every subsystem; Kernel runs what it
 * installs for each Kernel made, so kernel/ imports nothing above itself.
 *
 * Within a level Linux's order is link order; here it is the order below. Pernet
 * operations are ordered apart from this (register_pernet_subsys before every
 * register_pernet_device), so a namespace's protocols are set up before its devices.
 *
 * A new device kind adds its init (which calls rtnlLinkRegister) to the device level.
 */
import { netDevInit } from './core/dev.js';
import { rtnetlinkInit } from './core/rtnetlink.js';
import { sysctlCoreInit } from './core/sysctl-net-core.js';
import { blackholeNetdevInit } from './drivers/blackhole.js';
import { brInit } from './drivers/bridge/br.js';
import { dummyInit } from './drivers/dummy.js';
import { loopbackInit } from './drivers/loopback.js';
import { vethInit } from './drivers/veth.js';
import { SOFTIRQ } from './include/interrupt.js';
import { inetInit } from './ipv4/af-inet.js';
import { devinetInit } from './ipv4/devinet.js';
import { igmpInit } from './ipv4/igmp.js';
import { addrconfInit } from './ipv6/addrconf.js';
import { inet6Init } from './ipv6/af-inet6.js';
import { type Kernel, setBootSequence } from './kernel/kernel.js';
import { netNsInit } from './net/net.js';
import { netTxAction } from './sched/sch-generic.js';
import { tcpInit } from './transport/tcp/rcv.js';
import { udpInit } from './transport/udp.js';
import { udpProcInit } from './transport/udp-proc.js';

type Initcall = (kernel: Kernel) => void;

/** The initcall levels (include/linux/init.h), each in the order its calls run. */
export const initcalls: Readonly<Record<'pure' | 'core' | 'subsys' | 'fs' | 'device' | 'late', readonly Initcall[]>> = {
  // net_ns_init: the namespace list and pernet machinery exist before anything registers.
  pure: [netNsInit],
  // rtnetlink_init (netlink_proto_init): the rtnl_link registry device kinds join.
  core: [rtnetlinkInit],
  // net_dev_init: softnet_data, ptype_base, the netdev chain, NET_RX and NET_TX, lo's pernet device.
  subsys: [netDevInit, (k) => k.openSoftirq(SOFTIRQ.NET_TX, netTxAction), loopbackInit],
  // sysctl_core_init; inet_init (devinet_init via ip_init, igmp_mc_init, then the protocols).
  fs: [sysctlCoreInit, devinetInit, igmpInit, inetInit, udpInit, udpProcInit, tcpInit],
  // module_init of what Linux may build as modules: inet6_init (addrconf_init in it), the drivers.
  device: [addrconfInit, inet6Init, blackholeNetdevInit, vethInit, dummyInit, brInit],
  late: [],
};

/** do_initcalls(). */
export function doInitcalls(kernel: Kernel): void {
  for (const level of Object.values(initcalls)) for (const fn of level) fn(kernel);
}

setBootSequence(doInitcalls);

/** Kernel and Net from here are sure to boot: importing this module installs the sequence. */
export { Kernel } from './kernel/kernel.js';
export { Net } from './net/net.js';
