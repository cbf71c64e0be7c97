/**
 * net/ipv4/devinet.c: a device's IPv4 addresses (struct in_device, struct in_ifaddr)
 * and how they follow the device: lo gets 127.0.0.1/8 when it comes up; going down
 * keeps addresses; an MTU below 68 destroys IPv4 on the device, and raising it again
 * brings back an empty in_device that the next up fills.
 */
import { IFF, NETDEV } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import type { Kernel } from '../kernel/kernel.js';

/** rtm_scope values (include/uapi/linux/rtnetlink.h). */
export const RT_SCOPE = {
  UNIVERSE: 0,
  SITE: 200,
  LINK: 253,
  HOST: 254,
  NOWHERE: 255,
} as const;

/** IFA_F_* address flags (include/uapi/linux/if_addr.h). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

export const INFINITY_LIFE_TIME = 0xffffffff;
const INADDR_LOOPBACK = 0x7f000001;
/** The least MTU IPv4 works over (inetdev_valid_mtu). */
export const IPV4_MIN_MTU = 68;

/** struct in_ifaddr. Addresses are u32 in host order. */
export interface InIfaddr {
  local: number;
  address: number;
  prefixlen: number;
  mask: number;
  broadcast: number;
  scope: number;
  flags: number;
  label: string;
  validLft: number;
  preferredLft: number;
}

/** struct in_device. */
export interface InDevice {
  dev: NetDevice;
  /** Primary addresses before secondaries, in insertion order, as Linux keeps them. */
  ifaList: InIfaddr[];
}

export function inDevGet(dev: NetDevice): InDevice | null {
  return dev.ipPtr as InDevice | null;
}

/** inet_make_mask(). */
export function inetMakeMask(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (~0 << (32 - prefixlen)) >>> 0;
}

/** Dotted quad of a host-order u32. */
export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

function inetdevInit(dev: NetDevice): InDevice {
  const inDev: InDevice = { dev, ifaList: [] };
  dev.ipPtr = inDev;
  return inDev;
}

function inetdevDestroy(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (inDev === null) return;
  // inetdev_destroy(): every address is deleted, with its notifications, before the device forgets IPv4.
  while (inDev.ifaList.length > 0) inetDelIfa(inDev, inDev.ifaList[0] as InIfaddr);
  dev.ipPtr = null;
}

/**
 * __inet_insert_ifa(): a second address in an existing subnet becomes secondary;
 * the same address twice is refused (EEXIST), which is why lo's 127.0.0.1 is not
 * doubled by down/up.
 */
export function inetInsertIfa(inDev: InDevice, ifa: InIfaddr): boolean {
  for (const other of inDev.ifaList) {
    if (other.mask === ifa.mask && ((other.address ^ ifa.address) & ifa.mask) === 0) {
      if (other.local === ifa.local) return false;
      ifa.flags |= IFA_F.SECONDARY;
    }
  }
  if (ifa.flags & IFA_F.SECONDARY) inDev.ifaList.push(ifa);
  else {
    const firstSecondary = inDev.ifaList.findIndex((i) => i.flags & IFA_F.SECONDARY);
    inDev.ifaList.splice(firstSecondary < 0 ? inDev.ifaList.length : firstSecondary, 0, ifa);
  }
  notifyInetaddr(inDev, NETDEV.UP, ifa);
  return true;
}

function notifyInetaddr(inDev: InDevice, event: number, ifa: InIfaddr): void {
  for (const fn of inDev.dev.kernel.inetaddrChain) fn(event, ifa, inDev);
}

/**
 * __inet_del_ifa(): with promote_secondaries off (the default), deleting a primary
 * address takes the secondaries of its subnet with it.
 */
export function inetDelIfa(inDev: InDevice, ifa: InIfaddr): void {
  const i = inDev.ifaList.indexOf(ifa);
  if (i < 0) return;
  const gone = [ifa];
  if (!(ifa.flags & IFA_F.SECONDARY)) {
    for (const o of inDev.ifaList) {
      if (o.flags & IFA_F.SECONDARY && o.mask === ifa.mask && ((o.address ^ ifa.address) & ifa.mask) === 0)
        gone.push(o);
    }
  }
  inDev.ifaList = inDev.ifaList.filter((o) => !gone.includes(o));
  // Secondaries first, then the primary, as __inet_del_ifa announces them.
  for (const o of gone.reverse()) notifyInetaddr(inDev, NETDEV.DOWN, o);
}

function inetdevEvent(event: number, dev: NetDevice): void {
  let inDev = inDevGet(dev);
  if (inDev === null) {
    if (event === NETDEV.REGISTER || (event === NETDEV.CHANGEMTU && dev.mtu >= IPV4_MIN_MTU)) inetdevInit(dev);
    return;
  }
  switch (event) {
    case NETDEV.UP:
      if (dev.mtu < IPV4_MIN_MTU) break;
      if (dev.flags & IFF.LOOPBACK) {
        inDev ??= inetdevInit(dev);
        inetInsertIfa(inDev, {
          local: INADDR_LOOPBACK,
          address: INADDR_LOOPBACK,
          prefixlen: 8,
          mask: inetMakeMask(8),
          broadcast: 0,
          scope: RT_SCOPE.HOST,
          flags: IFA_F.PERMANENT,
          label: dev.name,
          validLft: INFINITY_LIFE_TIME,
          preferredLft: INFINITY_LIFE_TIME,
        });
      }
      break;
    case NETDEV.CHANGEMTU:
      // Not enough MTU for IPv4: it goes from the device, addresses and all.
      if (dev.mtu < IPV4_MIN_MTU) inetdevDestroy(dev);
      break;
    case NETDEV.CHANGENAME:
      // Labels follow the device name; an alias keeps its ":suffix".
      for (const ifa of inDev.ifaList) {
        const colon = ifa.label.indexOf(':');
        ifa.label = colon < 0 ? dev.name : dev.name + ifa.label.slice(colon);
      }
      break;
    case NETDEV.UNREGISTER:
      inetdevDestroy(dev);
      break;
  }
}

/** devinet_init(): follow every device's events. */
export function devinetInit(kernel: Kernel): void {
  kernel.registerNetdevNotifier(inetdevEvent);
}
