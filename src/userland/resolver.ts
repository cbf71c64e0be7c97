/**
 * The namespace's stub resolver: its /etc/hosts and /etc/resolv.conf, DNS queries over
 * the namespace's own UDP (never the host's resolver), and getaddrinfo's order — files
 * first, then DNS when resolv.conf names a nameserver. The node:dns face, net/http/fetch
 * lookups and getent/nslookup/dig all resolve here.
 */
import { E } from '../include/errno.js';
import { inetPton6 } from '../ipv6/addr.js';
import type { Net } from '../net/net.js';
import { type In6Addr, UdpSock, v4Mapped } from '../transport/udp.js';
import { DNS_RCODE, DNS_TYPE, type DnsMessage, dnsQuery, parseDnsMessage } from '../wire/dns.js';
import { HostsFile } from './hosts.js';
import { isIP, isIPv4 } from './node-errors.js';
import { ResolvConf } from './resolv-conf.js';

export interface NsEtc {
  hosts: HostsFile;
  resolvConf: ResolvConf;
}

const etc = new WeakMap<Net, NsEtc>();

/** The namespace's /etc: a fresh namespace gets the default files (as `ip netns exec` would bind /etc/netns/NAME). */
export function etcOf(net: Net): NsEtc {
  let e = etc.get(net);
  if (e === undefined) {
    e = { hosts: new HostsFile(), resolvConf: new ResolvConf() };
    etc.set(net, e);
  }
  return e;
}

/** A nameserver: an address and port (53 unless `Resolver.setServers` said otherwise). */
export interface NameServer {
  address: string;
  port: number;
}

/** c-ares's ARES_E* names, as Node's resolve* errors carry them. */
export type DnsErrorCode =
  | 'ENODATA'
  | 'EFORMERR'
  | 'ESERVFAIL'
  | 'ENOTFOUND'
  | 'ENOTIMP'
  | 'EREFUSED'
  | 'EBADRESP'
  | 'ECONNREFUSED'
  | 'ETIMEOUT'
  | 'ECANCELLED';

export interface QueryOptions {
  timeoutMs?: number;
  tries?: number;
  signal?: AbortSignal;
  /** Told of each exchange that failed (dig and nslookup print one line per refused try). */
  onFailure?: (server: NameServer, code: 'ECONNREFUSED' | 'ETIMEOUT') => void;
  /** Try a refusing server again on the next try (dig and nslookup do; c-ares gives up). */
  retryRefused?: boolean;
}

function toIn6(address: string): { addr: In6Addr; family: 4 | 6 } {
  if (isIPv4(address))
    return { addr: v4Mapped(address.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0)), family: 4 };
  return { addr: inetPton6(address) as In6Addr, family: 6 };
}

/** One datagram exchange with one server: the answer, or how it failed. */
function exchange(
  net: Net,
  server: NameServer,
  query: Uint8Array,
  id: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DnsMessage | 'ECONNREFUSED' | 'ETIMEOUT' | 'ECANCELLED'> {
  const { addr, family } = toIn6(server.address);
  const sk = new UdpSock(net, family);
  const e = sk.connect(addr, server.port);
  if (e < 0) {
    sk.close();
    return Promise.resolve('ECONNREFUSED');
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: DnsMessage | 'ECONNREFUSED' | 'ETIMEOUT' | 'ECANCELLED') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sk.onDataReady = null;
      sk.onError = null;
      sk.close();
      resolve(r);
    };
    const onAbort = () => finish('ECANCELLED');
    const poll = () => {
      // An ICMP port unreachable (nobody on :53) arrives as ECONNREFUSED on the connected socket.
      const err = sk.takeError();
      if (err === -E.ECONNREFUSED) return finish('ECONNREFUSED');
      for (let d = sk.recv(); d !== null; d = sk.recv()) {
        try {
          const m = parseDnsMessage(d.data);
          // A stray or malformed answer is ignored, as the resolver does; the query still waits.
          if (m.id === id && (m.flags & 0x8000) !== 0) return finish(m);
        } catch {}
      }
    };
    const timer = setTimeout(() => finish('ETIMEOUT'), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sk.onDataReady = poll;
    sk.onError = poll;
    const sent = sk.sendto(query, null, 0);
    if (sent < 0) finish(sent === -E.ECONNREFUSED ? 'ECONNREFUSED' : 'ETIMEOUT');
  });
}

/**
 * A query for `name`/`type`, each server in turn for each try (c-ares's order): the first
 * answer that is not SERVFAIL, REFUSED or NOTIMP, or the last failure.
 */
export async function query(
  net: Net,
  servers: readonly NameServer[],
  name: string,
  type: number,
  opts: QueryOptions = {},
): Promise<DnsMessage | DnsErrorCode> {
  const tries = opts.tries ?? 4;
  const timeoutMs = opts.timeoutMs ?? 5000;
  let last: DnsErrorCode = 'ECONNREFUSED';
  for (let t = 0; t < tries; t++) {
    let allRefused = true;
    for (const server of servers) {
      const id = Math.floor(Math.random() * 0x10000);
      const r = await exchange(net, server, dnsQuery(id, name, type), id, timeoutMs, opts.signal);
      if (r === 'ECANCELLED') return r;
      if (typeof r === 'string') {
        opts.onFailure?.(server, r);
        last = r;
        if (r !== 'ECONNREFUSED') allRefused = false;
        continue;
      }
      allRefused = false;
      if (r.rcode === DNS_RCODE.SERVFAIL) last = 'ESERVFAIL';
      else if (r.rcode === DNS_RCODE.REFUSED) last = 'EREFUSED';
      else if (r.rcode === DNS_RCODE.NOTIMP) last = 'ENOTIMP';
      else return r;
    }
    // Refusals are definite: trying again would only be refused again.
    if (allRefused && opts.retryRefused !== true) break;
  }
  return last;
}

/** What an answer means for a resolve* call: the records of the type asked, or the error. */
export function answersOf(m: DnsMessage | DnsErrorCode, type: number): DnsMessage['answers'] | DnsErrorCode {
  if (typeof m === 'string') return m;
  if (m.rcode === DNS_RCODE.NXDOMAIN) return 'ENOTFOUND';
  if (m.rcode === DNS_RCODE.FORMERR) return 'EFORMERR';
  if (m.rcode !== DNS_RCODE.NOERROR) return 'EBADRESP';
  const recs = m.answers.filter((a) => type === DNS_TYPE.ANY || a.type === type);
  return recs.length === 0 ? 'ENODATA' : recs;
}

/** The servers a new Resolver starts with: resolv.conf's, else 127.0.0.1 (c-ares's default). */
export function defaultServers(net: Net): NameServer[] {
  const ns = etcOf(net).resolvConf.parse().nameservers;
  return (ns.length > 0 ? ns : ['127.0.0.1']).map((address) => ({ address, port: 53 }));
}

export interface AddrInfo {
  address: string;
  family: 4 | 6;
}

/** getaddrinfo's failures, as libuv names them (Node turns EAI_NONAME and EAI_NODATA into ENOTFOUND). */
export type GaiError = { code: 'EAI_NONAME'; errno: -3008 } | { code: 'EAI_AGAIN'; errno: -3001 };

export const EAI_NONAME: GaiError = { code: 'EAI_NONAME', errno: -3008 };
export const EAI_AGAIN: GaiError = { code: 'EAI_AGAIN', errno: -3001 };

/**
 * getaddrinfo(name) in this namespace: an IP literal is itself; then /etc/hosts; then, if
 * resolv.conf names a nameserver, A and/or AAAA queries. A name nobody knows is
 * EAI_NONAME; nameservers that never answer make it EAI_AGAIN, as on Linux.
 */
export async function getaddrinfo(net: Net, name: string, family: 0 | 4 | 6): Promise<AddrInfo[] | GaiError> {
  const lit = isIP(name);
  if (lit !== 0) return family === 0 || family === lit ? [{ address: name, family: lit }] : EAI_NONAME;
  const { hosts, resolvConf } = etcOf(net);
  const fromFile = hosts.lookup(name, family);
  if (fromFile !== null) return fromFile.addresses;
  const conf = resolvConf.parse();
  if (conf.nameservers.length === 0) return EAI_NONAME;
  const servers = conf.nameservers.map((address) => ({ address, port: 53 }));
  // glibc's defaults: timeout:5 attempts:2.
  const opts = { timeoutMs: conf.timeoutMs ?? 5000, tries: conf.attempts ?? 2 };
  const types = family === 4 ? [DNS_TYPE.A] : family === 6 ? [DNS_TYPE.AAAA] : [DNS_TYPE.A, DNS_TYPE.AAAA];
  const results = await Promise.all(types.map((t) => query(net, servers, name, t, opts)));
  const out: AddrInfo[] = [];
  let unanswered = false;
  results.forEach((r, i) => {
    const recs = answersOf(r, types[i] as number);
    if (typeof recs === 'string') {
      if (recs !== 'ENOTFOUND' && recs !== 'ENODATA') unanswered = true;
      return;
    }
    for (const rec of recs) out.push({ address: rec.data as string, family: types[i] === DNS_TYPE.A ? 4 : 6 });
  });
  if (out.length > 0) return out;
  return unanswered ? EAI_AGAIN : EAI_NONAME;
}
