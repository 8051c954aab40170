/** What the capture steps ask of pktmon and netsh for a set of filters (defects 10, 13 and the review's filter semantics). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveCaptureOptions, type RawCaptureOptions } from '../../src/capture/options.js';
import { loadProfile } from '../../src/capture/profiles.js';
import { netshFilters, netshStartStep, pktmonFilters, pktmonStartStep } from '../../src/capture/steps.js';
import { NativeCall } from '../../src/powershell/script.js';

async function opts(flags: RawCaptureOptions, profile = 'minimal'): Promise<ReturnType<typeof resolveCaptureOptions>> {
  return resolveCaptureOptions(await loadProfile(profile), flags, { out: 'C:\\runs', dryRun: true, force: false });
}

function natives(step: { statements: Array<{ stages: readonly unknown[] }> }): string[][] {
  return step.statements.flatMap((s) => s.stages.filter((x): x is NativeCall => x instanceof NativeCall).map((n) => n.args.map(String)));
}

test('pktmon filters AND the lists, as the NetEvent provider does: one filter per combination', async () => {
  assert.deepEqual(pktmonFilters(await opts({ ip: ['10.0.0.1'], mac: ['00-15-5D-01-02-03'] })), [['-i', '10.0.0.1', '-m', '00-15-5D-01-02-03']]);
  assert.deepEqual(pktmonFilters(await opts({ ip: ['10.0.0.1', 'fe80::1'], protocol: ['tcp'] })), [['-i', '10.0.0.1', '-t', '6'], ['-i', 'fe80::1', '-t', '6']]);
  assert.deepEqual(pktmonFilters(await opts({})), []);
  const nine = await opts({ ip: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], protocol: ['tcp', 'udp', 'icmp'] });
  assert.equal(pktmonFilters(nine).length, 9);
  assert.throws(() => pktmonStartStep('C:\\x.etl', nine, 17763), /pktmon holds at most 8 filters here; .* need 9/);
  assert.doesNotThrow(() => pktmonStartStep('C:\\x.etl', nine, 20348));
});

test('defect 10: pktmon before build 19041 gets the 1809 syntax; 2004 and later the --capture syntax', async () => {
  const o = await opts({ ip: ['10.0.0.1'], truncate: '128', maxSize: '64MB' });
  const old = natives(pktmonStartStep('C:\\r\\x.etl', o, 17763));
  assert.deepEqual(old.at(-1), ['start', '--etw', '-p', '128', '-f', 'C:\\r\\x.etl', '-s', '64']);
  assert.deepEqual(old.find((a) => a[1] === 'add'), ['filter', 'add', '-i', '10.0.0.1'], 'no filter name on 1809 [U]');
  const modern = natives(pktmonStartStep('C:\\r\\x.etl', o, 19041));
  assert.deepEqual(modern.at(-1), ['start', '--capture', '--comp', 'nics', '--type', 'all', '--pkt-size', '128', '--file-name', 'C:\\r\\x.etl', '--file-size', '64', '--log-mode', 'circular']);
  assert.deepEqual(modern.find((a) => a[1] === 'add'), ['filter', 'add', 'wnvcap1', '-i', '10.0.0.1']);
});

test('defect 13: netsh keeps IPv6 addresses apart from IPv4 ones, takes EtherTypes, and each provider\'s keywords and level', async () => {
  assert.deepEqual(netshFilters(await opts({ ip: ['fe80::1'] })), ['IPv6.Address=(fe80::1)'], 'an IPv6-only filter is not IPv4.Address=()');
  assert.deepEqual(netshFilters(await opts({ ip: ['10.0.0.1', 'fe80::1', '10.0.0.2'], ethertype: ['0x0800', '0x86dd', '0x88cc'], protocol: ['tcp'] })),
    ['IPv4.Address=(10.0.0.1,10.0.0.2)', 'IPv6.Address=(fe80::1)', 'Protocol=(6)', 'Ethernet.Type=(IPv4,IPv6,0x88cc)']);
  const args = natives(netshStartStep('wnvcap-x', 'C:\\x.etl', await opts({}, 'sdn')))[0]!;
  const i = args.indexOf('provider={9F2660EA-CFE7-428F-9850-AECA612619B0}');
  assert.deepEqual(args.slice(i, i + 3), ['provider={9F2660EA-CFE7-428F-9850-AECA612619B0}', 'keywords=0x00410000', 'level=6']);
});
