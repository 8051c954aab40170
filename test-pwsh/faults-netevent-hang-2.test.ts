/** The even fault points of faults-netevent-hang.test.ts (a hang at every command, Server 2022, NetEventPacketCapture). */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2022-docker', backend: 'netevent', kinds: ['hang'], share: { index: 1, of: 2 } });
