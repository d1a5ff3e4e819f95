/**
 * `kzr train --config <c> --train <crops> --val <crops> --out <dir> [--resume] [--preview <n>]
 * [--epochs <n>] [--refine-lr <lr>] [--workers <n>]`: trains one model configuration; `--epochs`
 * scales the configured schedule (warmup, milestones, cosine length) to n epochs and says so in a
 * `{"type":"schedule"}` line; `--workers`
 * data-parallel shards (default: every core on the single-threaded wasm / cpu backends, else 1). `<crops>` is a shard
 * directory (index.json + shard-NNNNN.bin) or a `label,path` CSV. Checkpoints, metrics.jsonl,
 * confusion.json and curve.png go to `<out>`. Progress: a bar on a TTY (stderr), JSON lines on
 * stdout otherwise (`{"type":"iteration",…}`, `{"type":"epoch",…}`, then `{"type":"done",…}`;
 * epochs and iterations count from 1).
 * `--store` writes into the configured platform Store (`KZR_STORE`, filesystem under the data
 * dir by default) with `<out>` as the key prefix (`runs/<run>/<phase>/<model>`) instead of a folder.
 * `--preview <n>` writes `<out>/preview.png`, a grid of n augmented training samples, and exits.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { checkRelativeKey, storeCheckpointStorage } from '@kzr/artifacts';
import { openStore } from '@kzr/platform';
import {
  directoryStorage,
  initBackend,
  isNonFiniteLossError,
  loadCrops,
  readModelConfig,
  scaleSchedule,
  train,
  type IterationInfo,
  type ModelConfig,
  type LabelledCrop,
} from '@kzr/ml';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './train.usage.js';
import { compileEmbeddedConfig } from '../config.js';
import { augmentationPreview } from '../report/preview.js';

async function writePreview(
  config: ModelConfig,
  crops: readonly LabelledCrop[],
  count: number,
  out: string,
): Promise<string> {
  await mkdir(out, { recursive: true });
  const path = join(out, 'preview.png');
  await writeFile(path, await augmentationPreview(config, crops, count));
  return path;
}

function progressBar(info: IterationInfo): string {
  const done = info.iter / info.itersPerEpoch;
  const width = 24;
  const filled = Math.round(done * width);
  const remainingIters = (info.epochs - info.epoch) * info.itersPerEpoch + (info.itersPerEpoch - info.iter);
  const etaS = info.imagesPerSecond > 0 ? Math.round((remainingIters * info.batchSize) / info.imagesPerSecond) : 0;
  return (
    `\repoch ${info.epoch}/${info.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
    `${info.imagesPerSecond.toFixed(1)} img/s loss ${info.loss.toFixed(4)} lr ${info.lr.toExponential(2)} ETA ${etaS}s   `
  );
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const configPath = requireFlag(values, 'config');
  const trainPath = requireFlag(values, 'train');
  const out = requireFlag(values, 'out');
  // With --store, <out> is a key prefix (`runs/<run>/<phase>/<model>`): checked before anything loads.
  if (values['store'] === true) checkRelativeKey('--out', out.replace(/\/+$/, ''));
  const config = await readModelConfig(configPath);
  const trainCrops = await loadCrops(trainPath, '--train');
  if (values['preview'] !== undefined) {
    const n = intFlag(values, 'preview', 16, 1, 4096);
    printJson({ preview: await writePreview(config, trainCrops, n, out) });
    return 0;
  }
  const valCrops = await loadCrops(requireFlag(values, 'val'), '--val');
  const epochs = values['epochs'] === undefined ? undefined : intFlag(values, 'epochs', 1, 1, 100000);
  let refine: { lr: number } | undefined;
  if (values['refine-lr'] !== undefined) {
    const lr = Number(values['refine-lr']);
    if (!Number.isFinite(lr) || lr <= 0)
      throw new UsageError('--refine-lr', `expected a positive number, got ${String(values['refine-lr'])}`);
    refine = { lr };
  }
  if (epochs !== undefined && epochs !== config.train.epochs) {
    const scaled = scaleSchedule(config.train, epochs);
    printJson({
      type: 'schedule',
      note: `--epochs ${epochs} scales the configured ${config.train.epochs}-epoch schedule by ${epochs}/${config.train.epochs}`,
      epochs,
      warmupEpochs: scaled.warmupEpochs,
      schedule: scaled.schedule,
    });
  }
  const backend = await initBackend({ log: (message) => process.stderr.write(`kzr: ${message}\n`) });
  // Single-threaded backends (wasm, cpu) use every core through data-parallel worker threads.
  const singleThreaded = backend.name === 'wasm' || backend.name === 'cpu';
  const workers = intFlag(values, 'workers', singleThreaded ? availableParallelism() : 1, 1, 256);
  const opened =
    values['store'] === true ? await openStore(compileEmbeddedConfig(process.env).adapters.store) : undefined;
  const storage = opened ? storeCheckpointStorage(opened, out) : directoryStorage(out);
  const tty = process.stderr.isTTY === true;
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let lastEpochIters = 0;
  try {
    const result = await train({
      config,
      train: trainCrops,
      val: valCrops,
      storage,
      resume: values['resume'] === true,
      workers,
      backend: backend.name,
      ...(epochs === undefined ? {} : { epochs }),
      ...(refine === undefined ? {} : { refine }),
      signal: controller.signal,
      onIteration: (info) => {
        lastEpochIters = info.itersPerEpoch;
        if (tty) process.stderr.write(progressBar(info));
        else printJson({ type: 'iteration', ...info });
      },
      onEpoch: (metrics) => {
        if (tty) process.stderr.write('\n');
        printJson({ type: 'epoch', ...metrics, itersPerEpoch: lastEpochIters });
      },
    });
    printJson({ type: 'done', backend: backend.name, workers, best: result.best, classes: result.classes.length, out });
    return 0;
  } catch (err) {
    if (isNonFiniteLossError(err)) {
      process.stderr.write(`kzr: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await opened?.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
