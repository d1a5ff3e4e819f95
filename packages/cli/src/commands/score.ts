/**
 * `kzr score --truth <train.csv> --pred <submission.csv> [--submitted-only]`: the Kaggle micro F1
 * of predictions against labelled pages, `{"f1", "precision", "recall", "tp", "fp", "fn", "pages"}`.
 * The predictions are a submission CSV (`U+XXXX cx cy`) or labelled rows as in train.csv
 * (`U+XXXX x y w h`, scored by the box centres). Every truth page counts: a page the predictions
 * lack is all misses, and a warning on stderr says how many there are; `--submitted-only` scores
 * only the truth pages the predictions have a row for. Predictions for pages absent from the
 * truth are ignored.
 */
import { ParseError, parseSubmissionCsv, parseTrainCsv, scoreSubmission, type PagePredictions } from '@kzr/core';

import { parseCommand, printJson, requireFlag } from '../args.js';
import { readTextInput } from './read-text.js';
import { usage } from './score.usage.js';

/** A submission CSV, or else labelled rows read as their box centres; the submission's error when neither parses. */
function parsePredictions(text: string, file: string): PagePredictions[] {
  try {
    return parseSubmissionCsv(text, file);
  } catch (err) {
    if (!ParseError.is(err)) throw err;
    try {
      return parseTrainCsv(text, file).map((page) => ({
        pageId: page.pageId,
        points: page.labels.map((c) => ({ code: c.code, x: c.x + c.width / 2, y: c.y + c.height / 2 })),
      }));
    } catch {
      throw err;
    }
  }
}

/** Runs the command; malformed CSVs exit 2 naming file, line and field. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const truthFile = requireFlag(values, 'truth');
  const predFile = requireFlag(values, 'pred');
  const truth = parseTrainCsv(await readTextInput(truthFile, '--truth'), truthFile);
  const pred = parsePredictions(await readTextInput(predFile, '--pred'), predFile);
  const submitted = new Set(pred.map((p) => p.pageId));
  const missing = truth.filter((page) => !submitted.has(page.pageId)).length;
  const submittedOnly = values['submitted-only'] === true;
  if (missing > 0 && !submittedOnly) {
    process.stderr.write(
      `kzr: warning: ${missing} of ${truth.length} truth pages have no row in ${predFile} and count as misses ` +
        '(--submitted-only scores only the pages it has)\n',
    );
  }
  const scored = submittedOnly ? truth.filter((page) => submitted.has(page.pageId)) : truth;
  const s = scoreSubmission(scored, pred);
  printJson({ f1: s.f1, precision: s.precision, recall: s.recall, tp: s.tp, fp: s.fp, fn: s.fn, pages: scored.length });
  return 0;
}
