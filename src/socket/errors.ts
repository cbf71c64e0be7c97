/**
 * Errors as Node reports them from system calls (lib/internal/errors.js
 * UVExceptionWithHostPort): `code` 'EADDRINUSE', `errno` negative (-98), `syscall`,
 * and `address`/`port` when there is one; the message reads
 * "bind EADDRINUSE 127.0.0.1:41234".
 */
import { errnoName } from '../include/errno.js';

export interface SysError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** An Error for -errno (or +errno) from `syscall`, with the address Node would add. */
export function sysError(errno: number, syscall: string, address?: string, port?: number): SysError {
  const code = errnoName(errno) ?? `Unknown system error ${-Math.abs(errno)}`;
  let details = '';
  if (address !== undefined) details = port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(`${syscall} ${code}${details}`) as SysError;
  err.errno = -Math.abs(errno);
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined && port > 0) err.port = port;
  return err;
}
