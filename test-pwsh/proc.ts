/**
 * Processes below a root, read from /proc (Linux): for tests that look at the command lines and
 * environments of what wnvcap started, and for the fleet bench's memory and CPU figures.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Session id (setsid starts a new one: one per controller PowerShell). */
  sid: number;
  /** utime + stime, in clock ticks (USER_HZ, 100 per second on Linux). */
  cpuTicks: number;
}

function stat(pid: number): ProcInfo | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), sid: Number(f[3]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined; // gone
  }
}

/** The root and every process below it. */
export function processTree(root: number): ProcInfo[] {
  const all = readdirSync('/proc').filter((x) => /^\d+$/.test(x)).map((d) => stat(Number(d))).filter((p): p is ProcInfo => p !== undefined);
  const kids = new Map<number, ProcInfo[]>();
  for (const p of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const walk = (p: ProcInfo): void => { out.push(p); for (const k of kids.get(p.pid) ?? []) walk(k); };
  const top = all.find((p) => p.pid === root);
  if (top) walk(top);
  return out;
}

/** A process's command line ('' once gone), NULs as spaces. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** A process's environment as text ('' once gone or not readable). */
export function environ(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

/** Resident memory in kB (0 once gone). */
export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
