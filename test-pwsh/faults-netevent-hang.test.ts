/**
 * A hang at every command of a NetEventPacketCapture capture on Server 2022: each step times out,
 * PowerShell is killed, the session still goes. The slowest case (it waits out every timeout): the
 * odd fault points here, the even ones in faults-netevent-hang-2.test.ts, the two files at once.
 */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2022-docker', backend: 'netevent', kinds: ['hang'], share: { index: 0, of: 2 } });
