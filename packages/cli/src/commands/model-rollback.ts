/**
 * `kzr model rollback --model-set <s>`: serve again the version served before the last
 * promotion and announce it; prints the promotion record.
 */
import { checkSegment, rollbackVersion } from '@kzr/artifacts';

import { parseCommand, requireFlag } from '../args.js';
import { changeServedVersion } from './model-serving.js';
import { usage } from './model-rollback.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const modelSet = checkSegment('--model-set', requireFlag(values, 'model-set'));
  return changeServedVersion(modelSet, (store) => rollbackVersion(store, modelSet));
}
