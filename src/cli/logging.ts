/**
 * The one winston logger: every level to stderr for people (short "level: message" lines,
 * colour only on a TTY without NO_COLOR), JSON lines to --log-file for machines. winston is loaded
 * when the first line is logged, not at start-up: `wnvcap --version` and a quiet `info` never
 * load it (issue 13: start-up).
 */
import { createRequire } from 'node:module';
import type winston from 'winston';
import type TransportType from 'winston-transport';

export interface LoggingOptions {
  verbose?: boolean;
  quiet?: boolean;
  logFile?: string;
  stderr: (text: string) => void;
  color: boolean;
}

/**
 * winston and winston-transport, required on first use. In the bundle (scripts/bundle.mjs) the
 * literal require() calls let esbuild include them, so they come from the code cache too; run
 * from the modules (ESM, no require) they are loaded from node_modules.
 */
function load(name: 'winston' | 'winston-transport'): unknown {
  if (typeof require === 'function') {
    /* eslint-disable @typescript-eslint/no-require-imports -- literal calls, for the bundler */
    return name === 'winston' ? require('winston') : require('winston-transport');
    /* eslint-enable @typescript-eslint/no-require-imports */
  }
  return createRequire(import.meta.url)(name);
}

/** The stderr transport, its class made when winston is loaded. */
interface StderrTransport extends TransportType {
  readonly wnvcapStderr: true;
}

function stderrTransport(sink: (t: string) => void, color: boolean, level: string): StderrTransport {
  const Transport = load('winston-transport') as typeof TransportType;
  class Stderr extends Transport {
    readonly wnvcapStderr = true as const;
    override log(info: { level: string; message: unknown }, next: () => void): void {
      const lvl = color ? (info.level === 'error' ? '\x1b[31merror\x1b[0m' : info.level === 'warn' ? '\x1b[33mwarn\x1b[0m' : info.level) : info.level;
      sink(`${lvl}: ${String(info.message)}\n`);
      next();
    }
  }
  return new Stderr({ level });
}

function realLogger(o: LoggingOptions): winston.Logger {
  const w = load('winston') as typeof winston;
  const level = o.verbose ? 'debug' : o.quiet ? 'warn' : 'info';
  const transports: winston.transport[] = [stderrTransport(o.stderr, o.color, level)];
  if (o.logFile) {
    transports.push(new w.transports.File({
      filename: o.logFile, level: 'debug',
      format: w.format.combine(w.format.timestamp(), w.format.errors({ stack: true }), w.format.json()),
    }));
  }
  return w.createLogger({ level: 'debug', transports });
}

/** The winston logger, made (and winston loaded) on first use; with --log-file, at once (the file is opened). */
export function createLogger(o: LoggingOptions): winston.Logger {
  if (o.logFile) return realLogger(o);
  let real: winston.Logger | undefined;
  return new Proxy({} as winston.Logger, {
    get(_t, prop) {
      // Closing a logger that never logged: nothing to load.
      if (prop === 'close' && !real) return () => undefined;
      real ??= realLogger(o);
      const v = Reflect.get(real, prop, real) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(real) : v;
    },
    set(_t, prop, value) {
      real ??= realLogger(o);
      return Reflect.set(real, prop, value, real);
    },
  });
}

/** Warnings and errors only on stderr from now on (the log file keeps everything): as --quiet. */
export function quietStderr(logger: winston.Logger): void {
  for (const t of logger.transports) if ((t as Partial<StderrTransport>).wnvcapStderr) t.level = 'warn';
}
