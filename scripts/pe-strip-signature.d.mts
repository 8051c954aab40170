// Types for pe-strip-signature.mjs (the build scripts are plain JavaScript; tests import this one).
export function locatePeFields(bytes: Uint8Array): { checksumOffset: number; securityEntryOffset: number | null };
export function readSecurityDirectory(bytes: Uint8Array): { offset: number; size: number };
export function stripSignature(bytes: Uint8Array): { bytes: Uint8Array; removed: { offset: number; size: number; truncated: boolean } | null };
export function computeChecksum(bytes: Uint8Array): number;
export function writeChecksum(bytes: Uint8Array): number;
