/**
 * lonet's curl with https:// against ns.https / ns.http2 servers, compared with the real
 * curl (7.88, OpenSSL 3) against the same programs on node:https / node:http2 on the
 * kernel's lo, with the same certificates: (60) for a certificate it cannot verify, -k,
 * --cacert, (35) for a plain server, (77) for a missing CA file, --http2.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as kernelHttp2 from 'node:http2';
import * as kernelHttps from 'node:https';
import * as kernelNet from 'node:net';
import { after, test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { makeCerts } from '../helpers/certs.js';

const certs = makeCerts();
after(() => certs.cleanup());

function hasCurl(): boolean {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Mods {
  https: typeof kernelHttps;
  http2: typeof kernelHttp2;
  net: typeof kernelNet;
}

/** The three servers: self-signed https, CA-signed h2+http/1.1, and a plain TCP one. */
function servers(m: Mods, base: number): Promise<() => Promise<void>> {
  const self = m.https.createServer({ key: certs.selfKey, cert: certs.selfCert }, (_q, r) => r.end('self\n'));
  const good = m.http2.createSecureServer({ key: certs.key, cert: certs.cert, allowHTTP1: true }, (q, r) => {
    r.setHeader('x-proto', q.httpVersion);
    r.end(`good ${q.httpVersion}\n`);
  });
  const plain = m.net.createServer((s) => {
    s.on('error', () => {});
    s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  const all = [self, good, plain] as kernelNet.Server[];
  const sockets = new Set<kernelNet.Socket>();
  for (const s of all)
    s.on('connection', (c: kernelNet.Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
  return Promise.all(all.map((s, i) => new Promise<void>((r) => s.listen(base + i, '127.0.0.1', () => r())))).then(
    () => async () => {
      for (const c of sockets) c.destroy();
      await Promise.all(all.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  );
}

const CASES = (base: number) => [
  `-sS https://127.0.0.1:${base}/`,
  `-sSk https://127.0.0.1:${base}/`,
  `-sS --cacert ${certs.caFile} https://127.0.0.1:${base + 1}/`,
  `-sS https://127.0.0.1:${base + 1}/`,
  `-sS https://127.0.0.1:${base + 2}/`,
  `-sS --cacert /nonexistent/ca.pem https://127.0.0.1:${base + 1}/`,
  `-sS --http2 --cacert ${certs.caFile} https://127.0.0.1:${base + 1}/`,
  `-sS --http1.1 --cacert ${certs.caFile} https://127.0.0.1:${base + 1}/`,
];

const norm = (t: string) => t.replace(/OpenSSL\/[\d.]+/g, 'OpenSSL/V');

test('curl https:// over lonet prints and exits as the real curl does against node:https/http2', async (t) => {
  if (!hasCurl()) return t.skip('no curl on this host (apt-get install curl)');
  const base = 18443;
  const stop = await servers({ https: kernelHttps, http2: kernelHttp2, net: kernelNet }, base);
  const real: { code: number; stdout: string; stderr: string }[] = [];
  try {
    for (const args of CASES(base)) {
      real.push(
        await new Promise((resolve) =>
          execFile('curl', args.split(' '), { timeout: 10_000 }, (err, stdout, stderr) =>
            resolve({ code: err === null ? 0 : Number((err as { code?: number }).code), stdout, stderr: norm(stderr) }),
          ),
        ),
      );
    }
  } finally {
    await stop();
  }
  const ns = new Namespace();
  const stopNs = await servers({ https: ns.https, http2: ns.http2, net: ns.net } as unknown as Mods, 8443);
  try {
    for (const [i, args] of CASES(8443).entries()) {
      const got = await ns.exec(`curl ${args}`);
      const want = real[i] as { code: number; stdout: string; stderr: string };
      assert.deepEqual(
        { ...got, stderr: norm(got.stderr).replaceAll('8443', 'PORT').replaceAll('8444', 'PORT1') },
        { ...want, stderr: want.stderr.replaceAll(String(base), 'PORT').replaceAll(String(base + 1), 'PORT1') },
        `curl ${args}`,
      );
    }
  } finally {
    await stopNs();
  }
});

test('curl -i --http2 shows curl’s HTTP/2 head: status line, the server’s headers, then the body', async () => {
  const ns = new Namespace();
  const stop = await servers({ https: ns.https, http2: ns.http2, net: ns.net } as unknown as Mods, 9443);
  try {
    const r = await ns.exec(`curl -sSi --http2 --cacert ${certs.caFile} https://localhost:9444/`);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^HTTP\/2 200 \r\nx-proto: 2\.0\r\n(?:[a-z-]+: [^\r]*\r\n)*\r\ngood 2\.0\n$/);
  } finally {
    await stop();
  }
});
