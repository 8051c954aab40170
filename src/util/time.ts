/**
 * Time helpers. ETL times become "ticks": 100 ns units relative to the session StartTime
 * (a plain number: exact for 28 years either side). Absolute values are BigInt FILETIMEs.
 */

/** FILETIME of 1970-01-01 (100 ns units since 1601). */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** FILETIME (BigInt) -> ISO 8601 UTC with 7 fractional digits (100 ns). */
export function filetimeToIso(ft: bigint): string {
  const since1970 = ft - FILETIME_UNIX_EPOCH;
  let ms = since1970 / 10000n;
  let rem = since1970 % 10000n;
  if (rem < 0n) {
    rem += 10000n;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return 'invalid';
  const iso = d.toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `${iso.slice(0, 23)}${rem.toString().padStart(4, '0')}Z`;
}

/** ISO 8601 UTC text (as filetimeToIso writes it, or with fewer digits) -> FILETIME; undefined when it is no date. */
export function isoToFiletime(iso: string): bigint | undefined {
  const m = /^(.*?)(?:\.(\d{1,7}))?Z$/.exec(iso);
  const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 10000n + BigInt((m![2] ?? '').padEnd(7, '0')) + FILETIME_UNIX_EPOCH;
}

/** Parses durations such as 500ms, 60s, 5m, 2h, 1d; bare numbers are seconds. Returns ms. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60000 : unit === 'h' ? 3600000 : 86400000;
  const v = n * mult;
  return Number.isFinite(v) ? Math.round(v) : undefined;
}
