/** ETL container constants (etl-format.md sections 1, 2, 7.5). */

export const WMI_BUFFER_HEADER_SIZE = 0x48;
export const EVENT_HEADER_SIZE = 0x50;
export const SYSTEM_HEADER_FULL_SIZE = 0x20;
export const SYSTEM_HEADER_COMPACT_SIZE = 0x18;
export const PERFINFO_HEADER_SIZE = 0x10;
export const EVENT_TRACE_HEADER_SIZE = 0x30;
export const EVENT_INSTANCE_HEADER_SIZE = 0x48;
export const LOGFILE_HEADER_SIZE_64 = 0x118;
export const LOGFILE_HEADER_SIZE_32 = 0x110;

/** Largest buffer (on disk or expanded) we accept: anything bigger is corruption. */
export const MAX_BUFFER_SIZE = 64 * 1024 * 1024;

export const BUFFER_FLAG = {
  FLUSH_MARKER: 0x0001,
  EVENTS_LOST: 0x0002,
  BUFFER_LOST: 0x0004,
  RTBACKUP_CORRUPT: 0x0008,
  RTBACKUP: 0x0010,
  PROC_INDEX: 0x0020,
  COMPRESSED: 0x0040,
} as const;

export const BUFFER_TYPE_NAMES: readonly string[] = [
  'generic', 'rundown', 'ctx-swap', 'reftime', 'header', 'batched', 'empty-marker', 'dbg-info',
];

/** Header types (byte 2 of the record marker, 0xC0 family). */
export const HEADER_TYPE = {
  SYSTEM32: 0x01,
  SYSTEM64: 0x02,
  COMPACT32: 0x03,
  COMPACT64: 0x04,
  FULL_HEADER32: 0x0a,
  INSTANCE32: 0x0b,
  TIMED: 0x0c,
  ERROR: 0x0d,
  WNODE: 0x0e,
  MESSAGE: 0x0f,
  PERFINFO32: 0x10,
  PERFINFO64: 0x11,
  EVENT_HEADER32: 0x12,
  EVENT_HEADER64: 0x13,
  FULL_HEADER64: 0x14,
  INSTANCE64: 0x15,
} as const;

/** Record kinds as reported by `info` (names follow the reference decodes). */
export const RECORD_KIND = {
  SYSTEM: 0,
  PERFINFO: 1,
  CLASSIC: 2,
  INSTANCE: 3,
  EVENT: 4,
  MESSAGE: 5,
  OTHER: 6,
} as const;
export type RecordKind = (typeof RECORD_KIND)[keyof typeof RECORD_KIND];
export const RECORD_KIND_NAMES: readonly string[] = [
  'SystemTraceRecord', 'PerfInfoTraceRecord', 'TraceRecord', 'InstanceTraceRecord', 'EventRecord',
  'MessageTraceRecord', 'OtherRecord',
];

export const CLOCK_TYPE = { QPC: 1, SYSTEM_TIME: 2, CPU_CYCLES: 3 } as const;
export const CLOCK_TYPE_NAMES: Record<number, string> = { 0: 'raw', 1: 'QPC', 2: 'system-time', 3: 'cpu-cycles' };

export const LOGFILE_MODE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'SEQUENTIAL'], [0x2, 'CIRCULAR'], [0x4, 'APPEND'], [0x8, 'NEWFILE'], [0x20, 'PREALLOCATE'],
  [0x40, 'NONSTOPPABLE'], [0x80, 'SECURE'], [0x100, 'REAL_TIME'], [0x400, 'BUFFERING'],
  [0x800, 'PRIVATE_LOGGER'], [0x1000, 'ADD_HEADER'], [0x2000, 'USE_KBYTES_FOR_SIZE'],
  [0x4000, 'USE_GLOBAL_SEQUENCE'], [0x8000, 'USE_LOCAL_SEQUENCE'], [0x10000, 'RELOG'],
  [0x20000, 'PRIVATE_IN_PROC'], [0x100000, 'MODE_RESERVED'], [0x1000000, 'USE_PAGED_MEMORY'],
  [0x2000000, 'SYSTEM_LOGGER_MODE'], [0x4000000, 'COMPRESSED_MODE'], [0x8000000, 'INDEPENDENT_SESSION'],
  [0x10000000, 'NO_PER_PROCESSOR_BUFFERING'], [0x80000000, 'ADDTO_TRIAGE_DUMP'],
];
export const LOGFILE_MODE_COMPRESSED = 0x4000000;
