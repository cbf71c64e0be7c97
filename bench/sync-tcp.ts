/**
 * The TCP stack's own cost, with no event loop and no node:net face: a 1-byte ping-pong
 * between two connected TcpSocks in one namespace, each send running the whole path
 * (tcp_sendmsg → IP → lo → backlog → softirq → tcp_v4_rcv) synchronously.
 *
 *   npx tsx bench/sync-tcp.ts [round trips]
 */
import { Namespace } from '../src/api/namespace.js';
import { TcpSock } from '../src/transport/tcp/sock.js';
import { v4Mapped } from '../src/transport/udp.js';

const ns = new Namespace();
const lo = v4Mapped(0x7f000001);
const l = new TcpSock(ns, 4);
l.bind(lo, 5000);
l.listen(128);
const c = new TcpSock(ns, 4);
c.setNoDelay(true);
c.connect(lo, 5000);
const s = l.accept();
if (typeof s === 'number') throw new Error(`accept: ${s}`);
s.setNoDelay(true);
const one = new Uint8Array([120]);
const N = Number(process.argv[2] ?? 200000);

function roundTrip(): void {
  c.sendmsg(one);
  const d = (s as TcpSock).recvmsg();
  (s as TcpSock).sendmsg(one);
  const e = c.recvmsg();
  if (typeof d === 'number' || typeof e === 'number') throw new Error(`no data: ${d} ${e}`);
}

for (let i = 0; i < 20000; i++) roundTrip();
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) roundTrip();
const dt = performance.now() - t0;
const cpu = process.cpuUsage(c0);
console.log(
  `sync tcp rr: ${((dt * 1e3) / N).toFixed(2)} us/rt wall, ${((cpu.user + cpu.system) / N).toFixed(2)} us/rt cpu`,
);
process.exit(0);
