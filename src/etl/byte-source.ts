/** Random-access byte input for the ETL reader: a file (etl/file-source.ts) or memory (tests). */
export interface ByteSource {
  /** Bytes available now (a growing source: what has been written so far). */
  readonly size: number;
  readonly name: string;
  /** Reads up to `length` bytes at file position `position` into `dst[dstOffset..]`. Returns bytes read. */
  read(dst: Uint8Array, dstOffset: number, length: number, position: number): Promise<number>;
  /** The same, without the source's own read-ahead (the reader reads ahead itself, buffer by buffer). */
  readDirect?(dst: Uint8Array, dstOffset: number, length: number, position: number): Promise<number>;
  /** read() done at once, for small reads (the headers of every buffer: EtlBufferReader.plan). */
  readSync?(dst: Uint8Array, dstOffset: number, length: number, position: number): number;
  close(): Promise<void>;
  /**
   * A file still being written (follow mode, etl/follow-source.ts): waits a little for `size` bytes.
   * 'ready': they are there; 'ended': the writer has finished and they never will be; 'tick': not
   * yet (the reader releases what it holds, then asks again). Absent on a finished file.
   */
  waitFor?(size: number): Promise<'ready' | 'ended' | 'tick'>;
}

export function memorySource(bytes: Uint8Array, name = '<memory>'): ByteSource {
  const copy = (dst: Uint8Array, dstOffset: number, length: number, position: number): number => {
    const n = Math.max(0, Math.min(length, bytes.length - position));
    dst.set(bytes.subarray(position, position + n), dstOffset);
    return n;
  };
  return {
    size: bytes.length,
    name,
    async read(dst, dstOffset, length, position) {
      return copy(dst, dstOffset, length, position);
    },
    readSync: copy,
    async close() {},
  };
}
