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
/** The parts of tfjs-backend-wasm's backend that kernels written in JavaScript use. */
type WasmBackend = Backend & {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
};
type Attrs = tf.NamedAttrMap;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Names of the kernels {@link registerWasmTrainingKernels} installs (besides a sharing `Identity`). */
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

  /** A new float32 output on the heap (contents unset). */
  output(shape: number[]): Info {
    const out = (this.backend as WasmBackend).makeOutput(shape, 'float32');
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

  /** Puts (s - 1) zeros after every row / column of an NHWC tensor: [N, H·sh, W·sw, C]. */
  spread(x: Info, sh: number, sw: number): Info {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const six = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.pad(six, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return this.reshape(padded, [n, h * sh, w * sw, c]);
  }

  /** Inserts (s - 1) zeros between neighbouring rows / columns of an NHWC tensor. */
  dilate(dy: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return dy;
    const [n, oh, ow, c] = dy.shape as [number, number, number, number];
    return this.slice(this.spread(dy, sh, sw), [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]);
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

/**
 * Splits possibly negative paddings into the non-negative amounts a convolution pads by itself
 * and the crop (begin, size) to apply to the input first; undefined crop when nothing is cut.
 */
function splitPadding(
  shape: number[],
  paddings: Array<[number, number]>,
): { pads: Array<[number, number]>; crop?: { begin: number[]; size: number[] } } {
  const pads = paddings.map(([a, b]): [number, number] => [Math.max(a, 0), Math.max(b, 0)]);
  if (paddings.every(([a, b]) => a >= 0 && b >= 0)) return { pads };
  const begin = paddings.map(([a]) => Math.max(-a, 0));
  const size = shape.map((d, i) => d - begin[i]! - Math.max(-paddings[i]![1], 0));
  return { pads, crop: { begin, size } };
}

/**
 * A stride-1 NHWC Conv2D of `x` padded by `paddings` (height, width; negative amounts crop),
 * letting XNNPACK pad implicitly instead of materialising a padded copy.
 */
function paddedConv(
  ops: Ops,
  x: Info,
  filter: Info,
  paddings: [[number, number], [number, number]],
  dilations: [number, number] = [1, 1],
): Info {
  const { pads, crop } = splitPadding(x.shape, [[0, 0], paddings[0], paddings[1], [0, 0]]);
  const input = crop ? ops.slice(x, crop.begin, crop.size) : x;
  return ops.run('Conv2D', { x: input, filter }, { strides: 1, pad: pads, dataFormat: 'NHWC', dilations });
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
  const dyt = ops.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]: dy acts as the filter
  if (kh === 1 && kw === 1 && top === 0 && left === 0 && (info.strideHeight > 1 || info.strideWidth > 1)) {
    // A strided 1×1 convolution (the ResNet projection shortcut) reads only every s-th pixel:
    // gather those into [Ci, OH, OW, N] at once instead of transposing all of x and running a
    // dilated convolution whose output exceeds 1×1.
    const [n, oh, ow] = dy.shape as [number, number, number, number];
    const xs = ops.output([ci, oh, ow, n]);
    const backend = args.backend as WasmBackend;
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const out = backend.typedArrayFromHeap(xs) as Float32Array;
    const [, h, w] = x.shape as [number, number, number, number];
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    let at = 0;
    for (let c = 0; c < ci; c++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const src = (i * sh * w + j * sw) * ci + c;
          for (let b = 0; b < n; b++) out[at++] = xv[src + b * h * w * ci]!;
        }
      }
    }
    const conv = ops.run(
      'Conv2D',
      { x: xs, filter: dyt },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
    );
    return ops.finish(ops.reshape(conv, [1, 1, ci, co]));
  }
  const xt = ops.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]: channels act as the batch
  const conv = paddedConv(
    ops,
    xt,
    dyt,
    [
      [top, bottom],
      [left, right],
    ],
    [info.strideHeight, info.strideWidth],
  );
  const cut = conv.shape[1] === kh && conv.shape[2] === kw ? conv : ops.slice(conv, [0, 0, 0, 0], [ci, kh, kw, co]);
  return ops.finish(ops.transpose(cut, [1, 2, 0, 3]));
}

/**
 * The polyphase form of a transposed convolution along one axis. Input-gradient row i = s·m + r
 * (phase r) is Σ_j dy[m + d_j] · w[k_j] over the taps k ≡ (r + pad) mod s, at offsets d =
 * ⌊(r + pad)/s⌋ − j. All phases share one window of `size` dy rows starting at offset `dmin`;
 * `tap[r][a]` is the filter index used by phase r at window position a, or −1.
 */
interface Polyphase {
  readonly dmin: number;
  readonly size: number;
  /** Output rows per phase: ⌈length / stride⌉. */
  readonly rows: number;
  readonly tap: number[][];
}

function polyphase(k: number, stride: number, pad: number, length: number): Polyphase {
  const taps: Array<Array<[number, number]>> = [];
  let dmin = Infinity;
  let dmax = -Infinity;
  for (let r = 0; r < stride; r++) {
    const q = r + pad;
    const list: Array<[number, number]> = [];
    for (let j = 0, kk = q % stride; kk < k; j++, kk += stride) {
      const d = Math.floor(q / stride) - j;
      list.push([d, kk]);
      dmin = Math.min(dmin, d);
      dmax = Math.max(dmax, d);
    }
    taps.push(list);
  }
  if (dmin > dmax) throw new Error('composite wasm conv gradient: a stride larger than the filter leaves no taps');
  const size = dmax - dmin + 1;
  const tap = taps.map((list) => {
    const row = new Array<number>(size).fill(-1);
    for (const [d, kk] of list) row[d - dmin] = kk;
    return row;
  });
  return { dmin, size, rows: Math.ceil(length / stride), tap };
}

/**
 * dx as one stride-1 convolution of dy with a polyphase filter [KH', KW', Co, sh·sw·Ci] (each
 * output channel group is one phase of the stride; no zero-dilated dy, so no multiplications
 * by inserted zeros), the phases interleaved by a transpose, cropped to [N, H, W, Ci]. With
 * stride 1 this is the full correlation of dy with the flipped, channel-swapped filter.
 */
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: tf.KernelBackend }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, attrs, false);
  const backend = args.backend as WasmBackend;
  const ops = new Ops(backend);
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const [n, h, w] = inputShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  if (kh === 1 && kw === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 && (sh > 1 || sw > 1)) {
    // A strided 1×1 convolution: dy·Wᵀ at the sampled pixels, then zeros between them (three of
    // the four polyphase groups would be all zeros).
    const [, oh, ow] = dy.shape as [number, number, number, number];
    const wt = ops.reshape(ops.transpose(filter, [0, 1, 3, 2]), [1, 1, co, ci]);
    const conv = ops.run(
      'Conv2D',
      { x: dy, filter: wt },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
    );
    return ops.finish(
      ops.padOrCrop(ops.spread(conv, sh, sw), [
        [0, 0],
        [0, h - oh * sh],
        [0, w - ow * sw],
        [0, 0],
      ]),
    );
  }
  const ph = polyphase(kh, sh, info.padInfo.top, h);
  const pw = polyphase(kw, sw, info.padInfo.left, w);
  const phases = sh * sw;
  const fShape = [ph.size, pw.size, co, phases * ci];
  const f = ops.output(fShape);
  const wv = backend.typedArrayFromHeap(filter) as Float32Array;
  const fv = backend.typedArrayFromHeap(f) as Float32Array;
  fv.fill(0);
  for (let ah = 0; ah < ph.size; ah++) {
    for (let aw = 0; aw < pw.size; aw++) {
      for (let rh = 0; rh < sh; rh++) {
        const th = ph.tap[rh]![ah]!;
        if (th < 0) continue;
        for (let rw = 0; rw < sw; rw++) {
          const tw = pw.tap[rw]![aw]!;
          if (tw < 0) continue;
          const src = (th * kw + tw) * ci * co;
          const phase = (rh * sw + rw) * ci;
          for (let o = 0; o < co; o++) {
            const dst = ((ah * pw.size + aw) * co + o) * phases * ci + phase;
            for (let c = 0; c < ci; c++) fv[dst + c] = wv[src + c * co + o]!;
          }
        }
      }
    }
  }
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const conv = paddedConv(ops, dy, f, [
    [-ph.dmin, ph.rows - 1 + ph.dmin + ph.size - 1 - (oh - 1)],
    [-pw.dmin, pw.rows - 1 + pw.dmin + pw.size - 1 - (ow - 1)],
  ]);
  let out = conv;
  if (phases > 1) {
    // [N·Mh, Mw, sh, sw·Ci] -> [N·Mh, sh, Mw, sw·Ci] is [N, Mh·sh, Mw·sw, Ci] (wasm's
    // DepthToSpace is a scalar loop, ten times slower than this transpose).
    const t = ops.transpose(ops.reshape(conv, [n * ph.rows, pw.rows, sh, sw * ci]), [0, 2, 1, 3]);
    out = ops.reshape(t, [n, ph.rows * sh, pw.rows * sw, ci]);
  }
  if (out.shape[1] !== h || out.shape[2] !== w) out = ops.slice(out, [0, 0, 0, 0], [n, h, w, ci]);
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
 * `Identity` sharing the input's data (a reference count, as `Reshape` does and as the cpu
 * backend's `Identity` does) instead of wasm's copy. tfjs-core clones every tensor it saves for
 * the backward pass through `Identity`, so the stock kernel copied each layer's activations
 * during the forward pass; tensors are immutable, so sharing is equivalent.
 */
function sharedIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): Info {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') throw new Error('wasm Identity: string tensors are not supported');
  (args.backend as Backend & { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Registers the composite training kernels for `wasm` (replacing its slow `Conv2DBackpropInput`)
 * and the data-sharing `Identity`.
 * Call once per process, after importing `@tensorflow/tfjs-backend-wasm` and before (or after)
 * `tf.setBackend('wasm')`; later calls do nothing.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  const table: Array<[string, tf.KernelFunc]> = [
    ['Identity', sharedIdentity as tf.KernelFunc],
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
