/**
 * net/bridge/br_if.c: enslaving a device (`ip link set X master br0`) and letting it
 * go (`nomaster`, or the device leaving). A port gets the lowest free port number, a
 * path cost from its speed, promiscuous and allmulticast mode, the bridge's
 * rx_handler, a local FDB entry for its address; the bridge's MTU, GSO limits and
 * (unless set by hand) address follow its ports.
 */
import { ARPHRD, GSO_MAX_SEGS, GSO_MAX_SIZE, IFF, IFF_PRIV, NETDEV } from '../../core/if.js';
import {
  callNetdeviceNotifiers,
  devSetAllmulti,
  devSetMtu,
  devSetPromiscuity,
  type ExtAck,
  type NetDevice,
  netdevMasterUpperDevLink,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netdevUpperDevUnlink,
  netifOperUp,
} from '../../core/netdevice.js';
import { E } from '../../include/errno.js';
import { ETH_DATA_LEN } from '../../include/if-ether.js';
import { brFdbAddLocal, brFdbDeleteByPort } from './br-fdb.js';
import { brHandleFrame } from './br-input.js';
import {
  BR_FLAG,
  BR_MAX_PORTS,
  BR_PORT_BITS,
  BR_STATE,
  brFromDev,
  brPortGet,
  brPortSet,
  isValidEtherAddr,
  type NetBridge,
  type NetBridgePort,
} from './br-private.js';
import { brNotifyChangeaddr, brStpDisablePort, brStpEnablePort, brStpRecalculateBridgeId } from './br-stp.js';

/** port_cost(): 802.1D's recommendation for the link speed; 100 when unknown. */
function portCost(dev: NetDevice): number {
  const ks = dev.ethtoolOps?.getLinkKsettings?.(dev);
  if (ks !== undefined) {
    switch (ks.speed) {
      case 10000:
        return 2;
      case 5000:
        return 3;
      case 2500:
        return 4;
      case 1000:
        return 5;
      case 100:
        return 19;
      case 10:
        return 100;
      case -1:
        return 100;
      default:
        if (ks.speed > 10000) return 1;
    }
  }
  if (dev.name.startsWith('lec')) return 7;
  if (dev.name.startsWith('plip')) return 2500;
  return 100;
}

/** br_port_carrier_check(): NETDEV_CHANGE on a port; it joins or leaves forwarding. */
export function brPortCarrierCheck(p: NetBridgePort): void {
  const dev = p.dev;
  const up = dev.running && netifOperUp(dev);
  if (up) p.pathCost = portCost(dev);
  if (!p.br.dev.running) return;
  if (up) {
    if (p.state === BR_STATE.DISABLED) brStpEnablePort(p);
  } else if (p.state !== BR_STATE.DISABLED) brStpDisablePort(p);
}

/** find_portno(): the lowest number no port has (0 is reserved). */
function findPortno(br: NetBridge): number {
  const used = new Set(br.ports.map((p) => p.portNo));
  for (let i = 1; i < BR_MAX_PORTS; i++) if (!used.has(i)) return i;
  return -E.EXFULL;
}

/** br_mtu_auto_adjust(): the smallest port MTU (1500 with none), unless the user set one. */
export function brMtuAutoAdjust(br: NetBridge): void {
  if (br.mtuSetByUser) return;
  let mtu = 0;
  for (const p of br.ports) if (mtu === 0 || mtu > p.dev.mtu) mtu = p.dev.mtu;
  devSetMtu(br.dev, mtu !== 0 ? mtu : ETH_DATA_LEN);
  br.mtuSetByUser = false;
}

/** br_set_gso_limits(): what every port can take. */
function brSetGsoLimits(br: NetBridge): void {
  let size = GSO_MAX_SIZE;
  let segs = GSO_MAX_SEGS;
  for (const p of br.ports) {
    size = Math.min(size, p.dev.tsoMaxSize);
    segs = Math.min(segs, p.dev.tsoMaxSegs);
  }
  const dev = br.dev;
  dev.tsoMaxSize = size;
  dev.tsoMaxSegs = segs;
  if (size < dev.gsoMaxSize) dev.gsoMaxSize = size;
  if (size < dev.gsoIpv4MaxSize) dev.gsoIpv4MaxSize = size;
}

/** br_add_if(). */
export function brAddIf(br: NetBridge, dev: NetDevice, extack: ExtAck): number {
  if (dev.flags & IFF.LOOPBACK || dev.type !== ARPHRD.ETHER || dev.addrLen !== 6 || !isValidEtherAddr(dev.devAddr))
    return -E.EINVAL;
  if (brFromDev(dev) !== null) {
    extack.msg = 'Can not enslave a bridge to a bridge';
    return -E.ELOOP;
  }
  if (dev.master !== null) return -E.EBUSY;
  const portNo = findPortno(br);
  if (portNo < 0) return portNo;
  const p: NetBridgePort = {
    br,
    dev,
    portNo,
    portId: 0,
    priority: 0x8000 >> BR_PORT_BITS,
    pathCost: portCost(dev),
    state: BR_STATE.DISABLED,
    flags: BR_FLAG.LEARNING | BR_FLAG.FLOOD | BR_FLAG.MCAST_FLOOD | BR_FLAG.BCAST_FLOOD,
    designatedRoot: new Uint8Array(6),
    designatedBridge: new Uint8Array(6),
    designatedPort: 0,
    designatedCost: 0,
    topologyChangeAck: 0,
    configPending: 0,
    forwardDelayExpires: 0,
  };
  callNetdeviceNotifiers(NETDEV.JOIN, dev);
  devSetAllmulti(dev, 1);
  let err = netdevRxHandlerRegister(dev, brHandleFrame, p);
  if (err !== 0) {
    devSetAllmulti(dev, -1);
    return err;
  }
  dev.privFlags |= IFF_PRIV.BRIDGE_PORT;
  brPortSet(dev, p);
  err = netdevMasterUpperDevLink(dev, br.dev);
  if (err !== 0) {
    brPortSet(dev, null);
    dev.privFlags &= ~IFF_PRIV.BRIDGE_PORT;
    netdevRxHandlerUnregister(dev);
    devSetAllmulti(dev, -1);
    return err;
  }
  br.ports.unshift(p);
  // br_manage_promisc(): without VLAN filtering every port is promiscuous.
  devSetPromiscuity(dev, 1);
  brFdbAddLocal(br, p, dev.devAddr);
  const changedAddr = brStpRecalculateBridgeId(br);
  if (dev.running && netifOperUp(dev) && br.dev.flags & IFF.UP) brStpEnablePort(p);
  if (changedAddr) brNotifyChangeaddr(br);
  brMtuAutoAdjust(br);
  brSetGsoLimits(br);
  return 0;
}

/** del_nbp(): promiscuity back, disabled, off the list, its FDB entries gone, unlinked. */
function delNbp(p: NetBridgePort): void {
  const br = p.br;
  const dev = p.dev;
  devSetAllmulti(dev, -1);
  devSetPromiscuity(dev, -1);
  brStpDisablePort(p);
  const i = br.ports.indexOf(p);
  if (i >= 0) br.ports.splice(i, 1);
  brFdbDeleteByPort(br, p, true);
  netdevUpperDevUnlink(dev, br.dev);
  dev.privFlags &= ~IFF_PRIV.BRIDGE_PORT;
  netdevRxHandlerUnregister(dev);
  brPortSet(dev, null);
}

/** br_del_if(). */
export function brDelIf(br: NetBridge, dev: NetDevice): number {
  const p = brPortGet(dev);
  if (p === null || p.br !== br) return -E.EINVAL;
  delNbp(p);
  brMtuAutoAdjust(br);
  brSetGsoLimits(br);
  if (brStpRecalculateBridgeId(br)) brNotifyChangeaddr(br);
  return 0;
}

/** br_dev_delete(): every port let go, the FDB emptied, then the bridge unregistered. */
export function brDevDelete(br: NetBridge): void {
  for (const p of [...br.ports]) delNbp(p);
  brFdbDeleteByPort(br, null, true);
  br.dev.net?.unregisterNetdevice(br.dev);
}
