import assert from 'node:assert/strict';
import type * as nodeNet from 'node:net';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { netem, qdiscReplace } from '../../src/sched/sch-api.js';

/** An echo server on ns's lo; resolves with the port. */
async function echoServer(net: typeof nodeNet): Promise<{ srv: nodeNet.Server; port: number }> {
  const srv = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { srv, port: (srv.address() as nodeNet.AddressInfo).port };
}

/** Connects, sends `data`, half-closes, and collects the echo. */
function echo(net: typeof nodeNet, port: number, data: Uint8Array) {
  return new Promise<{ connectMs: number; back: Buffer }>((resolve, reject) => {
    const t0 = performance.now();
    let connectMs = -1;
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => {
      connectMs = performance.now() - t0;
      s.end(data);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve({ connectMs, back: Buffer.concat(chunks) }));
  });
}

test('TCP over netem delay 20ms: the handshake takes a round trip (≥ 40 ms) and the echo is intact', async () => {
  const ns = new Namespace();
  qdiscReplace(ns.lo, netem({ delayNs: 20e6 }));
  const net = ns.net as unknown as typeof nodeNet;
  const { srv, port } = await echoServer(net);
  const data = new Uint8Array(100_000).map((_, i) => i * 13);
  const { connectMs, back } = await echo(net, port, data);
  assert.ok(connectMs >= 39, `connect after ${connectMs} ms`);
  assert.deepEqual(new Uint8Array(back), data);
  srv.close();
});

test('TCP over netem loss 10% (seeded): retransmissions deliver every byte', async () => {
  const ns = new Namespace();
  const q = qdiscReplace(ns.lo, netem({ lossPercent: 10, seed: 2 }));
  const net = ns.net as unknown as typeof nodeNet;
  const { srv, port } = await echoServer(net);
  const data = new Uint8Array(30_000).map((_, i) => i * 7);
  const { back } = await echo(net, port, data);
  assert.deepEqual(new Uint8Array(back), data);
  assert.ok(q.qstats.drops > 0);
  assert.ok(ns.ipv4.mib.tcp.RetransSegs > 0);
  srv.close();
});
