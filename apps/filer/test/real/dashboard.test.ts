// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core. It loads
// /dashboard with the filer's Basic auth, an EICAR open through the data path is denied, the deny
// appears in the page's recent events and the chart, and a screenshot is kept in
// test/real/artifacts/ (gitignored; apps/filer/docs/dashboard.png is a copy for the README).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath, requireBinary } from '../../../../test/support/index.js';
import { kEicar, kPassword, kUser, startTestFiler, type TestFiler } from '../helpers/filer.js';

const kChromium = binaryPath('chromium');
const available = requireBinary('chromium');
const artifacts = path.join(import.meta.dirname, 'artifacts');

describe.skipIf(!available)('dashboard in chromium', () => {
  let t: TestFiler;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestFiler();
    // playwright gives every launch a fresh temporary profile (it refuses --user-data-dir in launch()).
    browser = await chromium.launch({
      executablePath: kChromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the SVM and its policy, then the deny of an EICAR open as it happens; screenshot', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, httpCredentials: { username: kUser, password: kPassword }, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const res = await page.goto(`${t.filer.url}/dashboard`);
    expect(res?.status()).toBe(200);
    const svm = t.filer.runtime.svms()[0]!.name;
    await page.locator('#svms tbody', { hasText: svm }).waitFor();
    await page.locator('#servers tbody', { hasText: 'connected' }).waitFor();

    const vol = t.filer.runtime.volumes(svm).find((v) => !v.readonly)!;
    const share = t.filer.runtime.shares(svm).find((s) => s.volume === vol.name && s.dir === '')!.name;
    mkdirSync(vol.root, { recursive: true });
    writeFileSync(path.join(vol.root, 'eicar.com'), kEicar);
    writeFileSync(path.join(vol.root, 'report.txt'), 'quarterly numbers\n');
    expect((await t.api.get(`/data/${svm}/${share}/report.txt?op=open&mode=read`)).status).toBe(200);
    const denied = await t.api.get(`/data/${svm}/${share}/eicar.com?op=open&mode=read`);
    expect(denied.status).toBe(403);

    const row = page.locator('#events tbody tr', { hasText: 'eicar.com' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.innerText()).toMatch(/deny/);
    expect(await row.innerText()).toMatch(/Eicar/i);
    await page.locator('#chart rect').first().waitFor();
    // Events arrive live; the chart and verdict mix come with the page's state refresh (every 2 s),
    // which may land before the deny was counted: wait for the one that includes it.
    await page.locator('#verdicts', { hasText: 'infected' }).waitFor({ timeout: 10_000 });

    // An on-demand job and its report appear too.
    const base = `/api/protocols/vscan/${t.uuid}`;
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'whole_vol', scan_paths: [`/${vol.name}/`], log_path: `/${vol.name}/` })).status).toBe(201);
    expect((await t.api.post(`${base}/on-demand-policies/whole_vol/run`)).status).toBe(202);
    await page.locator('#jobs tbody', { hasText: 'completed' }).waitFor({ timeout: 10_000 });
    await page.locator('#reports tbody', { hasText: 'on-demand' }).waitFor({ timeout: 10_000 });

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
    await context.close();
  });

  it('needs the same auth as the API', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    // The browser's own request stack (a navigation would show its login prompt, which headless refuses).
    for (const p of ['/dashboard', '/dashboard/state', '/dashboard/app.js']) {
      const res = await context.request.get(`${t.filer.url}${p}`);
      expect(res.status()).toBe(401);
      expect(res.headers()['www-authenticate']).toMatch(/^Basic/);
    }
    await context.close();
  });
});
