/** defaultOutDir: %ProgramData%\wnvcap\runs on Windows, "." elsewhere. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultOutDir } from '../../src/util/paths.js';

test('Windows: %ProgramData%\\wnvcap\\runs, C:\\ProgramData when the variable is missing', () => {
  assert.equal(defaultOutDir('win32', { ProgramData: 'D:\\ProgramData' }), 'D:\\ProgramData\\wnvcap\\runs');
  assert.equal(defaultOutDir('win32', { PROGRAMDATA: 'E:\\PD\\' }), 'E:\\PD\\wnvcap\\runs');
  assert.equal(defaultOutDir('win32', {}), 'C:\\ProgramData\\wnvcap\\runs');
  assert.equal(defaultOutDir('win32', { ProgramData: '' }), 'C:\\ProgramData\\wnvcap\\runs');
});

test('Linux and macOS: the current folder, whatever the environment says', () => {
  assert.equal(defaultOutDir('linux', { ProgramData: 'C:\\ProgramData' }), '.');
  assert.equal(defaultOutDir('darwin', {}), '.');
});
