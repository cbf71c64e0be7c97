import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Namespace } from '../../src/api/namespace.js';

test('the ws package runs over lonet: a WebSocketServer on an ns.http server, a client dialing through ns.net', async () => {
  const ns = new Namespace();
  const server = ns.http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (sock, req) => {
    sock.on('message', (data) => sock.send(`echo ${data} from ${req.socket.remoteAddress}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  // The recipe: ws dials with createConnection; ns.net.connect takes the same options.
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, {
    createConnection: ((opts: { port?: number | string; host?: string }) =>
      ns.net.connect({ port: Number(opts.port), host: String(opts.host) })) as never,
  });
  await new Promise((r) => client.once('open', r));
  client.send('hello');
  const reply = await new Promise<string>((r) => client.once('message', (d) => r(String(d))));
  assert.equal(reply, 'echo hello from 127.0.0.1');
  const big = 'x'.repeat(1 << 20);
  client.send(big);
  const back = await new Promise<string>((r) => client.once('message', (d) => r(String(d))));
  assert.equal(back.length, big.length + 'echo  from 127.0.0.1'.length);
  client.close();
  await new Promise((r) => client.once('close', r));
  wss.close();
  await new Promise<void>((r) => server.close(() => r()));
});
