/**
 * `kzr model summary <config>`: builds the configured model and prints its parameter counts as
 * JSON (`backboneParams` excludes the cosine head), counted from the built model's trainable
 * variables.
 */
import { countParams, createClassifier, initBackend, readModelConfig } from '@kzr/ml';

import { parseCommand, printJson, UsageError } from '../args.js';
import { usage } from './model-summary.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0)
    throw new UsageError('<config.json>', 'expected exactly one model config path');
  const config = await readModelConfig(path);
  const backend = await initBackend();
  const model = createClassifier(config.model);
  try {
    printJson({
      name: config.name,
      arch: config.model.arch,
      inputChannels: config.model.inputChannels,
      numClasses: config.model.numClasses,
      featureDim: model.featureDim,
      ...countParams(model),
      backend: backend.name,
    });
  } finally {
    model.dispose();
  }
  return 0;
}
