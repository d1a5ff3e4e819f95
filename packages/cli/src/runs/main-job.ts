/**
 * The main job of `kzr start` (`npm start`): once the services serve, a first start on a machine
 * with no published model set trains one as a user would: it stores the dataset (the preset's
 * synthetic books, or `--dataset <dir>`), sends `kzr.training.requested` to the trainer
 * (./request.ts), shows the run's progress (a phase table on a TTY, JSON lines otherwise), and
 * waits until inference and postprocess have hot-swapped to what the run published. Every start
 * ends with the `ready` line: endpoints, the served model-set and filter versions, the per-stage
 * F1 and the run report's path. `KZR_START_RUN` (`none`, `smoke`, `default`) says what a first
 * start runs.
 */
import { join } from 'node:path';

import { readRunRecord, readStagesReport, resultKey } from '@kzr/artifacts';
import type { InferenceRuntime } from '@kzr/inference';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunRecord, type RunState } from '@kzr/pipeline';
import { type AdapterConfig, type Bus, type Env, NotFoundError, readChoice, type Store } from '@kzr/platform';
import type { PostprocessRuntime } from '@kzr/postprocess';
import { loadRunSpec, newRunName, phaseLines, runLine, summarizeRun } from '@kzr/trainer';

import { printJson } from '../args.js';
import { requestTraining } from './request.js';
import { resolveRunDataset } from './run-setup.js';

/** What a first start trains: nothing, or a run of the `smoke` or `default` preset. */
export type StartRun = 'none' | 'smoke' | 'default';

/** `KZR_START_RUN`; a ConfigError naming it when it is none of the choices. */
export function readStartRun(env: Env): StartRun {
  return readChoice(env, 'KZR_START_RUN', ['none', 'smoke', 'default'] as const) ?? 'default';
}

/** How often the run record and the served versions are read again. */
const pollMs = 500;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the main job works with: the started services and the opened adapters. */
export interface MainJobOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly storeConfig: AdapterConfig['store'];
  readonly dataDir: string;
  readonly startRun: StartRun;
  /** `--dataset`: a Kaggle- or CODH-layout folder (or a stored dataset's name) instead of the preset's synthetic books. */
  readonly dataset: string | undefined;
  readonly inference: InferenceRuntime;
  readonly postprocess: PostprocessRuntime;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly started: number;
  readonly signal: AbortSignal;
}

/** Where a person opens a result file: its path for the filesystem Store, else its Store URL. */
function resultLocation(store: AdapterConfig['store'], key: string): string {
  return store.kind === 'fs' ? join(store.root, 'objects', key) : `s3://${store.bucket}/${key}`;
}

/** The record of `run`; undefined when there is none (yet). */
function findRunRecord(store: Store, run: string): Promise<RunRecord | undefined> {
  return readRunRecord(store, run).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
}

/** A terminal table of the run's phases, redrawn in place on each change. */
class PhaseTable {
  #drawn = 0;

  draw(run: string, state: RunState): void {
    const lines = [`run ${run}: ${state.status}`];
    for (const p of state.phases.values()) {
      const mark = { pending: ' ', running: '>', succeeded: '✓', failed: '✗', cancelled: '-' }[p.status] ?? '?';
      lines.push(`  ${mark} ${p.id.padEnd(34)} ${p.status}${p.cacheHit ? ' (cached)' : ''}`);
    }
    // Up over the last table, then each line cleared as it is written.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '';
    process.stdout.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    this.#drawn = lines.length;
  }
}

/** Follows the run's record until it is final, printing its progress; resolves with its status. */
async function followProgress(o: MainJobOptions, run: string): Promise<string> {
  const table = process.stdout.isTTY ? new PhaseTable() : undefined;
  let prev: RunState | undefined;
  for (;;) {
    o.signal.throwIfAborted();
    // The trainer writes run.json once it has taken the request.
    const record = await findRunRecord(o.store, run);
    if (record !== undefined) {
      const state = reduceRunState(buildPhaseGraph(record.spec), record.events);
      if (table !== undefined) table.draw(run, state);
      else for (const { type, ...line } of phaseLines(prev, state)) printJson({ event: type, run, ...line });
      prev = state;
      if (isFinalRunStatus(state.status)) {
        const { type, ...line } = runLine(summarizeRun(record, state), (performance.now() - o.started) / 1000);
        printJson({ event: type, ...line });
        return state.status;
      }
    }
    await sleep(pollMs);
  }
}

/** How long a published run may take to be served before the `ready` line says what serves instead. */
const hotSwapLimitMs = 120_000;

/**
 * Waits until inference serves `version` of `modelSet` and postprocess's current filter is
 * `filterVersion`, at most {@link hotSwapLimitMs} (a set another version of which is promoted,
 * or one inference does not serve, never swaps); resolves with whether both did.
 */
async function waitForHotSwap(
  o: MainJobOptions,
  modelSet: string,
  version: string,
  filterVersion: string,
): Promise<boolean> {
  const deadline = performance.now() + hotSwapLimitMs;
  while (performance.now() < deadline) {
    o.signal.throwIfAborted();
    const served = o.inference.registry.modelSets().includes(modelSet)
      ? o.inference.registry.status(modelSet).version
      : undefined;
    const filter = await o.postprocess.filters.find('').catch(() => undefined);
    if (served === version && filter?.version === filterVersion) return true;
    await sleep(pollMs);
  }
  return false;
}

/** Trains and publishes the first model set; resolves with the run, or undefined when it failed. */
async function firstRun(o: MainJobOptions, preset: Exclude<StartRun, 'none'>): Promise<string | undefined> {
  const spec = await loadRunSpec({ preset });
  const dataset = await resolveRunDataset({
    store: o.store,
    bus: o.bus,
    spec,
    dataset: o.dataset,
    dataDir: o.dataDir,
  });
  // One run per first start's preset and dataset: a start stopped during its run finds that run
  // again (the trainer resumes it) rather than requesting another; a finished one is not reused.
  const stable = `start-${preset}-${dataset.digest.slice(0, 12)}`;
  const earlier = await findRunRecord(o.store, stable);
  const run =
    earlier !== undefined && isFinalRunStatus(reduceRunState(buildPhaseGraph(earlier.spec), earlier.events).status)
      ? newRunName()
      : stable;
  await requestTraining(o.bus, { requestId: run, dataset: dataset.name, preset });
  printJson({ event: 'requested', run, preset, dataset: dataset.name, datasetSource: dataset.source });
  if ((await followProgress(o, run)) !== 'succeeded') return undefined;
  // The publish phase names the model-set version and the filter version after the run.
  if (!(await waitForHotSwap(o, spec.publish.modelSet, run, run))) {
    printJson({
      event: 'warning',
      run,
      message: `the services did not swap to ${run} within ${hotSwapLimitMs / 1000} s`,
    });
  }
  return run;
}

/**
 * Runs the main job (module comment) and prints the `ready` line; a first run that fails is
 * reported by its `run` line and the start still serves (without a model set).
 */
export async function runMainJob(o: MainJobOptions): Promise<void> {
  if ((await o.inference.registry.servedVersion()) === undefined && o.startRun !== 'none') {
    await firstRun(o, o.startRun);
  }
  const served = await o.inference.registry.servedVersion();
  if (served !== undefined) await o.inference.registry.activate(served.modelSet, served.version).catch(() => undefined);
  const filter = await o.postprocess.filters.find('').catch(() => undefined);
  // A published version is named after the run that made it: its results are that run's.
  const stages =
    served === undefined ? undefined : await readStagesReport(o.store, served.version).catch(() => undefined);
  const reportKey = served === undefined ? undefined : resultKey(served.version, 'report.html');
  const report =
    reportKey !== undefined &&
    (await o.store.stat(reportKey).then(
      () => true,
      () => false,
    ))
      ? reportKey
      : undefined;
  printJson({
    event: 'ready',
    endpoints: o.endpoints,
    modelSet: served?.modelSet ?? null,
    modelSetVersion: served?.version ?? null,
    filterVersion: filter?.version ?? null,
    stages: stages === undefined ? null : Object.fromEntries(stages.stages.map((s) => [s.stage, s.f1])),
    report: report === undefined ? null : resultLocation(o.storeConfig, report),
    seconds: Math.round((performance.now() - o.started) / 100) / 10,
  });
}
