/** Device constants with the kernel's values (include/uapi/linux/if.h, if_arp.h, netdevice.h). */

/** net_device_flags: what SIOCGIFFLAGS and `ip link` report. */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** netdev_priv_flags (include/linux/netdevice.h): never shown to users. */
export const IFF_PRIV = {
  EBRIDGE: 1 << 1,
  XMIT_DST_RELEASE: 1 << 5,
  BRIDGE_PORT: 1 << 9,
  TX_SKB_SHARING: 1 << 11,
  LIVE_ADDR_CHANGE: 1 << 15,
  XMIT_DST_RELEASE_PERM: 1 << 17,
  NO_QUEUE: 1 << 19,
} as const;

/** ARPHRD_* device types. */
export const ARPHRD = {
  ETHER: 1,
  LOOPBACK: 772,
  NONE: 0xfffe,
  VOID: 0xffff,
} as const;

/** RFC 2863 operational states (IF_OPER_*). */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

export const IF_OPER_NAMES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const;

/** ndo_start_xmit results. */
export const NETDEV_TX = { OK: 0x00, BUSY: 0x10 } as const;

/** netif_rx / packet handler results. */
export const NET_RX = { SUCCESS: 0, DROP: 1 } as const;

/** rx_handler_result (include/linux/netdevice.h): what a device's rx_handler did with a frame. */
export const RX_HANDLER = { CONSUMED: 0, ANOTHER: 1, EXACT: 2, PASS: 3 } as const;

/** netdevice notifier events (include/linux/netdevice.h). */
export const NETDEV = {
  UP: 1,
  DOWN: 2,
  REBOOT: 3,
  CHANGE: 4,
  REGISTER: 5,
  UNREGISTER: 6,
  CHANGEMTU: 7,
  CHANGEADDR: 8,
  PRE_CHANGEADDR: 9,
  GOING_DOWN: 10,
  CHANGENAME: 11,
  FEAT_CHANGE: 12,
  PRE_UP: 13,
  PRE_TYPE_CHANGE: 14,
  POST_TYPE_CHANGE: 15,
  POST_INIT: 16,
  PRE_UNINIT: 17,
  RELEASE: 18,
  NOTIFY_PEERS: 19,
  JOIN: 20,
  CHANGEUPPER: 21,
  RESEND_IGMP: 22,
  PRECHANGEMTU: 23,
  CHANGEINFODATA: 24,
  BONDING_INFO: 25,
  PRECHANGEUPPER: 26,
  CHANGELOWERSTATE: 27,
  UDP_TUNNEL_PUSH_INFO: 28,
  UDP_TUNNEL_DROP_INFO: 29,
  CHANGE_TX_QUEUE_LEN: 30,
} as const;

/** dev->addr_assign_type. */
export const NET_ADDR = { PERM: 0, RANDOM: 1, STOLEN: 2, SET: 3 } as const;

/** Limits from include/linux/netdevice.h and if_ether.h. */
export const IFNAMSIZ = 16;
export const LOOPBACK_IFINDEX = 1;
export const XMIT_RECURSION_LIMIT = 8;
export const GSO_MAX_SIZE = 524280;
export const GSO_LEGACY_MAX_SIZE = 65536;
export const GSO_MAX_SEGS = 65535;
export const TSO_LEGACY_MAX_SIZE = 65536;
