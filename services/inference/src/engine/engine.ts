/**
 * One interface over the two engines that run a model set's members: ONNX Runtime
 * (`onnxruntime-node`, CPU provider) and TensorFlow.js (packages/ml's zoo on the active backend).
 */

/** Engines a member can run on. */
export const EngineKind = { Onnx: 'onnx', Tfjs: 'tfjs' } as const;
/** One of {@link EngineKind}. */
export type EngineKind = (typeof EngineKind)[keyof typeof EngineKind];

/** A loaded model: normalised NHWC views in, logits out. */
export interface InferenceEngine {
  readonly kind: EngineKind;
  /** Length of each output row. */
  readonly numClasses: number;
  /**
   * Runs `rows` views of `side`×`side`×`channels` (NHWC float32, normalised) and returns
   * `rows × numClasses` logits.
   */
  run(input: Float32Array, rows: number): Promise<Float32Array>;
  /** Frees the model (session or tensors). Idempotent. */
  dispose(): Promise<void>;
}
