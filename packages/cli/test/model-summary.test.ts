import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const kzr = `${repo}packages/cli/bin/kzr.js`;

describe('kzr model summary', () => {
  it('prints the backbone and total parameter counts of a config as JSON', async () => {
    const { stdout } = await run(
      process.execPath,
      [kzr, 'model', 'summary', `${repo}configs/models/tiny-resnet-gray32.json`],
      {
        env: { ...process.env, KZR_TF_BACKEND: 'cpu' },
      },
    );
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(summary['arch'], 'resnet18');
    assert.equal(summary['inputChannels'], 1);
    assert.equal(summary['headParams'], (summary['featureDim'] as number) * 40);
    assert.equal(summary['totalParams'], (summary['backboneParams'] as number) + (summary['headParams'] as number));
  });

  it('exits 2 naming the field of an invalid config', async () => {
    await assert.rejects(
      run(process.execPath, [kzr, 'model', 'summary', `${repo}configs/models/README.md`]),
      (err: { code: number; stderr: string }) =>
        err.code === 2 && /config/.test(err.stderr) && /not valid JSON/.test(err.stderr),
    );
  });
});
