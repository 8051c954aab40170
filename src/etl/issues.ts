/**
 * Problems found while decoding, reported as data: counted by kind, with the first few kept as
 * samples (bounded memory whatever the damage). The CLI decides what to print and how to exit.
 */
export type IssueSeverity = 'warning' | 'note';

export interface DecodeIssue {
  severity: IssueSeverity;
  /** Stable kind, e.g. 'buffer-header', 'record', 'compressed', 'truncated', 'events-lost'. */
  kind: string;
  /** File byte offset the issue refers to (buffer start plus offset inside the buffer). */
  offset: number;
  message: string;
}

export class IssueLog {
  readonly counts = new Map<string, number>();
  readonly samples: DecodeIssue[] = [];
  /** Told of every issue as it is found (follow mode puts them into the stream). */
  onIssue: ((i: DecodeIssue) => void) | undefined;
  constructor(private readonly maxSamples = 50) {}

  /** Samples found while inFileOrder() holds them, ordered by offset (found order among equals). */
  private held: DecodeIssue[] | undefined;

  add(severity: IssueSeverity, kind: string, offset: number, message: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const issue = { severity, kind, offset, message };
    this.onIssue?.(issue);
    if (this.held) this.hold(issue);
    else if (this.samples.length < this.maxSamples) this.samples.push(issue);
  }

  /**
   * Runs `work`, which finds problems out of file order (reading by CPU), and keeps the samples it
   * finds as if they had been found in file order: the first ones in the file, in its order.
   */
  async inFileOrder<T>(work: () => Promise<T>): Promise<T> {
    this.held = [];
    try {
      return await work();
    } finally {
      this.samples.push(...this.held);
      this.held = undefined;
    }
  }

  private hold(issue: DecodeIssue): void {
    const h = this.held!;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.offset <= issue.offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.maxSamples - this.samples.length) return;
    h.splice(lo, 0, issue);
    if (h.length > this.maxSamples - this.samples.length) h.pop();
  }

  get warningCount(): number {
    let n = 0;
    for (const s of this.samples) if (s.severity === 'warning') n++;
    return n;
  }

  toJSON(): { counts: Record<string, number>; samples: DecodeIssue[] } {
    return { counts: Object.fromEntries(this.counts), samples: this.samples };
  }
}
