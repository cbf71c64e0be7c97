/**
 * /etc/hosts, one per namespace (hosts(5)): `ADDRESS CANONICAL [ALIASES…]` lines, `#`
 * comments. glibc's files backend reads it top to bottom, and the first line naming the
 * host gives its canonical name; every line naming it in the family asked for adds an
 * address. A fresh namespace has Debian's default file.
 */
import { isIP } from './node-errors.js';

export const DEFAULT_HOSTS = `127.0.0.1\tlocalhost
::1\t\tlocalhost ip6-localhost ip6-loopback
ff02::1\t\tip6-allnodes
ff02::2\t\tip6-allrouters
`;

export interface HostsEntry {
  address: string;
  family: 4 | 6;
  /** The canonical name, then the aliases. */
  names: string[];
}

export interface HostsMatch {
  name: string;
  aliases: string[];
  addresses: { address: string; family: 4 | 6 }[];
}

export class HostsFile {
  /** The file's text, as `cat /etc/hosts` shows it and `>>` appends to it. */
  text = DEFAULT_HOSTS;

  entries(): HostsEntry[] {
    const out: HostsEntry[] = [];
    for (const raw of this.text.split('\n')) {
      const fields = raw.replace(/#.*/, '').trim().split(/\s+/);
      const [address, ...names] = fields;
      if (address === undefined || address === '' || names.length === 0) continue;
      const family = isIP(address);
      if (family === 0) continue;
      out.push({ address, family: family as 4 | 6, names });
    }
    return out;
  }

  /** `ns.hosts.set('db.test', '127.0.0.2')`: the name's only line, replacing any other. */
  set(name: string, address: string): this {
    if (isIP(address) === 0) throw new TypeError(`not an IP address: ${address}`);
    this.delete(name);
    this.text += `${address}\t${name}\n`;
    return this;
  }

  /** Drops `name` from every line (and lines left with no name). */
  delete(name: string): boolean {
    let found = false;
    const lines = this.text.split('\n').map((raw) => {
      const [body = '', ...comment] = raw.split('#');
      const fields = body.trim().split(/\s+/);
      if (fields.length < 2 || !fields.slice(1).some((n) => n.toLowerCase() === name.toLowerCase())) return raw;
      found = true;
      const kept = fields.filter((n, i) => i === 0 || n.toLowerCase() !== name.toLowerCase());
      if (kept.length === 1) return null;
      return kept.join('\t') + (comment.length > 0 ? ` #${comment.join('#')}` : '');
    });
    this.text = lines.filter((l) => l !== null).join('\n');
    return found;
  }

  /** _nss_files_gethostbyname*: the lines naming `name` (case-insensitively), in file order. */
  lookup(name: string, family: 0 | 4 | 6 = 0): HostsMatch | null {
    const want = name.toLowerCase();
    let match: HostsMatch | null = null;
    for (const e of this.entries()) {
      if (!e.names.some((n) => n.toLowerCase() === want)) continue;
      if (family !== 0 && e.family !== family) continue;
      match ??= { name: e.names[0] as string, aliases: e.names.slice(1), addresses: [] };
      match.addresses.push({ address: e.address, family: e.family });
    }
    return match;
  }
}
