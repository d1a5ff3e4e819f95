/**
 * Per-sample training augmentation on 8-bit images, torchvision 0.4 / PIL semantics (spec §3.1),
 * every random draw from a seeded {@link Rng}: rotation (bicubic, black fill, no expand, before
 * the resize), square resize, RandomResizedCrop (log-uniform aspect ratio), RandomGrayscale,
 * ColorJitter in random order, then ToTensor, PCA lighting, Normalize and per-sample
 * RandomErasing on floats. No flips.
 */
import type { Rng } from '@kzr/core';

import { cropRaw } from '../crop.js';
import { toGrayscale, toRgb } from '../grayscale.js';
import { type RawImage } from '../raw-image.js';
import { resizeBicubic } from '../resize.js';
import { randomErasing } from './batch.js';

/** A float image, HWC, values after ToTensor (and possibly Normalize). */
export interface FloatImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/** Parameters of {@link augmentSample} (spec §3.1 table; 0 disables a step). */
export interface SampleAugmentParams {
  /** Output channels: 1 converts to L first (grayscale models), 3 keeps / makes RGB. */
  readonly channels: 1 | 3;
  readonly resize: number;
  readonly crop: number;
  readonly rotationDeg: number;
  readonly cropScale: readonly [number, number];
  readonly cropRatio: readonly [number, number];
  readonly grayscaleProb: number;
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
  readonly hue: number;
  readonly pcaStd: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Per-sample RandomErasing probability (0 = none). */
  readonly erasingProb: number;
}

/** Matches the model's channel count: L for 1-channel models, RGB for 3-channel ones. */
export function toChannels(image: RawImage, channels: 1 | 3): RawImage {
  if (image.channels === channels) return image;
  return channels === 1 ? toGrayscale(image) : toRgb(image);
}

function cubic(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/**
 * Rotates counter-clockwise by `degrees` about the centre (PIL `rotate`, bicubic, no expand);
 * output pixels whose source falls outside the image are black.
 */
export function rotateBicubic(image: RawImage, degrees: number): RawImage {
  if (degrees === 0) return image;
  const { width: w, height: h, channels: ch, data } = image;
  const out = new Uint8Array(data.length);
  const rad = (-degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cx = w / 2;
  const cy = h / 2;
  const wx = new Float64Array(4);
  const wy = new Float64Array(4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const sx = cos * dx + sin * dy + cx;
      const sy = -sin * dx + cos * dy + cy;
      if (sx < 0 || sy < 0 || sx >= w || sy >= h) continue;
      const fx = sx - 0.5;
      const fy = sy - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      for (let k = 0; k < 4; k++) {
        wx[k] = cubic(fx - (x0 - 1 + k));
        wy[k] = cubic(fy - (y0 - 1 + k));
      }
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const yy = Math.min(h - 1, Math.max(0, y0 - 1 + j));
          let row = 0;
          for (let i = 0; i < 4; i++) {
            const xx = Math.min(w - 1, Math.max(0, x0 - 1 + i));
            row += wx[i]! * data[(yy * w + xx) * ch + c]!;
          }
          acc += wy[j]! * row;
        }
        out[(y * w + x) * ch + c] = acc < 0 ? 0 : acc > 255 ? 255 : Math.round(acc);
      }
    }
  }
  return { width: w, height: h, channels: ch, data: out };
}

/**
 * torchvision 0.4 `RandomResizedCrop.get_params`: up to 10 tries of area fraction U(scale) and
 * log-uniform aspect ratio; falls back to the whole image (centre crop to the ratio range).
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Rng,
): { x: number; y: number; width: number; height: number } {
  const area = width * height;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.uniform(scale[0], scale[1]) * area;
    const aspect = Math.exp(rng.uniform(Math.log(ratio[0]), Math.log(ratio[1])));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { x: rng.int(width - w + 1), y: rng.int(height - h + 1), width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/** Crops a box and resizes it to size×size (bicubic). */
export function cropResize(
  image: RawImage,
  box: { x: number; y: number; width: number; height: number },
  size: number,
): RawImage {
  const whole = box.x === 0 && box.y === 0 && box.width === image.width && box.height === image.height;
  return resizeBicubic(whole ? image : cropRaw(image, box), size, size);
}

/** PIL `ImageEnhance`-style blend: out = degenerate + f·(img − degenerate), rounded and clipped. */
function blend(image: RawImage, degenerate: (i: number) => number, factor: number): RawImage {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    const d = degenerate(i);
    const v = d + factor * (image.data[i]! - d);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return { ...image, data: out };
}

function luma(image: RawImage): Uint8Array {
  return image.channels === 1 ? image.data : toGrayscale(image).data;
}

/** Brightness: blend with black. */
export function adjustBrightness(image: RawImage, factor: number): RawImage {
  return blend(image, () => 0, factor);
}

/** Contrast: blend with the mean luma (rounded, as PIL). */
export function adjustContrast(image: RawImage, factor: number): RawImage {
  const l = luma(image);
  let sum = 0;
  for (const v of l) sum += v;
  const mean = Math.floor(sum / l.length + 0.5);
  return blend(image, () => mean, factor);
}

/** Saturation: blend with the grayscale image; a no-op on L images. */
export function adjustSaturation(image: RawImage, factor: number): RawImage {
  if (image.channels === 1) return image;
  const l = luma(image);
  return blend(image, (i) => l[Math.floor(i / 3)]!, factor);
}

/** Hue: shift H (in HSV, 8-bit wrap-around) by `shift` ∈ [−0.5, 0.5]; a no-op on L images. */
export function adjustHue(image: RawImage, shift: number): RawImage {
  if (image.channels === 1 || shift === 0) return image;
  const out = new Uint8Array(image.data.length);
  const delta = Math.round(shift * 255);
  for (let i = 0; i < out.length; i += 3) {
    const r = image.data[i]! / 255;
    const g = image.data[i + 1]! / 255;
    const b = image.data[i + 2]! / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const v = max;
    const s = max === 0 ? 0 : (max - min) / max;
    let hh = 0;
    if (max !== min) {
      const d = max - min;
      hh = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      hh /= 6;
    }
    const h8 = (Math.round(hh * 255) + delta + 256) % 256;
    const [nr, ng, nb] = hsvToRgb(h8 / 255, s, v);
    out[i] = Math.round(nr * 255);
    out[i + 1] = Math.round(ng * 255);
    out[i + 2] = Math.round(nb * 255);
  }
  return { ...image, data: out };
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/** ColorJitter: the enabled adjustments with their random factors, in random order. */
export function colorJitter(image: RawImage, p: SampleAugmentParams, rng: Rng): RawImage {
  const steps: Array<(img: RawImage) => RawImage> = [];
  if (p.brightness > 0) {
    const f = rng.uniform(Math.max(0, 1 - p.brightness), 1 + p.brightness);
    steps.push((img) => adjustBrightness(img, f));
  }
  if (p.contrast > 0) {
    const f = rng.uniform(Math.max(0, 1 - p.contrast), 1 + p.contrast);
    steps.push((img) => adjustContrast(img, f));
  }
  if (p.saturation > 0) {
    const f = rng.uniform(Math.max(0, 1 - p.saturation), 1 + p.saturation);
    steps.push((img) => adjustSaturation(img, f));
  }
  if (p.hue > 0) {
    const f = rng.uniform(-p.hue, p.hue);
    steps.push((img) => adjustHue(img, f));
  }
  rng.shuffle(steps);
  return steps.reduce((img, step) => step(img), image);
}

/** ImageNet PCA eigenvalues and eigenvectors (AlexNet lighting noise). */
const eigval = [0.2175, 0.0188, 0.0045] as const;
const eigvec = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
] as const;

/** ToTensor: 8-bit HWC to floats in [0, 1]. */
export function toFloat(image: RawImage): FloatImage {
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = image.data[i]! / 255;
  return { width: image.width, height: image.height, channels: image.channels, data };
}

/** Adds PCA lighting noise in place (RGB only): α ~ N(0, σ) per eigenvector. */
export function pcaLighting(image: FloatImage, std: number, rng: Rng): void {
  if (std <= 0 || image.channels !== 3) return;
  const alpha = [std * rng.normal(), std * rng.normal(), std * rng.normal()];
  const rgb = eigvec.map((row) => row.reduce((s, v, k) => s + v * alpha[k]! * eigval[k]!, 0));
  for (let i = 0; i < image.data.length; i++) image.data[i] = image.data[i]! + rgb[i % 3]!;
}

/** Normalize in place: (x − mean[c]) / std[c]. */
export function normalizeInPlace(image: FloatImage, mean: readonly number[], std: readonly number[]): void {
  const ch = image.channels;
  for (let i = 0; i < image.data.length; i++) image.data[i] = (image.data[i]! - mean[i % ch]!) / std[i % ch]!;
}

/** The full per-sample training pipeline of spec §3.1. */
export function augmentSample(raw: RawImage, p: SampleAugmentParams, rng: Rng): FloatImage {
  let img = toChannels(raw, p.channels === 1 ? 1 : raw.channels === 1 ? 1 : 3);
  if (p.rotationDeg > 0) img = rotateBicubic(img, rng.uniform(-p.rotationDeg, p.rotationDeg));
  img = resizeBicubic(img, p.resize, p.resize);
  img = cropResize(img, randomResizedCropBox(p.resize, p.resize, p.cropScale, p.cropRatio, rng), p.crop);
  img = toChannels(img, p.channels);
  if (p.channels === 3 && p.grayscaleProb > 0 && rng.next() < p.grayscaleProb) img = toRgb(toGrayscale(img));
  img = colorJitter(img, p, rng);
  const f = toFloat(img);
  if (p.channels === 3) pcaLighting(f, p.pcaStd, rng);
  normalizeInPlace(f, p.mean, p.std);
  if (p.erasingProb > 0) randomErasing(f.data, 1, f.height, f.width, f.channels, p.erasingProb, rng);
  return f;
}

/**
 * The refinement augmentation (spec §3.5): resize to S, a random square of side round(√0.9·S)
 * resized to C, normalised; nothing else.
 */
export function refinementSample(
  raw: RawImage,
  p: Pick<SampleAugmentParams, 'channels' | 'resize' | 'crop' | 'mean' | 'std'>,
  rng: Rng,
): FloatImage {
  const img = resizeBicubic(toChannels(raw, p.channels), p.resize, p.resize);
  const side = Math.round(Math.sqrt(0.9) * p.resize);
  const box = { x: rng.int(p.resize - side + 1), y: rng.int(p.resize - side + 1), width: side, height: side };
  const f = toFloat(cropResize(img, box, p.crop));
  normalizeInPlace(f, p.mean, p.std);
  return f;
}
