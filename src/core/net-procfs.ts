/** net/core/net-procfs.c: /proc/net/dev and /proc/net/softnet_stat, from live counters. */
import type { Kernel } from '../kernel/kernel.js';
import type { Net } from '../net/net.js';
import { devGetStats, type NetDevice } from './netdevice.js';

const pad = (v: number | string, w: number) => String(v).padStart(w);

/** dev_seq_printf_stats(): one row per device, columns folded the way Linux folds them. */
function devSeqPrintfStats(dev: NetDevice): string {
  const s = devGetStats(dev);
  return (
    `${pad(dev.name, 6)}: ${pad(s.rxBytes, 7)} ${pad(s.rxPackets, 7)} ${pad(s.rxErrors, 4)} ` +
    `${pad(s.rxDropped + s.rxMissedErrors, 4)} ${pad(s.rxFifoErrors, 4)} ` +
    `${pad(s.rxLengthErrors + s.rxOverErrors + s.rxCrcErrors + s.rxFrameErrors, 5)} ` +
    `${pad(s.rxCompressed, 10)} ${pad(s.multicast, 9)} ${pad(s.txBytes, 8)} ${pad(s.txPackets, 7)} ` +
    `${pad(s.txErrors, 4)} ${pad(s.txDropped, 4)} ${pad(s.txFifoErrors, 4)} ${pad(s.collisions, 5)} ` +
    `${pad(s.txCarrierErrors + s.txAbortedErrors + s.txWindowErrors + s.txHeartbeatErrors, 7)} ` +
    `${pad(s.txCompressed, 10)}\n`
  );
}

/** /proc/net/dev for one namespace. */
export function devSeqShow(net: Net): string {
  let out =
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const dev of net.devices) out += devSeqPrintfStats(dev);
  return out;
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/**
 * softnet_seq_show(): one line per CPU, 15 fields: processed, dropped, time_squeeze,
 * six retired zeros, received_rps, flow_limit_count, backlog length, CPU index, and
 * the input and process queue lengths. Global, the same in every namespace.
 */
export function softnetSeqShow(kernel: Kernel): string {
  let out = '';
  for (const cpu of kernel.cpus) {
    const sd = cpu.sd;
    const input = sd.inputPktQueue.qlen;
    const proc = sd.processQueue.qlen;
    const fields = [
      sd.processed,
      sd.dropped,
      sd.timeSqueeze,
      0,
      0,
      0,
      0,
      0,
      0,
      sd.receivedRps,
      sd.flow?.count ?? 0,
      input + proc,
      cpu.id,
      input,
      proc,
    ];
    out += `${fields.map(hex8).join(' ')}\n`;
  }
  return out;
}
