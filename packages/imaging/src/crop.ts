/** Cutting crops out of a decoded page (the page is decoded once; spec §2.2). */
import { GeometryError } from './errors.js';
import { toGrayscale } from './grayscale.js';
import { type Box, paddedBox, type PaddingPolicy, type PixelBox } from './padding.js';
import { type RawImage } from './raw-image.js';
import { resizeSquare } from './resize.js';

/** Copies the pixels of `box` (whole pixels, inside the image) into a new image. */
export function cropRaw(image: RawImage, box: PixelBox): RawImage {
  const { x, y, width, height } = box;
  if (
    !Number.isInteger(x) ||
    !Number.isInteger(y) ||
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width <= 0 ||
    height <= 0 ||
    x < 0 ||
    y < 0 ||
    x + width > image.width ||
    y + height > image.height
  ) {
    throw new GeometryError(
      'box',
      `crop [${x}, ${y}, ${width}x${height}] is not a non-empty whole-pixel box inside ${image.width}x${image.height}`,
    );
  }
  const c = image.channels;
  const rowBytes = width * c;
  const out = new Uint8Array(rowBytes * height);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * image.width + x) * c;
    out.set(image.data.subarray(from, from + rowBytes), r * rowBytes);
  }
  return { width, height, channels: c, data: out };
}

/** Options of {@link cutCharacter}. */
export interface CutOptions {
  /** Padding policy. */
  readonly policy: PaddingPolicy;
  /** Side of the square output; omitted keeps the padded box's native size. */
  readonly size?: number;
  /** 1 (grayscale L) or 3 (RGB). @default 3 */
  readonly channels?: 1 | 3;
  /** Name of the box in error messages. @default 'box' */
  readonly field?: string;
}

/** A cut character: its pixels and the padded box they came from. */
export interface CutCharacter {
  readonly image: RawImage;
  readonly paddedBox: PixelBox;
}

/**
 * Pads `box` under the policy, cuts it from the decoded page, optionally resizes it to a square
 * (PIL bicubic, aspect ignored) and converts to grayscale. Upstream order: crop, then grayscale,
 * then resize (torchvision's `Grayscale()` is the first transform).
 */
export function cutCharacter(page: RawImage, box: Box, options: CutOptions): CutCharacter {
  const padded = paddedBox(box, options.policy, page.width, page.height, options.field);
  return { image: cutPlanned(page, planOf(page.channels, padded, options)), paddedBox: padded };
}

/**
 * A crop checked and sized before any pixel is touched: its padded box on the page and the
 * shape of the image it becomes. {@link planCrop} makes one; its sizes let a caller bound the
 * work of many crops before cutting the first.
 */
export interface PlannedCrop {
  /** The padded box on the page (whole pixels, inside it). */
  readonly paddedBox: PixelBox;
  /** Side of the square output, or undefined for the padded box's native size. */
  readonly size: number | undefined;
  /** Width of the output image. */
  readonly width: number;
  /** Height of the output image. */
  readonly height: number;
  /** Channels of the output image (1 or the page's). */
  readonly channels: number;
}

function planOf(pageChannels: number, padded: PixelBox, options: CutOptions): PlannedCrop {
  const channels = (options.channels ?? 3) === 1 ? 1 : pageChannels;
  return {
    paddedBox: padded,
    size: options.size,
    width: options.size ?? padded.width,
    height: options.size ?? padded.height,
    channels,
  };
}

/**
 * Pads and checks `box` on a page of the given shape and sizes its crop, without pixels.
 * @throws GeometryError naming `options.field` for a box that is empty or outside the page.
 */
export function planCrop(
  pageWidth: number,
  pageHeight: number,
  pageChannels: number,
  box: Box,
  options: CutOptions,
): PlannedCrop {
  return planOf(pageChannels, paddedBox(box, options.policy, pageWidth, pageHeight, options.field), options);
}

/** Samples a crop reads from the page and writes, the measure of its work and memory. */
export function cropWorkPixels(crop: PlannedCrop): number {
  return crop.paddedBox.width * crop.paddedBox.height + crop.width * crop.height;
}

/** Cuts a planned crop (crop, then grayscale, then resize, as {@link cutCharacter}). */
export function cutPlanned(page: RawImage, crop: PlannedCrop): RawImage {
  let image = cropRaw(page, crop.paddedBox);
  if (crop.channels === 1 && image.channels === 3) image = toGrayscale(image);
  if (crop.size !== undefined) image = resizeSquare(image, crop.size);
  return image;
}
