/**
 * struct net: a network namespace. It has its own devices (lo first, ifindex 1),
 * its own per-namespace sysctls and its own taps; it shares the Kernel's CPUs,
 * backlogs and protocol handlers with every other namespace, as on Linux.
 */

import { IFF, NETDEV } from '../core/if.js';
import { linkwatchInitDev } from '../core/link-watch.js';
import { NETIF_F, NETIF_F_SOFT_FEATURES, NETIF_F_SOFT_FEATURES_OFF } from '../core/netdev-features.js';
import {
  callNetdeviceNotifiers,
  devAllocName,
  devClose,
  devOpen,
  devValidName,
  type ExtAck,
  type NetDevice,
} from '../core/netdevice.js';
import type { PacketType } from '../core/packet-type.js';
import { rtnlLinkNetnsidAlloc } from '../core/rtnetlink.js';
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
    /** /run/netns: namespaces by the names `ip netns` and `new Namespace({ name })` give them. */
    netnsByName: Map<string, Net>;
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
  kernel.netnsByName = new Map();
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
  /** A name in /run/netns, as `ip netns add NAME` gives; it must be free on this kernel. */
  name?: string;
}

/** NETNSA_NSID_NOT_ASSIGNED. */
export const NETNSA_NSID_NOT_ASSIGNED = -1;

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
  /** netns_ids: the ids this namespace gives its peers (`link-netnsid`, `ip netns list-id`). */
  readonly #nsids = new Map<Net, number>();
  /** The /run/netns name, if it has one. */
  name: string | null = null;

  constructor(opts: NetOptions = {}) {
    this.kernel = opts.kernel ?? new Kernel();
    if (opts.name !== undefined) {
      if (this.kernel.netnsByName.has(opts.name)) {
        throw Object.assign(new Error(`Cannot create namespace file "/run/netns/${opts.name}": File exists`), {
          code: 'EEXIST',
        });
      }
      this.name = opts.name;
      this.kernel.netnsByName.set(opts.name, this);
    }
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
    // dev_get_valid_name(): a "name%d" pattern takes the lowest free number.
    if (dev.name.includes('%d')) {
      const name = devAllocName(this, dev.name);
      if (name === null) return -E.ENFILE;
      dev.name = name;
    }
    if (!devValidName(dev.name)) return -E.EINVAL;
    if (this.#byName.has(dev.name)) return -E.EEXIST;
    dev.hwFeatures |= NETIF_F_SOFT_FEATURES | NETIF_F_SOFT_FEATURES_OFF;
    dev.features |= NETIF_F_SOFT_FEATURES;
    dev.wantedFeatures = dev.features & dev.hwFeatures;
    // Users may turn on cache-bypassing copies anywhere but on lo.
    if (!(dev.flags & IFF.LOOPBACK)) dev.hwFeatures |= NETIF_F.NOCACHE_COPY;
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
    linkwatchInitDev(dev);
    callNetdeviceNotifiers(NETDEV.REGISTER, dev);
    return 0;
  }

  /** peernet2id(): the id this namespace gives `peer`, or NETNSA_NSID_NOT_ASSIGNED. */
  peernet2id(peer: Net): number {
    return this.#nsids.get(peer) ?? NETNSA_NSID_NOT_ASSIGNED;
  }

  /** peernet2id_alloc(): the lowest free id, given on first use. */
  peernet2idAlloc(peer: Net): number {
    const id = this.#nsids.get(peer);
    if (id !== undefined) return id;
    if (!peer.alive) return NETNSA_NSID_NOT_ASSIGNED;
    const used = new Set(this.#nsids.values());
    let n = 0;
    while (used.has(n)) n++;
    this.#nsids.set(peer, n);
    return n;
  }

  /** rtnl_net_newid(): -EEXIST if peer has an id already or `id` is taken. */
  setNsid(peer: Net, id: number): number {
    if (this.#nsids.has(peer)) return -E.EEXIST;
    for (const v of this.#nsids.values()) if (v === id) return -E.EEXIST;
    this.#nsids.set(peer, id);
    return 0;
  }

  /** The ids this namespace has given, by id (`ip netns list-id`). */
  get nsids(): [Net, number][] {
    return [...this.#nsids].sort((a, b) => a[1] - b[1]);
  }

  /**
   * __dev_change_net_namespace(): lo and other netns-local devices stay (-EINVAL); a
   * name taken in the target is -EEXIST. The device is closed and unregistered here
   * (addresses and routes go with it), keeps its ifindex there unless taken, and
   * arrives down.
   */
  devChangeNetNamespace(dev: NetDevice, target: Net, extack: ExtAck): number {
    if (dev.netnsImmutable) {
      extack.msg = 'The interface netns is immutable';
      return -E.EINVAL;
    }
    if (dev.regState !== 1 || this.#byIndex.get(dev.ifindex) !== dev) return -E.EINVAL;
    if (target === this) return 0;
    if (!target.alive) return -E.EINVAL;
    if (target.#byName.has(dev.name)) {
      extack.msg = 'An interface with the same name exists in the target netns';
      return -E.EEXIST;
    }
    devClose(dev);
    // dev_shutdown(): its qdiscs go; it arrives with noop, as a new device has.
    dev.qdisc = 'noop';
    dev.txqQdisc = 'noop';
    dev.qdiscSched = null;
    this.#byIndex.delete(dev.ifindex);
    this.#byName.delete(dev.name);
    this.devBaseSeq++;
    callNetdeviceNotifiers(NETDEV.UNREGISTER, dev);
    let ifindex = dev.ifindex;
    if (target.#byIndex.has(ifindex)) {
      do target.#ifindex++;
      while (target.#byIndex.has(target.#ifindex));
      ifindex = target.#ifindex;
    }
    dev.ifindex = ifindex;
    dev.iflink = ifindex;
    dev.net = target;
    target.#byIndex.set(ifindex, dev);
    target.#byName.set(dev.name, dev);
    target.devBaseSeq++;
    callNetdeviceNotifiers(NETDEV.REGISTER, dev);
    rtnlLinkNetnsidAlloc(dev);
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
   * cleanup_net(): default_device_exit_batch first, which walks the devices in reverse
   * (so lo, ifindex 1, goes last) and lets each kind delete its own (veth takes its peer
   * in another namespace along); then the pernet exits in reverse order of init.
   */
  destroy(): void {
    if (!this.#alive) return;
    for (const dev of this.devices.reverse()) {
      if (this.#byIndex.get(dev.ifindex) !== dev) continue;
      const dellink = dev.rtnlLinkOps?.dellink;
      if (dellink !== undefined) dellink(dev);
      else this.unregisterNetdevice(dev);
    }
    const ops = this.kernel.pernetOps;
    for (let i = ops.length - 1; i >= 0; i--) (ops[i] as (typeof ops)[number]).exit?.(this);
    this.ptypeAll.length = 0;
    this.#alive = false;
    if (this.name !== null && this.kernel.netnsByName.get(this.name) === this)
      this.kernel.netnsByName.delete(this.name);
    for (const peer of this.kernel.namespaces) peer.#nsids.delete(this);
    this.kernel.namespaces.delete(this);
    if (this.kernel.initNet === this) this.kernel.initNet = null;
  }
}
