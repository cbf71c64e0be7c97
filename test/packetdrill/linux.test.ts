/**
 * Linux's own packetdrill selftests against lonet, run as ksft_runner.sh runs them. The
 * pass list may only grow: a script on it that stops passing fails this test, and one
 * that starts passing is reported so it can be added. A second part checks that the
 * interpreter catches what it must: a wrong ack, a wrong option, a late packet.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { packetdrill } from '../../src/tools/packetdrill/index.js';
import { grepFilter, splitPipeline } from '../../src/tools/packetdrill/run.js';
import { CORPUS, KSFT_ARGS, runCorpus } from './ksft.js';

/** Script and IP version pairs lonet passes; only ever add to this list. */
const PASSING = [
  'tcp_accecn_acc_ecn_disabled.pkt ipv4',
  'tcp_accecn_acc_ecn_disabled.pkt ipv6',
  'tcp_accecn_accecn_to_rfc3168.pkt ipv4',
  'tcp_accecn_accecn_to_rfc3168.pkt ipv6',
  'tcp_basic_client.pkt ipv4',
  'tcp_basic_client.pkt ipv6',
  'tcp_basic_server.pkt ipv4',
  'tcp_basic_server.pkt ipv6',
  'tcp_blocking_blocking-accept.pkt ipv4',
  'tcp_blocking_blocking-accept.pkt ipv6',
  'tcp_blocking_blocking-read.pkt ipv4',
  'tcp_blocking_blocking-read.pkt ipv6',
  'tcp_blocking_blocking-write.pkt ipv4',
  'tcp_blocking_blocking-write.pkt ipv6',
  'tcp_close_close-local-close-then-remote-fin.pkt ipv4',
  'tcp_close_close-local-close-then-remote-fin.pkt ipv6',
  'tcp_close_close-on-syn-sent.pkt ipv4',
  'tcp_close_close-on-syn-sent.pkt ipv6',
  'tcp_close_close-remote-fin-then-close.pkt ipv4',
  'tcp_close_close-remote-fin-then-close.pkt ipv6',
  'tcp_close_no_rst.pkt ipv4',
  'tcp_close_no_rst.pkt ipv6',
  'tcp_disorder_fin_in_FIN_WAIT.pkt ipv4',
  'tcp_disorder_fin_in_FIN_WAIT.pkt ipv6',
  'tcp_dsack_mult.pkt ipv4',
  'tcp_dsack_mult.pkt ipv6',
  'tcp_ecn_ecn-uses-ect0.pkt ipv4',
  'tcp_ecn_ecn-uses-ect0.pkt ipv6',
  'tcp_eor_no-coalesce-large.pkt ipv4',
  'tcp_eor_no-coalesce-large.pkt ipv6',
  'tcp_eor_no-coalesce-small.pkt ipv4',
  'tcp_eor_no-coalesce-small.pkt ipv6',
  'tcp_eor_no-coalesce-subsequent.pkt ipv4',
  'tcp_eor_no-coalesce-subsequent.pkt ipv6',
  'tcp_fast_recovery_prr-ss-10pkt-lost-1.pkt ipv4',
  'tcp_fast_recovery_prr-ss-10pkt-lost-1.pkt ipv6',
  'tcp_fast_recovery_prr-ss-30pkt-lost-1_4-11_16.pkt ipv4',
  'tcp_fast_recovery_prr-ss-30pkt-lost-1_4-11_16.pkt ipv6',
  'tcp_fast_recovery_prr-ss-30pkt-lost1_4.pkt ipv4',
  'tcp_fast_recovery_prr-ss-30pkt-lost1_4.pkt ipv6',
  'tcp_fast_recovery_prr-ss-ack-below-snd_una-cubic.pkt ipv4',
  'tcp_fast_recovery_prr-ss-ack-below-snd_una-cubic.pkt ipv6',
  'tcp_fastopen_server_basic-cookie-not-reqd.pkt ipv4',
  'tcp_fastopen_server_basic-cookie-not-reqd.pkt ipv6',
  'tcp_fastopen_server_basic-no-setsockopt.pkt ipv4',
  'tcp_fastopen_server_basic-no-setsockopt.pkt ipv6',
  'tcp_fastopen_server_basic-pure-syn-data.pkt ipv4',
  'tcp_fastopen_server_basic-pure-syn-data.pkt ipv6',
  'tcp_fastopen_server_basic-rw.pkt ipv4',
  'tcp_fastopen_server_basic-rw.pkt ipv6',
  'tcp_fastopen_server_basic-zero-payload.pkt ipv4',
  'tcp_fastopen_server_basic-zero-payload.pkt ipv6',
  'tcp_fastopen_server_experimental_option.pkt ipv4',
  'tcp_fastopen_server_experimental_option.pkt ipv6',
  'tcp_fastopen_server_fin-close-socket.pkt ipv4',
  'tcp_fastopen_server_fin-close-socket.pkt ipv6',
  'tcp_fastopen_server_reset-after-accept.pkt ipv4',
  'tcp_fastopen_server_reset-after-accept.pkt ipv6',
  'tcp_fastopen_server_reset-before-accept.pkt ipv4',
  'tcp_fastopen_server_reset-before-accept.pkt ipv6',
  'tcp_fastopen_server_reset-close-with-unread-data.pkt ipv4',
  'tcp_fastopen_server_reset-close-with-unread-data.pkt ipv6',
  'tcp_fastopen_server_reset-non-tfo-socket.pkt ipv4',
  'tcp_fastopen_server_reset-non-tfo-socket.pkt ipv6',
  'tcp_fastopen_server_sockopt-fastopen-key.pkt ipv4',
  'tcp_fastopen_server_sockopt-fastopen-key.pkt ipv6',
  'tcp_inq_client.pkt ipv4',
  'tcp_inq_client.pkt ipv6',
  'tcp_inq_server.pkt ipv4',
  'tcp_inq_server.pkt ipv6',
  'tcp_md5_md5-only-on-client-ack.pkt ipv4',
  'tcp_md5_md5-only-on-client-ack.pkt ipv6',
  'tcp_nagle_https_client.pkt ipv4',
  'tcp_nagle_https_client.pkt ipv6',
  'tcp_nagle_sendmsg_msg_more.pkt ipv4',
  'tcp_nagle_sendmsg_msg_more.pkt ipv6',
  'tcp_nagle_sockopt_cork_nodelay.pkt ipv4',
  'tcp_nagle_sockopt_cork_nodelay.pkt ipv6',
  'tcp_ooo-before-and-after-accept.pkt ipv4',
  'tcp_ooo-before-and-after-accept.pkt ipv6',
  'tcp_ooo_rcv_mss.pkt ipv4',
  'tcp_ooo_rcv_mss.pkt ipv6',
  'tcp_rcv_big_endseq.pkt ipv4',
  'tcp_rcv_big_endseq.pkt ipv6',
  'tcp_rcv_neg_window.pkt ipv4',
  'tcp_rcv_neg_window.pkt ipv6',
  'tcp_rcv_zero_wnd_fin.pkt ipv4',
  'tcp_rcv_zero_wnd_fin.pkt ipv6',
  'tcp_sack_sack-shift-sacked-7-3-4-8-9-fack.pkt ipv4',
  'tcp_sack_sack-shift-sacked-7-3-4-8-9-fack.pkt ipv6',
  'tcp_sack_sack-shift-sacked-7-5-6-8-9-fack.pkt ipv4',
  'tcp_sack_sack-shift-sacked-7-5-6-8-9-fack.pkt ipv6',
  'tcp_slow_start_slow-start-ack-per-1pkt.pkt ipv4',
  'tcp_slow_start_slow-start-ack-per-1pkt.pkt ipv6',
  'tcp_slow_start_slow-start-ack-per-2pkt-send-6pkt.pkt ipv4',
  'tcp_slow_start_slow-start-ack-per-2pkt-send-6pkt.pkt ipv6',
  'tcp_slow_start_slow-start-ack-per-2pkt.pkt ipv4',
  'tcp_slow_start_slow-start-ack-per-2pkt.pkt ipv6',
  'tcp_slow_start_slow-start-after-win-update.pkt ipv4',
  'tcp_slow_start_slow-start-after-win-update.pkt ipv6',
  'tcp_slow_start_slow-start-app-limited-9-packets-out.pkt ipv4',
  'tcp_slow_start_slow-start-app-limited-9-packets-out.pkt ipv6',
  'tcp_slow_start_slow-start-app-limited.pkt ipv4',
  'tcp_slow_start_slow-start-app-limited.pkt ipv6',
  'tcp_splice_tcp_splice_loop_test.pkt ipv4',
  'tcp_splice_tcp_splice_loop_test.pkt ipv6',
  'tcp_syscall_bad_arg_fastopen-invalid-buf-ptr.pkt ipv4',
  'tcp_syscall_bad_arg_fastopen-invalid-buf-ptr.pkt ipv6',
  'tcp_syscall_bad_arg_sendmsg-empty-iov.pkt ipv4',
  'tcp_syscall_bad_arg_sendmsg-empty-iov.pkt ipv6',
  'tcp_syscall_bad_arg_syscall-invalid-buf-ptr.pkt ipv4',
  'tcp_syscall_bad_arg_syscall-invalid-buf-ptr.pkt ipv6',
  'tcp_tcp_info_tcp-info-last_data_recv.pkt ipv4',
  'tcp_tcp_info_tcp-info-last_data_recv.pkt ipv6',
  'tcp_tcp_info_tcp-info-rwnd-limited.pkt ipv4',
  'tcp_tcp_info_tcp-info-rwnd-limited.pkt ipv6',
  'tcp_timestamping_client-only-last-byte.pkt ipv4',
  'tcp_timestamping_client-only-last-byte.pkt ipv6',
  'tcp_timestamping_partial.pkt ipv4',
  'tcp_timestamping_partial.pkt ipv6',
  'tcp_ts_recent_fin_tsval.pkt ipv4',
  'tcp_ts_recent_fin_tsval.pkt ipv6',
  'tcp_ts_recent_reset_tsval.pkt ipv4',
  'tcp_ts_recent_reset_tsval.pkt ipv6',
  'tcp_user_timeout_user-timeout-probe.pkt ipv4',
  'tcp_user_timeout_user-timeout-probe.pkt ipv6',
  'tcp_validate_validate-established-no-flags.pkt ipv4',
  'tcp_validate_validate-established-no-flags.pkt ipv6',
  'tcp_zerocopy_basic.pkt ipv4',
  'tcp_zerocopy_basic.pkt ipv6',
  'tcp_zerocopy_client.pkt ipv4',
  'tcp_zerocopy_client.pkt ipv6',
  'tcp_zerocopy_closed.pkt ipv4',
  'tcp_zerocopy_closed.pkt ipv6',
  'tcp_zerocopy_epoll_edge.pkt ipv4',
  'tcp_zerocopy_epoll_edge.pkt ipv6',
  'tcp_zerocopy_epoll_exclusive.pkt ipv4',
  'tcp_zerocopy_epoll_exclusive.pkt ipv6',
  'tcp_zerocopy_epoll_oneshot.pkt ipv4',
  'tcp_zerocopy_epoll_oneshot.pkt ipv6',
  'tcp_zerocopy_small.pkt ipv4',
  'tcp_zerocopy_small.pkt ipv6',
];

test('the Linux 6.18 packetdrill selftests that lonet passes still pass', async () => {
  const runs = await runCorpus();
  assert.equal(runs.length, 193, 'every script under each IP version ksft_runner.sh uses');
  const passing = new Set(runs.filter((r) => r.result.ok).map((r) => `${r.script} ${r.version}`));
  const lost = PASSING.filter((p) => !passing.has(p)).map((p) => {
    const r = runs.find((x) => `${x.script} ${x.version}` === p);
    return `${p}: line ${r?.result.line}: ${r?.result.error}`;
  });
  assert.deepEqual(lost, [], 'scripts on the pass list must keep passing');
  const gained = [...passing].filter((p) => !PASSING.includes(p));
  if (gained.length > 0) console.log(`newly passing, add to PASSING: ${gained.join(', ')}`);
  // Every failure names a line and says what was expected against what happened.
  for (const r of runs)
    if (!r.result.ok) assert.ok(r.result.line > 0 && r.result.error !== '', `${r.script} ${r.version}`);
});

/** Runs an edited copy of a corpus script; returns the exit code and what packetdrill printed. */
async function runEdited(script: string, from: string, to: string): Promise<{ code: number; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lonet-pd-'));
  copyFileSync(join(CORPUS, 'defaults.sh'), join(dir, 'defaults.sh'));
  const src = readFileSync(join(CORPUS, script), 'utf8');
  assert.ok(src.includes(from), `${script} has '${from}'`);
  writeFileSync(join(dir, script), src.replace(from, to));
  let err = '';
  const code = await packetdrill(
    [...KSFT_ARGS.ipv4, join(dir, script)],
    { write: () => {} },
    {
      write: (t) => {
        err += t;
      },
    },
  );
  return { code, err };
}

test('a wrong ack in an expected packet is reported with its line, expected against actual', async () => {
  const r = await runEdited('tcp_basic_client.pkt', '> P. 1:1001(1000) ack 1', '> P. 1:1001(1000) ack 2');
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /tcp_basic_client\.pkt:18: live packet field tcp_ack_seq: expected: 2 \(0x2\) vs actual: 1 \(0x1\)/,
  );
  assert.match(r.err, /actual packet: 0\.000000 P\. 1:1001\(1000\) ack 1 win \d+/);
});

test('a wrong SYN option and a packet at the wrong time are caught', async () => {
  const opt = await runEdited('tcp_basic_client.pkt', 'TS val 0 ecr 0,nop,wscale 8', 'TS val 0 ecr 0,nop,wscale 7');
  assert.equal(opt.code, 1);
  assert.match(opt.err, /:12: bad value in outbound TCP option: expected: wscale 7 actual: wscale 8/);
  // The delayed ACK of the FIN leaves at 40 ms (TCP_DELACK_MIN), not at 20.
  const late = await runEdited('tcp_basic_server.pkt', '+.04 > . 1:1(0) ack 1002', '+.02 > . 1:1(0) ack 1002');
  assert.equal(late.code, 1);
  assert.match(late.err, /:30: timing error: expected outbound packet at 0\.020000 sec but happened at 0\.040000 sec/);
});

test('a system call returning the wrong errno fails at its line', async () => {
  const r = await runEdited(
    'tcp_close_close-on-syn-sent.pkt',
    'connect(3, ..., ...) = -1 EINPROGRESS',
    'connect(3, ..., ...) = 0',
  );
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /runtime error in connect call: Expected result 0 but got -1 with errno 115 \(Operation now in progress\)/,
  );
});

test("a control message with the wrong data fails recvmsg with packetdrill's message", async () => {
  const r = await runEdited('tcp_inq_server.pkt', 'cmsg_data=8000', 'cmsg_data=7000');
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /tcp_inq_server\.pkt:\d+: runtime error in recvmsg call: Bad data in cmsg 0: expected=7000 actual=8000/,
  );
});

test("a backquoted pipeline runs its first command in lonet's shell and the rest as grep does", () => {
  assert.deepEqual(splitPipeline(`nstat | grep TcpExtBeyondWindow | grep -q " 3 " || true`), [
    'nstat',
    'grep TcpExtBeyondWindow',
    'grep -q " 3 " || true',
  ]);
  const out = '#kernel\nTcpExtBeyondWindow              3                  0.0\n';
  assert.deepEqual(grepFilter('grep TcpExtBeyondWindow', out), {
    code: 0,
    out: 'TcpExtBeyondWindow              3                  0.0\n',
    err: '',
  });
  assert.equal(grepFilter('grep -q " 3 "', out).code, 0);
  assert.equal(grepFilter('grep -q " 4 "', out).code, 1);
  assert.equal(grepFilter('grep -c -v kernel', out).out, '1\n');
});

// Two scripts Linux 6.18 fails here only in their second half, which tests 7.0's rcv_mwnd_seq
// (RFC 7323 2.4); the first halves are 6.18 behaviour and lonet must pass them.
test('an extreme memory squeeze (SO_RCVBUF cut under a full queue) answers with a zero window and counts TCPRcvQDrop', async () => {
  const script = 'tcp_rcv_wnd_shrink_nomem.pkt';
  const src = readFileSync(join(CORPUS, script), 'utf8');
  const r = await runEdited(script, src.slice(src.indexOf('// RWIN == 0:')), '');
  assert.equal(r.code, 0, r.err);
});

test('net.ipv4.tcp_shrink_window=1 takes back window as the buffer fills, and drops what lies beyond', async () => {
  const r = await runEdited(
    'tcp_rcv_wnd_shrink_allowed.pkt',
    '// Segment using the max window is accepted\n  +0 < P. 11024:25361(14337) ack 1 win 257\n   * > .  1:1(0) ack 25361 win 0\n',
    '',
  );
  assert.equal(r.code, 0, r.err);
  // Without it the free space is rounded up to the scale, not down: the first ACK offers 16, not 15.
  const kept = await runEdited('tcp_rcv_wnd_shrink_allowed.pkt', 'sysctl -q net.ipv4.tcp_shrink_window=1\n', '');
  assert.equal(kept.code, 1);
  assert.match(kept.err, /:23: live packet field tcp_window: expected: 15 \(0xf\) vs actual: 16 \(0x10\)/);
});

test('past the urgent mark: the pipe holds what splice took, and read() steps over the urgent byte (not SO_OOBINLINE)', async () => {
  const tail = '   +0 splice(4, NULL, 6, NULL, 1, 0) = 0\n';
  const more = [
    tail,
    '   +0 read(5, ..., 1000) = 99\n',
    '   +0 < . 101:201(100) ack 1 win 257\n',
    // tcp_recvmsg(): at the mark with nothing copied, copied_seq++ over the urgent byte.
    '   +0 read(4, ..., 1000) = 100\n',
  ].join('');
  const r = await runEdited('tcp_splice_tcp_splice_loop_test.pkt', tail, more);
  assert.equal(r.code, 0, r.err);
  // read() stops at the mark too.
  const early = await runEdited(
    'tcp_splice_tcp_splice_loop_test.pkt',
    'splice(4, NULL, 6, NULL, 99, 0) = 99',
    'read(4, ..., 1000) = 99',
  );
  assert.equal(early.code, 0, early.err);
  // net.ipv4.tcp_stdurg=1 reads the pointer as the urgent byte itself: the mark moves one on.
  const src = readFileSync(join(CORPUS, 'tcp_splice_tcp_splice_loop_test.pkt'), 'utf8');
  const std = await runEdited(
    'tcp_splice_tcp_splice_loop_test.pkt',
    src.slice(src.indexOf('// Initialize')),
    `\`sysctl -q net.ipv4.tcp_stdurg=1\`\n${src.slice(src.indexOf('// Initialize')).replace('6, NULL, 1, 0) = 0', '6, NULL, 1, 0) = 1')}`,
  );
  assert.equal(std.code, 0, std.err);
});
