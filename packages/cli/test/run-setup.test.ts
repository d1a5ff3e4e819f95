/**
 * Creating a run (`@kzr/trainer`'s run-create, the CLI's `runs/run-setup.ts`): specs from presets and files with model configurations
 * inlined, the dataset from a folder, a stored name or the spec's synthetic parameters (generated
 * once, then reused), and the new `run.json`.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { datasetDigest, readRunRecord } from '@kzr/artifacts';
import { generateSyntheticDataset } from '@kzr/data';
import { parseRunSpec } from '@kzr/pipeline';
import { ConflictError, createLogger, FsStore, MemoryBus, ValidationError } from '@kzr/platform';
import { createRun, loadRunSpec, newRunName } from '@kzr/trainer';

import { UsageError } from '../src/args.js';
import { resolveRunDataset } from '../src/runs/run-setup.js';
import { tempDir } from './kzr-cli.js';

const spec = parseRunSpec({
  schemaVersion: 1,
  dataset: { synthetic: { books: 2, holdoutBooks: 1, pagesPerBook: 1, classes: 3, seed: 5 } },
  models: [{ name: 'm1', config: { seed: 1 }, split: 'a' }],
  split: { seed: 1, splits: [{ name: 'a', valBook: '900000001' }], testBooks: ['900000002'] },
});

describe('run setup', () => {
  it('reads a preset or a spec file with its model configurations inlined', async (t) => {
    const smoke = await loadRunSpec({ preset: 'smoke' });
    assert.equal(smoke.preset, 'smoke');
    for (const m of smoke.models) assert.equal((m.config as { name?: unknown }).name, m.name);

    const dir = await tempDir(t, 'kzr-run-spec-');
    await mkdir(join(dir, 'models'));
    await writeFile(join(dir, 'models', 'm.json'), JSON.stringify({ name: 'm', seed: 3 }));
    await writeFile(
      join(dir, 'spec.json'),
      JSON.stringify({ ...spec, models: [{ name: 'm1', config: 'models/m.json', split: 'a' }] }),
    );
    const fromFile = await loadRunSpec({ file: join(dir, 'spec.json') });
    assert.deepEqual(fromFile.models[0]!.config, { name: 'm', seed: 3 });
    assert.equal(fromFile.models[0]!.configPath, 'models/m.json');

    await assert.rejects(loadRunSpec({ preset: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, '--preset');
      return true;
    });
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ ...spec, models: [{ name: 'm1', config: 'x.json', split: 'a' }] }),
    );
    await assert.rejects(loadRunSpec({ file: join(dir, 'bad.json') }), /--spec: model configuration .*x\.json/);
  });

  it('resolves the dataset: generated once then reused, a folder ingested under its name, a stored name', async (t) => {
    const dataDir = await tempDir(t, 'kzr-run-dataset-');
    const store = await FsStore.open({ root: join(dataDir, 'store') });
    const bus = new MemoryBus({ source: 'test', logger: createLogger({ level: 'warn' }) });
    t.after(async () => {
      await bus.close();
      await store.close();
    });
    const options = { store, bus, spec, dataset: undefined, dataDir };

    const generated = await resolveRunDataset(options);
    assert.deepEqual([generated.name, generated.source], ['synth-2x1-h1-c3-s5', 'synthetic']);
    assert.equal(generated.digest, await datasetDigest(store, generated.name));
    const reused = await resolveRunDataset(options);
    assert.deepEqual(reused, { ...generated, source: 'stored' });

    const folder = join(dataDir, 'My Books');
    await generateSyntheticDataset({ outDir: folder, books: 1, pagesPerBook: 1, classes: 2, seed: 9 });
    const ingested = await resolveRunDataset({ ...options, dataset: folder });
    assert.deepEqual([ingested.name, ingested.source, ingested.synthetic], ['my-books', 'folder', undefined]);
    assert.equal(ingested.digest, await datasetDigest(store, 'my-books'));
    const byName = await resolveRunDataset({ ...options, dataset: 'my-books' });
    assert.deepEqual(byName, { ...ingested, source: 'stored' });

    await assert.rejects(resolveRunDataset({ ...options, dataset: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.field, '--dataset');
      assert.match(err.message, /no dataset "nope" in the Store/);
      return true;
    });

    const run = newRunName(new Date('2026-12-07T18:05:09Z'));
    assert.match(run, /^r-20261207-180509-[0-9a-f]{4}$/);
    await createRun(store, run, spec, byName);
    const record = await readRunRecord(store, run);
    assert.deepEqual(record.spec.dataset, { name: 'my-books', synthetic: undefined });
    assert.equal(record.external.dataset, ingested.digest);
    assert.deepEqual(record.events, []);
    await assert.rejects(createRun(store, run, spec, byName), (err: unknown) => err instanceof ConflictError);
  });
});
