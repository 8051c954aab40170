/**
 * The one winston logger: every level to stderr for people (short "level: message" lines,
 * colour only on a TTY without NO_COLOR), JSON lines to --log-file for machines.
 */
import winston from 'winston';
import Transport from 'winston-transport';

export interface LoggingOptions {
  verbose?: boolean;
  quiet?: boolean;
  logFile?: string;
  stderr: (text: string) => void;
  color: boolean;
}

class StderrTransport extends Transport {
  constructor(private readonly sink: (t: string) => void, private readonly color: boolean, level: string) {
    super({ level });
  }
  override log(info: { level: string; message: unknown }, next: () => void): void {
    const lvl = this.color ? (info.level === 'error' ? '\x1b[31merror\x1b[0m' : info.level === 'warn' ? '\x1b[33mwarn\x1b[0m' : info.level) : info.level;
    this.sink(`${lvl}: ${String(info.message)}\n`);
    next();
  }
}

export function createLogger(o: LoggingOptions): winston.Logger {
  const level = o.verbose ? 'debug' : o.quiet ? 'warn' : 'info';
  const transports: winston.transport[] = [new StderrTransport(o.stderr, o.color, level)];
  if (o.logFile) {
    transports.push(new winston.transports.File({
      filename: o.logFile, level: 'debug',
      format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    }));
  }
  return winston.createLogger({ level: 'debug', transports });
}

/** Warnings and errors only on stderr from now on (the log file keeps everything): as --quiet. */
export function quietStderr(logger: winston.Logger): void {
  for (const t of logger.transports) if (t instanceof StderrTransport) t.level = 'warn';
}
