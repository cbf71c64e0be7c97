/**
 * lo going down and up, and its MTU shrinking, under a live TCP transfer. Linux 6.18 (a real
 * namespace, a paced 12.5 MiB transfer, /tmp script below): with lo down the connection
 * stays, every segment is dropped at the device, the RTO backs off and retransmits
 * (TcpRetransSegs 11, TCPTimeouts 4 in 1.5 s); once lo is up again the transfer completes
 * intact. With the MTU lowered to 1500 (or 1000) mid-transfer, tcp_current_mss() sees the
 * route's MTU change and shrinks the send MSS at once (snd_mss 1448 / 948): no IP
 * fragments, no retransmission.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TCP } from '../../src/transport/tcp/sock.js';
import { inLinuxNetns } from '../helpers/linux.js';
import { advanceBy, bulk, connectedPair, mib, pattern, until, virtualNs } from './tcp-drive.js';

const PY = `import socket, subprocess, threading, time, sys, struct
mode = sys.argv[1]
srv = socket.socket(); srv.bind(('127.0.0.1', 8000)); srv.listen(1)
c = socket.socket(); c.connect(('127.0.0.1', 8000)); a, _ = srv.accept()
SIZE = 200 << 16
got = [0]
def reader():
    while got[0] < SIZE:
        d = a.recv(1 << 20)
        if not d: break
        got[0] += len(d)
t = threading.Thread(target=reader); t.start()
def chg():
    # Mid-transfer by state, as on lonet's side: once 1 MiB has arrived.
    while got[0] < (1 << 20): time.sleep(0.01)
    if mode == 'down':
        subprocess.run(['ip','link','set','lo','down']); time.sleep(1.5); subprocess.run(['ip','link','set','lo','up'])
    else:
        subprocess.run(['ip','link','set','lo','mtu',mode])
threading.Thread(target=chg).start()
sent = 0
buf = bytes(1 << 16)
while sent < SIZE:
    sent += c.send(buf[:min(len(buf), SIZE-sent)]); time.sleep(0.01)
t.join(timeout=30)
ti = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
print(got[0], struct.unpack_from('I', ti, 16)[0], 'retrans' if struct.unpack_from('I', ti, 100)[0] > 0 else 'none')
`;

function linux(mode: string) {
  const script = join(tmpdir(), `lonet-tcp-downup-${process.pid}.py`);
  writeFileSync(script, PY);
  const r = inLinuxNetns(['ip link set lo up'], [`python3 ${script} ${mode}`, 'nstat -az IpFragOKs']);
  return r?.map((x) => x.stdout.trim());
}

test('lo down for 1.5 s mid-transfer: the connection stays, the RTO retransmits into the void, the transfer completes after up', async (t) => {
  const ns = virtualNs();
  const { cli, acc } = await connectedPair(ns);
  const data = pattern(4 << 20);
  const b = bulk(cli, acc, data);
  assert.ok(await until(ns, () => b.st.got >= 1 << 20, b.step));
  assert.equal((await ns.exec('ip link set lo down')).code, 0);
  const before = { got: b.st.got, retrans: cli.totalRetrans };
  await advanceBy(ns, 1.5e9, b.step);
  assert.ok(b.st.got - before.got < 2 << 20, 'almost nothing arrives while lo is down');
  assert.equal(cli.state, TCP.ESTABLISHED, 'Linux keeps the connection: no error before tcp_retries2');
  assert.equal(b.st.sendErr, 0);
  assert.ok(cli.totalRetrans > before.retrans, 'the RTO fired and retransmitted');
  const timeouts = mib(ns, 'netstat', 'TcpExt').TCPTimeouts ?? 0;
  assert.ok(timeouts >= 2, `backed-off timeouts while down: ${timeouts}`);
  assert.equal((await ns.exec('ip link set lo up')).code, 0);
  assert.ok(await until(ns, () => b.st.got === data.byteLength, b.step, 120e9), `stuck at ${b.st.got}`);
  assert.ok(Buffer.from(b.st.out).equals(Buffer.from(data)), 'every byte, in order');
  assert.equal(cli.state, TCP.ESTABLISHED);
  const real = linux('down');
  if (real === undefined) return t.skip('no Linux network namespace here');
  assert.match(real[0] ?? '', /^13107200 65483 retrans$/, 'Linux: everything arrives, after retransmissions');
});

for (const mtu of [1500, 1000]) {
  // tcp_current_mss() -> tcp_sync_mss() when dst_mtu changes, and tcp_fragment() of queued or
  // retransmitted segments longer than the new MSS: nothing leans on IP fragmentation.
  test(`lo's MTU lowered to ${mtu} mid-transfer: the send MSS follows it, no fragments, no retransmission`, async (t) => {
    const ns = virtualNs();
    const { cli, acc } = await connectedPair(ns);
    const data = pattern(4 << 20, 3);
    const b = bulk(cli, acc, data);
    assert.ok(await until(ns, () => b.st.got >= 1 << 20, b.step));
    assert.equal((await ns.exec(`ip link set lo mtu ${mtu}`)).code, 0);
    assert.ok(await until(ns, () => b.st.got === data.byteLength, b.step, 120e9), `stuck at ${b.st.got}`);
    assert.ok(Buffer.from(b.st.out).equals(Buffer.from(data)), 'every byte, in order');
    assert.equal(cli.mssCache, mtu - 52, 'tcp_sync_mss: MTU - 40 - 12 (timestamps)');
    assert.equal(mib(ns, 'snmp', 'Ip').FragOKs, 0, 'TCP never leans on IP fragmentation');
    assert.equal(cli.totalRetrans, 0);
    const real = linux(String(mtu));
    if (real === undefined) return t.skip('no Linux network namespace here');
    // Linux's own retransmissions depend on when, in real time, the MTU changes under a
    // segment in flight (seen both ways on this host); its MSS and the byte count do not.
    assert.match(real[0] ?? '', new RegExp(`^13107200 ${mtu - 52} (none|retrans)$`));
    assert.match(real[1] ?? '', /IpFragOKs\s+0\s/);
  });
}
