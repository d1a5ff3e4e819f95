import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  checkBox,
  cropRaw,
  cutCharacter,
  GeometryError,
  paddedBox,
  PaddingPolicy,
  type RawImage,
  resizeBicubic,
  roundHalfEven,
  toGrayscale,
  ttaSevenCrop,
  ttaViews,
  ttaViewSpecs,
} from '@kzr/imaging';

// The same deterministic patterns the PIL 9.4.0 goldens below were computed from
// (Debian python3-pil: Image.frombytes(...).resize(size, Image.BICUBIC) / convert('L')).
function rgbPattern(w: number, h: number): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7) % 256;
    }
  }
  return { width: w, height: h, channels: 3, data };
}

function greyPattern(w: number, h: number): RawImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x * x * 3 + y * 17 + x * y) % 251;
  return { width: w, height: h, channels: 1, data };
}

const sha = (img: RawImage): string => createHash('sha256').update(img.data).digest('hex');

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour like Python round and numpy rint', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
  });
});

describe('PIL-exact bicubic resize and grayscale', () => {
  it('matches PIL when shrinking an RGB image', () => {
    const out = resizeBicubic(rgbPattern(13, 9), 5, 4);
    assert.deepEqual(
      Array.from(out.data),
      [
        101, 130, 143, 122, 135, 147, 123, 125, 134, 112, 126, 139, 118, 147, 115, 126, 133, 128, 144, 140, 134, 139,
        130, 122, 128, 129, 129, 137, 145, 145, 112, 154, 122, 128, 128, 110, 146, 137, 126, 125, 132, 105, 140, 104,
        130, 131, 102, 150, 133, 117, 140, 119, 122, 125, 127, 124, 134, 129, 97, 156,
      ],
    );
  });

  it('matches PIL when enlarging, shrinking one axis only, and on grayscale', () => {
    assert.equal(
      sha(resizeBicubic(rgbPattern(13, 9), 29, 17)),
      '8b5849a320c60829231a471f42074436ffb4171834ea039c920231b4b7270f15',
    );
    assert.equal(
      sha(resizeBicubic(rgbPattern(13, 9), 200, 200)),
      '7a6422aa66cd18700e14ebd39e5cb46914330cd3b6f92bfc817b2496f8f56396',
    );
    assert.equal(
      sha(resizeBicubic(rgbPattern(13, 9), 3, 2)),
      'b5ae074fc9d00202b6febed7152e6df6c69f1678b8805ef63c7c92a5757c292d',
    );
    assert.equal(
      sha(resizeBicubic(greyPattern(150, 97), 120, 120)),
      'c239a4a4df0522a7c35974a26db39a1acde14ae59555114e73bea737f4d6bbcb',
    );
    assert.equal(
      sha(resizeBicubic(greyPattern(150, 97), 112, 112)),
      '055dd387be7062332252619fa3199b1ea1d3f057fc803adce252382e1467ef6b',
    );
    assert.equal(
      sha(resizeBicubic(greyPattern(150, 97), 37, 37)),
      'd39ca0a86966b5e9c75bfd756baa5b58c0ce046cd9ca479603408245ba64a9de',
    );
  });

  it('converts to L with PIL fixed-point weights', () => {
    const grey = toGrayscale(rgbPattern(13, 9));
    assert.equal(grey.channels, 1);
    assert.deepEqual(
      Array.from(grey.data.subarray(0, 16)),
      [43, 80, 117, 154, 191, 199, 86, 46, 83, 120, 157, 165, 202, 134, 178, 193],
    );
  });

  it('keeps a constant image constant at any size', () => {
    const flat: RawImage = { width: 17, height: 5, channels: 3, data: new Uint8Array(17 * 5 * 3).fill(200) };
    assert.ok(resizeBicubic(flat, 112, 112).data.every((v) => v === 200));
    assert.ok(resizeBicubic(flat, 3, 3).data.every((v) => v === 200));
  });
});

describe('padding policies', () => {
  it('pads training boxes by rint(5 %) of their own width and height, half to even', () => {
    // w = 50 -> 2.5 -> 2 (even), h = 70 -> 3.5 -> 4 (even)
    assert.deepEqual(paddedBox({ x: 100, y: 200, width: 50, height: 70 }, PaddingPolicy.Train, 1000, 1000), {
      x: 98,
      y: 196,
      width: 54,
      height: 78,
    });
  });

  it('pads inference boxes by 10 % and pseudo-label boxes by 5 % of the mean side', () => {
    // (w + h) / 2 = 45: 4.5 -> 4 (infer), 2.25 -> 2 (pseudo)
    assert.deepEqual(paddedBox({ x: 10, y: 10, width: 40, height: 50 }, PaddingPolicy.Infer, 500, 500), {
      x: 6,
      y: 6,
      width: 48,
      height: 58,
    });
    assert.deepEqual(paddedBox({ x: 10, y: 10, width: 40, height: 50 }, PaddingPolicy.Pseudo, 500, 500), {
      x: 8,
      y: 8,
      width: 44,
      height: 54,
    });
  });

  it('clips the padded box to the page', () => {
    assert.deepEqual(paddedBox({ x: 1, y: 2, width: 98, height: 97 }, PaddingPolicy.Infer, 100, 100), {
      x: 0,
      y: 0,
      width: 100,
      height: 100,
    });
  });

  it('refuses zero-area boxes and boxes outside the page, naming the field', () => {
    assert.throws(
      () => checkBox({ x: 1, y: 1, width: 0, height: 5 }, 10, 10, 'boxes[2]'),
      (err: unknown) => {
        assert.ok(err instanceof GeometryError);
        assert.equal(err.field, 'boxes[2]');
        assert.match(err.message, /zero area/);
        return true;
      },
    );
    assert.throws(() => checkBox({ x: 8, y: 1, width: 5, height: 5 }, 10, 10), /outside the 10x10 page/);
    assert.throws(() => checkBox({ x: Number.NaN, y: 1, width: 5, height: 5 }, 10, 10), /non-finite/);
  });
});

describe('crops', () => {
  it('cuts exactly the pixels of the box from the raw page', () => {
    const page = rgbPattern(13, 9);
    const crop = cropRaw(page, { x: 2, y: 3, width: 4, height: 2 });
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 4; x++) {
        for (let c = 0; c < 3; c++) {
          assert.equal(crop.data[(y * 4 + x) * 3 + c], page.data[((y + 3) * 13 + x + 2) * 3 + c]);
        }
      }
    }
  });

  it('pads, converts to grayscale and resizes a character', () => {
    const page = rgbPattern(40, 30);
    const cut = cutCharacter(
      page,
      { x: 5, y: 10, width: 30, height: 12 },
      {
        policy: PaddingPolicy.Train,
        size: 24,
        channels: 1,
      },
    );
    // 0.05 * 30 = 1.5 -> 2, 0.05 * 12 = 0.6 -> 1
    assert.deepEqual(cut.paddedBox, { x: 3, y: 9, width: 34, height: 14 });
    assert.equal(cut.image.width, 24);
    assert.equal(cut.image.channels, 1);
    const manual = resizeBicubic(toGrayscale(cropRaw(page, cut.paddedBox)), 24, 24);
    assert.deepEqual(cut.image.data, manual.data);
  });
});

describe('TTA 7-crop views', () => {
  it('places the views as spec §5.3 says for 200/190 and 120/112', () => {
    const a = ttaViewSpecs(200, 190);
    assert.deepEqual(
      a.map((v) => [v.view, v.box.x, v.box.y, v.box.width, v.resize]),
      [
        ['top-left', 0, 0, 190, false],
        ['top-right', 10, 0, 190, false],
        ['bottom-left', 0, 10, 190, false],
        ['bottom-right', 10, 10, 190, false],
        ['center', 5, 5, 190, false],
        ['semi-full', 2, 2, 196, true],
        ['full', 0, 0, 200, true],
      ],
    );
    const b = ttaViewSpecs(120, 112);
    assert.equal(b[4]!.box.x, 4);
    assert.equal(b[5]!.box.width, 116);
  });

  it('returns seven C×C views whose corners are the scaled image pixels', () => {
    const scaled = resizeBicubic(rgbPattern(13, 9), 120, 120);
    const views = ttaSevenCrop(scaled, 112);
    assert.equal(views.length, 7);
    for (const v of views) assert.deepEqual([v.width, v.height, v.channels], [112, 112, 3]);
    assert.deepEqual(views[3]!.data.subarray(0, 3), scaled.data.subarray((8 * 120 + 8) * 3, (8 * 120 + 8) * 3 + 3));
    assert.deepEqual(views[6]!.data, resizeBicubic(scaled, 112, 112).data);
    const grey = ttaViews(rgbPattern(30, 20), { scaleSize: 120, cropSize: 112, channels: 1 });
    assert.equal(grey[0]!.channels, 1);
  });
});
