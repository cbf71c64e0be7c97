/**
 * UDP as /proc/net/udp, /proc/net/udp6 (udp4_seq_show, udp6_seq_show) and sock_diag
 * (net/ipv4/udp_diag.c) show it. Both walk the port hash table slot by slot: a
 * socket's slot is udp_hashfn(net, port) = (port + net_hash_mix(net)) & mask, the
 * table is the host's one (net.ipv4.udp_child_hash_entries = 0, the default) and
 * newer sockets come first in a slot, so the order is Linux's.
 */

import { type InetDiagMsg, sockGenCookie } from '../core/sock-diag.js';
import { TCP_STATE } from '../include/tcp-states.js';
import type { Net } from '../net/net.js';
import { registerProcNet } from '../net/procfs.js';
import { type UdpSock, udpSockets } from './udp.js';

/**
 * UDP hash table slots: alloc_large_system_hash("UDP", …, scale 21) gives one per
 * 2 MiB of memory, rounded up to a power of two; 16384 is a 24 GiB host's (the
 * reference machine's).
 */
export const UDP_HTABLE_SIZE = 16384;

const hashMix = new WeakMap<Net, number>();
const pointers = new WeakMap<UdpSock, number>();

/** net_hash_mix(): a random value each namespace gets when it is created. */
function netHashMix(net: Net): number {
  let m = hashMix.get(net);
  if (m === undefined) {
    m = crypto.getRandomValues(new Uint32Array(1))[0] as number;
    hashMix.set(net, m);
  }
  return m;
}

/** Gives a namespace a chosen net_hash_mix, so a test can lay sockets out as a real namespace did. */
export function setNetHashMix(net: Net, mix: number): void {
  hashMix.set(net, mix >>> 0);
}

export function udpHashSlot(net: Net, port: number): number {
  return (port + netHashMix(net)) & (UDP_HTABLE_SIZE - 1);
}

/** Bound sockets in hash-walk order: by slot, newest first within a slot. */
export function udpWalk(net: Net): { sk: UdpSock; slot: number }[] {
  const all = udpSockets(net).filter((sk) => !sk.closed && sk.bound);
  const slotted = all.map((sk, i) => ({ sk, slot: udpHashSlot(net, sk.localPort), i }));
  slotted.sort((a, b) => a.slot - b.slot || b.i - a.i);
  return slotted.map(({ sk, slot }) => ({ sk, slot }));
}

/** The address a socket reports as local: the bound one, or the one connect() chose. */
function localOf(sk: UdpSock): Uint8Array {
  return sk.sockname.addr;
}

/** udp_rqueue_get(): what waits to be read, in truesize. */
function rqueue(sk: UdpSock): number {
  return sk.queue.rmemAlloc;
}

/** sk_refcnt: one for the socket, one for the hash table that holds it. */
function refcount(sk: UdpSock): number {
  return 1 + (sk.bound ? 1 : 0);
}

/** %pK: the kernel prints a hashed pointer, stable for the socket's life. */
function hashedPointer(sk: UdpSock): string {
  let p = pointers.get(sk);
  if (p === undefined) {
    p = crypto.getRandomValues(new Uint32Array(1))[0] as number;
    pointers.set(sk, p);
  }
  return p.toString(16).padStart(16, '0');
}

/** A __be32 at a[i] printed with %08X on a little-endian host. */
function hexBe32(a: Uint8Array, i: number): string {
  const v =
    ((a[i + 3] as number) << 24) | ((a[i + 2] as number) << 16) | ((a[i + 1] as number) << 8) | (a[i] as number);
  return (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

const hex = (v: number, w: number) => (v >>> 0).toString(16).toUpperCase().padStart(w, '0');

function state(sk: UdpSock): number {
  return sk.connected ? TCP_STATE.ESTABLISHED : TCP_STATE.CLOSE;
}

/** The columns after the addresses, shared by udp and udp6. */
function tail(sk: UdpSock): string {
  return (
    `${hex(state(sk), 2)} ${hex(sk.wmemAlloc, 8)}:${hex(rqueue(sk), 8)} 00:00000000 00000000 ` +
    `${String(sk.uid).padStart(5)} ${String(0).padStart(8)} ${sk.ino} ${refcount(sk)} ${hashedPointer(sk)} ${sk.queue.drops}`
  );
}

/** seq_setwidth(seq, 127) + seq_pad(seq, '\n'). */
const pad127 = (s: string) => `${s.padEnd(127)}\n`;

export function udp4SeqShow(net: Net): string {
  let out = pad127(
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  );
  for (const { sk, slot } of udpWalk(net)) {
    if (sk.family !== 4) continue;
    const src = `${hexBe32(localOf(sk), 12)}:${hex(sk.localPort, 4)}`;
    const dst = `${hexBe32(sk.remoteAddr, 12)}:${hex(sk.remotePort, 4)}`;
    out += pad127(`${String(slot).padStart(5)}: ${src} ${dst} ${tail(sk)}`);
  }
  return out;
}

export function udp6SeqShow(net: Net): string {
  let out =
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  const a6 = (a: Uint8Array) => hexBe32(a, 0) + hexBe32(a, 4) + hexBe32(a, 8) + hexBe32(a, 12);
  for (const { sk, slot } of udpWalk(net)) {
    if (sk.family !== 6) continue;
    const src = `${a6(localOf(sk))}:${hex(sk.localPort, 4)}`;
    const dst = `${a6(sk.remoteAddr)}:${hex(sk.remotePort, 4)}`;
    out += `${String(slot).padStart(5)}: ${src} ${dst} ${tail(sk)}\n`;
  }
  return out;
}

/** udp_diag_dump(): what ss -u receives, in the kernel's order. */
export function udpDiagDump(net: Net, family: 4 | 6): InetDiagMsg[] {
  const out: InetDiagMsg[] = [];
  for (const { sk } of udpWalk(net)) {
    if (sk.family !== family) continue;
    const msg: InetDiagMsg = {
      family: sk.family,
      state: state(sk),
      localAddr: localOf(sk),
      localPort: sk.localPort,
      remoteAddr: sk.remoteAddr,
      remotePort: sk.remotePort,
      rqueue: rqueue(sk),
      wqueue: sk.wmemAlloc,
      uid: sk.uid,
      ino: sk.ino,
      cookie: sockGenCookie(net.kernel, sk),
      shutdown: 0,
      skmem: {
        rmemAlloc: sk.queue.rmemAlloc,
        rcvbuf: sk.rcvbuf,
        wmemAlloc: sk.wmemAlloc,
        sndbuf: sk.sndbuf,
        fwdAlloc: sk.forwardAlloc,
        wmemQueued: 0,
        optmem: 0,
        backlog: 0,
        drops: sk.queue.drops,
      },
    };
    // inet_diag_msg_attrs_fill(): INET_DIAG_SKV6ONLY only for AF_INET6 sockets in LISTEN or CLOSE.
    if (sk.family === 6 && msg.state === TCP_STATE.CLOSE) msg.v6only = sk.v6only;
    out.push(msg);
  }
  return out;
}

export function udpProcInit(): void {
  registerProcNet('udp', udp4SeqShow);
  registerProcNet('udp6', udp6SeqShow);
}
