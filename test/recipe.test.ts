// The by-hand recipe of packages/ml/README.md ("Accuracy check"), command by command and small:
// synthetic books -> crops -> book split -> train -> predict. Each step reads what the previous
// one wrote, so a crop list naming files the crop step never wrote fails here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../', import.meta.url));
const kzrBin = join(repo, 'packages/cli/bin/kzr.js');

describe('the README recipe', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-recipe-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function kzr(...args: string[]): Promise<string[]> {
    const { stdout } = await run(process.execPath, [kzrBin, ...args], {
      cwd: dir,
      env: { ...process.env, KZR_TF_BACKEND: 'wasm' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim().split('\n');
  }

  it('runs synth -> crops -> split -> train -> predict as written', async () => {
    await kzr(
      ...['data', 'synth', '--books', '3', '--holdout-books', '1', '--pages-per-book', '1', '--classes', '6'],
      ...['--seed', '7', '--page-width', '600', '--page-height', '800', '--glyph-size', '40', '--out', 's6'],
    );
    await kzr(
      ...['preprocess', 'crops', '--labels', 's6/train.csv', '--images', 's6/train_images'],
      ...['--out', 's6/crops', '--policy', 'train'],
    );
    const [split] = await kzr(
      ...['data', 'split', '--labels', 's6/train.csv', '--val-book', '900000003', '--seed', '0'],
      ...['--crop-root', 'crops', '--out', 's6'],
    );
    const rows = (JSON.parse(split!) as { rows: { heldOut: number } }).rows;
    assert.ok(rows.heldOut > 0);
    const trained = await kzr(
      ...['train', '--config', join(repo, 'configs/models/tiny-resnet-gray32.json')],
      ...['--train', 's6/train_900000003.csv', '--val', 's6/heldout_900000003.csv', '--out', 'out6'],
      ...['--epochs', '1', '--workers', '1'],
    );
    assert.equal((JSON.parse(trained.at(-1)!) as { type: string }).type, 'done');
    const predicted = await kzr('predict', '--model', 'out6/best', '--crops', 's6/heldout_900000003.csv');
    // One line per held-out crop, named by its path in the crop list.
    const listed = (await readFile(join(dir, 's6/heldout_900000003.csv'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.slice(l.indexOf(',') + 1));
    assert.equal(listed.length, rows.heldOut);
    assert.deepEqual(
      predicted.map((l) => (JSON.parse(l) as { crop: string }).crop),
      listed,
    );
  });
});
