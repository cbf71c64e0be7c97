import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  LINKTYPE,
  MAXIMUM_SNAPLEN,
  openPcap,
  PcapError,
  PcapReader,
  type PcapRecord,
  PcapWriter,
  readPcap,
  writePcap,
} from '../../src/capture/pcap.js';

const file = new Uint8Array(readFileSync(new URL('../fixtures/linux-6.18-lo-sample.pcap', import.meta.url)));

function read(bytes: Uint8Array) {
  const c = readPcap(bytes);
  if (c instanceof PcapError) throw c;
  return c;
}

/** The same file with every 32- and 16-bit header field byte-swapped: a big-endian writer's output. */
function toBigEndian(bytes: Uint8Array): Uint8Array {
  const { header, records } = read(bytes);
  return writePcap({ ...header, littleEndian: false }, records);
}

test('the sample is pcap 2.4, microseconds, snaplen 262144, Ethernet, 33 records (spec §6)', () => {
  const { header, records } = read(file);
  assert.deepEqual(header, {
    nanosecond: false,
    littleEndian: true,
    versionMajor: 2,
    versionMinor: 4,
    thiszone: 0,
    sigfigs: 0,
    snaplen: MAXIMUM_SNAPLEN,
    linktype: LINKTYPE.ETHERNET,
  });
  assert.equal(records.length, 33);
  // tcpdump -tt: 1795294334.692053, a 98-byte echo request with zero MACs and ethertype 0x0800.
  const first = records[0]!;
  assert.equal(first.tsSec, 1795294334);
  assert.equal(first.tsNsec, 692053000);
  assert.equal(first.origLen, 98);
  assert.equal(first.data.byteLength, 98);
  assert.deepEqual([...first.data.subarray(0, 14)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00]);
  assert.equal(first.data.buffer, file.buffer, 'records are views into the file');
  const udp = records[30]!;
  assert.equal(udp.data.byteLength, 60);
  assert.equal(records[32]!.tsNsec, 898709000);
  for (const r of records) assert.equal(r.origLen, r.data.byteLength);
});

test('the whole capture round-trips through reader and writer byte for byte', () => {
  const { header, records } = read(file);
  assert.deepEqual(writePcap(header, records), file);
  // Incrementally, chunk by chunk, as a stream or a Blob would take it.
  const w = new PcapWriter(header);
  const chunks = [w.fileHeader()];
  const reader = openPcap(file);
  assert.ok(reader instanceof PcapReader);
  for (const r of reader) chunks.push(w.record(r));
  assert.equal(reader.error, undefined);
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(file));
});

test('big-endian and nanosecond files read back to the same records', () => {
  const { records } = read(file);
  const be = toBigEndian(file);
  assert.deepEqual([...be.subarray(0, 4)], [0xa1, 0xb2, 0xc3, 0xd4]);
  const beRead = read(be);
  assert.equal(beRead.header.littleEndian, false);
  assert.deepEqual(beRead.records, records);
  assert.deepEqual(writePcap(beRead.header, beRead.records), be);

  const ns = writePcap({ nanosecond: true }, records);
  assert.deepEqual([...ns.subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
  const nsRead = read(ns);
  assert.equal(nsRead.header.nanosecond, true);
  assert.deepEqual(nsRead.records, records);
  const ns2 = read(
    writePcap({ nanosecond: true, littleEndian: false }, [
      { tsSec: 1, tsNsec: 123456789, origLen: 3, data: Uint8Array.of(1, 2, 3) },
    ]),
  );
  assert.equal(ns2.records[0]!.tsNsec, 123456789);
});

test('the writer cuts packets to the snaplen and keeps their original length', () => {
  const rec: PcapRecord = { tsSec: 5, tsNsec: 1999, origLen: 100, data: new Uint8Array(100).fill(0xab) };
  const bytes = writePcap({ snaplen: 64, linktype: LINKTYPE.RAW }, [rec]);
  const { header, records } = read(bytes);
  assert.equal(header.snaplen, 64);
  assert.equal(header.linktype, 101);
  assert.equal(records[0]!.data.byteLength, 64);
  assert.equal(records[0]!.origLen, 100);
  assert.equal(records[0]!.tsNsec, 1000, 'microsecond files keep whole microseconds');
});

test('corrupt and truncated files give a clear error value, never a throw', () => {
  const err = (bytes: Uint8Array) => {
    const r = readPcap(bytes);
    assert.ok(r instanceof PcapError, 'expected a PcapError');
    return r.message;
  };
  assert.match(err(new Uint8Array(0)), /shorter than the 24-byte header/);
  assert.match(err(file.subarray(0, 23)), /shorter than the 24-byte header/);
  assert.match(err(new TextEncoder().encode('this is not a pcap file at all')), /not a pcap file \(magic 0x74686973\)/);
  const ng = file.slice(0, 64);
  ng.set([0x0a, 0x0d, 0x0d, 0x0a]);
  assert.match(err(ng), /pcapng/);
  const v1 = file.slice();
  v1[4] = 1;
  assert.match(err(v1), /unsupported version 1\.4/);

  assert.match(err(file.subarray(0, 24 + 10)), /truncated record header at offset 24 \(10 of 16 bytes\)/);
  assert.match(err(file.subarray(0, 24 + 16 + 50)), /truncated record at offset 24: caplen 98, 50 bytes left/);
  assert.match(err(file.subarray(0, file.length - 1)), /truncated record/);
  const huge = file.slice();
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
  assert.match(err(huge), /caplen 2147483647, more than 262144/);
  const frac = file.slice();
  new DataView(frac.buffer).setUint32(24 + 4, 1_000_000, true);
  assert.match(err(frac), /fraction of a second of 1000000/);

  // The header alone is a valid, empty capture.
  assert.deepEqual(read(file.subarray(0, 24)).records, []);
  for (let n = 0; n <= 400; n++) readPcap(file.subarray(0, n));
});

test('a reader stops at the first bad record and says why; next() returns the error itself', () => {
  const cut = file.subarray(0, 24 + (16 + 98) * 2 + 20);
  const reader = openPcap(cut);
  assert.ok(reader instanceof PcapReader);
  assert.equal([...reader].length, 2);
  assert.ok(reader.error instanceof PcapError);
  assert.equal(reader.error.offset, 24 + (16 + 98) * 2);
  assert.equal(reader.next(), reader.error);

  const ok = openPcap(file);
  assert.ok(ok instanceof PcapReader);
  let n = 0;
  while (ok.next() !== undefined) n++;
  assert.equal(n, 33);
});
