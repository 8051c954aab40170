// Removes the Authenticode signature from a Windows PE file (an .exe such as node.exe).
//
// Why: the single executable is node.exe with our SEA blob injected by postject. node.exe is
// signed by the OpenJS Foundation; after the injection that signature no longer matches the
// file, and a broken signature is worse than none (WDAC and AppLocker refuse the file, and
// Windows reports it as tampered). build-exe.mjs strips it from the base binary before the
// injection; whoever ships the executable signs it again (README, "Single executable").
//
// Where the signature lives (Microsoft PE format, "The Attribute Certificate Table"):
//   - offset 0x3C of the file (e_lfanew): where the "PE\0\0" signature starts;
//   - then the 20-byte COFF header, then the optional header, whose Magic is 0x10B (PE32) or
//     0x20B (PE32+); its CheckSum is at offset 64 in both; NumberOfRvaAndSizes at 92 (PE32) or
//     108 (PE32+), followed by that many 8-byte data directories (address, size);
//   - data directory 4, IMAGE_DIRECTORY_ENTRY_SECURITY, holds the certificate table. Unlike the
//     other directories its address is a file offset, not an RVA; the table is not mapped into
//     memory and is normally the last thing in the file (signtool appends it).
// Stripping sets that directory to (0, 0), zeroes the CheckSum (the loader checks it only for
// drivers and boot-time DLLs; signtool computes it again when signing), and cuts the table off
// the end of the file; a table that is not at the end is overwritten with zeros instead.
// writeChecksum() puts a correct CheckSum back once the file is final (after the injection).

const DOS_MAGIC = 0x5a4d; // "MZ"
const PE_SIGNATURE = 0x00004550; // "PE\0\0"
const PE32 = 0x10b;
const PE32_PLUS = 0x20b;
const SECURITY_DIRECTORY = 4;

/**
 * Where the fields this module touches are, or throws when `bytes` is not a PE file.
 * @param {Uint8Array} bytes
 * @returns {{ checksumOffset: number, securityEntryOffset: number | null }}
 */
export function locatePeFields(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end, what) => {
    if (end > bytes.length) throw new Error(`not a PE file: ${what} runs past the end of the file (${bytes.length} bytes)`);
  };
  need(0x40, 'the DOS header');
  if (v.getUint16(0, true) !== DOS_MAGIC) throw new Error('not a PE file: no MZ signature at offset 0');
  const pe = v.getUint32(0x3c, true);
  need(pe + 24, 'the COFF header');
  if (v.getUint32(pe, true) !== PE_SIGNATURE) throw new Error(`not a PE file: no PE signature at offset ${pe}`);
  const optSize = v.getUint16(pe + 20, true);
  const opt = pe + 24;
  need(opt + optSize, 'the optional header');
  if (optSize < 2) throw new Error('not a PE image: no optional header');
  const magic = v.getUint16(opt, true);
  if (magic !== PE32 && magic !== PE32_PLUS) throw new Error(`unknown optional header magic 0x${magic.toString(16)} at offset ${opt}`);
  const countAt = magic === PE32 ? 92 : 108;
  if (optSize < countAt + 4) throw new Error(`the optional header (${optSize} bytes) is too short`);
  const dirs = Math.min(v.getUint32(opt + countAt, true), Math.floor((optSize - countAt - 4) / 8));
  return { checksumOffset: opt + 64, securityEntryOffset: dirs > SECURITY_DIRECTORY ? opt + countAt + 4 + 8 * SECURITY_DIRECTORY : null };
}

/**
 * The certificate table as the PE headers describe it: file offset and size, (0, 0) when unsigned.
 * @param {Uint8Array} bytes
 * @returns {{ offset: number, size: number }}
 */
export function readSecurityDirectory(bytes) {
  const { securityEntryOffset } = locatePeFields(bytes);
  if (securityEntryOffset === null) return { offset: 0, size: 0 };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { offset: v.getUint32(securityEntryOffset, true), size: v.getUint32(securityEntryOffset + 4, true) };
}

/**
 * Returns a copy of the PE file without its Authenticode signature, and what was removed (null
 * when the file was not signed: the copy is then byte-identical).
 * @param {Uint8Array} bytes
 * @returns {{ bytes: Uint8Array, removed: { offset: number, size: number, truncated: boolean } | null }}
 */
export function stripSignature(bytes) {
  const { checksumOffset, securityEntryOffset } = locatePeFields(bytes);
  const { offset, size } = readSecurityDirectory(bytes);
  if (securityEntryOffset === null || (offset === 0 && size === 0)) return { bytes: bytes.slice(), removed: null };
  if (offset === 0 || size === 0 || offset + size > bytes.length) {
    throw new Error(`the certificate table (offset ${offset}, ${size} bytes) does not lie inside the file (${bytes.length} bytes)`);
  }
  // The table may be followed by padding to 8 bytes; anything else after it must stay.
  const truncated = bytes.subarray(offset + size).every((b) => b === 0);
  const out = truncated ? bytes.slice(0, offset) : bytes.slice();
  if (!truncated) out.fill(0, offset, offset + size);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(securityEntryOffset, 0, true);
  v.setUint32(securityEntryOffset + 4, 0, true);
  v.setUint32(checksumOffset, 0, true);
  return { bytes: out, removed: { offset, size, truncated } };
}

/**
 * The PE CheckSum of the file as it is (the algorithm of imagehlp's CheckSumMappedFile): the
 * 16-bit little-endian words of the file, the CheckSum field itself left out, added with the carry
 * folded back in, plus the file length.
 * @param {Uint8Array} bytes
 * @returns {number}
 */
export function computeChecksum(bytes) {
  const { checksumOffset } = locatePeFields(bytes);
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    if (i === checksumOffset || i === checksumOffset + 2) continue;
    sum += bytes[i] | ((bytes[i + 1] ?? 0) << 8);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + bytes.length) >>> 0;
}

/**
 * Writes the correct CheckSum into `bytes` (in place) and returns it.
 * @param {Uint8Array} bytes
 * @returns {number}
 */
export function writeChecksum(bytes) {
  const sum = computeChecksum(bytes);
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(locatePeFields(bytes).checksumOffset, sum, true);
  return sum;
}
