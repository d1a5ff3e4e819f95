// Parity with OpenCV 4.6 on the real sample page (../shared/data/pages, see its PROVENANCE.md).
// The reference PNGs were made by OpenCV itself; patches keep a margin of 23 px (more than the
// denoiser's 13 px reach) so their interiors must equal the whole-page result.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';

import {
  benFilter,
  benRows,
  benRowsWasm,
  cropRaw,
  decodeImage,
  denoiseColored,
  denoiseColoredSync,
  ensureBenWasm,
  gaussianKernelFixedPoint,
  gaussianTaps8u,
  type RawImage,
} from '@kzr/imaging';

const data = new URL('../../../../shared/data/pages/', import.meta.url);
const margin = 23;

let page: RawImage;
let refBen: RawImage;
let refDenoised: RawImage;

before(async () => {
  [page, refBen, refDenoised] = await Promise.all([
    readFile(new URL('sample-page.jpg', data)).then((b) => decodeImage(b)),
    readFile(new URL('reference/sample-page.ben.png', data)).then((b) => decodeImage(b)),
    readFile(new URL('reference/sample-page.ben-denoised.png', data)).then((b) => decodeImage(b)),
  ]);
});

function compare(
  out: RawImage,
  ox: number,
  oy: number,
  ref: RawImage,
  rx: number,
  ry: number,
  w: number,
  h: number,
): { max: number; mean: number; psnr: number; identical: number } {
  let max = 0;
  let sum = 0;
  let se = 0;
  let same = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w * 3; x++) {
      const a = out.data[((oy + y) * out.width + ox) * 3 + x]!;
      const b = ref.data[((ry + y) * ref.width + rx) * 3 + x]!;
      const d = Math.abs(a - b);
      if (d > max) max = d;
      if (d === 0) same++;
      sum += d;
      se += d * d;
    }
  }
  const n = w * h * 3;
  return {
    max,
    mean: sum / n,
    psnr: se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n)),
    identical: same / n,
  };
}

describe("Ben's filter", () => {
  it("uses OpenCV's 61-tap fixed-point kernel for σ = 10", () => {
    assert.equal(gaussianTaps8u(10), 61);
    const k = gaussianKernelFixedPoint(61, 10);
    assert.equal(
      k.reduce((a, b) => a + b, 0),
      256,
    );
    for (let i = 0; i < 61; i++) assert.equal(k[i], k[60 - i]);
    assert.ok(k[30]! >= k[20]!);
  });

  it('equals OpenCV 4.6 bit for bit on a band of the real page (JavaScript and WebAssembly)', async () => {
    const rowStart = 1800;
    const rowEnd = 1832;
    const out = new Uint8Array(page.data.length);
    benRows(page.data, page.width, page.height, 3, rowStart, rowEnd, out);
    const band: RawImage = { ...page, data: out };
    const r = compare(band, 0, rowStart, refBen, 0, rowStart, page.width, rowEnd - rowStart);
    assert.equal(r.max, 0, `max |diff| ${r.max}, mean ${r.mean}`);
    // The WebAssembly kernel gives the same bytes.
    await ensureBenWasm();
    const fast = new Uint8Array(page.data.length);
    benRowsWasm(page.data, page.width, page.height, 3, rowStart, rowEnd, fast);
    assert.equal(
      compare({ ...page, data: fast }, 0, rowStart, refBen, 0, rowStart, page.width, rowEnd - rowStart).max,
      0,
    );
  });

  it('equals OpenCV 4.6 at the page border (reflect-101)', () => {
    const out = new Uint8Array(page.data.length);
    benRows(page.data, page.width, page.height, 3, 0, 8, out);
    benRows(page.data, page.width, page.height, 3, page.height - 8, page.height, out);
    const band: RawImage = { ...page, data: out };
    assert.equal(compare(band, 0, 0, refBen, 0, 0, page.width, 8).max, 0);
    assert.equal(compare(band, 0, page.height - 8, refBen, 0, page.height - 8, page.width, 8).max, 0);
  });
});

describe('colour NL-means denoising', () => {
  it('reproduces OpenCV fastNlMeansDenoisingColored(20, 20, 7, 21) on patches of the Ben page, in JavaScript and WebAssembly', async () => {
    const wasmRuns: Promise<void>[] = [];
    for (const [x0, y0, size] of [
      [1200, 1800, 40],
      [300, 900, 32],
      [0, 0, 24], // touches the page corner: the patch border is the page border there
    ] as const) {
      const cx = Math.max(0, x0 - margin);
      const cy = Math.max(0, y0 - margin);
      const patch = cropRaw(refBen, { x: cx, y: cy, width: size + x0 - cx + margin, height: size + y0 - cy + margin });
      const out = denoiseColoredSync(patch);
      const r = compare(out, x0 - cx, y0 - cy, refDenoised, x0, y0, size, size);
      assert.ok(r.psnr >= 35, `PSNR ${r.psnr.toFixed(2)} dB at (${x0}, ${y0})`);
      assert.equal(r.max, 0, `max |diff| ${r.max}, identical ${(r.identical * 100).toFixed(2)} %`);
      wasmRuns.push(denoiseColored(patch, {}, 1).then((fast) => assert.deepEqual(fast.data, out.data)));
    }
    await Promise.all(wasmRuns);
  });
});

describe('worker threads', () => {
  it('give the same pixels as one thread, strip borders included', async () => {
    const patch = cropRaw(page, { x: 1000, y: 1500, width: 90, height: 70 });
    const one = await benFilter(patch, 1);
    const two = await benFilter(patch, 2);
    assert.deepEqual(two.data, one.data);
    const d1 = await denoiseColored(one, {}, 1);
    const d2 = await denoiseColored(one, {}, 2);
    assert.deepEqual(d2.data, d1.data);
  });
});
