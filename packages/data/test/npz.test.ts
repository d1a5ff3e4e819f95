import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { DataFormatError, DataLimitError, listZipEntries, parseNpy, parseNpz, readNpz } from '../src/index.js';
import { sharedData } from './shared-data.js';
import { buildNpy, buildZip } from './zip-writer.js';

function sha256(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

// Computed once with Debian python3-numpy 1.24 (/usr/bin/python3):
// hashlib.sha256(np.load(f)['arr_0'].tobytes()).hexdigest()
const NUMPY_SHA256: Record<string, { shape: number[]; sha256: string }> = {
  'test_image_0.npz': { shape: [28, 28], sha256: 'bc049cf71eb2ff1a7f60fe13f308297f62fe8c75a9bfe71b605279f018ba5dcf' },
  'test_images_10.npz': {
    shape: [10, 28, 28],
    sha256: 'd575d834b402d8e7dd79d814c9813a7320555294dcb08586b4797ee6014c32c6',
  },
  'test_images_100.npz': {
    shape: [100, 28, 28],
    sha256: 'a60f1b669a3291a9a5f7f9b93463d3f9e5d4ac0d856c54b75be5ed92b035c686',
  },
};

describe('npz reader on the real Kuzushiji-49 fixtures', () => {
  it('decodes every file in shared/data/k49 to the uint8 arrays numpy decodes (sha256 equal)', async () => {
    const files = (await readdir(sharedData('k49'))).filter((f) => f.endsWith('.npz')).sort();
    assert.deepEqual(files, Object.keys(NUMPY_SHA256).sort());
    for (const file of files) {
      const arrays = await readNpz(sharedData('k49', file));
      assert.deepEqual([...arrays.keys()], ['arr_0']);
      const arr = arrays.get('arr_0')!;
      assert.equal(arr.dtype, 'uint8');
      assert.equal(arr.fortranOrder, false);
      assert.deepEqual(arr.shape, NUMPY_SHA256[file]!.shape);
      assert.equal(sha256(arr.data), NUMPY_SHA256[file]!.sha256, file);
    }
  });

  it('the 10-image file equals the first 10 images of the 100-image file, and the 1-image file the first', async () => {
    const ten = (await readNpz(sharedData('k49', 'test_images_10.npz'))).get('arr_0')!.data;
    const hundred = (await readNpz(sharedData('k49', 'test_images_100.npz'))).get('arr_0')!.data;
    const one = (await readNpz(sharedData('k49', 'test_image_0.npz'))).get('arr_0')!.data;
    assert.deepEqual(Buffer.from(ten.buffer), Buffer.from(hundred.buffer, 0, 10 * 28 * 28));
    assert.deepEqual(Buffer.from(one.buffer), Buffer.from(hundred.buffer, 0, 28 * 28));
    // Not trivially equal: images differ from each other.
    assert.notDeepEqual(Buffer.from(hundred.buffer, 0, 784), Buffer.from(hundred.buffer, 784, 784));
  });

  it('takes member sizes from the central directory although the local header says 0xFFFFFFFF', async () => {
    const buf = await readFile(sharedData('k49', 'test_images_100.npz'));
    assert.equal(buf.readUInt32LE(18), 0xffffffff); // the local header's compressed size
    const [entry] = listZipEntries(buf);
    assert.deepEqual(
      { name: entry!.name, method: entry!.method, c: entry!.compressedBytes, u: entry!.uncompressedBytes },
      { name: 'arr_0.npy', method: 8, c: 29506, u: 78528 },
    );
  });
});

describe('npz reader on archives in every layout', () => {
  const values = Buffer.from(new Float32Array([1.5, -2, 3.25, 0, 7, 8]).buffer);

  it('reads stored and deflated members, with ZIP64 extras in local and central headers and a ZIP64 end record', () => {
    const labels = Buffer.from([3, 1, 4, 1, 5]);
    const zip = buildZip(
      [
        { name: 'x.npy', data: buildNpy('<f4', [2, 3], values), method: 0, zip64Central: true },
        { name: 'y.npy', data: buildNpy('|u1', [5], labels, 2), method: 8, zip64Local: true, zip64Central: true },
      ],
      { zip64End: true },
    );
    const arrays = parseNpz(zip, 'layout.npz');
    assert.deepEqual([...arrays.keys()], ['x', 'y']);
    assert.deepEqual(arrays.get('x')!.shape, [2, 3]);
    assert.deepEqual([...(arrays.get('x')!.data as Float32Array)], [1.5, -2, 3.25, 0, 7, 8]);
    assert.equal(arrays.get('y')!.dtype, 'uint8');
    assert.deepEqual([...arrays.get('y')!.data], [3, 1, 4, 1, 5]);
  });

  it('swaps big-endian data, reads int64 and 0-d arrays', () => {
    const be = Buffer.alloc(8);
    be.writeInt32BE(-7, 0);
    be.writeInt32BE(65536, 4);
    assert.deepEqual([...parseNpy(buildNpy('>i4', [2], be)).data], [-7, 65536]);
    const i8 = Buffer.alloc(8);
    i8.writeBigInt64LE(-(2n ** 40n));
    const scalar = parseNpy(buildNpy('<i8', [], i8));
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual([...scalar.data], [-(2n ** 40n)]);
  });

  it('rejects a corrupt CRC, a short data block, an unknown dtype and a non-zip file with a named field', () => {
    const npy = buildNpy('<f4', [2, 3], values);
    const cases: Array<[Buffer, RegExp]> = [
      [buildZip([{ name: 'x.npy', data: npy, method: 8, badCrc: true }]), /zip\.x\.npy\.crc32/],
      [buildZip([{ name: 'x.npy', data: npy.subarray(0, npy.length - 4), method: 0 }]), /data: shape \(2, 3\)/],
      [buildZip([{ name: 'x.npy', data: buildNpy('<c8', [1], Buffer.alloc(8)), method: 0 }]), /header\.descr/],
      [buildZip([{ name: 'x.txt', data: Buffer.from('hi'), method: 0 }]), /must be \.npy/],
      [Buffer.from('definitely not a zip archive'), /endOfCentralDirectory/],
    ];
    for (const [buf, pattern] of cases) {
      assert.throws(
        () => parseNpz(buf, 'bad.npz'),
        (err: unknown) => DataFormatError.is(err) && err.kind === 'invalid' && pattern.test(err.message),
      );
    }
  });

  it('refuses a zip bomb by its declared sizes before inflating anything (issue 22, finding 4)', () => {
    // 4 MB of zeros deflate to about 4 KB; with a 1 MB budget it is refused at once.
    const bomb = buildZip([{ name: 'arr_0.npy', data: buildNpy('|u1', [4 << 20], Buffer.alloc(4 << 20)), method: 8 }]);
    assert.ok(bomb.length < 10_000);
    const t0 = performance.now();
    assert.throws(
      () => parseNpz(bomb, 'bomb.npz', { maxBytes: 1 << 20, limitName: '--max-bytes' }),
      (err: unknown) =>
        DataLimitError.is(err) &&
        err.kind === 'resource-exhausted' &&
        !err.retryable &&
        err.message === 'bomb.npz: zip: members of 4194432 bytes exceed --max-bytes = 1048576',
    );
    assert.ok(performance.now() - t0 < 100);
    // Under the default budget (1 GiB) the same archive reads.
    assert.equal(parseNpz(bomb, 'bomb.npz').get('arr_0')!.data.length, 4 << 20);
  });
});
