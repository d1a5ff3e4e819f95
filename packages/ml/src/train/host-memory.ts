/**
 * Direct reads of tensor memory on the backends that keep it in this thread (the wasm heap, the
 * cpu backend's arrays). The training loop reads gradients and weights and computes the SGD
 * update in plain loops over these views instead of one tfjs kernel (and one engine round trip)
 * per variable and operation, which cost more than the arithmetic for a small model.
 *
 * A wasm view is invalidated by the next allocation on the heap (growing the memory detaches
 * the buffer): take views right before a loop that allocates nothing, never keep them.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  dataIdMap: { get(dataId: object): object | undefined };
}

interface CpuLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/** Whether the active backend exposes its memory (wasm or cpu). */
export function hasHostMemory(): boolean {
  return tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
}

/**
 * The float32 values of `t` as a read-only view of the backend's own memory, or undefined where
 * the backend keeps them elsewhere. Never write through it: wasm caches each convolution's
 * packed XNNPACK weights by tensor id, so a tensor changed in place would keep being used with
 * its old values. Updates go through new tensors ({@link assignValues}).
 */
export function hostView(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || !hasHostMemory()) return undefined;
  const backend = tf.backend() as object;
  if ('typedArrayFromHeap' in backend) {
    const wasm = backend as WasmLike;
    return wasm.dataIdMap.get(t.dataId) ? wasm.typedArrayFromHeap(t) : undefined;
  }
  const entry = (backend as CpuLike).data.get(t.dataId);
  return entry?.values instanceof Float32Array ? entry.values : undefined;
}

/**
 * Copies the variables' values into one flat array (in order; into `out` when given),
 * synchronously where possible.
 */
export async function readFlat(vars: readonly tf.Tensor[], out?: Float32Array): Promise<Float32Array> {
  out ??= new Float32Array(vars.reduce((s, v) => s + v.size, 0));
  let at = 0;
  for (const v of vars) {
    out.set(hostView(v) ?? ((await v.data()) as Float32Array), at);
    at += v.size;
  }
  return out;
}

/**
 * Whether `tf.tensor(values)` copies `values` into the backend (so the array may be reused):
 * wasm copies into its heap, the cpu backend keeps the array itself.
 */
export function tensorCopiesValues(): boolean {
  return tf.getBackend() === 'wasm';
}

/** Sets a variable to new data holding `values` (a fresh tensor, so a fresh id). */
export function assignValues(v: tf.Variable, values: Float32Array): void {
  const t = tf.tensor(values, v.shape, 'float32');
  v.assign(t);
  t.dispose();
}

/** Sets the variables to consecutive slices of `flat`. */
export function writeFlat(vars: readonly tf.Variable[], flat: Float32Array): void {
  let at = 0;
  for (const v of vars) {
    assignValues(v, flat.subarray(at, at + v.size));
    at += v.size;
  }
}

/**
 * Σ_j w_j·g_j over flat gradients, in the given order, into `out` (float64 sums, one rounding
 * per value). The trainer and every gradient worker combine with this same function, so their
 * updates are bit-identical.
 */
export function combineFlat(parts: ReadonlyArray<{ g: Float32Array; w: number }>, out: Float32Array): Float32Array {
  const n = out.length;
  if (parts.length === 1) {
    const { g: g0, w: w0 } = parts[0]!;
    for (let i = 0; i < n; i++) out[i] = w0 * g0[i]!;
  } else if (parts.length === 2) {
    const [{ g: g0, w: w0 }, { g: g1, w: w1 }] = parts as [
      { g: Float32Array; w: number },
      { g: Float32Array; w: number },
    ];
    for (let i = 0; i < n; i++) out[i] = w0 * g0[i]! + w1 * g1[i]!;
  } else {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const { g, w } of parts) sum += w * g[i]!;
      out[i] = sum;
    }
  }
  return out;
}
