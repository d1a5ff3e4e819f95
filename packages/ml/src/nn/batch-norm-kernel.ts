/**
 * Training-mode batch norm (optionally followed by ReLU) as one kernel with one gradient kernel,
 * written in JavaScript over the backend's own memory (the wasm heap, or the cpu backend's
 * arrays). Composed from tfjs ops, batch norm with its gradient took about a dozen full passes
 * over the activations and as many kernel dispatches per layer, a fifth of a wasm training step;
 * here the forward pass reads x twice (statistics, then the normalised output) and the backward
 * pass reads dy, x and y twice (two per-channel sums, then dx). Sums are accumulated in float64.
 *
 * Forward: y = relu?(γ·(x − μ)·σ⁻¹ + β) with the batch mean μ and biased variance σ² per
 * channel (σ⁻¹ = 1/√(σ² + ε)); outputs y, μ and σ². The ReLU and its mask are branch-free
 * (activation signs are random, so a branch mispredicts half the time: 4x slower). Backward, with g = dy masked by y > 0 under
 * ReLU and x̂ = (x − μ)·σ⁻¹: dβ = Σ g, dγ = Σ g·x̂, dx = γ·σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)).
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

/** Kernel names. */
export const BatchNormKernel = {
  Forward: 'KzrBatchNormTrain',
  Backward: 'KzrBatchNormTrainGrad',
} as const;

/** Backends whose memory these kernels read and write directly. */
const backends = ['wasm', 'cpu'] as const;

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array;
}

interface CpuLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): Info;
}

function isWasm(backend: object): backend is WasmLike {
  return 'typedArrayFromHeap' in backend;
}

/** The float32 values of a tensor, as a view where the backend allows (no copy). */
function view(backend: object, info: Info): Float32Array {
  if (isWasm(backend)) return backend.typedArrayFromHeap(info);
  const values = (backend as CpuLike).data.get(info.dataId).values;
  if (!(values instanceof Float32Array)) throw new Error('batch-norm kernel: expected float32 values');
  return values;
}

/**
 * Allocates float32 outputs; returns them with their writable views. Views are taken after every
 * allocation, since growing the wasm heap detaches earlier views.
 */
function outputs(backend: object, shapes: number[][]): { infos: Info[]; views: Float32Array[] } {
  if (isWasm(backend)) {
    const infos = shapes.map((s) => backend.makeOutput(s, 'float32'));
    return { infos, views: infos.map((i) => backend.typedArrayFromHeap(i)) };
  }
  const views = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  const infos = shapes.map((s, i) => (backend as CpuLike).makeTensorInfo(s, 'float32', views[i]!));
  return { infos, views };
}

function forward(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info[] {
  const { x, gamma, beta } = args.inputs as { x: Info; gamma: Info; beta: Info };
  const eps = args.attrs?.['epsilon'] as number;
  const relu = args.attrs?.['relu'] === true;
  const backend = args.backend as object;
  const c = x.shape[x.shape.length - 1]!;
  const { infos, views } = outputs(backend, [x.shape, [c], [c]]);
  const [yv, mv, vv] = views as [Float32Array, Float32Array, Float32Array];
  const xv = view(backend, x);
  const gv = view(backend, gamma);
  const bv = view(backend, beta);
  const size = xv.length;
  const count = size / c;
  // Channel-outer loops keep the sums in registers (about twice as fast as per-channel arrays).
  for (let k = 0; k < c; k++) {
    let s1 = 0;
    let s2 = 0;
    for (let i = k; i < size; i += c) {
      const v = xv[i]!;
      s1 += v;
      s2 += v * v;
    }
    const mean = s1 / count;
    const variance = Math.max(s2 / count - mean * mean, 0);
    mv[k] = mean;
    vv[k] = variance;
    const a = gv[k]! / Math.sqrt(variance + eps);
    const b = bv[k]! - mean * a;
    if (relu) {
      for (let i = k; i < size; i += c) {
        const v = xv[i]! * a + b;
        yv[i] = (v + Math.abs(v)) * 0.5; // max(v, 0) without a branch (signs are random)
      }
    } else {
      for (let i = k; i < size; i += c) yv[i] = xv[i]! * a + b;
    }
  }
  return infos;
}

function backward(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info[] {
  const inputs = args.inputs as { dy: Info; x: Info; gamma: Info; y: Info; mean: Info; variance: Info };
  const eps = args.attrs?.['epsilon'] as number;
  const relu = args.attrs?.['relu'] === true;
  const backend = args.backend as object;
  const c = inputs.x.shape[inputs.x.shape.length - 1]!;
  const { infos, views } = outputs(backend, [inputs.x.shape, [c], [c]]);
  const [dxv, dgv, dbv] = views as [Float32Array, Float32Array, Float32Array];
  const dyv = view(backend, inputs.dy);
  const xv = view(backend, inputs.x);
  const yv = view(backend, inputs.y);
  const gv = view(backend, inputs.gamma);
  const mv = view(backend, inputs.mean);
  const vv = view(backend, inputs.variance);
  const size = xv.length;
  const count = size / c;
  for (let k = 0; k < c; k++) {
    let sg = 0;
    let sgx = 0;
    if (relu) {
      for (let i = k; i < size; i += c) {
        const g = dyv[i]! * +(yv[i]! > 0);
        sg += g;
        sgx += g * xv[i]!;
      }
    } else {
      for (let i = k; i < size; i += c) {
        const g = dyv[i]!;
        sg += g;
        sgx += g * xv[i]!;
      }
    }
    const inv = 1 / Math.sqrt(vv[k]! + eps);
    const meanG = sg / count;
    const meanGXhat = inv * (sgx / count - mv[k]! * meanG);
    dbv[k] = sg;
    dgv[k] = meanGXhat * count;
    // dx = A·g + B·x + C.
    const a = gv[k]! * inv;
    const b = -a * inv * meanGXhat;
    const cc = a * (mv[k]! * inv * meanGXhat - meanG);
    if (relu) {
      for (let i = k; i < size; i += c) dxv[i] = dyv[i]! * +(yv[i]! > 0) * a + xv[i]! * b + cc;
    } else {
      for (let i = k; i < size; i += c) dxv[i] = dyv[i]! * a + xv[i]! * b + cc;
    }
  }
  return infos;
}

let registered = false;

/**
 * Registers both kernels for wasm and cpu, and the forward kernel's gradient. Idempotent. Other
 * backends keep the composed form in `layers.ts`.
 */
export function registerBatchNormKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of backends) {
    tf.registerKernel({ kernelName: BatchNormKernel.Forward, backendName, kernelFunc: forward as tf.KernelFunc });
    tf.registerKernel({ kernelName: BatchNormKernel.Backward, backendName, kernelFunc: backward as tf.KernelFunc });
  }
  tf.registerGradient({
    kernelName: BatchNormKernel.Forward,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs) => {
      const [x, gamma, y, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // Run at once, not inside the per-input closures: the tape calls each closure in its own
      // tidy, which would free the two results it does not return.
      const [dx, dGamma, dBeta] = tf
        .engine()
        .runKernel(
          BatchNormKernel.Backward,
          { dy: Array.isArray(dy) ? dy[0]! : dy, x, gamma, y, mean, variance },
          { epsilon: attrs['epsilon'] as number, relu: attrs['relu'] as boolean },
        ) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
}

/** Whether the fused kernels serve the active backend. */
export function hasBatchNormKernels(): boolean {
  registerBatchNormKernels();
  return tf.getKernel(BatchNormKernel.Forward, tf.getBackend()) !== undefined;
}

/**
 * Training-mode batch norm (+ ReLU) of an NHWC tensor through the fused kernels; returns y and
 * the batch mean and biased variance. Call only where {@link hasBatchNormKernels} is true.
 */
export function fusedTrainingBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  relu: boolean,
): { y: tf.Tensor4D; mean: tf.Tensor; variance: tf.Tensor } {
  const [y, mean, variance] = tf
    .engine()
    .runKernel(BatchNormKernel.Forward, { x, gamma, beta }, { epsilon: eps, relu }) as tf.Tensor[];
  return { y: y as tf.Tensor4D, mean: mean!, variance: variance! };
}
