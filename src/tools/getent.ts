/**
 * getent(1) (glibc 2.36), the hosts database: `getent hosts NAME…` asks gethostbyname2
 * for IPv6 first and IPv4 after, each through the namespace's /etc/hosts and then its
 * nameservers, and prints every address as `%-15s NAME ALIASES`. Exit 2 when a key was
 * not found, 1 for an unknown database.
 */

import { isIP } from '../userland/node-errors.js';
import { etcOf, query } from '../userland/resolver.js';
import { DNS_RCODE, DNS_TYPE } from '../wire/dns.js';
import type { CommandContext } from './command.js';

interface HostEnt {
  name: string;
  aliases: string[];
  addresses: string[];
}

/** gethostbyname2(name, family): files, then dns when resolv.conf names a server. */
async function gethostbyname2(ctx: CommandContext, name: string, family: 4 | 6): Promise<HostEnt | null> {
  const lit = isIP(name);
  if (lit !== 0) return lit === family ? { name, aliases: [], addresses: [name] } : null;
  const { hosts, resolvConf } = etcOf(ctx.net);
  const m = hosts.lookup(name, family);
  if (m !== null) return { name: m.name, aliases: m.aliases, addresses: m.addresses.map((a) => a.address) };
  const conf = resolvConf.parse();
  if (conf.nameservers.length === 0) return null;
  const type = family === 4 ? DNS_TYPE.A : DNS_TYPE.AAAA;
  const r = await query(
    ctx.net,
    conf.nameservers.map((address) => ({ address, port: 53 })),
    name,
    type,
    { timeoutMs: conf.timeoutMs ?? 5000, tries: conf.attempts ?? 2, signal: ctx.signal },
  );
  if (typeof r === 'string' || r.rcode !== DNS_RCODE.NOERROR) return null;
  const addresses = r.answers.filter((a) => a.type === type).map((a) => a.data as string);
  return addresses.length === 0 ? null : { name, aliases: [], addresses };
}

export async function getent(ctx: CommandContext): Promise<number> {
  const [, db, ...keys] = ctx.argv;
  if (db === undefined) {
    ctx.stderr.write(
      "getent: wrong number of arguments\nTry `getent --help' or `getent --usage' for more information.\n",
    );
    return 1;
  }
  if (db !== 'hosts') {
    ctx.stderr.write(`Unknown database: ${db}\nTry \`getent --help' or \`getent --usage' for more information.\n`);
    return 1;
  }
  if (keys.length === 0) {
    // Enumeration (sethostent/gethostent) is the file itself, line by line.
    for (const e of etcOf(ctx.net).hosts.entries())
      if (e.family === 4) ctx.stdout.write(`${e.address.padEnd(15)} ${e.names.join(' ')}\n`);
    return 0;
  }
  let code = 0;
  for (const key of keys) {
    const ent = (await gethostbyname2(ctx, key, 6)) ?? (await gethostbyname2(ctx, key, 4));
    if (ent === null) {
      code = 2;
      continue;
    }
    for (const a of ent.addresses) ctx.stdout.write(`${a.padEnd(15)} ${[ent.name, ...ent.aliases].join(' ')}\n`);
  }
  return code;
}
