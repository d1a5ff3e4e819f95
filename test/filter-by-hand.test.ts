// The false-positive filter by hand, command by command, on synthetic books (packages/postprocess
// README, "A filter by hand"): a tiny model is trained on three books and published; `kzr
// recognize --unfiltered` on two other books gives the candidates `kzr postprocess fit` learns
// from; the filter then cleans the unfiltered recognition of a third book, and `kzr score` says
// what it did. Every held-out book is one the model never saw, in the training books' fonts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { syntheticCrops, type SyntheticCrops } from './helpers/synthetic-crops.js';
import { importTinyModel, kzr as run, type KzrResult, trainTinyModel } from './helpers/tiny-model.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let crops: SyntheticCrops;

async function kzr(...args: string[]): Promise<string> {
  const res: KzrResult = await run(env, ...args);
  assert.equal(res.code, 0, `kzr ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** The detection-set flags of every simulated detector of the synthetic books. */
function detections(): string[] {
  return ['det-a', 'det-b'].flatMap((set) => ['--detections', join(dir, 'books', 'detections', `${set}.json`)]);
}

function pageFiles(pages: readonly string[]): string[] {
  return pages.map((p) => join(dir, 'books', 'train_images', `${p}.jpg`));
}

interface Score {
  f1: number;
  tp: number;
  fp: number;
  fn: number;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kzr-filter-by-hand-'));
  env = { ...process.env, KZR_DATA_DIR: join(dir, 'data'), KZR_TF_BACKEND: 'wasm' };
  crops = await syntheticCrops(dir, {
    classes: 6,
    pagesPerBook: 4,
    seed: 21,
    trainBooks: 3,
    holdoutBooks: 3,
    seenFonts: true,
  });
  await trainTinyModel(dir, crops, 6, env);
  await kzr('model', 'export-onnx', join(dir, 'run', 'best'), join(dir, 'model.onnx'));
  const imported = await importTinyModel(env, dir, 'synth', 'none');
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the false-positive filter by hand', () => {
  it('fits on the unfiltered recognition of two books and removes at least half the false positives of a third without lowering F1', async () => {
    const [fitA, fitB, test] = crops.holdoutPages;
    const truth = join(dir, 'books', 'train.csv');
    await writeFile(
      join(dir, 'fit.json'),
      await kzr('recognize', ...pageFiles([...fitA!, ...fitB!]), ...detections(), '--unfiltered'),
    );
    const fitted = JSON.parse(
      await kzr(
        ...['postprocess', 'fit', '--pred', join(dir, 'fit.json'), '--truth', truth],
        ...['--out', join(dir, 'filter'), '--folds', '4'],
      ),
    ) as { threshold: number; filters: string[] };

    // The third book: its merged candidates as recognised (no filter is published), then filtered.
    const before = join(dir, 'before.csv');
    await writeFile(
      join(dir, 'test.json'),
      await kzr('recognize', ...pageFiles(test!), ...detections(), '--unfiltered', '--out-csv', before),
    );
    const after = join(dir, 'after.csv');
    await kzr(
      ...['postprocess', 'filter', '--pred', join(dir, 'test.json'), '--out', after],
      ...fitted.filters.flatMap((f) => ['--filter', f]),
      ...['--threshold', String(fitted.threshold)],
    );
    const testTruth = join(dir, 'test-truth.csv');
    const rows = (await readFile(truth, 'utf8')).trim().split('\n');
    await writeFile(testTruth, [rows[0], ...rows.filter((r) => test!.includes(r.split(',')[0]!))].join('\n') + '\n');
    const score = async (sub: string): Promise<Score> =>
      JSON.parse(await kzr('score', '--truth', testTruth, '--pred', sub)) as Score;
    const [unfiltered, filtered] = [await score(before), await score(after)];

    console.log(
      `filter by hand, ${test!.length} pages: unfiltered TP ${unfiltered.tp} FP ${unfiltered.fp} FN ${unfiltered.fn} ` +
        `F1 ${unfiltered.f1.toFixed(4)}; filtered (threshold ${fitted.threshold}) TP ${filtered.tp} FP ${filtered.fp} ` +
        `FN ${filtered.fn} F1 ${filtered.f1.toFixed(4)}`,
    );
    assert.ok(unfiltered.fp > 0, 'NMS left false positives to remove');
    assert.ok(unfiltered.fp - filtered.fp >= unfiltered.fp / 2, `FP ${unfiltered.fp} -> ${filtered.fp}`);
    assert.ok(filtered.f1 >= unfiltered.f1, `F1 ${unfiltered.f1} -> ${filtered.f1}`);
  });
});
