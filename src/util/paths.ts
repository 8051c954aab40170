/** Default locations that depend on the platform. */
import { win32 } from 'node:path';

/**
 * Where run folders go when --out is not given: %ProgramData%\wnvcap\runs on Windows (env
 * ProgramData, else C:\ProgramData), because an elevated console and a SYSTEM scheduled task both
 * start in C:\Windows\System32, where "." would put the captures; the current folder elsewhere
 * (--simulate and decoding on Linux or macOS). Used by capture, schedule add and the agent.
 */
export function defaultOutDir(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>): string {
  if (platform !== 'win32') return '.';
  // Windows environment names are case-insensitive; a plain object passed in is not.
  const programData = env['ProgramData'] || env['PROGRAMDATA'] || 'C:\\ProgramData';
  return win32.join(programData, 'wnvcap', 'runs');
}
