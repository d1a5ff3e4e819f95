/**
 * Loading one model-set version from the Store: read and check the manifest, read every file
 * verified against its sha256, build each member's engine (ONNX Runtime for ONNX members; for
 * kzr members the set's engine choice, `auto` exporting to ONNX in memory and falling back to
 * tfjs when ONNX Runtime refuses), agree on one class map, and warm every member up.
 */
import {
  decodeSafetensors,
  EngineChoice,
  type InputSpec,
  type MemberManifest,
  type ModelSetManifest,
  readMemberClassMap,
  readModelSetFile,
  readModelSetManifest,
} from '@kzr/artifacts';
import { exportClassifierToOnnx, initBackend } from '@kzr/ml';
import { type Logger, type Store } from '@kzr/platform';

import { ModelLoadError } from '../errors.js';
import { DynamicBatcher, type BatchingOptions, type BatchObserver } from '../ensemble/batcher.js';
import { type InferenceEngine } from '../engine/engine.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { buildClassifierWithWeights, createTfjsEngine } from '../engine/tfjs-engine.js';

/** A member ready to serve. */
export interface LoadedMember {
  readonly name: string;
  readonly input: InputSpec;
  readonly engine: InferenceEngine;
  readonly batcher: DynamicBatcher;
}

/** Options of {@link loadModelSet}. */
export interface LoadOptions {
  readonly store: Store;
  readonly logger?: Logger;
  /** Overrides the manifest's engine choice (for benchmarks and tests). */
  readonly engine?: EngineChoice;
  readonly batching?: BatchingOptions;
  readonly batchObserver?: BatchObserver;
  /** ONNX Runtime intra-op threads (0: its default). */
  readonly intraOpThreads?: number;
}

/**
 * A loaded, warmed version. Requests hold it through {@link acquire} / {@link release}; once
 * {@link retire}d it is disposed when the last request in flight releases it.
 */
export class LoadedModelSet {
  readonly manifest: ModelSetManifest;
  readonly members: readonly LoadedMember[];
  /** Class codes in class-index order (shared by every member). */
  readonly codes: readonly string[];
  private inFlight = 0;
  private retired = false;
  private disposedPromise: Promise<void> | undefined;
  private resolveDisposed: (() => void) | undefined;

  constructor(manifest: ModelSetManifest, members: readonly LoadedMember[], codes: readonly string[]) {
    this.manifest = manifest;
    this.members = members;
    this.codes = codes;
  }

  get modelSet(): string {
    return this.manifest.modelSet;
  }

  get version(): string {
    return this.manifest.version;
  }

  /** Requests running on this version. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** True once the engines are released. */
  get disposed(): boolean {
    return this.disposedPromise !== undefined && this.resolveDisposed === undefined;
  }

  /** Counts a request in. */
  acquire(): void {
    if (this.retired) throw new Error(`internal: ${this.modelSet}@${this.version} is retired`);
    this.inFlight++;
  }

  /** Counts a request out; disposes a retired version when it was the last one. */
  release(): void {
    this.inFlight--;
    if (this.retired && this.inFlight === 0) void this.disposeNow();
  }

  /** Stops new requests; resolves once the in-flight ones finished and the engines are freed. */
  retire(): Promise<void> {
    if (!this.retired) {
      this.retired = true;
      this.disposedPromise = new Promise((resolve) => {
        this.resolveDisposed = resolve;
      });
      if (this.inFlight === 0) void this.disposeNow();
    }
    return this.disposedPromise!;
  }

  private async disposeNow(): Promise<void> {
    const resolve = this.resolveDisposed;
    if (!resolve) return;
    this.resolveDisposed = undefined;
    await Promise.allSettled(this.members.map((m) => m.engine.dispose()));
    resolve();
  }
}

async function buildEngine(
  store: Store,
  manifest: ModelSetManifest,
  member: MemberManifest,
  choice: EngineChoice,
  options: LoadOptions,
): Promise<InferenceEngine> {
  const side = member.input.cropSize;
  const channels = member.input.channels;
  const threads = options.intraOpThreads ?? 0;
  if (member.kind === 'onnx') {
    const model = await readModelSetFile(store, manifest, member.onnx);
    return createOnnxEngine({
      model,
      side,
      channels,
      layout: member.input.layout ?? 'nchw',
      ...(member.inputName !== undefined ? { inputName: member.inputName } : {}),
      ...(member.outputName !== undefined ? { outputName: member.outputName } : {}),
      intraOpThreads: threads,
    });
  }
  const bytes = await readModelSetFile(store, manifest, member.weights);
  // The best tfjs backend (node > wasm > cpu), chosen once per process by packages/ml.
  await initBackend(options.logger ? { log: (msg, fields) => options.logger?.info(msg, fields) } : {});
  const classifier = buildClassifierWithWeights(
    member.architecture,
    decodeSafetensors(bytes, `${member.name}.weights`),
  );
  if (choice === EngineChoice.Tfjs) return createTfjsEngine(classifier, side, channels);
  try {
    const onnx = await exportClassifierToOnnx(classifier);
    const engine = await createOnnxEngine({ model: onnx, side, channels, intraOpThreads: threads });
    classifier.dispose();
    return engine;
  } catch (err) {
    if (choice === EngineChoice.Onnx) {
      classifier.dispose();
      throw err;
    }
    options.logger?.warn('ONNX Runtime did not load the member; using tfjs', {
      member: member.name,
      error: (err as Error).message,
    });
    return createTfjsEngine(classifier, side, channels);
  }
}

/** Loads, verifies and warms `models/<set>/<version>/`; throws {@link ModelLoadError} saying why. */
export async function loadModelSet(modelSet: string, version: string, options: LoadOptions): Promise<LoadedModelSet> {
  const { store } = options;
  const fail = (message: string, cause?: unknown): ModelLoadError =>
    new ModelLoadError(modelSet, version, message, cause === undefined ? undefined : { cause });
  let manifest: ModelSetManifest;
  try {
    manifest = await readModelSetManifest(store, modelSet, version);
  } catch (err) {
    throw fail(`manifest: ${(err as Error).message}`, err);
  }
  const choice = options.engine ?? manifest.engine ?? EngineChoice.Auto;
  const members: LoadedMember[] = [];
  try {
    let codes: readonly string[] | undefined;
    for (const m of manifest.members) {
      let memberCodes: readonly string[];
      try {
        memberCodes = (await readMemberClassMap(store, manifest, m)).codes;
      } catch (err) {
        throw fail(`member ${m.name}: class map: ${(err as Error).message}`, err);
      }
      if (codes === undefined) codes = memberCodes;
      else if (codes.length !== memberCodes.length || codes.some((c, i) => c !== memberCodes[i])) {
        throw fail(`member ${m.name}: its class map differs from member ${manifest.members[0]!.name}'s`);
      }
      let engine: InferenceEngine;
      try {
        engine = await buildEngine(store, manifest, m, choice, options);
      } catch (err) {
        throw fail(`member ${m.name}: ${(err as Error).message}`, err);
      }
      const rowSize = m.input.cropSize * m.input.cropSize * m.input.channels;
      members.push({
        name: m.name,
        input: m.input,
        engine,
        batcher: new DynamicBatcher(engine, rowSize, options.batching, options.batchObserver),
      });
      if (engine.numClasses !== codes.length) {
        throw fail(`member ${m.name}: the model has ${engine.numClasses} outputs, the class map ${codes.length} codes`);
      }
      // Warm-up: one batch of two rows straight through the engine (first-run allocations happen here).
      const warm = await engine.run(new Float32Array(rowSize * 2), 2);
      if (warm.some((v) => !Number.isFinite(v))) throw fail(`member ${m.name}: warm-up produced non-finite logits`);
      options.logger?.info('member loaded', { modelSet, version, member: m.name, engine: engine.kind });
    }
    return new LoadedModelSet(manifest, members, codes!);
  } catch (err) {
    await Promise.allSettled(members.map((m) => m.engine.dispose()));
    throw err instanceof ModelLoadError ? err : fail((err as Error).message, err);
  }
}
