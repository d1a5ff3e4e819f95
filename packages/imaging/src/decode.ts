/**
 * Decoding and encoding with sharp. A page is decoded once to raw RGB samples; every later step
 * (Ben's filter, denoising, crops) works on that buffer.
 */
import sharp from 'sharp';

import { ImageDecodeError, ImageTooLargeError } from './errors.js';
import { toGrayscale } from './grayscale.js';
import { type RawImage, rawImageFrom } from './raw-image.js';

/** Encoded image formats the pipeline accepts. */
export const ImageFormat = {
  Jpeg: 'jpeg',
  Png: 'png',
  Tiff: 'tiff',
  Webp: 'webp',
} as const;
/** One of {@link ImageFormat}. */
export type ImageFormat = (typeof ImageFormat)[keyof typeof ImageFormat];

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /**
   * Largest accepted `width * height`; larger images are refused before their pixels are
   * decoded.
   * @default 60_000_000
   */
  readonly maxPixels?: number;
  /** Output channels: 3 (RGB, alpha dropped) or 1 (grayscale L). @default 3 */
  readonly channels?: 1 | 3;
  /** Name of the input in error messages. @default 'image' */
  readonly field?: string;
}

/** Default pixel limit of a page (60 MP). */
export const defaultMaxPixels = 60_000_000;

/**
 * Identifies an encoded image by its magic bytes; `undefined` when it is none of the supported
 * formats.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const at = (offset: number, signature: readonly number[]): boolean =>
    bytes.length >= offset + signature.length && signature.every((v, k) => bytes[offset + k] === v);
  if (at(0, [0xff, 0xd8, 0xff])) return ImageFormat.Jpeg;
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return ImageFormat.Png;
  if (at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])) return ImageFormat.Tiff;
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return ImageFormat.Webp;
  return undefined;
}

/** Bytes from the end of a file that {@link imageEndProblem} needs: the JPEG end marker may be followed by a little padding. */
export const imageTailBytes = 64;

/**
 * Whether an encoded image of `format` ends as a whole file does, from its first 16 bytes, its
 * last {@link imageTailBytes} bytes and its size; a problem text (`truncated: …`) when it does
 * not, else undefined. Catches what the magic bytes cannot: a file cut short in a copy or a
 * download (a decoder would fill the missing rows with grey and only warn). TIFF, whose
 * structure has no end marker, is not checked.
 */
export function imageEndProblem(
  format: ImageFormat,
  head: Uint8Array,
  tail: Uint8Array,
  size: number,
): string | undefined {
  if (format === ImageFormat.Jpeg) {
    for (let k = tail.length - 2; k >= 0; k--) if (tail[k] === 0xff && tail[k + 1] === 0xd9) return undefined;
    return 'truncated: no JPEG end marker (FF D9) at its end';
  }
  if (format === ImageFormat.Png) {
    const iend = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
    const end = tail.subarray(tail.length - iend.length);
    return end.length === iend.length && iend.every((v, k) => end[k] === v)
      ? undefined
      : 'truncated: no PNG IEND chunk at its end';
  }
  if (format === ImageFormat.Webp && head.length >= 8) {
    const declared = (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24)) >>> 0;
    return declared + 8 > size
      ? `truncated: its RIFF header declares ${declared + 8} bytes, the file has ${size}`
      : undefined;
  }
  return undefined;
}

/**
 * Decodes a JPEG, PNG, TIFF or WebP image to raw 8-bit samples in true colour order (RGB), or
 * to grayscale with `channels: 1`. Alpha is dropped (as PIL's RGBA -> RGB does), grayscale
 * inputs are expanded to RGB, 16-bit inputs are scaled to 8 bits. EXIF orientation is not
 * applied: pixels stay in stored order, as PIL reads them upstream.
 * @throws ImageDecodeError for unsupported or corrupt bytes; ImageTooLargeError above
 *   `maxPixels`.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RawImage> {
  const field = options.field ?? 'image';
  const maxPixels = options.maxPixels ?? defaultMaxPixels;
  const channels = options.channels ?? 3;
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new ImageDecodeError(field, 'unsupported image format: expected JPEG, PNG, TIFF or WebP');
  }
  let width: number | undefined;
  let height: number | undefined;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    width = meta.width;
    height = meta.height;
  } catch (err) {
    throw new ImageDecodeError(field, `corrupt ${format} image: ${errorText(err)}`, { cause: err });
  }
  if (width === undefined || height === undefined || width <= 0 || height <= 0) {
    throw new ImageDecodeError(field, `corrupt ${format} image: no size in its header`);
  }
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(
      field,
      `image of ${width}x${height} = ${width * height} pixels exceeds the limit of ${maxPixels}`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: false, failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoder produced ${info.channels} channels instead of 3`);
    }
    const rgb = rawImageFrom(info.width, info.height, 3, new Uint8Array(data.buffer, data.byteOffset, data.length));
    return channels === 1 ? toGrayscale(rgb) : rgb;
  } catch (err) {
    throw new ImageDecodeError(field, `corrupt ${format} image: ${errorText(err)}`, { cause: err });
  }
}

/** Options of {@link encodePng}. */
export interface EncodePngOptions {
  /** zlib level 0-9; lower is faster. @default 6 */
  readonly compressionLevel?: number;
}

/** Encodes raw samples as an 8-bit PNG (1 channel: grayscale; 3 channels: true-colour RGB). */
export async function encodePng(image: RawImage, options: EncodePngOptions = {}): Promise<Buffer> {
  const pipeline = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 },
  });
  const png = pipeline.png({ compressionLevel: options.compressionLevel ?? 6 });
  return (image.channels === 1 ? png.toColourspace('b-w') : png).toBuffer();
}

/** Encodes raw samples as a baseline JPEG (`quality` 1-100): pictures for reports, where size matters more than exact pixels. */
export async function encodeJpeg(image: RawImage, quality = 80): Promise<Buffer> {
  return sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 },
  })
    .jpeg({ quality })
    .toBuffer();
}

/** Rasterises an SVG document (librsvg, system fonts for text) to a PNG: charts and reports. */
export async function renderSvgPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** The decoder's reason, first line only: libvips appends its whole warning log to the message. */
function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').trim();
}
