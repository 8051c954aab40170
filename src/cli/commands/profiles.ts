/** `wnvcap profiles list|show [name]`: the capture profiles, and what one resolves to. */
import { defineCommand } from '../command.js';

export default defineCommand({
  command: 'profiles <action> [name]',
  describe: 'list capture profiles, or show one',
  options: (y) => y
    .positional('action', { choices: ['list', 'show'] as const, demandOption: true })
    .positional('name', { type: 'string' })
    .option('json', { type: 'boolean', default: false, describe: 'list: one JSON document [{ name, description }] (show prints JSON anyway)' }),
  args: (a) => ({ action: a.action, name: a.name, json: a.json }),
  run: async (a, ctx) => {
    const { DEFAULT_PROFILE, listProfiles, loadProfile } = await import('../../capture/profiles.js');
    if (a.action === 'list') {
      const list = await listProfiles();
      if (a.json) ctx.stdout(`${JSON.stringify(list.map((p) => ({ name: p.name, description: p.description })), null, 2)}\n`);
      else for (const p of list) ctx.stdout(`${p.name.padEnd(10)} ${p.description}\n`);
      return 0;
    }
    const { resolveCaptureOptions } = await import('../../capture/options.js');
    const p = await loadProfile(a.name ?? DEFAULT_PROFILE);
    const o = resolveCaptureOptions(p, {}, { out: '.', dryRun: true, force: false });
    ctx.stdout(`${JSON.stringify({ name: p.name, description: p.description, file: p.file, values: p.values, resolved: { ...o, out: undefined, dryRun: undefined, force: undefined } }, null, 2)}\n`);
    return 0;
  },
});
