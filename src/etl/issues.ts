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

  add(severity: IssueSeverity, kind: string, offset: number, message: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.onIssue?.({ severity, kind, offset, message });
    if (this.samples.length < this.maxSamples) this.samples.push({ severity, kind, offset, message });
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
