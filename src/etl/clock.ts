/**
 * Converts raw record timestamps to "ticks": 100 ns units since the session StartTime
 * (etl-format.md 2.9). Ticks are plain numbers (exact for 28 years either side of the start);
 * absolute FILETIMEs are StartTime + ticks, as BigInt, only where needed.
 *
 *   QPC:         ticks = (R - R0) * 10^7 / PerfFreq       (floor, multiply before divide)
 *   system time: ticks = R - StartTime                    (R already a FILETIME)
 *   CPU cycles:  ticks = (R - R0) * 10 / CpuSpeedInMHz
 */
import { CLOCK_TYPE } from './constants.js';
import type { LogfileHeader } from './logfile-header.js';

const TWO32 = 4294967296;

export class EtlClock {
  /** Anchor split into high (signed) and low (unsigned) 32-bit halves. */
  private readonly anchorHi: number;
  private readonly anchorLo: number;
  private readonly freq: number;
  private readonly freqBig: bigint;
  private readonly mode: 'identity' | 'split' | 'bigint';
  readonly startTime: bigint;
  readonly clockType: number;
  /** Set when the header's clock description had to be guessed. */
  readonly problem: string | undefined;

  constructor(h: Pick<LogfileHeader, 'clockType' | 'perfFreq' | 'cpuSpeedMHz' | 'startTime' | 'headerRecordTimestamp'>) {
    this.startTime = h.startTime;
    let problem: string | undefined;
    let clockType = h.clockType;
    let freq: bigint;
    if (clockType === CLOCK_TYPE.SYSTEM_TIME) {
      freq = 10000000n;
    } else if (clockType === CLOCK_TYPE.CPU_CYCLES) {
      freq = BigInt(h.cpuSpeedMHz) * 1000000n;
      if (freq === 0n) problem = 'clock type is CPU cycles but CpuSpeedInMHz is 0';
    } else {
      if (clockType !== CLOCK_TYPE.QPC) problem = `unknown clock type ${clockType}, read as QPC`;
      clockType = CLOCK_TYPE.QPC;
      freq = h.perfFreq;
      if (freq <= 0n) problem = 'PerfFreq is 0';
    }
    if (freq <= 0n) freq = 10000000n; // keep going: relative times stay meaningful
    const anchor = clockType === CLOCK_TYPE.SYSTEM_TIME ? h.startTime : h.headerRecordTimestamp;
    const a = BigInt.asIntN(64, anchor);
    this.anchorHi = Number(a >> 32n);
    this.anchorLo = Number(a & 0xffffffffn);
    this.freqBig = freq;
    this.freq = Number(freq);
    this.mode = freq === 10000000n ? 'identity' : freq <= 900000000n ? 'split' : 'bigint';
    this.clockType = clockType;
    this.problem = problem;
  }

  /** Ticks for the raw signed 64-bit timestamp at `off` (little-endian). */
  ticksAt(v: DataView, off: number): number {
    const delta = (v.getInt32(off + 4, true) - this.anchorHi) * TWO32 + (v.getUint32(off, true) - this.anchorLo);
    return this.deltaToTicks(delta);
  }

  /** Ticks for a raw timestamp given as BigInt. */
  ticksOf(raw: bigint): number {
    const a = BigInt.asIntN(64, raw);
    const delta = (Number(a >> 32n) - this.anchorHi) * TWO32 + (Number(a & 0xffffffffn) - this.anchorLo);
    return this.deltaToTicks(delta);
  }

  private deltaToTicks(delta: number): number {
    switch (this.mode) {
      case 'identity':
        return delta;
      case 'split': {
        const q = Math.floor(delta / this.freq);
        const r = delta - q * this.freq;
        return q * 10000000 + Math.floor((r * 10000000) / this.freq);
      }
      default: {
        const n = BigInt(delta) * 10000000n;
        let q = n / this.freqBig;
        if (n < 0n && q * this.freqBig !== n) q -= 1n;
        return Number(q);
      }
    }
  }

  /** Absolute FILETIME for ticks. */
  filetime(ticks: number): bigint {
    return this.startTime + BigInt(ticks);
  }
}
