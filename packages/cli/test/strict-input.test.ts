// Strict input and one-line errors (issue 22, findings 4, 6, 7 and 9): every bad input below
// exits 2 within seconds with exactly one line `kzr: <field>: <problem>`: no stack trace, no
// library noise, no field twice, control characters escaped.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { runKzr, tempDir } from './kzr-cli.js';

/** stderr without the line the bin prints when it runs from sources (no build yet). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('kzr: no build yet'));
}

/** Runs kzr and asserts exit 2 with one error line equal to `expected` (or matching it). */
async function expectOneLine(args: string[], expected: string | RegExp): Promise<void> {
  const t0 = performance.now();
  const res = await runKzr(args);
  const lines = errorLines(res.stderr);
  assert.equal(res.code, 2, res.stderr);
  assert.equal(lines.length, 1, res.stderr);
  if (typeof expected === 'string') assert.equal(lines[0], expected);
  else assert.match(lines[0]!, expected);
  assert.ok(performance.now() - t0 < 20_000, `took ${performance.now() - t0} ms`);
}

const page = (extra: Record<string, unknown> = {}) => ({ pageId: 'p', pageWidth: 100, pageHeight: 100, ...extra });

describe('strict prediction JSON (postprocess features/filter --pred)', () => {
  it('refuses null items, wrong types, bad page ids and control characters, naming file and field', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const truth = join(dir, 'truth.csv');
    await writeFile(truth, 'image_id,labels\np,\n');
    const cases: Array<[string, string, string]> = [
      ['null.json', '[null]', 'pages[0]: expected a PagePredictions object'],
      ['type.json', JSON.stringify([page({ pageWidth: 'wide' })]), 'pages[0].pageWidth: expected an integer'],
      ['unknown.json', JSON.stringify([page({ colour: 1 })]), 'pages[0].colour: unknown field'],
      [
        'box.json',
        JSON.stringify([page({ characters: [{ code: 'U+3042', box: { x: true } }] })]),
        'pages[0].characters[0].box.x: expected a number',
      ],
      [
        'nobox.json',
        JSON.stringify([page({ characters: [{ code: 'U+3042', probability: 0.5 }] })]),
        'pages[0].characters[0].box: is missing',
      ],
      [
        'id.json',
        JSON.stringify([page({ pageId: 'a,b "c"' })]),
        `pages[0].pageId: expected a page id of letters, digits, '_', '-' or '.' (starting with a letter or digit), got "a,b \\"c\\""`,
      ],
    ];
    for (const [name, text, problem] of cases) {
      const path = join(dir, name);
      await writeFile(path, text);
      await expectOneLine(
        ['postprocess', 'features', '--pred', path, '--truth', truth, '--out', join(dir, 'f.csv')],
        `kzr: --pred: ${path}: ${problem}`,
      );
    }
    // A NUL in the file: JSON's message quotes it; printed escaped, on one line.
    const nul = join(dir, 'nul.json');
    await writeFile(nul, '[\u0000]');
    await expectOneLine(
      ['postprocess', 'features', '--pred', nul, '--truth', truth, '--out', join(dir, 'f.csv')],
      /^kzr: --pred: .*nul\.json is not JSON: .*\\u0000/,
    );
  });

  it('escapes a newline in a file name and checks --out before any work', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const odd = join(dir, 'a\nb.json');
    await expectOneLine(
      ['postprocess', 'features', '--pred', odd, '--truth', odd, '--out', join(dir, 'f.csv')],
      `kzr: --pred: cannot read ${dir}/a\\nb.json: ENOENT`,
    );
    await expectOneLine(
      ['postprocess', 'features', '--pred', odd, '--truth', odd, '--out', join(dir, 'missing', 'f.csv')],
      `kzr: --out: cannot write ${dir}/missing/f.csv: the folder ${dir}/missing does not exist`,
    );
    await expectOneLine(
      ['gbdt', 'train', '--csv', odd, '--out', join(dir, 'missing', 'm.txt')],
      `kzr: --out: cannot write ${dir}/missing/m.txt: the folder ${dir}/missing does not exist`,
    );
  });
});

describe('declared sizes and numbers in model.txt', () => {
  const model = (header: string) =>
    `tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n${header}\n\nend of trees\n`;

  it('refuses max_feature_idx = 10^15 at once instead of filling the heap (finding 4)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const path = join(dir, 'model.txt');
    await writeFile(path, model('max_feature_idx=1000000000000000\nobjective=binary sigmoid:1'));
    await writeFile(join(dir, 'x.csv'), 'a\n1\n');
    await expectOneLine(
      ['gbdt', 'predict', '--model', path, '--csv', join(dir, 'x.csv')],
      `kzr: --model: ${path}: max_feature_idx: expected an integer in [0, 999999], got 1000000000000000`,
    );
  });

  it('refuses sigmoid:nan instead of printing NaN for every row (finding 7)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const path = join(dir, 'model.txt');
    await writeFile(path, model('max_feature_idx=0\nfeature_names=a\nobjective=binary sigmoid:nan'));
    await writeFile(join(dir, 'x.csv'), 'a\n1\n');
    await expectOneLine(
      ['gbdt', 'predict', '--model', path, '--csv', join(dir, 'x.csv')],
      `kzr: --model: ${path}: objective.sigmoid: expected a finite number > 0, got NaN`,
    );
  });
});

describe('declared model dimensions (model summary)', () => {
  it('refuses huge multipliers, class counts and a text seed before building anything (finding 4)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ widthMultiplier: 100 }, 'config.model.widthMultiplier: expected a positive number up to 8, got 100'],
      [{ depthMultiplier: 1000 }, 'config.model.depthMultiplier: expected a positive number up to 8, got 1000'],
      [{ numClasses: 1e8 }, 'config.model.numClasses: expected an integer in [2, 100000], got 100000000'],
      [{ initSeed: 'x' }, 'config.model.initSeed: expected an integer in [0, 2^32 - 1], got "x"'],
    ];
    for (const [i, [change, problem]] of cases.entries()) {
      const path = join(dir, `m${i}.json`);
      const model = { arch: 'resnet18', inputChannels: 1, numClasses: 40, ...change };
      await writeFile(path, JSON.stringify({ name: 'm', model }));
      await expectOneLine(['model', 'summary', path], `kzr: ${problem}`);
    }
  });
});

describe('outputs that cannot be made', () => {
  it('refuses `data split --out /proc/x` at once instead of spinning (finding 8)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const labels = join(dir, 'train.csv');
    await writeFile(labels, 'image_id,labels\n100_00001_1,U+3042 1 1 5 5\n200_00001_1,U+3042 1 1 5 5\n');
    await expectOneLine(
      ['data', 'split', '--labels', labels, '--val-book', '100', '--seed', '1', '--out', '/proc/x'],
      'kzr: --out: cannot create /proc/x: ENOENT',
    );
  });
});

describe('arguments', () => {
  it('takes `--seed -1` as a value and says what is wrong with it, on one line (finding 9)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    await expectOneLine(
      ['data', 'split', '--labels', join(dir, 'x.csv'), '--val-book', 'b', '--seed', '-1', '--out', dir],
      'kzr: --seed: expected an integer in [0, 9007199254740991], got "-1"',
    );
  });

  it('prints a JSON detections file that is not an object without an empty field', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const path = join(dir, 'sets.json');
    await writeFile(path, '[null]');
    await writeFile(join(dir, 'x.png'), 'not an image');
    await expectOneLine(['recognize', join(dir, 'x.png'), '--detections', path], `kzr: ${path}: expected an object`);
  });

  it('names the page file that is no image (finding 6)', async (t) => {
    const dir = await tempDir(t, 'kzr-strict-');
    const sets = join(dir, 'sets.json');
    await writeFile(
      sets,
      JSON.stringify({ version: 1, name: 'a', pages: [{ pageId: 'x', width: 10, height: 10, detections: [] }] }),
    );
    await writeFile(join(dir, 'x.jpg'), 'not an image');
    await expectOneLine(
      ['recognize', join(dir, 'x.jpg'), '--detections', sets],
      `kzr: ${join(dir, 'x.jpg')}: unsupported image format: expected JPEG, PNG, TIFF or WebP`,
    );
  });
});
