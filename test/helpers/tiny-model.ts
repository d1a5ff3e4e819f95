// Test helper: the `kzr` command as a child process, and a tiny classifier trained with
// `kzr train` on synthetic crops (a few seconds on two cores; accuracy well above chance).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { SyntheticCrops } from './synthetic-crops.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const kzrBin = fileURLToPath(new URL('../../packages/cli/bin/kzr.js', import.meta.url));

export interface KzrResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kzr args...` with `env`; resolves with its exit code and output. */
export function kzr(env: NodeJS.ProcessEnv, ...args: string[]): Promise<KzrResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [kzrBin, ...args],
      { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Trains a compact one-channel ResNet-18 (2 epochs) on `crops`; returns its best checkpoint's directory. */
export async function trainTinyModel(
  dir: string,
  crops: SyntheticCrops,
  classes: number,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      name: 'tiny-recognize',
      model: {
        arch: 'resnet18',
        inputChannels: 1,
        numClasses: classes,
        stem: 'compact',
        widthMultiplier: 0.125,
        depthMultiplier: 0.5,
      },
      input: { trainResize: 18, trainCrop: 16, inferResize: 18, inferCrop: 16, mean: [0.5], std: [0.25] },
      augment: { rotationDeg: 3, batchMix: 'none', erasingProb: 0 },
      train: {
        batchSize: 16,
        valBatchSize: 64,
        epochs: 2,
        warmupEpochs: 1,
        schedule: { type: 'cosine', tMaxEpochs: 2, etaMin: 0.001 },
        undersampling: 0,
      },
    }),
  );
  const out = join(dir, 'run');
  const trained = await kzr(
    env,
    'train',
    '--config',
    join(dir, 'config.json'),
    '--train',
    crops.train,
    '--val',
    crops.val,
    '--out',
    out,
  );
  assert.equal(trained.code, 0, trained.stderr);
  return join(out, 'best');
}

/**
 * Publishes the tiny model trained in `dir` (its ONNX export `dir/model.onnx` beside its
 * checkpoint) as version v1 of `modelSet` with `kzr model import-onnx`.
 */
export async function importTinyModel(
  env: NodeJS.ProcessEnv,
  dir: string,
  modelSet: string,
  pagePreprocessing: 'none' | 'ben+denoise',
): Promise<KzrResult> {
  const best = join(dir, 'run', 'best');
  const state = JSON.parse(await readFile(join(best, 'state.json'), 'utf8')) as { classes: string[] };
  await writeFile(join(dir, 'classes.json'), JSON.stringify(state.classes));
  const input = ['--input', '1,18,16', '--mean', '0.5', '--std', '0.25'];
  return kzr(
    env,
    ...['model', 'import-onnx', '--model-set', modelSet, '--version', 'v1', '--classes', join(dir, 'classes.json')],
    ...[...input, '--page-preprocessing', pagePreprocessing, join(dir, 'model.onnx'), best],
  );
}
