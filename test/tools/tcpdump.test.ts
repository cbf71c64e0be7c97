import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { PcapError, readPcap, writePcap } from '../../src/capture/pcap.js';
import { IN6ADDR_LOOPBACK } from '../../src/ipv6/addr.js';
import { TcpSock } from '../../src/transport/tcp/sock.js';
import { UdpSock, v4Mapped } from '../../src/transport/udp.js';
import { HAVE_TCPDUMP, HAVE_TSHARK, realTcpdump, realTshark } from '../capture/real-tools.js';
import { virtualNs } from '../helpers/virtual-shell.js';

// tcpdump prints local time; both sides print UTC.
process.env.TZ = 'UTC';
const SAMPLE = 'test/fixtures/linux-6.18-lo-sample.pcap';
const dir = mkdtempSync(join(tmpdir(), 'lonet-tcpdump-'));
const noTcpdump = HAVE_TCPDUMP ? false : 'real tcpdump is not installed (.ci/run installs it)';

/** Runs lonet's tcpdump and the real one with the same arguments; both must agree exactly. */
async function sameAsReal(ns: Namespace, args: string[]): Promise<void> {
  const real = realTcpdump(args);
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const ours = await ns.exec(`tcpdump ${quoted}`);
  assert.equal(ours.stdout, real.stdout, `stdout of tcpdump ${quoted}`);
  assert.equal(ours.stderr, real.stderr, `stderr of tcpdump ${quoted}`);
  assert.equal(ours.code, real.code, `exit code of tcpdump ${quoted}`);
}

test('tcpdump -nr on the real Linux 6.18 capture prints what tcpdump 4.99 prints', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  const real = realTcpdump(['-nr', SAMPLE]);
  assert.equal(real.stdout.split('\n').length, 34, 'the sample has 33 packets');
  await sameAsReal(ns, ['-nr', SAMPLE]);
});

test('every printing option on the sample matches tcpdump 4.99', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  for (const flags of [
    '-nv',
    '-nvv',
    '-nvvv',
    '-ne',
    '-nq',
    '-nx',
    '-nX',
    '-nA',
    '-nxx',
    '-nXX',
    '-nt',
    '-ntt',
    '-nttt',
    '-ntttt',
    '-nttttt',
    '-nS',
    '-nev',
    '-neq',
    '-nvvX',
    '-nc5',
    '--nano',
  ]) {
    await sameAsReal(ns, [flags, '-r', SAMPLE]);
  }
  // Without -n: 127.0.0.1 is localhost in every hosts file, ports by /etc/services, MACs with their OUI.
  await sameAsReal(ns, ['-r', SAMPLE, 'ip']);
  await sameAsReal(ns, ['-ev', '-r', SAMPLE, 'ip']);
  await sameAsReal(ns, ['-n', '--time-stamp-precision=nano', '-ttt', '-r', SAMPLE]);
});

test('pcap-filter expressions select the same packets as libpcap 1.10', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  for (const expr of [
    'tcp[tcpflags] & tcp-syn != 0',
    'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src port 8000',
    'tcp[13] = 0x12',
    'tcp[13] & 0x3f = 0x18',
    'icmp[icmptype] = icmp-echo',
    'icmp6[0] = 128',
    'src host 127.0.0.1 and dst port 8000',
    'host ::1',
    'host 127.0.0.1 and (port 8000 or icmp)',
    'src and dst host 127.0.0.1',
    'net 127.0.0.0/8',
    'net 127',
    'dst net 127.0.0.0 mask 255.0.0.0',
    'net ::/0',
    'port 8000 or 8001',
    'src port 43484 or dst port 57862',
    'portrange 8000-8001',
    'udp port 9999',
    'tcp port http',
    'less 70',
    'greater 1000',
    'len = 60',
    'len > 100 and len < 200',
    'not tcp',
    '! icmp',
    'not (tcp or udp)',
    'ip and not ip6',
    'ip6 and icmp6',
    'udp or icmp',
    'arp',
    'proto 17',
    'ip proto 1',
    'ip[9]=17',
    'ip[2:2] > 100',
    'ip[6:2] & 0x4000 != 0',
    'ip6[6] = 58',
    'udp[8:4] = 0x68656c6c',
    'ether[12:2] = 0x86dd',
    'ether host 00:00:00:00:00:00 and arp',
    'tcp[100000] = 1',
    '1 = 1',
    'host 1.2.3',
    // The man page's "IPv4 TCP packets with data": libpcap keeps only the left operand's
    // protocol test through arithmetic, so ICMP packets pass too, as here.
    'ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0',
    'not tcp[13] = 2',
    'tcp[13] = 2 or udp',
    'icmp[0] + tcp[13] = 8',
    'host localhost',
    'protochain 6',
    'ip6 protochain 58',
    'udp port 9999 or ether broadcast',
    'not multicast',
    'ip broadcast',
    'ip6 multicast',
  ]) {
    await sameAsReal(ns, ['-nr', SAMPLE, expr]);
  }
});

test('invalid expressions get libpcap’s message and exit code 1', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  for (const expr of [
    'foo',
    'foo bar',
    'host foo',
    'port 99999',
    'port foo',
    'tcp[99999]',
    'net 127.0.0.1/33',
    'net 127.0.0.1/8',
    'tcp and',
    '(tcp',
    'ip6 host 127.0.0.1',
    'ip[3:3]=1',
    'tcp multicast',
  ]) {
    await sameAsReal(ns, ['-nr', SAMPLE, expr]);
  }
});

test('usage errors and missing files are reported as tcpdump does', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  await sameAsReal(ns, ['-nr', join(dir, 'missing.pcap')]);
  writeFileSync(join(dir, 'short'), 'abc');
  writeFileSync(join(dir, 'text'), 'not a capture file, just some text of a fair length\n');
  writeFileSync(join(dir, 'header-only'), Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0));
  const sample = readFileSync(SAMPLE);
  // Cut inside a record's data, and inside a record header: the packets before it still print.
  writeFileSync(join(dir, 'cut-data'), sample.subarray(0, 1000));
  writeFileSync(join(dir, 'cut-header'), sample.subarray(0, 1010));
  for (const f of ['short', 'text', 'header-only', 'cut-data', 'cut-header'])
    await sameAsReal(ns, ['-nr', join(dir, f)]);
  await sameAsReal(ns, ['-c', 'x', '-nr', SAMPLE]);
  await sameAsReal(ns, ['-k']);
  await sameAsReal(ns, ['-h']);
  const r = await ns.exec('tcpdump -i eth0');
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr: 'tcpdump: eth0: No such device exists\n(No such device exists)\n',
  });
});

test('tcpdump -i lo -n -c 4 in one exec prints the four ICMP lines of ping -c 2 in another', async () => {
  const { ns, run } = virtualNs();
  const dump = ns.exec('tcpdump -i lo -n -c 4');
  const ping = await run('ping -c 2 127.0.0.1');
  assert.equal(ping.code, 0);
  const r = await dump;
  assert.equal(r.code, 0);
  const id = /id (\d+)/.exec(r.stdout)?.[1];
  assert.ok(id !== undefined, r.stdout);
  // The kernel's clock stamps the packets: the virtual clock starts at 2026-01-01 00:00:00 UTC.
  assert.match(
    r.stdout,
    new RegExp(
      [
        `^00:00:00\\.\\d{6} IP 127\\.0\\.0\\.1 > 127\\.0\\.0\\.1: ICMP echo request, id ${id}, seq 1, length 64`,
        `00:00:00\\.\\d{6} IP 127\\.0\\.0\\.1 > 127\\.0\\.0\\.1: ICMP echo reply, id ${id}, seq 1, length 64`,
        `00:00:01\\.\\d{6} IP 127\\.0\\.0\\.1 > 127\\.0\\.0\\.1: ICMP echo request, id ${id}, seq 2, length 64`,
        `00:00:01\\.\\d{6} IP 127\\.0\\.0\\.1 > 127\\.0\\.0\\.1: ICMP echo reply, id ${id}, seq 2, length 64\\n$`,
      ].join('\\n'),
    ),
  );
  assert.equal(
    r.stderr,
    'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n' +
      'listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n' +
      '4 packets captured\n8 packets received by filter\n0 packets dropped by kernel\n',
  );
});

test('Ctrl-C ends a live capture with the counts; -i any shows cooked lines with the interface', async () => {
  const { ns, run } = virtualNs();
  const ac = new AbortController();
  const dump = ns.exec('tcpdump -i any -n -v icmp6', { signal: ac.signal });
  await run('ping -6 -c 1 ::1');
  ac.abort();
  const r = await dump;
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^00:00:00\.\d{6} lo {4}In {2}IP6 \(flowlabel 0x[0-9a-f]{5}, hlim 64, next-header ICMPv6 \(58\) payload length: 64\) ::1 > ::1: \[icmp6 sum ok\] ICMP6, echo request, id \d+, seq 1\n/,
  );
  // Interrupted, tcpdump ends what it printed with an extra newline (cleanup()).
  assert.equal(r.stdout.split('\n').length, 4);
  assert.ok(r.stdout.endsWith('\n\n'));
  assert.equal(
    r.stderr,
    'tcpdump: data link type LINUX_SLL2\n' +
      'tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n' +
      '2 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n',
  );
});

/**
 * Traffic for the file test: pings (IPv4, IPv6, fragmented), UDP delivered and refused
 * (ICMP port unreachable), and a TCP exchange over IPv4 and IPv6.
 */
async function traffic(ns: Namespace, run: (line: string) => Promise<unknown>): Promise<void> {
  await run('ping -c 1 127.0.0.1; ping -6 -c 1 ::1');
  await run('ip link set lo mtu 1500; ping -c 1 -s 3000 127.0.0.1; ping -6 -c 1 -s 3000 ::1; ip link set lo mtu 65536');
  const lo4 = v4Mapped(0x7f000001);
  const srv = new UdpSock(ns, 4);
  srv.bind(lo4, 9999);
  const cli4 = new UdpSock(ns, 4);
  cli4.sendto(new TextEncoder().encode('hello-udp-loopback'), lo4, 9999);
  cli4.sendto(new TextEncoder().encode('nobody home'), lo4, 9998);
  const cli6 = new UdpSock(ns, 6);
  cli6.sendto(new TextEncoder().encode('nobody home 6'), IN6ADDR_LOOPBACK, 9998);
  for (const s of [srv, cli4, cli6]) s.close();
  // TCP over both families: handshake with options, a request, a reply past one segment, FINs.
  // Two ports, as in the sample: 8000's TIME_WAIT would refuse [::]:8000 (EADDRINUSE, as on Linux).
  for (const [family, addr, port] of [
    [4, lo4, 8000],
    [6, IN6ADDR_LOOPBACK, 8001],
  ] as const) {
    const listener = new TcpSock(ns, family);
    assert.equal(listener.bind(new Uint8Array(16), port), 0);
    listener.listen(128);
    const cli = new TcpSock(ns, family);
    cli.connect(addr, port);
    await run('sleep 0.01');
    const acc = listener.accept();
    assert.ok(acc instanceof TcpSock);
    cli.sendmsg(new TextEncoder().encode('GET /data.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    await run('sleep 0.01');
    acc.recvmsg();
    acc.sendmsg(new Uint8Array(70000).fill(0x61));
    await run('sleep 0.05');
    while (cli.recvmsg() instanceof Uint8Array) {}
    acc.close();
    await run('sleep 0.05');
    cli.close();
    await run('sleep 0.05');
    listener.close();
  }
}

test('a capture written by lonet (-w) reads back the same in lonet, real tcpdump and tshark', async (t) => {
  for (const device of ['lo', 'any']) {
    const { ns, run } = virtualNs();
    const file = join(dir, `traffic-${device}.pcap`);
    const ac = new AbortController();
    const dump = ns.exec(`tcpdump -i ${device} -w ${file}`, { signal: ac.signal });
    await traffic(ns, run);
    ac.abort();
    const w = await dump;
    assert.equal(w.code, 0);
    assert.equal(w.stdout, '');
    const counts = /(\d+) packets captured\n(\d+) packets received by filter\n0 packets dropped by kernel\n$/.exec(
      w.stderr,
    );
    assert.ok(counts, w.stderr);
    const captured = Number(counts[1]);
    assert.equal(Number(counts[2]), 2 * captured, 'both copies on lo pass the filter');
    const parsed = readPcap(new Uint8Array(readFileSync(file)));
    assert.ok(!(parsed instanceof PcapError));
    assert.equal(parsed.records.length, captured);
    if (!HAVE_TCPDUMP) {
      t.skip('real tcpdump is not installed');
      continue;
    }
    for (const flags of ['-n', '-nv', '-nvv', '-ne', '-nq', '-nx', '-nX', '-nA', '-nev']) {
      await sameAsReal(ns, [flags, '-r', file]);
    }
    const ours = await ns.exec(`tcpdump -nr ${file}`);
    assert.match(ours.stdout, /ICMP 127\.0\.0\.1 udp port 9998 unreachable, length 47/);
    assert.match(ours.stdout, /ICMP6, destination unreachable, unreachable port, ::1 udp port 9998, length 69/);
    assert.match(ours.stdout, /frag \(1448\|1448\)/);
    if (!HAVE_TSHARK) {
      t.skip('tshark is not installed');
      continue;
    }
    const ts = realTshark(['-n', '-r', file, '-V']);
    assert.equal(ts.code, 0, ts.stderr);
    assert.doesNotMatch(ts.stdout, /Malformed|\[Expert Info \(Error/);
    const summary = realTshark(['-n', '-r', file]).stdout.trim().split('\n');
    assert.equal(summary.length, captured);
  }
});

test('-w writes a file tcpdump -r of lonet reads back; -r honours -c and the filter', async () => {
  const { ns, run } = virtualNs();
  const file = join(dir, 'ping.pcap');
  const dump = ns.exec(`tcpdump -i lo -c 2 -w ${file}`);
  await run('ping -c 1 127.0.0.1');
  const w = await dump;
  assert.equal(w.code, 0);
  assert.equal(
    w.stderr,
    'tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n' +
      '2 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n',
  );
  const r = await ns.exec(`tcpdump -n -r ${file} -c 1 'icmp[icmptype] = icmp-echoreply'`);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^00:00:00\.\d{6} IP 127\.0\.0\.1 > 127\.0\.0\.1: ICMP echo reply, id \d+, seq 1, length 64\n$/,
  );
  assert.equal(r.stderr, `reading from file ${file}, link-type EN10MB (Ethernet), snapshot length 262144\n`);
});

test(
  'damaged packets print as tcpdump prints them (bad lengths, options, checksums, cut captures)',
  { skip: noTcpdump },
  async () => {
    const sample = readPcap(new Uint8Array(readFileSync(SAMPLE)));
    assert.ok(!(sample instanceof PcapError));
    // A fixed-seed generator: the same damage every run.
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const ns = new Namespace();
    for (let round = 0; round < 8; round++) {
      const records = sample.records.map((r) => {
        const d = new Uint8Array(r.data);
        const v6 = d[12] === 0x86;
        for (let k = 0; k < 3; k++) d[14 + Math.floor(rnd() * Math.min(d.length - 14, 80))] = Math.floor(rnd() * 256);
        // Keep the version and the protocol: dissectors of GRE, ESP, RSVP… are not lonet's business.
        d[14] = ((v6 ? 6 : 4) << 4) | ((d[14] as number) & 0x0f);
        d[v6 ? 14 + 6 : 14 + 9] = r.data[v6 ? 14 + 6 : 14 + 9] as number;
        const cut = rnd() < 0.2 ? 14 + Math.floor(rnd() * (d.length - 14)) : d.length;
        return { ...r, data: d.subarray(0, cut) };
      });
      const file = join(dir, `damaged-${round}.pcap`);
      writeFileSync(file, writePcap(sample.header, records));
      for (const flags of ['-n', '-nv', '-nvv']) await sameAsReal(ns, [flags, '-r', file]);
    }
  },
);

test('without -i tcpdump listens on `any` with Linux cooked v1, as in a namespace with only lo', async (t) => {
  const { ns, run } = virtualNs();
  const file = join(dir, 'default-device.pcap');
  const dump = ns.exec('tcpdump -n -e -c 2');
  const saved = ns.exec(`tcpdump -c 2 -w ${file}`);
  await run('ping -c 1 127.0.0.1');
  const r = await dump;
  assert.equal(
    r.stderr,
    'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n' +
      'listening on any, link-type LINUX_SLL (Linux cooked v1), snapshot length 262144 bytes\n' +
      '2 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n',
  );
  assert.match(
    r.stdout,
    /^00:00:00\.\d{6} {2}In 00:00:00:00:00:00 ethertype IPv4 \(0x0800\), length 100: 127\.0\.0\.1 > 127\.0\.0\.1: ICMP echo request, id \d+, seq 1, length 64\n/,
  );
  assert.equal((await saved).code, 0);
  assert.deepEqual(await ns.exec('tcpdump -i 3'), { code: 1, stdout: '', stderr: 'tcpdump: Invalid adapter index\n' });
  const list = await ns.exec('tcpdump -D');
  assert.equal(
    list.stdout,
    '1.any (Pseudo-device that captures on all interfaces) [Up, Running]\n2.lo [Up, Running, Loopback]\n',
  );
  if (!HAVE_TCPDUMP) return t.skip('real tcpdump is not installed');
  for (const flags of ['-n', '-ne', '-nv']) await sameAsReal(ns, [flags, '-r', file]);
});

test('random damage never crashes the printer or the filters', async () => {
  const { Printer, DEFAULT_PRINT_OPTIONS } = await import('../../src/tools/tcpdump/print.js');
  const { compileFilter } = await import('../../src/capture/filter.js');
  const sample = readPcap(new Uint8Array(readFileSync(SAMPLE)));
  assert.ok(!(sample instanceof PcapError));
  const filters = [
    'tcp[tcpflags] & tcp-syn != 0',
    'port 80',
    'host ::1',
    'icmp6[0] = 128',
    'ip[100:4] = 1 or not ip',
  ].map(compileFilter);
  let seed = 11;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  // Every link type lonet reads, the sample's frames damaged and cut at random.
  for (const linktype of [1, 113, 276, 101]) {
    for (const v of [0, 2]) {
      const printer = new Printer({ ...DEFAULT_PRINT_OPTIONS, v, e: v > 0, X: 1 }, linktype, () => 'lo');
      for (let i = 0; i < 2000; i++) {
        const r = sample.records[Math.floor(rnd() * sample.records.length)];
        assert.ok(r);
        const d = new Uint8Array(r.data);
        for (let k = Math.floor(rnd() * 8); k > 0; k--) d[Math.floor(rnd() * Math.min(d.length, 100))] = rnd() * 256;
        const data = d.subarray(0, Math.floor(rnd() * (d.length + 1)));
        assert.match(printer.print({ tsSec: 0, tsNsec: 0, origLen: r.origLen, data }), /\n$/);
        for (const f of filters) f({ data, len: r.origLen, linktype });
      }
    }
  }
});

test('-Q in sees lo’s packets, -Q out none (lo’s outgoing copies are never delivered), both counted', async () => {
  for (const [dir, captured] of [
    ['in', 2],
    ['out', 0],
  ] as const) {
    const { ns, run } = virtualNs();
    const ac = new AbortController();
    const dump = ns.exec(`tcpdump -i lo -n -Q ${dir} icmp`, { signal: ac.signal });
    await run('ping -c 1 127.0.0.1');
    ac.abort();
    const r = await dump;
    assert.match(r.stderr, new RegExp(`\\n${captured} packets captured\\n4 packets received by filter\\n`));
  }
  const { ns } = virtualNs();
  assert.deepEqual(await ns.exec('tcpdump -Q sideways'), {
    code: 1,
    stdout: '',
    stderr: "tcpdump: unknown capture direction `sideways'\n",
  });
});

test(
  'frames lo does not carry yet (ARP, 802.1Q, unknown ethertypes) print as tcpdump prints them',
  { skip: noTcpdump },
  async () => {
    const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
    const mac1 = '020000000001';
    const mac2 = '020000000002';
    const frames = [
      // ARP request (padded to 60 bytes), reply, and a request naming the target's MAC.
      `ffffffffffff${mac1}0806000108000604000 1${mac1}0a000001000000000000 0a000002${'00'.repeat(18)}`,
      `${mac1}${mac2}08060001080006040002${mac2}0a000002${mac1}0a000001${'00'.repeat(18)}`,
      `ffffffffffff${mac1}08060001080006040001${mac1}0a000001${mac2}0a000002`,
      // An 802.1Q tag (vlan 5) around a broken IPv4 header, and an ethertype nobody decodes.
      `ffffffffffff${mac1}810000050800 45${'00'.repeat(30)}`,
      `ffffffffffff${mac1}88b568656c6c6f`,
    ].map((h) => hex(h.replace(/ /g, '')));
    const file = join(dir, 'ethernet.pcap');
    writeFileSync(
      file,
      writePcap(
        {},
        frames.map((data, i) => ({ tsSec: 1_700_000_000 + i, tsNsec: 0, origLen: data.byteLength, data })),
      ),
    );
    const ns = new Namespace();
    for (const flags of ['-n', '-ne', '-nv', '-nq', '-neq', '-e', '-nx', '-neX'])
      await sameAsReal(ns, [flags, '-r', file]);
  },
);

test('a live tcpdump whose namespace goes away says the interface disappeared and exits 1', async () => {
  const { ns } = virtualNs();
  const dump = ns.exec('tcpdump -i lo -n');
  await new Promise((r) => setImmediate(r));
  ns.destroy();
  const r = await dump;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\ntcpdump: pcap_loop: The interface disappeared\n0 packets captured\n/);
});

test('--count, -# and -F FILE (with # comments) behave as in tcpdump 4.99', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  const filterFile = join(dir, 'syn.filter');
  writeFileSync(filterFile, 'tcp # SYNs only\n and tcp[13] = 2\n');
  for (const args of [
    ['--count', '-r', SAMPLE],
    ['--count', '-r', SAMPLE, 'icmp'],
    ['-#', '-n', '-c', '3', '-r', SAMPLE],
    ['--number', '-nv', '-c', '2', '-r', SAMPLE],
    ['-F', filterFile, '-n', '-r', SAMPLE],
    ['-F', filterFile, '-n', '-r', SAMPLE, 'udp'],
    ['-F', join(dir, 'no-such.filter'), '-n', '-r', SAMPLE],
  ]) {
    await sameAsReal(ns, args);
  }
});

test('random filter expressions select exactly the packets libpcap selects', { skip: noTcpdump }, async () => {
  const { compileFilter } = await import('../../src/capture/filter.js');
  let seed = 3;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
  const primitive = (): string =>
    pick([
      () => pick(['tcp', 'udp', 'icmp', 'icmp6', 'ip', 'ip6', 'arp']),
      () => `${pick(['', 'src ', 'dst '])}host ${pick(['127.0.0.1', '::1', '127.0.0.2'])}`,
      () => `${pick(['', 'tcp ', 'udp '])}${pick(['', 'src ', 'dst '])}port ${pick(['8000', '8001', '9999', '43484'])}`,
      () => `portrange ${pick(['8000-8001', '9000-10000', '1-1000'])}`,
      () => `${pick(['less', 'greater'])} ${pick(['60', '100', '1000'])}`,
      () => `len ${pick(['<', '>', '=', '!=', '>='])} ${pick(['60', '98', '66'])}`,
      () =>
        `${pick(['tcp', 'udp', 'icmp', 'ip', 'ip6', 'icmp6'])}[${pick(['0', '2', '6', '9', '13'])}${pick(['', ':2', ':4'])}] ${pick(['&', '+', '-', '>>'])} ${pick(['1', '2', '0x10'])} ${pick(['=', '!=', '>'])} ${pick(['0', '2', '0x12'])}`,
      () => `${pick(['', 'src ', 'dst '])}net ${pick(['127.0.0.0/8', '::/0', '127.0.0.1/32', '10.0.0.0/8'])}`,
      () => `tcp[tcpflags] & ${pick(['tcp-syn', 'tcp-fin', 'tcp-ack', 'tcp-push'])} != 0`,
      () => `icmp[icmptype] = ${pick(['icmp-echo', 'icmp-echoreply'])}`,
    ])();
  const expr = (depth: number): string => {
    const r = rnd();
    if (depth > 2 || r < 0.4) return primitive();
    if (r < 0.55) return `not ${expr(depth + 1)}`;
    if (r < 0.65) return `(${expr(depth + 1)})`;
    // `and` and `or` bind equally, left to right: the generator mixes them freely.
    return `${expr(depth + 1)} ${pick(['and', 'or', '&&', '||'])} ${expr(depth + 1)}`;
  };
  const sample = readPcap(new Uint8Array(readFileSync(SAMPLE)));
  assert.ok(!(sample instanceof PcapError));
  for (let i = 0; i < 80; i++) {
    const e = expr(0);
    const real = realTcpdump(['-tt', '-nr', SAMPLE, e]);
    const f = compileFilter(e);
    const ours: string[] = sample.records
      .filter((r) => f({ data: r.data, len: r.origLen, linktype: 1 }))
      .map((r) => `${r.tsSec}.${String(r.tsNsec / 1000).padStart(6, '0')}`);
    // libpcap's optimizer refuses some expressions that can match nothing; lonet runs them (and matches nothing).
    if (real.code === 1 && real.stderr.includes('expression rejects all packets')) {
      assert.deepEqual(ours, [], e);
      continue;
    }
    assert.equal(real.code, 0, `${e}: ${real.stderr}`);
    const times = real.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ')[0]);
    assert.deepEqual(ours, times, e);
  }
});

test('captures cut at every byte, and CRs in -A, print as tcpdump prints them', { skip: noTcpdump }, async () => {
  const sample = readPcap(new Uint8Array(readFileSync(SAMPLE)));
  assert.ok(!(sample instanceof PcapError));
  const records = [];
  // Every packet of the sample cut at each length up to 140 bytes: link, IP, IPv6, ICMP,
  // ICMPv6, UDP and TCP headers and options, each short by every possible amount.
  for (const r of sample.records) {
    for (let cut = 0; cut <= Math.min(r.data.byteLength, 140); cut++) {
      records.push({ ...r, data: r.data.subarray(0, cut) });
    }
  }
  // UDP payloads with CRs where -A keeps or drops them.
  const enc = new TextEncoder();
  for (const text of ['a\rb', 'a\r', 'a\r\n', 'a\rbc', '\r', '\rx', 'ab\r\rc', 'x\r\r']) {
    const payload = enc.encode(text);
    const data = new Uint8Array(14 + 28 + payload.byteLength);
    const v = new DataView(data.buffer);
    v.setUint16(12, 0x0800);
    data.set([0x45, 0, 0, 28 + payload.byteLength, 0, 1, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1], 14);
    v.setUint16(34, 1000);
    v.setUint16(36, 2000);
    v.setUint16(38, 8 + payload.byteLength);
    data.set(payload, 42);
    records.push({ tsSec: 1_700_000_000, tsNsec: 0, origLen: data.byteLength, data });
  }
  const file = join(dir, 'cut.pcap');
  writeFileSync(file, writePcap(sample.header, records));
  const ns = new Namespace();
  for (const flags of ['-n', '-nv', '-nvv', '-nx', '-nX', '-nA']) await sameAsReal(ns, [flags, '-r', file]);
});

test(
  'ICMP and ICMPv6 errors quoting a packet, cut at every byte, print as tcpdump prints them',
  { skip: noTcpdump },
  async () => {
    // Port unreachables from lonet itself: UDP to a closed port over 127.0.0.1 and ::1.
    const { ns } = virtualNs();
    const cap = ns.capture({ device: 'lo', filter: 'icmp or icmp6' });
    const cli4 = new UdpSock(ns, 4);
    cli4.sendto(new TextEncoder().encode('nobody home'), v4Mapped(0x7f000001), 9998);
    const cli6 = new UdpSock(ns, 6);
    cli6.sendto(new TextEncoder().encode('nobody home 6'), IN6ADDR_LOOPBACK, 9998);
    cli4.close();
    cli6.close();
    cap.close();
    const records = [];
    for await (const p of cap) {
      const tsSec = Math.floor(p.tsNs / 1e9);
      for (let cut = 0; cut <= p.data.byteLength; cut++) {
        records.push({ tsSec, tsNsec: 0, origLen: p.origLen, data: p.data.subarray(0, cut) });
      }
    }
    assert.ok(records.length > 100);
    const file = join(dir, 'unreachable-cut.pcap');
    writeFileSync(file, writePcap({}, records));
    for (const flags of ['-n', '-nv', '-nx', '-nA']) await sameAsReal(ns, [flags, '-r', file]);
  },
);

test(
  'HTTP on ports 80 and 8080 prints its request and status lines (all lines with -v)',
  { skip: noTcpdump },
  async () => {
    const sample = readPcap(new Uint8Array(readFileSync(SAMPLE)));
    assert.ok(!(sample instanceof PcapError));
    const records = [];
    // The sample's curl exchange with port 8000 moved to 80 and 8080, over IPv4 and IPv6.
    for (const port of [80, 8080]) {
      for (const r of sample.records.slice(6, 30)) {
        const d = new Uint8Array(r.data);
        const v = new DataView(d.buffer);
        const l4 = v.getUint16(12) === 0x86dd ? 54 : 34;
        for (const at of [l4, l4 + 2]) if (v.getUint16(at) === 8000 || v.getUint16(at) === 8001) v.setUint16(at, port);
        records.push({ ...r, data: d });
      }
    }
    const file = join(dir, 'http.pcap');
    writeFileSync(file, writePcap(sample.header, records));
    const ns = new Namespace();
    for (const flags of ['-n', '-nv', '-nvv', '-nA']) await sameAsReal(ns, [flags, '-r', file]);
    const r = await ns.exec(`tcpdump -n -r ${file} -c 4`);
    assert.match(r.stdout, /length 86: HTTP: GET \/data\.txt HTTP\/1\.1\n/);
  },
);

test('tcpdump -r - reads the capture from standard input', { skip: noTcpdump }, async () => {
  const ns = new Namespace();
  const real = realTcpdump(['-nr', SAMPLE, '-c', '3']);
  const r = await ns.exec('tcpdump -nr - -c 3', { input: new Uint8Array(readFileSync(SAMPLE)) });
  assert.equal(r.stdout, real.stdout);
  assert.equal(r.stderr, real.stderr.replace(SAMPLE, '-'));
  // No input at all is an empty file, as `tcpdump -r - < /dev/null` says.
  assert.deepEqual(await ns.exec('tcpdump -nr -'), {
    code: 1,
    stdout: '',
    stderr: 'tcpdump: truncated dump file; tried to read 4 file header bytes, only got 0\n',
  });
});

/** A DNS message: header, questions and records, names uncompressed unless given as bytes. */
function dnsMessage(
  id: number,
  flags: number,
  qs: [string, number][],
  sections: [number, number, number],
  records: Uint8Array[],
): Uint8Array {
  const name = (n: string) => {
    const parts = n.split('.').filter((l) => l !== '');
    return Uint8Array.from([...parts.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]), 0]);
  };
  const u16 = (v: number) => [v >> 8, v & 0xff];
  const bytes: number[] = [...u16(id), ...u16(flags), ...u16(qs.length), ...sections.flatMap(u16)];
  for (const [n, t] of qs) bytes.push(...name(n), ...u16(t), ...u16(1));
  for (const r of records) bytes.push(...r);
  return Uint8Array.from(bytes);
}

/** One resource record: owner (a compression pointer to the question), type, class, TTL, RDATA. */
function dnsRecord(type: number, klass: number, rdata: number[]): Uint8Array {
  return Uint8Array.from([
    0xc0,
    12,
    type >> 8,
    type & 0xff,
    klass >> 8,
    klass & 0xff,
    0,
    0,
    1,
    44,
    rdata.length >> 8,
    rdata.length & 0xff,
    ...rdata,
  ]);
}

test(
  'DNS over UDP port 53 prints as tcpdump 4.99 prints it (queries, answers, -v owners, -vv sections)',
  { skip: noTcpdump },
  async () => {
    const { ns } = virtualNs();
    const cap = ns.capture({ device: 'lo', filter: 'udp port 53' });
    const srv = new UdpSock(ns, 4);
    srv.bind(v4Mapped(0x7f000035), 53);
    const cli = new UdpSock(ns, 4);
    const label = (s: string) => [s.length, ...new TextEncoder().encode(s)];
    const messages = [
      dnsMessage(0x1234, 0x0100, [['example.com', 1]], [0, 0, 0], []),
      dnsMessage(0x1234, 0x8180, [['example.com', 1]], [1, 0, 0], [dnsRecord(1, 1, [93, 184, 216, 34])]),
      dnsMessage(0x4321, 0x0100, [['lonet.test', 28]], [0, 0, 1], [Uint8Array.of(0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0)]),
      dnsMessage(
        0x4321,
        0x8183,
        [['lonet.test', 28]],
        [0, 1, 0],
        [
          dnsRecord(6, 1, [
            ...label('ns'),
            0xc0,
            18,
            ...label('admin'),
            0xc0,
            18,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            2,
            0,
            0,
            0,
            3,
            0,
            0,
            0,
            4,
            0,
            0,
            0,
            5,
          ]),
        ],
      ),
      dnsMessage(
        0x55,
        0x8580,
        [['www.lonet.test', 28]],
        [2, 0, 0],
        [dnsRecord(5, 1, [...label('x'), 0xc0, 16]), dnsRecord(28, 1, [...new Array<number>(15).fill(0), 1])],
      ),
      dnsMessage(0x77, 0x0100, [['1.0.0.127.in-addr.arpa', 12]], [0, 0, 0], []),
      dnsMessage(
        0x77,
        0x8400,
        [['1.0.0.127.in-addr.arpa', 12]],
        [1, 0, 0],
        [dnsRecord(12, 1, [...label('localhost'), 0])],
      ),
      dnsMessage(0x99, 0x8182, [['x.test', 16]], [0, 0, 0], []),
      dnsMessage(
        0x9a,
        0x8180,
        [['m.test', 15]],
        [2, 0, 0],
        [dnsRecord(15, 1, [0, 10, ...label('mail'), 0xc0, 14]), dnsRecord(16, 3, [...label('hello')])],
      ),
    ];
    for (const m of messages) cli.sendto(m, v4Mapped(0x7f000035), 53);
    srv.close();
    cli.close();
    cap.close();
    const file = join(dir, 'dns.pcap');
    writeFileSync(file, new Uint8Array(await (await cap.blob()).arrayBuffer()));
    for (const flags of ['-n', '-nv', '-nvv', ''])
      await sameAsReal(
        ns,
        [flags, '-r', file].filter((a) => a !== ''),
      );
    const r = await ns.exec(`tcpdump -n -r ${file} -c 2`);
    assert.match(r.stdout, /: 4660\+ A\? example\.com\. \(29\)\n.*: 4660 1\/0\/0 A 93\.184\.216\.34 \(45\)\n$/);
  },
);
