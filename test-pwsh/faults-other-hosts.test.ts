/**
 * A failing command at every command a capture runs, on the host types the other fault files do
 * not cover: the AKS containerd node, the Hyper-V host without containers, Server 2019 1809 (each
 * with the backend wnvcap picks there). Death and hangs are covered on three other host types.
 */
import { faultTest } from './faults.js';

faultTest({ host: 'aks-containerd', backend: 'auto', kinds: ['error'] });
faultTest({ host: 'hyperv', backend: 'auto', kinds: ['error'] });
faultTest({ host: 'ws2019-1809', backend: 'pktmon', kinds: ['error'] });
