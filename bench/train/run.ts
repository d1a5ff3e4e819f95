/**
 * bench/train: training and inference images/s of the same tiny ResNet (configs/models/
 * tiny-resnet-gray32.json: same parameter count, batch and input size) in kzr (tfjs wasm with
 * the composite kernels: a bare training step on one thread, and the real `train()` loop with
 * augmentation and `--threads` data-parallel workers) and in PyTorch on the CPU (Debian
 * python3-torch) with the same thread count, in one run; prints the ratios. Inference is timed
 * twice for kzr: tfjs (wasm) and the serving engine (the same weights exported to ONNX, run by
 * ONNX Runtime on `--threads` threads, as the inference service does).
 *
 *   npx tsx bench/train/run.ts [--batch 32] [--steps 10] [--threads 1] [--python /usr/bin/python3]
 *
 * Needs `apt-get install -y python3-torch`. Floors (issue 6): 0.2× PyTorch for training and 0.6×
 * for inference; goals 0.35× and 1.0×.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createOnnxEngine } from '@kzr/inference';
import * as tf from '@tensorflow/tfjs';
import { countParams, directoryStorage, exportClassifierToOnnx, readModelConfig, train } from '@kzr/ml';

import { bareTrainingStep, tinyResNetConfigPath } from './bare-step.js';

const { values: flags } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const batch = Number(flags.batch);
const steps = Number(flags.steps);
const threads = Number(flags.threads);

interface KzrResult {
  params: number;
  trainImagesPerSecond: number;
  /** tfjs (wasm, one thread, batch norm folded). */
  inferImagesPerSecond: number;
  /** The serving engine: the same weights exported to ONNX, run by ONNX Runtime on `--threads`. */
  onnxInferImagesPerSecond: number;
}

/** Images/s of ONNX Runtime on the exported model, as kzr's inference service runs it. */
async function onnxInference(model: Parameters<typeof exportClassifierToOnnx>[0], x: tf.Tensor4D): Promise<number> {
  const [rows, side, , channels] = x.shape;
  const engine = await createOnnxEngine({
    model: await exportClassifierToOnnx(model),
    side,
    channels,
    intraOpThreads: threads,
  });
  try {
    const input = (await x.data()) as Float32Array;
    await engine.run(input, rows);
    const start = performance.now();
    for (let i = 0; i < steps; i++) await engine.run(input, rows);
    return (rows * steps) / ((performance.now() - start) / 1000);
  } finally {
    await engine.dispose();
  }
}

async function kzr(): Promise<KzrResult> {
  const { model, x, step, dispose } = await bareTrainingStep(batch);
  let start = 0;
  for (let i = 0; i <= steps; i++) {
    if (i === 1) start = performance.now();
    await step();
  }
  const trainImagesPerSecond = (batch * steps) / ((performance.now() - start) / 1000);
  const infer = async (): Promise<void> => {
    const y = tf.tidy(() => model.logits(x, { training: false, updates: [] }));
    await y.data();
    y.dispose();
  };
  await infer();
  start = performance.now();
  for (let i = 0; i < steps; i++) await infer();
  const inferImagesPerSecond = (batch * steps) / ((performance.now() - start) / 1000);
  const onnxInferImagesPerSecond = await onnxInference(model, x);
  const params = countParams(model).totalParams;
  dispose();
  return { params, trainImagesPerSecond, inferImagesPerSecond, onnxInferImagesPerSecond };
}

/**
 * Images/s of the real `train()` loop (augmentation, data-parallel workers) over one epoch of
 * `steps + 1` iterations, timed from the end of iteration 0 to the end of the last iteration
 * (the epoch-end validation, checkpoint and report files are per-epoch work, not per image).
 */
async function kzrTrainLoop(workers: number): Promise<number> {
  const config = await readModelConfig(tinyResNetConfigPath);
  const crops = Array.from({ length: batch * (steps + 1) }, (_, i) => ({
    image: { width: 36, height: 36, channels: 1, data: new Uint8Array(36 * 36).map((_, j) => (i * 31 + j * 7) % 251) },
    label: `U+${(0x3042 + (i % 40)).toString(16).toUpperCase()}`,
    book: '',
    pseudo: false,
  }));
  const dir = mkdtempSync(join(tmpdir(), 'kzr-bench-train-'));
  let started = 0;
  let ended = 0;
  let images = 0;
  try {
    await train({
      config,
      train: crops,
      val: crops.slice(0, batch),
      storage: directoryStorage(dir),
      epochs: 1,
      workers,
      onIteration: (info) => {
        if (info.iter === 0) started = performance.now();
        else images += batch;
        ended = performance.now();
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return images / ((ended - started) / 1000);
}

const ours = await kzr();
const loop = await kzrTrainLoop(threads);
let torch: { params: number; trainImagesPerSecond: number; inferImagesPerSecond: number; torch: string } | undefined;
try {
  const out = execFileSync(
    flags.python!,
    [
      fileURLToPath(new URL('torch_bench.py', import.meta.url)),
      JSON.stringify({ batch, size: 32, classes: 40, steps, threads }),
    ],
    { encoding: 'utf8' },
  );
  torch = JSON.parse(out.trim().split('\n').pop()!) as typeof torch;
} catch (err) {
  console.error(
    `PyTorch reference unavailable (apt-get install -y python3-torch): ${(err as Error).message.split('\n')[0]}`,
  );
}
const report = {
  batch,
  threads,
  kzr: { ...ours, trainLoopImagesPerSecond: loop, trainLoopWorkers: threads },
  pytorch: torch ?? null,
  ratios: torch
    ? {
        train: ours.trainImagesPerSecond / torch.trainImagesPerSecond,
        trainLoop: loop / torch.trainImagesPerSecond,
        infer: ours.inferImagesPerSecond / torch.inferImagesPerSecond,
        inferOnnx: ours.onnxInferImagesPerSecond / torch.inferImagesPerSecond,
        sameParams: ours.params === torch.params,
      }
    : null,
};
console.log(JSON.stringify(report, null, 2));
