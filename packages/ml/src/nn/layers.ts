/**
 * Functional building blocks over {@link ParamSet} variables: convolutions (dense, grouped,
 * depthwise), batch norm with PyTorch semantics, squeeze-excitation, drop-connect. Shapes are
 * NHWC. Each builder registers its variables at build time and returns a function applied
 * inside the caller's `tf.tidy` / gradient scope.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@kzr/core';

import { fusedTrainingBatchNorm, hasBatchNormKernels } from './batch-norm-kernel.js';
import { constantInit, normalInit, type ParamSet, uniformInit } from './params.js';

/** Per-call state of a forward pass. */
export interface ForwardContext {
  /** Training mode: batch statistics in batch norm, drop-connect active. */
  readonly training: boolean;
  /** Batch-norm running-statistic updates collected in training mode (kept tensors). */
  readonly updates: Array<[tf.Variable, tf.Tensor]>;
  /** Randomness for drop-connect (training only). */
  readonly rng?: Rng;
}

/** A layer: tensor in, tensor out. */
export type Layer = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;

/** Builder shared by the model families. */
export interface BuildContext {
  readonly params: ParamSet;
  readonly rng: Rng;
}

/** Convolution padding: symmetric pixels (PyTorch `padding=`) or TF `same`. */
export type ConvPad = number | 'same';

/** Options of {@link conv}. */
export interface ConvOptions {
  readonly stride?: number;
  readonly pad?: ConvPad;
  readonly bias?: boolean;
  /** Initialisation: He normal, fan-out (torchvision ResNet), or fan-in uniform (PyTorch default). */
  readonly init?: 'kaiming-fan-out' | 'default';
}

function convWeights(
  b: BuildContext,
  name: string,
  shape: number[],
  fanIn: number,
  fanOut: number,
  init: string,
): tf.Variable {
  const size = shape.reduce((a, c) => a * c, 1);
  const values =
    init === 'kaiming-fan-out'
      ? normalInit(b.rng, size, Math.sqrt(2 / fanOut))
      : uniformInit(b.rng, size, 1 / Math.sqrt(fanIn));
  return b.params.add(`${name}.weight`, shape, values);
}

/** A dense (ungrouped) k×k convolution [k, k, in, out], optional bias. */
export function conv(
  b: BuildContext,
  name: string,
  inCh: number,
  outCh: number,
  k: number,
  o: ConvOptions = {},
): Layer {
  const stride = o.stride ?? 1;
  const pad = o.pad ?? Math.floor(k / 2);
  const w = convWeights(b, name, [k, k, inCh, outCh], k * k * inCh, k * k * outCh, o.init ?? 'kaiming-fan-out');
  const bias = o.bias
    ? b.params.add(`${name}.bias`, [outCh], uniformInit(b.rng, outCh, 1 / Math.sqrt(k * k * inCh)))
    : undefined;
  return (x) => {
    const y = tf.conv2d(x, w as tf.Tensor4D, stride, pad);
    return bias ? tf.add(y, bias) : y;
  };
}

/**
 * A grouped k×k convolution storing exactly the grouped weights `[k, k, in/groups, out]` (the
 * PyTorch layout moved to HWIO). tfjs has no grouped convolution; this one runs as a depthwise
 * convolution with channel multiplier out/groups followed by a sum over each group's input
 * channels (../shared/notes/ml-compute.md §6.1), which the composite wasm depthwise backprops
 * make trainable.
 */
export function groupedConv(
  b: BuildContext,
  name: string,
  channels: number,
  groups: number,
  k: number,
  o: ConvOptions = {},
): Layer {
  if (channels % groups !== 0) throw new Error(`${name}: ${channels} channels do not split into ${groups} groups`);
  if (groups === 1) return conv(b, name, channels, channels, k, o);
  const stride = o.stride ?? 1;
  const pad = o.pad ?? Math.floor(k / 2);
  const gs = channels / groups;
  const w = convWeights(b, name, [k, k, gs, channels], k * k * gs, k * k * gs, o.init ?? 'kaiming-fan-out');
  return (x) => {
    // w[kh, kw, j, g·gs + m] -> depthwise filter D[kh, kw, g·gs + j, m].
    const d = tf.reshape(tf.transpose(tf.reshape(w, [k, k, gs, groups, gs]), [0, 1, 3, 2, 4]), [k, k, channels, gs]);
    const y = tf.depthwiseConv2d(x, d as tf.Tensor4D, stride, pad);
    const [n, h, wd] = y.shape;
    // Depthwise output channel (g·gs + j)·gs + m; sum over j gives channel g·gs + m.
    return tf.reshape(tf.sum(tf.reshape(y, [n, h, wd, groups, gs, gs]), 4), [n, h, wd, channels]);
  };
}

/** A depthwise k×k convolution [k, k, C, 1] without bias. */
export function depthwiseConv(b: BuildContext, name: string, channels: number, k: number, o: ConvOptions = {}): Layer {
  const stride = o.stride ?? 1;
  const pad = o.pad ?? 'same';
  const w = convWeights(b, name, [k, k, channels, 1], k * k, k * k, o.init ?? 'kaiming-fan-out');
  return (x) => tf.depthwiseConv2d(x, w as tf.Tensor4D, stride, pad);
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** PyTorch momentum: running = (1 − m)·running + m·batch. @default 0.1 */
  readonly momentum?: number;
  /** @default 1e-5 */
  readonly eps?: number;
  /** Initial gamma (zero-init of the last BN in a residual block is not used by torchvision). @default 1 */
  readonly gamma?: number;
}

/**
 * Batch norm with PyTorch semantics: batch statistics (biased variance) in training mode, the
 * running mean / unbiased variance updated with `momentum`; running statistics in eval mode.
 */
export function batchNorm(b: BuildContext, name: string, channels: number, o: BatchNormOptions = {}): Layer {
  const p = batchNormParams(b, name, channels, o);
  return (x, ctx) => {
    if (!ctx.training)
      return tf.batchNorm4d(
        x,
        p.runMean as tf.Tensor1D,
        p.runVar as tf.Tensor1D,
        p.beta as tf.Tensor1D,
        p.gamma as tf.Tensor1D,
        p.eps,
      );
    return trainingBatchNormWithUpdates(x, ctx, p, false);
  };
}

/** The variables of one batch norm and its settings, defaults applied. */
interface BatchNormParams {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runMean: tf.Variable;
  readonly runVar: tf.Variable;
  readonly momentum: number;
  readonly eps: number;
}

/**
 * Registers a batch norm's variables (weight, bias, running mean, running variance, in this
 * order) and resolves its options; the one place that holds PyTorch's defaults.
 */
function batchNormParams(b: BuildContext, name: string, channels: number, o: BatchNormOptions): BatchNormParams {
  return {
    gamma: b.params.add(`${name}.weight`, [channels], constantInit(channels, o.gamma ?? 1)),
    beta: b.params.add(`${name}.bias`, [channels], constantInit(channels, 0)),
    runMean: b.params.add(`${name}.running_mean`, [channels], constantInit(channels, 0), false),
    runVar: b.params.add(`${name}.running_var`, [channels], constantInit(channels, 1), false),
    momentum: o.momentum ?? 0.1,
    eps: o.eps ?? 1e-5,
  };
}

/** Training-mode batch norm (+ ReLU) that also queues the running-statistic updates. */
function trainingBatchNormWithUpdates(
  x: tf.Tensor4D,
  ctx: ForwardContext,
  p: BatchNormParams,
  relu: boolean,
): tf.Tensor4D {
  const { y, mean, variance } = trainingBatchNorm(x, p.gamma, p.beta, p.eps, relu);
  const n = x.size / x.shape[3];
  const unbiased = n > 1 ? n / (n - 1) : 1;
  const m = p.momentum;
  ctx.updates.push([p.runMean, tf.keep(tf.add(tf.mul(p.runMean, 1 - m), tf.mul(mean, m)))]);
  ctx.updates.push([p.runVar, tf.keep(tf.add(tf.mul(p.runVar, 1 - m), tf.mul(variance, m * unbiased)))]);
  return y;
}

/**
 * Batch norm in training mode, optionally followed by ReLU, with a hand-written gradient: dx =
 * γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy (dy masked by the ReLU).
 * On wasm and cpu it runs as one fused kernel pair (`batch-norm-kernel.ts`); elsewhere it is
 * composed from tfjs ops (tfjs-core's FusedBatchNorm gradient builds its reductions with `Tile`,
 * which dominated a wasm training step; this form only broadcasts). Also returns the batch mean
 * and biased variance.
 */
export function trainingBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  relu = false,
): { y: tf.Tensor4D; mean: tf.Tensor; variance: tf.Tensor } {
  if (hasBatchNormKernels()) return fusedTrainingBatchNorm(x, gamma, beta, eps, relu);
  // The statistics are computed outside the custom op and enter it as constants: its gradient
  // already accounts for their dependence on x.
  const mean = tf.mean(x, [0, 1, 2]);
  const variance = tf.mean(tf.square(tf.sub(x, mean)), [0, 1, 2]);
  const f = tf.customGrad((...args: unknown[]) => {
    const [input, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(input, mean), invStd);
    save([xhat, invStd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [xh, inv, gm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const count = d.size / d.shape[3]!;
        const dBeta = tf.sum(d, [0, 1, 2]);
        const dGamma = tf.sum(tf.mul(d, xh), [0, 1, 2]);
        const dx = tf.mul(tf.mul(gm, inv), tf.sub(tf.sub(d, tf.div(dBeta, count)), tf.mul(xh, tf.div(dGamma, count))));
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = f(x, gamma, beta) as tf.Tensor4D;
  return { y: relu ? tf.relu(y) : y, mean, variance };
}

/** Applies the collected running-statistic updates (after a training step) and frees them. */
export function applyBatchNormUpdates(ctx: ForwardContext): void {
  for (const [v, value] of ctx.updates) {
    v.assign(value);
    value.dispose();
  }
  ctx.updates.length = 0;
}

/** Runs layers in order. */
export function sequential(...layers: Layer[]): Layer {
  return (x, ctx) => layers.reduce((y, layer) => layer(y, ctx), x);
}

/** ReLU. */
export const relu: Layer = (x) => tf.relu(x);

/** Swish / SiLU: x·sigmoid(x). */
export const swish: Layer = (x) => tf.mul(x, tf.sigmoid(x));

/**
 * Squeeze-excitation: global average pool, 1×1 conv (bias) to `squeezed`, activation, 1×1 conv
 * (bias) back to `channels`, sigmoid, channel-wise scale of the input.
 */
export function squeezeExcite(
  b: BuildContext,
  name: string,
  channels: number,
  squeezed: number,
  act: 'relu' | 'swish',
  names: readonly [string, string] = ['fc1', 'fc2'],
): Layer {
  const reduce = conv(b, `${name}.${names[0]}`, channels, squeezed, 1, { bias: true, pad: 0, init: 'default' });
  const expand = conv(b, `${name}.${names[1]}`, squeezed, channels, 1, { bias: true, pad: 0, init: 'default' });
  return (x, ctx) => {
    const s = tf.mean(x, [1, 2], true) as tf.Tensor4D;
    const r = reduce(s, ctx);
    const a = act === 'relu' ? tf.relu(r) : tf.mul(r, tf.sigmoid(r));
    return tf.mul(x, tf.sigmoid(expand(a as tf.Tensor4D, ctx)));
  };
}

/**
 * Drop-connect (stochastic depth) per sample: in training, each sample's branch is zeroed with
 * probability `rate` and the survivors scaled by 1 / (1 − rate). The mask comes from the
 * context's seeded generator.
 */
export function dropConnect(rate: number): Layer {
  return (x, ctx) => {
    if (!ctx.training || rate <= 0) return x;
    const n = x.shape[0];
    const keep = 1 - rate;
    const mask = new Float32Array(n);
    const rng = ctx.rng;
    if (!rng) throw new Error('drop-connect in training mode needs a seeded generator');
    for (let i = 0; i < n; i++) mask[i] = Math.floor(keep + rng.next()) / keep;
    return tf.mul(x, tf.tensor4d(mask, [n, 1, 1, 1]));
  };
}

/**
 * A convolution followed by batch norm and an optional ReLU. Training runs the convolution and
 * then batch norm with the ReLU fused into it; eval folds the BN into the convolution
 * (w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)) and runs one fused conv with bias and activation, which wasm
 * executes as a single XNNPACK call.
 */
export function convBn(
  b: BuildContext,
  convName: string,
  bnName: string,
  inCh: number,
  outCh: number,
  k: number,
  o: ConvOptions & { readonly bn?: BatchNormOptions; readonly relu?: boolean } = {},
): Layer {
  const convLayer = conv(b, convName, inCh, outCh, k, { ...o, bias: false });
  const bn = batchNormParams(b, bnName, outCh, o.bn ?? {});
  const w = b.params.get(`${convName}.weight`)!.variable;
  const stride = o.stride ?? 1;
  const pad = o.pad ?? Math.floor(k / 2);
  return (x, ctx) => {
    if (ctx.training) return trainingBatchNormWithUpdates(convLayer(x, ctx), ctx, bn, o.relu ?? false);
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runVar, bn.eps)));
    return tf.fused.conv2d({
      x,
      filter: tf.mul(w, scale) as tf.Tensor4D,
      strides: stride,
      pad,
      bias: tf.sub(bn.beta, tf.mul(bn.runMean, scale)),
      activation: o.relu ? 'relu' : 'linear',
    });
  };
}
