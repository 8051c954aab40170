/**
 * Plain LZ77 Xpress compressor (MS-XCA 2.4), the inverse of etl/xpress.ts, used by the synthetic
 * ETL writer to produce compressed buffers as pktmon's relogger does. Greedy, one hash probe per
 * position: small and deterministic rather than maximal.
 */
const HASH_BITS = 14;
const MAX_DISTANCE = 8192; // 13-bit offsets

export function xpressCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Worst case: every byte a literal: n + 4 bytes of flags per 32 bytes + final flag word.
  const out = new Uint8Array(n + ((n >>> 5) + 2) * 4 + 16);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let op = 4;
  let flagPos = 0;
  let flags = 0;
  let flagCount = 0;
  let halfBytePos = -1;
  const pushFlag = (bit: number): void => {
    flags = (flags << 1) | bit;
    flagCount++;
    if (flagCount === 32) {
      out[flagPos] = flags & 0xff;
      out[flagPos + 1] = (flags >>> 8) & 0xff;
      out[flagPos + 2] = (flags >>> 16) & 0xff;
      out[flagPos + 3] = (flags >>> 24) & 0xff;
      flagPos = op;
      op += 4;
      flags = 0;
      flagCount = 0;
    }
  };
  let i = 0;
  while (i < n) {
    let bestLen = 0;
    let bestDist = 0;
    if (i + 3 <= n) {
      const h = (((input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!) * 2654435761) >>> (32 - HASH_BITS);
      const cand = table[h]!;
      table[h] = i;
      if (cand >= 0 && i - cand <= MAX_DISTANCE) {
        let l = 0;
        const max = n - i;
        while (l < max && input[cand + l] === input[i + l]) l++;
        if (l >= 3) {
          bestLen = l;
          bestDist = i - cand;
        }
      }
    }
    if (bestLen < 3) {
      out[op++] = input[i++]!;
      pushFlag(0);
      continue;
    }
    const len = bestLen - 3;
    const dist = bestDist - 1;
    if (len < 7) {
      const v = (dist << 3) | len;
      out[op++] = v & 0xff;
      out[op++] = v >>> 8;
    } else {
      const v = (dist << 3) | 7;
      out[op++] = v & 0xff;
      out[op++] = v >>> 8;
      const rest = len - 7;
      const nib = rest < 15 ? rest : 15;
      if (halfBytePos < 0) {
        halfBytePos = op;
        out[op++] = nib;
      } else {
        out[halfBytePos] = out[halfBytePos]! | (nib << 4);
        halfBytePos = -1;
      }
      if (rest >= 15) {
        const r2 = rest - 15;
        if (r2 < 255) {
          out[op++] = r2;
        } else {
          out[op++] = 255;
          const total = len; // stored as matchLength - 3 (MS-XCA 2.4)
          if (total < 0x10000) {
            out[op++] = total & 0xff;
            out[op++] = total >>> 8;
          } else {
            out[op++] = 0;
            out[op++] = 0;
            out[op++] = total & 0xff;
            out[op++] = (total >>> 8) & 0xff;
            out[op++] = (total >>> 16) & 0xff;
            out[op++] = (total >>> 24) & 0xff;
          }
        }
      }
    }
    pushFlag(1);
    // Index a few positions inside the match so later data can refer to them.
    const end = i + bestLen;
    for (let j = i + 1; j < end && j + 3 <= n; j += 4) {
      const h = (((input[j]! << 16) | (input[j + 1]! << 8) | input[j + 2]!) * 2654435761) >>> (32 - HASH_BITS);
      table[h] = j;
    }
    i = end;
  }
  // Terminating flag bit 1 (the decoder stops on a match flag at the end of input), then pad
  // the remaining flag bits with ones.
  pushFlag(1);
  while (flagCount !== 0) pushFlag(1);
  if (flagPos + 4 === op) op -= 4; // flag word allocated but unused
  else {
    out[flagPos] = flags & 0xff;
    out[flagPos + 1] = (flags >>> 8) & 0xff;
    out[flagPos + 2] = (flags >>> 16) & 0xff;
    out[flagPos + 3] = (flags >>> 24) & 0xff;
  }
  return out.slice(0, op);
}
