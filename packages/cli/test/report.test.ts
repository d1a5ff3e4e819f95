/**
 * The run report in a real browser: a report rendered from a small fixture run (two models, two
 * test pages) opened from `file://` in headless Chromium (Debian's `chromium`, installed by
 * `scripts/ensure-env.sh --test`) through puppeteer-core: no console errors or failed requests,
 * one stage-table row per stage with numbers, a curve per model, as many boxes per page overlay
 * as the page has candidates, and the raw / preprocessed toggle. `KZR_REPORT_HTML=<file>` checks
 * a run's own report.html instead (its counts read from the page), and
 * `KZR_REPORT_SCREENSHOT=<png>` keeps the screenshot (the README's picture).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import type { StageRow } from '@kzr/artifacts';
import { createRawImage, encodeJpeg, encodePng } from '@kzr/imaging';
import type { EpochMetrics } from '@kzr/ml';
import { curveSvg } from '@kzr/ml';
import puppeteer from 'puppeteer-core';

import { type BoxOutcome, type ReportPage, renderRunReport, type RunReport } from '../src/report/render.js';

const chromium = process.env['KZR_CHROMIUM'] ?? '/usr/bin/chromium';

async function dataUri(mediaType: 'image/png' | 'image/jpeg', width: number, height: number, grey: number) {
  const image = createRawImage(width, height, 3);
  image.data.fill(grey);
  const bytes = mediaType === 'image/png' ? await encodePng(image) : await encodeJpeg(image);
  return `data:${mediaType};base64,${bytes.toString('base64')}`;
}

const stages: StageRow[] = ['first', 'first+filter', 'second-train', 'refine', 'final'].map((stage, i) => ({
  stage: stage as StageRow['stage'],
  f1: 0.5 + i / 20,
  precision: 0.6,
  recall: 0.45 + i / 20,
  tp: 40 + i,
  fp: 20,
  fn: 30 - i,
  submission: `submission-${stage.replace('+', '-')}.csv`,
}));

function history(epochs: number): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, e) => ({
    epoch: e + 1,
    trainLoss: 3 / (e + 1),
    valTop1: 0.3 + e / 10,
    ...(e % 2 === 1 ? { valTop1Tta: 0.35 + e / 10 } : {}),
    lr: 1e-3 * (1 - e / epochs),
    imagesPerSecond: 100,
    seconds: 2,
  }));
}

async function fixturePage(pageId: string, candidates: number): Promise<ReportPage> {
  const outcomes: BoxOutcome[] = ['correct', 'wrong', 'removed-correct', 'removed-wrong'];
  return {
    pageId,
    width: 400,
    height: 600,
    raw: await dataUri('image/jpeg', 400, 600, 230),
    preprocessed: await dataUri('image/jpeg', 400, 600, 120),
    boxes: Array.from({ length: candidates }, (_, k) => ({
      code: k % 3 === 0 ? 'U+3042' : 'U+4E00',
      x: 20 + (k % 5) * 70,
      y: 20 + Math.floor(k / 5) * 60,
      width: 40,
      height: 40,
      outcome: outcomes[k % outcomes.length]!,
    })),
  };
}

async function fixtureReport(): Promise<RunReport> {
  const models = ['first-train/a', 'first-train/b', 'second-train/a', 'second-train/b', 'refine/a', 'refine/b'].map(
    (phase, i) => {
      const h = history(2 + i);
      return { phase, history: h, curveSvg: curveSvg(h) };
    },
  );
  return {
    run: 'r-fixture',
    dataset: 'synth-fixture',
    preset: 'smoke',
    stages,
    pseudoLabels: { count: 120, precision: 0.8 },
    models,
    preview: { image: await dataUri('image/png', 64, 64, 90), caption: '4 crops' },
    filter: {
      threshold: 0.5,
      importance: [
        { feature: 'char_score', splits: 30 },
        { feature: 'bbox_score', splits: 12 },
      ],
      outcomes: { correct: 4, wrong: 3, 'removed-correct': 2, 'removed-wrong': 3 },
      removed: { correct: ['U+3042', 'U+3042'], wrong: ['U+4E00', 'U+4E00', 'U+3042'] },
    },
    pages: [await fixturePage('900000004_00001', 12), await fixturePage('900000004_00002', 7)],
  };
}

describe('run report in headless Chromium', () => {
  it('shows the stage table, a curve per model and every candidate box, without console errors', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-report-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const given = process.env['KZR_REPORT_HTML'];
    const fixture = given === undefined ? await fixtureReport() : undefined;
    const file = join(dir, 'report.html');
    if (fixture !== undefined) await writeFile(file, renderRunReport(fixture));
    else await copyFile(resolve(given!), file);

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
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
    // Self-contained: nothing but the file itself and its data URIs is requested.
    page.on('request', (r) => {
      if (!/^(file|data):/.test(r.url())) problems.push(`network request: ${r.url()}`);
    });
    await page.setViewport({ width: 1400, height: 1250 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    const rows = await page.$$eval('#stages tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))),
    );
    const expectedStages = fixture?.stages.length ?? 5;
    assert.equal(rows.length, expectedStages, 'one row per stage');
    for (const row of rows) {
      assert.equal(row.length, 6);
      assert.ok(row.every(Number.isFinite), `numbers in every cell: ${row.join(' ')}`);
    }
    if (fixture !== undefined) assert.deepEqual(rows[4]!.slice(0, 3), [0.7, 0.6, 0.65]);

    const models = await page.$$eval('figure.model', (figs) =>
      figs.map((f) => ({
        phase: f.getAttribute('data-phase'),
        charts: f.querySelectorAll('svg').length,
        marks: f.querySelectorAll('svg circle').length,
        legend: [...f.querySelectorAll('svg text')]
          .map((x) => x.textContent)
          .filter((x) => /loss|top-1|learning/.test(x ?? '')).length,
      })),
    );
    if (fixture !== undefined)
      assert.deepEqual(
        models.map((m) => m.phase),
        fixture.models.map((m) => m.phase),
      );
    else assert.ok(models.length >= 6, 'first-train, second-train and refine of each model');
    for (const m of models) {
      assert.equal(m.charts, 2, `${m.phase}: loss/top-1 and learning-rate charts`);
      assert.ok(m.marks > 0, `${m.phase}: a curve with points`);
      assert.ok(m.legend >= 4, `${m.phase}: axes and legend`);
    }

    const overlays = await page.$$eval('figure.page', (figs) =>
      figs.map((f) => ({
        page: f.getAttribute('data-page'),
        predictions: Number(f.getAttribute('data-predictions')),
        rects: f.querySelectorAll('svg rect').length,
        labels: f.querySelectorAll('svg text').length,
      })),
    );
    assert.ok(overlays.length > 0, 'at least one page overlay');
    for (const [i, o] of overlays.entries()) {
      if (fixture !== undefined) assert.equal(o.predictions, fixture.pages[i]!.boxes.length);
      assert.equal(o.rects, o.predictions, `${o.page}: one box per candidate`);
      assert.equal(o.labels, o.predictions, `${o.page}: the predicted character beside each box`);
    }
    const href = (): Promise<string | null> => page.$eval('figure.page svg image', (img) => img.getAttribute('href'));
    const raw = await href();
    await page.click('figure.page button.toggle');
    assert.notEqual(await href(), raw, 'the toggle shows the preprocessed page');
    await page.click('figure.page button.toggle');
    assert.equal(await href(), raw, 'and the raw one again');

    const shot = process.env['KZR_REPORT_SCREENSHOT'];
    // The top of the page: the stage table and the first page overlays.
    await page.evaluate('window.scrollTo(0, 0)');
    const screenshot = await page.screenshot({ fullPage: false, type: 'png' });
    assert.ok(screenshot.length > 1000);
    if (shot !== undefined) await writeFile(shot, screenshot);
    assert.deepEqual(problems, []);
  });
});
