/**
 * A pipe (fs/pipe.c): a byte queue with a read end and a write end, each its own file.
 * lonet's pipes exist for splice(2) from a socket; they hold what was spliced in until
 * read(2) takes it out.
 */

/** PIPE_DEF_BUFFERS pages of PAGE_SIZE: a new pipe's capacity. */
export const PIPE_DEF_SIZE = 16 * 4096;

/** struct pipe_inode_info: the queued buffers and the ends still open. */
export class Pipe {
  readonly bufs: Uint8Array[] = [];
  bytes = 0;
  readers = 1;
  writers = 1;

  /** Room left before a writer must wait. */
  get room(): number {
    return Math.max(0, PIPE_DEF_SIZE - this.bytes);
  }

  push(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    this.bufs.push(data);
    this.bytes += data.byteLength;
  }

  /** pipe_read(): up to `max` bytes from the front. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.bytes);
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const b = this.bufs[0] as Uint8Array;
      const k = Math.min(b.byteLength, n - off);
      out.set(b.subarray(0, k), off);
      if (k === b.byteLength) this.bufs.shift();
      else this.bufs[0] = b.subarray(k);
      off += k;
    }
    this.bytes -= n;
    return out;
  }
}

/** One end of a pipe, as an open file. */
export class PipeFile {
  nonblock = false;
  constructor(
    readonly pipe: Pipe,
    readonly write: boolean,
  ) {}
}
