/**
 * The parsers of every input that comes from outside, with a valid sample each and the
 * fast-check inputs they are fuzzed with: random text (or bytes, or JSON) and the sample
 * mutated (characters or bytes replaced, inserted, cut; JSON fields replaced by any value).
 * Shared by the property test (`test/parsers-fuzz.test.ts`, a few hundred cases) and
 * `bench/fuzz` (10,000 per parser).
 *
 * A parser passes a case when it returns, or throws a kzr error whose kind is not `internal`
 * (a clear `field: problem` message), within {@link hangMs}. Anything else (a TypeError, a
 * RangeError, an internal error) is a crash.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';

import {
  ErrorKind,
  errorKindOf,
  formatTrainCsv,
  parseCodhCoordinates,
  parseCropList,
  parseDetectionSet,
  parseSubmissionCsv,
  parseTrainCsv,
  parseUnicodeTranslation,
} from '@kzr/core';
import { parseFilterManifest } from '@kzr/artifacts';
import { parseNpy, parseNpz } from '@kzr/data';
import { formatModel, parseCsvTable, parseModel, resolveParams, train } from '@kzr/gbdt';
import { parseShardIndex, ShardWriter } from '@kzr/imaging';
import { parseModelConfig } from '@kzr/ml';
import { pagesFromJson } from '@kzr/postprocess';
import fc from 'fast-check';

/** A case that takes longer than this counts as a hang. */
export const hangMs = 1000;

/** What a parser did with one input. */
export type Outcome = 'accepted' | 'clear-error' | 'crash' | 'hang';

/** One parser under fuzz. */
export interface FuzzedParser {
  readonly name: string;
  /** The inputs: the parser's own kind of value. */
  readonly inputs: fc.Arbitrary<unknown>;
  /** Parses one input; throws as the parser does. */
  run(input: unknown): unknown;
}

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Text with characters replaced, inserted or cut at random places (lines and separators kept likely). */
function mutatedText(sample: string): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    cut: fc.nat({ max: 8 }),
    insert: fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(',', '\n', '\r\n', ' ', '"', '\u0000', '-1', 'NaN', '1e309', '99999999999999999999', '\uFEFF'),
    ),
  });
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let text = sample;
    for (const e of edits) {
      const at = e.at % (text.length + 1);
      text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
    }
    return text;
  });
}

function textInputs(sample: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: mutatedText(sample) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
  );
}

/** The sample with bytes replaced, inserted or cut. */
function bytesInputs(sample: Buffer): fc.Arbitrary<Buffer> {
  const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 16 }), insert: fc.uint8Array({ maxLength: 8 }) });
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
        let bytes = sample;
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(e.insert), bytes.subarray(at + e.cut)]);
        }
        return bytes;
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  );
}

/** The sample with values at random paths replaced by any JSON value, or any JSON value (also the gRPC fuzz's requests). */
export function jsonInputs(sample: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]): void => {
    paths.push(path);
    if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    }
  };
  walk(sample, []);
  const replace = fc
    .array(fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 3 })
    .map((edits) => {
      const copy = JSON.parse(JSON.stringify(sample)) as Record<string, unknown>;
      let root: unknown = copy;
      for (const [path, value] of edits) {
        if (path.length === 0) {
          root = value;
          continue;
        }
        let at: unknown = root;
        for (const key of path.slice(0, -1))
          at = typeof at === 'object' && at !== null ? (at as never)[key] : undefined;
        if (typeof at === 'object' && at !== null) (at as Record<string, unknown>)[path.at(-1)!] = value;
      }
      return root;
    });
  return fc.oneof({ weight: 3, arbitrary: replace }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

function npy(): Buffer {
  let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
  header = header.padEnd(64 - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from([1, 2, 3, 4, 5, 6])]);
}

function sampleModelText(): string {
  const rows = 40;
  const values = new Float64Array(rows * 2);
  const labels = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    values[r * 2] = r % 7;
    values[r * 2 + 1] = (r * 13) % 5;
    labels[r] = r % 7 > 3 ? 1 : 0;
  }
  const params = resolveParams({ num_iterations: '2', num_leaves: '3', min_data_in_leaf: '2' });
  const { booster } = train({ features: { numRows: rows, numFeatures: 2, values }, labels }, params, {
    featureNames: ['a', 'b'],
  });
  return formatModel(booster);
}

function shardIndexSample(): unknown {
  const writer = new ShardWriter({ maxShardBytes: 1 << 20 });
  for (let i = 0; i < 2; i++) {
    writer.add(
      { width: 2, height: 2, channels: 1, data: new Uint8Array(4) },
      { label: 'U+3042', page: 'b1_00001_1', book: 'b1', box: [i, 0, 2, 2] },
    );
  }
  return JSON.parse(JSON.stringify(writer.finish().index)) as unknown;
}

/** Every parser under fuzz, with its inputs. Built once (it trains a two-tree model for its sample). */
export function fuzzedParsers(): FuzzedParser[] {
  const trainCsv = formatTrainCsv([
    { pageId: '100241706_00004_2', labels: [{ code: 'U+3042', x: 10, y: 20, width: 30, height: 40 }] },
    { pageId: '100241706_00005_1', labels: [] },
  ]);
  const codh = readFileSync(`${repo}../shared/data/codh/100241706_00004_2.coordinate.csv`, 'utf8')
    .split('\n')
    .slice(0, 6)
    .join('\n');
  const detection = {
    version: 1,
    name: 'det',
    pages: [{ pageId: 'p1', width: 100, height: 80, detections: [{ x: 1, y: 2, width: 10, height: 12, score: 0.9 }] }],
  };
  const modelConfig = JSON.parse(readFileSync(`${repo}configs/models/tiny-resnet-gray32.json`, 'utf8')) as unknown;
  const predictions = [
    {
      pageId: 'p1',
      pageWidth: 100,
      pageHeight: 80,
      detectionSet: 'det',
      characters: [
        { code: 'U+3042', probability: 0.9, detectorScore: 0.8, box: { x: 1, y: 2, width: 10, height: 12 } },
      ],
    },
  ];
  const filterManifest = {
    schemaVersion: 1,
    version: 'f20260101T000000Z-000',
    featureNames: ['char_score'],
    threshold: 0.5,
    models: ['model.txt'],
    importance: [{ feature: 'char_score', splits: 3 }],
    fit: { folds: 5 },
  };
  const text = (name: string, sample: string, run: (text: string) => unknown): FuzzedParser => ({
    name,
    inputs: textInputs(sample),
    run: (input) => run(input as string),
  });
  const json = (name: string, sample: unknown, run: (value: unknown) => unknown): FuzzedParser => ({
    name,
    inputs: jsonInputs(sample),
    run,
  });
  const zipped = (() => {
    // A stored zip of one .npy member, built by hand (local header, data, central directory, end).
    const data = npy();
    const name = Buffer.from('arr_0.npy');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + name.length, 12);
    end.writeUInt32LE(30 + name.length + data.length, 16);
    return Buffer.concat([local, name, data, central, name, end]);
  })();
  return [
    text('train.csv', trainCsv, (t) => parseTrainCsv(t, 'train.csv')),
    text('submission.csv', 'image_id,labels\np1,U+3042 10 20 U+3044 30 40\np2,\n', (t) =>
      parseSubmissionCsv(t, 'submission.csv'),
    ),
    text('unicode_translation.csv', 'Unicode,char\nU+3042,あ\nU+3044,い\n', (t) => parseUnicodeTranslation(t, 'u.csv')),
    text('crop list', 'U+3042,crops/U+3042/p_0.png\nU+3044,crops/U+3044/p_1.png\n', (t) => parseCropList(t, 'c.csv')),
    text('CODH coordinates', codh, (t) => parseCodhCoordinates(t, 'codh.csv')),
    text('detection set JSON', JSON.stringify(detection), (t) => parseDetectionSet(t, 'd.json')),
    text('LightGBM model.txt', sampleModelText(), (t) => parseModel(t)),
    text('feature table CSV', 'a,b,label\n1,2,0\n3,4.5,1\n', (t) => parseCsvTable(t)),
    { name: 'npy', inputs: bytesInputs(npy()), run: (b) => parseNpy(b as Buffer, 'x.npy') },
    { name: 'npz', inputs: bytesInputs(zipped), run: (b) => parseNpz(b as Buffer, 'x.npz') },
    json('prediction JSON', predictions, (v) => pagesFromJson(v, 'pages')),
    json('model config JSON', modelConfig, (v) => parseModelConfig(v)),
    json('shard index JSON', shardIndexSample(), (v) => parseShardIndex(v)),
    json('filter manifest JSON', filterManifest, (v) => parseFilterManifest(v)),
  ];
}

/** Runs one case and classifies it (see the module comment). */
export function runCase(parser: FuzzedParser, input: unknown): { outcome: Outcome; ms: number; error?: unknown } {
  const t0 = performance.now();
  let outcome: Outcome = 'accepted';
  let error: unknown;
  try {
    parser.run(input);
  } catch (err) {
    error = err;
    outcome = errorKindOf(err) === ErrorKind.Internal ? 'crash' : 'clear-error';
  }
  const ms = performance.now() - t0;
  if (ms > hangMs) outcome = 'hang';
  return { outcome, ms, error };
}
