/**
 * TRACE_LOGFILE_HEADER: the payload of the first record of the first buffer (etl-format.md 1.6).
 * 64-bit layout has 4 padding bytes after the 172-byte TimeZone block (airbus etl-parser misses
 * them); the record's header type (SYSTEM32 / SYSTEM64) decides which layout applies.
 */
import { HEADER_TYPE, LOGFILE_HEADER_SIZE_32, LOGFILE_HEADER_SIZE_64, SYSTEM_HEADER_FULL_SIZE, WMI_BUFFER_HEADER_SIZE } from './constants.js';

export interface LogfileHeader {
  bufferSize: number;
  /** Version bytes: major, minor, sub, subminor. */
  version: readonly [number, number, number, number];
  /** OS build number (ProviderVersion). */
  osBuild: number;
  numberOfProcessors: number;
  endTime: bigint;
  timerResolution: number;
  maximumFileSize: number;
  logFileMode: number;
  buffersWritten: number;
  startBuffers: number;
  pointerSize: 4 | 8;
  eventsLost: number;
  cpuSpeedMHz: number;
  timeZoneBiasMinutes: number;
  timeZoneStandardName: string;
  bootTime: bigint;
  perfFreq: bigint;
  startTime: bigint;
  /** Clock type (ReservedFlags): 1 QPC, 2 system time, 3 CPU cycles. */
  clockType: number;
  buffersLost: number;
  loggerName: string;
  logFileName: string;
  /** Raw timestamp (SystemTime) of the header record: the clock anchor R0. */
  headerRecordTimestamp: bigint;
  /** 0x01 SYSTEM32 or 0x02 SYSTEM64. */
  headerRecordType: number;
}

const utf16 = new TextDecoder('utf-16le');

/** Reads a NUL-terminated UTF-16LE string within [off, end). Returns the text and the offset after the NUL. */
export function readUtf16z(b: Uint8Array, off: number, end: number): { text: string; next: number } {
  let p = off;
  while (p + 1 < end && (b[p] !== 0 || b[p + 1] !== 0)) p += 2;
  const text = utf16.decode(b.subarray(off, Math.min(p, end)));
  return { text, next: p + 1 < end ? p + 2 : end };
}

/**
 * Decodes the logfile header from the first buffer's bytes. Returns a string describing the
 * problem when the bytes are not a logfile header.
 */
export function decodeLogfileHeader(b: Uint8Array, recordsEnd: number): LogfileHeader | string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const rec = WMI_BUFFER_HEADER_SIZE;
  if (recordsEnd < rec + SYSTEM_HEADER_FULL_SIZE + LOGFILE_HEADER_SIZE_32) return 'first buffer too short for a logfile header';
  const marker = v.getUint32(rec, true);
  const headerType = (marker >>> 16) & 0xff;
  if (marker >>> 24 !== 0xc0 || (headerType !== HEADER_TYPE.SYSTEM32 && headerType !== HEADER_TYPE.SYSTEM64)) {
    return `first record is not a system header (marker 0x${marker.toString(16).padStart(8, '0')})`;
  }
  const size = v.getUint16(rec + 4, true);
  const hookId = v.getUint16(rec + 6, true);
  if (hookId !== 0) return `first record has HookId 0x${hookId.toString(16)}, not the logfile header (0)`;
  const is64 = headerType === HEADER_TYPE.SYSTEM64;
  const structSize = is64 ? LOGFILE_HEADER_SIZE_64 : LOGFILE_HEADER_SIZE_32;
  const recEnd = Math.min(rec + size, recordsEnd);
  if (size < SYSTEM_HEADER_FULL_SIZE + structSize || rec + SYSTEM_HEADER_FULL_SIZE + structSize > recordsEnd) {
    return `logfile header record too short (${size} bytes)`;
  }
  const p = rec + SYSTEM_HEADER_FULL_SIZE;
  const u32 = (o: number): number => v.getUint32(p + o, true);
  const u64 = (o: number): bigint => v.getBigUint64(p + o, true);
  const pointerSize = u32(0x2c);
  if (pointerSize !== (is64 ? 8 : 4)) {
    return `PointerSize ${pointerSize} does not match the ${is64 ? '64' : '32'}-bit header record`;
  }
  const tz = is64 ? 0x48 : 0x40;
  const after = is64 ? 0xf8 : 0xf0; // BootTime, after the TimeZone block (+4 padding on 64-bit)
  const standardName = utf16.decode(b.subarray(p + tz + 4, p + tz + 4 + 64)).replace(/\0.*$/s, '');
  const names = readUtf16z(b, p + structSize, recEnd);
  const files = readUtf16z(b, names.next, recEnd);
  return {
    bufferSize: u32(0),
    version: [b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!],
    osBuild: u32(0x08),
    numberOfProcessors: u32(0x0c),
    endTime: u64(0x10),
    timerResolution: u32(0x18),
    maximumFileSize: u32(0x1c),
    logFileMode: u32(0x20),
    buffersWritten: u32(0x24),
    startBuffers: u32(0x28),
    pointerSize: is64 ? 8 : 4,
    eventsLost: u32(0x30),
    cpuSpeedMHz: u32(0x34),
    timeZoneBiasMinutes: v.getInt32(p + tz, true),
    timeZoneStandardName: standardName,
    bootTime: u64(after),
    perfFreq: u64(after + 8),
    startTime: u64(after + 16),
    clockType: u32(after + 24),
    buffersLost: u32(after + 28),
    loggerName: names.text,
    logFileName: files.text,
    headerRecordTimestamp: v.getBigInt64(rec + 0x10, true),
    headerRecordType: headerType,
  };
}
