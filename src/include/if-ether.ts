/** include/uapi/linux/if_ether.h */
export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const ETH_DATA_LEN = 1500;
export const ETH_FRAME_LEN = 1514;
export const ETH_MIN_MTU = 68;
export const ETH_MAX_MTU = 0xffff;

export const ETH_P = {
  /** Dummy type for 802.3 frames */
  ETH_802_3: 0x0001,
  /** 802.2 frames */
  ETH_802_2: 0x0004,
  IP: 0x0800,
  ARP: 0x0806,
  IPV6: 0x86dd,
  /** Every packet: what taps (packet sockets with ETH_P_ALL) register for. */
  ALL: 0x0003,
  /** Values below this are 802.3 lengths, not ethertypes. */
  ETH_802_3_MIN: 0x0600,
} as const;
