/**
 * Headless Chromium on the live page of `kzr start` (Debian's `chromium`, or `KZR_CHROMIUM`,
 * driven by puppeteer-core): a page whose problems (console errors and warnings, page errors,
 * failed requests, any request that leaves the live page) are collected for the test to assert
 * empty. The browser closes when the test ends.
 */
import type { TestContext } from 'node:test';

import puppeteer, { type Page } from 'puppeteer-core';

const chromium = process.env['KZR_CHROMIUM'] ?? '/usr/bin/chromium';

/** Opens a 1300×900 page for the live page at `url` (`http://127.0.0.1:<port>/`). */
export async function openLivePage(t: TestContext, url: string): Promise<{ page: Page; problems: string[] }> {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${String(err)}`));
  page.on('requestfailed', (r) => {
    // The event stream of a page navigated away from is cut, which is no failure.
    if (!r.url().endsWith('/api/runs/events')) problems.push(`request failed: ${r.url().slice(0, 80)}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !/^(data|blob):/.test(r.url())) problems.push(`network request: ${r.url()}`);
  });
  await page.setViewport({ width: 1300, height: 900 });
  return { page, problems };
}
