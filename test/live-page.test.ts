/**
 * The live page of `kzr start` in headless Chromium (Debian's `chromium` through puppeteer-core,
 * as the run report's test): a synthetic page and its detection set uploaded in the recognise
 * view come back as text, with one box drawn per character of the answer; a version promoted
 * from the models view is served; no console errors or failed requests, and nothing fetched
 * from outside. State-changing requests from another origin (a foreign `Origin`, a foreign
 * `Host`) are refused with 403 and change nothing. (The README's picture is made by
 * live-page-runs.slow.test.ts, with a trained model set.)
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { listRuns, PagePreprocessing, publishModelSet } from '@kzr/artifacts';
import { generateSyntheticDataset } from '@kzr/data';
import { createClassifier } from '@kzr/ml';
import { FsStore } from '@kzr/platform';
import { checkHealth, firstJsonLine, waitForExit } from '@kzr/testkit';

import { openLivePage } from './helpers/live-page-browser.js';
import { until } from './helpers/recognize-calls.js';
import { machineEnv, spawnStart } from './helpers/kzr-start.js';

/** A POST to the live page at `url` with the given headers; resolves with the status and body. */
function post(url: string, path: string, headers: Record<string, string>, body: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

interface Recognized {
  characters: unknown[];
  text: string;
  removed: unknown[];
  servedBy: { version: string };
}

interface Version {
  version: string;
  served: boolean;
  promoted: boolean;
}

describe('the live page', () => {
  it('recognises an uploaded page with a box per character, promotes from the models view, and refuses another origin', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-live-page-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    // Arrange: one synthetic page with its simulated detections, and two versions of an
    // untrained model set (what it predicts does not matter here, only that it answers).
    const books = await generateSyntheticDataset({
      outDir: join(dir, 'books'),
      books: 1,
      holdoutBooks: 0,
      pagesPerBook: 1,
      classes: 6,
      seed: 7,
      pageWidth: 600,
      pageHeight: 800,
      glyphSize: 40,
    });
    const pageId = books.books[0]!.pageIds[0]!;
    const store = new FsStore({ root: join(dataDir, 'store') });
    for (const [version, seed] of [
      ['v1', 1],
      ['v2', 2],
    ] as const) {
      const model = createClassifier({
        arch: 'resnet18',
        inputChannels: 1,
        numClasses: books.classes.length,
        stem: 'compact',
        widthMultiplier: 0.125,
        depthMultiplier: 0.5,
        initSeed: seed,
      });
      await publishModelSet(store, {
        modelSet: 'web',
        version,
        codes: books.classes.map((c) => c.code),
        members: [
          {
            name: 'a',
            kind: 'kzr',
            model,
            input: { channels: 1, scaleSize: 34, cropSize: 32, mean: [0.5], std: [0.25] },
          },
        ],
        pagePreprocessing: PagePreprocessing.None,
      });
      model.dispose();
    }

    const child = spawnStart(t, machineEnv(dataDir), 'ignore');
    const line = (await firstJsonLine(child, 60_000)) as {
      page: string;
      services: Record<string, { endpoint: string }>;
    };
    const url = line.page;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const inference = line.services['inference']!.endpoint;
    // NOT_FOUND until inference has registered the set it loads at start.
    const served = () =>
      checkHealth(inference, 'kzr.v1.Inference/web').then(
        (s) => s === 'SERVING',
        () => false,
      );
    await until('the newest version served', served);

    const { page, problems } = await openLivePage(t, url);

    // Recognise: upload the page and its detections; one box per character of the answer.
    await page.goto(`${url}#recognize`, { waitUntil: 'networkidle0' });
    await (await page.$('input[name=image]'))!.uploadFile(join(books.outDir, 'train_images', `${pageId}.jpg`));
    await (await page.$('input[name=detections]'))!.uploadFile(join(books.outDir, 'detections', 'det-a.json'));
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/recognize'), { timeout: 60_000 });
    await page.click('#upload button');
    const response = (await (await answered).json()) as Recognized;
    await page.waitForSelector('.result', { timeout: 10_000 });
    assert.ok(response.characters.length > 0, 'characters recognised');
    const drawn = await page.$$eval('.page rect.kept', (rects) => rects.length);
    assert.equal(drawn, response.characters.length, 'a box per character');
    assert.equal(await page.$$eval('.page rect.removed', (rects) => rects.length), response.removed.length);
    const shown = await page.$eval('#text', (e) => e.textContent);
    assert.equal(shown, response.text);
    // Code points, not UTF-16 units: a class may lie outside the BMP.
    assert.equal(
      [...response.text.replace(/\s/g, '')].length,
      response.characters.length,
      'every character in the text',
    );
    assert.equal(response.servedBy.version, 'v2', 'the newest version answers');

    // Models: v2 (the newest) is served; promoting v1 from the page serves it.
    await page.goto(`${url}#models`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('tr[data-version=v1] button');
    await page.click('tr[data-version=v1] button');
    await page.waitForSelector('tr[data-version=v1][data-served=true]', { timeout: 10_000 });
    // RecognizePage answers with v1 once inference has swapped (the page's own origin may POST).
    const upload = {
      image: (await readFile(join(books.outDir, 'train_images', `${pageId}.jpg`))).toString('base64'),
      detections: JSON.parse(await readFile(join(books.outDir, 'detections', 'det-a.json'), 'utf8')) as unknown,
      pageId,
    };
    const own = { origin: url.slice(0, -1), 'content-type': 'application/json' };
    await until('v1 answers once promoted', async () => {
      const res = await post(url, '/api/recognize', own, upload);
      return res.status === 200 && (JSON.parse(res.body) as Recognized).servedBy.version === 'v1';
    });

    // Another origin may not change state: a foreign Host, or a foreign Origin on this Host.
    const host = new URL(url).host;
    const foreign = [
      { host: 'evil.example:80', origin: 'http://evil.example' },
      { host, origin: 'http://evil.example' },
    ];
    for (const headers of foreign) {
      for (const [path, body] of [
        ['/api/models/rollback', { modelSet: 'web' }],
        ['/api/models/promote', { modelSet: 'web', version: 'v2' }],
        ['/api/retrain', { dataset: 'books', preset: 'smoke' }],
      ] as const) {
        const res = await post(url, path, { ...headers, 'content-type': 'application/json' }, body);
        assert.equal(res.status, 403, `${path} from ${headers.origin} via ${headers.host}: ${res.body}`);
      }
    }
    // A cross-site form cannot send JSON: a form-encoded POST from this origin is refused too.
    const form = await post(
      url,
      '/api/models/rollback',
      { origin: url.slice(0, -1), 'content-type': 'text/plain' },
      {},
    );
    assert.equal(form.status, 415);
    const versions = JSON.parse(await (await fetch(new URL('/api/models', url))).text()) as Version[];
    assert.deepEqual(
      versions.map((v) => [v.version, v.served, v.promoted]).sort(),
      [
        ['v1', true, true],
        ['v2', false, false],
      ],
      'still v1, as promoted from the page',
    );
    assert.deepEqual(await listRuns(store), [], 'no run requested');

    // kzr start drains with the page's event stream open, and stops its Bus.
    await page.goto(`${url}#runs`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#runs');
    assert.deepEqual(problems, []);
    child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(child, 20_000), { code: 0, signal: null });
  });
});
