/**
 * `kzr score --truth <train.csv> --pred <submission.csv>`: the Kaggle micro F1 of a submission
 * against labelled pages, `{"f1", "precision", "recall", "tp", "fp", "fn"}`. Every truth page
 * counts; predictions for pages absent from the truth are ignored.
 */
import { parseSubmissionCsv, parseTrainCsv, scoreSubmission } from '@kzr/core';

import { parseCommandArgs, printJson, requireFlag } from '../args.js';
import { readTextInput } from './read-text.js';

/** Runs the command; malformed CSVs exit 2 naming file, line and field. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { truth: { type: 'string' }, pred: { type: 'string' } });
  const truthFile = requireFlag(values, 'truth');
  const predFile = requireFlag(values, 'pred');
  const truth = parseTrainCsv(await readTextInput(truthFile, '--truth'), truthFile);
  const pred = parseSubmissionCsv(await readTextInput(predFile, '--pred'), predFile);
  const s = scoreSubmission(truth, pred);
  printJson({ f1: s.f1, precision: s.precision, recall: s.recall, tp: s.tp, fp: s.fp, fn: s.fn });
  return 0;
}
