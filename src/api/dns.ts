/**
 * node:dns on a namespace: `ns.dns.lookup` is getaddrinfo in the namespace (its
 * /etc/hosts, then its resolv.conf's nameservers over lonet UDP); resolve4/resolve6/
 * resolveSrv/… and Resolver send real DNS queries to the namespace's nameservers, as
 * c-ares does. Nothing reaches the host's resolver. Errors are Node's: `getaddrinfo
 * ENOTFOUND x.test` (errno -3008), `queryA ENOTFOUND x.test`, `queryA ECONNREFUSED x.test`.
 */
import type { Net } from '../net/net.js';
import { isIP, nodeError, specificType } from '../userland/node-errors.js';
import {
  answersOf,
  type DnsErrorCode,
  defaultServers,
  getaddrinfo,
  type NameServer,
  query,
} from '../userland/resolver.js';
import { DNS_TYPE, type DnsRecord } from '../wire/dns.js';

type Cb<T> = (err: NodeJS.ErrnoException | null, result?: T) => void;

export interface LookupAddress {
  address: string;
  family: number;
}

export interface LookupOptions {
  family?: number | 'IPv4' | 'IPv6';
  hints?: number;
  all?: boolean;
  verbatim?: boolean;
  order?: 'verbatim' | 'ipv4first' | 'ipv6first';
}

/** The error codes node:dns exports as constants. */
const CODES = {
  NODATA: 'ENODATA',
  FORMERR: 'EFORMERR',
  SERVFAIL: 'ESERVFAIL',
  NOTFOUND: 'ENOTFOUND',
  NOTIMP: 'ENOTIMP',
  REFUSED: 'EREFUSED',
  BADQUERY: 'EBADQUERY',
  BADNAME: 'EBADNAME',
  BADFAMILY: 'EBADFAMILY',
  BADRESP: 'EBADRESP',
  CONNREFUSED: 'ECONNREFUSED',
  TIMEOUT: 'ETIMEOUT',
  EOF: 'EOF',
  FILE: 'EFILE',
  NOMEM: 'ENOMEM',
  DESTRUCTION: 'EDESTRUCTION',
  BADSTR: 'EBADSTR',
  BADFLAGS: 'EBADFLAGS',
  NONAME: 'ENONAME',
  BADHINTS: 'EBADHINTS',
  NOTINITIALIZED: 'ENOTINITIALIZED',
  LOADIPHLPAPI: 'ELOADIPHLPAPI',
  ADDRGETNETWORKPARAMS: 'EADDRGETNETWORKPARAMS',
  CANCELLED: 'ECANCELLED',
} as const;

/** getaddrinfo's flags, as node:dns exports them. */
const HINTS = { ADDRCONFIG: 1024, V4MAPPED: 2048, ALL: 256 } as const;

function invalidArg(name: string, expected: string, value: unknown): TypeError {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${specificType(value)}`,
  );
}

function invalidValue(name: string, value: unknown): TypeError {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `The argument '${name}' must be one of: 0, 4, 6. Received ${String(value)}`,
  );
}

/** dnsException(): `${syscall} ${code} ${hostname}`. */
function dnsError(code: string, syscall: string, hostname: string, errno?: number): NodeJS.ErrnoException {
  const err = new Error(`${syscall} ${code} ${hostname}`) as NodeJS.ErrnoException & { hostname: string };
  err.errno = errno as number;
  err.code = code;
  err.syscall = syscall;
  err.hostname = hostname;
  return err;
}

function familyOf(f: LookupOptions['family'] | undefined): 0 | 4 | 6 {
  if (f === undefined || f === 0) return 0;
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  throw invalidValue('options.family', f);
}

type RrType = 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'MX' | 'TXT' | 'NS' | 'PTR';
const SYSCALL: Record<RrType, string> = {
  A: 'queryA',
  AAAA: 'queryAaaa',
  SRV: 'querySrv',
  CNAME: 'queryCname',
  MX: 'queryMx',
  TXT: 'queryTxt',
  NS: 'queryNs',
  PTR: 'queryPtr',
};

/** How node:dns shapes each record type. */
function shape(rrtype: RrType, recs: DnsRecord[], ttl: boolean): unknown[] {
  switch (rrtype) {
    case 'A':
    case 'AAAA':
      return recs.map((r) => (ttl ? { address: r.data as string, ttl: r.ttl } : (r.data as string)));
    case 'SRV':
      return recs.map((r) => {
        const d = r.data as { priority: number; weight: number; port: number; name: string };
        return { name: d.name, port: d.port, priority: d.priority, weight: d.weight };
      });
    case 'MX':
      return recs.map((r) => {
        const d = r.data as { priority: number; exchange: string };
        return { exchange: d.exchange, priority: d.priority };
      });
    case 'TXT':
      return recs.map((r) => r.data as string[]);
    default:
      return recs.map((r) => r.data as string);
  }
}

export interface DnsModule {
  lookup(hostname: string, options: LookupOptions | number | Cb<string>, cb?: unknown): void;
  resolve(hostname: string, rrtype: RrType | Cb<unknown[]>, cb?: Cb<unknown[]>): void;
  resolve4(hostname: string, options: { ttl?: boolean } | Cb<unknown[]>, cb?: Cb<unknown[]>): void;
  resolve6(hostname: string, options: { ttl?: boolean } | Cb<unknown[]>, cb?: Cb<unknown[]>): void;
  resolveSrv(hostname: string, cb: Cb<unknown[]>): void;
  resolveCname(hostname: string, cb: Cb<unknown[]>): void;
  resolveMx(hostname: string, cb: Cb<unknown[]>): void;
  resolveTxt(hostname: string, cb: Cb<unknown[]>): void;
  resolveNs(hostname: string, cb: Cb<unknown[]>): void;
  resolvePtr(hostname: string, cb: Cb<unknown[]>): void;
  getServers(): string[];
  setServers(servers: readonly string[]): void;
  Resolver: new (options?: { timeout?: number; tries?: number }) => Resolver;
  promises: DnsPromises;
  [code: string]: unknown;
}

export interface DnsPromises {
  lookup(hostname: string, options?: LookupOptions | number): Promise<LookupAddress | LookupAddress[]>;
  resolve(hostname: string, rrtype?: RrType): Promise<unknown[]>;
  resolve4(hostname: string, options?: { ttl?: boolean }): Promise<unknown[]>;
  resolve6(hostname: string, options?: { ttl?: boolean }): Promise<unknown[]>;
  resolveSrv(hostname: string): Promise<unknown[]>;
  resolveCname(hostname: string): Promise<unknown[]>;
  resolveMx(hostname: string): Promise<unknown[]>;
  resolveTxt(hostname: string): Promise<unknown[]>;
  resolveNs(hostname: string): Promise<unknown[]>;
  resolvePtr(hostname: string): Promise<unknown[]>;
  getServers(): string[];
  setServers(servers: readonly string[]): void;
  Resolver: new (options?: { timeout?: number; tries?: number }) => PromiseResolver;
  [code: string]: unknown;
}

/** Parses setServers' forms: '1.2.3.4', '1.2.3.4:5353', '::1', '[::1]:5353'. */
function parseServer(s: unknown, i: number): NameServer {
  if (typeof s !== 'string') throw invalidArg(`servers[${i}]`, 'of type string', s);
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m !== null && isIP(m[1] as string) === 6) return { address: m[1] as string, port: Number(m[2] ?? 53) };
  if (isIP(s) !== 0) return { address: s, port: 53 };
  m = /^([\d.]+):(\d+)$/.exec(s);
  if (m !== null && isIP(m[1] as string) === 4) return { address: m[1] as string, port: Number(m[2]) };
  throw nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${s}`);
}

function formatServer(s: NameServer): string {
  if (s.port === 53) return s.address;
  return isIP(s.address) === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

/** The shared core of dns.Resolver and dns.promises.Resolver. */
class ResolverBase {
  #servers: NameServer[] | null = null;
  #inflight = new Set<AbortController>();
  readonly #timeoutMs: number;
  readonly #tries: number;

  constructor(
    readonly net: Net,
    options: { timeout?: number; tries?: number } = {},
  ) {
    const timeout = options.timeout ?? -1;
    this.#timeoutMs = timeout < 0 ? 5000 : timeout;
    this.#tries = options.tries ?? 4;
  }

  get servers(): NameServer[] {
    return this.#servers ?? defaultServers(this.net);
  }

  getServers(): string[] {
    return this.servers.map(formatServer);
  }

  setServers(servers: readonly string[]): void {
    if (!Array.isArray(servers)) throw invalidArg('servers', 'an instance of Array', servers);
    this.#servers = servers.map(parseServer);
  }

  cancel(): void {
    for (const c of this.#inflight) c.abort();
  }

  async run(hostname: string, rrtype: RrType, ttl: boolean): Promise<unknown[]> {
    if (typeof hostname !== 'string') throw invalidArg('name', 'of type string', hostname);
    const type = DNS_TYPE[rrtype];
    const ac = new AbortController();
    this.#inflight.add(ac);
    try {
      const m = await query(this.net, this.servers, hostname, type, {
        timeoutMs: this.#timeoutMs,
        tries: this.#tries,
        signal: ac.signal,
      });
      const recs = answersOf(m, type);
      if (typeof recs === 'string') throw dnsError(recs as DnsErrorCode, SYSCALL[rrtype], hostname);
      return shape(rrtype, recs, ttl);
    } finally {
      this.#inflight.delete(ac);
    }
  }
}

function callbackify(p: Promise<unknown[]>, cb: unknown): void {
  if (typeof cb !== 'function') throw invalidArg('callback', 'of type function', cb);
  p.then(
    (r) => (cb as Cb<unknown[]>)(null, r),
    (e) => (cb as Cb<unknown[]>)(e),
  );
}

const RRTYPES: readonly RrType[] = ['A', 'AAAA', 'SRV', 'CNAME', 'MX', 'TXT', 'NS', 'PTR'];

/** dns.Resolver: callbacks. */
export class Resolver extends ResolverBase {
  resolve(hostname: string, rrtype: RrType | Cb<unknown[]>, cb?: Cb<unknown[]>): void {
    const t = typeof rrtype === 'function' ? 'A' : rrtype;
    if (!RRTYPES.includes(t))
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'rrtype' is invalid. Received '${t}'`);
    callbackify(this.run(hostname, t, false), typeof rrtype === 'function' ? rrtype : cb);
  }
  resolve4(hostname: string, options: { ttl?: boolean } | Cb<unknown[]>, cb?: Cb<unknown[]>): void {
    const ttl = typeof options === 'object' && options !== null && options.ttl === true;
    callbackify(this.run(hostname, 'A', ttl), typeof options === 'function' ? options : cb);
  }
  resolve6(hostname: string, options: { ttl?: boolean } | Cb<unknown[]>, cb?: Cb<unknown[]>): void {
    const ttl = typeof options === 'object' && options !== null && options.ttl === true;
    callbackify(this.run(hostname, 'AAAA', ttl), typeof options === 'function' ? options : cb);
  }
  resolveSrv(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'SRV', false), cb);
  }
  resolveCname(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'CNAME', false), cb);
  }
  resolveMx(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'MX', false), cb);
  }
  resolveTxt(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'TXT', false), cb);
  }
  resolveNs(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'NS', false), cb);
  }
  resolvePtr(hostname: string, cb: Cb<unknown[]>): void {
    callbackify(this.run(hostname, 'PTR', false), cb);
  }
}

/** dns.promises.Resolver. */
export class PromiseResolver extends ResolverBase {
  resolve(hostname: string, rrtype: RrType = 'A'): Promise<unknown[]> {
    if (!RRTYPES.includes(rrtype))
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'rrtype' is invalid. Received '${rrtype}'`);
    return this.run(hostname, rrtype, false);
  }
  resolve4(hostname: string, options: { ttl?: boolean } = {}): Promise<unknown[]> {
    return this.run(hostname, 'A', options.ttl === true);
  }
  resolve6(hostname: string, options: { ttl?: boolean } = {}): Promise<unknown[]> {
    return this.run(hostname, 'AAAA', options.ttl === true);
  }
  resolveSrv(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'SRV', false);
  }
  resolveCname(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'CNAME', false);
  }
  resolveMx(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'MX', false);
  }
  resolveTxt(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'TXT', false);
  }
  resolveNs(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'NS', false);
  }
  resolvePtr(hostname: string): Promise<unknown[]> {
    return this.run(hostname, 'PTR', false);
  }
}

/** dns.lookup's work: the addresses in getaddrinfo's order, or Node's error for it. */
async function lookupAll(net: Net, hostname: string, family: 0 | 4 | 6, order: string): Promise<LookupAddress[]> {
  const r = await getaddrinfo(net, hostname, family);
  if (!Array.isArray(r))
    throw dnsError(r.code === 'EAI_NONAME' ? 'ENOTFOUND' : r.code, 'getaddrinfo', hostname, r.errno);
  const out = r.map((a) => ({ address: a.address, family: a.family }));
  if (order === 'ipv4first') out.sort((a, b) => a.family - b.family);
  else if (order === 'ipv6first') out.sort((a, b) => b.family - a.family);
  return out;
}

interface ParsedLookup {
  family: 0 | 4 | 6;
  all: boolean;
  order: string;
}

function parseLookupOptions(hostname: unknown, options: unknown): ParsedLookup {
  if (hostname !== undefined && hostname !== null && typeof hostname !== 'string')
    throw invalidArg('hostname', 'of type string', hostname);
  if (typeof options === 'number' || options === undefined || options === null)
    return { family: familyOf(options as number | undefined), all: false, order: 'verbatim' };
  if (typeof options !== 'object') throw invalidArg('options', 'of type object', options);
  const o = options as LookupOptions;
  const order = o.order ?? (o.verbatim === false ? 'ipv4first' : 'verbatim');
  return { family: familyOf(o.family), all: o.all === true, order };
}

/** The members node:dns and node:dns/promises export for one namespace. */
export function dnsFor(net: Net): DnsModule {
  const shared = new Resolver(net);
  const sharedP = new PromiseResolver(net);

  function lookup(hostname: string, options: LookupOptions | number | Cb<string>, cb?: unknown): void {
    if (typeof options === 'function') {
      cb = options;
      options = 0;
    }
    if (typeof cb !== 'function') throw invalidArg('callback', 'of type function', cb);
    const o = parseLookupOptions(hostname, options);
    const done = cb as (err: Error | null, address?: unknown, family?: number) => void;
    // An empty or missing name is no name: null, as Node answers without a lookup.
    if (!hostname) {
      process.nextTick(() => (o.all ? done(null, []) : done(null, null, o.family === 6 ? 6 : 4)));
      return;
    }
    lookupAll(net, hostname, o.family, o.order).then(
      (addrs) => {
        if (o.all) done(null, addrs);
        else done(null, addrs[0]?.address, addrs[0]?.family);
      },
      (err) => done(err),
    );
  }

  const promises: DnsPromises = {
    async lookup(hostname: string, options?: LookupOptions | number) {
      const o = parseLookupOptions(hostname, options);
      const addrs = await lookupAll(net, hostname, o.family, o.order);
      return o.all ? addrs : (addrs[0] as LookupAddress);
    },
    resolve: (h, t) => sharedP.resolve(h, t),
    resolve4: (h, o) => sharedP.resolve4(h, o),
    resolve6: (h, o) => sharedP.resolve6(h, o),
    resolveSrv: (h) => sharedP.resolveSrv(h),
    resolveCname: (h) => sharedP.resolveCname(h),
    resolveMx: (h) => sharedP.resolveMx(h),
    resolveTxt: (h) => sharedP.resolveTxt(h),
    resolveNs: (h) => sharedP.resolveNs(h),
    resolvePtr: (h) => sharedP.resolvePtr(h),
    getServers: () => sharedP.getServers(),
    setServers: (s) => sharedP.setServers(s),
    Resolver: class extends PromiseResolver {
      constructor(options?: { timeout?: number; tries?: number }) {
        super(net, options);
      }
    },
    ...CODES,
  };

  return {
    lookup,
    resolve: (h, t, cb) => shared.resolve(h, t, cb),
    resolve4: (h, o, cb) => shared.resolve4(h, o, cb),
    resolve6: (h, o, cb) => shared.resolve6(h, o, cb),
    resolveSrv: (h, cb) => shared.resolveSrv(h, cb),
    resolveCname: (h, cb) => shared.resolveCname(h, cb),
    resolveMx: (h, cb) => shared.resolveMx(h, cb),
    resolveTxt: (h, cb) => shared.resolveTxt(h, cb),
    resolveNs: (h, cb) => shared.resolveNs(h, cb),
    resolvePtr: (h, cb) => shared.resolvePtr(h, cb),
    getServers: () => shared.getServers(),
    setServers: (s) => {
      shared.setServers(s);
      sharedP.setServers(s);
    },
    Resolver: class extends Resolver {
      constructor(options?: { timeout?: number; tries?: number }) {
        super(net, options);
      }
    },
    promises,
    ...CODES,
    ...HINTS,
  };
}

/** The namespace's /etc/hosts, as `ns.hosts` hands it out. */
