/**
 * net/bridge/br_stp.c and br_stp_if.c, the part that runs with STP off (Linux's
 * default): a port that comes up is initialised as designated and goes straight to
 * forwarding (the forward delay timer still runs, to no effect); the bridge has
 * carrier while any port forwards; the bridge id follows the lowest port address
 * unless the user set the bridge's address.
 */
import { NET_ADDR, NETDEV } from '../../core/if.js';
import { netifCarrierOff, netifCarrierOn } from '../../core/link-watch.js';
import { callNetdeviceNotifiers, netifOperUp } from '../../core/netdevice.js';
import { brFdbChangeMacAddress, brFdbDeleteByPort, brGcCancel, brGcSchedule } from './br-fdb.js';
import {
  BR_NO_STP,
  BR_PORT_BITS,
  BR_STATE,
  etherAddrCmp,
  etherAddrEqual,
  type NetBridge,
  type NetBridgePort,
} from './br-private.js';

const STATE_NAMES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;

/** br_make_port_id(). */
function brMakePortId(priority: number, portNo: number): number {
  return (priority << BR_PORT_BITS) | portNo;
}

/** br_set_state() with br_log_state()'s line in the kernel log. */
function brSetState(p: NetBridgePort, state: number, log = true): void {
  p.state = state;
  if (log)
    p.br.dev.kernel.printk(
      'info',
      `${p.br.dev.name}: port ${p.portNo}(${p.dev.name}) entered ${STATE_NAMES[state]} state`,
    );
}

/** br_become_designated_port(). */
function brBecomeDesignatedPort(p: NetBridgePort): void {
  p.designatedRoot = p.br.designatedRoot.slice();
  p.designatedCost = p.br.rootPathCost;
  p.designatedBridge = p.br.bridgeIdAddr.slice();
  p.designatedPort = p.portId;
}

/** br_init_port(): blocking, designated, acks cleared. */
export function brInitPort(p: NetBridgePort): void {
  p.portId = brMakePortId(p.priority, p.portNo);
  brBecomeDesignatedPort(p);
  brSetState(p, BR_STATE.BLOCKING);
  p.topologyChangeAck = 0;
  p.configPending = 0;
}

function brIsDesignatedPort(p: NetBridgePort): boolean {
  return etherAddrEqual(p.designatedBridge, p.br.bridgeIdAddr) && p.designatedPort === p.portId;
}

/** br_make_forwarding(): with STP off, straight to forwarding; the timer is armed anyway. */
function brMakeForwarding(p: NetBridgePort): void {
  const br = p.br;
  if (p.state !== BR_STATE.BLOCKING) return;
  if (br.stpEnabled === BR_NO_STP || br.forwardDelay === 0) brSetState(p, BR_STATE.FORWARDING);
  else brSetState(p, BR_STATE.LISTENING);
  if (br.forwardDelay !== 0) p.forwardDelayExpires = br.dev.kernel.clock.now() + br.forwardDelay;
}

/** br_port_state_selection(): every live port forwards; carrier while one does. */
export function brPortStateSelection(br: NetBridge): void {
  let liveports = 0;
  for (const p of br.ports) {
    if (p.state === BR_STATE.DISABLED) continue;
    if (brIsDesignatedPort(p)) brMakeForwarding(p);
    if (p.state === BR_STATE.FORWARDING) liveports++;
  }
  if (liveports === 0) netifCarrierOff(br.dev);
  else netifCarrierOn(br.dev);
}

/** br_stp_enable_port(). */
export function brStpEnablePort(p: NetBridgePort): void {
  brInitPort(p);
  brPortStateSelection(p.br);
}

/** br_stp_disable_port(): disabled, its learned entries gone. */
export function brStpDisablePort(p: NetBridgePort): void {
  const br = p.br;
  brSetState(p, BR_STATE.DISABLED);
  p.topologyChangeAck = 0;
  p.configPending = 0;
  p.forwardDelayExpires = 0;
  brFdbDeleteByPort(br, p, false);
  brPortStateSelection(br);
}

/** br_stp_enable_bridge() (br_dev_open): the FDB collector starts; ports that are up join. */
export function brStpEnableBridge(br: NetBridge): void {
  brGcSchedule(br, 100e6);
  for (const p of br.ports) if (p.dev.running && netifOperUp(p.dev)) brStpEnablePort(p);
}

/** br_stp_disable_bridge() (br_dev_stop). */
export function brStpDisableBridge(br: NetBridge): void {
  for (const p of br.ports) if (p.state !== BR_STATE.DISABLED) brStpDisablePort(p);
  br.topologyChange = 0;
  br.topologyChangeDetected = 0;
  brGcCancel(br);
}

/**
 * br_stp_change_bridge_id(): the bridge takes `addr` (its device address too), and
 * ports that pointed at the old id follow.
 */
export function brStpChangeBridgeId(br: NetBridge, addr: Uint8Array): void {
  brFdbChangeMacAddress(br, addr);
  const old = br.bridgeIdAddr.slice();
  br.bridgeIdAddr = addr.slice(0, 6);
  br.dev.devAddr.set(addr.subarray(0, 6));
  for (const p of br.ports) {
    if (etherAddrEqual(p.designatedBridge, old)) p.designatedBridge = addr.slice(0, 6);
    if (etherAddrEqual(p.designatedRoot, old)) p.designatedRoot = addr.slice(0, 6);
  }
  // br_configuration_update(): without STP the bridge is its own root.
  br.designatedRoot = br.bridgeIdAddr.slice();
  brPortStateSelection(br);
}

/**
 * br_stp_recalculate_bridge_id(): the lowest port address (all zeros with no port),
 * unless the user chose one. True when it changed.
 */
export function brStpRecalculateBridgeId(br: NetBridge): boolean {
  if (br.dev.addrAssignType === NET_ADDR.SET) return false;
  let addr = new Uint8Array(6);
  let first = true;
  for (const p of br.ports) {
    if (first || etherAddrCmp(p.dev.devAddr, addr) < 0) addr = p.dev.devAddr.slice(0, 6);
    first = false;
  }
  if (etherAddrEqual(br.bridgeIdAddr, addr)) return false;
  brStpChangeBridgeId(br, addr);
  return true;
}

/** The NETDEV_CHANGEADDR a changed bridge address sends. */
export function brNotifyChangeaddr(br: NetBridge): void {
  callNetdeviceNotifiers(NETDEV.CHANGEADDR, br.dev);
}
