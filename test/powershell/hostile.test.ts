/**
 * Hostile values in every user-settable field end up as exactly one literal argument, with the
 * same value, on the PowerShell parse tree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planScripts } from '../../src/capture/lifecycle.js';
import { resolveCaptureOptions } from '../../src/capture/options.js';
import { loadProfile } from '../../src/capture/profiles.js';
import { parsePowerShell, type ArgValue } from '../helpers/ps-parse.js';
import { quoteString } from '../../src/powershell/quote.js';
import { cmd, NativeCall, renderStep, stmt } from '../../src/powershell/script.js';

import { HOSTILE } from '../helpers/hostile.js';

function one(v: ArgValue | undefined): string {
  assert.ok(v, 'an argument');
  assert.equal(v.kind, 'string', `one string literal, got ${JSON.stringify(v).slice(0, 200)}`);
  return (v as { value: string }).value;
}

test('quoteString: every hostile value is one argument with the same value (cmdlet parameter and native argument)', () => {
  for (const h of HOSTILE) {
    const text = renderStep({ name: 't', description: '', statements: [
      stmt(cmd('New-NetEventSession').param('Name', h).param('LocalFilePath', h)),
      stmt(new NativeCall('pktmon.exe', ['start', '--file-name', h])),
    ] });
    const p = parsePowerShell(text);
    assert.equal(p.hasError, false, `${JSON.stringify(h).slice(0, 80)}: ${p.errors.join('; ')}`);
    const nes = p.commands.find((c) => c.name === 'New-NetEventSession')!;
    assert.equal(nes.params.length, 2);
    assert.equal(one(nes.params[0]!.value), h);
    assert.equal(one(nes.params[1]!.value), h);
    const pk = p.commands.find((c) => c.name === 'pktmon.exe')!;
    assert.equal(pk.args.length, 3);
    assert.equal(one(pk.args[2]), h);
    assert.ok(!quoteString(h).includes('\0'), 'NUL never appears raw in a script');
  }
});

test('hostile --out paths reach every step as one argument', async () => {
  const profile = await loadProfile('container');
  for (const h of HOSTILE.filter((x) => !x.includes('\0'))) {
    for (const backend of ['netevent', 'pktmon', 'netsh']) {
      const o = resolveCaptureOptions(profile, { backend }, { out: h, dryRun: true, force: false });
      const runDir = `${h}\\run-x`;
      for (const { step, text } of planScripts(o, 'x', runDir)) {
        const p = parsePowerShell(text);
        assert.equal(p.hasError, false, `${backend}/${step.name}: ${p.errors.join('; ')}`);
        for (const c of p.commands) {
          for (const prm of c.params) if (['LocalFilePath', 'Path', 'LiteralPath'].includes(prm.name)) assert.ok(one(prm.value).startsWith(h), `${c.name} -${prm.name}`);
          if (c.native) {
            const strs = c.args.filter((a) => a.kind !== 'raw').map((a) => one(a)); // $dockerNetworks: a variable of ours
            const fileArg = strs.find((a) => a.startsWith(h) || a.startsWith(`tracefile=${h}`));
            const starts = strs[0] === 'start' || (strs[0] === 'trace' && strs[1] === 'start');
            if (starts) assert.ok(fileArg, `${c.name} carries the path as one argument: ${JSON.stringify(strs).slice(0, 300)}`);
          }
        }
      }
    }
  }
});

test('values that must have a form are usage errors naming the flag', async () => {
  const profile = await loadProfile('container');
  const g = { out: '.', dryRun: true, force: false };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ip: ["10.0.0.1'; whoami"] }, /--ip/], [{ mac: ['00-15-5D-01-02'] }, /--mac/], [{ ethertype: ['0x10'] }, /--ethertype/],
    [{ protocol: ['tcpx'] }, /--protocol/], [{ maxSize: '12XB' }, /--max-size/], [{ duration: 'soon' }, /--duration/],
    [{ captureType: 'all' }, /--capture-type/], [{ backend: 'wireshark' }, /--backend/], [{ truncate: '5' }, /--truncate/],
  ];
  for (const [flags, re] of cases) {
    assert.throws(() => resolveCaptureOptions(profile, flags, g), (e: unknown) => (e as Error).name === 'UsageError' && re.test((e as Error).message), JSON.stringify(flags));
  }
  assert.throws(() => resolveCaptureOptions(profile, {}, { ...g, out: 'a\0b' }), /NUL/);
});
