/** Netlink request flags (include/uapi/linux/netlink.h): what an RTM_NEW* request asks for. */
export const NLM_F = {
  /** Override an existing object. */
  REPLACE: 0x100,
  /** Do not touch an object that already exists. */
  EXCL: 0x200,
  /** Create the object if it does not exist. */
  CREATE: 0x400,
  /** Add to the end of the object's list. */
  APPEND: 0x800,
} as const;
