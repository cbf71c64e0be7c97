/**
 * net/core/link_watch.c and the carrier calls of net/sched/sch_generic.c: a driver
 * turns carrier on or off, and the link watcher turns that into an RFC 2863 operstate
 * and a NETDEV_CHANGE event. Linux runs the watcher from a workqueue, soon for
 * "urgent" events and within a second for the rest, always after the change that
 * fired it has finished (it needs the RTNL lock). lonet runs it as a microtask: after
 * the operation, before anything else can look.
 */
import type { Kernel } from '../kernel/kernel.js';
import { IF_OPER, NETDEV } from './if.js';
import { callNetdeviceNotifiers, devActivate, devDeactivate, type NetDevice, netifOperUp } from './netdevice.js';

/** dev_get_iflink(): the ifindex of the device this one sits on (its own for most). */
export function devGetIflink(dev: NetDevice): number {
  return dev.netdevOps.ndoGetIflink?.(dev) ?? dev.ifindex;
}

/**
 * default_operstate() (6.18): without carrier a device is LOWERLAYERDOWN only if the
 * device it sits on is in its namespace (looked up by ifindex there) and is not up
 * itself; otherwise DOWN. So a veth whose peer is in another namespace says DOWN.
 * "Up" counts carrier too: Linux computes this later, from a workqueue, by which time
 * a veth peer's own operstate has followed its lost carrier (a 6.18 veth pair both
 * down shows LOWERLAYERDOWN on the end brought up alone).
 */
function defaultOperstate(dev: NetDevice): number {
  if (!dev.carrierOk) {
    const iflink = dev.regState <= 1 ? devGetIflink(dev) : dev.ifindex;
    if (iflink === dev.ifindex) return IF_OPER.DOWN;
    const lower = dev.net?.devGetByIndex(iflink);
    if (lower === undefined) return IF_OPER.DOWN;
    return netifOperUp(lower) && lower.carrierOk ? IF_OPER.DOWN : IF_OPER.LOWERLAYERDOWN;
  }
  if (dev.dormant) return IF_OPER.DORMANT;
  return IF_OPER.UP;
}

/** rfc2863_policy(): IF_LINK_MODE_DORMANT turns UP into DORMANT. */
function rfc2863Policy(dev: NetDevice): void {
  let operstate = defaultOperstate(dev);
  if (operstate === dev.operstate) return;
  if (dev.linkmode === 1 && operstate === IF_OPER.UP) operstate = IF_OPER.DORMANT;
  dev.operstate = operstate;
}

/** linkwatch_init_dev(): at registration, a device without carrier starts LOWERLAYERDOWN/DOWN. */
export function linkwatchInitDev(dev: NetDevice): void {
  if (!dev.carrierOk || dev.dormant) rfc2863Policy(dev);
}

/** lweventlist: devices with an event not yet handled, per kernel. */
const lweventlist = new WeakMap<Kernel, Set<NetDevice>>();

/** linkwatch_fire_event(): queue the device; the watcher runs once the current operation is over. */
export function linkwatchFireEvent(dev: NetDevice): void {
  let list = lweventlist.get(dev.kernel);
  if (list === undefined) {
    list = new Set();
    lweventlist.set(dev.kernel, list);
  }
  if (list.size === 0) queueMicrotask(() => linkwatchRunQueue(dev.kernel));
  list.add(dev);
}

/** __linkwatch_run_queue(): every queued device, in the order their events came. */
export function linkwatchRunQueue(kernel: Kernel): void {
  const list = lweventlist.get(kernel);
  if (list === undefined) return;
  for (const dev of list) {
    list.delete(dev);
    linkwatchDoDev(dev);
  }
}

/** linkwatch_do_dev(): the new operstate, and NETDEV_CHANGE if the device is up. */
function linkwatchDoDev(dev: NetDevice): void {
  if (dev.regState !== 1) return;
  rfc2863Policy(dev);
  if (dev.running) {
    // Carrier decides whether the TX queue takes packets (dev_activate / dev_deactivate).
    if (dev.carrierOk) devActivate(dev);
    else devDeactivate(dev);
    callNetdeviceNotifiers(NETDEV.CHANGE, dev);
  }
}

/** netif_carrier_on(). */
export function netifCarrierOn(dev: NetDevice): void {
  if (dev.carrierOk) return;
  dev.carrierOk = true;
  // A device not yet registered changes state without counting or telling anyone.
  if (dev.regState === 0) return;
  dev.carrierChanges++;
  linkwatchFireEvent(dev);
}

/** netif_carrier_off(). */
export function netifCarrierOff(dev: NetDevice): void {
  if (!dev.carrierOk) return;
  dev.carrierOk = false;
  if (dev.regState === 0) return;
  dev.carrierChanges++;
  linkwatchFireEvent(dev);
}
