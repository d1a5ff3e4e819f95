/**
 * Exports a kzr zoo classifier (packages/ml) to ONNX: batch norm folded into the preceding
 * convolution, grouped and depthwise convolutions as ONNX `Conv` with `group`, squeeze-excitation,
 * and the cosine head (L2-normalised features times the pre-normalised, pre-scaled class weights).
 *
 * The graph is rebuilt from the classifier's {@link ArchitectureConfig}, its named variables and
 * the model zoo's own block plan (`efficientNetBlocks`); every derived shape is checked against
 * the stored weights, so a layout the exporter does not know throws instead of exporting a wrong
 * graph (the parity test catches the rest).
 *
 * Input `input` is NCHW float32 `[batch, channels, height, width]` (normalised pixels), output
 * `logits` is `[batch, numClasses]`, as PyTorch exports are; the engine converts kzr's NHWC.
 */
import { OnnxExportError } from '../errors.js';
import { bnEps } from '../models/efficientnet/constants.js';
import { efficientNetBlocks } from '../models/efficientnet/model.js';
import { defaultHeadScale } from '../models/head.js';
import { Arch, type ArchitectureConfig, type Classifier } from '../models/types.js';
import { attr, type OnnxAttribute, OnnxGraphBuilder } from './onnx-graph.js';

/** Name of the exported graph's input. */
export const onnxInputName = 'input';
/** Name of the exported graph's output. */
export const onnxOutputName = 'logits';

/** Options of {@link exportClassifierToOnnx}. */
export interface OnnxExportOptions {
  /** Fixed input side C, or undefined for symbolic height / width. */
  readonly inputSize?: number;
  /** Extra `metadata_props` written into the model (class map key, input spec, ...). */
  readonly metadata?: Readonly<Record<string, string>>;
}

interface Weights {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

type Family = 'resnet' | 'se-resnext' | 'efficientnet';

function familyOf(arch: Arch): Family {
  switch (arch) {
    case Arch.ResNet18:
    case Arch.ResNet34:
    case Arch.ResNet50:
    case Arch.ResNet101:
    case Arch.ResNet152:
      return 'resnet';
    case Arch.SeResNeXt50:
    case Arch.SeResNeXt101:
      return 'se-resnext';
    case Arch.EfficientNetB0:
    case Arch.EfficientNetB1:
    case Arch.EfficientNetB2:
    case Arch.EfficientNetB3:
    case Arch.EfficientNetB4:
      return 'efficientnet';
    default:
      throw new OnnxExportError(`architecture "${String(arch)}" has no ONNX exporter`);
  }
}

/** Exports `model` (eval mode) to a serialized ONNX `ModelProto`. */
export async function exportClassifierToOnnx(model: Classifier, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  const weights = new Map<string, Weights>();
  for (const e of model.params.entries) {
    weights.set(e.name, { shape: e.variable.shape, data: (await e.variable.data()) as Float32Array });
  }
  const g = new Exporter(model.config, weights);
  return g.run(options);
}

class Exporter {
  private readonly b = new OnnxGraphBuilder();
  private readonly used = new Set<string>();
  private readonly family: Family;
  private readonly eps: number;
  private readonly config: ArchitectureConfig;
  private readonly weights: Map<string, Weights>;

  constructor(config: ArchitectureConfig, weights: Map<string, Weights>) {
    this.config = config;
    this.weights = weights;
    this.family = familyOf(config.arch);
    this.eps = this.family === 'efficientnet' ? bnEps : 1e-5;
  }

  run(options: OnnxExportOptions): Uint8Array {
    let x = onnxInputName;
    x = this.family === 'efficientnet' ? this.efficientNet(x) : this.resNetFamily(x);
    const logits = this.head(x);
    const unused = [...this.weights.keys()].filter((k) => !this.used.has(k));
    if (unused.length > 0) {
      throw new OnnxExportError(
        `exporter did not use ${unused.length} variables, e.g. ${unused.slice(0, 3).join(', ')}`,
      );
    }
    const side = options.inputSize ?? 'height';
    return this.b.encode({
      input: {
        name: onnxInputName,
        dims: ['batch', this.config.inputChannels, side, options.inputSize ?? 'width'],
      },
      output: { name: logits, dims: ['batch', this.config.numClasses] },
      graphName: `kzr-${this.config.arch}`,
      producer: 'kzr',
      metadata: { 'kzr.arch': this.config.arch, ...options.metadata },
    });
  }

  private w(name: string): Weights {
    const found = this.weights.get(name);
    if (!found) throw new OnnxExportError(`variable ${name} is missing; the model layout changed`);
    this.used.add(name);
    return found;
  }

  private has(name: string): boolean {
    return this.weights.has(name);
  }

  /**
   * Conv (tfjs HWIO weights, dense / grouped `[k, k, in/groups, out]` / depthwise `[k, k, C, 1]`)
   * followed by folded batch norm: W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) (+ conv bias·scale).
   */
  private convBn(
    x: string,
    convName: string,
    bnName: string | undefined,
    o: { stride?: number; pad?: number | 'same'; depthwise?: boolean; groups?: number },
  ): string {
    const w = this.w(`${convName}.weight`);
    const [kh, kw, inPerGroup, outCh] = w.shape as [number, number, number, number];
    const depthwise = o.depthwise === true;
    const out = depthwise ? inPerGroup : outCh;
    const inG = depthwise ? 1 : inPerGroup;
    const ow = new Float32Array(out * inG * kh * kw);
    for (let y = 0; y < kh; y++) {
      for (let xk = 0; xk < kw; xk++) {
        for (let i = 0; i < inPerGroup; i++) {
          for (let c = 0; c < outCh; c++) {
            const src = ((y * kw + xk) * inPerGroup + i) * outCh + c;
            // depthwise: [k, k, C, 1] -> [C, 1, k, k]; otherwise HWIO -> OIHW.
            const [oc, ic] = depthwise ? [i, 0] : [c, i];
            ow[((oc * inG + ic) * kh + y) * kw + xk] = w.data[src]!;
          }
        }
      }
    }
    const bias = new Float32Array(out);
    if (this.has(`${convName}.bias`)) bias.set(this.w(`${convName}.bias`).data);
    if (bnName !== undefined) {
      const gamma = this.w(`${bnName}.weight`).data;
      const beta = this.w(`${bnName}.bias`).data;
      const mean = this.w(`${bnName}.running_mean`).data;
      const variance = this.w(`${bnName}.running_var`).data;
      const per = inG * kh * kw;
      for (let c = 0; c < out; c++) {
        const scale = gamma[c]! / Math.sqrt(variance[c]! + this.eps);
        for (let j = 0; j < per; j++) ow[c * per + j]! *= scale;
        bias[c] = beta[c]! + (bias[c]! - mean[c]!) * scale;
      }
    }
    const group = depthwise ? inPerGroup : (o.groups ?? 1);
    const attributes: Record<string, OnnxAttribute> = {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([o.stride ?? 1, o.stride ?? 1]),
    };
    const pad = o.pad ?? Math.floor(kh / 2);
    if (pad === 'same') attributes.auto_pad = attr.string('SAME_UPPER');
    else attributes.pads = attr.ints([pad, pad, pad, pad]);
    if (group !== 1) attributes.group = attr.int(group);
    const wName = this.b.constant(`${convName}.weight`, [out, inG, kh, kw], ow);
    const bName = this.b.constant(`${convName}.bias`, [out], bias);
    return this.b.node('Conv', [x, wName, bName], convName, attributes);
  }

  /** Grouped conv: `[k, k, in/groups, out]` weights, `group` = out / (in per group). */
  private groupedConvBn(x: string, convName: string, bnName: string, stride: number): string {
    const shape = this.weights.get(`${convName}.weight`)?.shape;
    if (!shape) throw new OnnxExportError(`variable ${convName}.weight is missing; the model layout changed`);
    const groups = shape[3]! / shape[2]!;
    return this.convBn(x, convName, bnName, { stride, groups });
  }

  private relu(x: string): string {
    return this.b.node('Relu', [x], `${x}.relu`);
  }

  private swish(x: string): string {
    return this.b.node('Mul', [x, this.b.node('Sigmoid', [x], `${x}.sigmoid`)], `${x}.swish`);
  }

  private squeezeExcite(x: string, reduce: string, expand: string, act: 'relu' | 'swish'): string {
    const s = this.b.node('GlobalAveragePool', [x], `${reduce}.pool`);
    const r = this.convBn(s, reduce, undefined, { pad: 0 });
    const a = act === 'relu' ? this.relu(r) : this.swish(r);
    const e = this.b.node('Sigmoid', [this.convBn(a, expand, undefined, { pad: 0 })], `${expand}.gate`);
    return this.b.node('Mul', [x, e], `${expand}.scaled`);
  }

  private resNetFamily(input: string): string {
    const se = this.family === 'se-resnext';
    const stemConv = se ? 'layer0.conv1' : 'conv1';
    const stemBn = se ? 'layer0.bn1' : 'bn1';
    const k = this.weights.get(`${stemConv}.weight`)?.shape[0];
    let x: string;
    if (k === 3) {
      x = this.relu(this.convBn(input, stemConv, stemBn, { pad: 1 }));
    } else {
      x = this.relu(this.convBn(input, stemConv, stemBn, { stride: 2, pad: 3 }));
      x = se
        ? this.b.node('MaxPool', [x], 'stem.pool', {
            kernel_shape: attr.ints([3, 3]),
            strides: attr.ints([2, 2]),
            ceil_mode: attr.int(1),
          })
        : this.b.node('MaxPool', [x], 'stem.pool', {
            kernel_shape: attr.ints([3, 3]),
            strides: attr.ints([2, 2]),
            pads: attr.ints([1, 1, 1, 1]),
          });
    }
    for (let stage = 1; stage <= 4; stage++) {
      for (let i = 0; this.has(`layer${stage}.${i}.conv1.weight`); i++) {
        const name = `layer${stage}.${i}`;
        const stride = i === 0 && stage > 1 ? 2 : 1;
        const bottleneck = this.has(`${name}.conv3.weight`);
        let y: string;
        if (!bottleneck) {
          y = this.relu(this.convBn(x, `${name}.conv1`, `${name}.bn1`, { stride }));
          y = this.convBn(y, `${name}.conv2`, `${name}.bn2`, {});
        } else {
          y = this.relu(this.convBn(x, `${name}.conv1`, `${name}.bn1`, { pad: 0 }));
          y = this.relu(
            se
              ? this.groupedConvBn(y, `${name}.conv2`, `${name}.bn2`, stride)
              : this.convBn(y, `${name}.conv2`, `${name}.bn2`, { stride }),
          );
          y = this.convBn(y, `${name}.conv3`, `${name}.bn3`, { pad: 0 });
          if (se) y = this.squeezeExcite(y, `${name}.se_module.fc1`, `${name}.se_module.fc2`, 'relu');
        }
        const shortcut = this.has(`${name}.downsample.0.weight`)
          ? this.convBn(x, `${name}.downsample.0`, `${name}.downsample.1`, { stride, pad: 0 })
          : x;
        x = this.relu(this.b.node('Add', [y, shortcut], `${name}.add`));
      }
    }
    return x;
  }

  private efficientNet(input: string): string {
    const plan = efficientNetBlocks(this.config);
    let x = this.swish(this.convBn(input, '_conv_stem', '_bn0', { stride: 2, pad: 'same' }));
    plan.forEach((p, idx) => {
      const name = `_blocks.${idx}`;
      const dw = this.weights.get(`${name}._depthwise_conv.weight`);
      const { kernel, expand } = p.stage;
      if (!dw || dw.shape[0] !== kernel || dw.shape[2] !== p.inCh * expand) {
        throw new OnnxExportError(`${name}: stored depthwise weights do not match the EfficientNet plan`);
      }
      let y = x;
      if (expand !== 1) y = this.swish(this.convBn(y, `${name}._expand_conv`, `${name}._bn0`, { pad: 0 }));
      y = this.swish(
        this.convBn(y, `${name}._depthwise_conv`, `${name}._bn1`, { stride: p.stride, pad: 'same', depthwise: true }),
      );
      y = this.squeezeExcite(y, `${name}._se_reduce`, `${name}._se_expand`, 'swish');
      y = this.convBn(y, `${name}._project_conv`, `${name}._bn2`, { pad: 0 });
      x = p.stride === 1 && p.inCh === p.outCh ? this.b.node('Add', [y, x], `${name}.add`) : y;
    });
    if (this.has(`_blocks.${plan.length}._depthwise_conv.weight`)) {
      throw new OnnxExportError('the model has more EfficientNet blocks than the plan');
    }
    return this.convBn(x, '_conv_head', '_bn1', { pad: 0 });
  }

  /** Global average pool, L2-normalised features, times the normalised class weights × α. */
  private head(x: string): string {
    const pooled = this.b.node('Flatten', [this.b.node('GlobalAveragePool', [x], 'pool')], 'features', {
      axis: attr.int(1),
    });
    const norm = this.b.node('ReduceL2', [pooled], 'features.norm', { axes: attr.ints([1]), keepdims: attr.int(1) });
    const clamped = this.b.node(
      'Max',
      [norm, this.b.constant('eps', [1], Float32Array.of(1e-12))],
      'features.norm.clamped',
    );
    const unit = this.b.node('Div', [pooled, clamped], 'features.unit');
    const w = this.w('head.weight');
    const [d, classes] = w.shape as [number, number];
    const scale = this.config.headScale ?? defaultHeadScale;
    const wn = new Float32Array(w.data.length);
    for (let j = 0; j < classes; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += w.data[i * classes + j]! ** 2;
      const f = scale / Math.max(Math.sqrt(s), 1e-12);
      for (let i = 0; i < d; i++) wn[i * classes + j] = w.data[i * classes + j]! * f;
    }
    return this.b.node('MatMul', [unit, this.b.constant('head.weight', [d, classes], wn)], onnxOutputName);
  }
}
