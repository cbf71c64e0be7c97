/**
 * getent hosts, nslookup and dig +short in a namespace, beside the real tools (glibc's
 * getent, BIND 9.18's nslookup and dig) run in a private Linux network and mount
 * namespace with the same /etc/hosts and resolv.conf and the same zone served on
 * 127.0.0.53:53. The outputs and exit codes must be the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Namespace } from '../../src/api/namespace.js';
import { serveZone, type UdpLike } from '../fixtures/dns-zone.js';

const HOSTS = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.0.2 db.test db\n';
const RESOLV = 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n';
const ZONE_SERVER = fileURLToPath(new URL('../fixtures/dns-zone.ts', import.meta.url));

const WITH_SERVER = [
  'getent hosts api.test',
  'getent hosts db.test localhost',
  'getent hosts x.test',
  'nslookup api.test',
  'nslookup x.test',
  'nslookup db.test',
  'nslookup -type=SRV _http._tcp.api.test',
  'dig +short api.test',
  'dig +short AAAA api.test',
  'dig +short x.test',
  'dig +short _http._tcp.api.test SRV',
];
const WITHOUT_SERVER = ['dig +short api.test', 'nslookup api.test', 'getent hosts db.test'];

interface Result {
  code: number;
  stdout: string;
}

function haveTools(): boolean {
  return ['unshare', 'dig', 'nslookup', 'getent'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
}

/** The real tools, in `unshare --net --mount` with the files bind-mounted over /etc. */
function linux(lines: string[], server: boolean): Result[] | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-dns-'));
  writeFileSync(join(dir, 'hosts'), HOSTS);
  writeFileSync(join(dir, 'resolv.conf'), RESOLV);
  const ready = join(dir, 'ready');
  const script = [
    'set -u',
    `mount --bind ${dir}/hosts /etc/hosts`,
    `mount --bind ${dir}/resolv.conf /etc/resolv.conf`,
    'ip link set lo up',
    server
      ? `${process.execPath} --import tsx ${ZONE_SERVER} ${ready} 127.0.0.53 & SRV=$!; while [ ! -s ${ready} ]; do sleep 0.05; done`
      : 'SRV=',
    ...lines.map((l, i) => `${l} > ${dir}/out${i} 2>/dev/null; echo $? > ${dir}/rc${i}`),
    '[ -n "$SRV" ] && kill $SRV; true',
  ].join('\n');
  const r = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return lines.map((_, i) => {
    const out = spawnSync('cat', [join(dir, `out${i}`)], { encoding: 'utf8' }).stdout;
    const rc = Number(spawnSync('cat', [join(dir, `rc${i}`)], { encoding: 'utf8' }).stdout.trim());
    return { code: rc, stdout: out };
  });
}

async function lonet(lines: string[], server: boolean): Promise<Result[]> {
  const ns = new Namespace();
  ns.hosts.text = HOSTS;
  ns.resolvConf.text = RESOLV;
  const sock = ns.dgram.createSocket('udp4');
  if (server) {
    serveZone(sock as unknown as UdpLike);
    await new Promise<void>((r) => sock.bind(53, '127.0.0.53', () => r()));
  }
  const out: Result[] = [];
  for (const l of lines) {
    const r = await ns.exec(l);
    out.push({ code: r.code, stdout: r.stdout });
  }
  if (server) sock.close();
  return out;
}

test('getent hosts, nslookup and dig +short print what the real tools print, with a nameserver in the namespace', async (t) => {
  if (!haveTools()) return t.skip('needs unshare, dig, nslookup and getent');
  const want = linux(WITH_SERVER, true);
  if (want === undefined) return t.skip('unshare --net --mount is not available');
  const got = await lonet(WITH_SERVER, true);
  for (const [i, line] of WITH_SERVER.entries()) assert.deepEqual(got[i], want[i], line);
});

test('with nobody on 127.0.0.53:53: the refusals and exit codes of the real tools; getent still reads /etc/hosts', async (t) => {
  if (!haveTools()) return t.skip('needs unshare, dig, nslookup and getent');
  const want = linux(WITHOUT_SERVER, false);
  if (want === undefined) return t.skip('unshare --net --mount is not available');
  const got = await lonet(WITHOUT_SERVER, false);
  for (const [i, line] of WITHOUT_SERVER.entries()) assert.deepEqual(got[i], want[i], line);
});

test("echo >> /etc/hosts in the shell: cat shows it, getent and the namespace's lookups find it", async () => {
  const ns = new Namespace();
  const r = await ns.exec('echo "127.0.0.2 db.test" >> /etc/hosts; cat /etc/hosts; getent hosts db.test');
  assert.equal(
    r.stdout,
    `127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n127.0.0.2 db.test\n127.0.0.2       db.test\n`,
  );
  assert.deepEqual(await ns.dns.promises.lookup('db.test'), { address: '127.0.0.2', family: 4 });
  // curl resolves through the same file; a name it lacks is curl's (6).
  const server = ns.http.createServer((req, res) => res.end(`${req.headers.host} on ${req.socket.localAddress}\n`));
  await new Promise<void>((resolve) => server.listen(8080, () => resolve()));
  const c = await ns.exec('curl -s http://db.test:8080/; curl -sS http://nope.test:8080/; echo $?');
  assert.deepEqual(c, {
    code: 0,
    stdout: 'db.test:8080 on ::ffff:127.0.0.2\n6\n',
    stderr: 'curl: (6) Could not resolve host: nope.test\n',
  });
  server.close();
  const w = await ns.exec('echo nameserver 127.0.0.53 > /etc/resolv.conf; cat /etc/resolv.conf');
  assert.equal(w.stdout, 'nameserver 127.0.0.53\n');
  assert.deepEqual(ns.dns.getServers(), ['127.0.0.53']);
  const bad = await ns.exec('echo x > /nonexistent/file; echo $?');
  assert.deepEqual(bad, { code: 0, stdout: '1\n', stderr: 'lonet: /nonexistent/file: No such file or directory\n' });
});
