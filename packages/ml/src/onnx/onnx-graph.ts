/**
 * An ONNX graph under construction and its encoding as an `onnx.ModelProto` (field numbers of
 * onnx/onnx.proto). Only what the kzr exporter emits: float tensors, nodes of the default
 * domain with int / ints / float / string attributes, one opset import.
 */
import { ProtoWriter } from './protobuf-writer.js';

/** ONNX `TensorProto.DataType` values used here. */
export const OnnxDataType = { Float: 1, Int64: 7 } as const;
/** One of {@link OnnxDataType}. */
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** An attribute value: an int, a float, a list of ints or a string. */
export type OnnxAttribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

/** Shorthands for attributes. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

/** A graph input or output: a float tensor whose dims are sizes or symbolic names. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dims: ReadonlyArray<number | string>;
}

interface NodeEntry {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly attributes: Readonly<Record<string, OnnxAttribute>>;
}

interface InitializerEntry {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: OnnxDataType;
  readonly data: Float32Array | BigInt64Array;
}

/** Default opset of exported models (ONNX Runtime 1.30 supports it fully). */
export const defaultOpset = 17;

/** Collects nodes and initializers in topological order. */
export class OnnxGraphBuilder {
  private readonly nodes: NodeEntry[] = [];
  private readonly initializers: InitializerEntry[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  private fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds a float32 constant; returns its (unique) name. */
  constant(name: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, c) => a * c, 1);
    if (size !== data.length)
      throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    const unique = this.fresh(name);
    this.initializers.push({ name: unique, dims, type: OnnxDataType.Float, data });
    return unique;
  }

  /** Adds an int64 constant (shapes, axes); returns its name. */
  constantInt64(name: string, values: readonly number[]): string {
    const unique = this.fresh(name);
    this.initializers.push({
      name: unique,
      dims: [values.length],
      type: OnnxDataType.Int64,
      data: BigInt64Array.from(values.map((v) => BigInt(v))),
    });
    return unique;
  }

  /** Adds a node with one output; returns the output's name. */
  node(
    op: string,
    inputs: readonly string[],
    outputHint: string,
    attributes: Record<string, OnnxAttribute> = {},
  ): string {
    const output = this.fresh(outputHint);
    this.nodes.push({ op, inputs, output, attributes });
    return output;
  }

  /** Encodes the graph as a serialized `ModelProto`. */
  encode(options: {
    readonly input: OnnxValueInfo;
    readonly output: OnnxValueInfo;
    readonly graphName: string;
    readonly producer: string;
    readonly metadata?: Readonly<Record<string, string>>;
    readonly opset?: number;
  }): Uint8Array {
    const graph = new ProtoWriter();
    this.nodes.forEach((n, i) => graph.message(1, encodeNode(n, i)));
    graph.string(2, options.graphName);
    for (const init of this.initializers) graph.message(5, encodeTensor(init));
    graph.message(11, encodeValueInfo(options.input));
    graph.message(12, encodeValueInfo(options.output));
    const model = new ProtoWriter()
      .int(1, 8) // ir_version 8 (opset 17 era)
      .string(2, options.producer)
      .string(3, '0.1.0')
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, options.opset ?? defaultOpset));
    for (const [key, value] of Object.entries(options.metadata ?? {})) {
      model.message(14, new ProtoWriter().string(1, key).string(2, value));
    }
    return model.finish();
  }
}

function encodeNode(n: NodeEntry, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  w.string(2, n.output).string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, encodeAttribute(name, a));
  return w;
}

function encodeAttribute(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float':
      return w.float(2, a.value).int(20, 1);
    case 'int':
      return w.int(3, a.value).int(20, 2);
    case 'string':
      return w.string(4, a.value).int(20, 3);
    case 'ints':
      return w.packedInts(8, a.value).int(20, 7);
  }
}

function encodeTensor(t: InitializerEntry): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.type).string(8, t.name);
  // raw_data is little-endian, which typed arrays are on every platform Node supports here.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().int(1, OnnxDataType.Float).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}
