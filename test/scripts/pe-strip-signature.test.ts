/**
 * scripts/pe-strip-signature.mjs on tiny PE files built here by hand: a PE32+ and a PE32 image
 * with a certificate table at the end, one without, one whose table is followed by other data,
 * files that are not PE images; and the PE CheckSum.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeChecksum, readSecurityDirectory, stripSignature, writeChecksum } from '../../scripts/pe-strip-signature.mjs';

const PE_OFFSET = 0x80;
const BODY_END = 0x400;

interface FakePe {
  bytes: Uint8Array;
  checksumAt: number;
  securityAt: number;
}

/**
 * DOS header (MZ, e_lfanew = 0x80), "PE\0\0", a COFF header, an optional header (PE32+ or PE32)
 * with 16 data directories and CheckSum 0x00C0FFEE, a body of 0xAB up to 0x400, then `cert`
 * (a WIN_CERTIFICATE) and `trailer`, with the security directory pointing at `cert`.
 */
function fakePe(kind: 'pe32+' | 'pe32', cert: Uint8Array | null, trailer = new Uint8Array(0)): FakePe {
  const optSize = kind === 'pe32+' ? 240 : 224;
  const opt = PE_OFFSET + 24;
  const bytes = new Uint8Array(BODY_END + (cert?.length ?? 0) + trailer.length);
  const v = new DataView(bytes.buffer);
  bytes.fill(0xab, opt + optSize, BODY_END);
  v.setUint16(0, 0x5a4d, true); // MZ
  v.setUint32(0x3c, PE_OFFSET, true);
  v.setUint32(PE_OFFSET, 0x00004550, true); // PE\0\0
  v.setUint16(PE_OFFSET + 4, kind === 'pe32+' ? 0x8664 : 0x14c, true); // Machine
  v.setUint16(PE_OFFSET + 20, optSize, true); // SizeOfOptionalHeader
  v.setUint16(opt, kind === 'pe32+' ? 0x20b : 0x10b, true); // Magic
  v.setUint32(opt + 64, 0x00c0ffee, true); // CheckSum
  const countAt = kind === 'pe32+' ? 108 : 92;
  v.setUint32(opt + countAt, 16, true); // NumberOfRvaAndSizes
  const dirs = opt + countAt + 4;
  v.setUint32(dirs + 2 * 8, 0x2000, true); // a resource directory (RVA), which must stay
  v.setUint32(dirs + 2 * 8 + 4, 0x100, true);
  const securityAt = dirs + 4 * 8;
  if (cert) {
    bytes.set(cert, BODY_END);
    v.setUint32(securityAt, BODY_END, true);
    v.setUint32(securityAt + 4, cert.length, true);
  }
  bytes.set(trailer, BODY_END + (cert?.length ?? 0));
  return { bytes, checksumAt: opt + 64, securityAt };
}

/** WIN_CERTIFICATE: dwLength, wRevision 0x0200, wCertificateType 2 (PKCS#7 SignedData), content, padded to 8 bytes. */
function winCertificate(content: number): Uint8Array {
  const length = 8 + content;
  const out = new Uint8Array(Math.ceil(length / 8) * 8);
  const v = new DataView(out.buffer);
  v.setUint32(0, length, true);
  v.setUint16(4, 0x0200, true);
  v.setUint16(6, 0x0002, true);
  out.fill(0x30, 8, length);
  return out;
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

for (const kind of ['pe32+', 'pe32'] as const) {
  test(`${kind}: the certificate table is cut off the end, the security directory and CheckSum are zero, the rest is unchanged`, () => {
    const pe = fakePe(kind, winCertificate(1000));
    assert.deepEqual(readSecurityDirectory(pe.bytes), { offset: 0x400, size: 1008 });
    const r = stripSignature(pe.bytes);
    assert.deepEqual(r.removed, { offset: 0x400, size: 1008, truncated: true });
    assert.equal(r.bytes.length, 0x400);
    assert.deepEqual(readSecurityDirectory(r.bytes), { offset: 0, size: 0 });
    assert.equal(u32(r.bytes, pe.checksumAt), 0);
    // Every other byte is as it was, the resource directory included.
    const expected = pe.bytes.slice(0, 0x400);
    expected.fill(0, pe.securityAt, pe.securityAt + 8);
    expected.fill(0, pe.checksumAt, pe.checksumAt + 4);
    assert.deepEqual(r.bytes, expected);
    assert.equal(u32(r.bytes, pe.securityAt - 16), 0x2000);
    assert.equal(u32(pe.bytes, pe.securityAt), 0x400, 'the input is not modified');
  });
}

test('an unsigned file comes back byte-identical', () => {
  const pe = fakePe('pe32+', null);
  const r = stripSignature(pe.bytes);
  assert.equal(r.removed, null);
  assert.deepEqual(r.bytes, pe.bytes);
});

test('a certificate table followed by other data is zeroed in place, and the data after it kept', () => {
  const trailer = new TextEncoder().encode('overlay data that is not padding');
  const pe = fakePe('pe32+', winCertificate(100), trailer);
  const r = stripSignature(pe.bytes);
  assert.deepEqual(r.removed, { offset: 0x400, size: 112, truncated: false });
  assert.equal(r.bytes.length, pe.bytes.length);
  assert.ok(r.bytes.subarray(0x400, 0x400 + 112).every((b) => b === 0));
  assert.deepEqual(r.bytes.subarray(0x400 + 112), trailer);
  assert.deepEqual(readSecurityDirectory(r.bytes), { offset: 0, size: 0 });
});

test('not a PE file, or a security directory outside the file: an error, not a damaged file', () => {
  assert.throws(() => stripSignature(new Uint8Array(0x200)), /no MZ signature/);
  const noPe = fakePe('pe32+', null);
  noPe.bytes[PE_OFFSET] = 0;
  assert.throws(() => stripSignature(noPe.bytes), /no PE signature at offset 128/);
  const short = fakePe('pe32+', null).bytes.subarray(0, PE_OFFSET + 40);
  assert.throws(() => stripSignature(short), /runs past the end/);
  const bad = fakePe('pe32+', winCertificate(16));
  new DataView(bad.bytes.buffer).setUint32(bad.securityAt + 4, 1 << 20, true);
  assert.throws(() => stripSignature(bad.bytes), /does not lie inside the file/);
});

test('PE CheckSum: the values osslsigncode calculates for the same files', () => {
  // Expected values: "Calculated PE checksum" of `osslsigncode verify` on these bytes.
  const stripped = stripSignature(fakePe('pe32+', winCertificate(1000)).bytes).bytes;
  assert.equal(computeChecksum(stripped), 0x3675);
  const pe32 = fakePe('pe32', null);
  assert.equal(computeChecksum(pe32.bytes), 0xdaa, 'the CheckSum field itself (0x00C0FFEE) is left out');
  assert.equal(writeChecksum(pe32.bytes), 0xdaa);
  assert.equal(u32(pe32.bytes, pe32.checksumAt), 0xdaa);
});
