/** How another program starts this same wnvcap (a scheduled task, Wireshark's extcap launcher). */
import { resolve } from 'node:path';

/** The packed executable alone, or node and this script. */
export function selfCommand(): { execute: string; prefix: string[] } {
  const packed = (process as unknown as { pkg?: unknown }).pkg !== undefined || !/node(\.exe)?$/i.test(process.execPath);
  return packed ? { execute: process.execPath, prefix: [] } : { execute: process.execPath, prefix: [resolve(process.argv[1] ?? 'wnvcap')] };
}
