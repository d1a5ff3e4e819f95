/**
 * The entrypoint of one phase of a run (`kzr phase run`, the command every phase Job runs): reads
 * `runs/<run>/run.json`, hashes the phase's inputs (the manifests its dependencies completed with,
 * the dataset's digest), and on a cache hit stops there. Otherwise it runs the phase's body in a
 * scratch folder, writes the phase manifest (after the members the body wrote), then the cache
 * entry: from then on the phase is complete, even if this process dies before it exits. A
 * failure leaves a failure report for the controller ({@link writeFailureReport}).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

import {
  readPhaseCacheEntry,
  readPhaseManifest,
  readRunRecord,
  writePhaseCacheEntry,
  writePhaseManifest,
} from '@kzr/artifacts';
import { KzrError } from '@kzr/core';
import {
  buildPhaseGraph,
  type PhaseId,
  phaseInputHash,
  type PhaseName,
  PhaseStatus,
  reduceRunState,
} from '@kzr/pipeline';
import { type Bus, type Logger, type Store, ValidationError } from '@kzr/platform';
import { writeFailureReport } from '@kzr/trainer';

import type { PhaseBody, PhaseInput } from '../phases/context.js';

/** Options of {@link runPhase}. */
export interface RunPhaseOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly run: string;
  readonly phase: PhaseId;
  /** The attempt (the controller's `started` record); names the failure report. @default 1 */
  readonly attempt?: number;
  /** Resume after the checkpoint an earlier attempt stored. */
  readonly resume: boolean;
  /** The data directory; scratch folders go under `<dataDir>/work/`. */
  readonly dataDir: string;
  readonly signal: AbortSignal;
  /**
   * The body of a phase (`phases/index.ts`), loaded only on a cache miss: the bodies bring
   * TensorFlow.js, ONNX Runtime and sharp, which a cache hit never needs.
   */
  readonly loadBody: (phase: PhaseName) => Promise<PhaseBody>;
  /** One JSON line of output (progress, the cache hit, done). */
  readonly print: (line: Readonly<Record<string, unknown>>) => void;
}

/** What {@link runPhase} did. */
export interface PhaseOutcome {
  readonly cacheHit: boolean;
  readonly inputHash: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
}

/** Runs one phase of a run (see the module comment). */
export async function runPhase(o: RunPhaseOptions): Promise<PhaseOutcome> {
  const record = await readRunRecord(o.store, o.run);
  const graph = buildPhaseGraph(record.spec);
  const node = graph.byId.get(o.phase);
  if (node === undefined) {
    throw new ValidationError('--phase', `run ${o.run} has no phase ${o.phase} (${[...graph.byId.keys()].join(', ')})`);
  }
  const dataset = record.spec.dataset.name;
  if (dataset === undefined) throw new ValidationError('run.spec.dataset.name', 'the run has no stored dataset');
  const state = reduceRunState(graph, record.events);
  const inputs = new Map<PhaseId, PhaseInput>();
  const hashed: Record<string, string> = {};
  for (const id of node.dependsOn) {
    const dep = state.phases.get(id);
    if (dep?.status !== PhaseStatus.Succeeded || dep.manifestKey === undefined || dep.manifestSha256 === undefined) {
      throw new ValidationError('--phase', `${o.phase} reads ${id}, which has not completed in run ${o.run}`);
    }
    inputs.set(id, {
      key: dep.manifestKey,
      manifest: await readPhaseManifest(o.store, dep.manifestKey, dep.manifestSha256),
    });
    hashed[id] = dep.manifestSha256;
  }
  for (const name of node.externalInputs) hashed[name] = record.external[name];
  const inputHash = phaseInputHash(record.spec, node, hashed);

  const cached = await readPhaseCacheEntry(o.store, node.phase, inputHash);
  if (cached !== undefined) {
    o.print({ type: 'cache-hit', phase: o.phase, inputHash, manifestKey: cached.manifestKey, run: cached.run });
    return { cacheHit: true, inputHash, manifestKey: cached.manifestKey, manifestSha256: cached.manifestSha256 };
  }

  const started = performance.now();
  const workRoot = join(o.dataDir, 'work');
  await mkdir(workRoot, { recursive: true });
  const workDir = await mkdtemp(join(workRoot, `${o.run}-${node.phase}-`));
  try {
    const body = await o.loadBody(node.phase);
    const result = await body({
      store: o.store,
      bus: o.bus,
      logger: o.logger.child({ run: o.run, phase: o.phase }),
      run: o.run,
      spec: record.spec,
      dataset,
      node,
      inputHash,
      inputs,
      workDir,
      resume: o.resume,
      signal: o.signal,
      // The body's own `type` (`epoch`) wins over the default.
      progress: (event) => o.print({ type: 'progress', phase: o.phase, ...event }),
    });
    const manifest = await writePhaseManifest(o.store, {
      run: o.run,
      phase: o.phase,
      inputHash,
      members: result.members,
      summary: result.summary,
    });
    await writePhaseCacheEntry(o.store, {
      phase: node.phase,
      inputHash,
      run: o.run,
      manifestKey: manifest.key,
      manifestSha256: manifest.sha256,
    });
    o.print({
      type: 'done',
      phase: o.phase,
      inputHash,
      manifestKey: manifest.key,
      manifestSha256: manifest.sha256,
      members: result.members.length,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    });
    return { cacheHit: false, inputHash, manifestKey: manifest.key, manifestSha256: manifest.sha256 };
  } catch (err) {
    // A kzr error says whether a retry may help; anything else is unexpected, and is retried like
    // a killed process.
    const retryable = err instanceof KzrError ? err.retryable : true;
    const error = err instanceof Error ? err.message : String(err);
    await writeFailureReport(o.store, o.run, o.phase, o.attempt ?? 1, { retryable, error }).catch((e: unknown) =>
      o.logger.warn('could not write the failure report', { err: e }),
    );
    throw err;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
