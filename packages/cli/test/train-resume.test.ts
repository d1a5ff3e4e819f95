import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { runOutputPrefix } from '@kzr/artifacts';
import { decodeImage, ShardWriter } from '@kzr/imaging';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const kzr = join(repo, 'packages/cli/bin/kzr.js');

interface Line {
  type: string;
  epoch: number;
  iter: number;
  loss: number;
}

/** Writes a shard dataset of `n` random-ish crops over 4 classes (each class a different stripe pattern). */
async function writeDataset(dir: string, n: number, seed: number): Promise<void> {
  const writer = new ShardWriter();
  let s = seed;
  for (let i = 0; i < n; i++) {
    const label = i % 4;
    const w = 14 + (i % 5);
    const h = 16 + (i % 3);
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const stripe = ((label < 2 ? x : y) >> (label % 2)) & 1;
        const v = stripe * 180 + (s >>> 27);
        data.set([v, v, v], (y * w + x) * 3);
      }
    }
    writer.add(
      { width: w, height: h, channels: 3, data },
      { label: `U+304${label}`, page: 'p', book: 'b', box: [0, 0, w, h] },
    );
  }
  const { shard, index } = writer.finish();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, shard!.name), shard!.bytes);
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

function config(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name: 'resume-test',
    model: {
      arch: 'resnet18',
      inputChannels: 1,
      numClasses: 4,
      stem: 'compact',
      widthMultiplier: 0.125,
      depthMultiplier: 0.5,
    },
    input: { trainResize: 18, trainCrop: 16, inferResize: 18, inferCrop: 16, mean: [0.5], std: [0.25] },
    augment: { rotationDeg: 3, batchMix: 'icap', icapProb: 1 },
    train: {
      batchSize: 8,
      valBatchSize: 32,
      epochs: 2,
      warmupEpochs: 1,
      schedule: { type: 'cosine', tMaxEpochs: 2, etaMin: 0.001 },
      undersampling: 12,
      ...overrides,
    },
  });
}

function start(
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  lines: Line[];
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [kzr, 'train', ...args], {
    env: { ...process.env, KZR_TF_BACKEND: 'wasm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, lines, done };
}

describe('kzr train checkpoints', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-train-resume-'));
    await writeDataset(join(dir, 'train'), 72, 1);
    await writeDataset(join(dir, 'val'), 16, 2);
    await writeFile(join(dir, 'config.json'), config());
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes after SIGKILL mid-epoch with per-iteration losses identical to an uninterrupted run (2 workers)', async () => {
    const common = [
      ...['--config', join(dir, 'config.json'), '--train', join(dir, 'train'), '--val', join(dir, 'val')],
      ...['--workers', '2'],
    ];
    // Arrange: an uninterrupted reference run.
    const reference = start([...common, '--out', join(dir, 'a')]);
    const refResult = await reference.done;
    assert.equal(refResult.code, 0, refResult.stderr);
    const refLosses = reference.lines.filter((l) => l.type === 'iteration' && l.epoch === 2).map((l) => l.loss);
    assert.ok(refLosses.length >= 4);

    // Act: kill a second run in the middle of epoch 2, then resume it.
    const killed = start([...common, '--out', join(dir, 'b')]);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (killed.lines.some((l) => l.type === 'iteration' && l.epoch === 2 && l.iter === 3)) {
          clearInterval(timer);
          killed.child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await killed.done;
    const latest = JSON.parse(await readFile(join(dir, 'b', 'latest.json'), 'utf8')) as { epoch: number };
    assert.equal(latest.epoch, 1);
    const resumed = start([...common, '--out', join(dir, 'b'), '--resume']);
    const resumedResult = await resumed.done;
    assert.equal(resumedResult.code, 0, resumedResult.stderr);

    // Assert: the resumed run repeats epoch 2 only, bit for bit.
    const iterations = resumed.lines.filter((l) => l.type === 'iteration');
    assert.ok(iterations.every((l) => l.epoch === 2));
    assert.deepEqual(
      iterations.map((l) => l.loss),
      refLosses,
    );
    const weightsA = await readFile(join(dir, 'a', 'epoch-0002', 'weights.bin'));
    const weightsB = await readFile(join(dir, 'b', 'epoch-0002', 'weights.bin'));
    assert.ok(weightsA.equals(weightsB));
  });

  it('stops on a non-finite loss with a clear error and keeps the last good checkpoint', async () => {
    const out = join(dir, 'nan');
    const common = ['--train', join(dir, 'train'), '--val', join(dir, 'val'), '--out', out, '--workers', '1'];
    const first = start(['--config', join(dir, 'config.json'), ...common, '--epochs', '1']);
    assert.equal((await first.done).code, 0);
    await writeFile(join(dir, 'explode.json'), config({ baseLr: 1e12, warmupEpochs: 0, epochs: 6 }));
    const exploding = start(['--config', join(dir, 'explode.json'), ...common, '--resume']);
    const result = await exploding.done;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /training loss became (NaN|-?Infinity) at epoch \d+, iteration \d+; stopped/);
    const latest = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as { epoch: number; prefix: string };
    assert.ok(latest.epoch >= 1);
    const state = JSON.parse(await readFile(join(out, latest.prefix, 'state.json'), 'utf8')) as {
      history: Array<{ trainLoss: number }>;
    };
    assert.ok(state.history.every((h) => Number.isFinite(h.trainLoss)));
  });

  it('exits 2 naming the flag when a required flag is missing', async () => {
    const run = start(['--config', join(dir, 'config.json'), '--train', join(dir, 'train'), '--val', join(dir, 'val')]);
    const result = await run.done;
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--out/);
  });

  it('--preview writes a grid of n augmented crops without --val and trains nothing', async () => {
    const out = join(dir, 'preview');
    const run = start([
      '--config',
      join(dir, 'config.json'),
      '--train',
      join(dir, 'train'),
      '--out',
      out,
      '--preview',
      '7',
    ]);
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    const path = join(out, 'preview.png');
    assert.deepEqual(run.lines, [{ preview: path }]);
    // 7 crops of the config's 16 px training crop, 2 px apart: 3 columns by 3 rows.
    const png = await readFile(path);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    const grid = await decodeImage(png);
    assert.deepEqual([grid.width, grid.height], [3 * 18, 3 * 18]);
    assert.deepEqual((await readdir(out)).sort(), ['preview.png']);
  });

  it('writes checkpoints into the platform Store with --store and resumes from there', async () => {
    const env = { KZR_DATA_DIR: join(dir, 'data'), KZR_STORE: '', KZR_STORE_DIR: '' };
    const prefix = runOutputPrefix('r1', 'first-train', 'tiny');
    const common = ['--config', join(dir, 'config.json'), '--train', join(dir, 'train'), '--val', join(dir, 'val')];
    const first = start([...common, '--out', prefix, '--store', '--epochs', '1', '--workers', '1'], env);
    assert.equal((await first.done).code, 0);
    const objects = join(dir, 'data', 'store', 'objects', ...prefix.split('/'));
    const state = JSON.parse(await readFile(join(objects, 'epoch-0001', 'state.json'), 'utf8')) as { epoch: number };
    assert.equal(state.epoch, 1);
    // The best epoch is copied to best/, byte for byte.
    for (const file of ['weights.bin', 'optimizer.bin', 'state.json']) {
      assert.deepEqual(
        await readFile(join(objects, 'best', file)),
        await readFile(join(objects, 'epoch-0001', file)),
        file,
      );
    }
    const resumed = start([...common, '--out', prefix, '--store', '--resume', '--workers', '1'], env);
    const result = await resumed.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      resumed.lines.filter((l) => l.type === 'epoch').map((l) => l.epoch),
      [2],
    );
  });
});
