/**
 * Faults at every command of a netsh trace on Server 2016: an error and PowerShell dying
 * everywhere; a hang at netsh.exe, which the runner must kill with PowerShell's whole process tree.
 */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2016', backend: 'netsh', kinds: ['error', 'die', 'hang'], hangAt: /\.exe$/i });
