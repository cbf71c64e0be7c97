/**
 * HTTP soak over a faulty lo: a real http.Server (ns.http) answering keep-alive ns.http.Agent
 * clients and ns.fetch (undici) while lo's netem qdisc loses, reorders, duplicates and corrupts
 * packets (seeded, virtual time). Every request completes with the right bytes, or fails with
 * an error Node gives; corrupted segments are caught by TCP's checksum (netem corrupt runs
 * skb_checksum_help first, so the receiver verifies a full checksum: Tcp InCsumErrors rises)
 * and are repaired by retransmission, never delivered.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Namespace } from '../../src/api/namespace.js';
import { netem, qdiscReplace } from '../../src/sched/sch-api.js';
import { mib, pattern, tick, virtualNs } from './tcp-drive.js';

/** Runs virtual time until `p` settles: let every queued callback run, then jump to the next timer. */
async function drive<T>(ns: Namespace, p: Promise<T>, limitNs = 900e9): Promise<T> {
  let settled = false;
  const out = p.finally(() => {
    settled = true;
  });
  const vc = ns.kernel.virtualClock;
  const end = vc.now() + limitNs;
  while (!settled) {
    for (let i = 0; i < 4 && !settled; i++) await tick();
    if (settled) break;
    const next = vc.nextTimer();
    if (next === undefined) {
      // Only real timers (undici's, http's) are pending: let one real millisecond pass.
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    if (vc.now() > end) throw new Error('virtual time limit: something hangs');
    vc.advance(Math.max(1, next));
  }
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bodyFor = (i: number) => pattern((i * 7919) % 150_000, i);

/** Errors Node's http or undici report for a connection that broke under it. */
const NODE_ERRORS = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

test('400 HTTP requests (http.Agent and fetch) through 3% loss, 10% reorder, 3% duplication, 2% corruption: every body intact', async () => {
  const ns = virtualNs();
  const srv = ns.http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const i = Number(req.url?.split('/')[2]);
      res.setHeader('x-body-sha256', sha(Buffer.concat(parts)));
      res.end(bodyFor(i));
    });
  });
  await drive(ns, new Promise<void>((r) => srv.listen(8080, '127.0.0.1', () => r())));
  qdiscReplace(
    ns.lo,
    netem({
      lossPercent: 3,
      reorderPercent: 10,
      delayNs: 2e6,
      duplicatePercent: 3,
      corruptPercent: 2,
      seed: 10,
    }),
  );
  const agent = new ns.http.Agent({ keepAlive: true, maxSockets: 4 });
  const viaAgent = (i: number) =>
    new Promise<string>((resolve) => {
      const upload = pattern((i * 3331) % 40_000, i + 1);
      const req = ns.http.request({ host: '127.0.0.1', port: 8080, method: 'POST', path: `/n/${i}`, agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const ok =
            res.statusCode === 200 &&
            res.headers['x-body-sha256'] === sha(upload) &&
            Buffer.concat(parts).equals(Buffer.from(bodyFor(i)));
          resolve(ok ? 'ok' : `bad ${i}`);
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end(upload);
    });
  const viaFetch = async (i: number) => {
    try {
      const r = await ns.fetch(`http://127.0.0.1:8080/f/${i}`);
      const b = new Uint8Array(await r.arrayBuffer());
      return r.status === 200 && Buffer.from(b).equals(Buffer.from(bodyFor(i))) ? 'ok' : `bad ${i}`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      return cause?.code ?? String(e);
    }
  };
  const results: string[] = [];
  for (let round = 0; round < 20; round++) {
    const batch: Promise<string>[] = [];
    for (let j = 0; j < 15; j++) batch.push(viaAgent(round * 20 + j));
    for (let j = 15; j < 20; j++) batch.push(viaFetch(round * 20 + j));
    results.push(...(await drive(ns, Promise.all(batch))));
  }
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r, (counts.get(r) ?? 0) + 1);
  const failures = [...counts].filter(([k]) => k !== 'ok');
  assert.ok(
    failures.every(([k]) => NODE_ERRORS.has(k)),
    `only Node's errors: ${JSON.stringify(failures)}`,
  );
  assert.ok(!results.some((r) => r.startsWith('bad')), 'no body altered');
  assert.ok((counts.get('ok') ?? 0) >= 390, `completed: ${JSON.stringify([...counts])}`);
  const tcp = mib(ns, 'snmp', 'Tcp');
  assert.ok((tcp.InCsumErrors ?? 0) > 0, 'corrupted segments were caught by the checksum');
  assert.ok((tcp.RetransSegs ?? 0) > 0, 'and repaired by retransmission');
  agent.destroy();
  await drive(ns, ns.dispatcher.close());
  await drive(ns, new Promise<void>((r) => srv.close(() => r())));
});

test('a blackholed lo (100% loss): a new request fails after the SYN retries, one in flight after tcp_retries2, with the errors Node gives', async () => {
  const ns = virtualNs();
  const srv = ns.http.createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end(pattern(200_000)), 0);
    else res.end('ok');
  });
  await drive(ns, new Promise<void>((r) => srv.listen(8080, '127.0.0.1', () => r())));
  const agent = new ns.http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string, a: typeof agent | false) =>
    new Promise<{ code: string; message: string; syscall?: string | undefined; at: number }>((resolve) => {
      const req = ns.http.get({ host: '127.0.0.1', port: 8080, path, agent: a }, (res) => {
        res.on('error', (e: NodeJS.ErrnoException) =>
          resolve({ code: e.code ?? '', message: e.message, syscall: e.syscall, at: ns.kernel.virtualClock.now() }),
        );
        res.on('end', () => resolve({ code: 'ok', message: '', at: ns.kernel.virtualClock.now() }));
        res.resume();
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ code: e.code ?? '', message: e.message, syscall: e.syscall, at: ns.kernel.virtualClock.now() }),
      );
    });
  assert.equal((await drive(ns, get('/', agent))).code, 'ok', 'a warm keep-alive connection');
  qdiscReplace(ns.lo, netem({ lossPercent: 100, seed: 1 }));
  const t0 = ns.kernel.virtualClock.now();
  // Linux 6.18: tcp_syn_retries 6 + tcp_syn_linear_timeouts 4: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19,
  // 35, 67 s, given up at 131 s (measured: ETIMEDOUT after 133.7 s, TCPSynRetrans 10).
  const fresh = await drive(ns, get('/', false));
  assert.deepEqual(
    [fresh.code, fresh.message, fresh.syscall],
    ['ETIMEDOUT', 'connect ETIMEDOUT 127.0.0.1:8080', 'connect'],
  );
  assert.equal(Math.round((fresh.at - t0) / 1e9), 131);
  assert.equal(mib(ns, 'netstat', 'TcpExt').TCPSynRetrans, 10);
  // The keep-alive connection: the request is retransmitted 15 times (tcp_retries2), then ETIMEDOUT.
  const t1 = ns.kernel.virtualClock.now();
  const stuck = await drive(ns, get('/slow', agent), 3600e9);
  assert.deepEqual([stuck.code, stuck.message, stuck.syscall], ['ETIMEDOUT', 'read ETIMEDOUT', 'read']);
  const secs = (stuck.at - t1) / 1e9;
  assert.equal(Math.round(secs), 925, `gave up after ${secs.toFixed(1)} s (Linux: 924.6 s from an RTO of 200 ms)`);
  agent.destroy();
  await drive(ns, new Promise<void>((r) => srv.close(() => r())));
});
