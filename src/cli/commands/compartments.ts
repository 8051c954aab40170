/**
 * `wnvcap compartments [--snapshot snapshot.json] [--json]`: what `ipconfig /allcompartments`
 * shows, joined with containers, HNS endpoints and vSwitch ports; from a snapshot, or asked of
 * the live (or --simulate, or --computer) host.
 */
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { hostArgs, hostOptions, type HostArgs } from '../host-options.js';
import type { Snapshot } from '../../topology/snapshot.js';
import type { Topology } from '../../topology/topology.js';

interface CompartmentsArgs extends HostArgs {
  snapshot: string | undefined;
  json: boolean;
}

export default defineCommand({
  command: 'compartments',
  describe: 'the host\'s network compartments joined with containers and HNS endpoints',
  options: (y) => hostOptions(y)
    .option('snapshot', { type: 'string', describe: '<snapshot.json> (default: ask the live or --simulate host)' })
    .option('json', { type: 'boolean', default: false, describe: 'print wnvcap.compartments/1 JSON' }),
  args: (a): CompartmentsArgs => ({ ...hostArgs(a), snapshot: a.snapshot, json: a.json }),
  run: async (a, ctx) => {
    if (a.snapshot !== undefined) {
      const { loadTopology } = await import('../../topology/snapshot-file.js');
      await print(await loadTopology(a.snapshot), a.json, ctx);
      return 0;
    }
    return liveCompartments(a, ctx);
  },
});

async function print(t: Topology, json: boolean, ctx: CliContext): Promise<void> {
  const { compartmentsJson, renderCompartments } = await import('../../report/compartments.js');
  ctx.stdout(json ? `${JSON.stringify(compartmentsJson(t), null, 2)}\n` : renderCompartments(t));
}

/** Each host's inventory, asked now. */
async function liveCompartments(a: CompartmentsArgs, ctx: CliContext): Promise<number> {
  const { forEachHost } = await import('../hosts.js');
  const { inventoryStep } = await import('../../capture/steps.js');
  const { parseInventory } = await import('../../capture/step-results.js');
  const { SNAPSHOT_SCHEMA } = await import('../../topology/snapshot.js');
  const { buildTopology } = await import('../../topology/topology.js');
  return forEachHost(a, ctx, async (runner) => {
    const inv = parseInventory(await runner.run(inventoryStep()), runner.host);
    for (const w of inv.warnings) ctx.logger.warn(`${runner.host}: ${w}`);
    const snapshot: Snapshot = {
      schema: SNAPSHOT_SCHEMA, host: runner.host, takenAt: new Date().toISOString(), ...(runner.simulated ? { simulated: true } : {}), commands: inv.commands, warnings: inv.warnings,
    };
    await print(buildTopology(snapshot), a.json, ctx);
    return 0;
  });
}
