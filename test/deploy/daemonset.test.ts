/**
 * deploy/kubernetes/wnvcap-daemonset.yaml against deploy/windows-image/Dockerfile: the DaemonSet
 * runs an image with wnvcap in it (not the empty HostProcess base image), its command is the
 * executable the Dockerfile copies (same path), and the memory limit leaves room for a report
 * plus a PowerShell child.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../helpers/fixtures.js';

const BASE_IMAGE = 'mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image';

interface Container {
  name: string;
  image: string;
  command: string[];
  resources?: { limits?: { memory?: string }; requests?: { memory?: string } };
}

function agentContainer(): Container {
  const docs = parseAllDocuments(readFileSync(join(REPO, 'deploy', 'kubernetes', 'wnvcap-daemonset.yaml'), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], 'the YAML parses');
  const ds = docs.map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: Container[] } } } }).find((d) => d.kind === 'DaemonSet');
  assert.ok(ds, 'a DaemonSet');
  const c = ds.spec.template.spec.containers.find((x) => x.name === 'agent');
  assert.ok(c, 'the agent container');
  return c;
}

/** Kubernetes memory quantity -> bytes (the suffixes a manifest uses). */
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  assert.ok(m, `a memory quantity: ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

test('quantities', () => {
  assert.equal(bytes('512Mi'), 536870912);
  assert.equal(bytes('1Gi'), 1073741824);
  assert.equal(bytes('1G'), 1e9);
});

test('the DaemonSet runs the image built from deploy/windows-image/Dockerfile, and its command is the executable the Dockerfile copies', () => {
  const c = agentContainer();
  assert.ok(!c.image.startsWith(BASE_IMAGE), `not the bare HostProcess base image: ${c.image}`);
  assert.match(c.image, /\/wnvcap:[\w.-]+$/);
  const dockerfile = readFileSync(join(REPO, 'deploy', 'windows-image', 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(lines.filter((l) => /^FROM /i.test(l)), [`FROM ${BASE_IMAGE}:v1.0.0`]);
  const copies = lines.filter((l) => /^COPY /i.test(l)).map((l) => l.split(/\s+/).slice(1));
  // What npm run build:exe writes, copied into the image.
  const exe = copies.find(([src]) => src === 'dist/wnvcap-win-x64.exe');
  assert.ok(exe, 'the Dockerfile copies dist/wnvcap-win-x64.exe');
  // A HostProcess container sees its image's files under %CONTAINER_SANDBOX_MOUNT_POINT%.
  assert.equal(c.command[0], `%CONTAINER_SANDBOX_MOUNT_POINT%${exe[1]!.replace(/\//g, '\\')}`);
  assert.deepEqual(c.command.slice(1, 3), ['agent', '--plan']);
});

test('memory: at least 1Gi limit (a report peaks at 270-410 MB, plus a PowerShell child), a request that fits under it', () => {
  const c = agentContainer();
  const limit = c.resources?.limits?.memory;
  const request = c.resources?.requests?.memory;
  assert.ok(limit && request, 'limit and request are set');
  assert.ok(bytes(limit) >= 2 ** 30, `limit ${limit}`);
  assert.ok(bytes(request) >= 512 * 2 ** 20 && bytes(request) <= bytes(limit), `request ${request}`);
});
