// Synchronous TCP ping-pong through the whole stack, no event loop: per-round-trip stack cost.
import { Namespace } from '../src/api/namespace.js';
import { TcpSock } from '../src/transport/tcp/sock.js';
import { v4Mapped } from '../src/transport/udp.js';
const ns = new Namespace();
const lo = v4Mapped(0x7f000001);
const l = new TcpSock(ns, 4); l.bind(lo, 5000); l.listen(128);
const c = new TcpSock(ns, 4); c.setNoDelay?.(true);
console.log('connect', c.connect(lo, 5000));
const s = l.accept() as TcpSock; s.setNoDelay?.(true);
console.log('state', c.state, typeof s);
const one = new Uint8Array([120]);
const N = Number(process.argv[2] ?? 200000);
function rt() { c.sendmsg(one); const d = s.recvmsg(); s.sendmsg(one); const e = c.recvmsg(); if (typeof e === 'number' || typeof d === 'number') throw new Error('no data ' + d + ' ' + e); }
for (let i = 0; i < 20000; i++) rt();
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) rt();
const dt = performance.now() - t0;
const cpu = process.cpuUsage(c0);
console.log(`sync tcp rr: ${(dt * 1e3 / N).toFixed(2)} us/rt wall, ${((cpu.user + cpu.system) / N).toFixed(2)} us/rt cpu`);
process.exit(0);
