/**
 * The CLI's process: stdout/stderr error handling, then main(). Started by bin.ts (from the
 * bundle with its code cache, or from the modules) and by the single executable (bundled).
 */
import { main } from './main.js';
import { applyV8Flags } from './v8-flags.js';

applyV8Flags(); // again for the single executable, which starts here (the same values)

// A reader that goes away (`wnvcap info x.etl | head`) is not an error. While something else
// listens for the stream's errors (sniff streaming packets to stdout), it handles them: a capture
// must stop and remove its session first, never exit halfway.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (s.listenerCount('error') > 1) return;
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

void main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
}).then((code) => {
  process.exitCode = code;
});
