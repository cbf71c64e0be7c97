/**
 * inet_ehash's numeric IPv4 index (the receive path's lookup) always agrees with the table
 * itself, whatever is inserted, replaced and removed, IPv6 keys included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InetEhash } from '../../src/transport/tcp/netns.js';
import { TcpSock } from '../../src/transport/tcp/sock.js';
import { v4Mapped } from '../../src/transport/udp.js';

test('ehash lookup by IPv4 numbers finds exactly what the 4-tuple key holds', () => {
  const v6 = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? n : i === 0 ? 0x20 : 0));
  const tuple = fc.record({
    v4: fc.boolean(),
    la: fc.constantFrom(0x7f000001, 0x7f000002, 0, 0xffffffff),
    lp: fc.constantFrom(0, 1, 80, 8080, 65535),
    ra: fc.constantFrom(0x7f000001, 0x7f000003, 1),
    rp: fc.constantFrom(1, 443, 40000, 65535),
  });
  const op = fc.record({ t: tuple, del: fc.boolean(), value: fc.nat() });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const h = new InetEhash<number>();
      const keyOf = (t: { v4: boolean; la: number; lp: number; ra: number; rp: number }) =>
        t.v4
          ? TcpSock.ehashKey(v4Mapped(t.la), t.lp, v4Mapped(t.ra), t.rp)
          : TcpSock.ehashKey(v6(t.la & 0xff), t.lp, v6(t.ra & 0xff), t.rp);
      for (const o of ops) {
        if (o.del) h.delete(keyOf(o.t));
        else h.set(keyOf(o.t), o.value);
      }
      for (const o of ops) {
        const t = o.t;
        const want = h.get(keyOf({ ...t, v4: true }));
        assert.equal(h.lookup4(t.la, t.lp, t.ra, t.rp), want);
      }
    }),
    { numRuns: 2000 },
  );
});
