/** Faults at every command of a NetEventPacketCapture capture on Server 2022: a cmdlet error, PowerShell dying. */
import { faultTest } from './faults.js';

faultTest({ host: 'ws2022-docker', backend: 'netevent', kinds: ['error', 'die'] });
