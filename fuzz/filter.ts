/**
 * pcap-filter expressions as tcpdump users type them: protocol names, qualifiers, hosts,
 * nets, ports, ranges, byte offsets and masks, comparisons, and/or/not and parentheses,
 * in any order. compileFilter returns a predicate or throws FilterError (libpcap's
 * message), nothing else; the predicate answers true or false for every packet of the
 * capture, mutated or not, and never throws.
 */
import fc from 'fast-check';
import { compileFilter, FilterError } from '../src/capture/filter.js';
import { LINKTYPE } from '../src/capture/pcap.js';
import { captureFrames } from './frames.js';
import { type FuzzTarget, invariant } from './harness.js';

const words = fc.constantFrom(
  'ip',
  'ip6',
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'arp',
  'ether',
  'host',
  'net',
  'port',
  'portrange',
  'src',
  'dst',
  'and',
  'or',
  'not',
  '&&',
  '||',
  '!',
  '(',
  ')',
  'len',
  'less',
  'greater',
  'proto',
  'mask',
  'broadcast',
  'multicast',
  '127.0.0.1',
  '127.0.0.0/8',
  '127/8',
  '::1',
  '::1/128',
  'localhost',
  '53',
  '0',
  '65535',
  '65536',
  '-1',
  '1-1024',
  '1024-1',
  'domain',
  'http',
  'tcp[13]',
  'tcp[tcpflags]',
  'tcp-syn',
  'tcp-ack',
  'ip[0]',
  'ip[0:2]',
  'ip[0:4]',
  'ip[0:3]',
  'ip[100000]',
  'icmp[icmptype]',
  'icmp-echo',
  'ether[12:2]',
  '&',
  '|',
  '=',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '<<',
  '>>',
  '0x800',
  '0xffffffff',
  '4294967296',
  'vlan',
  'gateway',
  'x',
);

export const filterTarget: FuzzTarget<{ expr: string; frame: number; cut: number }> = {
  name: 'filter',
  covers: "tcpdump's filter language: compileFilter and the predicates it builds",
  arbitrary: () =>
    fc.record({
      expr: fc.oneof(
        fc.array(words, { maxLength: 10 }).map((w) => w.join(' ')),
        fc.array(fc.oneof(words, fc.string({ maxLength: 3 })), { maxLength: 8 }).map((w) => w.join('')),
      ),
      frame: fc.nat(),
      cut: fc.nat(),
    }),
  check({ expr, frame, cut }) {
    let fn: ReturnType<typeof compileFilter>;
    try {
      fn = compileFilter(expr);
    } catch (e) {
      invariant(
        e instanceof FilterError,
        `compileFilter(${JSON.stringify(expr)}) threw ${e instanceof Error ? e.stack : String(e)}`,
      );
      return;
    }
    const frames = captureFrames();
    const f = frames[frame % frames.length] as Uint8Array;
    for (const data of [f, f.subarray(0, cut % (f.length + 1)), new Uint8Array(0)]) {
      for (const linktype of [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL2]) {
        const r = fn({ data, len: f.length, linktype });
        invariant(typeof r === 'boolean', `the predicate answered ${String(r)}`);
      }
    }
  },
  show: (x) => JSON.stringify(x),
};
