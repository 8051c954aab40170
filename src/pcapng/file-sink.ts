/** Output file for pcapng chunks: the only place in pcapng/ that touches the file system. */
import { open, type FileHandle } from 'node:fs/promises';
import { concatBytes } from '../util/bytes.js';

export interface ChunkSink {
  /**
   * Queues a chunk. The returned promise resolves when the sink can take more (write-behind);
   * `written` is called once the chunk's bytes are on their way and it may be reused.
   */
  write(chunk: Uint8Array, written?: () => void): Promise<void>;
  /** Waits for every queued write, then closes. Rejects with the first write error. */
  close(): Promise<void>;
  /** Drops everything written so far (the converter starts over). */
  reset(): Promise<void>;
}

const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export async function openFileSink(path: string): Promise<ChunkSink> {
  const fh: FileHandle = await open(path, 'w');
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let failure: unknown;
  let position = 0;
  const writeAll = async (chunk: Uint8Array): Promise<void> => {
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, position);
      off += bytesWritten;
      position += bytesWritten;
    }
  };
  return {
    async write(chunk, written) {
      if (failure !== undefined) throw failure;
      queued += chunk.length;
      tail = tail.then(async () => {
        try {
          if (failure === undefined) await writeAll(chunk);
        } catch (e) {
          failure ??= e;
        } finally {
          queued -= chunk.length;
          written?.();
        }
      });
      if (queued > MAX_QUEUED_BYTES) await tail;
      if (failure !== undefined) throw failure;
    },
    async close() {
      await tail;
      await fh.close();
      if (failure !== undefined) throw failure;
    },
    async reset() {
      await tail;
      await fh.truncate(0);
      position = 0;
    },
  };
}

/** Collects chunks in memory (tests, small files). */
export function memorySink(): ChunkSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    async write(chunk, written) {
      parts.push(chunk.slice());
      written?.();
    },
    async close() {},
    async reset() {
      parts.length = 0;
    },
    bytes() {
      return concatBytes(parts);
    },
  };
}

/**
 * Writes chunks to a stream (stdout, Wireshark's fifo) as they come: follow mode. Waits for the
 * stream to drain (back-pressure); close() ends the stream unless told to leave it open (stdout).
 * A stream cannot start over: reset() rejects (follow mode never restarts its decode).
 */
export function streamSink(out: NodeJS.WritableStream, o: { end: boolean; onBroken?: (e: Error) => void }): ChunkSink {
  let failure: Error | undefined;
  const onError = (e: Error): void => {
    if (failure) return;
    failure = e;
    o.onBroken?.(e); // the reader went away (EPIPE): the caller stops what it feeds
  };
  out.on('error', onError);
  const drained = (): Promise<void> => new Promise<void>((res) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('error', done);
      res();
    };
    out.on('drain', done);
    out.on('error', done);
  });
  return {
    async write(chunk, written) {
      if (failure !== undefined) throw failure;
      const more = out.write(chunk.slice());
      written?.();
      if (!more) await drained();
      if (failure !== undefined) throw failure;
    },
    async close() {
      if (o.end && !failure) await new Promise<void>((res) => out.end(() => res()));
      out.off('error', onError);
      if (failure !== undefined) throw failure;
    },
    async reset() {
      throw new Error('a stream cannot start over');
    },
  };
}
