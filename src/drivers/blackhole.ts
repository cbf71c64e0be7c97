/**
 * blackhole_dev (drivers/net/loopback.c): one global device, never registered in any
 * namespace, always UP. Routes whose device went away point here; what it is given,
 * it drops, with a rate-limited warning.
 */
import { IFF, NETDEV_TX } from '../core/if.js';
import { devActivate, NetDevice, type NetDeviceOps } from '../core/netdevice.js';
import { kfreeSkb, type SkBuff } from '../core/skbuff.js';
import { ETH_MIN_MTU } from '../include/if-ether.js';
import type { Kernel } from '../kernel/kernel.js';
import { genLoSetup } from './loopback.js';

function blackholeNetdevXmit(skb: SkBuff, dev: NetDevice): number {
  kfreeSkb(skb);
  dev.kernel.netWarnRatelimited('blackhole_netdev_xmit(): Dropping skb.');
  return NETDEV_TX.OK;
}

const blackholeNetdevOps: NetDeviceOps = { ndoStartXmit: blackholeNetdevXmit };

/** blackhole_netdev_init() (a device_initcall): UP|RUNNING from the start, MTU ETH_MIN_MTU. */
export function blackholeNetdevInit(kernel: Kernel): void {
  const dev = new NetDevice(
    kernel,
    'blackhole_dev',
    (d) => genLoSetup(d, ETH_MIN_MTU, null, null, blackholeNetdevOps, null),
    blackholeNetdevOps,
  );
  devActivate(dev);
  dev.flags |= IFF.UP | IFF.RUNNING;
  kernel.blackholeDev = dev;
}
