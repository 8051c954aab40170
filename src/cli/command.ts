/**
 * One command of the CLI: its yargs options, the typed arguments made of them (validated), and
 * its run. A command file imports only light modules at the top (types, util, this folder) and
 * loads what its run needs with import(): `wnvcap --version` reads every command's options and
 * nothing else (test/architecture/imports.test.ts).
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { CliContext } from './context.js';

export interface Command<A> {
  /** The yargs command: name and positionals, e.g. 'decode <input>'. */
  command: string;
  describe: string;
  /** Its options (defaults may depend on the environment, e.g. the output folder). */
  options: (y: Argv, ctx: Pick<CliContext, 'env'>) => Argv;
  /** The parsed argv as this command's arguments; throws UsageError on values yargs cannot check. */
  args: (a: ArgumentsCamelCase<Record<string, unknown>>, ctx: Pick<CliContext, 'env'>) => A;
  /** Runs it; returns the exit code (util/errors.ts EXIT), never exits the process. */
  run: (a: A, ctx: CliContext) => Promise<number>;
}

/**
 * A command whose args() sees the options' own types (inferred from options()); the Command it
 * returns hides them, so a list of commands can hold every kind.
 */
export function defineCommand<O, A>(c: {
  command: string;
  describe: string;
  options: (y: Argv, ctx: Pick<CliContext, 'env'>) => Argv<O>;
  args: (a: ArgumentsCamelCase<O>, ctx: Pick<CliContext, 'env'>) => A;
  run: (a: A, ctx: CliContext) => Promise<number>;
}): Command<unknown> {
  return c as unknown as Command<unknown>;
}

/** The values of the options given, without the ones left out (exactOptionalPropertyTypes). */
export function given<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
