import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { syntheticTable } from '../src/internal.js';
import {
  auc,
  crossValidate,
  predict,
  predictMean,
  resolveParams,
  searchParams,
  stratifiedFolds,
  TrialState,
} from '../src/index.js';

const data = syntheticTable(1200, 6, 21);
const holdout = syntheticTable(800, 6, 22);

describe('stratified k-fold CV', () => {
  it('deals each class evenly over the folds, reproducibly per seed', () => {
    const labels = Array.from({ length: 103 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const folds = stratifiedFolds(labels, 5, 7);
    for (const cls of [0, 1]) {
      const perFold = [0, 1, 2, 3, 4].map((k) => labels.filter((y, i) => y === cls && folds[i] === k).length);
      assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `class ${cls}: ${perFold.join(',')}`);
    }
    assert.deepEqual(stratifiedFolds(labels, 5, 7), folds);
    assert.notDeepEqual(stratifiedFolds(labels, 5, 8), folds);
    assert.throws(() => stratifiedFolds(labels, 1, 7), /folds/);
  });

  it('returns k boosters cut to the best mean iteration, whose mean predicts held-out rows', () => {
    const params = resolveParams({ num_iterations: 200, learning_rate: 0.3, early_stopping_rounds: 10 });
    const cv = crossValidate(data, params, { folds: 4, seed: 3 });
    assert.equal(cv.boosters.length, 4);
    const argmin = cv.meanLosses.indexOf(Math.min(...cv.meanLosses)) + 1;
    assert.equal(cv.bestIteration, argmin);
    assert.ok(cv.meanLosses.length < 200, 'early stopping on the mean loss');
    for (const booster of cv.boosters) assert.equal(booster.trees.length, cv.bestIteration);
    const mean = predictMean(cv.boosters, holdout.features);
    const single = predict(cv.boosters[0]!, holdout.features);
    for (let i = 0; i < 5; i++) {
      const manual = cv.boosters.reduce((s, b) => s + predict(b, holdout.features)[i]!, 0) / 4;
      assert.ok(Math.abs(mean[i]! - manual) < 1e-15);
    }
    assert.ok(auc(holdout.labels, mean) >= auc(holdout.labels, single) - 0.01);
    assert.ok(auc(holdout.labels, mean) > 0.75);
  });
});

describe('hyperparameter search', () => {
  const options = {
    trials: 12,
    folds: 3,
    numBoostRound: 30,
    startupTrials: 4,
    prunerStartupTrials: 2,
    warmupSteps: 5,
    baseParams: { learning_rate: 0.2 },
  } as const;

  it('returns the same best parameters for the same seed, and prunes at least one trial early', () => {
    const a = searchParams(data, { ...options, seed: 42 });
    const b = searchParams(data, { ...options, seed: 42 });
    assert.deepEqual(a.bestParams, b.bestParams);
    assert.deepEqual(
      a.trials.map((t) => t.value),
      b.trials.map((t) => t.value),
    );
    const pruned = a.trials.filter((t) => t.state === TrialState.Pruned);
    assert.ok(pruned.length >= 1, 'some trial was pruned');
    for (const t of pruned) assert.ok(t.steps < options.numBoostRound && t.steps > options.warmupSteps);
    for (const t of a.trials.filter((t) => t.state === TrialState.Complete)) assert.ok(t.value >= a.best.value);
    // Values stay inside the upstream space.
    for (const t of a.trials) {
      assert.ok(t.params.num_leaves! >= 2 && t.params.num_leaves! <= 256 && Number.isInteger(t.params.num_leaves));
      assert.ok(t.params.lambda_l1! >= 1e-8 && t.params.lambda_l1! <= 10);
      assert.ok(t.params.feature_fraction! >= 0.4 && t.params.feature_fraction! <= 1);
    }
    const c = searchParams(data, { ...options, seed: 43 });
    assert.notDeepEqual(c.trials[0]!.params, a.trials[0]!.params, 'another seed samples other values');
  });
});
