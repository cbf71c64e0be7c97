import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Kernel, Namespace, vethPair } from '../../src/index.js';

/** Two hosts on one kernel, joined by a cable, addressed, with each other's MACs known. */
async function twoHosts() {
  const kernel = new Kernel();
  const a = new Namespace({ kernel, name: 'a' });
  const b = new Namespace({ kernel, name: 'b' });
  vethPair(
    { net: a, name: 'veth0', address: '02:00:00:00:00:01' },
    { net: b, name: 'veth1', address: '02:00:00:00:00:02' },
  );
  for (const [ns, dev, addr, peer, mac] of [
    [a, 'veth0', '10.0.0.1', '10.0.0.2', '02:00:00:00:00:02'],
    [b, 'veth1', '10.0.0.2', '10.0.0.1', '02:00:00:00:00:01'],
  ] as const) {
    const r = await ns.exec(
      `ip addr add ${addr}/24 dev ${dev} && ip link set ${dev} up && ip neigh add ${peer} lladdr ${mac} dev ${dev} nud permanent`,
    );
    assert.equal(r.code, 0, r.stderr);
  }
  return { kernel, a, b };
}

test('new Namespace({ kernel, name }), kernel.namespaces, and a veth pair between two namespaces in one call', async () => {
  const { kernel, a, b } = await twoHosts();
  assert.deepEqual([...kernel.namespaces], [a, b]);
  assert.equal((await a.exec('ip netns list')).stdout, 'b (id: 0)\na\n');
  assert.match(
    (await a.exec('ip -br link show veth0')).stdout,
    /^veth0@if2 +UP +02:00:00:00:00:01 <BROADCAST,MULTICAST,UP,LOWER_UP> $/m,
  );
  assert.match((await b.exec('ip -br link show veth1')).stdout, /^veth1@if2 +UP +02:00:00:00:00:02 /m);
  assert.throws(
    () => vethPair({ net: a, name: 'veth0' }, { net: b, name: 'x' }),
    (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
  );
  assert.throws(
    () => new Namespace({ kernel, name: 'a' }),
    (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
  );
});

test("ns.exec('ip netns exec b ping …') runs in b; a server bound to b's veth address answers a client in a", async () => {
  const { a, b } = await twoHosts();
  const ping = await a.exec('ip netns exec b ping -c1 -W1 10.0.0.1');
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /1 packets transmitted, 1 received/);

  let serverSide: Promise<unknown> = Promise.resolve();
  const server = b.net.createServer((s) => {
    const sock = s as NodeJS.EventEmitter & { end(d: string): void };
    serverSide = once(sock, 'close');
    sock.end('hello from b\n');
  });
  server.listen(8080, '10.0.0.2');
  await once(server, 'listening');
  const client = a.net.connect(8080, '10.0.0.2');
  let got = '';
  client.on('data', (d) => {
    got += String(d);
  });
  await once(client, 'close');
  await serverSide;
  assert.equal(got, 'hello from b\n');
  // The connection went over the cable: the side that closed first waits in TIME-WAIT there.
  assert.match((await b.exec('ss -tan state time-wait')).stdout, /10\.0\.0\.2:8080 +10\.0\.0\.1:\d+/);
  server.close();
  // Cut the cable: the far end loses carrier, and a new connection cannot get through.
  await a.exec('ip link set veth0 down');
  assert.match(
    (await b.exec('ip -br link show veth1')).stdout,
    /^veth1@if2 +DOWN +02:00:00:00:00:02 <NO-CARRIER,BROADCAST,MULTICAST,UP> $/m,
  );
  b.destroy();
  a.destroy();
});

test('deleting a namespace takes the veth peer in the other namespace with it', async () => {
  const { kernel, a, b } = await twoHosts();
  b.destroy();
  assert.deepEqual([...kernel.namespaces], [a]);
  assert.equal((await a.exec('ip link show veth0')).stderr, 'Device "veth0" does not exist.\n');
  assert.equal((await a.exec('ip netns list')).stdout, 'a\n');
  a.destroy();
});
