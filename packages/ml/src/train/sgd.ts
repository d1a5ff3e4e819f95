/**
 * PyTorch `torch.optim.SGD` with momentum (not Nesterov), dampening 0 and L2 weight decay on
 * every parameter: d = g + wd·p; buf = μ·buf + d (buf = d at the first step); p -= lr·buf.
 * The momentum buffers are the optimizer slots a checkpoint stores.
 */
import * as tf from '@tensorflow/tfjs';

import { assignValues, hasHostMemory, hostView, tensorCopiesValues } from './host-memory.js';

/** Options of {@link Sgd}. */
export interface SgdOptions {
  /** @default 0.9 */
  readonly momentum: number;
  /** @default 1e-4 */
  readonly weightDecay: number;
}

/** SGD with momentum and weight decay over a fixed list of variables. */
export class Sgd {
  /** One momentum buffer per variable, same order. */
  readonly slots: tf.Variable[];
  private readonly vars: tf.Variable[];
  private readonly options: SgdOptions;
  private readonly scratchArrays: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  constructor(vars: tf.Variable[], options: SgdOptions) {
    this.vars = vars;
    this.options = options;
    this.slots = vars.map((v) => {
      const zeros = tf.zerosLike(v);
      const slot = tf.variable(zeros, false);
      zeros.dispose();
      return slot;
    });
  }

  /** Applies one update with learning rate `lr`; `grads` are in the same order as the variables. */
  step(grads: readonly tf.Tensor[], lr: number): void {
    const { momentum, weightDecay } = this.options;
    tf.tidy(() => {
      this.vars.forEach((p, i) => {
        const g = grads[i];
        if (!g) return;
        const d = weightDecay > 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
        const buf = tf.add(tf.mul(this.slots[i]!, momentum), d);
        this.slots[i]!.assign(buf);
        p.assign(tf.sub(p, tf.mul(buf, lr)));
      });
    });
  }

  /**
   * The same update from one flat gradient (the variables' gradients concatenated in order).
   * Where the backend's memory can be read directly (wasm, cpu) it runs as one loop per
   * variable (float64 arithmetic, one rounding to float32 per stored value) and assigns the new
   * weights and momentum buffers as fresh tensors; elsewhere it calls {@link step}.
   */
  stepFlat(grad: Float32Array, lr: number): void {
    const { momentum, weightDecay } = this.options;
    if (!hasHostMemory()) {
      let at = 0;
      const grads = this.vars.map((p) => {
        const g = tf.tensor(grad.subarray(at, at + p.size), p.shape, 'float32');
        at += p.size;
        return g;
      });
      this.step(grads, lr);
      tf.dispose(grads);
      return;
    }
    // Scratch arrays are reused where tf.tensor copies them (fewer large allocations, fewer
    // garbage collections); the cpu backend keeps the array it is given.
    const reuse = tensorCopiesValues();
    let at = 0;
    for (let k = 0; k < this.vars.length; k++) {
      const v = this.vars[k]!;
      const slot = this.slots[k]!;
      const n = v.size;
      const p = reuse ? this.scratch(0, n) : new Float32Array(n);
      const buf = reuse ? this.scratch(1, n) : new Float32Array(n);
      p.set(hostView(v)!);
      buf.set(hostView(slot)!);
      sgdLoop(p, buf, grad, at, momentum, weightDecay, lr);
      assignValues(slot, buf);
      assignValues(v, p);
      at += n;
    }
  }

  /** Reusable scratch array `i` (0 or 1), `size` long. */
  private scratch(i: 0 | 1, size: number): Float32Array {
    if (this.scratchArrays[i].length < size) this.scratchArrays[i] = new Float32Array(size);
    return this.scratchArrays[i].subarray(0, size);
  }

  /** Frees the slots. */
  dispose(): void {
    for (const s of this.slots) s.dispose();
  }
}

/** buf = μ·buf + (g + wd·p); p −= lr·buf, over one variable (g from `grad` at `offset`). */
function sgdLoop(
  p: Float32Array,
  buf: Float32Array,
  grad: Float32Array,
  offset: number,
  momentum: number,
  weightDecay: number,
  lr: number,
): void {
  for (let i = 0; i < p.length; i++) {
    const b = momentum * buf[i]! + (grad[offset + i]! + weightDecay * p[i]!);
    buf[i] = b;
    p[i] = p[i]! - lr * buf[i]!;
  }
}
