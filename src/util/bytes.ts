/** Joins byte arrays (or arrays of byte values) into one Uint8Array. */
export function concatBytes(parts: ReadonlyArray<ArrayLike<number>>): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
