// Acceptance of issue 14: one predictor. A tiny model trained on synthetic books classifies 600+
// held-out crops (an unseen font, cut with the inference padding the service uses) the same way
// in training validation, `kzr predict --view centre` and the inference service's tfjs engine;
// ONNX Runtime's logits match tfjs's; and TTA is not worse than the centre view.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { loadCheckpointMember, publishModelSet } from '@kzr/artifacts';
import { PaddingPolicy } from '@kzr/imaging';
import { memberLogits, ModelRegistry } from '@kzr/inference';
import { loadCrops } from '@kzr/ml';
import { FsStore } from '@kzr/platform';

import { syntheticCrops, type SyntheticCrops } from './helpers/synthetic-crops.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../', import.meta.url));
const kzr = join(repo, 'packages/cli/bin/kzr.js');
const env = { ...process.env, KZR_TF_BACKEND: 'wasm' };

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

describe('one predictor from training validation to the served model', () => {
  let dir: string;
  let data: SyntheticCrops;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-served-accuracy-'));
    // 2 training books + 1 held-out book in a brush font, 30 classes: 711 held-out crops.
    data = await syntheticCrops(dir, {
      classes: 30,
      pagesPerBook: 8,
      seed: 3,
      trainBooks: 2,
      valPadding: PaddingPolicy.Infer,
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives every held-out crop the same centre top-1 in validation, kzr predict and the service', async (t) => {
    assert.ok(data.valCount >= 600, `${data.valCount} held-out crops`);
    const out = join(dir, 'out');
    const trained = await run(
      process.execPath,
      [
        kzr,
        'train',
        ...['--config', join(repo, 'configs/models/tiny-resnet-gray32.json')],
        ...['--train', data.train, '--val', data.val, '--out', out],
        // One worker: the same result on every machine, whatever its core count.
        ...['--workers', '1', '--epochs', '3'],
      ],
      { env, maxBuffer: 64 * 1024 * 1024 },
    );
    const lines = trained.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; epoch?: number; valTop1?: number; valTop1Tta?: number });
    const last = lines.filter((l) => l.type === 'epoch').at(-1)!;
    assert.equal(last.epoch, 3);
    const centre = last.valTop1!;
    const tta = last.valTop1Tta!;
    t.diagnostic(
      `held-out top-1 (${data.valCount} crops): centre ${(100 * centre).toFixed(1)} %, TTA ${(100 * tta).toFixed(1)} %`,
    );
    assert.ok(tta >= centre - 0.005, `TTA ${tta} below centre ${centre}`);

    // Training validation's per-crop labels of the last epoch.
    const validation = JSON.parse(await readFile(join(out, 'val-predictions.json'), 'utf8')) as {
      epoch: number;
      labels: string[];
    };
    assert.equal(validation.epoch, 3);
    const checkpoint = join(out, 'epoch-0003');

    // kzr predict --view centre on the same crops and checkpoint.
    const predicted = await run(
      process.execPath,
      [kzr, 'predict', '--model', checkpoint, '--crops', data.val, '--view', 'centre'],
      {
        env,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const predictLabels = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { label: string }).label);
    assert.deepEqual(predictLabels, validation.labels);

    // The inference service's engines, fed the checkpoint published as a model set.
    const crops = (await loadCrops(data.val)).map((c) => c.image);
    const member = await loadCheckpointMember(checkpoint);
    const store = new FsStore({ root: join(dir, 'store') });
    try {
      await publishModelSet(store, {
        modelSet: 'tiny',
        version: 'v1',
        codes: member.classes,
        members: [{ name: 'tiny', kind: 'kzr', model: member.model, input: member.input }],
      });
    } finally {
      member.model.dispose();
    }
    await using tfjs = new ModelRegistry({ store, engine: 'tfjs' });
    await using onnx = new ModelRegistry({ store, engine: 'onnx' });
    const tfjsLogits = (await memberLogits(await tfjs.activate('tiny', 'v1'), crops, false))[0]!;
    const onnxLogits = (await memberLogits(await onnx.activate('tiny', 'v1'), crops, false))[0]!;
    assert.deepEqual(
      tfjsLogits.map((l) => member.classes[argmax(l)]),
      validation.labels,
    );
    let maxDiff = 0;
    tfjsLogits.forEach((l, i) => l.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - onnxLogits[i]![j]!)))));
    t.diagnostic(`max |ONNX − tfjs| logit difference ${maxDiff.toExponential(2)}`);
    assert.ok(maxDiff <= 1e-4, `ONNX logits differ from tfjs by ${maxDiff}`);
    await store.close();
  });
});
