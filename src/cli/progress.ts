/** Progress on stderr, only on a terminal, at most 4 updates a second. */
export function makeProgress(enabled: boolean, write: (t: string) => void): { update: (label: string, done: number, total: number) => void; end: () => void } {
  let last = 0;
  let shown = false;
  return {
    update(label, done, total) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
      write(`\r${label} ${pct}% (${(done / 1048576).toFixed(0)} of ${(total / 1048576).toFixed(0)} MB)   `);
    },
    end() {
      if (shown) write('\r\x1b[K');
      shown = false;
    },
  };
}
