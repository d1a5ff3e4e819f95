/**
 * `kzr model export-onnx <checkpoint dir> <out.onnx>`: writes a `kzr train` checkpoint as an
 * ONNX model (batch norm folded, grouped / depthwise convolutions as `group`, the cosine head),
 * input `input` NCHW float32 normalised pixels, output `logits`. The class list and input spec
 * go into the model's metadata (`kzr.classes`, `kzr.input`). Before writing, ONNX Runtime runs
 * the exported model against tfjs on the same seeded input and the largest logit difference is
 * printed with the result (it must stay under 1e-4).
 */
import { createHash } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { loadCheckpointMember } from '@kzr/artifacts';
import { onnxParity } from '@kzr/inference';
import { exportClassifierToOnnx, initBackend } from '@kzr/ml';

import { parseCommand, printJson, UsageError } from '../args.js';
import { usage } from './model-export-onnx.usage.js';

/** Largest tolerated |tfjs − ONNX Runtime| logit difference. */
const parityTolerance = 1e-4;

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  const [dir, out, ...extra] = positionals;
  if (dir === undefined || out === undefined || extra.length > 0) {
    throw new UsageError('arguments', 'expected <checkpoint dir> <out.onnx>');
  }
  if (!(await stat(join(dir, 'state.json')).catch(() => undefined))) {
    throw new UsageError('<checkpoint dir>', `${dir} is not a kzr checkpoint (no state.json)`);
  }
  await initBackend({ log: (message) => process.stderr.write(`kzr: ${message}\n`) });
  const member = await loadCheckpointMember(dir);
  try {
    const { model, input } = member;
    const bytes = await exportClassifierToOnnx(model, {
      inputSize: input.cropSize,
      metadata: { 'kzr.classes': JSON.stringify(member.classes), 'kzr.input': JSON.stringify(input) },
    });
    const maxDiff = await onnxParity(model, bytes, input.cropSize);
    if (!(maxDiff < parityTolerance)) {
      process.stderr.write(`kzr: ONNX logits differ from tfjs by ${maxDiff}; not written\n`);
      return 1;
    }
    await writeFile(out, bytes);
    printJson({
      out,
      arch: model.config.arch,
      numClasses: member.classes.length,
      input,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      maxLogitDiff: maxDiff,
    });
    return 0;
  } finally {
    member.model.dispose();
  }
}
