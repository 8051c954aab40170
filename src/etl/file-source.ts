/** File access for the ETL reader: the only place in etl/ that touches the file system. */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import type { ByteSource } from './byte-source.js';

export async function openFileSource(path: string): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`, { hint: 'check the path of the capture file' });
    if (code === 'EISDIR') throw new InputError(`${path} is a folder, not an ETL file`);
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`${path}: permission denied`);
    throw e;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new InputError(`${path} is not a regular file`);
  }
  const size = st.size;
  const readFully = (dst: Uint8Array, dstOffset: number, length: number, position: number): Promise<number> => readAt(fh, dst, dstOffset, length, position);
  // Sequential read-ahead: after a read that continues the one before, the next PREFETCH bytes
  // are read in the background into a spare buffer, so file I/O overlaps decoding. (Not after a
  // lone read: the reader reads uncompressed buffers on its own way after the first, readDirect.)
  let spare: Uint8Array | undefined;
  let ahead: { position: number; done: Promise<number>; buf: Uint8Array } | undefined;
  let lastEnd = -1;
  const startAhead = (position: number, sequential: boolean): void => {
    if (position >= size || !sequential) {
      ahead = undefined;
      return;
    }
    const buf = (spare ??= new Uint8Array(PREFETCH));
    const done = readFully(buf, 0, Math.min(PREFETCH, size - position), position);
    done.catch(() => 0); // handled: a failed read fails when awaited, not before (unhandled rejection)
    ahead = { position, buf, done };
  };
  return {
    size,
    name: path,
    async read(dst, dstOffset, length, position) {
      let n: number;
      const a = ahead;
      if (a && a.position === position && length <= PREFETCH) {
        const got = await a.done;
        n = Math.min(length, got);
        dst.set(a.buf.subarray(0, n), dstOffset);
        spare = a.buf;
      } else {
        if (a) await a.done.catch(() => 0);
        n = await readFully(dst, dstOffset, length, position);
      }
      startAhead(position + n, position === lastEnd || a?.position === position);
      lastEnd = position + n;
      return n;
    },
    readDirect: readFully,
    readSync(dst, dstOffset, length, position) {
      let total = 0;
      while (total < length) {
        const n = readSync(fh.fd, dst, dstOffset + total, length - total, position + total);
        if (n === 0) break;
        total += n;
      }
      return total;
    },
    async close() {
      if (ahead) await ahead.done.catch(() => 0);
      ahead = undefined;
      await fh.close();
    },
  };
}

const PREFETCH = 4 * 1024 * 1024;

/** Reads up to `length` bytes at `position` (fewer only at the end of the file); the bytes read. */
export async function readAt(fh: FileHandle, dst: Uint8Array, dstOffset: number, length: number, position: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const { bytesRead } = await fh.read(dst, dstOffset + total, length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}
