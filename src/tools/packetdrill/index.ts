/**
 * `lonet packetdrill [OPTIONS] SCRIPT.pkt…`: google/packetdrill's command line (config.c)
 * over lonet. Each script runs on a fresh virtual-clock host; a failure prints as
 * packetdrill prints it, `SCRIPT:LINE: error`, with the expected and actual packets.
 */
import type { Output } from '../command.js';
import { type Config, defaultConfig, type IpVersion, runScript } from './run.js';

export const PACKETDRILL_USAGE = `usage: lonet packetdrill
	 [--ip_version=ipv4|ipv4-mapped-ipv6|ipv6]
	 [--local_ip=local_ip]
	 [--remote_ip=remote_ip]
	 [--gateway_ip=gateway_ip]
	 [--netmask_ip=netmask_ip]
	 [--mtu=<MTU in bytes>]
	 [--mss=<MSS in bytes>]
	 [--tolerance_usecs=tolerance_usecs]
	 [--bind_port=bind_port] [--connect_port=connect_port]
	 [-D name=value]
	 script_path ...
`;

/** Parses packetdrill's options into a config; a string is the usage error. */
export function parsePacketdrillArgs(argv: readonly string[]): { cfg: Config; scripts: string[] } | string {
  let version: IpVersion = 'ipv4';
  const given = new Map<string, string>();
  const defines = new Map<string, string>();
  const scripts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-D') {
      const d = argv[++i];
      if (d === undefined || !d.includes('=')) return `-D needs NAME=VALUE`;
      defines.set(d.slice(0, d.indexOf('=')), d.slice(d.indexOf('=') + 1));
    } else if (a.startsWith('-D') && a.includes('=')) {
      defines.set(a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? (argv[++i] ?? '') : a.slice(eq + 1);
      given.set(name, value);
    } else scripts.push(a);
  }
  const v = given.get('ip_version');
  if (v !== undefined) {
    if (v !== 'ipv4' && v !== 'ipv6' && v !== 'ipv4-mapped-ipv6') return `bad --ip_version: ${v}`;
    version = v;
  }
  const cfg = defaultConfig(version);
  cfg.defines = defines;
  for (const [k, val] of given) {
    switch (k) {
      case 'ip_version':
        break;
      case 'local_ip':
        cfg.localIp = val;
        break;
      case 'remote_ip':
        cfg.remoteIp = val;
        break;
      case 'gateway_ip':
        cfg.gatewayIp = val;
        break;
      case 'netmask_ip':
        cfg.netmaskIp = val;
        break;
      case 'mtu':
      case 'mss':
      case 'tolerance_usecs':
      case 'bind_port':
      case 'connect_port': {
        const n = Number(val);
        if (!Number.isInteger(n) || n <= 0) return `bad --${k}: ${val}`;
        if (k === 'mtu') cfg.mtu = n;
        else if (k === 'mss') cfg.mss = n;
        else if (k === 'tolerance_usecs') cfg.toleranceUsecs = n;
        else if (k === 'bind_port') cfg.bindPort = n;
        else cfg.connectPort = n;
        break;
      }
      default:
        return `unrecognized option '--${k}'`;
    }
  }
  if (scripts.length === 0) return 'no script given';
  return { cfg, scripts };
}

/** The `lonet packetdrill` entry: 0 when every script passes, 1 otherwise, 2 for bad usage. */
export async function packetdrill(argv: readonly string[], stdout: Output, stderr: Output): Promise<number> {
  const parsed = parsePacketdrillArgs(argv);
  if (typeof parsed === 'string') {
    stderr.write(`packetdrill: ${parsed}\n${PACKETDRILL_USAGE}`);
    return 2;
  }
  let code = 0;
  for (const path of parsed.scripts) {
    const cfg = { ...parsed.cfg, defines: new Map(parsed.cfg.defines) };
    const r = await runScript(path, cfg, stdout);
    if (!r.ok) {
      code = 1;
      stderr.write(`${path}:${r.line}: ${r.error}\n`);
      if (r.lacks !== null) stderr.write(`${path}:${r.line}: lonet lacks: ${r.lacks}\n`);
    }
  }
  return code;
}
