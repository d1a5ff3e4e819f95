/**
 * The Open Inference Protocol v2 gRPC service (`inference.GRPCInferenceService`, proto in
 * proto/inference/v2). Model = model set, version = set version. ModelInfer takes one input,
 * crops as UINT8 (0–255) or FP32 (0–1) NHWC `[N, S, S, channels]` at the set's scale size S
 * (channels 1 or 3), as `raw_input_contents` or typed contents; parameters `tta` (bool,
 * default true) and `voting` ("hard" | "soft"). Outputs: `probabilities` FP32 `[N, classes]`
 * (rows sum to 1) and `labels` BYTES `[N]` (the voted code per crop).
 */
import {
  GRPCInferenceServiceService,
  type InferParameter,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensor,
  type ModelMetadataResponse,
} from '@kzr/api/inference/v2/grpc_predict_v2';
import { type RawImage } from '@kzr/imaging';
import { type CallContext, type GrpcServiceRegistration, implement, ValidationError } from '@kzr/platform';
import { checkSegment, type VotingMode } from '@kzr/artifacts';

import { classifyCrops } from './ensemble/classify.js';
import { type LoadedModelSet } from './models/load-model-set.js';
import { checkSignal, measured, Serving, type ServingOptions } from './serving.js';

/** Fully qualified name of the OIP service. */
export const oipServiceName = 'inference.GRPCInferenceService';
/** Names of the OIP tensors. */
export const oipTensor = { Input: 'crops', Probabilities: 'probabilities', Labels: 'labels' } as const;

/** The input geometry a set accepts over OIP: S and the widest member's channels. */
export function oipInputShape(set: LoadedModelSet): { side: number; channels: 1 | 3 } {
  const side = set.members[0]!.input.scaleSize;
  const channels = set.members.some((m) => m.input.channels === 3) ? 3 : 1;
  return { side, channels };
}

function metadata(set: LoadedModelSet): ModelMetadataResponse {
  const { side, channels } = oipInputShape(set);
  return {
    name: set.modelSet,
    versions: [set.version],
    platform: 'kzr_ensemble',
    inputs: [{ name: oipTensor.Input, datatype: 'UINT8', shape: [-1, side, side, channels] }],
    outputs: [
      { name: oipTensor.Probabilities, datatype: 'FP32', shape: [-1, set.codes.length] },
      { name: oipTensor.Labels, datatype: 'BYTES', shape: [-1] },
    ],
  };
}

function param(
  params: Readonly<Record<string, InferParameter>>,
  name: string,
): InferParameter['parameterChoice'] | undefined {
  return params[name]?.parameterChoice;
}

function options(request: ModelInferRequest): { tta: boolean; voting?: VotingMode } {
  const tta = param(request.parameters, 'tta');
  const voting = param(request.parameters, 'voting');
  if (tta !== undefined && tta.$case !== 'boolParam') throw new ValidationError('parameters.tta', 'expected a bool');
  let v: VotingMode | undefined;
  if (voting !== undefined) {
    if (voting.$case !== 'stringParam' || (voting.value !== 'hard' && voting.value !== 'soft')) {
      throw new ValidationError('parameters.voting', 'expected the string "hard" or "soft"');
    }
    v = voting.value;
  }
  return { tta: tta?.value ?? true, ...(v ? { voting: v } : {}) };
}

/** Reads the input tensor into crops; throws INVALID_ARGUMENT naming the problem. */
export function cropsFromTensor(request: ModelInferRequest, set: LoadedModelSet, maxCrops: number): RawImage[] {
  if (request.inputs.length !== 1) {
    throw new ValidationError(
      'inputs',
      `expected exactly one input tensor (${oipTensor.Input}), got ${request.inputs.length}`,
    );
  }
  const input = request.inputs[0]!;
  const { side } = oipInputShape(set);
  const shape = input.shape;
  if (shape.length !== 4)
    throw new ValidationError('inputs[0].shape', `expected [N, ${side}, ${side}, C], got [${shape.join(', ')}]`);
  const [n, h, w, c] = shape as [number, number, number, number];
  if (h !== side || w !== side) {
    throw new ValidationError('inputs[0].shape', `crops must be ${side}x${side} (the set's input size), got ${h}x${w}`);
  }
  if (c !== 1 && c !== 3) throw new ValidationError('inputs[0].shape', `channels must be 1 or 3, got ${c}`);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError('inputs[0].shape', `batch must be ≥ 1, got ${n}`);
  if (n > maxCrops) throw new ValidationError('inputs[0].shape', `${n} crops exceed the limit of ${maxCrops}`);
  const count = n * h * w * c;
  const raw = request.rawInputContents[0];
  if (raw !== undefined && input.contents !== undefined) {
    throw new ValidationError('inputs[0].contents', 'give raw_input_contents or contents, not both');
  }
  let pixels: Uint8Array;
  if (input.datatype === 'UINT8') {
    if (raw !== undefined) {
      if (raw.length !== count)
        throw new ValidationError('raw_input_contents[0]', `expected ${count} bytes, got ${raw.length}`);
      pixels = raw;
    } else {
      const v = input.contents?.uintContents ?? [];
      if (v.length !== count)
        throw new ValidationError('inputs[0].contents.uint_contents', `expected ${count} values, got ${v.length}`);
      if (v.some((x) => x > 255))
        throw new ValidationError('inputs[0].contents.uint_contents', 'UINT8 values must be ≤ 255');
      pixels = Uint8Array.from(v);
    }
  } else if (input.datatype === 'FP32') {
    let floats: ArrayLike<number>;
    if (raw !== undefined) {
      if (raw.length !== count * 4)
        throw new ValidationError('raw_input_contents[0]', `expected ${count * 4} bytes, got ${raw.length}`);
      const copy = new Uint8Array(raw);
      floats = new Float32Array(copy.buffer, 0, count);
    } else {
      floats = input.contents?.fp32Contents ?? [];
      if (floats.length !== count)
        throw new ValidationError('inputs[0].contents.fp32_contents', `expected ${count} values, got ${floats.length}`);
    }
    pixels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const f = floats[i]!;
      if (!(f >= 0 && f <= 1))
        throw new ValidationError('inputs[0]', `FP32 pixels must lie in [0, 1]; value ${i} is ${f}`);
      pixels[i] = Math.round(f * 255);
    }
  } else {
    throw new ValidationError('inputs[0].datatype', `expected UINT8 or FP32, got ${JSON.stringify(input.datatype)}`);
  }
  const size = h * w * c;
  return Array.from({ length: n }, (_, i) => ({
    width: w,
    height: h,
    channels: c,
    data: pixels.subarray(i * size, (i + 1) * size),
  }));
}

function bytesTensorRaw(values: readonly string[]): Uint8Array {
  // OIP BYTES raw form: each element as a 4-byte little-endian length, then its bytes.
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** ModelInfer. */
export async function handleModelInfer(
  serving: Serving,
  request: ModelInferRequest,
  signal?: AbortSignal,
): Promise<ModelInferResponse> {
  using lease = serving.lease(request.modelName || undefined, request.modelVersion);
  const set = lease.set;
  const opts = options(request);
  const crops = cropsFromTensor(request, set, serving.limits.maxCropsPerRequest);
  const wanted = request.outputs.map((o, i) => {
    if (o.name !== oipTensor.Probabilities && o.name !== oipTensor.Labels) {
      throw new ValidationError(`outputs[${i}].name`, `unknown output ${JSON.stringify(o.name)}`);
    }
    return o.name;
  });
  const names = wanted.length > 0 ? wanted : [oipTensor.Probabilities, oipTensor.Labels];
  checkSignal(signal);
  const predictions = await classifyCrops(set, crops, { ...opts, topK: 1 });
  checkSignal(signal);
  const n = crops.length;
  const k = set.codes.length;
  const probs = new Float32Array(n * k);
  predictions.forEach((p, i) => probs.set(p.probabilities, i * k));
  const codes = predictions.map((p) => p.label.code);
  const useRaw = request.rawInputContents.length > 0;
  const outputs: ModelInferResponse_InferOutputTensor[] = [];
  const raws: Uint8Array[] = [];
  for (const name of names) {
    const isProb = name === oipTensor.Probabilities;
    const tensor: ModelInferResponse_InferOutputTensor = {
      name,
      datatype: isProb ? 'FP32' : 'BYTES',
      shape: isProb ? [n, k] : [n],
      parameters: {},
      contents: undefined,
    };
    if (useRaw) raws.push(isProb ? new Uint8Array(probs.buffer) : bytesTensorRaw(codes));
    else {
      tensor.contents = {
        boolContents: [],
        intContents: [],
        int64Contents: [],
        uintContents: [],
        uint64Contents: [],
        fp32Contents: isProb ? Array.from(probs) : [],
        fp64Contents: [],
        bytesContents: isProb ? [] : codes.map((c) => Buffer.from(c, 'utf8')),
      };
    }
    outputs.push(tensor);
  }
  return {
    modelName: set.modelSet,
    modelVersion: set.version,
    id: request.id,
    parameters: {},
    outputs,
    rawOutputContents: raws,
  };
}

/** Builds the OIP service registration. */
export function createOipService(options: ServingOptions | Serving): GrpcServiceRegistration {
  const serving = options instanceof Serving ? options : new Serving(options);
  const { registry } = serving;
  return {
    name: oipServiceName,
    definition: GRPCInferenceServiceService,
    implementation: implement(
      GRPCInferenceServiceService,
      {
        // Handlers are async so that a synchronous throw becomes a mapped status, not UNKNOWN.
        serverLive: async () => ({ live: true }),
        serverReady: async () => ({ ready: registry.ready() }),
        modelReady: async (request) => {
          if (request.version !== '') checkSegment('version', request.version);
          const status = registry.status(request.name);
          return {
            ready: status.state === 'ready' && (request.version === '' || request.version === status.version),
          };
        },
        serverMetadata: async () => ({ name: 'kzr', version: '0.1.0', extensions: [] }),
        modelMetadata: async (request) => {
          using lease = serving.lease(request.name || undefined, request.version);
          return metadata(lease.set);
        },
        modelInfer: async (request, ctx: CallContext) =>
          measured(
            serving,
            'ModelInfer',
            () => handleModelInfer(serving, request, ctx.signal),
            (out) => `${out.modelName}@${out.modelVersion}`,
          ),
      },
      serving.logger,
    ),
  };
}
