/**
 * Kernel-level profile of one bare training step of the tiny ResNet on wasm (tf.profile):
 * milliseconds per kernel name, summed, largest first.
 *
 *   npx tsx bench/train/profile-step.ts [--batch 32] [--steps 5]
 */
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs';

import { bareTrainingStep } from './bare-step.js';

const { values: flags } = parseArgs({
  options: { batch: { type: 'string', default: '32' }, steps: { type: 'string', default: '5' } },
});
const batch = Number(flags.batch);
const steps = Number(flags.steps);
const { step } = await bareTrainingStep(batch);
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
