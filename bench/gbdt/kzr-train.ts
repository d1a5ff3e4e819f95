/**
 * kzr side of bench/gbdt, the counterpart of xgb.py: trains on the table run.ts wrote and reports
 * training time and validation AUC / logloss as one JSON line. A process of its own, so the
 * trainer runs without the image libraries run.ts loads to build the false-positive table
 * (loading sharp alone slows the trainer's JavaScript by about a fifth).
 *
 *   node --import tsx bench/gbdt/kzr-train.ts <dir with train.f64, train.y, valid.f64, valid.y, meta.json> <params json>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { auc, binaryLogloss, predict, resolveParams, train } from '@kzr/gbdt';

const [dir, paramsJson] = process.argv.slice(2);
if (dir === undefined || paramsJson === undefined) throw new Error('usage: kzr-train.ts <dir> <params json>');
const f64 = (name: string): Float64Array => {
  const bytes = readFileSync(join(dir, name));
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const { numFeatures } = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { numFeatures: number };
const trainLabels = f64('train.y');
const validLabels = f64('valid.y');
const trainFeatures = { numRows: trainLabels.length, numFeatures, values: f64('train.f64') };
const validFeatures = { numRows: validLabels.length, numFeatures, values: f64('valid.f64') };
const params = resolveParams(JSON.parse(paramsJson) as Record<string, number>);

const c0 = process.cpuUsage();
const t0 = performance.now();
const { booster } = train({ features: trainFeatures, labels: trainLabels }, params);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const p = predict(booster, validFeatures);
console.log(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    auc: auc(validLabels, p),
    logloss: binaryLogloss(validLabels, p),
  }),
);
