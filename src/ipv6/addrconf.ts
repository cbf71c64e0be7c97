/**
 * net/ipv6/addrconf.c, the part that follows devices: lo gets ::1/128 when it comes up;
 * going down removes every IPv6 address; an MTU below 1280 removes them too, and they
 * come back only with the next up.
 */
import { IFF, NETDEV } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import type { Kernel } from '../kernel/kernel.js';

export const IPV6_MIN_MTU = 1280;

/** IPv6 address scopes as /proc/net/if_inet6 and ifconfig print them (IPV6_ADDR_*). */
export const IPV6_ADDR_SCOPE = {
  GLOBAL: 0x00,
  LOOPBACK: 0x10,
  LINKLOCAL: 0x20,
  SITELOCAL: 0x40,
} as const;

/** struct inet6_ifaddr. */
export interface Inet6Ifaddr {
  addr: Uint8Array;
  prefixlen: number;
  scope: number;
  flags: number;
}

/** struct inet6_dev. */
export interface Inet6Dev {
  dev: NetDevice;
  addrList: Inet6Ifaddr[];
}

export function in6DevGet(dev: NetDevice): Inet6Dev | null {
  return dev.ip6Ptr as Inet6Dev | null;
}

const IFA_F_PERMANENT = 0x80;

function in6addrLoopback(): Uint8Array {
  const a = new Uint8Array(16);
  a[15] = 1;
  return a;
}

function ipv6AddDev(dev: NetDevice): Inet6Dev {
  const idev: Inet6Dev = { dev, addrList: [] };
  dev.ip6Ptr = idev;
  return idev;
}

function notifyInet6addr(idev: Inet6Dev, event: number, ifa: Inet6Ifaddr): void {
  for (const fn of idev.dev.kernel.inet6addrChain) fn(event, ifa, idev);
}

/** ipv6_add_addr(): false if the device already has this address. */
export function ipv6AddAddr(idev: Inet6Dev, ifa: Inet6Ifaddr): boolean {
  if (idev.addrList.some((a) => a.addr.every((b, i) => b === ifa.addr[i]))) return false;
  idev.addrList.push(ifa);
  notifyInet6addr(idev, NETDEV.UP, ifa);
  return true;
}

/** ipv6_del_addr(). */
export function ipv6DelAddr(idev: Inet6Dev, ifa: Inet6Ifaddr): void {
  const i = idev.addrList.indexOf(ifa);
  if (i < 0) return;
  idev.addrList.splice(i, 1);
  notifyInet6addr(idev, NETDEV.DOWN, ifa);
}

/** addrconf_ifdown(): every address goes. */
function addrconfIfdown(idev: Inet6Dev): void {
  while (idev.addrList.length > 0) ipv6DelAddr(idev, idev.addrList[idev.addrList.length - 1] as Inet6Ifaddr);
}

function addrconfNotify(event: number, dev: NetDevice): void {
  let idev = in6DevGet(dev);
  switch (event) {
    case NETDEV.REGISTER:
      if (idev === null && dev.mtu >= IPV6_MIN_MTU) ipv6AddDev(dev);
      break;
    case NETDEV.UP:
      if (dev.mtu < IPV6_MIN_MTU) break;
      idev ??= ipv6AddDev(dev);
      if (dev.flags & IFF.LOOPBACK && !idev.addrList.some((a) => a.addr[15] === 1 && a.prefixlen === 128)) {
        // init_loopback(): ::1/128, scope host.
        ipv6AddAddr(idev, {
          addr: in6addrLoopback(),
          prefixlen: 128,
          scope: IPV6_ADDR_SCOPE.LOOPBACK,
          flags: IFA_F_PERMANENT,
        });
      }
      break;
    case NETDEV.CHANGEMTU:
      if (idev !== null && dev.mtu < IPV6_MIN_MTU) addrconfIfdown(idev);
      break;
    case NETDEV.DOWN:
      if (idev !== null) addrconfIfdown(idev);
      break;
    case NETDEV.UNREGISTER:
      if (idev !== null) addrconfIfdown(idev);
      dev.ip6Ptr = null;
      break;
  }
}

/** addrconf_init(): follow every device's events. */
export function addrconfInit(kernel: Kernel): void {
  kernel.registerNetdevNotifier(addrconfNotify);
}
