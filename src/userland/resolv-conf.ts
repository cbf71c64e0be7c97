/**
 * /etc/resolv.conf, one per namespace (resolv.conf(5)): `nameserver` (up to three),
 * `search`, `options timeout:N attempts:N ndots:N`. A fresh lonet namespace names no
 * nameserver: lookups then come from /etc/hosts alone (as `hosts: files` in
 * nsswitch.conf), and the resolve* calls ask 127.0.0.1, as glibc and c-ares default to.
 */
import { isIP } from './node-errors.js';

export const DEFAULT_RESOLV_CONF = '# no nameserver: names come from /etc/hosts (add: nameserver 127.0.0.53)\n';

/** MAXNS */
const MAXNS = 3;

export interface ResolvConfig {
  nameservers: string[];
  search: string[];
  /** options timeout:N (ms), when given: each tool has its own default. */
  timeoutMs: number | undefined;
  /** options attempts:N, when given. */
  attempts: number | undefined;
  ndots: number;
}

export class ResolvConf {
  text = DEFAULT_RESOLV_CONF;

  parse(): ResolvConfig {
    const c: ResolvConfig = { nameservers: [], search: [], timeoutMs: undefined, attempts: undefined, ndots: 1 };
    for (const raw of this.text.split('\n')) {
      const [key, ...args] = raw
        .replace(/[#;].*/, '')
        .trim()
        .split(/\s+/);
      if (key === 'nameserver' && args[0] !== undefined && isIP(args[0]) !== 0 && c.nameservers.length < MAXNS)
        c.nameservers.push(args[0]);
      else if (key === 'search' || key === 'domain') c.search = args.filter((d) => d !== '.');
      else if (key === 'options')
        for (const o of args) {
          const [k, v] = o.split(':');
          const n = Number(v);
          if (k === 'timeout' && n >= 1) c.timeoutMs = Math.min(n, 30) * 1000;
          if (k === 'attempts' && n >= 1) c.attempts = Math.min(n, 5);
          if (k === 'ndots' && n >= 0) c.ndots = Math.min(n, 15);
        }
    }
    return c;
  }

  /** Replaces the nameserver lines, keeping the rest. */
  setNameservers(servers: readonly string[]): this {
    for (const s of servers) if (isIP(s) === 0) throw new TypeError(`not an IP address: ${s}`);
    const rest = this.text.split('\n').filter((l) => l !== '' && !/^\s*nameserver\s/.test(l));
    this.text = [...servers.map((s) => `nameserver ${s}`), ...rest].map((l) => `${l}\n`).join('');
    return this;
  }
}
