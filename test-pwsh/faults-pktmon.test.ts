/**
 * Faults at every command of a pktmon capture on Server 2025: an error and PowerShell dying
 * everywhere; a hang at the native programs (a hung cmdlet is covered by the NetEvent file),
 * which the runner must kill with PowerShell's whole process tree.
 */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2025', backend: 'pktmon', kinds: ['error', 'die', 'hang'], hangAt: /\.exe$/i });
