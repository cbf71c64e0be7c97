/**
 * The pcap reader on Linux's real capture, mutated (header fields, record lengths,
 * truncation, byte flips, byte order) and on random bytes. It returns records or a
 * PcapError, never throws; records lie inside the file; what it reads, written back
 * with the writer and read again, is the same.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { openPcap, PcapError, readPcap, writePcap } from '../src/capture/pcap.js';
import { CAPTURE } from './frames.js';
import { type FuzzTarget, hex, invariant } from './harness.js';

type Edit = { at: number; value: number; width: 1 | 4 } | { cut: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    // Header fields and the first records' headers, where lengths live.
    at: fc.oneof(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 24, max: 120 }), fc.nat()),
    value: fc.oneof(
      fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 262144, 262145, 999999, 1e9, 0xa1b23c4d, 0x0a0d0d0a),
      fc.nat(),
    ),
    width: fc.constantFrom(1 as const, 4 as const),
  }),
  fc.record({ cut: fc.nat() }),
);

let base: Uint8Array | undefined;
const capture = () => {
  base ??= new Uint8Array(readFileSync(CAPTURE));
  return base;
};

function apply(edits: Edit[], swap: boolean): Uint8Array {
  let b = capture().slice();
  if (swap) {
    // The same file in the other byte order: each 32-bit word of the global header reversed.
    for (let i = 0; i < 24; i += 4) b.subarray(i, i + 4).reverse();
  }
  for (const e of edits) {
    if ('cut' in e) b = b.slice(0, e.cut % (b.length + 1));
    else if (b.length > 0) {
      const at = e.at % b.length;
      if (e.width === 1) b[at] = e.value & 0xff;
      else for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (e.value >>> (8 * i)) & 0xff;
    }
  }
  return b;
}

export const pcapTarget: FuzzTarget<Uint8Array> = {
  name: 'pcap',
  covers: 'the pcap reader (global header, record headers, lengths) and its round trip through the writer',
  arbitrary: () =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(fc.array(editArb, { maxLength: 4 }), fc.boolean()).map(([e, s]) => apply(e, s)),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    ),
  check(bytes) {
    const r = readPcap(bytes);
    const reader = openPcap(bytes);
    if (r instanceof PcapError) {
      invariant(typeof r.offset === 'number' && r.offset >= 0 && r.offset <= bytes.length, `error offset ${r.offset}`);
      return;
    }
    invariant(!(reader instanceof PcapError), 'readPcap read what openPcap refused');
    let n = 0;
    for (const rec of reader) {
      const d = rec.data;
      invariant(
        d.buffer === bytes.buffer && d.byteOffset + d.byteLength <= bytes.byteOffset + bytes.byteLength,
        'record outside the file',
      );
      n++;
    }
    invariant(n === r.records.length && reader.error === undefined, 'iteration and readPcap disagree');
    const again = readPcap(writePcap(r.header, r.records));
    invariant(
      !(again instanceof PcapError),
      `the writer's output does not read back: ${again instanceof PcapError ? again.message : ''}`,
    );
    invariant(again.records.length === r.records.length, 'records lost in the round trip');
    again.records.forEach((x, i) => {
      const y = r.records[i];
      invariant(
        y !== undefined && hex(x.data) === hex(y.data.subarray(0, r.header.snaplen)),
        `record ${i} changed in the round trip`,
      );
    });
  },
  show: (b) => hex(b),
};
