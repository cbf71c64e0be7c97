/**
 * What Node's lib/internal/errors.js and validators give every face (node:dgram,
 * node:net): coded errors, the way a wrong value is named in messages, port
 * validation, and the IP-literal tests net.isIP* and dns.lookup use.
 */

export type CodedError = Error & { code: string };

export function nodeError<T extends Error>(
  Base: new (m: string) => T,
  code: string,
  message: string,
): T & { code: string } {
  const err = new Base(message) as T & { code: string };
  err.code = code;
  return err;
}

/** determineSpecificType(): how Node names a wrong value in its messages. */
export function specificType(value: unknown): string {
  if (value === null || value === undefined) return `${value}`;
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : '[Object: null prototype] {}';
  }
  let inspected =
    typeof value === 'string'
      ? `'${value}'`
      : typeof value === 'bigint'
        ? `${value}n`
        : typeof value === 'symbol'
          ? value.toString()
          : Object.is(value, -0)
            ? '-0'
            : String(value);
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

/** validatePort(port, name, allowZero): ERR_SOCKET_BAD_PORT as Node words it. */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (port === 0 && !allowZero)
  ) {
    throw nodeError(
      RangeError,
      'ERR_SOCKET_BAD_PORT',
      `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${specificType(port)}.`,
    );
  }
  return +port | 0;
}

const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

export function isIPv4(s: string): boolean {
  // As Node's: the value is tested as a string ({ toString() } included).
  return IPV4_RE.test(`${s}`);
}

const V4 = '(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const SEG = '[0-9a-fA-F]{1,4}';
/** Node's IPv6 grammar (lib/internal/net.js): the eight forms of `::`, and a zone of [0-9a-zA-Z-.:]. */
const IPV6_RE = new RegExp(
  '^(?:' +
    `(?:${SEG}:){7}(?:${SEG}|:)|` +
    `(?:${SEG}:){6}(?:${V4}|:${SEG}|:)|` +
    `(?:${SEG}:){5}(?::${V4}|(?::${SEG}){1,2}|:)|` +
    `(?:${SEG}:){4}(?:(?::${SEG}){0,1}:${V4}|(?::${SEG}){1,3}|:)|` +
    `(?:${SEG}:){3}(?:(?::${SEG}){0,2}:${V4}|(?::${SEG}){1,4}|:)|` +
    `(?:${SEG}:){2}(?:(?::${SEG}){0,3}:${V4}|(?::${SEG}){1,5}|:)|` +
    `(?:${SEG}:){1}(?:(?::${SEG}){0,4}:${V4}|(?::${SEG}){1,6}|:)|` +
    `(?::(?:(?::${SEG}){0,5}:${V4}|(?::${SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

/** An IPv6 literal, with an optional zone, as net.isIPv6 accepts it. */
export function isIPv6(s: string): boolean {
  return IPV6_RE.test(`${s}`);
}

export function isIP(s: string): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}
