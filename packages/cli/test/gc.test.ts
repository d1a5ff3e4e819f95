/** `kzr gc` on the embedded filesystem Store: a dry run prints what the real one removes. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { listModelSetVersions, listRuns, publishModelSet, writeRunRecord } from '@kzr/artifacts';
import { parseRunSpec } from '@kzr/pipeline';
import { FsStore } from '@kzr/platform';

import { runKzr, tempDir } from './kzr-cli.js';

const spec = parseRunSpec({
  schemaVersion: 1,
  dataset: { name: 'd1' },
  models: [{ name: 'm0', config: { model: { arch: 'resnet18' } }, split: 'a' }],
  split: { seed: 1, splits: [{ name: 'a', valBook: '900000003' }], testBooks: ['900000004'] },
});

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('kzr gc', () => {
  it('prints what it removes as JSON lines, the same in a dry run, which removes nothing', async (t) => {
    const dataDir = await tempDir(t);
    {
      await using store = await FsStore.open({ root: join(dataDir, 'store') });
      // Two cancelled runs and two versions of a set, an hour apart.
      for (const [i, run] of ['r-old', 'r-new'].entries()) {
        const at = new Date(Date.now() - (2 - i) * 3_600_000).toISOString();
        await writeRunRecord(store, {
          schemaVersion: 1,
          run,
          createdAt: at,
          spec,
          external: { dataset: '0'.repeat(64) },
          events: [{ type: 'cancel-requested', reason: 'test', at }],
        });
        await publishModelSet(store, {
          modelSet: 'ks',
          version: `v${i + 1}`,
          codes: ['U+3042', 'U+3044'],
          members: [
            {
              name: 'm',
              kind: 'onnx',
              onnx: Uint8Array.of(1, 2, 3),
              input: { channels: 1, scaleSize: 8, cropSize: 8, mean: [0.5], std: [0.25] },
            },
          ],
          createdAt: new Date(at),
        });
      }
    }
    const env = { KZR_DATA_DIR: dataDir, KZR_STORE: 'fs' };
    const args = ['gc', '--keep-runs', '1', '--keep-versions', '1'];
    const dry = await runKzr([...args, '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const real = await runKzr(args, env);
    assert.equal(real.code, 0, real.stderr);
    const lines = jsonLines(real.stdout);
    assert.deepEqual(
      lines.map((l) => [l['type'], l['run'] ?? l['version'] ?? l['dryRun']]),
      [
        ['run', 'r-old'],
        ['model-version', 'v1'],
        ['gc', false],
      ],
    );
    assert.deepEqual(lines.at(-1), {
      type: 'gc',
      dryRun: false,
      runs: 1,
      cacheEntries: 0,
      modelVersions: 1,
      staging: 0,
      objects: (lines[0]!['objects'] as number) + (lines[1]!['objects'] as number),
      bytes: (lines[0]!['bytes'] as number) + (lines[1]!['bytes'] as number),
      held: [],
    });
    assert.deepEqual(jsonLines(dry.stdout), [...lines.slice(0, -1), { ...lines.at(-1), dryRun: true }]);
    await using store = await FsStore.open({ root: join(dataDir, 'store') });
    assert.deepEqual(await listRuns(store), ['r-new']);
    assert.deepEqual(
      (await listModelSetVersions(store)).map((v) => v.version),
      ['v2'],
    );

    const bad = await runKzr(['gc', '--keep-runs', '-1'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^kzr: --keep-runs: expected an integer in \[0, \d+\], got "-1"\n$/);
  });
});
