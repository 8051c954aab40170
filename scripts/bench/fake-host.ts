// For scripts/bench/follow.mjs: a fake Windows host (test-pwsh/fake-windows) for the length of a
// benchmark. Prints {"env": ..., "dir": ...} on one line, then removes the host when stdin closes.
import { createFakeHost, findPwsh, type HostType } from '../../test-pwsh/fake-windows/fake-host.js';

const fake = await createFakeHost((process.argv[2] ?? 'ws2022-docker') as HostType);
process.stdout.write(`${JSON.stringify({ env: { ...fake.env, WNVCAP_PWSH: findPwsh() ?? 'pwsh' }, dir: fake.dir })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  fake.dispose();
  process.exit(0);
});
