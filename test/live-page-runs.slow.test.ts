/**
 * The live page while `kzr start` trains its first run (`KZR_START_RUN=smoke`), in headless
 * Chromium: the runs view, loaded once and never reloaded, shows the run's phases change state
 * as the server's events arrive until the run succeeds, then links its report and its phase logs;
 * a held-out page of the run's stored dataset (its test book), picked in the recognise view, comes back with a box
 * per character and the filter's removals; no console errors. `KZR_LIVE_PAGE_SCREENSHOT=<png>`
 * keeps the recognise view's screenshot (the README's picture, docs/live-page.png),
 * `KZR_LIVE_PAGE_RUNS_SCREENSHOT=<png>` the runs view's while phases run (docs/live-page-runs.png).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { checkHealth, firstJsonLine, waitForExit } from '@kzr/testkit';

import { openLivePage } from './helpers/live-page-browser.js';
import { until } from './helpers/recognize-calls.js';
import { machineEnv, spawnStart } from './helpers/kzr-start.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

describe('the live page during a run', () => {
  it(
    'shows a smoke run’s phases changing state as it runs, its report and logs, and recognises a held-out page',
    { timeout: 600_000 },
    async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'kzr-live-runs-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const child = spawnStart(t, { ...machineEnv(join(dir, 'data')), KZR_START_RUN: 'smoke' }, 'ignore');
      const line = (await firstJsonLine(child, 60_000)) as {
        page: string;
        services: Record<string, { endpoint: string }>;
      };
      const url = line.page;

      const { page, problems } = await openLivePage(t, url);
      await page.goto(`${url}#runs`, { waitUntil: 'domcontentloaded' });

      let runsShot = process.env['KZR_LIVE_PAGE_RUNS_SCREENSHOT'];
      // Every state each phase was seen in, in order, as the page showed it.
      const seen = new Map<string, string[]>();
      const began = Date.now();
      let status = '';
      while (status !== 'succeeded') {
        assert.ok(!['failed', 'cancelled'].includes(status), `the run ${status}`);
        assert.ok(Date.now() - began < 540_000, 'the run finished within 9 minutes');
        const shown = await page.$$eval('tr.run', (rows) =>
          rows.map((r) => ({
            status: r.getAttribute('data-status') ?? '',
            phases: [...r.querySelectorAll('li.phase')].map((p) => [
              p.getAttribute('data-phase')!,
              p.getAttribute('data-status')!,
            ]),
          })),
        );
        if (shown.length === 1) {
          status = shown[0]!.status;
          for (const [phase, state] of shown[0]!.phases) {
            const states = seen.get(phase!) ?? [];
            if (states.at(-1) !== state) seen.set(phase!, [...states, state!]);
          }
          // The runs view mid-run: some phases done, some running.
          const now = shown[0]!.phases.map(([, state]) => state);
          if (runsShot !== undefined && now.includes('succeeded') && now.includes('running')) {
            await writeFile(runsShot, await page.screenshot({ type: 'png' }));
            runsShot = undefined;
          }
        }
        await sleep(250);
      }
      // Phases that ran while the page watched went from pending or running to succeeded.
      const changed = [...seen].filter(([, states]) => states.length > 1 && states.at(-1) === 'succeeded');
      assert.ok(changed.length >= 3, `phases seen changing: ${JSON.stringify([...seen])}`);
      assert.ok(
        changed.some(([, states]) => states.includes('running')),
        `a phase seen running: ${JSON.stringify(changed)}`,
      );
      assert.ok([...seen.values()].every((states) => states.at(-1) === 'succeeded'));

      // The finished run links its report and each phase's log.
      await page.waitForSelector('tr.run a.report', { timeout: 10_000 });
      const links = await page.$$eval('tr.run a', (as) => as.map((a) => a.getAttribute('href') ?? ''));
      for (const link of [
        links.find((l) => l.includes('/api/runs/report'))!,
        links.find((l) => l.includes('/api/runs/log'))!,
      ]) {
        const res = await fetch(new URL(link, url));
        assert.equal(res.status, 200, link);
        assert.ok((await res.text()).length > 0, link);
      }
      const dataset = await page.$eval('tr.run td:nth-child(4)', (td) => td.textContent ?? '');

      // Recognise a held-out page of the run's dataset with the set the run published.
      const inference = line.services['inference']!.endpoint;
      await until(
        'the smoke set served',
        async () => (await checkHealth(inference, 'kzr.v1.Inference/smoke')) === 'SERVING',
        60_000,
      );
      await page.goto(`${url}#recognize`, { waitUntil: 'domcontentloaded' });
      await page.type('#stored input[name=dataset]', dataset);
      await page.click('#stored button[type=button]');
      await page.waitForSelector('#stored select option');
      // Held out: the pages of the smoke preset's test book, which no phase trained on.
      const preset = JSON.parse(await readFile(join(repoRoot, 'configs', 'runs', 'smoke.json'), 'utf8')) as {
        split: { testBooks: string[] };
      };
      const offered = await page.$$eval('#stored select option', (os) => os.map((o) => o.textContent ?? ''));
      assert.ok(offered.length > 0);
      assert.deepEqual([...new Set(offered.map((p) => p.split('_')[0]))], preset.split.testBooks);
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/recognize'), { timeout: 120_000 });
      await page.click('#stored button:not([type=button])');
      const response = (await (await answered).json()) as { characters: unknown[]; removed: unknown[]; text: string };
      await page.waitForSelector('.result');
      assert.ok(response.characters.length > 0);
      assert.equal(await page.$$eval('.page rect.kept', (r) => r.length), response.characters.length);
      assert.equal(await page.$$eval('.page rect.removed', (r) => r.length), response.removed.length);
      assert.equal(await page.$eval('#text', (e) => e.textContent), response.text);
      const shot = process.env['KZR_LIVE_PAGE_SCREENSHOT'];
      const screenshot = await page.screenshot({ type: 'png' });
      if (shot !== undefined) await writeFile(shot, screenshot);
      assert.deepEqual(problems, []);
      // kzr start drains with the page and stops its Bus.
      child.kill('SIGTERM');
      assert.deepEqual(await waitForExit(child, 30_000), { code: 0, signal: null });
    },
  );
});
