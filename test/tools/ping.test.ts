import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import type { ToolResult } from '../../src/tools/command.js';
import { inLinuxNetns } from '../helpers/linux.js';
import { untimed, virtualNs } from '../helpers/virtual-shell.js';

test('ping -c 3 on a virtual clock: exact output, RTT 0 because no time passes in-process', async () => {
  const { run } = virtualNs();
  const r = await run('ping -c 3 127.0.0.1');
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.000 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.000 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.000 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2000ms
rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms
`,
  );
});

test('-q, -i, -n and localhost: the summary only, names printed as iputils does', async () => {
  const { run } = virtualNs();
  const q = await run('ping -q -c 2 -i 0.2 127.0.0.1');
  assert.equal(
    q.stdout,
    `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 200ms
rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms
`,
  );
  const named = await run('ping -c 1 localhost');
  assert.match(
    named.stdout,
    /^PING localhost \(127\.0\.0\.1\) 56\(84\) bytes of data\.\n64 bytes from localhost \(127\.0\.0\.1\): icmp_seq=1 ttl=64 time=0\.000 ms\n/,
  );
  assert.match(named.stdout, /--- localhost ping statistics ---/);
  const numeric = await run('ping -n -c 1 localhost');
  assert.match(numeric.stdout, /\n64 bytes from 127\.0\.0\.1: icmp_seq=1/);
  const zero = await run('ping -c 1 0');
  assert.match(zero.stdout, /^PING 0 \(127\.0\.0\.1\) 56\(84\)/);
});

test('-s: sizes below 16 bytes carry no timestamp, so no time= and no rtt line', async () => {
  const { run } = virtualNs();
  const r0 = await run('ping -c 2 -i 0.2 -s 0 127.0.0.1');
  assert.equal(
    r0.stdout,
    `PING 127.0.0.1 (127.0.0.1) 0(28) bytes of data.
8 bytes from 127.0.0.1: icmp_seq=1 ttl=64
8 bytes from 127.0.0.1: icmp_seq=2 ttl=64

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 200ms

`,
  );
  const r16 = await run('ping -c 1 -s 16 127.0.0.1');
  assert.match(r16.stdout, /\n24 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=0\.000 ms\n/);
  const big = await run('ping -c 1 -s 65507 127.0.0.1');
  assert.match(big.stdout, /^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 65507\(65535\) bytes of data\.\n65515 bytes from/);
});

test('-s 65508: a local EMSGSIZE per probe, counted as errors, exit 1', async () => {
  const { run } = virtualNs();
  const r = await run('ping -c 2 -i 0.2 -s 65508 127.0.0.1');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ping: local error: message too long, mtu=65535\n'.repeat(2));
  assert.equal(
    r.stdout,
    `PING 127.0.0.1 (127.0.0.1) 65508(65536) bytes of data.

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 200ms

`,
  );
});

test('lo down: the device drops the requests, 100% loss after the linger time, exit 1', async () => {
  const { ns, clock, run } = virtualNs();
  await ns.exec('ip link set lo down');
  const t0 = clock.now();
  const r = await run('ping -c 1 127.0.0.1');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.

--- 127.0.0.1 ping statistics ---
1 packets transmitted, 0 received, 100% packet loss, time 0ms

`,
  );
  // The default -W is 10 s.
  assert.equal(clock.now() - t0, 10e9);
  const w = await run('ping -c 3 -i 0.2 -W 0.3 -q 127.0.0.1');
  assert.match(w.stdout, /3 packets transmitted, 0 received, 100% packet loss, time 400ms\n\n$/);
  const deadline = await run('ping -w 1 -i 0.3 127.0.0.1');
  assert.equal(deadline.code, 1);
  assert.match(deadline.stdout, /4 packets transmitted, 0 received, 100% packet loss, time 900ms\n\n$/);
});

test('-w with -c: stop at the count or the deadline; exit 1 if the count was not reached', async () => {
  const { run } = virtualNs();
  const ok = await run('ping -c 2 -w 1 -i 0.2 127.0.0.1');
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /2 packets transmitted, 2 received, 0% packet loss, time 200ms\n/);
  const short = await run('ping -c 5 -w 1 -i 0.3 127.0.0.1');
  assert.equal(short.code, 1);
  assert.match(short.stdout, /4 packets transmitted, 4 received, 0% packet loss, time 900ms\n/);
});

test('icmp_echo_ignore_all: no replies, 100% loss', async () => {
  const { ns, run } = virtualNs();
  await ns.exec('sysctl -w net.ipv4.icmp_echo_ignore_all=1');
  const r = await run('ping -c 2 -i 0.2 -W 1 127.0.0.1');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /2 packets transmitted, 0 received, 100% packet loss, time 200ms\n\n$/);
});

test('route errors at connect() and a bare namespace: exit 2 with iputils text', async () => {
  const bare = virtualNs({ bare: true });
  const r = await bare.run('ping -c 1 127.0.0.1');
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ping: connect: Network is unreachable\n' });
  const { ns, run } = virtualNs();
  assert.equal((await run('ping -c 1 10.1.1.1')).stderr, 'ping: connect: Network is unreachable\n');
  const bcast = await run('ping -c 1 127.255.255.255');
  assert.equal(bcast.code, 2);
  assert.equal(bcast.stderr, 'ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n');
  const added = await ns.exec('ip route add blackhole 10.9.0.0/16');
  if (added.code === 0) {
    assert.deepEqual(await run('ping -c 1 10.9.0.1'), {
      code: 2,
      stdout: '',
      stderr: 'ping: connect: Invalid argument\n',
    });
  }
});

test('argument and name errors', async () => {
  const { run } = virtualNs();
  assert.deepEqual(await run('ping -c 1 nosuch'), {
    code: 2,
    stdout: '',
    stderr: 'ping: nosuch: Name or service not known\n',
  });
  assert.deepEqual(await run('ping'), {
    code: 1,
    stdout: '',
    stderr: 'ping: usage error: Destination address required\n',
  });
  assert.equal(
    (await run('ping -c 0 127.0.0.1')).stderr,
    "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n",
  );
  assert.equal((await run('ping -c 1 -I eth9 127.0.0.1')).stderr, 'ping: SO_BINDTODEVICE eth9: No such device\n');
  assert.equal((await run('ping -c 1 -I 10.0.0.1 127.0.0.1')).stderr, 'ping: bind: Cannot assign requested address\n');
  assert.equal((await run('ping -4 -c 1 ::1')).stderr, 'ping: ::1: Address family for hostname not supported\n');
  const x = await run('ping -x 127.0.0.1');
  assert.equal(x.code, 2);
  assert.match(x.stderr, /^ping: invalid option -- 'x'\n\nUsage\n {2}ping \[options\] <destination>\n/);
});

test('-I lo and -I ADDR print the source in the PING line', async () => {
  const { run } = virtualNs();
  const dev = await run('ping -c 1 -I lo 127.0.0.1');
  assert.match(
    dev.stdout,
    /^PING 127\.0\.0\.1 \(127\.0\.0\.1\) from 127\.0\.0\.1 lo: 56\(84\) bytes of data\.\n64 bytes/,
  );
  const addr = await run('ping -c 1 -I 127.0.0.5 127.0.0.1');
  assert.match(addr.stdout, /^PING 127\.0\.0\.1 \(127\.0\.0\.1\) from 127\.0\.0\.5 : 56\(84\)/);
  assert.equal(addr.code, 0);
});

test('-f: a dot per request, a backspace per reply, ipg/ewma in the summary', async () => {
  const { run } = virtualNs();
  const r = await run('ping -f -c 3 127.0.0.1');
  assert.equal(
    r.stdout,
    `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
.\b \b.\b \b.\b \b
--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms, ipg/ewma 0.000/0.000 ms
`,
  );
});

test('Ctrl-C prints the statistics and exits 0 when replies came', async () => {
  const { run } = virtualNs();
  const r = await run('ping 127.0.0.1', 2.5e9);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /icmp_seq=3 ttl=64 time=0\.000 ms\n\n--- 127\.0\.0\.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 2000ms\n/,
  );
});

test('ping -6 ::1 over the IPv6 stack, exactly as iputils prints it; with lo down, no source address', async (t) => {
  const { run } = virtualNs();
  const r = await run('ping -6 -c 1 ::1');
  assert.deepEqual(r, {
    code: 0,
    stdout: `PING ::1(::1) 56 data bytes
64 bytes from ::1: icmp_seq=1 ttl=64 time=0.000 ms

--- ::1 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms
`,
    stderr: '',
  });
  assert.equal((await run('ping6 -c 1 ip6-localhost')).code, 0);
  // Without -6 the address itself says IPv6: the same echo, the same lines.
  assert.deepEqual(await run('ping -c 1 ::1'), r);
  assert.deepEqual(await run('ip link set lo down; ping -6 -c 1 ::1'), {
    code: 2,
    stdout: '',
    stderr: 'ping: connect: Cannot assign requested address\n',
  });
  assert.equal(
    (await run('ping -6 -c 1 127.0.0.1')).stderr,
    'ping: 127.0.0.1: Address family for hostname not supported\n',
  );
  const linux = inLinuxNetns(['ip link set lo up'], ['ping -6 -c 1 ::1', 'ip link set lo down', 'ping -6 -c 1 ::1']);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  const { run: run2 } = virtualNs();
  assert.equal(untimed((await run2('ping -6 -c 1 ::1')).stdout), untimed(linux[0]?.stdout ?? ''));
  assert.deepEqual(await run2('ip link set lo down; ping -6 -c 1 ::1'), { ...linux[2], stdout: '' });
});

test('real clock: two pings through the stack have real, positive RTTs', async () => {
  const ns = new Namespace();
  const r = await ns.exec('ping -c 2 -i 0.2 127.0.0.1');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\n/);
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  assert.equal(times.length, 2);
  for (const t of times) assert.ok(t > 0, `rtt ${t}`);
});

test('two pings count 4 packets and 336 bytes on lo, and ICMP counters as Linux does', async () => {
  const { ns, run } = virtualNs();
  await run('ping -c 2 -i 0.2 -q 127.0.0.1');
  const link = (await ns.exec('ip -s link show lo')).stdout;
  assert.match(link, /RX: {2}bytes packets errors dropped {2}missed {3}mcast {11}\n {11}336 {7}4 /);
  assert.match(link, /TX: {2}bytes packets errors dropped carrier collsns {11}\n {11}336 {7}4 /);
  const snmp = (await ns.exec('cat /proc/net/snmp')).stdout;
  const rows = (s: string, name: string) => s.split('\n').filter((l) => l.startsWith(`${name}:`));
  const linux = inLinuxNetns(['ip link set lo up', 'ping -c 2 -i 0.2 -q 127.0.0.1'], ['cat /proc/net/snmp']);
  const ref =
    linux?.[0]?.stdout ??
    `Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
Ip: 2 64 4 0 0 0 0 0 4 4 0 0 0 0 0 0 0 0 0 4
Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps
Icmp: 4 0 0 0 0 0 0 0 2 2 0 0 0 0 4 0 0 0 0 0 0 0 0 2 2 0 0 0 0
IcmpMsg: InType0 InType8 OutType0 OutType8
IcmpMsg: 2 2 2 2
`;
  for (const name of ['Ip', 'Icmp', 'IcmpMsg']) assert.deepEqual(rows(snmp, name), rows(ref, name), name);
});

test('the same lines as iputils on a Linux namespace, times aside', async (t) => {
  const cases = [
    'ping -c 3 -i 0.2 127.0.0.1',
    'ping -c 2 -i 0.2 -q 127.0.0.1',
    'ping -c 2 -i 0.2 -s 0 127.0.0.1',
    'ping -c 2 -i 0.2 -s 8 127.0.0.1',
    'ping -c 2 -i 0.2 -s 16 127.0.0.1',
    'ping -c 1 -s 1472 127.0.0.1',
    'ping -c 1 -s 65507 127.0.0.1',
    'ping -c 2 -i 0.2 -s 65508 127.0.0.1',
    'ping -c 2 -i 0.2 -t 5 127.0.0.1',
    'ping -c 2 -w 1 -i 0.2 127.0.0.1',
    'ping -c 1 -I lo 127.0.0.2',
    'ping -c 1 -I 127.0.0.1 127.0.0.3',
    'ping -f -c 3 127.0.0.1',
    'ping -c 1 10.1.1.1',
    'ping -c 1 127.255.255.255',
    'ping -c 1 -I eth9 127.0.0.1',
    'ping -c 1 -t 0 127.0.0.1',
    'ping -c abc 127.0.0.1',
    'ping',
  ];
  const linux = inLinuxNetns(['ip link set lo up'], cases);
  if (linux === undefined) return t.skip('no Linux network namespaces here');
  const ns = new Namespace();
  for (const [i, line] of cases.entries()) {
    const ours = await ns.exec(line);
    const theirs = linux[i] as ToolResult;
    assert.equal(ours.code, theirs.code, `${line}: exit code`);
    assert.equal(untimed(ours.stdout), untimed(theirs.stdout), `${line}: stdout`);
    assert.equal(ours.stderr, theirs.stderr, `${line}: stderr`);
  }
});

test('lo down and a bare namespace, beside Linux', async (t) => {
  const linux = inLinuxNetns(['ip link set lo up', 'ip link set lo down'], ['ping -c 2 -i 0.2 -W 0.3 127.0.0.1']);
  const fresh = inLinuxNetns([], ['ping -c 1 127.0.0.1']);
  if (linux === undefined || fresh === undefined) return t.skip('no Linux network namespaces here');
  const { ns, run } = virtualNs();
  await ns.exec('ip link set lo down');
  const down = await run('ping -c 2 -i 0.2 -W 0.3 127.0.0.1');
  assert.equal(down.code, linux[0]?.code);
  assert.equal(untimed(down.stdout), untimed(linux[0]?.stdout ?? ''));
  const bare = virtualNs({ bare: true });
  const r = await bare.run('ping -c 1 127.0.0.1');
  assert.deepEqual([r.code, r.stderr], [fresh[0]?.code, fresh[0]?.stderr]);
});
