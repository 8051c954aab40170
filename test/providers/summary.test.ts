/**
 * The summary of an NDIS capture (`wnvcap info`, and the header of every decode) against the
 * scenario's own list of the packets it wrote: packets per interface and events per id, with
 * vSwitch (1003) events and fragments interleaved with plain ones, over several interfaces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memorySource } from '../../src/etl/byte-source.js';
import { summarizeEtl } from '../../src/providers/capture-decoder.js';
import { NDIS_EVENT } from '../../src/providers/ndiscap.js';
import { writeNdisScenario, type TruthPacket } from '../../src/sim/scenarios.js';
import { assemble } from '../helpers/fixtures.js';

test('summary: NDIS packets per interface and events per id are the ones written', async () => {
  for (const seed of [1, 2, 3]) {
    const chunks: Uint8Array[] = [];
    const truth: TruthPacket[] = [];
    const s = writeNdisScenario({ seed, packets: 3000, cpus: 3, bufferSize: 16384, fragmentEvery: 7, vmswitchEvery: 5, maxFrame: 1514 }, (c) => chunks.push(c), (p) => truth.push(p));
    const { summary } = await summarizeEtl(async () => memorySource(assemble(chunks, s.header)));
    const perIf = new Map<number, number>();
    for (const p of truth) perIf.set(p.ifIndex, (perIf.get(p.ifIndex) ?? 0) + 1);
    assert.ok(perIf.size > 1, 'several interfaces');
    assert.deepEqual(summary.interfaces.map((i) => [i.ifIndex, i.packets]), [...perIf].sort((a, b) => a[0] - b[0]), `seed ${seed}`);
    const vm = truth.filter((p) => p.kind === 'vmswitch').length;
    assert.ok(vm > 0 && vm < truth.length);
    assert.equal(summary.packets.ndis, truth.length);
    assert.equal(summary.packets.vmswitch, vm);
    const [ndis] = summary.providers;
    assert.equal(summary.providers.length, 1);
    const byId = new Map(ndis!.byEvent.map((e) => [e.id, e.count]));
    assert.equal(byId.get(NDIS_EVENT.VMSWITCH_FRAGMENT), vm, 'vSwitch packets are never split');
    assert.equal(byId.get(NDIS_EVENT.FRAGMENT), summary.packets.ndisFragments - vm);
    assert.ok(summary.packets.ndisFragments > truth.length, 'some packets were split into fragments');
    assert.equal(ndis!.byEvent.reduce((n, e) => n + e.count, 0), ndis!.events);
  }
});
