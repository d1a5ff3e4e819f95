/**
 * `kzr model promote --model-set <s> --version <v>`: serve a published version of a set (pinned:
 * later publications are stored but not served until promoted) and announce it, so running
 * inference services swap to it; prints the promotion record.
 */
import { checkSegment, promoteVersion } from '@kzr/artifacts';

import { parseCommand, requireFlag } from '../args.js';
import { changeServedVersion } from './model-serving.js';
import { usage } from './model-promote.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const modelSet = checkSegment('--model-set', requireFlag(values, 'model-set'));
  const version = checkSegment('--version', requireFlag(values, 'version'));
  return changeServedVersion(modelSet, (store) => promoteVersion(store, modelSet, version));
}
