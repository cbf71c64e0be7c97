/**
 * net/ethernet/eth.c's device helpers: ether_setup() for any Ethernet-like device and
 * eth_hw_addr_random().
 */
import { ARPHRD, IFF, NET_ADDR } from '../core/if.js';
import type { NetDevice } from '../core/netdevice.js';
import { ETH_ALEN, ETH_DATA_LEN, ETH_HLEN, ETH_MIN_MTU } from '../include/if-ether.js';
import { getRandomU32 } from '../kernel/random.js';
import { ethHeaderOps } from './ethernet.js';

/** ether_setup(): Ethernet type, header ops, MTU 1500 (68..1500), broadcast ff:…:ff. */
export function etherSetup(dev: NetDevice): void {
  dev.headerOps = ethHeaderOps;
  dev.type = ARPHRD.ETHER;
  dev.hardHeaderLen = ETH_HLEN;
  dev.minHeaderLen = ETH_HLEN;
  dev.mtu = ETH_DATA_LEN;
  dev.minMtu = ETH_MIN_MTU;
  dev.maxMtu = ETH_DATA_LEN;
  dev.addrLen = ETH_ALEN;
  dev.txQueueLen = 1000;
  dev.flags = IFF.BROADCAST | IFF.MULTICAST;
  dev.broadcast.fill(0xff, 0, ETH_ALEN);
}

/** eth_hw_addr_random(): a random unicast, locally administered address. */
export function ethHwAddrRandom(dev: NetDevice): void {
  const a = getRandomU32();
  const b = getRandomU32();
  const mac = [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24, b & 0xff, (b >>> 8) & 0xff];
  mac[0] = ((mac[0] as number) & 0xfe) | 0x02;
  dev.devAddr.set(mac);
  dev.addrAssignType = NET_ADDR.RANDOM;
}
