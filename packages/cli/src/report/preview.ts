/**
 * The augmentation preview: a grid of training crops as the model's training augmentation
 * draws them (ml's `prepareTrainBatch`, the config's seed, epoch 0), de-normalised to pixels.
 * `kzr train --preview` writes it to a file; the run report shows it.
 */
import { createRawImage, encodePng } from '@kzr/imaging';
import { classList, type LabelledCrop, type ModelConfig, prepareTrainBatch } from '@kzr/ml';

/** A PNG grid of the first `count` of `crops` (at most all of them), augmented for training. */
export async function augmentationPreview(
  config: ModelConfig,
  crops: readonly LabelledCrop[],
  count: number,
): Promise<Buffer> {
  const classes = classList(crops);
  const index = new Map(classes.map((c, i) => [c, i]));
  const labels = crops.map((c) => index.get(c.label)!);
  const n = Math.min(count, crops.length);
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const batch = prepareTrainBatch(config, crops, labels, classes.length, indices, config.train.seed, 0);
  const c = config.input.trainCrop;
  const ch = config.model.inputChannels;
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const gap = 2;
  const grid = createRawImage(cols * (c + gap), rows * (c + gap), 3);
  grid.data.fill(128);
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * (c + gap);
    const oy = Math.floor(k / cols) * (c + gap);
    for (let y = 0; y < c; y++) {
      for (let x = 0; x < c; x++) {
        for (let o = 0; o < 3; o++) {
          const ci = ch === 1 ? 0 : o;
          const v = batch.x[k * c * c * ch + (y * c + x) * ch + ci]! * config.input.std[ci]! + config.input.mean[ci]!;
          grid.data[((oy + y) * grid.width + ox + x) * 3 + o] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
  }
  return encodePng(grid);
}
