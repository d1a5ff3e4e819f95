import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { bookIdOf, createRng, iou, type CharLabel, type PageLabels } from '@kzr/core';
import {
  f1AtThreshold,
  FP_FEATURE_COUNT,
  falsePositiveFeatures,
  mergeDetectionSets,
  tuneThreshold,
  type ClassifiedBox,
  type ClassifiedPage,
} from '@kzr/core/postprocess';
import { generateSyntheticDataset } from '@kzr/data';
import { fitFilterSteps, predictMean } from '@kzr/gbdt';

/**
 * A simulated classifier on the simulated detections: a box that covers a true character well
 * gets its code most of the time; fragments and stray marks get a random code. Probabilities
 * overlap between right and wrong answers, so a threshold on them alone separates them poorly.
 */
function classify(
  truth: readonly CharLabel[],
  detections: ReadonlyArray<{ x: number; y: number; width: number; height: number; score: number }>,
  codes: readonly string[],
  seed: string,
): ClassifiedBox[] {
  const rng = createRng(seed);
  return detections.map((d) => {
    let best = 0;
    let match: CharLabel | undefined;
    for (const t of truth) {
      const overlap = iou(t, d);
      if (overlap > best) {
        best = overlap;
        match = t;
      }
    }
    const good = match !== undefined && best >= 0.5;
    const right = good && rng.next() < 0.92;
    const code = right ? match!.code : codes[rng.int(codes.length)]!;
    const probability = right ? 0.35 + 0.65 * rng.next() : 0.2 + 0.8 * rng.next();
    return { code, probability, score: d.score, x: d.x, y: d.y, width: d.width, height: d.height };
  });
}

describe('false-positive filter end to end on synthetic books', () => {
  it('a filter fitted on two books raises F1 on a third over no filter and over the best probability threshold', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-fp-e2e-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // Arrange: three synthetic books with two simulated detectors, classified and merged by NMS.
    const dataset = await generateSyntheticDataset({
      outDir: join(dir, 'synth'),
      books: 3,
      pagesPerBook: 5,
      classes: 12,
      seed: 20261130,
      pageWidth: 480,
      pageHeight: 640,
      glyphSize: 40,
      jpegQuality: 60,
    });
    const codes = dataset.classes.map((c) => c.code);
    const truthOf = new Map<string, readonly CharLabel[]>(dataset.pages.map((p: PageLabels) => [p.pageId, p.labels]));
    const pages: ClassifiedPage[] = dataset.pages.map((page) => {
      const sets = dataset.detectionSets.map((set, s) => {
        const dets = set.pages.find((p) => p.pageId === page.pageId)!;
        return classify(page.labels, dets.detections, codes, `${page.pageId}/${s}`);
      });
      const size = dataset.detectionSets[0]!.pages.find((p) => p.pageId === page.pageId)!;
      return { pageId: page.pageId, width: size.width, height: size.height, boxes: mergeDetectionSets(sets) };
    });
    const books = dataset.books.map((b) => b.bookId);
    const trainPages = pages.filter((p) => bookIdOf(p.pageId) !== books[2]);
    const testPages = pages.filter((p) => bookIdOf(p.pageId) === books[2]);
    assert.ok(trainPages.length === 10 && testPages.length === 5);

    // Act: fit on books 1 and 2 (5-fold CV, upstream parameters), apply to book 3.
    const steps = fitFilterSteps(trainPages, truthOf, { folds: 5, seed: 7, rounds: 150 });
    let next = steps.next();
    while (next.done !== true) next = steps.next();
    const filter = next.value;
    const scores = testPages.map((page) =>
      predictMean(filter.boosters, {
        numRows: page.boxes.length,
        numFeatures: FP_FEATURE_COUNT,
        values: falsePositiveFeatures(page),
      }),
    );
    const truths = testPages.map((p) => truthOf.get(p.pageId)!);
    const probs = testPages.map((p) => p.boxes.map((b) => b.probability));
    const noFilter = f1AtThreshold(testPages, probs, truths, 0).f1;
    const filtered = f1AtThreshold(testPages, scores, truths, filter.threshold).f1;
    const filteredDefault = f1AtThreshold(testPages, scores, truths, 0.5).f1;
    // The best threshold on the classification probability, tuned on the training books.
    const probThreshold = tuneThreshold(
      trainPages,
      trainPages.map((p) => p.boxes.map((b) => b.probability)),
      trainPages.map((p) => truthOf.get(p.pageId)!),
    ).threshold;
    const probOnly = f1AtThreshold(testPages, probs, truths, probThreshold).f1;
    const probOracle = tuneThreshold(testPages, probs, truths).f1;
    t.diagnostic(
      `F1 book 3: no filter ${noFilter.toFixed(4)}, probability >= ${probThreshold} ${probOnly.toFixed(4)} ` +
        `(best on book 3 itself ${probOracle.toFixed(4)}), GBDT filter >= ${filter.threshold} ${filtered.toFixed(4)} ` +
        `(>= 0.5: ${filteredDefault.toFixed(4)})`,
    );

    // Assert
    assert.ok(filtered >= noFilter + 0.005, `filter ${filtered} vs no filter ${noFilter}`);
    assert.ok(filtered > probOnly, `filter ${filtered} vs probability threshold ${probOnly}`);
    assert.ok(filtered > probOracle, `filter ${filtered} vs the best probability threshold on book 3 ${probOracle}`);
  });
});
