import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { syntheticCrops, type SyntheticCrops } from './helpers/synthetic-crops.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../', import.meta.url));
const kzr = join(repo, 'packages/cli/bin/kzr.js');

describe('kzr train accuracy', () => {
  let dir: string;
  let data: SyntheticCrops;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-train-accuracy-'));
    // 3 training books + 1 held-out book in a brush font no training book uses, 10 classes.
    data = await syntheticCrops(dir, { classes: 10, pagesPerBook: 3, seed: 1 });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a tiny ResNet reaches at least 60 % top-1 on the held-out book and predicts with TTA', async (t) => {
    const out = join(dir, 'out');
    const { stdout } = await run(
      process.execPath,
      [
        kzr,
        'train',
        '--config',
        join(repo, 'configs/models/tiny-resnet-gray32.json'),
        '--train',
        data.train,
        '--val',
        data.val,
        '--out',
        out,
        // One worker: the result is then the same on every machine, whatever its core count.
        '--workers',
        '1',
      ],
      { env: { ...process.env, KZR_TF_BACKEND: 'wasm' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = lines.at(-1) as { type: string; best: { valTop1: number; epoch: number }; classes: number };
    assert.equal(done.type, 'done');
    assert.equal(done.classes, 10);
    t.diagnostic(`held-out top-1 ${done.best.valTop1.toFixed(3)} (epoch ${done.best.epoch})`);
    assert.ok(done.best.valTop1 >= 0.6, `held-out top-1 ${done.best.valTop1}`);
    // The reports are written beside the checkpoints.
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(metrics.length, 5);
    const curve = await readFile(join(out, 'curve.png'));
    assert.equal(curve.subarray(1, 4).toString(), 'PNG');
    // The best checkpoint classifies the held-out crops with TTA 7-crop.
    const predicted = await run(process.execPath, [kzr, 'predict', '--model', join(out, 'best'), '--crops', data.val], {
      env: { ...process.env, KZR_TF_BACKEND: 'wasm' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const predictions = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string; top5: unknown[] });
    assert.equal(predictions.length, data.valCount);
    assert.ok(predictions.every((p) => p.label.startsWith('U+') && p.top5.length === 5));
  });
});
