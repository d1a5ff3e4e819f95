/**
 * Training-mode batch norm (optionally followed by ReLU) as one kernel with one gradient kernel,
 * working in the backend's own memory. On wasm, where the channel count is a multiple of 4, the
 * passes over the activations run in a WebAssembly SIMD module (`batch-norm-wat.ts`) on the wasm
 * heap and only the per-channel coefficients are computed in JavaScript; on cpu, and on wasm for
 * other channel counts, the passes are JavaScript loops over the cpu backend's arrays or the wasm
 * heap. Composed from tfjs ops, batch norm with its gradient took about a dozen full passes
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

import { batchNormWasmBase64 } from './batch-norm-wasm-bytes.js';

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

/** Kernel names. */
const BatchNormKernel = {
  Forward: 'KzrBatchNormTrain',
  Backward: 'KzrBatchNormTrainGrad',
} as const;

/** Backends whose memory these kernels read and write directly. */
const backends = ['wasm', 'cpu'] as const;

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: {
    asm: { memory: object };
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
}

/** The exports of `batch-norm-wat.ts`. */
interface SimdPasses {
  stats(x: number, n: number, c: number, acc: number): void;
  affine(x: number, y: number, n: number, c: number, ab: number, relu: number): void;
  gradSums(dy: number, x: number, y: number, n: number, c: number, acc: number, relu: number): void;
  gradWrite(dy: number, x: number, y: number, dx: number, n: number, c: number, abc: number, relu: number): void;
}

/** The part of the global WebAssembly API used here (the project's TS lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

const simdInstances = new WeakMap<object, SimdPasses>();

/**
 * The SIMD passes instantiated on this wasm backend's own memory (one instance per backend,
 * that is per thread), or undefined where the channel count is not a multiple of 4.
 */
function simdFor(backend: WasmLike, channels: number): SimdPasses | undefined {
  if (channels % 4 !== 0) return undefined;
  let passes = simdInstances.get(backend);
  if (!passes) {
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const module = new api.Module(Buffer.from(batchNormWasmBase64, 'base64'));
    passes = new api.Instance(module, { env: { memory: backend.wasm.asm.memory } }).exports as SimdPasses;
    simdInstances.set(backend, passes);
  }
  return passes;
}

/** Heap address of a tensor's data on the wasm backend. */
function address(backend: WasmLike, info: Info): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}

/** Scratch memory on the wasm heap for `bytes`, freed by the returned function. */
function scratch(backend: WasmLike, bytes: number): { at: number; free: () => void } {
  const at = backend.wasm._malloc(bytes);
  return { at, free: () => backend.wasm._free(at) };
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
  const simd = isWasm(backend) ? simdFor(backend, c) : undefined;
  if (simd) return forwardSimd(backend as WasmLike, simd, x, gamma, beta, eps, relu);
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

/** The forward pass through the SIMD module: sums, per-channel a and b in JavaScript, affine. */
function forwardSimd(
  backend: WasmLike,
  simd: SimdPasses,
  x: Info,
  gamma: Info,
  beta: Info,
  eps: number,
  relu: boolean,
): Info[] {
  const c = x.shape[x.shape.length - 1]!;
  const count = x.shape.reduce((a, b) => a * b, 1) / c;
  const infos = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([c], 'float32')];
  infos.push(backend.makeOutput([c], 'float32'));
  const [y, meanInfo, varInfo] = infos as [Info, Info, Info];
  const acc = scratch(backend, c * 16); // 2·C float64 sums, then 2·C float32 (a, b)
  try {
    new Float64Array(backend.wasm.HEAPU8.buffer, acc.at, 2 * c).fill(0);
    simd.stats(address(backend, x), count, c, acc.at);
    const sums = new Float64Array(backend.wasm.HEAPU8.buffer, acc.at, 2 * c);
    const ab = new Float32Array(backend.wasm.HEAPU8.buffer, acc.at, 2 * c);
    const mv = backend.typedArrayFromHeap(meanInfo);
    const vv = backend.typedArrayFromHeap(varInfo);
    const gv = backend.typedArrayFromHeap(gamma);
    const bv = backend.typedArrayFromHeap(beta);
    const a = new Float64Array(c);
    const b = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      const mean = sums[k]! / count;
      const variance = Math.max(sums[c + k]! / count - mean * mean, 0);
      mv[k] = mean;
      vv[k] = variance;
      a[k] = gv[k]! / Math.sqrt(variance + eps);
      b[k] = bv[k]! - mean * a[k]!;
    }
    ab.set(a);
    ab.set(b, c);
    simd.affine(address(backend, x), address(backend, y), count, c, acc.at, relu ? 1 : 0);
  } finally {
    acc.free();
  }
  return infos;
}

/** The backward pass through the SIMD module: sums, per-channel A, B, C in JavaScript, dx. */
function backwardSimd(
  backend: WasmLike,
  simd: SimdPasses,
  inputs: { dy: Info; x: Info; gamma: Info; y: Info; mean: Info; variance: Info },
  eps: number,
  relu: boolean,
): Info[] {
  const c = inputs.x.shape[inputs.x.shape.length - 1]!;
  const count = inputs.x.shape.reduce((a, b) => a * b, 1) / c;
  const infos = [backend.makeOutput(inputs.x.shape, 'float32'), backend.makeOutput([c], 'float32')];
  infos.push(backend.makeOutput([c], 'float32'));
  const [dx, dGamma, dBeta] = infos as [Info, Info, Info];
  const acc = scratch(backend, c * 16); // 2·C float64 sums, then 3·C float32 (A, B, C)
  const [pdy, px, py] = [address(backend, inputs.dy), address(backend, inputs.x), address(backend, inputs.y)];
  try {
    new Float64Array(backend.wasm.HEAPU8.buffer, acc.at, 2 * c).fill(0);
    simd.gradSums(pdy, px, py, count, c, acc.at, relu ? 1 : 0);
    const sums = new Float64Array(backend.wasm.HEAPU8.buffer, acc.at, 2 * c);
    const abc = new Float32Array(backend.wasm.HEAPU8.buffer, acc.at, 3 * c);
    const gv = backend.typedArrayFromHeap(inputs.gamma);
    const mv = backend.typedArrayFromHeap(inputs.mean);
    const vv = backend.typedArrayFromHeap(inputs.variance);
    const dgv = backend.typedArrayFromHeap(dGamma);
    const dbv = backend.typedArrayFromHeap(dBeta);
    const coef = new Float64Array(3 * c);
    for (let k = 0; k < c; k++) {
      const inv = 1 / Math.sqrt(vv[k]! + eps);
      const meanG = sums[k]! / count;
      const meanGXhat = inv * (sums[c + k]! / count - mv[k]! * meanG);
      dbv[k] = sums[k]!;
      dgv[k] = meanGXhat * count;
      const a = gv[k]! * inv;
      coef[k] = a;
      coef[c + k] = -a * inv * meanGXhat;
      coef[2 * c + k] = a * (mv[k]! * inv * meanGXhat - meanG);
    }
    abc.set(coef);
    simd.gradWrite(pdy, px, py, address(backend, dx), count, c, acc.at, relu ? 1 : 0);
  } finally {
    acc.free();
  }
  return infos;
}

function backward(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info[] {
  const inputs = args.inputs as { dy: Info; x: Info; gamma: Info; y: Info; mean: Info; variance: Info };
  const eps = args.attrs?.['epsilon'] as number;
  const relu = args.attrs?.['relu'] === true;
  const backend = args.backend as object;
  const c = inputs.x.shape[inputs.x.shape.length - 1]!;
  const simd = isWasm(backend) ? simdFor(backend, c) : undefined;
  if (simd) return backwardSimd(backend as WasmLike, simd, inputs, eps, relu);
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
function registerBatchNormKernels(): void {
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
