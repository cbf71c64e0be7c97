/**
 * The 32-bit sequence-space fields of struct tcp_sock (and the timestamps, which are
 * 32-bit too). Callers see them as Linux's u32: 0 to 2^32 - 1, set from `(x + n) >>> 0`
 * arithmetic and compared with seqBefore()/seqAfter(). They are stored as int32: V8 keeps
 * a field holding values of 2^31 and above as a boxed double (a 16-byte heap number per
 * field in every socket, about 600 bytes a connected pair for these), while an int32 field
 * is a small integer held in the object itself.
 */

import { Sock } from '../../core/sock.js';

export const seqBefore = (a: number, b: number) => ((a - b) | 0) < 0;
export const seqAfter = (a: number, b: number) => ((b - a) | 0) < 0;

export class TcpSeqSpace extends Sock {
  #iss = 0;
  /** Initial send sequence number. */
  get iss(): number {
    return this.#iss >>> 0;
  }
  set iss(v: number) {
    this.#iss = v | 0;
  }

  #sndUna = 0;
  /** First byte sent and not yet acknowledged (snd_una). */
  get sndUna(): number {
    return this.#sndUna >>> 0;
  }
  set sndUna(v: number) {
    this.#sndUna = v | 0;
  }

  #sndNxt = 0;
  /** Next sequence number to send (snd_nxt). */
  get sndNxt(): number {
    return this.#sndNxt >>> 0;
  }
  set sndNxt(v: number) {
    this.#sndNxt = v | 0;
  }

  #sndSml = 0;
  /** End of the last small segment sent (snd_sml, for Nagle). */
  get sndSml(): number {
    return this.#sndSml >>> 0;
  }
  set sndSml(v: number) {
    this.#sndSml = v | 0;
  }

  #sndUp = 0;
  /** Urgent pointer (snd_up). */
  get sndUp(): number {
    return this.#sndUp >>> 0;
  }
  set sndUp(v: number) {
    this.#sndUp = v | 0;
  }

  #sndWl1 = 0;
  /** Sequence number of the segment that last updated the send window (snd_wl1). */
  get sndWl1(): number {
    return this.#sndWl1 >>> 0;
  }
  set sndWl1(v: number) {
    this.#sndWl1 = v | 0;
  }

  #pushedSeq = 0;
  /** Where the last PSH was marked (pushed_seq). */
  get pushedSeq(): number {
    return this.#pushedSeq >>> 0;
  }
  set pushedSeq(v: number) {
    this.#pushedSeq = v | 0;
  }

  #writeSeq = 0;
  /** Next sequence number the application's data will take (write_seq). */
  get writeSeq(): number {
    return this.#writeSeq >>> 0;
  }
  set writeSeq(v: number) {
    this.#writeSeq = v | 0;
  }

  #irs = 0;
  /** Initial receive sequence number. */
  get irs(): number {
    return this.#irs >>> 0;
  }
  set irs(v: number) {
    this.#irs = v | 0;
  }

  #rcvNxt = 0;
  /** Next sequence number expected (rcv_nxt). */
  get rcvNxt(): number {
    return this.#rcvNxt >>> 0;
  }
  set rcvNxt(v: number) {
    this.#rcvNxt = v | 0;
  }

  #rcvWup = 0;
  /** rcv_nxt when the window was last advertised (rcv_wup). */
  get rcvWup(): number {
    return this.#rcvWup >>> 0;
  }
  set rcvWup(v: number) {
    this.#rcvWup = v | 0;
  }

  #copiedSeq = 0;
  /** Head of the data not yet read by the application (copied_seq). */
  get copiedSeq(): number {
    return this.#copiedSeq >>> 0;
  }
  set copiedSeq(v: number) {
    this.#copiedSeq = v | 0;
  }

  #rttSeq = 0;
  /** snd_nxt when the RTT variance was last reset (rtt_seq). */
  get rttSeq(): number {
    return this.#rttSeq >>> 0;
  }
  set rttSeq(v: number) {
    this.#rttSeq = v | 0;
  }

  #highSeq = 0;
  /** snd_nxt when loss recovery began (high_seq). */
  get highSeq(): number {
    return this.#highSeq >>> 0;
  }
  set highSeq(v: number) {
    this.#highSeq = v | 0;
  }

  #rcvqSeq = 0;
  /** copied_seq at the last receive-buffer autotuning step (rcvq_space.seq). */
  get rcvqSeq(): number {
    return this.#rcvqSeq >>> 0;
  }
  set rcvqSeq(v: number) {
    this.#rcvqSeq = v | 0;
  }

  #rcvRttSeq = 0;
  /** End of the window whose filling times the receiver RTT (rcv_rtt_est.seq). */
  get rcvRttSeq(): number {
    return this.#rcvRttSeq >>> 0;
  }
  set rcvRttSeq(v: number) {
    this.#rcvRttSeq = v | 0;
  }

  #tsRecent = 0;
  /** The peer's last timestamp worth echoing (ts_recent). */
  get tsRecent(): number {
    return this.#tsRecent >>> 0;
  }
  set tsRecent(v: number) {
    this.#tsRecent = v | 0;
  }

  #tsOffset = 0;
  /** This connection's timestamp offset (tsoffset). */
  get tsOffset(): number {
    return this.#tsOffset >>> 0;
  }
  set tsOffset(v: number) {
    this.#tsOffset = v | 0;
  }
}
