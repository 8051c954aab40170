/**
 * GUIDs as stored by Windows: Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4 8 bytes as-is
 * (etl-format.md 7.1). Compare as bytes; format only for output.
 */
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Formats the 16 bytes at `off` as a lower-case GUID string without braces. */
export function formatGuid(b: Uint8Array, off: number): string {
  const h = (i: number): string => HEX[b[off + i] ?? 0] ?? '00';
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' +
    h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}

/** Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (braces optional) into its 16 on-disk bytes. */
export function guidBytes(text: string): Uint8Array {
  const s = text.replace(/[{}]/g, '').toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s)) {
    throw new Error(`not a GUID: ${text}`);
  }
  const hex = s.replace(/-/g, '');
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) raw[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const out = new Uint8Array(16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) out[i] = raw[order[i] ?? 0] ?? 0;
  return out;
}

/** Compares 16 bytes at `off` with a precomputed GUID. */
export function guidEquals(b: Uint8Array, off: number, g: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== g[i]) return false;
  return true;
}
