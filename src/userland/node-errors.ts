/**
 * What Node's lib/internal/errors.js and validators give every face (node:dgram,
 * node:net): coded errors, the way a wrong value is named in messages, port
 * validation, and the IP-literal tests net.isIP* and dns.lookup use.
 */
import { inetPton6 } from '../ipv6/addr.js';

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
  return typeof s === 'string' && IPV4_RE.test(s);
}

/** An IPv6 literal, with an optional non-empty %zone. */
export function isIPv6(s: string): boolean {
  if (typeof s !== 'string') return false;
  const pct = s.indexOf('%');
  return inetPton6(pct < 0 ? s : s.slice(0, pct)) !== null && (pct < 0 || pct < s.length - 1);
}

export function isIP(s: string): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}
