/**
 * lonet's curl against an ns.http server, compared line for line with the real curl
 * (7.88, when installed) against a real node:http server on the host's lo, same handler
 * and same port number, so the bytes on stdout and stderr must match.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

const handler: http.RequestListener = (req, res) => {
  // No Date header, so the two servers' answers are byte for byte the same.
  res.sendDate = false;
  let body = '';
  req.on('data', (d: Buffer) => {
    body += d.toString();
  });
  req.on('end', () => {
    res.setHeader('X-Echo-Method', req.method ?? '');
    if (req.url === '/chunked') {
      res.write('one\n');
      res.end('two\n');
      return;
    }
    if (req.url === '/missing') {
      res.statusCode = 404;
      res.end('no such page\n');
      return;
    }
    res.end(body === '' ? `hello from lo, ${req.headers['x-a'] ?? 'no x-a'}, ${req.headers.host}\n` : `got ${body}\n`);
  });
};

function hasCurl(): boolean {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Real curl's -v, less the "[N bytes data]" lines it adds when stderr is not a terminal. */
const notTty = (s: string) =>
  s
    .split('\n')
    .filter((l) => !/^[{}] \[\d+ bytes data\]$/.test(l))
    .join('\n');
/** Real curl's progress meter, drawn when stdout is not a terminal; lonet's curl draws none. */
const PROGRESS = / {2}% Total.*\n.*Dload.*\n(?:\r?(?: *[\d.]+[kMG]?){8}(?: +[-:\d]{8}){3} +[\d.]+[kMG]?)+\n?/g;
const ms = (s: string) => s.replace(/after \d+ ms/g, 'after N ms');

const CASES = (port: number, closed: number) => [
  ['-s', `http://127.0.0.1:${port}/`],
  ['-i', `http://127.0.0.1:${port}/`],
  ['-I', `http://127.0.0.1:${port}/`],
  ['-si', `http://127.0.0.1:${port}/chunked`],
  ['-s', '-i', `127.0.0.1:${port}/missing`],
  ['-s', '-X', 'PUT', '-H', 'X-A: b', `http://127.0.0.1:${port}/`],
  ['-s', '-d', 'a=1', '-d', 'b', `http://127.0.0.1:${port}/form`],
  ['-sv', '-d', 'a=1', `http://127.0.0.1:${port}/x`],
  ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`],
  ['-si', '-d', 'x', `http://[::1]:${port}/v6`],
  ['-sv', `http://[::1]:${port}/v6`],
  ['-sv', `http://[::1]:${closed}/`],
  [`http://127.0.0.1:${closed}/`],
  ['-s', `http://127.0.0.1:${closed}/`],
  ['-sS', `http://127.0.0.1:${closed}/`],
  ['-sv', `http://127.0.0.1:${closed}/`],
  ['http://nosuch/'],
  ['-s', '--bogus', `http://127.0.0.1:${port}/`],
  ['-X'],
  [],
];

test('curl over lonet prints what the real curl prints against a real node:http server', async (t) => {
  if (!hasCurl()) return t.skip('no curl on this host (apt-get install curl)');
  const real = http.createServer(handler);
  // Dual stack, as both servers are: 127.0.0.1 and ::1 reach them.
  await new Promise<void>((r) => real.listen(0, '::', () => r()));
  const port = (real.address() as AddressInfo).port;
  // A port nobody listens on, on the host and in the namespace.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const closed = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const ns = new Namespace();
  const srv = ns.http.createServer(handler);
  await new Promise<void>((r) => srv.listen(port, '::', () => r()));
  try {
    for (const args of CASES(port, closed)) {
      // spawnSync would block the real server's event loop; run real curl asynchronously.
      const want = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('curl', args, { timeout: 120_000 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : ((err as { code?: number }).code ?? -1);
          resolve({ code, stdout, stderr: notTty(stderr).replace(PROGRESS, '') });
        });
      });
      const quoted = args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
      const got = await ns.exec(`curl ${quoted}`);
      const line = `curl ${quoted}`;
      assert.equal(got.code, want.code, `${line}: exit status`);
      assert.equal(got.stdout, want.stdout, `${line}: stdout`);
      assert.equal(ms(got.stderr), ms(want.stderr), `${line}: stderr`);
    }
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
    await new Promise<void>((r) => real.close(() => r()));
  }
});

test('curl: a refused connect is exit 7 (http:// and https://), an unknown name exit 6, gopher:// is not supported', async () => {
  const ns = new Namespace();
  let r = await ns.exec('curl http://127.0.0.1:8081/');
  assert.deepEqual(
    { ...r, stderr: ms(r.stderr) },
    {
      code: 7,
      stdout: '',
      stderr: "curl: (7) Failed to connect to 127.0.0.1 port 8081 after N ms: Couldn't connect to server\n",
    },
  );
  r = await ns.exec('curl http://nosuch/');
  assert.deepEqual(r, { code: 6, stdout: '', stderr: 'curl: (6) Could not resolve host: nosuch\n' });
  r = await ns.exec('curl https://127.0.0.1/');
  assert.equal(r.code, 7);
  assert.equal(
    ms(r.stderr),
    "curl: (7) Failed to connect to 127.0.0.1 port 443 after N ms: Couldn't connect to server\n",
  );
  r = await ns.exec('curl gopher://127.0.0.1/');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'curl: (1) Protocol "gopher" not supported or disabled in libcurl\n');
  // The refused connects went through lo as SYNs answered by RSTs: the counters say so.
  const snmp = await ns.exec('cat /proc/net/snmp');
  const tcp = snmp.stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = (tcp[0] ?? '').split(' ');
  const values = (tcp[1] ?? '').split(' ');
  assert.equal(values[names.indexOf('AttemptFails')], '2');
  assert.equal(values[names.indexOf('OutRsts')], '2');
});

test('curl -i through ns.http: the headers as the server wrote them, in its case and order', async () => {
  const ns = new Namespace();
  const srv = ns.http.createServer((_req, res) => {
    res.sendDate = false;
    res.writeHead(201, 'Made', { 'x-lower': 'a', 'X-Upper': 'B' });
    res.end('made\n');
  });
  await new Promise<void>((r) => srv.listen(8080, '127.0.0.1', () => r()));
  const r = await ns.exec('curl -i http://127.0.0.1:8080/');
  await new Promise<void>((res) => srv.close(() => res()));
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    'HTTP/1.1 201 Made\r\nx-lower: a\r\nX-Upper: B\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\nmade\n',
  );
});
