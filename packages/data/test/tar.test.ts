import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import sharp from 'sharp';

import { DataFormatError, decodeGreyPng, readKuzushijiKanji, readTarEntries } from '../src/index.js';

const run = promisify(execFile);

/** A 64x64 greyscale PNG whose pixels encode `seed`, as Kuzushiji-Kanji stores them. */
async function kanjiPng(seed: number): Promise<{ png: Buffer; pixels: Buffer }> {
  const pixels = Buffer.alloc(64 * 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + seed * 31) % 256;
  const png = await sharp(pixels, { raw: { width: 64, height: 64, channels: 1 } })
    .png()
    .toBuffer();
  return { png, pixels };
}

describe('tar reader', () => {
  it('reads a kkanji-shaped archive written by GNU tar in gnu, pax and ustar formats, classes and pixels intact', async (t) => {
    // Arrange: kkanji2/U+XXXX/<hex>.png, plus a member whose path needs a long-name header.
    const dir = await mkdtemp(join(tmpdir(), 'kzr-tar-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const classes = ['U+4E00', 'U+9B3C', 'U+20B9F'];
    const expected = new Map<string, Buffer>();
    for (const [i, code] of classes.entries()) {
      await mkdir(join(dir, 'kkanji2', code), { recursive: true });
      for (let k = 0; k < 2; k++) {
        const { png, pixels } = await kanjiPng(i * 10 + k);
        const name = `${(i * 10 + k).toString(16).padStart(16, 'a')}.png`;
        await writeFile(join(dir, 'kkanji2', code, name), png);
        expected.set(`kkanji2/${code}/${name}`, pixels);
      }
    }
    const deep = `kkanji2/U+5B57/${'d'.repeat(120)}.png`;
    await mkdir(join(dir, 'kkanji2', 'U+5B57'), { recursive: true });
    const { png: deepPng, pixels: deepPixels } = await kanjiPng(99);
    await writeFile(join(dir, deep), deepPng);
    expected.set(deep, deepPixels);
    // A long directory part: ustar stores it in the header's prefix field.
    const prefixed = `kkanji2/${'p'.repeat(90)}/U+5B58/abc.png`;
    await mkdir(join(dir, 'kkanji2', 'p'.repeat(90), 'U+5B58'), { recursive: true });
    const { png: prefixedPng, pixels: prefixedPixels } = await kanjiPng(77);
    await writeFile(join(dir, prefixed), prefixedPng);
    expected.set(prefixed, prefixedPixels);
    await writeFile(join(dir, 'kkanji2', 'README.txt'), 'not an image');

    for (const format of ['gnu', 'pax', 'ustar'] as const) {
      if (format === 'ustar') await rm(join(dir, 'kkanji2', 'U+5B57'), { recursive: true, force: true });
      const archive = join(dir, `kkanji-${format}.tar`);
      await run('tar', [`--format=${format}`, '-cf', archive, '-C', dir, 'kkanji2']);

      // Act
      const seen = new Map<string, Buffer>();
      const codes = new Set<string>();
      for await (const image of readKuzushijiKanji(archive)) {
        const decoded = await decodeGreyPng(image.png);
        assert.deepEqual([decoded.width, decoded.height], [64, 64]);
        seen.set(image.path, Buffer.from(decoded.pixels));
        codes.add(`${image.code}=${image.char}`);
      }

      // Assert
      const want = new Map([...expected].filter(([p]) => format !== 'ustar' || p !== deep));
      assert.deepEqual([...seen.keys()].sort(), [...want.keys()].sort(), format);
      for (const [path, pixels] of want) assert.ok(seen.get(path)!.equals(pixels), `${format} ${path}`);
      const wantCodes = [
        'U+4E00=一',
        'U+9B3C=鬼',
        'U+20B9F=𠮟',
        'U+5B58=存',
        ...(format === 'ustar' ? [] : ['U+5B57=字']),
      ];
      assert.deepEqual([...codes].sort(), wantCodes.sort());
    }
  });

  it('reports directories and files from a stream, and rejects a corrupted header checksum', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-tar-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'a'));
    await writeFile(join(dir, 'a', 'x.bin'), Buffer.alloc(1000, 7));
    const archive = join(dir, 'a.tar');
    await run('tar', ['--format=ustar', '-cf', archive, '-C', dir, 'a']);
    const entries = [];
    for await (const e of readTarEntries(createReadStream(archive, { highWaterMark: 100 }), 'a.tar')) entries.push(e);
    assert.deepEqual(
      entries.map((e) => [e.path, e.type, e.size]),
      [
        ['a/', 'directory', 0],
        ['a/x.bin', 'file', 1000],
      ],
    );
    assert.ok(entries[1]!.data.equals(Buffer.alloc(1000, 7)));

    const bytes = await readFile(archive);
    bytes[512 + 10] = bytes[512 + 10]! ^ 0xff; // inside the second header's name
    const bad = join(dir, 'bad.tar');
    await writeFile(bad, bytes);
    await assert.rejects(
      async () => {
        for await (const _ of readTarEntries(bad)) void _;
      },
      (err: unknown) => DataFormatError.is(err) && /tar\.member\[1\]\.checksum/.test(err.message),
    );
  });
});
