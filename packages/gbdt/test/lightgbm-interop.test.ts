import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { sharedData } from './fixtures.js';
import { syntheticTable } from '../src/internal.js';
import { formatModel, predict, resolveParams, train } from '../src/index.js';

// Python LightGBM is optional (CI has none): set KZR_LIGHTGBM_PYTHONPATH to a folder holding it
// (e.g. `pip install --target /tmp/lgbpy lightgbm==4.7.0`), or have it importable by python3.
const python = process.env.KZR_PYTHON ?? 'python3';
const env = { ...process.env, PYTHONPATH: process.env.KZR_LIGHTGBM_PYTHONPATH ?? process.env.PYTHONPATH ?? '' };
const probe = spawnSync(python, ['-c', 'import lightgbm, numpy'], { env });
const skip = probe.status === 0 ? false : 'Python LightGBM is not installed (set KZR_LIGHTGBM_PYTHONPATH)';

describe('LightGBM interoperability', { skip }, () => {
  it('LightGBM itself loads a kzr-written model.txt and predicts what kzr predicts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kzr-lgb-'));
    try {
      const data = syntheticTable(1500, 6, 31);
      const { booster } = train(
        data,
        resolveParams({
          num_iterations: 20,
          bagging_fraction: 0.8,
          bagging_freq: 1,
          feature_fraction: 0.7,
          lambda_l1: 0.1,
        }),
      );
      writeFileSync(join(dir, 'model.txt'), formatModel(booster));
      writeFileSync(join(dir, 'x.f64'), data.features.values);
      const out = execFileSync(
        python,
        [
          '-c',
          [
            'import sys, lightgbm as lgb, numpy as np',
            'b = lgb.Booster(model_file=sys.argv[1])',
            'x = np.fromfile(sys.argv[2], dtype="<f8").reshape(-1, 6)',
            'print(b.num_trees()); print("\\n".join(repr(float(v)) for v in b.predict(x)))',
          ].join('\n'),
          join(dir, 'model.txt'),
          join(dir, 'x.f64'),
        ],
        { env, encoding: 'utf8', maxBuffer: 16 << 20 },
      );
      const [trees, ...lines] = out.trim().split('\n');
      assert.equal(Number(trees), 20);
      const ours = predict(booster, data.features);
      let maxDiff = 0;
      lines.forEach((line, i) => (maxDiff = Math.max(maxDiff, Math.abs(Number(line) - ours[i]!))));
      assert.equal(lines.length, ours.length);
      assert.ok(maxDiff <= 1e-12, `max |diff| ${maxDiff}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the fixture model (the Python LightGBM found here works)', () => {
    const out = execFileSync(
      python,
      [
        '-c',
        `import lightgbm as lgb; print(lgb.Booster(model_file=${JSON.stringify(sharedData('lightgbm/model.txt'))}).num_trees())`,
      ],
      { env, encoding: 'utf8' },
    );
    assert.equal(Number(out.trim()), 60);
  });
});
