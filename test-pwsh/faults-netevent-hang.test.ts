/**
 * A hang at every command of a NetEventPacketCapture capture on Server 2022: each step times out,
 * PowerShell is killed, the session still goes (its own file: the slowest case runs beside the others).
 */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2022-docker', backend: 'netevent', kinds: ['hang'] });
