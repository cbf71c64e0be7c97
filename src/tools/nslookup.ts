/**
 * nslookup(1) (BIND 9.18): `nslookup [-type=T] NAME [SERVER]` asks the namespace's
 * nameserver over lonet UDP (DNS only: /etc/hosts is not read, as with the real tool)
 * for A and AAAA, or the type given, and prints BIND's layout. NXDOMAIN is
 * `** server can't find NAME: NXDOMAIN`, exit 1.
 */

import { isIP } from '../userland/node-errors.js';
import { defaultServers, etcOf, type NameServer, query } from '../userland/resolver.js';
import { DNS_FLAG, DNS_RCODE, DNS_TYPE, type DnsMessage } from '../wire/dns.js';
import type { CommandContext } from './command.js';
import { rdataText } from './dig.js';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export async function nslookup(ctx: CommandContext): Promise<number> {
  let type: number | undefined;
  const pos: string[] = [];
  for (const a of ctx.argv.slice(1)) {
    const m = /^-(?:type|query|q|t)=(.+)$/i.exec(a);
    if (m !== null) type = (DNS_TYPE as Record<string, number>)[(m[1] as string).toUpperCase()];
    else pos.push(a);
  }
  const [name, serverArg] = pos;
  if (name === undefined) {
    ctx.stderr.write('lonet: nslookup: interactive mode is not supported: nslookup NAME [SERVER]\n');
    return 1;
  }
  if (serverArg !== undefined && isIP(serverArg) === 0) {
    ctx.stderr.write(`nslookup: couldn't get address for '${serverArg}': not found\n`);
    return 1;
  }
  const servers: NameServer[] =
    serverArg !== undefined ? [{ address: serverArg, port: 53 }] : defaultServers(ctx.net).slice(0, 1);
  const conf = etcOf(ctx.net).resolvConf.parse();
  const types = type !== undefined ? [type] : [DNS_TYPE.A, DNS_TYPE.AAAA];
  const results: DnsMessage[] = [];
  for (const t of types) {
    const r = await query(ctx.net, servers, name, t, {
      // BIND's +time=5 +tries=3, unless resolv.conf's options say otherwise.
      timeoutMs: conf.timeoutMs ?? 5000,
      tries: conf.attempts ?? 3,
      retryRefused: true,
      signal: ctx.signal,
      onFailure: (s, code) =>
        ctx.stdout.write(
          `;; communications error to ${s.address}#${s.port}: ${code === 'ECONNREFUSED' ? 'connection refused' : 'timed out'}\n`,
        ),
    });
    if (r === 'ECANCELLED') return 130;
    if (typeof r === 'string') {
      ctx.stdout.write(';; no servers could be reached\n\n');
      return 1;
    }
    results.push(r);
  }
  const s = servers[0] as NameServer;
  ctx.stdout.write(`Server:\t\t${s.address}\nAddress:\t${s.address}#${s.port}\n\n`);
  const first = results[0] as DnsMessage;
  if (first.rcode !== DNS_RCODE.NOERROR) {
    ctx.stdout.write(`** server can't find ${name}: ${RCODE_NAMES[first.rcode] ?? first.rcode}\n\n`);
    return 1;
  }
  if (results.some((r) => r.answers.length > 0 && (r.flags & DNS_FLAG.AA) === 0))
    ctx.stdout.write('Non-authoritative answer:\n');
  for (const r of results)
    for (const rec of r.answers) {
      if (rec.type === DNS_TYPE.A || rec.type === DNS_TYPE.AAAA)
        ctx.stdout.write(`Name:\t${rec.name}\nAddress: ${rec.data as string}\n`);
      else ctx.stdout.write(`${rec.name}\t${typeText(rec.type)} = ${rdataText(rec)}\n`);
    }
  // For other types BIND goes on to the authority section, headed even when it is empty.
  const other = type !== undefined && type !== DNS_TYPE.A && type !== DNS_TYPE.AAAA;
  if (other && (first.flags & DNS_FLAG.AA) === 0) ctx.stdout.write('\nAuthoritative answers can be found from:\n');
  ctx.stdout.write('\n');
  return 0;
}

function typeText(t: number): string {
  const names: Record<number, string> = {
    33: 'service',
    15: 'mail exchanger',
    16: 'text',
    5: 'canonical name',
    2: 'nameserver',
    12: 'name',
  };
  return names[t] ?? `type${t}`;
}
