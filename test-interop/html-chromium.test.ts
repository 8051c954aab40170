/**
 * Interop: the HTML report in headless Chromium (Debian package): no console errors, no network
 * request, a click on a column sorts the flow table, a click on a flow shows its path; a
 * screenshot is saved to test-output/report.png (CI artifact).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { analyzeCapture } from '../src/analysis/run-analysis.js';
import { memorySource } from '../src/etl/byte-source.js';
import { loadHtmlAssets } from '../src/report/assets.js';
import { renderHtml } from '../src/report/html.js';
import { containerHostCapture } from '../src/sim/container-host.js';
import { parseSnapshot } from '../src/topology/snapshot.js';
import { buildTopology } from '../src/topology/topology.js';
import { REPO } from '../test/helpers/fixtures.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

test('HTML report loads in headless Chromium, sorts, filters and shows a flow path, offline', async () => {
  const cap = containerHostCapture({ scale: 2 });
  const r = await analyzeCapture(async () => memorySource(cap.etl), buildTopology(parseSnapshot(cap.snapshot)), { application: 'test' });
  // A hostile name from the capture must stay text.
  r.dns.failures.push({ name: '<img src=x onerror="window.__pwned=1">', type: 1, rcode: 'NXDOMAIN', client: 'c', server: 's', compartmentId: 2, at: 'now' });
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtml(r, loadHtmlAssets()));
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (q) => { if (q.url() !== pathToFileURL(file).href) requests.push(q.url()); });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.ok(await page.locator('#chart canvas').count() >= 1, 'the traffic chart is drawn');
    const rows = page.locator('#flow-table tbody tr');
    assert.equal(await rows.count(), r.flows.length);
    // Sort by packets: first click sorts descending.
    await page.locator('#flow-table th', { hasText: 'packets' }).click();
    const packets = await page.locator('#flow-table tbody tr td:nth-child(6)').allTextContents();
    const nums = packets.map(Number);
    assert.deepEqual(nums, [...nums].sort((a, b) => b - a));
    assert.equal(nums[0], Math.max(...r.flows.map((f) => f.packets)));
    // Sort by A ascending.
    await page.locator('#flow-table th', { hasText: /^A$/ }).click();
    const a = await page.locator('#flow-table tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(a, [...a].sort());
    // Filter, then show the path of the dropped UDP flow.
    await page.fill('#flow-filter', '54000');
    assert.equal(await rows.count(), 1);
    await rows.first().click();
    const path = await page.locator('#flow-path').textContent();
    // Named by the snapshot: web's vNIC, then api's vSwitch port where it was dropped.
    assert.match(path ?? '', /web \(compartment 2\) vNIC ifIndex 23 -> api \(compartment 3\) PktMon vmswitch\.sys:70 +\(dropped\)/);
    assert.match(await page.locator('#health').textContent() ?? '', /SIMULATED host/);
    assert.match(await page.locator('#dns').textContent() ?? '', /<img src=x onerror/);
    mkdirSync(join(REPO, 'test-output'), { recursive: true });
    await page.fill('#flow-filter', '');
    await page.screenshot({ path: join(REPO, 'test-output', 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
