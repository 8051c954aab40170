/** Output file for pcapng chunks: the only place in pcapng/ that touches the file system. */
import { open, type FileHandle } from 'node:fs/promises';

export interface ChunkSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function openFileSink(path: string): Promise<ChunkSink> {
  const fh: FileHandle = await open(path, 'w');
  return {
    async write(chunk) {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    },
    close: () => fh.close(),
  };
}

/** Collects chunks in memory (tests, small files). */
export function memorySink(): ChunkSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    async write(chunk) {
      parts.push(chunk.slice());
    },
    async close() {},
    bytes() {
      const n = parts.reduce((a, p) => a + p.length, 0);
      const out = new Uint8Array(n);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
  };
}
