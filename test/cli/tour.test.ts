/**
 * The tour (`npm start`): it exits 0, shows what a newcomer should see (addresses, ping,
 * curl against an ns.http server, the sockets in ss, lo's counters and the path's), drives
 * the backlog over its limit, and leaves the session's capture in lonet-demo.pcap, which
 * the real tcpdump reads.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// tsx by its path, so the tour can run in a directory of its own.
const TSX = import.meta.resolve('tsx');

const dir = mkdtempSync(join(tmpdir(), 'lonet-tour-'));
const r = spawnSync(process.execPath, ['--import', TSX, MAIN, 'tour'], {
  cwd: dir,
  encoding: 'utf8',
  timeout: 300_000,
});
const out = r.stdout;

function hasTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the tour exits 0 and shows ip addr, ping, curl against ns.http and the sockets in ss', () => {
  assert.equal(r.status, 0, r.stderr);
  // The one error of the tour is curl's, on stderr as curl writes it.
  assert.match(
    r.stderr,
    /^curl: \(7\) Failed to connect to 127\.0\.0\.1 port 8081 after \d+ ms: Couldn't connect to server\n$/,
  );
  assert.match(out, /^ {4}inet 127\.0\.0\.1\/8 scope host lo$/m);
  assert.match(out, /^2 packets transmitted, 2 received, 0% packet loss/m);
  assert.match(out, /^1 packets transmitted, 1 received, 0% packet loss/m);
  assert.match(
    out,
    /^\$ curl -i http:\/\/127\.0\.0\.1:8080\/hello\nHTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\n/m,
  );
  assert.match(out, /^hello from lo: GET \/hello, request 1$/m);
  // ss -tan (or /proc/net/tcp): the listener and both ends of the held connection.
  if (out.includes('$ ss -tan')) {
    assert.match(out, /^LISTEN +0 +511 +127\.0\.0\.1:8080 +0\.0\.0\.0:\*/m);
    const estab = out.match(/^ESTAB .*127\.0\.0\.1:8080.*$/gm) ?? [];
    assert.equal(estab.length, 2, out);
  } else {
    assert.match(out, /^ +0: 0100007F:1F90 00000000:0000 0A /m);
  }
});

test('the path counters agree with lo: every packet crossed loopback_xmit and was delivered once', () => {
  const tx = /What lo counted[\s\S]*?TX: .*\n +(\d+) +(\d+)/.exec(out);
  const xmit = /^ {2}loopback_xmit +(\d+)/m.exec(out);
  const deliver = /^ {2}local deliver \(L4\) +(\d+)/m.exec(out);
  assert.ok(tx && xmit && deliver, out);
  assert.equal(xmit[1], tx[2]);
  assert.equal(deliver[1], tx[2]);
  // ping 4 + ping6 2 + a refused connect (SYN, RST) + curl's exchange and the held connection.
  assert.ok(Number(tx[2]) > 8);
});

test('the tour shows the backlog overflowing and draining', () => {
  // softnet_stat while held off: 3999 (0xf9f) dropped, 1001 (0x3e9) waiting on CPU 0. The third
  // column, time_squeeze, counts softirq runs cut short by netdev_budget_usecs, which is
  // wall-clock time: the tour's earlier traffic may already have hit it on a loaded machine,
  // so all Linux promises is that it never goes down.
  const held = /^([0-9a-f]{8}) 00000f9f ([0-9a-f]{8}) (?:00000000 ){8}000003e9 00000000 000003e9 00000000$/m.exec(out);
  assert.ok(held, out);
  // …and after the softirq ran: 1001 more processed, nothing waiting.
  const after = (Number.parseInt(held[1] as string, 16) + 0x3e9).toString(16).padStart(8, '0');
  const drained = new RegExp(
    `^${after} 00000f9f ([0-9a-f]{8}) (?:00000000 ){8}00000000 00000000 00000000 00000000$`,
    'm',
  ).exec(out);
  assert.ok(drained, out);
  assert.ok(Number.parseInt(drained[1] as string, 16) >= Number.parseInt(held[2] as string, 16));
  assert.match(out, /the packet socket received 1001\./);
});

test('the session is in lonet-demo.pcap, and the real tcpdump reads it', (t) => {
  const file = join(dir, 'lonet-demo.pcap');
  assert.ok(existsSync(file));
  const said = /The whole session, (\d+) packets/.exec(out);
  assert.ok(said, out);
  assert.match(out, /tcpdump -nr lonet-demo\.pcap/);
  if (!hasTcpdump()) return t.skip('no tcpdump on this host (apt-get install tcpdump)');
  const all = spawnSync('tcpdump', ['-nr', file], { encoding: 'utf8' });
  assert.equal(all.status, 0, all.stderr);
  // One line per packet (the raw frames' hex dumps are indented under theirs).
  assert.equal(all.stdout.split('\n').filter((l) => /^\d/.test(l)).length, Number(said[1]));
  const http = execFileSync('tcpdump', ['-nr', file, 'tcp port 8080'], { encoding: 'utf8', stdio: 'pipe' });
  assert.match(http, /127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.8080: Flags \[S\]/);
  assert.match(http, /HTTP: GET \/hello HTTP\/1\.1/);
  assert.match(http, /HTTP: HTTP\/1\.1 200 OK/);
  const icmp = execFileSync('tcpdump', ['-nr', file, 'icmp or icmp6'], { encoding: 'utf8', stdio: 'pipe' });
  assert.match(icmp, /IP 127\.0\.0\.1 > 127\.0\.0\.1: ICMP echo reply, id \d+, seq 2, length 64/);
  assert.match(icmp, /IP6 ::1 > ::1: ICMP6, echo reply/);
});
