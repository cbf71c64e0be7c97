/**
 * dig(1) (BIND 9.18), short form: `dig [@SERVER] [-p PORT] +short [-t TYPE] NAME [TYPE]`
 * asks the namespace's nameserver (resolv.conf's first, else 127.0.0.1) over lonet UDP
 * and prints each answer's data, one a line. NXDOMAIN prints nothing and exits 0; no
 * server answering prints BIND's lines and exits 9. Only +short output is built.
 */

import { isIP } from '../userland/node-errors.js';
import { defaultServers, etcOf, query } from '../userland/resolver.js';
import { DNS_TYPE, type DnsRecord } from '../wire/dns.js';
import type { CommandContext } from './command.js';

/** How dig +short shows one record's data. */
export function rdataText(r: DnsRecord): string {
  const d = r.data;
  if (typeof d === 'string') return r.type === DNS_TYPE.A || r.type === DNS_TYPE.AAAA ? d : `${d}.`;
  if (Array.isArray(d)) return d.map((s) => `"${s}"`).join(' ');
  if (d instanceof Uint8Array)
    return `\\# ${d.length} ${Array.from(d, (b) => b.toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase()}`;
  if ('exchange' in d) return `${d.priority} ${d.exchange}.`;
  return `${d.priority} ${d.weight} ${d.port} ${d.name}.`;
}

function typeOf(s: string): number | undefined {
  return (DNS_TYPE as Record<string, number>)[s.toUpperCase()];
}

export async function dig(ctx: CommandContext): Promise<number> {
  let server: string | undefined;
  let port = 53;
  let short = false;
  let name: string | undefined;
  let type: number | undefined;
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('@')) server = a.slice(1);
    else if (a === '+short') short = true;
    else if (a === '+noshort') short = false;
    else if (a === '-p') port = Number(args[++i]);
    else if (a === '-t') type = typeOf(args[++i] ?? '');
    else if (a.startsWith('+')) continue;
    else if (name !== undefined && type === undefined && typeOf(a) !== undefined) type = typeOf(a);
    else if (name === undefined && typeOf(a) !== undefined && type === undefined && i < args.length - 1)
      type = typeOf(a);
    else name = a;
  }
  if (!short) {
    ctx.stderr.write('dig: lonet builds only the +short output: dig +short NAME [TYPE]\n');
    return 1;
  }
  if (server !== undefined && isIP(server) === 0) {
    ctx.stderr.write(`dig: couldn't get address for '${server}': not found\n`);
    return 10;
  }
  const servers =
    server !== undefined ? [{ address: server, port }] : defaultServers(ctx.net).map((s) => ({ ...s, port }));
  const qtype = type ?? DNS_TYPE.A;
  const conf = etcOf(ctx.net).resolvConf.parse();
  const r = await query(ctx.net, servers, name ?? '.', qtype, {
    // BIND's +time=5 +tries=3, unless resolv.conf's options say otherwise.
    timeoutMs: conf.timeoutMs ?? 5000,
    tries: conf.attempts ?? 3,
    retryRefused: true,
    signal: ctx.signal,
    onFailure: (s, code) =>
      ctx.stdout.write(
        code === 'ECONNREFUSED'
          ? `;; communications error to ${s.address}#${s.port}: connection refused\n`
          : `;; communications error to ${s.address}#${s.port}: timed out\n`,
      ),
  });
  if (r === 'ECANCELLED') return 130;
  if (typeof r === 'string') {
    ctx.stdout.write(';; no servers could be reached\n');
    return 9;
  }
  for (const rec of r.answers) ctx.stdout.write(`${rdataText(rec)}\n`);
  return 0;
}
