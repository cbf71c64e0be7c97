/**
 * struct net: a network namespace. It has its own devices (lo first, ifindex 1),
 * its own per-namespace sysctls and its own taps; it shares the Kernel's CPUs,
 * backlogs and protocol handlers with every other namespace, as on Linux.
 */

import { NETDEV } from '../core/if.js';
import { NETIF_F_SOFT_FEATURES, NETIF_F_SOFT_FEATURES_OFF } from '../core/netdev-features.js';
import { callNetdeviceNotifiers, devClose, devOpen, devValidName, type NetDevice } from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import { type NetCorePerNet, perNetCoreDefaults } from '../core/sysctl-net-core.js';
import { E } from '../include/errno.js';
import type { NetnsIpv4 } from '../ipv4/netns.js';
import type { NetnsIpv6 } from '../ipv6/netns.js';
import { Kernel } from '../kernel/kernel.js';

/** struct pernet_operations: what a subsystem or a device does when a namespace is made or destroyed. */
export interface PernetOperations {
  name: string;
  init(net: Net): void;
  exit?(net: Net): void;
}

declare module '../kernel/kernel.js' {
  interface Kernel {
    /** net_namespace_list: every namespace alive on this kernel. */
    namespaces: Set<Net>;
    /** init_net: the first namespace made on this kernel; it alone sees the global sysctls. */
    initNet: Net | null;
    /** pernet_list: subsystems' operations first, then devices' (from first_device on). */
    pernetOps: PernetOperations[];
    /** Where first_device points in pernetOps. */
    pernetFirstDevice: number;
  }
}

type NetStruct = Net;
declare module '../kernel/sysctl.js' {
  interface Net extends NetStruct {}
}

/** net_ns_init() (a pure_initcall): the namespace list, empty until the first Net. */
export function netNsInit(kernel: Kernel): void {
  kernel.namespaces = new Set();
  kernel.initNet = null;
  kernel.pernetOps = [];
  kernel.pernetFirstDevice = 0;
}

/**
 * register_pernet_subsys(): goes before every device's operations, so a namespace's
 * protocol state exists before its devices register; runs init for the namespaces
 * that exist already.
 */
export function registerPernetSubsys(kernel: Kernel, ops: PernetOperations): void {
  kernel.pernetOps.splice(kernel.pernetFirstDevice++, 0, ops);
  for (const net of kernel.namespaces) ops.init(net);
}

/** register_pernet_device(): after every subsystem, in registration order. */
export function registerPernetDevice(kernel: Kernel, ops: PernetOperations): void {
  kernel.pernetOps.push(ops);
  for (const net of kernel.namespaces) ops.init(net);
}

export interface NetOptions {
  /** The host to run on; by default a new Kernel of its own, of which this is init_net. */
  kernel?: Kernel;
  /**
   * A bare namespace, as `ip netns add` makes: lo DOWN with no addresses. By default
   * the namespace is as a booted host leaves it: lo UP with 127.0.0.1/8 and ::1/128.
   */
  bare?: boolean;
}

export class Net {
  readonly kernel: Kernel;
  /** A number unique on this kernel (the netns inode, in spirit). */
  readonly id: number;
  /** Per-namespace net.core sysctls. */
  readonly core: NetCorePerNet;
  /** Taps on every device of this namespace (net->ptype_all). */
  readonly ptypeAll: PacketType[] = [];
  loopbackDev: NetDevice | null = null;
  /** struct netns_ipv4, set up by the ipv4 pernet init. */
  ipv4!: NetnsIpv4;
  /** struct netns_ipv6, set up by the ipv6 pernet init. */
  ipv6!: NetnsIpv6;
  /** Bumped on every device change (dev_base_seq), so caches can tell they are stale. */
  devBaseSeq = 0;
  #byIndex = new Map<number, NetDevice>();
  #byName = new Map<string, NetDevice>();
  #ifindex = 0;
  #alive = true;

  constructor(opts: NetOptions = {}) {
    this.kernel = opts.kernel ?? new Kernel();
    this.id = this.kernel.allocNetId();
    this.core = perNetCoreDefaults();
    this.kernel.initNet ??= this;
    this.kernel.namespaces.add(this);
    for (const ops of this.kernel.pernetOps) ops.init(this);
    if (opts.bare !== true && this.loopbackDev !== null) devOpen(this.loopbackDev);
  }

  get isInitNet(): boolean {
    return this.kernel.initNet === this;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Devices in ifindex order, as `ip link` lists them. */
  get devices(): NetDevice[] {
    return [...this.#byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** The namespace's lo. Present from creation until destroy(). */
  get lo(): NetDevice {
    if (this.loopbackDev === null) throw new Error('this namespace has been destroyed');
    return this.loopbackDev;
  }

  devGetByName(name: string): NetDevice | undefined {
    return this.#byName.get(name);
  }

  devGetByIndex(ifindex: number): NetDevice | undefined {
    return this.#byIndex.get(ifindex);
  }

  /**
   * register_netdevice(): check the name, give the next free ifindex, turn on the
   * software features every device gets, run ndo_init and tell the notifiers.
   */
  registerNetdevice(dev: NetDevice): number {
    if (!this.#alive) return -E.ENODEV;
    if (!devValidName(dev.name)) return -E.EINVAL;
    if (this.#byName.has(dev.name)) return -E.EEXIST;
    dev.hwFeatures |= NETIF_F_SOFT_FEATURES | NETIF_F_SOFT_FEATURES_OFF;
    dev.features |= NETIF_F_SOFT_FEATURES;
    dev.wantedFeatures = dev.features & dev.hwFeatures;
    const err = dev.netdevOps.ndoInit?.(dev) ?? 0;
    if (err !== 0) return err;
    do this.#ifindex++;
    while (this.#byIndex.has(this.#ifindex));
    dev.ifindex = this.#ifindex;
    dev.iflink = dev.ifindex;
    dev.net = this;
    dev.regState = 1;
    this.#byIndex.set(dev.ifindex, dev);
    this.#byName.set(dev.name, dev);
    this.devBaseSeq++;
    callNetdeviceNotifiers(NETDEV.REGISTER, dev);
    return 0;
  }

  /** unregister_netdevice(): close it, tell the notifiers, forget it, free it. */
  unregisterNetdevice(dev: NetDevice): void {
    if (this.#byIndex.get(dev.ifindex) !== dev) return;
    devClose(dev);
    dev.regState = 2;
    callNetdeviceNotifiers(NETDEV.UNREGISTER, dev);
    this.#byIndex.delete(dev.ifindex);
    this.#byName.delete(dev.name);
    this.devBaseSeq++;
    dev.ptypeAll.length = 0;
    dev.regState = 3;
    dev.privDestructor?.(dev);
  }

  /** The rename half of dev_change_name(); the caller has checked the new name. */
  renameDevice(dev: NetDevice, name: string): void {
    this.#byName.delete(dev.name);
    dev.name = name;
    this.#byName.set(name, dev);
    this.devBaseSeq++;
  }

  /**
   * cleanup_net(): pernet exits in reverse order of init; every other device goes
   * before lo, which is unregistered last.
   */
  destroy(): void {
    if (!this.#alive) return;
    const ops = this.kernel.pernetOps;
    for (let i = ops.length - 1; i >= 0; i--) (ops[i] as (typeof ops)[number]).exit?.(this);
    for (const dev of this.devices.reverse()) if (dev !== this.loopbackDev) this.unregisterNetdevice(dev);
    if (this.loopbackDev !== null) this.unregisterNetdevice(this.loopbackDev);
    this.ptypeAll.length = 0;
    this.#alive = false;
    this.kernel.namespaces.delete(this);
    if (this.kernel.initNet === this) this.kernel.initNet = null;
  }
}
