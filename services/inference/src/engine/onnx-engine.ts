/** The ONNX Runtime engine (CPU execution provider shipped in onnxruntime-node). */
import * as ort from 'onnxruntime-node';

import { EngineKind, type InferenceEngine } from './engine.js';

/** Options of {@link createOnnxEngine}. */
export interface OnnxEngineOptions {
  /** The serialized ONNX model. */
  readonly model: Uint8Array;
  /** Input side C and channels. */
  readonly side: number;
  readonly channels: number;
  /** Layout the graph's input expects. @default 'nchw' */
  readonly layout?: 'nchw' | 'nhwc';
  /** Graph input / output names; default: the first of each. */
  readonly inputName?: string;
  readonly outputName?: string;
  /** ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose. @default 0 */
  readonly intraOpThreads?: number;
}

/** Creates an ONNX Runtime session; rejects when the model does not load. */
export async function createOnnxEngine(options: OnnxEngineOptions): Promise<InferenceEngine> {
  const session = await ort.InferenceSession.create(options.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
  });
  try {
    const inputName = options.inputName ?? session.inputNames[0];
    const outputName = options.outputName ?? session.outputNames[0];
    if (inputName === undefined || !session.inputNames.includes(inputName)) {
      throw new Error(`the model has no input ${String(inputName)} (inputs: ${session.inputNames.join(', ')})`);
    }
    if (outputName === undefined || !session.outputNames.includes(outputName)) {
      throw new Error(`the model has no output ${String(outputName)} (outputs: ${session.outputNames.join(', ')})`);
    }
    const { side, channels } = options;
    const nchw = (options.layout ?? 'nchw') === 'nchw';
    // Probe once for the class count (also the first warm-up run).
    const probe = await session.run({
      [inputName]: new ort.Tensor(
        'float32',
        new Float32Array(side * side * channels),
        nchw ? [1, channels, side, side] : [1, side, side, channels],
      ),
    });
    const out = probe[outputName]!;
    const numClasses = out.dims[out.dims.length - 1]!;
    if (out.dims.length !== 2 || out.dims[0] !== 1)
      throw new Error(`output ${outputName} has shape [${out.dims.join(', ')}], expected [N, classes]`);
    let released = false;
    return {
      kind: EngineKind.Onnx,
      numClasses,
      async run(input: Float32Array, rows: number): Promise<Float32Array> {
        const data = nchw ? nhwcToNchw(input, rows, side, channels) : input;
        const result = await session.run({
          [inputName]: new ort.Tensor(
            'float32',
            data,
            nchw ? [rows, channels, side, side] : [rows, side, side, channels],
          ),
        });
        const t = result[outputName]!;
        const values = t.data as Float32Array;
        t.dispose();
        return values;
      },
      async dispose(): Promise<void> {
        if (released) return;
        released = true;
        await session.release();
      },
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** NHWC → NCHW for `rows` images. */
export function nhwcToNchw(input: Float32Array, rows: number, side: number, channels: number): Float32Array {
  if (channels === 1) return input;
  const out = new Float32Array(input.length);
  const plane = side * side;
  for (let n = 0; n < rows; n++) {
    const base = n * plane * channels;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + c * plane + p] = input[base + p * channels + c]!;
    }
  }
  return out;
}
