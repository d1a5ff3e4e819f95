/**
 * What one phase of a run gets to work with and gives back (DESIGN.md "Runs"). `kzr phase run`
 * builds the context from `runs/<run>/run.json` and the manifests of the phases it depends on,
 * calls the phase's body, then writes the phase manifest (after the members the body wrote) and
 * the cache entry.
 */
import { type FileRef, type PhaseManifest, readPhaseMember, writePhaseMember } from '@kzr/artifacts';
import type { PhaseId, PhaseNode, RunSpec } from '@kzr/pipeline';
import type { Bus, Logger, Store } from '@kzr/platform';

/** A finished input phase: its manifest and where it is. */
export interface PhaseInput {
  readonly key: string;
  readonly manifest: PhaseManifest;
}

export interface PhaseContext {
  readonly store: Store;
  /** The Bus the phase publishes on (`publish`, and preprocess's `kzr.crops.ready`). */
  readonly bus: Bus;
  readonly logger: Logger;
  readonly run: string;
  /** The run's spec, its dataset name resolved. */
  readonly spec: RunSpec;
  /** The dataset in the Store (`datasets/<dataset>/`). */
  readonly dataset: string;
  readonly node: PhaseNode;
  readonly inputHash: string;
  /** The phases it depends on, by phase id. */
  readonly inputs: ReadonlyMap<PhaseId, PhaseInput>;
  /** A scratch folder of this attempt, removed afterwards. */
  readonly workDir: string;
  /** A retried attempt: resume after the last checkpoint the earlier one stored. */
  readonly resume: boolean;
  readonly signal: AbortSignal;
  /** Progress as JSON lines (epochs, counts); the phase's log. */
  readonly progress: (event: Readonly<Record<string, unknown>>) => void;
}

/** What a phase body produced: its members (written with artifacts' `writePhaseMember`) and a summary. */
export interface PhaseResult {
  readonly members: readonly FileRef[];
  readonly summary: Readonly<Record<string, unknown>>;
}

export type PhaseBody = (ctx: PhaseContext) => Promise<PhaseResult>;

/** The input phase `id` of `ctx`; a phase asking for one its node does not depend on is a bug. */
export function inputOf(ctx: PhaseContext, id: PhaseId): PhaseInput {
  const input = ctx.inputs.get(id);
  if (input === undefined) throw new Error(`phase ${ctx.node.id} has no input ${id}`);
  return input;
}

/** Writes `value` as the JSON member `file` of the phase; returns its reference for the manifest. */
export async function writeJsonMember(ctx: PhaseContext, file: string, value: unknown): Promise<FileRef> {
  return writePhaseMember(
    ctx.store,
    ctx.run,
    ctx.node.id,
    file,
    Buffer.from(JSON.stringify(value)),
    'application/json',
  );
}

/** The member `file` of an input phase, verified against its sha256; undefined when it wrote none. */
export async function readMember(ctx: PhaseContext, input: PhaseInput, file: string): Promise<Buffer | undefined> {
  const member = input.manifest.members.find((m) => m.key === file);
  return member === undefined ? undefined : readPhaseMember(ctx.store, input.key, member);
}

/** The JSON member `file` of an input phase; a phase that wrote none is a bug. */
export async function readJsonMember<T>(ctx: PhaseContext, input: PhaseInput, file: string): Promise<T> {
  const bytes = await readMember(ctx, input, file);
  if (bytes === undefined) throw new Error(`phase ${input.manifest.phase} wrote no ${file}`);
  return JSON.parse(bytes.toString('utf8')) as T;
}
