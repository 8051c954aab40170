'use strict';
/**
 * Ends the processes of an SSH fleet (ssh-hosts.ts), by process id only: each sshd listener with
 * every process below it, and every process whose environment carries WNVCAP_SSH_HOST=<marker>
 * (the remote pwsh sessions: the subsystem wrapper exports the marker before it execs pwsh).
 *
 * Both are needed: sshd's per-connection children call setsid(), so killing a process group
 * misses them, and a child whose parent already died is re-parented, so the tree misses it.
 * Used in-process (ssh-hosts.ts) and by watchdog.cjs when the test process itself died; Linux only
 * (/proc).
 */
const fs = require('node:fs');

/** pid -> ppid for every process now. */
function parents() {
  const map = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      map.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended while we looked
    }
  }
  return map;
}

/** The roots and all their descendants (the roots included). */
function tree(roots, table = parents()) {
  const found = new Set(roots.filter((p) => table.has(p)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of table) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return found;
}

/** Processes whose environment holds WNVCAP_SSH_HOST=<one of markers>. */
function marked(markers, table = parents()) {
  const wanted = new Set(markers.map((m) => `WNVCAP_SSH_HOST=${m}`));
  const found = new Set();
  if (wanted.size === 0) return found;
  for (const pid of table.keys()) {
    try {
      const vars = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (vars.some((v) => wanted.has(v))) found.add(pid);
    } catch {
      // ended, or another user's process
    }
  }
  return found;
}

/** SIGKILLs the trees below `pids` and the processes carrying `markers`; returns how many it signalled. */
function reap(pids, markers) {
  const table = parents();
  const victims = new Set([...tree(pids, table), ...marked(markers, table)]);
  victims.delete(process.pid);
  let n = 0;
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

module.exports = { reap, marked, tree, parents };
