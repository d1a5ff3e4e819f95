/**
 * The learning rate of every iteration, exactly as upstream `train.py` sets it (spec §4.3):
 * the first update uses the base lr; during the warmup epochs the lr set *after* step
 * (e, b) is base·(e·N + b + 1)/(N·(W + 1)), so the ramp ends at base·W/(W + 1); MultiStep
 * (chainable, stepped per epoch) multiplies by γ at each milestone epoch ≥ W; cosine
 * (chainable CosineAnnealingLR over T·N iterations, stepped per iteration after warmup) decays
 * from the post-warmup lr towards η_min.
 */
import { type ScheduleConfig, type TrainConfig } from '../config/model-config.js';

/** What the schedule depends on. */
export interface LrScheduleParams {
  readonly baseLr: number;
  readonly warmupEpochs: number;
  readonly itersPerEpoch: number;
  readonly schedule: ScheduleConfig;
}

/** The lr used by the update of iteration `iter` (0-based) of epoch `epoch` (0-based). */
export function learningRate(p: LrScheduleParams, epoch: number, iter: number): number {
  const n = p.itersPerEpoch;
  const w = p.warmupEpochs;
  if (epoch < w) {
    const done = epoch * n + iter; // updates already made
    return done === 0 ? p.baseLr : (p.baseLr * done) / (n * (w + 1));
  }
  const afterWarmup = w > 0 ? (p.baseLr * w) / (w + 1) : p.baseLr;
  if (p.schedule.type === 'multistep') {
    const drops = p.schedule.milestones.filter((m) => m >= w && m <= epoch).length;
    return afterWarmup * Math.pow(p.schedule.gamma, drops);
  }
  const t = (epoch - w) * n + iter;
  const tMax = p.schedule.tMaxEpochs * n;
  const eta = p.schedule.etaMin;
  return eta + ((afterWarmup - eta) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/**
 * The schedule of `train` stretched to `epochs` (`kzr train --epochs`): warmup and MultiStep
 * milestones scale by epochs / train.epochs (rounded to whole epochs); the cosine length keeps
 * its share of the epochs after warmup (a warmup under half an epoch rounds to none). A shorter
 * run so decays over its own length and ends at η_min instead of stopping part-way down the
 * configured schedule.
 */
export function scaleSchedule(train: TrainConfig, epochs: number): TrainConfig {
  if (epochs === train.epochs) return train;
  const f = epochs / train.epochs;
  const warmupEpochs = Math.min(Math.round(train.warmupEpochs * f), epochs - 1);
  const s = train.schedule;
  const schedule: ScheduleConfig =
    s.type === 'multistep'
      ? { ...s, milestones: s.milestones.map((m) => Math.round(m * f)) }
      : {
          ...s,
          tMaxEpochs:
            train.epochs > train.warmupEpochs
              ? (s.tMaxEpochs * (epochs - warmupEpochs)) / (train.epochs - train.warmupEpochs)
              : s.tMaxEpochs * f,
        };
  return { ...train, epochs, warmupEpochs, schedule };
}
