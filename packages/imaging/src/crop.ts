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
  let image = cropRaw(page, padded);
  if ((options.channels ?? 3) === 1 && image.channels === 3) image = toGrayscale(image);
  if (options.size !== undefined) image = resizeSquare(image, options.size);
  return { image, paddedBox: padded };
}
