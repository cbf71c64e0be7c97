/**
 * The kernel side of ethtool (net/ethtool/: ioctl.c, linkstate.c, tsinfo.c, features.c)
 * and the feature logic of net/core/dev.c it drives (__netdev_update_features,
 * netdev_fix_features). Tools ask through these functions, never by poking at the
 * device, so what they print is what the kernel would answer.
 */
import { E } from '../include/errno.js';
import { NETDEV } from './if.js';
import { NETDEV_FEATURE_NAMES, NETIF_F, NETIF_F_NEVER_CHANGE, type NetdevFeatures } from './netdev-features.js';
import { callNetdeviceNotifiers, type EthtoolTsInfo, type ExtAck, type NetDevice } from './netdevice.js';

/** NETDEV_FEATURE_COUNT: the size of the ETH_SS_FEATURES string set on 6.18. */
export const NETDEV_FEATURE_COUNT = 64;

/** Features ethtool may ask to change: all of them but NETIF_F_NEVER_CHANGE. */
export const NETIF_F_ETHTOOL_BITS = ((1n << BigInt(NETDEV_FEATURE_COUNT)) - 1n) & ~NETIF_F_NEVER_CHANGE;

const bit = (n: number): bigint => 1n << BigInt(n);

/** Feature bits netdev_fix_features() reasons about that netdev-features.ts does not name. */
const F = {
  HW_TLS_TX: bit(53),
  HW_TLS_RX: bit(54),
  GRO_HW: bit(55),
} as const;

/**
 * The ETH_SS_FEATURES string set, indexed by bit: unused bits have an empty name, as
 * ETHTOOL_GSTRINGS returns them.
 */
export const netdevFeaturesStrings: readonly string[] = (() => {
  const names = new Array<string>(NETDEV_FEATURE_COUNT).fill('');
  for (const [b, name] of NETDEV_FEATURE_NAMES) names[b] = name;
  return names;
})();

/** __ethtool_get_link(): a device that is not running has no link, whatever the driver says. */
export function ethtoolGetLink(dev: NetDevice): number {
  const getLink = dev.ethtoolOps?.getLink;
  if (getLink === undefined) return -E.EOPNOTSUPP;
  if (!dev.running) return 0;
  return getLink(dev);
}

/** SOF_TIMESTAMPING_* (include/uapi/linux/net_tstamp.h). */
export const SOF_TIMESTAMPING = {
  TX_HARDWARE: 1 << 0,
  TX_SOFTWARE: 1 << 1,
  RX_HARDWARE: 1 << 2,
  RX_SOFTWARE: 1 << 3,
  SOFTWARE: 1 << 4,
  SYS_HARDWARE: 1 << 5,
  RAW_HARDWARE: 1 << 6,
  OPT_ID: 1 << 7,
  TX_SCHED: 1 << 8,
  TX_ACK: 1 << 9,
  OPT_CMSG: 1 << 10,
  OPT_TSONLY: 1 << 11,
  OPT_STATS: 1 << 12,
  OPT_PKTINFO: 1 << 13,
  OPT_TX_SWHW: 1 << 14,
  BIND_PHC: 1 << 15,
  OPT_ID_TCP: 1 << 16,
  OPT_RX_FILTER: 1 << 17,
  TX_COMPLETION: 1 << 18,
} as const;

/**
 * __ethtool_get_ts_info(): the driver's answer, or ethtool_op_get_ts_info()'s default
 * (software receive stamps, no PHC) for drivers that have no get_ts_info.
 */
export function ethtoolGetTsInfo(dev: NetDevice, info: EthtoolTsInfo): number {
  info.soTimestamping = 0;
  info.phcIndex = -1;
  info.txTypes = 0;
  info.rxFilters = 0;
  const getTsInfo = dev.ethtoolOps?.getTsInfo;
  if (getTsInfo === undefined) {
    info.soTimestamping = SOF_TIMESTAMPING.RX_SOFTWARE | SOF_TIMESTAMPING.SOFTWARE;
    return 0;
  }
  return getTsInfo(dev, info);
}

/** What ETHTOOL_MSG_FEATURES_GET reports (features_prepare_data()). */
export interface FeaturesInfo {
  /** ETHTOOL_A_FEATURES_HW: what a user may change. */
  hw: NetdevFeatures;
  /** ETHTOOL_A_FEATURES_WANTED: what the user asked for. */
  wanted: NetdevFeatures;
  /** ETHTOOL_A_FEATURES_ACTIVE: what is on. */
  active: NetdevFeatures;
  /** ETHTOOL_A_FEATURES_NOCHANGE: what nobody may change. */
  nochange: NetdevFeatures;
}

export function ethnlFeaturesGet(dev: NetDevice): FeaturesInfo {
  return {
    hw: dev.hwFeatures,
    wanted: dev.wantedFeatures,
    active: dev.features,
    nochange: NETIF_F_NEVER_CHANGE,
  };
}

/** netdev_get_wanted_features(): fixed features as they are, changeable ones as wanted. */
export function netdevGetWantedFeatures(dev: NetDevice): NetdevFeatures {
  return (dev.features & ~dev.hwFeatures) | dev.wantedFeatures;
}

/**
 * netdev_fix_features(): drop combinations the stack cannot honour. Only the rules a
 * software device can reach are here (no upper/lower devices, no GSO partial).
 */
export function netdevFixFeatures(_dev: NetDevice, features: NetdevFeatures): NetdevFeatures {
  const has = (f: bigint) => (features & f) !== 0n;
  // Fix illegal checksum combinations.
  if (has(NETIF_F.HW_CSUM) && has(NETIF_F.IP_CSUM | NETIF_F.IPV6_CSUM)) {
    features &= ~(NETIF_F.IP_CSUM | NETIF_F.IPV6_CSUM);
  }
  // TSO requires that SG is present as well.
  const allTso = NETIF_F.TSO | NETIF_F.TSO6 | NETIF_F.TSO_ECN | NETIF_F.TSO_MANGLEID | NETIF_F.GSO_ACCECN;
  if (has(allTso) && !has(NETIF_F.SG)) features &= ~allTso;
  if (has(NETIF_F.TSO) && !has(NETIF_F.HW_CSUM) && !has(NETIF_F.IP_CSUM)) {
    features &= ~(NETIF_F.TSO | NETIF_F.TSO_ECN);
  }
  if (has(NETIF_F.TSO6) && !has(NETIF_F.HW_CSUM) && !has(NETIF_F.IPV6_CSUM)) features &= ~NETIF_F.TSO6;
  // TSO with IPv4 ID mangling requires IPv4 TSO be enabled.
  if (has(NETIF_F.TSO_MANGLEID) && !has(NETIF_F.TSO)) features &= ~NETIF_F.TSO_MANGLEID;
  // TSO ECN requires that TSO is present as well; AccECN does not count (observed on 6.18).
  if ((features & (NETIF_F.TSO | NETIF_F.TSO6 | NETIF_F.TSO_ECN | NETIF_F.TSO_MANGLEID)) === NETIF_F.TSO_ECN) {
    features &= ~NETIF_F.TSO_ECN;
  }
  // GRO_HW implies receive checksumming; LRO and HW GRO cannot carry the FCS.
  if (!has(NETIF_F.RXCSUM)) features &= ~F.GRO_HW;
  if (has(NETIF_F.RXFCS)) features &= ~(NETIF_F.LRO | F.GRO_HW);
  if (has(F.GRO_HW) && has(NETIF_F.LRO)) features &= ~NETIF_F.LRO;
  if (has(F.HW_TLS_TX) && !has(NETIF_F.HW_CSUM)) features &= ~F.HW_TLS_TX;
  if (has(F.HW_TLS_RX) && !has(NETIF_F.RXCSUM)) features &= ~F.HW_TLS_RX;
  return features;
}

/**
 * __netdev_update_features(): recompute the active set from the wanted one. Returns 1
 * when dev->features changed (the caller then sends NETDEV_FEAT_CHANGE), else 0.
 * No lonet driver has ndo_fix_features or ndo_set_features, so the result is taken as is.
 */
export function netdevUpdateFeaturesLocked(dev: NetDevice): number {
  const features = netdevFixFeatures(dev, netdevGetWantedFeatures(dev));
  if (features === dev.features) return 0;
  dev.features = features;
  return 1;
}

/** netdev_features_change(). */
export function netdevFeaturesChange(dev: NetDevice): void {
  callNetdeviceNotifiers(NETDEV.FEAT_CHANGE, dev);
}

/** netdev_update_features(). */
export function netdevUpdateFeatures(dev: NetDevice): void {
  if (netdevUpdateFeaturesLocked(dev)) netdevFeaturesChange(dev);
}

/** One ETHTOOL_A_BITSET_BITS_BIT entry of a request: a feature by name and its new value. */
export interface FeatureBitRequest {
  name: string;
  value: boolean;
}

/** The extack of an ethtool netlink request: a message and, if any, the entry it is about. */
export interface EthnlExtAck extends ExtAck {
  /** Index into the request's bits of the entry the error is about (NL_SET_ERR_MSG_ATTR). */
  badBit?: number;
}

/**
 * ETHTOOL_MSG_FEATURES_SET_REPLY: for requested bits that did not end as asked, the
 * request (wanted/wantedMask); for bits that changed, the new value (active/activeMask).
 */
export interface SetFeaturesReply {
  wanted: NetdevFeatures;
  wantedMask: NetdevFeatures;
  active: NetdevFeatures;
  activeMask: NetdevFeatures;
}

/**
 * ethnl_set_features(): apply a named-bit request to dev->wanted_features, let
 * __netdev_update_features() work out what can be on, and report the differences.
 * Returns 0 or -errno; on success `reply` holds the diff ethtool prints.
 */
export function ethnlSetFeatures(
  dev: NetDevice,
  bits: readonly FeatureBitRequest[],
  reply: SetFeaturesReply,
  extack: EthnlExtAck = {},
): number {
  // ethnl_parse_bitset() in its verbose form: every bit by name, the last one wins.
  let reqWanted = 0n;
  let reqMask = 0n;
  for (let i = 0; i < bits.length; i++) {
    const req = bits[i] as FeatureBitRequest;
    const idx = netdevFeaturesStrings.indexOf(req.name);
    if (req.name === '' || idx < 0) {
      extack.msg = 'bit name not found';
      extack.badBit = i;
      return -E.EOPNOTSUPP;
    }
    reqMask |= bit(idx);
    if (req.value) reqWanted |= bit(idx);
    else reqWanted &= ~bit(idx);
  }
  if (reqMask & ~NETIF_F_ETHTOOL_BITS) {
    extack.msg = 'attempt to change non-ethtool features';
    return -E.EINVAL;
  }
  const oldActive = dev.features;
  const oldWanted = dev.wantedFeatures;
  // Bits not in the request keep their old wanted value.
  reqWanted = (reqWanted & reqMask) | (oldWanted & ~reqMask);
  if (reqWanted !== oldWanted) {
    dev.wantedFeatures = (dev.wantedFeatures & ~dev.hwFeatures) | (reqWanted & dev.hwFeatures);
    netdevUpdateFeaturesLocked(dev);
  }
  const newActive = dev.features;
  const wantedDiff = (reqWanted ^ newActive) & reqMask;
  const activeDiff = oldActive ^ newActive;
  reply.wanted = reqWanted & wantedDiff;
  reply.wantedMask = wantedDiff;
  reply.active = newActive & activeDiff;
  reply.activeMask = activeDiff;
  if (oldActive !== newActive) netdevFeaturesChange(dev);
  return 0;
}
