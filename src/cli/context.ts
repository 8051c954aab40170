/** What a command gets from the outside world; tests pass fakes. */
import type { Logger } from 'winston';

export interface CliContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal (progress, colour). */
  stderrIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  logger: Logger;
}
