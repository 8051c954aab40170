/**
 * The error hierarchy of wnvcap. Every error says what and where, and may carry a hint.
 * Exit codes, the one table (documented in README and --help):
 *   0 ok, 1 bug, 2 usage, 3 unreadable input, 4 PowerShell/remote failure (fleet: no host
 *   succeeded), 5 fleet: some hosts failed, 130 Ctrl-C.
 */
export const EXIT = {
  OK: 0,
  BUG: 1,
  USAGE: 2,
  INPUT: 3,
  REMOTE: 4,
  SOME_HOSTS_FAILED: 5,
  CANCELLED: 130,
} as const;

/** Many hosts: 0 when all succeeded, 4 when none did, 5 when some did. */
export function hostsExitCode(ok: number, total: number): number {
  return ok === total ? EXIT.OK : ok === 0 ? EXIT.REMOTE : EXIT.SOME_HOSTS_FAILED;
}

export interface AppErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

export class AppError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number = EXIT.BUG;
  constructor(message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.hint = opts.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends AppError {
  override readonly name = 'UsageError';
  override readonly exitCode = EXIT.USAGE;
}

/** Not an ETL file, unsupported version, unrecoverable corruption. `offset` is a file byte offset. */
export class InputError extends AppError {
  override readonly name = 'InputError';
  override readonly exitCode = EXIT.INPUT;
  readonly offset: number | undefined;
  constructor(message: string, opts: AppErrorOptions & { offset?: number } = {}) {
    super(opts.offset === undefined ? message : `${message} (at file offset ${opts.offset})`, opts);
    this.offset = opts.offset;
  }
}

/** PowerShell failed, timed out or was refused. */
export class RemoteError extends AppError {
  override readonly name = 'RemoteError';
  override readonly exitCode = EXIT.REMOTE;
  readonly host: string | undefined;
  constructor(message: string, opts: AppErrorOptions & { host?: string } = {}) {
    super(message, opts);
    this.host = opts.host;
  }
}

export class CancelledError extends AppError {
  override readonly name = 'CancelledError';
  override readonly exitCode = EXIT.CANCELLED;
}

const APP_ERROR_NAMES = new Set(['UsageError', 'InputError', 'RemoteError', 'CancelledError']);

/** True for our own error types, even when two copies of the package are loaded. */
export function isAppError(e: unknown): e is AppError {
  return e instanceof Error && APP_ERROR_NAMES.has(e.name) && 'exitCode' in e;
}

/** An error as it crosses to another thread (a structured clone keeps no class). */
export interface WireError {
  name: string;
  message: string;
  hint?: string;
  offset?: number;
  host?: string;
  code?: string;
  stack?: string;
}

export function errorToWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const w: WireError = { name: e.name, message: e.message };
  if (e.stack) w.stack = e.stack;
  if (e instanceof AppError && e.hint !== undefined) w.hint = e.hint;
  if (e instanceof InputError && e.offset !== undefined) w.offset = e.offset;
  if (e instanceof RemoteError && e.host !== undefined) w.host = e.host;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string') w.code = code;
  return w;
}

/** The error errorToWire described, of the same class where it is one of ours. */
export function errorFromWire(w: WireError): Error {
  const o = w.hint === undefined ? {} : { hint: w.hint };
  let e: Error;
  switch (w.name) {
    case 'UsageError': e = new UsageError(w.message, o); break;
    case 'InputError': e = new InputError(w.message, o); break; // the message already names the offset
    case 'RemoteError': e = new RemoteError(w.message, { ...o, ...(w.host !== undefined ? { host: w.host } : {}) }); break;
    case 'CancelledError': e = new CancelledError(w.message, o); break;
    default:
      e = new Error(w.message);
      e.name = w.name;
  }
  if (w.offset !== undefined) Object.defineProperty(e, 'offset', { value: w.offset });
  if (w.code !== undefined) (e as NodeJS.ErrnoException).code = w.code;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
