/** File access for the ETL reader: the only place in etl/ that touches the file system. */
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
  return {
    size: st.size,
    name: path,
    async read(dst, dstOffset, length, position) {
      let total = 0;
      while (total < length) {
        const { bytesRead } = await fh.read(dst, dstOffset + total, length - total, position + total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
      return total;
    },
    close: () => fh.close(),
  };
}
