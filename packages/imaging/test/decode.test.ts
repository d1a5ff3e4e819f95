import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp, { type Sharp } from 'sharp';

import { decodeImage, encodePng, ImageDecodeError, ImageTooLargeError, sniffImageFormat } from '@kzr/imaging';

const width = 21;
const height = 13;
const pixels = Buffer.alloc(width * height * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 29) % 256;
const source = (): Sharp => sharp(pixels, { raw: { width, height, channels: 3 } });

describe('decodeImage', () => {
  it('decodes lossless PNG, TIFF and WebP back to the same RGB samples', async () => {
    for (const encoded of [
      await source().png().toBuffer(),
      await source().tiff({ compression: 'lzw' }).toBuffer(),
      await source().webp({ lossless: true }).toBuffer(),
    ]) {
      const img = await decodeImage(encoded);
      assert.deepEqual([img.width, img.height, img.channels], [width, height, 3]);
      assert.deepEqual(Buffer.from(img.data), pixels);
    }
  });

  it('decodes JPEG, drops alpha and expands grayscale', async () => {
    const jpeg = await decodeImage(await source().jpeg({ quality: 95 }).toBuffer());
    assert.deepEqual([jpeg.width, jpeg.height, jpeg.channels], [width, height, 3]);
    const rgba = await sharp(pixels, { raw: { width, height, channels: 3 } })
      .ensureAlpha(0.5)
      .png()
      .toBuffer();
    assert.deepEqual(Buffer.from((await decodeImage(rgba)).data), pixels);
    const grey = await sharp(Buffer.alloc(width * height, 77), { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer();
    const g = await decodeImage(grey);
    assert.equal(g.channels, 3);
    assert.ok(g.data.every((v) => v === 77));
    assert.equal((await decodeImage(grey, { channels: 1 })).channels, 1);
  });

  it('round-trips through encodePng', async () => {
    const img = await decodeImage(await source().png().toBuffer());
    const again = await decodeImage(await encodePng(img));
    assert.deepEqual(again.data, img.data);
    assert.equal(sniffImageFormat(await encodePng(img)), 'png');
  });

  it('refuses unsupported, truncated and oversized images with a clear error', async () => {
    await assert.rejects(decodeImage(Buffer.from('GIF89a....')), (err: unknown) => {
      assert.ok(err instanceof ImageDecodeError);
      assert.equal(err.field, 'image');
      assert.match(err.message, /unsupported image format/);
      return true;
    });
    const png = await source().png().toBuffer();
    await assert.rejects(decodeImage(png.subarray(0, png.length - 40), { field: 'page' }), (err: unknown) => {
      assert.ok(err instanceof ImageDecodeError);
      assert.equal(err.field, 'page');
      assert.match(err.message, /corrupt png/);
      return true;
    });
    await assert.rejects(decodeImage(png, { maxPixels: 100 }), ImageTooLargeError);
  });
});
