/** Which PowerShell the runner starts (defect 5), and the timeouts it gives steps (defect 8). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchTimeoutMs } from '../../src/capture/lifecycle.js';
import { findPowerShell, scaledTimeout, timeoutScale } from '../../src/remote/local-runner.js';

test('defect 5: pwsh is found on PATH (MSIX/Store, Linux), then in Program Files, then Windows PowerShell 5.1; WNVCAP_PWSH wins', () => {
  const has = (files: string[]) => (p: string): boolean => files.includes(p);
  const winEnv = { PATH: 'C:\\Windows\\system32;C:\\Users\\op\\AppData\\Local\\Microsoft\\WindowsApps', PATHEXT: '.COM;.EXE', ProgramFiles: 'C:\\Program Files', SystemRoot: 'C:\\Windows' };
  assert.deepEqual(findPowerShell(winEnv, 'win32', has(['C:\\Users\\op\\AppData\\Local\\Microsoft\\WindowsApps\\pwsh.exe', 'C:\\Program Files\\PowerShell\\7\\pwsh.exe'])),
    { path: 'C:\\Users\\op\\AppData\\Local\\Microsoft\\WindowsApps\\pwsh.exe', edition: 'pwsh' }, 'the Store install on PATH');
  assert.deepEqual(findPowerShell(winEnv, 'win32', has(['C:\\Program Files\\PowerShell\\7\\pwsh.exe'])), { path: 'C:\\Program Files\\PowerShell\\7\\pwsh.exe', edition: 'pwsh' });
  assert.deepEqual(findPowerShell(winEnv, 'win32', has([])), { path: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', edition: 'powershell' });
  assert.deepEqual(findPowerShell({ PATH: '/usr/bin:/opt/microsoft/powershell/7' }, 'linux', has(['/opt/microsoft/powershell/7/pwsh'])), { path: '/opt/microsoft/powershell/7/pwsh', edition: 'pwsh' });
  assert.equal(findPowerShell({ PATH: '/usr/bin' }, 'linux', has([])), undefined, 'no PowerShell on Linux: none');
  assert.deepEqual(findPowerShell({ ...winEnv, WNVCAP_PWSH: 'D:\\tools\\powershell.exe' }, 'win32', has([])), { path: 'D:\\tools\\powershell.exe', edition: 'powershell' });
});

test('defect 8: the copy back gets 10 s per MB of the size cap, an hour at least (a stall stops it sooner: test-pwsh/controller.test.ts); WNVCAP_TIMEOUT_SCALE multiplies step timeouts', () => {
  assert.equal(fetchTimeoutMs(64), 3_600_000);
  assert.equal(fetchTimeoutMs(512), 5_240_000, 'eight 512 MB copies sharing 9 MB/s need about 460 s each');
  assert.equal(fetchTimeoutMs(4096), 41_080_000, 'a 4 GB capture at 0.1 MB/s');
  assert.equal(timeoutScale({}), 1);
  assert.equal(timeoutScale({ WNVCAP_TIMEOUT_SCALE: '3' }), 3);
  assert.equal(timeoutScale({ WNVCAP_TIMEOUT_SCALE: 'fast' }), 1);
  assert.equal(scaledTimeout(60_000, 3), 180_000, 'a slow host: three times');
  assert.equal(scaledTimeout(300_000, 0.05), 15_000);
  assert.equal(scaledTimeout(60_000, 0.05), 5_000, 'never under 5 s: a fresh PowerShell loading a module on a loaded machine');
  assert.equal(scaledTimeout(2_000, 0.5), 2_000, 'nor over the limit itself');
});
