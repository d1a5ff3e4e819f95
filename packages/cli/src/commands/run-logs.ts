/**
 * `kzr run logs <run> <phase> [--model <m>] [--attempt <n>]`: prints the log of a phase's Job as
 * it was written (stdout and stderr of `kzr phase run`: its JSON lines and its log lines), by
 * default of its last attempt. Local Jobs keep it in `<data dir>/jobs/<job>.log`; a Kubernetes
 * Job's log is its pod's, which `kubectl logs` reads. An unknown run, phase, model or attempt
 * exits 2 with one line naming it.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

import { checkSegment, readRunRecord } from '@kzr/artifacts';
import { ErrorKind, KzrError } from '@kzr/core';
import {
  buildPhaseGraph,
  modelPhaseNames,
  type PhaseName,
  phaseId,
  reduceRunState,
  type RunRecord,
} from '@kzr/pipeline';
import { NotFoundError, openStore } from '@kzr/platform';
import { phaseJobName } from '@kzr/trainer';

import { intFlag, parseCommand, UsageError } from '../args.js';
import { compileEmbeddedConfig, type EmbeddedConfig } from '../config.js';
import { jobLogFile } from '../runs/job-logs.js';
import { usage } from './run-logs.usage.js';

/** The run's record; an unknown run is a usage error. */
async function readRun(config: EmbeddedConfig, name: string): Promise<RunRecord> {
  const store = await openStore(config.adapters.store);
  try {
    return await readRunRecord(store, name);
  } catch (err) {
    if (err instanceof NotFoundError) throw new UsageError('<run>', `no run ${JSON.stringify(name)} in the Store`);
    throw err;
  } finally {
    await store.close();
  }
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length !== 2)
    throw new UsageError('<run> <phase>', `expected a run and a phase, got ${positionals.length} arguments`);
  const [name, phase] = positionals as [string, string];
  checkSegment('<run>', name);
  const model = typeof values.model === 'string' ? values.model : undefined;
  const config = compileEmbeddedConfig(process.env);
  const record = await readRun(config, name);
  const graph = buildPhaseGraph(record.spec);
  const phases = [...new Set(graph.phases.map((p) => p.phase))];
  if (!phases.includes(phase as PhaseName)) {
    throw new UsageError(
      '<phase>',
      `run ${name} has no phase ${JSON.stringify(phase)}; its phases: ${phases.join(', ')}`,
    );
  }
  const models = graph.phases.filter((p) => p.phase === phase && p.model !== undefined).map((p) => p.model!);
  if (modelPhaseNames.includes(phase as PhaseName) ? !models.includes(model!) : model !== undefined) {
    throw new UsageError(
      '--model',
      models.length === 0
        ? `${phase} is one Job for all models: give no --model`
        : `${phase} runs one Job per model: expected one of ${models.join(', ')}`,
    );
  }
  const id = phaseId(phase as PhaseName, model);
  const attempts = reduceRunState(graph, record.events).phases.get(id)?.attempts ?? 0;
  if (attempts === 0) {
    throw new UsageError(
      '<phase>',
      `${id} of run ${name} has run no Job (not started yet, or completed from the cache)`,
    );
  }
  const attempt = intFlag(values, 'attempt', attempts, 1, attempts);
  const jobs = config.adapters.jobs;
  if (jobs.kind === 'kubernetes') {
    const job = phaseJobName(name, id, attempt);
    const namespace = jobs.namespace ? ` -n ${jobs.namespace}` : '';
    throw new KzrError(
      ErrorKind.Unavailable,
      `jobs: the log of Kubernetes Job ${job} is its pod's: kubectl logs${namespace} job/${job}`,
      { field: 'jobs' },
    );
  }
  const file = jobLogFile(jobs.logDir, name, id, attempt);
  try {
    await pipeline(createReadStream(file), process.stdout, { end: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`log file ${file}`, { cause: err });
    throw err;
  }
  return 0;
}
