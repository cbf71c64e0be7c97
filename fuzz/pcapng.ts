/**
 * The pcapng reader on a file lonet's writer made from Linux's capture, mutated (block
 * types and lengths, option lengths, byte-order magic, if_tsresol, truncation) and on
 * random bytes. It returns interfaces and records or a PcapError, never throws, and every
 * record lies inside the file and names an interface the file described.
 */
import fc from 'fast-check';
import { PcapError } from '../src/capture/pcap.js';
import { PcapngWriter, readPcapng } from '../src/capture/pcapng.js';
import { captureFrames } from './frames.js';
import { type FuzzTarget, hex, invariant } from './harness.js';

let base: Uint8Array | undefined;

/** The capture's packets as pcapng: section, two interfaces (one with a comment), the packets. */
function file(): Uint8Array {
  if (base !== undefined) return base;
  const w = new PcapngWriter();
  const parts = [w.sectionHeader()];
  const lo = w.interfaceFor(1, { name: 'lo', linktype: 1, snaplen: 262144 });
  const any = w.interfaceFor(0, { name: 'any', linktype: 276, snaplen: 96, comment: 'cooked' });
  if (lo.block !== null) parts.push(lo.block);
  if (any.block !== null) parts.push(any.block);
  captureFrames().forEach((data, i) => {
    parts.push(
      w.packet(i % 2 === 0 ? lo.id : any.id, { tsNs: 1e18 + i * 1000, origLen: data.length, data, pktType: i % 5 }),
    );
  });
  base = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    base.set(p, at);
    at += p.length;
  }
  return base;
}

type Edit = { at: number; value: number; width: 1 | 2 | 4 } | { cut: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    at: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.nat()),
    value: fc.oneof(
      fc.constantFrom(0, 1, 3, 4, 6, 9, 12, 0xffff, 0xffffffff, 0x1a2b3c4d, 0x4d3c2b1a, 0x0a0d0d0a, 0x80),
      fc.nat(),
    ),
    width: fc.constantFrom(1 as const, 2 as const, 4 as const),
  }),
  fc.record({ cut: fc.nat() }),
);

function apply(edits: Edit[]): Uint8Array {
  let b = file().slice();
  for (const e of edits) {
    if ('cut' in e) b = b.slice(0, e.cut % (b.length + 1));
    else if (b.length > 0) {
      const at = e.at % b.length;
      for (let i = 0; i < e.width && at + i < b.length; i++) b[at + i] = (e.value >>> (8 * i)) & 0xff;
    }
  }
  return b;
}

export const pcapngTarget: FuzzTarget<Uint8Array> = {
  name: 'pcapng',
  covers: 'the pcapng reader: section, interface and packet blocks, options, both byte orders',
  arbitrary: () =>
    fc.oneof(
      { weight: 4, arbitrary: fc.array(editArb, { maxLength: 4 }).map(apply) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    ),
  check(bytes) {
    const r = readPcapng(bytes);
    if (r instanceof PcapError) {
      invariant(r.offset >= 0 && r.offset <= bytes.length, `error offset ${r.offset}`);
      return;
    }
    for (const rec of r.records) {
      const d = rec.data;
      invariant(
        d.byteOffset >= bytes.byteOffset && d.byteOffset + d.byteLength <= bytes.byteOffset + bytes.byteLength,
        'record outside the file',
      );
      invariant(
        rec.interfaceId < r.interfaces.length,
        `record on interface ${rec.interfaceId} of ${r.interfaces.length}`,
      );
      invariant(Number.isFinite(rec.tsSec) && Number.isFinite(rec.tsNsec), 'timestamp not finite');
    }
  },
  show: (b) => hex(b),
};
