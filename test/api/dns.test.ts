/**
 * The node:dns face: a namespace's /etc/hosts and resolv.conf, and a DNS server written
 * with the namespace's dgram answering real DNS messages. The wire format is checked
 * against a real peer: Node's own c-ares resolver querying a server on the kernel's lo.
 */
import assert from 'node:assert/strict';
import * as realDgram from 'node:dgram';
import * as realDns from 'node:dns';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import {
  DNS_CLASS_IN,
  DNS_FLAG,
  DNS_RCODE,
  DNS_TYPE,
  type DnsMessage,
  type DnsRecord,
  emitDnsMessage,
  parseDnsMessage,
} from '../../src/wire/dns.js';

/** The zone the test servers serve. */
const ZONE: Record<string, DnsRecord['data'][]> = {
  'A api.test': ['127.0.0.7', '127.0.0.8'],
  'AAAA api.test': ['::1', 'fd00::1:2'],
  'SRV _http._tcp.api.test': [{ priority: 10, weight: 5, port: 3000, name: 'api.test' }],
  'A only6.test': [],
  'AAAA only6.test': ['::1'],
};

function answer(q: DnsMessage): Uint8Array {
  const question = q.questions[0];
  if (question === undefined) return emitDnsMessage({ id: q.id, flags: DNS_FLAG.QR, rcode: DNS_RCODE.FORMERR });
  const typeName = Object.entries(DNS_TYPE).find(([, v]) => v === question.type)?.[0];
  const known = Object.keys(ZONE).some((k) => k.endsWith(` ${question.name}`));
  const data = ZONE[`${typeName} ${question.name}`] ?? [];
  return emitDnsMessage({
    id: q.id,
    flags: DNS_FLAG.QR | DNS_FLAG.AA | DNS_FLAG.RD | DNS_FLAG.RA,
    rcode: known ? DNS_RCODE.NOERROR : DNS_RCODE.NXDOMAIN,
    questions: q.questions,
    answers: data.map((d) => ({ name: question.name, type: question.type, class: DNS_CLASS_IN, ttl: 300, data: d })),
  });
}

type UdpLike = {
  on(e: 'message', f: (m: Uint8Array, r: { address: string; port: number }) => void): unknown;
  send(b: Uint8Array, port: number, address: string): void;
};

function serve(sock: UdpLike, seen: DnsMessage[] = []): DnsMessage[] {
  sock.on('message', (m, r) => {
    const q = parseDnsMessage(m);
    seen.push(q);
    sock.send(answer(q), r.port, r.address);
  });
  return seen;
}

async function nsWithServer(address = '127.0.0.53', port = 53) {
  const ns = new Namespace();
  const sock = ns.dgram.createSocket('udp4');
  const seen = serve(sock as unknown as UdpLike);
  await new Promise<void>((r) => sock.bind(port, address, () => r()));
  return { ns, sock, seen };
}

test('wire format against c-ares: Node’s real Resolver asks a server on the kernel’s lo that answers with emitDnsMessage', async () => {
  const sock = realDgram.createSocket('udp4');
  const seen = serve(sock);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    const res = new realDns.promises.Resolver({ timeout: 2000, tries: 1 });
    res.setServers([`127.0.0.1:${sock.address().port}`]);
    assert.deepEqual(await res.resolve4('api.test'), ['127.0.0.7', '127.0.0.8']);
    assert.deepEqual(await res.resolve4('api.test', { ttl: true }), [
      { address: '127.0.0.7', ttl: 300 },
      { address: '127.0.0.8', ttl: 300 },
    ]);
    assert.deepEqual(await res.resolve6('api.test'), ['::1', 'fd00::1:2']);
    assert.deepEqual(await res.resolveSrv('_http._tcp.api.test'), [
      { name: 'api.test', port: 3000, priority: 10, weight: 5 },
    ]);
    await assert.rejects(res.resolve4('x.test'), { code: 'ENOTFOUND', syscall: 'queryA', hostname: 'x.test' });
    // c-ares's own queries parse: one question each, recursion desired.
    assert.ok(seen.length >= 5);
    for (const q of seen) {
      assert.equal(q.questions.length, 1);
      assert.equal(q.flags & DNS_FLAG.RD, DNS_FLAG.RD);
    }
    assert.deepEqual(
      seen.slice(0, 4).map((q) => [q.questions[0]?.name, q.questions[0]?.type]),
      [
        ['api.test', DNS_TYPE.A],
        ['api.test', DNS_TYPE.A],
        ['api.test', DNS_TYPE.AAAA],
        ['_http._tcp.api.test', DNS_TYPE.SRV],
      ],
    );
  } finally {
    sock.close();
  }
});

test('the same answers from lonet: a dgram DNS server in the namespace answers resolve4/resolve6/resolveSrv and Resolver', async () => {
  const { ns, sock, seen } = await nsWithServer();
  ns.resolvConf.setNameservers(['127.0.0.53']);
  const dns = ns.dns;
  assert.deepEqual(dns.getServers(), ['127.0.0.53']);
  assert.deepEqual(await dns.promises.resolve4('api.test'), ['127.0.0.7', '127.0.0.8']);
  assert.deepEqual(await dns.promises.resolve6('api.test', { ttl: true }), [
    { address: '::1', ttl: 300 },
    { address: 'fd00::1:2', ttl: 300 },
  ]);
  assert.deepEqual(await dns.promises.resolveSrv('_http._tcp.api.test'), [
    { name: 'api.test', port: 3000, priority: 10, weight: 5 },
  ]);
  const srv = await new Promise((resolve, reject) =>
    dns.resolve('_http._tcp.api.test', 'SRV', (e, r) => (e ? reject(e) : resolve(r))),
  );
  assert.deepEqual(srv, [{ name: 'api.test', port: 3000, priority: 10, weight: 5 }]);
  await assert.rejects(dns.promises.resolve4('x.test'), {
    message: 'queryA ENOTFOUND x.test',
    code: 'ENOTFOUND',
    syscall: 'queryA',
  });
  await assert.rejects(dns.promises.resolve4('only6.test'), { message: 'queryA ENODATA only6.test', code: 'ENODATA' });
  // A Resolver of its own, pointed at a server on another port.
  const other = ns.dgram.createSocket('udp4');
  const otherSeen = serve(other as unknown as UdpLike);
  await new Promise<void>((r) => other.bind(5353, '127.0.0.1', () => r()));
  const r = new dns.promises.Resolver();
  r.setServers(['127.0.0.1:5353']);
  assert.deepEqual(r.getServers(), ['127.0.0.1:5353']);
  assert.deepEqual(await r.resolve4('api.test'), ['127.0.0.7', '127.0.0.8']);
  assert.equal(otherSeen.length, 1);
  assert.equal(seen.length, 6);
  sock.close();
  other.close();
});

test('lookup: /etc/hosts first, then the nameserver; net, http and fetch use it; unknown names are getaddrinfo ENOTFOUND', async () => {
  const { ns, sock, seen } = await nsWithServer();
  ns.hosts.set('db.test', '127.0.0.2');
  assert.match(ns.hosts.text, /^127\.0\.0\.2\tdb\.test$/m);
  // No nameserver yet: files only.
  assert.deepEqual(await ns.dns.promises.lookup('db.test'), { address: '127.0.0.2', family: 4 });
  await assert.rejects(ns.dns.promises.lookup('api.test'), {
    message: 'getaddrinfo ENOTFOUND api.test',
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: 'api.test',
  });
  assert.equal(seen.length, 0);
  ns.resolvConf.setNameservers(['127.0.0.53']);
  assert.deepEqual(await ns.dns.promises.lookup('api.test', { all: true }), [
    { address: '127.0.0.7', family: 4 },
    { address: '127.0.0.8', family: 4 },
    { address: '::1', family: 6 },
    { address: 'fd00::1:2', family: 6 },
  ]);
  assert.deepEqual(await ns.dns.promises.lookup('api.test', 6), { address: '::1', family: 6 });
  await assert.rejects(ns.dns.promises.lookup('x.test'), {
    code: 'ENOTFOUND',
    message: 'getaddrinfo ENOTFOUND x.test',
  });
  // The hosts file wins over DNS, and the face's connections use both.
  const server = ns.http.createServer((req, res) => res.end(`${req.headers.host} ${req.socket.localAddress}`));
  await new Promise<void>((r) => server.listen(3000, () => r()));
  const viaHosts = await ns.fetch('http://db.test:3000/');
  assert.equal(await viaHosts.text(), 'db.test:3000 ::ffff:127.0.0.2');
  const viaDns = await ns.fetch('http://api.test:3000/');
  assert.equal(await viaDns.text(), 'api.test:3000 ::ffff:127.0.0.7');
  await assert.rejects(ns.fetch('http://x.test:3000/'), (e: Error & { cause?: { code?: string } }) => {
    assert.equal(e.cause?.code, 'ENOTFOUND');
    return true;
  });
  const sockErr = await new Promise<Error>((r) => ns.net.connect(3000, 'nope.test').once('error', r));
  assert.equal(sockErr.message, 'getaddrinfo ENOTFOUND nope.test');
  server.close();
  sock.close();
});

test('a nameserver nobody listens on: lookup is EAI_AGAIN and resolve4 ECONNREFUSED, as on Linux', async () => {
  const ns = new Namespace();
  ns.resolvConf.setNameservers(['127.0.0.53']);
  await assert.rejects(ns.dns.promises.lookup('x.test'), {
    message: 'getaddrinfo EAI_AGAIN x.test',
    code: 'EAI_AGAIN',
    errno: -3001,
  });
  await assert.rejects(ns.dns.promises.resolve4('x.test'), { message: 'queryA ECONNREFUSED x.test' });
  // With no nameserver line at all, resolve* asks 127.0.0.1 as c-ares does.
  const bare = new Namespace();
  assert.deepEqual(bare.dns.getServers(), ['127.0.0.1']);
  await assert.rejects(bare.dns.promises.resolve6('x.test'), { message: 'queryAaaa ECONNREFUSED x.test' });
});

test('malformed answers are ignored and the query times out as ETIMEOUT', async () => {
  const ns = new Namespace();
  const sock = ns.dgram.createSocket('udp4');
  sock.on('message', (_m, r) => sock.send(Uint8Array.of(1, 2, 3), r.port, r.address));
  await new Promise<void>((r) => sock.bind(53, '127.0.0.1', () => r()));
  const res = new ns.dns.promises.Resolver({ timeout: 50, tries: 2 });
  await assert.rejects(res.resolve4('api.test'), { code: 'ETIMEOUT', message: 'queryA ETIMEOUT api.test' });
  sock.close();
});
