/**
 * TCP Fast Open: the sysctls read and parse as Linux's do (checked against a real
 * namespace), and the cookies are the ones Linux computes — the selftests' TFO_COOKIE
 * values for their addresses and key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Namespace } from '../../src/api/namespace.js';
import { siphash, siphashKey } from '../../src/include/siphash.js';
import { inLinuxNetns } from '../helpers/linux.js';

const SEQUENCE = [
  'sysctl net.ipv4.tcp_fastopen net.ipv4.tcp_fastopen_key net.ipv4.tcp_fastopen_blackhole_timeout_sec',
  'sysctl -w net.ipv4.tcp_fastopen=0x202',
  'cat /proc/sys/net/ipv4/tcp_fastopen',
  'sysctl -w net.ipv4.tcp_fastopen=010',
  'cat /proc/sys/net/ipv4/tcp_fastopen',
  'sysctl -w net.ipv4.tcp_fastopen=08',
  'sysctl -w net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,1-2-3-4',
  'cat /proc/sys/net/ipv4/tcp_fastopen_key',
  'sysctl -w net.ipv4.tcp_fastopen_key=0xabc-0-0-ffffffff',
  'sysctl net.ipv4.tcp_fastopen_key',
  'sysctl -w net.ipv4.tcp_fastopen_key=nonsense',
  'sysctl -w net.ipv4.tcp_fastopen_blackhole_timeout_sec=-1',
];

test('Fast Open sysctls: defaults, C base-0 numbers, the key format — as a real Linux namespace shows them', async (t) => {
  const ns = new Namespace();
  const lonet: Awaited<ReturnType<Namespace['exec']>>[] = [];
  for (const cmd of SEQUENCE) lonet.push(await ns.exec(cmd));
  // Without a reference, at least Linux's values as recorded from 6.18.
  assert.equal(
    lonet[0]?.stdout,
    'net.ipv4.tcp_fastopen = 1\nnet.ipv4.tcp_fastopen_key = 00000000-00000000-00000000-00000000\nnet.ipv4.tcp_fastopen_blackhole_timeout_sec = 0\n',
  );
  assert.equal(lonet[2]?.stdout, '514\n');
  assert.equal(lonet[4]?.stdout, '8\n');
  assert.equal(lonet[5]?.code, 1);
  assert.equal(lonet[7]?.stdout, 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000001-00000002-00000003-00000004\n');
  assert.equal(lonet[9]?.stdout, 'net.ipv4.tcp_fastopen_key = 00000abc-00000000-00000000-ffffffff\n');
  assert.equal(lonet[10]?.code, 1);
  const linux = inLinuxNetns([], SEQUENCE);
  if (linux === undefined) return t.skip('no Linux network namespace here');
  SEQUENCE.forEach((cmd, i) => {
    assert.deepEqual(lonet[i], linux[i], cmd);
  });
});

test('SipHash-2-4 gives the reference vector and the selftests’ Fast Open cookies', () => {
  const hex = (v: bigint) => {
    let s = '';
    for (let i = 0; i < 8; i++) s += ((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
    return s;
  };
  // The SipHash paper's vector: key 00..0f, message 00..0e.
  const k = siphashKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  assert.equal(
    hex(
      siphash(
        Uint8Array.from({ length: 15 }, (_, i) => i),
        k,
      ),
    ),
    'e545be4961ca29a1',
  );
  // ksft_runner.sh's TFO_COOKIE: key a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4, SYN 192.0.2.1 -> 192.168.0.1.
  const key = siphashKey(
    Uint8Array.from([...'a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4'.matchAll(/../g)].map((m) => Number.parseInt(m[0], 16))),
  );
  assert.equal(hex(siphash(Uint8Array.from([192, 0, 2, 1, 192, 168, 0, 1]), key)), '3021b9d889017eeb');
  assert.equal(hex(siphash(Uint8Array.from([192, 0, 2, 1, 192, 168, 0, 1]), [0n, 0n])), 'b7c12350a90dc8f5');
});
