/**
 * `kzr predict --model <checkpoint dir> --crops <shards|csv|dir of images> [--view centre|tta]
 * [--batch <n>]`: classifies crops with one trained model through ml's predictor (the same view
 * inputs as training validation and the inference service; `tta`, the default, is the 7-crop
 * mean of logits, `centre` the centre view alone) and prints one JSON line per crop:
 * `{"crop", "label", "probability", "top5": [{label, probability}…]}`. `crop` is the image's
 * file name, the path as the CSV lists it, or the record's index in a shard dataset.
 * `<checkpoint dir>` is a `kzr train` checkpoint such as `<out>/best` or `<out>/epoch-0003`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

import { decodeImage, type RawImage } from '@kzr/imaging';
import { directoryStorage, initBackend, loadCrops, parseView, Predictor, View } from '@kzr/ml';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './predict.usage.js';

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp']);

async function readCrops(path: string): Promise<Array<{ name: string; image: RawImage }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError('--crops', `${path} does not exist`);
  if (info.isDirectory()) {
    const isDataset =
      (await stat(join(path, 'index.json')).catch(() => undefined)) ??
      (await stat(join(path, 'crops.csv')).catch(() => undefined));
    if (!isDataset) {
      const names = (await readdir(path)).filter((n) => imageExtensions.has(extname(n).toLowerCase())).sort();
      if (names.length === 0) throw new UsageError('--crops', `${path} holds no images`);
      return Promise.all(
        names.map(async (name) => ({ name, image: await decodeImage(await readFile(join(path, name))) })),
      );
    }
  }
  const crops = await loadCrops(path, '--crops');
  return crops.map((c, i) => ({ name: c.path ?? `${i}`, image: c.image }));
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const modelPath = requireFlag(values, 'model');
  const view = parseView(typeof values.view === 'string' ? values.view : View.Tta, '--view');
  const crops = await readCrops(requireFlag(values, 'crops'));
  const batchSize = intFlag(values, 'batch', 128, 1, 4096);
  if (!(await stat(join(modelPath, 'state.json')).catch(() => undefined))) {
    throw new UsageError('--model', `${modelPath} is not a kzr checkpoint (no state.json)`);
  }
  await initBackend({ log: (message) => process.stderr.write(`kzr: ${message}\n`) });
  const predictor = await Predictor.load(directoryStorage(dirname(modelPath)), basename(modelPath));
  try {
    const predictions = await predictor.predict(
      crops.map((c) => c.image),
      { batchSize, topK: 5, view },
    );
    predictions.forEach((p, i) => {
      printJson({ crop: crops[i]!.name, label: p.label, probability: p.probability, top5: p.top });
    });
  } finally {
    predictor.dispose();
  }
  return 0;
}
