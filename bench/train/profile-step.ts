/**
 * Kernel-level profile of one bare training step of the tiny ResNet on wasm (tf.profile):
 * milliseconds per kernel name, summed, largest first.
 *
 *   npx tsx bench/train/profile-step.ts [--batch 32] [--steps 5]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs';
import { applyBatchNormUpdates, createClassifier, initBackend, readModelConfig, Sgd, softCrossEntropy } from '@kzr/ml';

const { values: flags } = parseArgs({
  options: { batch: { type: 'string', default: '32' }, steps: { type: 'string', default: '5' } },
});
const batch = Number(flags.batch);
const steps = Number(flags.steps);
await initBackend({ backend: 'wasm' });
const config = await readModelConfig(
  fileURLToPath(new URL('../../configs/models/tiny-resnet-gray32.json', import.meta.url)),
);
const model = createClassifier(config.model);
const vars = model.params.trainable();
const sgd = new Sgd(vars, { momentum: 0.9, weightDecay: 1e-4 });
const c = config.input.trainCrop;
const k = config.model.numClasses;
const x = tf.randomNormal([batch, c, c, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const t = tf.oneHot(tf.randomUniform([batch], 0, k, 'int32', 2) as tf.Tensor1D, k).toFloat() as tf.Tensor2D;
async function step(): Promise<void> {
  const ctx = { training: true, updates: [] as Array<[tf.Variable, tf.Tensor]> };
  const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t), vars);
  await value.data();
  sgd.step(
    vars.map((v) => grads[v.name]!),
    0.01,
  );
  applyBatchNormUpdates(ctx);
  tf.dispose([value, ...Object.values(grads)]);
}
await step();
let start = performance.now();
for (let i = 0; i < steps; i++) await step();
const plainMs = (performance.now() - start) / steps;
const byKernel = new Map<string, { ms: number; calls: number }>();
start = performance.now();
const info = await tf.profile(async () => {
  for (let i = 0; i < steps; i++) await step();
});
const profiledMs = (performance.now() - start) / steps;
for (const kinfo of info.kernels) {
  const ms = typeof kinfo.kernelTimeMs === 'number' ? kinfo.kernelTimeMs : 0;
  const e = byKernel.get(kinfo.name) ?? { ms: 0, calls: 0 };
  e.ms += ms / steps;
  e.calls += 1 / steps;
  byKernel.set(kinfo.name, e);
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `step ${plainMs.toFixed(1)} ms (${((batch * 1000) / plainMs).toFixed(0)} img/s); profiled ${profiledMs.toFixed(1)} ms, kernels ${total.toFixed(1)} ms`,
);
for (const [name, e] of rows)
  console.log(`${name.padEnd(36)} ${e.ms.toFixed(2).padStart(8)} ms ${e.calls.toFixed(0).padStart(5)} calls`);
