/** Reports over every real fixture agree with the reference decodes: packets, drops, drops by reason. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/run-analysis.js';
import { memorySource } from '../../src/etl/byte-source.js';
import { FIXTURES, fixtureNames, readFixture } from '../helpers/fixtures.js';

/** One decode of the independent reference: its PktMon packets as rows of packet_fields. */
interface ReferenceRun {
  pktmon: { packets: Array<Array<number | string>>; packet_fields: string[] };
}

for (const name of fixtureNames()) {
  test(`report of ${name} agrees with the reference decode`, async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference', `${name}.json`), 'utf8')) as { primary: string; raw: ReferenceRun; decompressed?: ReferenceRun };
    const run = ref.primary === 'raw' ? ref.raw : ref.decompressed!;
    const rows = run.pktmon.packets;
    const col = (n: string): number => run.pktmon.packet_fields.indexOf(n);
    const bytes = readFixture(name);
    const r = await analyzeCapture(async () => memorySource(bytes, name), undefined, { application: 'test' });
    assert.equal(r.totals.packets, rows.length);
    const drops = rows.filter((x) => x[0] === 170);
    assert.equal(r.drops.reduce((s, d) => s + d.packets, 0), drops.length);
    const byReason = new Map<number, number>();
    for (const d of drops) byReason.set(Number(d[col('drop_reason')]), (byReason.get(Number(d[col('drop_reason')])) ?? 0) + 1);
    const ours = new Map<number, number>();
    for (const d of r.drops) ours.set(d.reasonCode, (ours.get(d.reasonCode) ?? 0) + d.packets);
    assert.deepEqual([...ours.entries()].sort(), [...byReason.entries()].sort());
    // Per component too.
    const byComp = new Map<number, number>();
    for (const d of drops) byComp.set(Number(d[col('component_id')]), (byComp.get(Number(d[col('component_id')])) ?? 0) + 1);
    const oursComp = new Map<number, number>();
    for (const d of r.drops) oursComp.set(d.componentId, (oursComp.get(d.componentId) ?? 0) + d.packets);
    assert.deepEqual([...oursComp.entries()].sort(), [...byComp.entries()].sort());
    assert.equal(r.unattributed.packets, rows.length, 'no snapshot: nothing attributed');
    if (rows.length > 0) assert.ok(r.flowsTotal > 0);
  });
}
