import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with captured stdout/stderr (no terminal). */
export async function runCli(argv: string[], env: Record<string, string> = {}, cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, stderrIsTTY: false, env, cwd });
  return { code, out, err };
}
