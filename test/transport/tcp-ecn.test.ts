import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';

/** An echo over lo with net.ipv4.tcp_ecn set as given; returns ss -ti and nstat after it. */
async function echo(tcpEcn: number): Promise<{ ss: string; nstat: string }> {
  const ns = new Namespace();
  await ns.exec(`sysctl -q -w net.ipv4.tcp_ecn=${tcpEcn}`);
  await ns.exec('nstat -n');
  const server = ns.net.createServer((s) => (s as Socket).on('data', (d: Buffer) => (s as Socket).write(d)));
  await new Promise<void>((r) => server.listen(7000, '127.0.0.1', r));
  const c = ns.net.connect(7000, '127.0.0.1');
  await new Promise<void>((resolve) => {
    c.on('connect', () => c.write('x'.repeat(3000)));
    let got = 0;
    c.on('data', (d: Buffer) => {
      got += d.length;
      if (got === 3000) resolve();
    });
  });
  const ss = (await ns.exec('ss -tino')).stdout;
  const nstat = (await ns.exec('nstat IpExtIn*Pkts')).stdout;
  c.destroy();
  server.close();
  return { ss, nstat };
}

test('tcp_ecn=1: the connection negotiates RFC 3168 ECN, data goes ECT(0), ss -io says ecn ecnseen on both ends', async () => {
  const { ss, nstat } = await echo(1);
  // ss -o prints the options: both ends agreed on ECN and have seen ECT marks.
  assert.equal(ss.match(/^\s+ts sack ecn ecnseen cubic /gm)?.length, 2, ss);
  // Data segments were ECT(0); the handshake and pure ACKs Not-ECT.
  assert.match(nstat, /IpExtInECT0Pkts +\d+/);
  assert.match(nstat, /IpExtInNoECTPkts +\d+/);
});

test('tcp_ecn=2 (the default) answers ECN but never asks: no ecn in ss, every packet Not-ECT', async () => {
  const { ss, nstat } = await echo(2);
  assert.doesNotMatch(ss, /ecn/);
  assert.doesNotMatch(nstat, /ECT0/);
});
