/**
 * A capture file read while its ETW session still writes it (follow mode). ETW appends whole
 * buffers when one fills, when the session's flush timer expires, and at the stop; this source
 * tells the reader how far the file has grown, and waits (in ticks, so that the reader can release
 * what it holds in between) until more is there or the writer has finished (end()). The file may
 * not exist yet when following starts. Besides file-source.ts, the only place in etl/ that touches
 * the file system.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import type { ByteSource } from './byte-source.js';
import { readAt } from './file-source.js';

export interface FollowSource extends ByteSource {
  /** The writer has finished (the session stopped): read to the end of the file, then stop. */
  end(): void;
  readonly ended: boolean;
}

/** How often the file's size is checked while waiting. */
export const FOLLOW_POLL_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

export function followFile(path: string, pollMs = FOLLOW_POLL_MS): FollowSource {
  let ended = false;
  let size = 0;
  let fh: FileHandle | undefined;
  /** The file's size now; opens it once it exists (undefined before). */
  const look = async (): Promise<number | undefined> => {
    if (!fh) {
      try {
        fh = await open(path, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      const st = await fh.stat();
      if (!st.isFile()) throw new InputError(`${path} is not a regular file`);
    }
    return (await fh.stat()).size;
  };
  return {
    get size() { return size; },
    name: path,
    get ended() { return ended; },
    end() { ended = true; },
    read: (dst, dstOffset, length, position) => (fh ? readAt(fh, dst, dstOffset, length, position) : Promise.resolve(0)),
    async waitFor(want) {
      if (size >= want) return 'ready';
      // Ended before this look: after it, nothing more will come.
      const finished = ended;
      size = (await look()) ?? 0;
      if (size >= want) return 'ready';
      if (finished) return 'ended';
      await sleep(pollMs);
      return 'tick';
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}
