/**
 * The training phases (DESIGN.md "Runs" 3, 7, 8; spec §4.4): first-train (the split's training
 * crops), second-train (the same plus the pseudo-label crops, from scratch), refine (the second
 * training's best checkpoint resumed for `refine.epochs` more epochs at `refine.lr`, pseudo
 * targets x0.9, no augmentation). Checkpoints go to the phase's folder in the Store, so a retried
 * attempt resumes after the last one its killed predecessor stored; the members are the kept
 * checkpoint's files (the best one; refinement's last, as upstream) and `history.json`.
 */
import { availableParallelism } from 'node:os';

import { phaseMemberKey, phaseOutputPrefix, storeCheckpointStorage } from '@kzr/artifacts';
import type { FileRef } from '@kzr/artifacts';
import type { LabelledCrop, TrainResult } from '@kzr/ml';
import { PhaseName, phaseId, type RunModelSpec } from '@kzr/pipeline';
import { ValidationError } from '@kzr/platform';

import { inputOf, type PhaseBody, type PhaseContext, writeJsonMember } from './context.js';
import { labelledCrops, readStoredShards } from './crops.js';
import { readSplit, splitShards } from './split.js';

/** The run's model `name` (a model phase's model). */
export function runModel(ctx: PhaseContext): RunModelSpec {
  const model = ctx.spec.models.find((m) => m.name === ctx.node.model);
  if (model === undefined) throw new Error(`phase ${ctx.node.id} names no model of the run`);
  return model;
}

/** Initialises TensorFlow.js on the run's backend (pinned, or the best available). */
export async function runBackend(ctx: PhaseContext): Promise<string> {
  const { initBackend } = await import('@kzr/ml');
  const pinned = ctx.spec.execution.backend;
  const choice = await initBackend(pinned === 'auto' ? {} : { backend: pinned });
  return choice.name;
}

/** The pseudo-label phase's crops, marked pseudo (their targets are scaled in refinement). */
async function pseudoCrops(ctx: PhaseContext): Promise<LabelledCrop[]> {
  const input = inputOf(ctx, PhaseName.PseudoLabel);
  const index = input.manifest.members.find((m) => m.key === 'pseudo/index.json');
  if (index === undefined) return [];
  const indexKey = `${input.key.slice(0, input.key.lastIndexOf('/') + 1)}pseudo/index.json`;
  const stored = await readStoredShards(ctx.store, indexKey, index.sha256);
  return labelledCrops(
    stored,
    stored.index.records.map((_, i) => i),
    true,
  );
}

/** Trains the phase's model on `train`, validating on the split's raw held-out crops. */
async function trainModel(
  ctx: PhaseContext,
  options: {
    train: readonly LabelledCrop[];
    val: readonly LabelledCrop[];
    epochs: number | undefined;
    refine?: { lr: number };
  },
): Promise<{ result: TrainResult; resumedAfter: number }> {
  const { parseModelConfig, train } = await import('@kzr/ml');
  const storage = storeCheckpointStorage(ctx.store, phaseOutputPrefix(ctx.run, ctx.node.id));
  const resume = ctx.resume || options.refine !== undefined;
  const latest = resume ? await storage.get('latest.json') : undefined;
  // Completed epochs of the checkpoint training resumes after (0: a fresh start).
  const resumedAfter = latest ? (JSON.parse(new TextDecoder().decode(latest)) as { epoch: number }).epoch : 0;
  const model = runModel(ctx);
  const parsed = parseModelConfig(model.config, `spec.models.${model.name}.config`);
  const config =
    model.undersampling === undefined
      ? parsed
      : { ...parsed, train: { ...parsed.train, undersampling: model.undersampling } };
  const backend = (await runBackend(ctx)) as 'gpu' | 'node' | 'wasm' | 'cpu';
  const singleThreaded = backend === 'wasm' || backend === 'cpu';
  const workers =
    ctx.spec.execution.workers === 'auto' ? (singleThreaded ? availableParallelism() : 1) : ctx.spec.execution.workers;
  const result = await train({
    config,
    train: options.train,
    val: options.val,
    storage,
    resume,
    workers,
    backend,
    // A run that serves without TTA has no use for its held-out TTA top-1, which costs seven
    // forward passes per held-out crop (more than the epoch's training on small sets).
    ...(ctx.spec.inference.tta ? {} : { valTtaEvery: 0 }),
    ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
    ...(options.refine === undefined ? {} : { refine: options.refine }),
    signal: ctx.signal,
    onEpoch: (metrics) => ctx.progress({ type: 'epoch', ...metrics }),
  });
  return { result, resumedAfter };
}

/** The files of the checkpoint `checkpoint` (`best`, `epoch-0004`) and the history, as the phase's members. */
async function checkpointMembers(ctx: PhaseContext, result: TrainResult, checkpoint: string): Promise<FileRef[]> {
  const prefix = phaseOutputPrefix(ctx.run, ctx.node.id);
  const members: FileRef[] = [];
  for (const info of (await ctx.store.list(`${prefix}${checkpoint}/`)).sort((a, b) => a.key.localeCompare(b.key))) {
    members.push({ key: info.key.slice(prefix.length), sha256: info.sha256 });
  }
  members.push(await writeJsonMember(ctx, 'history.json', result.history));
  return members;
}

/**
 * What a person (and the next phases) read of a training: the checkpoint its members are, the
 * best epoch, the last epoch's metrics and the epoch an interrupted attempt was resumed after.
 */
function summaryOf(result: TrainResult, checkpoint: string, resumedAfter: number): Record<string, unknown> {
  const last = result.history.at(-1);
  return {
    checkpoint,
    best: result.best,
    epochs: result.history.length,
    classes: result.classes.length,
    resumedAfter,
    lastValTop1: last?.valTop1,
  };
}

/** Training and held-out crops of the model's split. */
async function splitCrops(ctx: PhaseContext): Promise<{ train: LabelledCrop[]; val: LabelledCrop[] }> {
  const split = await readSplit(ctx, runModel(ctx).split);
  const stored = await splitShards(ctx, split);
  return { train: await labelledCrops(stored, split.train), val: await labelledCrops(stored, split.heldOut) };
}

export const firstTrainPhase: PhaseBody = async (ctx) => {
  const crops = await splitCrops(ctx);
  const { result, resumedAfter } = await trainModel(ctx, { ...crops, epochs: runModel(ctx).epochs.firstTrain });
  return { members: await checkpointMembers(ctx, result, 'best'), summary: summaryOf(result, 'best', resumedAfter) };
};

export const secondTrainPhase: PhaseBody = async (ctx) => {
  const crops = await splitCrops(ctx);
  const pseudo = await pseudoCrops(ctx);
  const { result, resumedAfter } = await trainModel(ctx, {
    train: [...crops.train, ...pseudo],
    val: crops.val,
    epochs: runModel(ctx).epochs.secondTrain,
  });
  return {
    members: await checkpointMembers(ctx, result, 'best'),
    summary: { ...summaryOf(result, 'best', resumedAfter), pseudo: pseudo.length },
  };
};

export const refinePhase: PhaseBody = async (ctx) => {
  // ml's refinement targets scale pseudo crops by upstream's 0.9; no other weight reaches them yet.
  if (ctx.spec.refine.pseudoTargetWeight !== 0.9) {
    throw new ValidationError('spec.refine.pseudoTargetWeight', 'only 0.9 (spec §4.4) is supported yet');
  }
  const model = runModel(ctx);
  const second = inputOf(ctx, phaseId(PhaseName.SecondTrain, model.name));
  const startEpoch = (second.manifest.summary.best as { epoch: number }).epoch;
  // Start from the second training's best checkpoint, copied into this phase's folder as its
  // latest (a retried attempt finds its own later checkpoints there instead).
  const prefix = phaseOutputPrefix(ctx.run, ctx.node.id);
  const storage = storeCheckpointStorage(ctx.store, prefix);
  if (!ctx.resume || (await storage.get('latest.json')) === undefined) {
    // The Store's own copy (server-side on S3); the sha256 travels with it.
    for (const member of second.manifest.members.filter((m) => m.key.startsWith('best/'))) {
      await ctx.store.copy(phaseMemberKey(second.key, member), `${prefix}start/${member.key.slice('best/'.length)}`);
    }
    await storage.put('latest.json', new TextEncoder().encode(JSON.stringify({ prefix: 'start', epoch: startEpoch })));
  }
  const crops = await splitCrops(ctx);
  const pseudo = await pseudoCrops(ctx);
  const { result, resumedAfter } = await trainModel(ctx, {
    train: [...crops.train, ...pseudo],
    val: crops.val,
    epochs: startEpoch + ctx.spec.refine.epochs,
    refine: { lr: ctx.spec.refine.lr },
  });
  // Upstream serves the last refinement epoch (spec §4.4), not the best by validation.
  const { epochKey } = await import('@kzr/ml');
  const last = epochKey(startEpoch + ctx.spec.refine.epochs);
  return {
    members: await checkpointMembers(ctx, result, last),
    summary: { ...summaryOf(result, last, resumedAfter), refinedFrom: startEpoch },
  };
};
