/**
 * Every script wnvcap can emit parses with the tree-sitter PowerShell grammar with no error node,
 * and every command in it matches the cmdlet schema registry (known parameters, types, enum
 * values, mandatory parameters, nothing PowerShell-7-only), over the whole option matrix.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planScripts } from '../../src/capture/lifecycle.js';
import { resolveCaptureOptions, type RawCaptureOptions } from '../../src/capture/options.js';
import { listProfiles } from '../../src/capture/profiles.js';
import { cleanupStep, inventoryStep, preflightStep, statusStep } from '../../src/capture/steps.js';
import { parsePowerShell } from '../../src/powershell/ps-parse.js';
import { checkCommands } from '../../src/powershell/schema.js';
import { renderStep } from '../../src/powershell/script.js';

function assertValid(text: string, what: string): void {
  const p = parsePowerShell(text);
  assert.equal(p.hasError, false, `${what}: syntax errors ${p.errors.join('; ')}\n${text}`);
  assert.ok(p.commands.length > 0, `${what}: no commands`);
  const problems = checkCommands(p.commands);
  assert.deepEqual(problems, [], `${what}:\n${text}`);
}

const FLAG_SETS: RawCaptureOptions[] = [
  {},
  { ip: ['10.0.0.1', 'fe80::1'], protocol: ['tcp', '17'], mac: ['00-15-5D-01-02-03'], ethertype: ['0x0800', '34525'] },
  { captureType: 'physical', truncate: '0', maxSize: '2GB', duration: '5m' },
  { captureType: 'switch', truncate: '14' },
];

test('all profiles x backends x filter sets: scripts parse and match the schema', async () => {
  const profiles = await listProfiles();
  assert.ok(profiles.length >= 6);
  let n = 0;
  for (const p of profiles) {
    for (const backend of ['netevent', 'pktmon', 'netsh', 'auto']) {
      for (const flags of FLAG_SETS) {
        const o = resolveCaptureOptions(p, { ...flags, backend }, { out: 'C:\\ProgramData\\wnvcap\\runs', dryRun: true, simulate: false, force: false });
        for (const { step, text } of planScripts(o, '20260101T000000Z-abcd', 'C:\\ProgramData\\wnvcap\\runs\\run-20260101T000000Z-abcd')) {
          assertValid(text, `${p.name}/${backend}/${JSON.stringify(flags)}/${step.name}`);
          n++;
        }
      }
    }
  }
  for (const s of [preflightStep(), inventoryStep(), cleanupStep('wnvcap-x'), statusStep('wnvcap-x', 'C:\\x.etl')]) assertValid(renderStep(s), s.name);
  assert.ok(n > 300, `${n} scripts checked`);
});

test('the schema check catches what it should', () => {
  const bad = [
    ["New-NetEventSession -Name 'a' -SessionName 'b'", /unknown parameter -SessionName/], // the Doc example pitfall
    ["New-NetEventSession -CaptureMode 'SaveToFile'", /mandatory -Name missing/],
    ["New-NetEventSession -Name 'a' -CaptureMode 'ToFile'", /not one of/],
    ["New-NetEventSession -Name 'a' -MaxNumberOfBuffers 300", /Byte/],
    ["Add-NetEventPacketCaptureProvider -SessionName 's' -MultiLayer 'yes'", /\$true or \$false/],
    ["ConvertTo-Json -InputObject $x -AsArray", /only in PowerShell 7/],
    ["Start-Sleep -Duration 5", /only in PowerShell 7/],
    ["Get-Thing -Name 'x'", /not in the registry/],
    ["& 'pktmon.exe' 'frobnicate'", /unknown verb/],
  ] as const;
  for (const [text, re] of bad) {
    const problems = checkCommands(parsePowerShell(text).commands);
    assert.ok(problems.some((x) => re.test(x)), `${text}: ${problems.join('; ')}`);
  }
});
