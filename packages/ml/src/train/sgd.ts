/**
 * PyTorch `torch.optim.SGD` with momentum (not Nesterov), dampening 0 and L2 weight decay on
 * every parameter: d = g + wd·p; buf = μ·buf + d (buf = d at the first step); p -= lr·buf.
 * The momentum buffers are the optimizer slots a checkpoint stores.
 */
import * as tf from '@tensorflow/tfjs';

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

  /** Frees the slots. */
  dispose(): void {
    for (const s of this.slots) s.dispose();
  }
}
