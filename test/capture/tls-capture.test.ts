/**
 * What goes over lo for an https exchange is real TLS: tshark decodes the handshake from a
 * lonet capture (Client Hello, Server Hello, no malformed packet) and tcpdump -A shows no
 * trace of the plaintext body.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { makeCerts } from '../helpers/certs.js';
import { HAVE_TCPDUMP, HAVE_TSHARK, realTcpdump, realTshark } from './real-tools.js';

const SECRET = 'the-plaintext-body-nobody-on-lo-may-read';

test('an https exchange captured on lonet lo: tshark sees the TLS handshake, tcpdump -A no plaintext', async (t) => {
  const certs = makeCerts();
  const dir = mkdtempSync(join(tmpdir(), 'lonet-tls-cap-'));
  try {
    const ns = new Namespace();
    const cap = ns.capture({ device: 'lo', checksums: 'complete' });
    const srv = ns.https.createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end(SECRET));
    await new Promise<void>((r) => srv.listen(8443, '127.0.0.1', () => r()));
    // The exchange is over when the client's socket has closed (Connection: close).
    const body = await new Promise<string>((resolve) =>
      ns.https.get({ host: 'localhost', port: 8443, ca: certs.ca, agent: false }, (res) => {
        let b = '';
        res.on('data', (d) => {
          b += d;
        });
        res.socket.once('close', () => resolve(b));
      }),
    );
    assert.equal(body, SECRET);
    await new Promise<void>((r) => srv.close(() => r()));
    cap.close();
    const parts: Uint8Array[] = [];
    for await (const c of cap.pcap()) parts.push(c);
    const bytes = Buffer.concat(parts);
    assert.equal(bytes.includes(SECRET), false, 'the body must not be on the wire in clear');
    const file = join(dir, 'https.pcap');
    writeFileSync(file, bytes);
    if (HAVE_TCPDUMP) {
      const a = realTcpdump(['-A', '-nr', file]);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stdout, /127\.0\.0\.1\.8443/);
      assert.equal(a.stdout.includes(SECRET), false);
    }
    if (!HAVE_TSHARK) return t.skip('tshark is not installed');
    const hs = realTshark(['-r', file, '-d', 'tcp.port==8443,tls', '-Y', 'tls.handshake']);
    assert.equal(hs.code, 0, hs.stderr);
    assert.match(hs.stdout, /Client Hello/);
    assert.match(hs.stdout, /Server Hello/);
    const bad = realTshark([
      '-r',
      file,
      '-d',
      'tcp.port==8443,tls',
      '-Y',
      '_ws.malformed || _ws.expert.severity == error',
    ]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.equal(bad.stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    certs.cleanup();
  }
});
