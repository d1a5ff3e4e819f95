/**
 * Strict proto3 JSON checking against the `.proto` descriptors (loaded once with proto-loader).
 * ts-proto's `fromJSON` is lenient: it drops unknown fields and coerces wrong types (`5` becomes
 * `"5"`). Events cross process boundaries, so the Bus checks them here first and rejects what a
 * strict proto3 JSON parser would reject, naming the offending field.
 */
import * as protoLoader from '@grpc/proto-loader';

import { ValidationError } from '../errors.js';

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name?: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options: { mapEntry?: boolean } | null;
}
interface EnumDescriptor {
  value: Array<{ name: string; number: number }>;
}

const int32Types = new Set(['TYPE_INT32', 'TYPE_SINT32', 'TYPE_SFIXED32']);
const uint32Types = new Set(['TYPE_UINT32', 'TYPE_FIXED32']);
const int64Types = new Set(['TYPE_INT64', 'TYPE_SINT64', 'TYPE_SFIXED64']);
const uint64Types = new Set(['TYPE_UINT64', 'TYPE_FIXED64']);

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Checks plain JSON values against the messages of a set of `.proto` files. */
export class ProtoJsonChecker {
  readonly #definitions: protoLoader.PackageDefinition;
  readonly #package: string;

  /**
   * @param files `.proto` files relative to `includeDir`.
   * @param packageName the proto package names are resolved in, such as `kzr.v1`.
   */
  constructor(files: readonly string[], includeDir: string, packageName: string) {
    this.#definitions = protoLoader.loadSync([...files], { includeDirs: [includeDir], keepCase: true });
    this.#package = packageName;
  }

  /**
   * Throws a {@link ValidationError} (field = dotted path under `root`) unless `value` is valid
   * proto3 JSON of `typeName`. `undefined` and `null` count as absent.
   */
  check(typeName: string, value: unknown, root: string): void {
    this.#checkMessage(this.#message(typeName, undefined, root), value, root);
  }

  #lookup(typeName: string): protoLoader.AnyDefinition | undefined {
    const bare = typeName.startsWith('.') ? typeName.slice(1) : typeName;
    return this.#definitions[bare] ?? this.#definitions[`${this.#package}.${bare}`];
  }

  #message(typeName: string, parent: MessageDescriptor | undefined, path: string): MessageDescriptor {
    const nested = parent?.nestedType.find((t) => t.name === typeName || lowerCamel(t.name ?? '') === typeName);
    if (nested) return nested;
    const found = this.#lookup(typeName) as { format?: string; type?: unknown } | undefined;
    if (!found?.format?.includes('DescriptorProto') || found.format.includes('Enum')) {
      throw new ValidationError(path, `unknown message type ${typeName}`);
    }
    return found.type as MessageDescriptor;
  }

  #checkMessage(descriptor: MessageDescriptor, value: unknown, path: string): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ValidationError(path, 'expected an object');
    }
    const byName = new Map<string, FieldDescriptor>();
    for (const field of descriptor.field) {
      byName.set(field.name, field);
      byName.set(lowerCamel(field.name), field);
    }
    const seen = new Set<string>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = byName.get(key);
      const fieldPath = path ? `${path}.${key}` : key;
      if (!field) throw new ValidationError(fieldPath, 'unknown field');
      if (seen.has(field.name)) throw new ValidationError(fieldPath, 'field given twice');
      seen.add(field.name);
      if (fieldValue === undefined || fieldValue === null) continue;
      this.#checkField(descriptor, field, fieldValue, fieldPath);
    }
  }

  #checkField(parent: MessageDescriptor, field: FieldDescriptor, value: unknown, path: string): void {
    if (field.label === 'LABEL_REPEATED') {
      const entry =
        field.type === 'TYPE_MESSAGE'
          ? parent.nestedType.find((t) => t.options?.mapEntry && this.#sameName(t.name, field.typeName))
          : undefined;
      if (entry) {
        if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(path, 'expected a map object');
        const valueField = entry.field.find((f) => f.name === 'value');
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
          if (valueField) this.#checkSingle(entry, valueField, item, `${path}.${key}`);
        }
        return;
      }
      if (!Array.isArray(value)) throw new ValidationError(path, 'expected an array');
      value.forEach((item: unknown, index) => {
        // null means absent for a field, but a list has no absent items (proto3 JSON).
        if (item === null) throw new ValidationError(`${path}[${index}]`, 'expected a value, got null');
        this.#checkSingle(parent, field, item, `${path}[${index}]`);
      });
      return;
    }
    this.#checkSingle(parent, field, value, path);
  }

  #sameName(name: string | undefined, typeName: string): boolean {
    if (!name) return false;
    const short = typeName.split('.').pop() ?? typeName;
    return name === short || name === `${short}Entry` || lowerCamel(name) === short;
  }

  #checkSingle(parent: MessageDescriptor, field: FieldDescriptor, value: unknown, path: string): void {
    const type = field.type;
    if (type === 'TYPE_MESSAGE') {
      this.#checkMessage(this.#message(field.typeName, parent, path), value, path);
    } else if (type === 'TYPE_ENUM') {
      const found = this.#lookup(field.typeName) as { type?: EnumDescriptor } | undefined;
      const values = found?.type?.value ?? [];
      const ok =
        (typeof value === 'string' && values.some((v) => v.name === value)) ||
        (typeof value === 'number' && values.some((v) => v.number === value));
      if (!ok) throw new ValidationError(path, `expected a value of enum ${field.typeName}`);
    } else if (type === 'TYPE_STRING') {
      if (typeof value !== 'string') throw new ValidationError(path, 'expected a string');
    } else if (type === 'TYPE_BOOL') {
      if (typeof value !== 'boolean') throw new ValidationError(path, 'expected true or false');
    } else if (type === 'TYPE_BYTES') {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        throw new ValidationError(path, 'expected base64 bytes');
      }
    } else if (type === 'TYPE_DOUBLE' || type === 'TYPE_FLOAT') {
      const ok =
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(value) || isDecimal(value)));
      if (!ok) throw new ValidationError(path, 'expected a number');
    } else {
      checkInteger(type, value, path);
    }
  }
}

function isDecimal(value: string): boolean {
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value);
}

function checkInteger(type: string, value: unknown, path: string): void {
  const is64 = int64Types.has(type) || uint64Types.has(type);
  const unsigned = uint32Types.has(type) || uint64Types.has(type);
  if (!is64 && !int32Types.has(type) && !unsigned) throw new ValidationError(path, `unsupported field type ${type}`);
  let asBig: bigint;
  if (typeof value === 'number' && Number.isInteger(value)) asBig = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) asBig = BigInt(value);
  else throw new ValidationError(path, 'expected an integer');
  const bits = is64 ? 64n : 32n;
  const min = unsigned ? 0n : -(2n ** (bits - 1n));
  const max = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
  if (asBig < min || asBig > max) throw new ValidationError(path, `integer out of range [${min}, ${max}]`);
  if (is64 && typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new ValidationError(path, 'integer beyond 2^53 must be given as a string');
  }
}
