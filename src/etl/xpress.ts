/**
 * Plain LZ77 "Xpress" decompression (MS-XCA section 2.4, "LZ77 without Huffman"), written from
 * the specification. ETL files written with EVENT_TRACE_COMPRESSED_MODE (every PktMon capture)
 * store each buffer's records in this form (etl-format.md 1.8).
 *
 * Stream: 32-bit flag words (most significant bit first); a 0 flag is one literal byte, a 1 flag
 * a match: u16 = (offset - 1) << 3 | length; length 7 extends through a shared half byte, then a
 * byte, then u16, then u32. Matches may overlap their own output (run-length copies).
 *
 * Hot path: typed arrays only, no allocation per token. Measured (scripts/bench): see RESULTS.md.
 */

export class XpressError extends Error {
  override readonly name = 'XpressError';
  /** Position in the compressed input where the problem was found. */
  readonly inputOffset: number;
  constructor(message: string, inputOffset: number) {
    super(message);
    this.inputOffset = inputOffset;
  }
}

export interface XpressResult {
  /** Bytes written to the output. */
  written: number;
  /** True when the input ended inside a token (a truncated stream): `written` bytes are valid. */
  inputTruncated: boolean;
}

/**
 * Expands `input[inStart, inEnd)` into `output[outStart, outLimit)`.
 * Stops at the end of input. Throws XpressError when a match reaches before the output start
 * or past `outLimit`. A stream cut inside a token is reported as `inputTruncated`.
 */
export function xpressDecompress(
  input: Uint8Array,
  inStart: number,
  inEnd: number,
  output: Uint8Array,
  outStart: number,
  outLimit: number,
): XpressResult {
  let ip = inStart;
  let op = outStart;
  let flags = 0;
  let flagCount = 0;
  let halfBytePos = -1;
  for (;;) {
    if (flagCount === 0) {
      if (ip + 4 > inEnd) return { written: op - outStart, inputTruncated: ip < inEnd };
      flags = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
      flagCount = 32;
    }
    // A run of literals: the zero flag bits before the next one (flags are read MSB first).
    const window = flagCount === 32 ? flags : (flags << (32 - flagCount)) >>> 0;
    let lits = window === 0 ? flagCount : Math.clz32(window);
    if (lits > 0) {
      flagCount -= lits;
      if (ip + lits > inEnd) {
        const n = inEnd - ip;
        if (op + n > outLimit) throw new XpressError('literal past the end of the output buffer', ip);
        output.set(input.subarray(ip, inEnd), op);
        return { written: op + n - outStart, inputTruncated: false };
      }
      if (op + lits > outLimit) throw new XpressError('literal past the end of the output buffer', ip);
      // At most 32 bytes (one flag word): a loop, four at a time, costs less than a subarray.
      for (; lits >= 4; lits -= 4, ip += 4, op += 4) {
        output[op] = input[ip]!;
        output[op + 1] = input[ip + 1]!;
        output[op + 2] = input[ip + 2]!;
        output[op + 3] = input[ip + 3]!;
      }
      while (lits-- > 0) output[op++] = input[ip++]!;
      if (flagCount === 0) continue;
    }
    flagCount--;
    if (ip >= inEnd) return { written: op - outStart, inputTruncated: false }; // normal end
    if (ip + 2 > inEnd) return { written: op - outStart, inputTruncated: true };
    const matchBytes = input[ip]! | (input[ip + 1]! << 8);
    ip += 2;
    let length = matchBytes & 7;
    const distance = (matchBytes >>> 3) + 1;
    if (length === 7) {
      if (halfBytePos < 0) {
        if (ip >= inEnd) return { written: op - outStart, inputTruncated: true };
        halfBytePos = ip;
        length = input[ip++]! & 15;
      } else {
        length = input[halfBytePos]! >>> 4;
        halfBytePos = -1;
      }
      if (length === 15) {
        if (ip >= inEnd) return { written: op - outStart, inputTruncated: true };
        length = input[ip++]!;
        if (length === 255) {
          if (ip + 2 > inEnd) return { written: op - outStart, inputTruncated: true };
          length = input[ip]! | (input[ip + 1]! << 8);
          ip += 2;
          if (length === 0) {
            if (ip + 4 > inEnd) return { written: op - outStart, inputTruncated: true };
            length = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
            ip += 4;
          }
          if (length < 15 + 7) throw new XpressError(`invalid match length ${length}`, ip);
          length -= 15 + 7;
        }
        length += 15;
      }
      length += 7;
    }
    length += 3;
    let src = op - distance;
    if (src < outStart) throw new XpressError(`match reaches ${outStart - src} bytes before the start of the output`, ip);
    if (op + length > outLimit) throw new XpressError('match runs past the end of the output buffer', ip);
    if (distance >= length && length > 32) {
      output.copyWithin(op, src, src + length);
      op += length;
    } else {
      const end = op + length;
      while (op < end) output[op++] = output[src++]!;
    }
  }
}
