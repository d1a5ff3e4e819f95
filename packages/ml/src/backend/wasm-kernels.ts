/**
 * Composite training kernels for the wasm backend, which lacks `Conv2DBackpropFilter` and both
 * depthwise backprops and whose stock `Conv2DBackpropInput` is a slow scalar loop
 * (../shared/notes/ml-compute.md §3.3). Each gradient is rewritten as an ordinary stride-1,
 * `valid` convolution over padded / transposed / zero-dilated tensors, built only from kernels
 * wasm already has (XNNPACK `Conv2D` and `DepthwiseConv2dNative`, `PadV2`, `Transpose`,
 * `Reshape`, `Slice`, `Reverse`, `Sum`).
 *
 * Kernel functions call the wasm kernel functions directly on `TensorInfo`s (no engine
 * tracking) and free every intermediate with `backend.disposeData`, returning only the output.
 * NHWC only; forward dilation must be 1.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend & { disposeData(dataId: object, force?: boolean): boolean };
type Attrs = tf.NamedAttrMap;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Names of the kernels {@link registerWasmTrainingKernels} installs. */
export const compositeWasmKernels = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

let registered = false;

/** Runs registered wasm kernels while remembering every intermediate for disposal. */
class Ops {
  private readonly temps: Info[] = [];
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  run(name: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as Info;
    this.temps.push(out);
    return out;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** Pads with possibly negative amounts (a negative amount crops that side). */
  padOrCrop(x: Info, paddings: Array<[number, number]>): Info {
    const padded = this.pad(
      x,
      paddings.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]),
    );
    if (paddings.every(([a, b]) => a >= 0 && b >= 0)) return padded;
    const begin = paddings.map(([a]) => Math.max(-a, 0));
    const size = padded.shape.map((d, i) => d - begin[i]! - Math.max(-paddings[i]![1], 0));
    return this.slice(padded, begin, size);
  }

  /** Inserts (s - 1) zeros between neighbouring rows / columns of an NHWC tensor. */
  dilate(dy: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return dy;
    const [n, oh, ow, c] = dy.shape as [number, number, number, number];
    const six = this.reshape(dy, [n, oh, 1, ow, 1, c]);
    const padded = this.pad(six, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    const flat = this.reshape(padded, [n, oh * sh, ow * sw, c]);
    return this.slice(flat, [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]);
  }

  /** Frees every intermediate except `keep`. */
  finish(keep: Info): Info {
    for (const t of this.temps) {
      if (t !== keep) this.backend.disposeData(t.dataId);
    }
    return keep;
  }
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  const dilations = (attrs['dilations'] as number | [number, number] | undefined) ?? 1;
  const d = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (d[0] !== 1 || d[1] !== 1) throw new Error('composite wasm conv gradients support dilation 1 only');
  if (attrs['dataFormat'] !== undefined && attrs['dataFormat'] !== 'NHWC') {
    throw new Error('composite wasm conv gradients support NHWC only');
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as [number, number] | number,
    1,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

/** dW[kh, kw, ci, co] = Σ xpad[n, oh·sh + kh, ow·sw + kw, ci] · dy[n, oh, ow, co]. */
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs ?? {};
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, attrs, false);
  const ops = new Ops(args.backend as Backend);
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw, ci, co] = filterShape;
  const xpad = ops.padOrCrop(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
  const xt = ops.transpose(xpad, [3, 1, 2, 0]); // [Ci, Hp, Wp, N]: channels act as the batch
  const dyt = ops.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]: dy acts as the filter
  const conv = ops.run(
    'Conv2D',
    { x: xt, filter: dyt },
    { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] },
  );
  const cut = ops.slice(conv, [0, 0, 0, 0], [ci, kh, kw, co]);
  return ops.finish(ops.transpose(cut, [1, 2, 0, 3]));
}

/** dx = full correlation of the zero-dilated dy with the flipped, channel-swapped filter. */
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, attrs, false);
  const ops = new Ops(args.backend as Backend);
  const [kh, kw] = filter.shape as [number, number, number, number];
  const padded = padForInputGradient(ops, dy, info, inputShape, kh, kw);
  const flipped = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = ops.transpose(flipped, [0, 1, 3, 2]); // [KH, KW, Co, Ci]
  const out = ops.run(
    'Conv2D',
    { x: padded, filter: swapped },
    { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
  );
  return ops.finish(out);
}

function padForInputGradient(
  ops: Ops,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  inputShape: number[],
  kh: number,
  kw: number,
): Info {
  const [, h, w] = inputShape as [number, number, number, number];
  const dilated = ops.dilate(dy, info.strideHeight, info.strideWidth);
  const [, hd, wd] = dilated.shape as [number, number, number, number];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  return ops.padOrCrop(dilated, [
    [0, 0],
    [top, h + kh - 1 - top - hd],
    [left, w + kw - 1 - left - wd],
    [0, 0],
  ]);
}

/** Depthwise dW[kh, kw, c, m] = Σ xpad[n, oh·sh + kh, ow·sw + kw, c] · dy[n, oh, ow, c·M + m]. */
function depthwiseBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: Attrs;
  backend: tf.KernelBackend;
}): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs ?? {};
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, attrs, true);
  const ops = new Ops(args.backend as Backend);
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw, c, m] = filterShape;
  const [n, oh, ow] = dy.shape as [number, number, number, number];
  const xpad = ops.padOrCrop(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
  const [, hp, wp] = xpad.shape as [number, number, number, number];
  // Fold the batch into the channels: one image [1, Hp, Wp, N·C], channel n·C + c.
  const xt = ops.reshape(ops.transpose(xpad, [1, 2, 0, 3]), [1, hp, wp, n * c]);
  // dy as a depthwise filter [OH, OW, N·C, M].
  const dyt = ops.reshape(ops.transpose(ops.reshape(dy, [n, oh, ow, c * m]), [1, 2, 0, 3]), [oh, ow, n * c, m]);
  const conv = ops.run(
    'DepthwiseConv2dNative',
    { x: xt, filter: dyt },
    { strides: 1, pad: 'valid', dilations: [info.strideHeight, info.strideWidth] },
  );
  const [, ch, cw] = conv.shape as [number, number, number, number];
  const cut = ops.slice(ops.reshape(conv, [ch, cw, n, c * m]), [0, 0, 0, 0], [kh, kw, n, c * m]);
  const summed = ops.run('Sum', { x: cut }, { axis: [2], keepDims: false });
  return ops.finish(ops.reshape(summed, [kh, kw, c, m]));
}

/** Depthwise dx[·, c] = Σ_m full correlation of dilated dy[·, c·M + m] with flipped W[·, ·, c, m]. */
function depthwiseBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: Attrs;
  backend: tf.KernelBackend;
}): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, attrs, true);
  const ops = new Ops(args.backend as Backend);
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const [n, h, w] = inputShape;
  const padded = padForInputGradient(ops, dy, info, inputShape, kh, kw);
  const flipped = ops.reshape(ops.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, c * m, 1]);
  const conv = ops.run(
    'DepthwiseConv2dNative',
    { x: padded, filter: flipped },
    { strides: 1, pad: 'valid', dilations: 1 },
  );
  if (m === 1) return ops.finish(conv);
  const summed = ops.run('Sum', { x: ops.reshape(conv, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  return ops.finish(summed);
}

/**
 * Registers the composite training kernels for `wasm` (replacing its slow `Conv2DBackpropInput`).
 * Call once per process, after importing `@tensorflow/tfjs-backend-wasm` and before (or after)
 * `tf.setBackend('wasm')`; later calls do nothing.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  const table: Array<[string, tf.KernelFunc]> = [
    ['Conv2DBackpropFilter', conv2DBackpropFilter as tf.KernelFunc],
    ['Conv2DBackpropInput', conv2DBackpropInput as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of table) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
