import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { readShared } from './fixtures.js';
import { syntheticTable, xorshift32 } from '../src/internal.js';
import {
  auc,
  formatModel,
  GbdtTrainer,
  leafIndex,
  parseModel,
  predict,
  resolveParams,
  train,
  type Tree,
} from '../src/index.js';

const trainSet = syntheticTable(3000, 8, 11);
const validSet = syntheticTable(1500, 8, 12);

function depthOf(tree: Tree): number {
  const walk = (node: number): number =>
    node < 0 ? 0 : 1 + Math.max(walk(tree.leftChild[node]!), walk(tree.rightChild[node]!));
  return tree.numLeaves === 1 ? 0 : walk(0);
}

describe('GBDT trainer', () => {
  it('learns a nonlinear signal: validation AUC well above chance and loss below the prior', () => {
    const { booster, validLosses } = train(trainSet, resolveParams({ num_iterations: 40 }), { valid: validSet });
    const score = auc(validSet.labels, predict(booster, validSet.features));
    assert.ok(score > 0.8, `AUC ${score}`);
    assert.ok(validLosses.at(-1)! < validLosses[0]!, 'loss decreases');
  });

  it('is deterministic: the same data and seed give byte-identical model files', () => {
    const params = resolveParams({
      num_iterations: 15,
      bagging_fraction: 0.7,
      bagging_freq: 1,
      feature_fraction: 0.6,
      seed: 5,
    });
    const a = formatModel(train(trainSet, params).booster);
    const b = formatModel(train(trainSet, params).booster);
    assert.equal(a, b);
    const c = formatModel(
      train(
        trainSet,
        resolveParams({
          ...{ num_iterations: 15, bagging_fraction: 0.7 },
          bagging_freq: 1,
          feature_fraction: 0.6,
          seed: 6,
        }),
      ).booster,
    );
    assert.notEqual(a, c, 'another seed samples other rows and features');
  });

  it('builds the same trees on worker threads as on one thread', () => {
    const big = syntheticTable(30000, 8, 41);
    const base = { num_iterations: 6, bagging_fraction: 0.8, bagging_freq: 1, feature_fraction: 0.9, seed: 3 };
    const one = formatModel(train(big, resolveParams({ ...base, num_threads: 1 })).booster);
    for (const threads of [2, 3]) {
      const many = formatModel(train(big, resolveParams({ ...base, num_threads: threads })).booster);
      assert.equal(many.replace(`[num_threads: ${threads}]`, '[num_threads: 1]'), one, `${threads} threads`);
    }
  });

  it('sums wide feature lists (16, 8, then 4 features per pass) into the rows each leaf holds', () => {
    // 29 features (one 16-feature pass, one of 8, one of 4 and a single feature), every one of
    // them in the label, so the trees split on features of every pass.
    const numRows = 8000;
    const numFeatures = 29;
    const rand = xorshift32(45);
    const values = new Float64Array(numRows * numFeatures);
    const labels = new Float64Array(numRows);
    for (let r = 0; r < numRows; r++) {
      let logit = 0;
      for (let f = 0; f < numFeatures; f++) {
        const x = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
        values[r * numFeatures + f] = rand() < 0.05 ? NaN : x;
        logit += (f % 2 === 0 ? 1 : -1) * (0.2 + 0.05 * f) * x;
      }
      labels[r] = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    }
    const wide = { features: { numRows, numFeatures, values }, labels };
    const params = { num_iterations: 8, num_leaves: 15, min_data_in_leaf: 5 };
    const { booster } = train(wide, resolveParams({ ...params, num_threads: 1 }));
    for (const tree of booster.trees) {
      const rows = new Float64Array(tree.numLeaves);
      for (let r = 0; r < wide.features.numRows; r++) {
        const leaf = leafIndex(tree, wide.features.values, r * wide.features.numFeatures);
        rows[leaf] = (rows[leaf] as number) + 1;
      }
      // A leaf's count comes from the histogram's count column at its split; the rows from the tree.
      assert.deepEqual(Array.from(tree.leafCount), Array.from(rows));
    }
    const two = formatModel(train(wide, resolveParams({ ...params, num_threads: 2 })).booster);
    assert.equal(two.replace('[num_threads: 2]', '[num_threads: 1]'), formatModel(booster));
  });

  it('builds the same trees on worker threads with wide bins, regularisation, another sigmoid and a near-empty bag', () => {
    const big = syntheticTable(30000, 8, 43);
    // A constant column (never split), and a column with more than 256 distinct values for max_bin 1000.
    for (let r = 0; r < 30000; r++) big.features.values[r * 8 + 2] = 1.5;
    const cases: Record<string, number>[] = [
      { max_bin: 1000, num_leaves: 40, min_data_in_leaf: 5 },
      { lambda_l1: 2, lambda_l2: 1, min_gain_to_split: 0.5, max_depth: 4 },
      { sigmoid: 2.5, bagging_fraction: 0.5, bagging_freq: 2, feature_fraction: 0.5 },
      // 0.00001 of 30000 rows: most bags are empty and keep row 0.
      { bagging_fraction: 0.00001, bagging_freq: 1, min_data_in_leaf: 1, min_sum_hessian_in_leaf: 0 },
    ];
    for (const extra of cases) {
      const base = { num_iterations: 4, seed: 9, ...extra };
      const one = formatModel(train(big, resolveParams({ ...base, num_threads: 1 })).booster);
      const two = formatModel(train(big, resolveParams({ ...base, num_threads: 2 })).booster);
      assert.equal(two.replace('[num_threads: 2]', '[num_threads: 1]'), one, JSON.stringify(extra));
    }
  });

  it('`await using` terminates the worker threads when the block ends', async () => {
    const big = syntheticTable(30000, 8, 47);
    let kept: GbdtTrainer | undefined;
    {
      await using trainer = new GbdtTrainer(big, resolveParams({ num_iterations: 5, num_threads: 3 }));
      kept = trainer;
      assert.equal(trainer.workerThreads, 2);
      trainer.step();
    }
    assert.equal(kept.workerThreads, 0);
  });

  it('`using` and a throwing run both close the worker threads', async () => {
    const big = syntheticTable(30000, 8, 48);
    const params = resolveParams({ num_iterations: 5, num_threads: 2 });
    const exited = async (trainer: GbdtTrainer): Promise<boolean> => {
      for (let i = 0; i < 200 && trainer.workerThreads > 0; i++) await sleep(25);
      return trainer.workerThreads === 0;
    };
    let kept: GbdtTrainer | undefined;
    {
      using trainer = new GbdtTrainer(big, params);
      kept = trainer;
      assert.equal(trainer.workerThreads, 1);
    }
    assert.ok(await exited(kept), 'workers exit after the using block');

    const failing = new GbdtTrainer(big, params);
    assert.throws(
      () =>
        failing.run(() => {
          throw new Error('caller gave up');
        }),
      /caller gave up/,
    );
    assert.ok(await exited(failing), 'workers exit after run() threw');
  });

  it('respects num_leaves, max_depth and min_data_in_leaf', () => {
    const { booster } = train(
      trainSet,
      resolveParams({ num_iterations: 10, num_leaves: 12, max_depth: 3, min_child_samples: 50 }),
    );
    for (const tree of booster.trees) {
      assert.ok(tree.numLeaves <= 8, `at most 2^3 leaves, got ${tree.numLeaves}`);
      assert.ok(depthOf(tree) <= 3);
      for (const count of tree.leafCount) assert.ok(count >= 50, `leaf with ${count} rows`);
    }
    const wide = train(trainSet, resolveParams({ num_iterations: 3, num_leaves: 12 })).booster;
    assert.ok(wide.trees.every((tree) => tree.numLeaves <= 12) && wide.trees.some((tree) => tree.numLeaves === 12));
  });

  it('stops early at the best validation iteration', () => {
    const params = resolveParams({ num_iterations: 500, learning_rate: 0.5, early_stopping_rounds: 5 });
    const trainer = new GbdtTrainer(trainSet, params, { valid: validSet });
    trainer.run();
    const losses = trainer.validLosses;
    assert.ok(trainer.numTrees < 500, 'stopped before the last round');
    const argmin = losses.indexOf(Math.min(...losses)) + 1;
    assert.equal(trainer.bestIteration, argmin);
    assert.equal(trainer.numTrees, argmin + 5);
    assert.equal(trainer.booster().trees.length, argmin);
    assert.equal(trainer.stopReason, 'early-stopping');
    assert.equal(train(trainSet, resolveParams({ num_iterations: 4 })).stopReason, 'iterations');
  });

  it('sends missing values to a learned default side', () => {
    // Label 1 exactly when feature 0 is missing; feature 0 is otherwise uninformative.
    const n = 2000;
    const values = new Float64Array(n * 2);
    const labels = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const missing = r % 3 === 0;
      values[r * 2] = missing ? NaN : ((r * 7919) % 1000) / 1000;
      values[r * 2 + 1] = ((r * 104729) % 997) / 997;
      labels[r] = missing ? 1 : 0;
    }
    const { booster } = train(
      { features: { numRows: n, numFeatures: 2, values }, labels },
      resolveParams({ num_iterations: 20 }),
    );
    const root = booster.trees[0]!;
    assert.equal(root.splitFeature[0], 0);
    assert.equal((root.decisionType[0]! >> 2) & 3, 2, 'missing type NaN');
    const probe = predict(booster, { numRows: 2, numFeatures: 2, values: Float64Array.from([NaN, 0.5, 0.5, 0.5]) });
    assert.ok(probe[0]! > 0.9 && probe[1]! < 0.1, `P(NaN) = ${probe[0]}, P(0.5) = ${probe[1]}`);
  });

  it('uses L1 and L2 regularisation: larger lambdas shrink the leaf outputs', () => {
    const leafSpread = (params: Record<string, number>): number => {
      const tree = train(trainSet, resolveParams({ num_iterations: 2, ...params })).booster.trees[1]!;
      return Math.max(...tree.leafValue.map(Math.abs));
    };
    const plain = leafSpread({});
    assert.ok(leafSpread({ lambda_l2: 200 }) < plain);
    assert.ok(leafSpread({ lambda_l1: 20 }) < plain);
  });
});

describe('model writer', () => {
  it('writes LightGBM header keys in order with tree_sizes equal to each block byte length, and reads back identically', async () => {
    const { booster } = train(trainSet, resolveParams({ num_iterations: 12, bagging_fraction: 0.8, bagging_freq: 2 }), {
      featureNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    });
    const text = formatModel(booster);
    const fixture = await readShared('lightgbm/model.txt');
    const keys = (s: string): string[] =>
      s
        .split('\n\n')[0]!
        .split('\n')
        .map((line) => line.split('=')[0]!);
    assert.deepEqual(keys(text), keys(fixture));
    const treeFields = (s: string): string[] =>
      s
        .slice(s.indexOf('Tree=0'), s.indexOf('Tree=1'))
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0]!);
    assert.deepEqual(treeFields(text), treeFields(fixture));
    const sizes = /^tree_sizes=(.*)$/m.exec(text)![1]!.split(' ').map(Number);
    const bytes = Buffer.from(text);
    let offset = bytes.indexOf('Tree=0');
    for (const [t, size] of sizes.entries()) {
      assert.equal(bytes.subarray(offset, offset + `Tree=${t}\n`.length).toString(), `Tree=${t}\n`);
      offset += size;
    }
    assert.equal(bytes.subarray(offset, offset + 12).toString(), 'end of trees');

    const reread = parseModel(text);
    assert.deepEqual(predict(reread, validSet.features), predict(booster, validSet.features));
    assert.equal(formatModel(reread), text, 'a second round trip writes the same bytes');
    for (const [t, tree] of booster.trees.entries()) {
      for (let r = 0; r < 50; r++) {
        assert.equal(
          leafIndex(reread.trees[t]!, validSet.features.values, r * 8),
          leafIndex(tree, validSet.features.values, r * 8),
        );
      }
    }
  });
});

describe('parameters', () => {
  it('accepts LightGBM names and aliases and rejects unknown names or bad values naming them', () => {
    const a = resolveParams({ num_boost_round: '7', min_child_samples: '3', colsample_bytree: '0.5', reg_lambda: 2 });
    assert.equal(a.numIterations, 7);
    assert.equal(a.minDataInLeaf, 3);
    assert.equal(a.featureFraction, 0.5);
    assert.equal(a.lambdaL2, 2);
    assert.equal(resolveParams({ min_data_in_leaf: 9 }).minDataInLeaf, 9);
    assert.throws(() => resolveParams({ num_leafs: 3 }), /num_leafs: unknown parameter/);
    assert.throws(() => resolveParams({ num_leaves: 1 }), /num_leaves: expected a value in \[2/);
    assert.throws(() => resolveParams({ bagging_fraction: 'x' }), /bagging_fraction: expected a number/);
    assert.throws(() => resolveParams({ num_trees: 3, n_estimators: 4 }), /given twice/);
    assert.throws(() => resolveParams({ objective: 'regression' }), /objective/);
  });
});
