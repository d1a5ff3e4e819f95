/**
 * The phase graph of a run (DESIGN.md "Runs"): the run spec becomes phases, each a Job, each
 * listing the phases whose outputs it reads. A phase's input hash covers the manifests of
 * exactly those phases, so the dependencies below are what each phase reads, not only what it
 * waits for:
 *
 * ```
 * preprocess                              dataset -> Ben + denoise pages, ground-truth crops
 * split                                   preprocess -> the splits, class map, test pages
 * first-train/<model>                     split
 * first-infer                             preprocess, split, every first-train
 * first-filter                            preprocess, first-infer
 * pseudo-label                            preprocess, first-infer, first-filter
 * second-train/<model>                    split, pseudo-label
 * refine/<model>                          split, pseudo-label, second-train/<model>
 * final-infer (+ final filter, stages)    preprocess, split, first-infer, first-filter,
 *                                         pseudo-label, every second-train, every refine
 * publish                                 final-infer, every refine
 * ```
 */
import { RunRecordError } from './errors.js';
import type { RunSpec } from './run-spec.js';

/** The phases of a run, in the order they first run. */
export const PhaseName = {
  Preprocess: 'preprocess',
  Split: 'split',
  FirstTrain: 'first-train',
  FirstInfer: 'first-infer',
  FirstFilter: 'first-filter',
  PseudoLabel: 'pseudo-label',
  SecondTrain: 'second-train',
  Refine: 'refine',
  FinalInfer: 'final-infer',
  Publish: 'publish',
} as const;
export type PhaseName = (typeof PhaseName)[keyof typeof PhaseName];

/** Phases run once per model (`<phase>/<model>`); `execution.parallelism` bounds how many run at once. */
export const modelPhaseNames: readonly PhaseName[] = [PhaseName.FirstTrain, PhaseName.SecondTrain, PhaseName.Refine];

/** Inputs that come from outside the run rather than from a phase: the dataset's digest. */
export const ExternalInput = {
  /** The sha256 of the dataset as stored (its labels and page list), given by whoever starts the run. */
  Dataset: 'dataset',
} as const;
export type ExternalInput = (typeof ExternalInput)[keyof typeof ExternalInput];

/** A phase id: `<phase>` or `<phase>/<model>` (`preprocess`, `first-train/tiny-resnet-gray32`). */
export type PhaseId = string;

/** One phase of a run. */
export interface PhaseNode {
  readonly id: PhaseId;
  readonly phase: PhaseName;
  /** The model of a model phase ({@link modelPhaseNames}); undefined otherwise. */
  readonly model: string | undefined;
  /** Phases whose outputs it reads, in graph order. */
  readonly dependsOn: readonly PhaseId[];
  /** Inputs from outside the run that it reads. */
  readonly externalInputs: readonly ExternalInput[];
}

/** The phases of one run spec. */
export interface PhaseGraph {
  readonly spec: RunSpec;
  /** Every phase in a topological order (a phase after everything it depends on; models in spec order). */
  readonly phases: readonly PhaseNode[];
  readonly byId: ReadonlyMap<PhaseId, PhaseNode>;
}

/** The id of a phase, for a model phase with its model. */
export function phaseId(phase: PhaseName, model?: string): PhaseId {
  return model === undefined ? phase : `${phase}/${model}`;
}

/** The phase and model of a phase id; throws a RunRecordError naming `field` for an id that is neither. */
export function parsePhaseId(id: string, field = 'phase'): { phase: PhaseName; model: string | undefined } {
  const slash = id.indexOf('/');
  const phase = (slash < 0 ? id : id.slice(0, slash)) as PhaseName;
  const model = slash < 0 ? undefined : id.slice(slash + 1);
  const isModelPhase = modelPhaseNames.includes(phase);
  if (
    !(Object.values(PhaseName) as string[]).includes(phase) ||
    isModelPhase !== (model !== undefined) ||
    (model !== undefined && !/^[a-z0-9][a-z0-9._-]*$/.test(model))
  ) {
    throw new RunRecordError(field, `not a phase id: ${JSON.stringify(id)}`);
  }
  return { phase, model };
}

/** Builds the phase graph of a spec (see the module comment for its shape). */
export function buildPhaseGraph(spec: RunSpec): PhaseGraph {
  const models = spec.models.map((m) => m.name);
  const each = (phase: PhaseName): PhaseId[] => models.map((m) => phaseId(phase, m));
  const { Preprocess, Split, FirstTrain, FirstInfer, FirstFilter, PseudoLabel, SecondTrain, Refine } = PhaseName;
  const node = (phase: PhaseName, dependsOn: PhaseId[], model?: string): PhaseNode => ({
    id: phaseId(phase, model),
    phase,
    model,
    dependsOn,
    externalInputs: phase === Preprocess ? [ExternalInput.Dataset] : [],
  });
  const phases: PhaseNode[] = [
    node(Preprocess, []),
    node(Split, [Preprocess]),
    ...models.map((m) => node(FirstTrain, [Split], m)),
    node(FirstInfer, [Preprocess, Split, ...each(FirstTrain)]),
    node(FirstFilter, [Preprocess, FirstInfer]),
    node(PseudoLabel, [Preprocess, FirstInfer, FirstFilter]),
    ...models.map((m) => node(SecondTrain, [Split, PseudoLabel], m)),
    ...models.map((m) => node(Refine, [Split, PseudoLabel, phaseId(SecondTrain, m)], m)),
    node(PhaseName.FinalInfer, [
      Preprocess,
      Split,
      FirstInfer,
      FirstFilter,
      PseudoLabel,
      ...each(SecondTrain),
      ...each(Refine),
    ]),
    node(PhaseName.Publish, [PhaseName.FinalInfer, ...each(Refine)]),
  ];
  return { spec, phases, byId: new Map(phases.map((p) => [p.id, p])) };
}

/** Every phase that reads `id`'s outputs, directly or through others, in graph order. */
export function downstreamOf(graph: PhaseGraph, id: PhaseId): PhaseId[] {
  const reached = new Set<PhaseId>([id]);
  for (const p of graph.phases) {
    if (p.dependsOn.some((d) => reached.has(d))) reached.add(p.id);
  }
  reached.delete(id);
  return graph.phases.filter((p) => reached.has(p.id)).map((p) => p.id);
}
