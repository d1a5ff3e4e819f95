import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  decodeShard,
  parseShardIndex,
  type RawImage,
  readShardRecordAt,
  readShardRecords,
  type ShardFile,
  ShardFormatError,
  ShardWriter,
} from '@kzr/imaging';

function seededCrops(n: number, seed: number): RawImage[] {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s >>> 8;
  };
  return Array.from({ length: n }, () => {
    const width = 1 + (next() % 40);
    const height = 1 + (next() % 40);
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = next() & 255;
    return { width, height, channels: 3, data };
  });
}

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('dataset shards', () => {
  it('writes records in the DESIGN layout and reads them back by offset, whole and streamed', async () => {
    const crops = seededCrops(25, 7);
    const writer = new ShardWriter({ maxShardBytes: 8000 });
    const files: ShardFile[] = [];
    crops.forEach((img, i) => {
      const done = writer.add(img, { label: `U+30${i}`, page: 'p1', book: 'b1', box: [i, i + 1, 10, 12] });
      if (done) files.push(done);
    });
    const { shard, index } = writer.finish();
    if (shard) files.push(shard);
    assert.ok(files.length > 1, 'the size limit splits the crops over several shards');
    assert.deepEqual(
      index.shards,
      files.map((f) => f.name),
    );
    assert.equal(files[0]!.name, 'shard-00000.bin');
    assert.equal(index.count, 25);
    // header bytes: u32 LE height, u32 LE width, u8 channels
    assert.equal(files[0]!.bytes.readUInt32LE(0), crops[0]!.height);
    assert.equal(files[0]!.bytes.readUInt32LE(4), crops[0]!.width);
    assert.equal(files[0]!.bytes[8], 3);

    const parsed = parseShardIndex(JSON.parse(JSON.stringify(index)));
    parsed.records.forEach((rec, i) => {
      const img = readShardRecordAt(files[rec.shard]!.bytes, rec.offset);
      assert.deepEqual([img.height, img.width, img.channels], [rec.h, rec.w, rec.c]);
      assert.deepEqual(img.data, crops[i]!.data);
      assert.equal(rec.label, `U+30${i}`);
    });

    const whole = decodeShard(files[1]!.bytes);
    const streamed = [];
    for await (const r of readShardRecords(chunked(files[1]!.bytes, 37))) streamed.push(r);
    assert.deepEqual(
      streamed.map((r) => r.offset),
      whole.map((r) => r.offset),
    );
    assert.deepEqual(streamed.at(-1)!.image.data, whole.at(-1)!.image.data);
  });

  it('refuses a truncated shard and a malformed index', async () => {
    const writer = new ShardWriter();
    for (const img of seededCrops(3, 1)) writer.add(img, { label: 'U+3042', page: 'p', book: 'b', box: [0, 0, 1, 1] });
    const { shard, index } = writer.finish();
    const cut = shard!.bytes.subarray(0, shard!.bytes.length - 5);
    await assert.rejects(async () => {
      for await (const _ of readShardRecords(chunked(cut, 100))) void _;
    }, ShardFormatError);
    assert.throws(() => decodeShard(cut), /runs past the end/);
    assert.throws(() => parseShardIndex({ ...index, count: 4 }), /count 4 != 3/);
    assert.throws(() => parseShardIndex({ ...index, version: 9 }), /unsupported version/);
  });
});
