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
import { adminMembersStep, cleanupStep, flushTimerStep, inventoryStep, preflightStep, statusStep, tailStep, traceSessionsStep } from '../../src/capture/steps.js';
import { parsePowerShell } from '../helpers/ps-parse.js';
import { checkCommands } from '../helpers/ps-schema.js';
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
        const o = resolveCaptureOptions(p, { ...flags, backend }, { out: 'C:\\ProgramData\\wnvcap\\runs', dryRun: true, force: false });
        for (const { step, text } of planScripts(o, '20260101T000000Z-abcd', 'C:\\ProgramData\\wnvcap\\runs\\run-20260101T000000Z-abcd')) {
          assertValid(text, `${p.name}/${backend}/${JSON.stringify(flags)}/${step.name}`);
          n++;
        }
      }
    }
  }
  for (const s of [preflightStep(), inventoryStep(), cleanupStep('wnvcap-x'), statusStep('wnvcap-x', 'C:\\x.etl'), adminMembersStep(), traceSessionsStep(['PktMon', 'wnvcap-x']), flushTimerStep(['wnvcap-x'], 1), tailStep('C:\\r\\capture.etl', 0, 4 << 20)]) assertValid(renderStep(s), s.name);
  assert.ok(n > 300, `${n} scripts checked`);
});

test('follow mode\'s tail step: a hostile capture path stays one string literal of the script', async () => {
  const { HOSTILE } = await import('../helpers/hostile.js');
  for (const h of HOSTILE.filter((x) => !x.includes('\0'))) {
    const text = renderStep(tailStep(`C:\\runs\\${h}\\capture.etl`, 4096, 1 << 20));
    assertValid(text, `tail of ${JSON.stringify(h.slice(0, 40))}`);
    // The only command the script runs besides the envelope's own: no injected one.
    const names = new Set(parsePowerShell(text).commands.map((c) => c.name.toLowerCase()));
    for (const n of names) assert.ok(['new-object', 'convertto-json', 'select-object', 'get-command'].includes(n), `${JSON.stringify(h.slice(0, 40))}: ${n}`);
  }
});

test('the schema check catches what it should', () => {
  const bad = [
    ["New-NetEventSession -Name 'a' -SessionName 'b'", /unknown parameter -SessionName/], // the Doc example pitfall
    ["New-NetEventSession -CaptureMode 'SaveToFile'", /mandatory -Name missing/],
    ["New-NetEventSession -Name 'a' -CaptureMode 'ToFile'", /not one of/],
    ["New-NetEventSession -Name 'a' -MaxNumberOfBuffers 300", /Byte/],
    ["Add-NetEventPacketCaptureProvider -SessionName 's' -MultiLayer 'yes'", /\$true or \$false/],
    ['ConvertTo-Json -InputObject $x -AsArray', /only in PowerShell 7/],
    ['Start-Sleep -Duration 5', /only in PowerShell 7/],
    ["Get-Thing -Name 'x'", /not in the registry/],
    ["& 'pktmon.exe' 'frobnicate'", /unknown verb/],
  ] as const;
  for (const [text, re] of bad) {
    const problems = checkCommands(parsePowerShell(text).commands);
    assert.ok(problems.some((x) => re.test(x)), `${text}: ${problems.join('; ')}`);
  }
});

test('remoting and scheduling scripts parse and match the schema, hostile host and task values included', async () => {
  const { openSessionStep, remoteInvokeStep, fetchFileStep, removeRemoteFileStep, closeSessionStep, sshConfigStep } = await import('../../src/remote/remote-steps.js');
  const { submitStep, jobScript, collectStep, stopJobStep, closePoolStep } = await import('../../src/remote/session-pool.js');
  const { registerTaskStep, listTasksStep, removeTaskStep, runTaskNowStep, cronToTrigger } = await import('../../src/schedule/task.js');
  const { HOSTILE } = await import('../helpers/hostile.js');
  for (const h of ['ch01', 'ch01.corp.example.com', '10.0.0.7', ...HOSTILE]) {
    for (const t of [{ host: h, transport: 'winrm' as const, port: 5986, useSsl: true }, { host: h, transport: 'ssh' as const, user: h, keyFile: h }]) {
      const remote = [openSessionStep(t, h, t.transport === 'winrm'), remoteInvokeStep(h, preflightStep()), fetchFileStep(h, h, h, 600000), removeRemoteFileStep(h, h), closeSessionStep(h), sshConfigStep(t)];
      const pool = [submitStep(h, remote[0]!, { throttle: 8, credentialUser: h }), collectStep(200), stopJobStep(h), closePoolStep()];
      for (const [step, text] of [...remote.map((st) => [st, jobScript(st)] as const), ...pool.map((st) => [st, renderStep(st)] as const)]) {
        const p = parsePowerShell(text);
        assert.equal(p.hasError, false, `${step.name} ${JSON.stringify(h).slice(0, 40)}: ${p.errors.join('; ')}`);
        assert.deepEqual(checkCommands(p.commands, { allowPs7Only: step.requiresPs7 === true }), [], `${step.name}:\n${text.slice(0, 800)}`);
        const nps = p.commands.find((c) => c.name === 'New-PSSession');
        if (nps) {
          const v = nps.params.find((x) => x.name === 'ComputerName' || x.name === 'HostName')!.value!;
          assert.deepEqual(v.kind === 'array' ? v.items : [v], [{ kind: 'string', value: h }], 'the host is one literal');
        }
      }
      if (t.transport === 'ssh') assert.ok(checkCommands(parsePowerShell(renderStep(openSessionStep(t, h))).commands).some((x) => /only in PowerShell 7/.test(x)), 'SSH remoting is PowerShell 7 only');
    }
  }
  const triggers = [{ kind: 'once' as const, at: '2026-11-23T03:00:00' }, { kind: 'every' as const, at: '2026-11-23T03:00:00', everyMinutes: 360 }, cronToTrigger('0 3 * * *'), cronToTrigger('30 1 * * 1,5')];
  for (const out of ['C:\\ProgramData\\wnvcap\\runs', ...HOSTILE.filter((x) => !x.includes('\0'))]) {
    for (const trigger of triggers) {
      const step = registerTaskStep({ name: 'nightly', trigger, windowSeconds: 600, execute: 'C:\\Program Files\\wnvcap\\wnvcap.exe', args: ['capture', '--out', out], workingDirectory: out });
      const p = parsePowerShell(renderStep(step));
      assert.equal(p.hasError, false, p.errors.join('; '));
      assert.deepEqual(checkCommands(p.commands), []);
      const wd = p.commands.find((c) => c.name === 'New-ScheduledTaskAction')!.params.find((x) => x.name === 'WorkingDirectory')!.value;
      assert.deepEqual(wd, { kind: 'string', value: out });
    }
  }
  for (const step of [listTasksStep(), removeTaskStep('nightly'), runTaskNowStep('nightly')]) assert.deepEqual(checkCommands(parsePowerShell(renderStep(step)).commands), []);
  for (const bad of HOSTILE) assert.throws(() => removeTaskStep(bad), /schedule name/);
  assert.throws(() => cronToTrigger('*/5 * * * *'), (e: unknown) => /wnvcap agent/.test((e as { hint?: string }).hint ?? ''));
});

test('the remoting password is in no script text: the controller reads it from its own environment and removes it there', async () => {
  const { openSessionStep } = await import('../../src/remote/remote-steps.js');
  const { submitStep, PASSWORD_ENV } = await import('../../src/remote/session-pool.js');
  const text = renderStep(submitStep('j1', openSessionStep({ host: 'ch01', transport: 'winrm' }, 'ch01', true), { throttle: 4, credentialUser: 'CORP\\capture' }));
  assert.match(text, /'CORP\\capture'/);
  // Built char by char: no cmdlet binds the password (module logging, event 4103, records parameter values).
  assert.match(text, new RegExp(`foreach \\(\\$c in \\$env:${PASSWORD_ENV}\\.ToCharArray\\(\\)\\) \\{ \\$secret\\.AppendChar\\(\\$c\\) \\}`));
  assert.doesNotMatch(text, /ConvertTo-SecureString/);
  assert.match(text, new RegExp(`Remove-Item -LiteralPath 'Env:${PASSWORD_ENV}'`));
});
