/**
 * One ETL record, classified from its marker (etl-format.md 2.1), as a reusable object: the
 * walker refills the same instance for every record, so nothing is allocated per record.
 * `data`/`view` are the expanded buffer: valid only until the buffer is released.
 */
import { RECORD_KIND, type RecordKind } from './constants.js';

export class EtlRecord {
  data: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  kind: RecordKind = RECORD_KIND.OTHER;
  /** Header type byte (0x01..0x15), or 0x90 for MESSAGE_TRACE_HEADER records. */
  headerType = 0;
  /** Offset of the record in `data`, and its size without alignment padding. */
  offset = 0;
  size = 0;
  /** Pointer size of the logging provider (from the header type). */
  pointerSize: 4 | 8 = 8;
  /** 100 ns units since the session StartTime; NaN when the record has no timestamp. */
  ticks = Number.NaN;
  /** Processor that owned the buffer. */
  cpu = 0;
  threadId = 0;
  processId = 0;
  /** EVENT_HEADER / classic GUID offset in `data` (-1 when none). */
  guidOffset = -1;
  /** EVENT_HEADER descriptor; classic records: id = Class.Type (opcode), version = Class.Version. */
  eventId = 0;
  version = 0;
  channel = 0;
  level = 0;
  opcode = 0;
  task = 0;
  /** Keyword as two 32-bit halves (bit 32 = bit 0 of keywordHi). */
  keywordLo = 0;
  keywordHi = 0;
  flags = 0;
  /** System/perfinfo records: HookId = Group << 8 | Type. */
  hookId = 0;
  /** User data (payload) location inside `data`. */
  userOffset = 0;
  userLength = 0;
  /** CONTAINER_ID extended item offset (-1 when absent). */
  containerIdOffset = -1;
  /** Offset of the buffer in the file, for messages. */
  bufferFileOffset = 0;
}
