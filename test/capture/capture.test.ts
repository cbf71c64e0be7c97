import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { type CapturedPacket, CaptureError, type PacketCapture } from '../../src/capture/capture.js';
import { FilterError } from '../../src/capture/filter.js';
import { LINKTYPE, PcapError, readPcap } from '../../src/capture/pcap.js';
import { readPcapng } from '../../src/capture/pcapng.js';
import { PACKET } from '../../src/core/skbuff.js';
import { Kernel } from '../../src/init.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { HAVE_TCPDUMP, HAVE_TSHARK, realTcpdump, realTshark } from './real-tools.js';

process.env.TZ = 'UTC';
const LO4 = v4Mapped(0x7f000001);
const dir = mkdtempSync(join(tmpdir(), 'lonet-capture-'));

function vns() {
  const kernel = new Kernel({ clock: 'virtual' });
  return { ns: new Namespace({ kernel }), clock: kernel.virtualClock };
}

/** Sends one UDP datagram from a fresh socket to a bound one (over IPv4 or IPv6). */
function udpExchange(ns: Namespace, family: 4 | 6, payload: string): void {
  const addr = family === 4 ? LO4 : IN6ADDR_LOOPBACK;
  const srv = new UdpSock(ns, family);
  srv.bind(addr, 9999);
  const cli = new UdpSock(ns, family);
  cli.sendto(new TextEncoder().encode(payload), addr, 9999);
  srv.close();
  cli.close();
}

function drain(cap: PacketCapture): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  for (let p = cap.read(); p !== undefined; p = cap.read()) out.push(p);
  return out;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

test('on lo each packet is captured once (PACKET_HOST) while the kernel counts both copies', () => {
  const { ns, clock } = vns();
  const cap = ns.capture({ device: 'lo' });
  clock.advance(1_500_000);
  udpExchange(ns, 4, 'hello-udp-loopback');
  const pkts = drain(cap);
  assert.equal(pkts.length, 1);
  const p = pkts[0] as CapturedPacket;
  assert.equal(p.linktype, LINKTYPE.ETHERNET);
  assert.equal(p.pktType, PACKET.HOST);
  assert.equal(p.device, 'lo');
  // An 18-byte datagram is a 60-byte frame, zero MACs, ethertype IPv4.
  assert.equal(p.origLen, 60);
  assert.deepEqual([...p.data.subarray(0, 14)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00]);
  // Timestamps are the kernel's CLOCK_REALTIME (the virtual clock's epoch is 2026-01-01).
  assert.equal(p.tsNs, Date.UTC(2026, 0, 1) * 1e6 + 1_500_000);
  assert.deepEqual(cap.stats, { received: 2, dropped: 0 });
  cap.close();
});

test('no tap is left behind: a closed capture unhooks itself and sees nothing more', () => {
  const { ns } = vns();
  const cap = ns.capture({ device: 'lo' });
  assert.equal(ns.lo.ptypeAll.length, 1);
  cap.close();
  assert.equal(ns.lo.ptypeAll.length, 0);
  assert.equal(ns.ptypeAll.length, 0);
  udpExchange(ns, 4, 'x');
  assert.equal(cap.read(), undefined);
  const any = ns.capture({ device: 'any' });
  assert.equal(ns.ptypeAll.length, 1);
  any.close();
  assert.equal(ns.ptypeAll.length, 0);
});

test('the filter runs before counting, the snaplen cuts bytes but keeps the length', () => {
  const { ns } = vns();
  const cap = ns.capture({ device: 'lo', filter: 'udp and ip6', snaplen: 50 });
  udpExchange(ns, 4, 'four');
  udpExchange(ns, 6, 'six');
  const pkts = drain(cap);
  assert.equal(pkts.length, 1);
  assert.equal(pkts[0]?.data.byteLength, 50);
  assert.equal(pkts[0]?.origLen, 14 + 40 + 8 + 3);
  assert.equal(cap.stats.received, 2);
  cap.close();
});

test('bad arguments: a missing device and a bad filter throw before any tap exists', () => {
  const { ns } = vns();
  assert.throws(
    () => ns.capture({ device: 'eth0' }),
    (e: unknown) => e instanceof CaptureError && e.code === 'ENODEV',
  );
  assert.throws(() => ns.capture({ filter: 'port 99999' }), new FilterError('illegal port number 99999 > 65535'));
  assert.equal(ns.lo.ptypeAll.length, 0);
});

test('`any` gives Linux cooked v2 frames naming lo, its index and the direction', () => {
  const { ns } = vns();
  const cap = ns.capture({ device: 'any' });
  udpExchange(ns, 6, 'six');
  const [p] = drain(cap);
  assert.ok(p);
  assert.equal(p.linktype, LINKTYPE.LINUX_SLL2);
  const v = new DataView(p.data.buffer, p.data.byteOffset);
  assert.deepEqual([v.getUint16(0), v.getUint32(4), v.getUint16(8), p.data[10], p.data[11]], [0x86dd, 1, 772, 0, 6]);
  assert.equal(p.origLen, 20 + 40 + 8 + 3);
  assert.equal(cap.stats.received, 2, 'the outgoing copy on lo is counted, not delivered');
  cap.close();
});

test('a buffer that is full drops and counts what does not fit ("dropped by kernel")', () => {
  const { ns } = vns();
  const cap = ns.capture({ device: 'lo', bufferSize: 150 });
  for (let i = 0; i < 4; i++) udpExchange(ns, 4, 'hello-udp-loopback');
  assert.equal(drain(cap).length, 2);
  assert.deepEqual(cap.stats, { received: 8, dropped: 2 });
  cap.close();
});

test('the async iterator yields packets as they come and ends when the signal aborts', async () => {
  const { ns } = vns();
  const ac = new AbortController();
  const cap = ns.capture({ filter: 'udp', signal: ac.signal });
  const seen: number[] = [];
  const done = (async () => {
    for await (const p of cap) seen.push(p.origLen);
  })();
  udpExchange(ns, 4, 'a');
  await new Promise((r) => setImmediate(r));
  udpExchange(ns, 4, 'bb');
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await done;
  assert.deepEqual(seen, [43, 44]);
  assert.ok(cap.closed);
});

test('checksums: lo leaves CHECKSUM_PARTIAL sums by default; "complete" finishes them (real tcpdump -vv agrees)', async (t) => {
  const files: Record<string, string> = {};
  for (const checksums of ['partial', 'complete'] as const) {
    const { ns } = vns();
    const cap = ns.capture({ checksums });
    udpExchange(ns, 4, 'hello-udp-loopback');
    udpExchange(ns, 6, 'hello-udp-loopback');
    cap.close();
    const bytes = await collect(cap.pcap());
    const parsed = readPcap(bytes);
    assert.ok(!(parsed instanceof PcapError));
    assert.equal(parsed.records.length, 2);
    const udp4 = parsed.records[0]?.data as Uint8Array;
    // The pseudo-header sum of 127.0.0.1 → 127.0.0.1, UDP, length 26, is 0xfe2d (as in the sample).
    const field = (udp4[14 + 20 + 6] as number) * 256 + (udp4[14 + 20 + 7] as number);
    if (checksums === 'partial') assert.equal(field, 0xfe2d);
    else assert.notEqual(field, 0xfe2d);
    files[checksums] = join(dir, `udp-${checksums}.pcap`);
    writeFileSync(files[checksums] as string, bytes);
  }
  if (!HAVE_TCPDUMP) return t.skip('real tcpdump is not installed');
  const partial = realTcpdump(['-nvv', '-r', files.partial as string]).stdout;
  assert.match(
    partial,
    /127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.9999: \[bad udp cksum 0xfe2d -> 0x[0-9a-f]{4}!\] UDP, length 18/,
  );
  assert.match(partial, /::1\.\d+ > ::1\.9999: \[bad udp cksum 0x[0-9a-f]{4} -> 0x[0-9a-f]{4}!\] UDP, length 18/);
  const complete = realTcpdump(['-nvv', '-r', files.complete as string]).stdout;
  assert.equal(complete.match(/\[udp sum ok\] UDP, length 18/g)?.length, 2, complete);
});

test('pcapng: one interface block per device with the namespace in a comment; real tcpdump reads it', async (t) => {
  const { ns, clock } = vns();
  const cap = ns.capture({ device: 'lo' });
  udpExchange(ns, 4, 'four');
  clock.advance(1234);
  udpExchange(ns, 6, 'six');
  cap.close();
  // The file as a Blob, what a browser would offer to download.
  const blob = await cap.blob('pcapng');
  assert.equal(blob.type, 'application/vnd.tcpdump.pcap');
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const r = readPcapng(bytes);
  assert.ok(!(r instanceof PcapError));
  assert.deepEqual(
    r.interfaces.map((i) => [i.name, i.linktype, i.comment]),
    [['lo', LINKTYPE.ETHERNET, `netns ${ns.id}`]],
  );
  // lo does not pad frames to 60 bytes: a 4-byte datagram is a 46-byte frame.
  assert.deepEqual(
    r.records.map((p) => [p.interfaceId, p.tsSec, p.origLen]),
    [
      [0, Date.UTC(2026, 0, 1) / 1000, 46],
      [0, Date.UTC(2026, 0, 1) / 1000, 14 + 40 + 8 + 3],
    ],
  );
  // Nanosecond resolution survives the round trip (if_tsresol 9).
  assert.equal(r.records[0]?.tsNsec, 0);
  assert.ok((r.records[1]?.tsNsec ?? 0) >= 1234);
  if (!HAVE_TCPDUMP) return t.skip('real tcpdump is not installed');
  const file = join(dir, 'lo.pcapng');
  writeFileSync(file, bytes);
  const real = realTcpdump(['-nr', file]);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /^00:00:00\.000000 IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.9999: UDP, length 4\n/);
  assert.match(real.stdout, /\n00:00:00\.00000\d IP6 ::1\.\d+ > ::1\.9999: UDP, length 3\n$/);
  if (!HAVE_TSHARK) return t.skip('tshark is not installed');
  const ts = realTshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.p2p_dir']);
  assert.equal(ts.code, 0, ts.stderr);
  // Each packet names its interface and comes in (epb_flags inbound: PACKET_HOST).
  assert.equal(ts.stdout, 'lo\t1\nlo\t1\n');
});

test('a capture whose namespace is destroyed ends with ENETDOWN instead of waiting forever', async () => {
  const { ns } = vns();
  const cap = ns.capture({ device: 'lo' });
  const any = ns.capture({ device: 'any' });
  const ended = Promise.all([cap.next(), any.next()]);
  ns.destroy();
  assert.deepEqual(await ended, [undefined, undefined]);
  assert.deepEqual([cap.error, any.error, cap.closed, any.closed], ['ENETDOWN', 'ENETDOWN', true, true]);
});
