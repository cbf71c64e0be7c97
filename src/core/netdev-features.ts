/**
 * netdev_features_t (include/linux/netdev_features.h). Bit positions and the
 * ETH_SS_FEATURES names are those of Linux 6.18, read off a running 6.18 kernel
 * with ETHTOOL_GSTRINGS; positions 2, 12, 13 and 32 are unused there.
 */

export type NetdevFeatures = bigint;

/** [bit, ethtool feature string], in bit order. */
export const NETDEV_FEATURE_NAMES: readonly (readonly [number, string])[] = [
  [0, 'tx-scatter-gather'],
  [1, 'tx-checksum-ipv4'],
  [3, 'tx-checksum-ip-generic'],
  [4, 'tx-checksum-ipv6'],
  [5, 'highdma'],
  [6, 'tx-scatter-gather-fraglist'],
  [7, 'tx-vlan-hw-insert'],
  [8, 'rx-vlan-hw-parse'],
  [9, 'rx-vlan-filter'],
  [10, 'vlan-challenged'],
  [11, 'tx-generic-segmentation'],
  [14, 'rx-gro'],
  [15, 'rx-lro'],
  [16, 'tx-tcp-segmentation'],
  [17, 'tx-gso-robust'],
  [18, 'tx-tcp-ecn-segmentation'],
  [19, 'tx-tcp-mangleid-segmentation'],
  [20, 'tx-tcp6-segmentation'],
  [21, 'tx-fcoe-segmentation'],
  [22, 'tx-gre-segmentation'],
  [23, 'tx-gre-csum-segmentation'],
  [24, 'tx-ipxip4-segmentation'],
  [25, 'tx-ipxip6-segmentation'],
  [26, 'tx-udp_tnl-segmentation'],
  [27, 'tx-udp_tnl-csum-segmentation'],
  [28, 'tx-gso-partial'],
  [29, 'tx-tunnel-remcsum-segmentation'],
  [30, 'tx-sctp-segmentation'],
  [31, 'tx-esp-segmentation'],
  [33, 'tx-udp-segmentation'],
  [34, 'tx-gso-list'],
  [35, 'tx-tcp-accecn-segmentation'],
  [36, 'tx-checksum-fcoe-crc'],
  [37, 'tx-checksum-sctp'],
  [38, 'rx-ntuple-filter'],
  [39, 'rx-hashing'],
  [40, 'rx-checksum'],
  [41, 'tx-nocache-copy'],
  [42, 'loopback'],
  [43, 'rx-fcs'],
  [44, 'rx-all'],
  [45, 'tx-vlan-stag-hw-insert'],
  [46, 'rx-vlan-stag-hw-parse'],
  [47, 'rx-vlan-stag-filter'],
  [48, 'l2-fwd-offload'],
  [49, 'hw-tc-offload'],
  [50, 'esp-hw-offload'],
  [51, 'esp-tx-csum-hw-offload'],
  [52, 'rx-udp_tunnel-port-offload'],
  [53, 'tls-hw-tx-offload'],
  [54, 'tls-hw-rx-offload'],
  [55, 'rx-gro-hw'],
  [56, 'tls-hw-record'],
  [57, 'rx-gro-list'],
  [58, 'macsec-hw-offload'],
  [59, 'rx-udp-gro-forwarding'],
  [60, 'hsr-tag-ins-offload'],
  [61, 'hsr-tag-rm-offload'],
  [62, 'hsr-fwd-offload'],
  [63, 'hsr-dup-offload'],
];

const bit = (n: number): bigint => 1n << BigInt(n);

/** NETIF_F_* masks, kernel bit positions. */
export const NETIF_F = {
  SG: bit(0),
  IP_CSUM: bit(1),
  HW_CSUM: bit(3),
  IPV6_CSUM: bit(4),
  HIGHDMA: bit(5),
  FRAGLIST: bit(6),
  HW_VLAN_CTAG_TX: bit(7),
  HW_VLAN_CTAG_RX: bit(8),
  HW_VLAN_CTAG_FILTER: bit(9),
  VLAN_CHALLENGED: bit(10),
  GSO: bit(11),
  GRO: bit(14),
  LRO: bit(15),
  TSO: bit(16),
  GSO_ROBUST: bit(17),
  TSO_ECN: bit(18),
  TSO_MANGLEID: bit(19),
  TSO6: bit(20),
  FSO: bit(21),
  GSO_GRE: bit(22),
  GSO_GRE_CSUM: bit(23),
  GSO_IPXIP4: bit(24),
  GSO_IPXIP6: bit(25),
  GSO_UDP_TUNNEL: bit(26),
  GSO_UDP_TUNNEL_CSUM: bit(27),
  GSO_PARTIAL: bit(28),
  GSO_SCTP: bit(30),
  GSO_UDP_L4: bit(33),
  GSO_FRAGLIST: bit(34),
  GSO_ACCECN: bit(35),
  FCOE_CRC: bit(36),
  SCTP_CRC: bit(37),
  NTUPLE: bit(38),
  RXHASH: bit(39),
  RXCSUM: bit(40),
  NOCACHE_COPY: bit(41),
  LOOPBACK: bit(42),
  RXFCS: bit(43),
  RXALL: bit(44),
  HW_VLAN_STAG_TX: bit(45),
  HW_VLAN_STAG_RX: bit(46),
  GRO_FRAGLIST: bit(57),
  GRO_UDP_FWD: bit(59),
} as const;

/** NETIF_F_ALL_TSO: the classic TCP segmentation bits (AccECN stands apart in 6.18). */
export const NETIF_F_ALL_TSO = NETIF_F.TSO | NETIF_F.TSO6 | NETIF_F.TSO_ECN | NETIF_F.TSO_MANGLEID;

/** NETIF_F_GSO_SOFTWARE: what the stack can segment itself, so lo offers all of it. */
export const NETIF_F_GSO_SOFTWARE =
  NETIF_F_ALL_TSO | NETIF_F.GSO_ACCECN | NETIF_F.GSO_SCTP | NETIF_F.GSO_UDP_L4 | NETIF_F.GSO_FRAGLIST;

/** NETIF_F_GSO_ENCAP_ALL: segmentation of tunnelled packets. */
export const NETIF_F_GSO_ENCAP_ALL =
  NETIF_F.GSO_GRE |
  NETIF_F.GSO_GRE_CSUM |
  NETIF_F.GSO_IPXIP4 |
  NETIF_F.GSO_IPXIP6 |
  NETIF_F.GSO_UDP_TUNNEL |
  NETIF_F.GSO_UDP_TUNNEL_CSUM;

/** Software features register_netdevice turns on for every device (NETIF_F_SOFT_FEATURES)... */
export const NETIF_F_SOFT_FEATURES = NETIF_F.GSO | NETIF_F.GRO;
/** ...and those it offers but leaves off (NETIF_F_SOFT_FEATURES_OFF). */
export const NETIF_F_SOFT_FEATURES_OFF = NETIF_F.GRO_FRAGLIST | NETIF_F.GRO_UDP_FWD;

/** Features a user may never change (NETIF_F_NEVER_CHANGE). */
export const NETIF_F_NEVER_CHANGE = NETIF_F.VLAN_CHALLENGED;

export function hasFeature(features: NetdevFeatures, f: NetdevFeatures): boolean {
  return (features & f) !== 0n;
}

export function featureByName(name: string): bigint | undefined {
  const e = NETDEV_FEATURE_NAMES.find(([, n]) => n === name);
  return e === undefined ? undefined : bit(e[0]);
}
