/**
 * Padded crop boxes for the three upstream policies (spec §2.2, §5.2, §7.1), with Python's
 * half-to-even rounding, clipped to the page.
 */
import { GeometryError } from './errors.js';
import { roundHalfEven } from './rounding.js';

/** How much a box grows before it is cut. */
export const PaddingPolicy = {
  /** Training crops: rint(0.05·w) left/right and rint(0.05·h) top/bottom (spec §2.2). */
  Train: 'train',
  /** Inference crops: round(0.10·(w + h)/2) on every side (spec §5.2). */
  Infer: 'infer',
  /** Pseudo-label crops: round(0.05·(w + h)/2) on every side (spec §7.1). */
  Pseudo: 'pseudo',
} as const;
/** One of {@link PaddingPolicy}. */
export type PaddingPolicy = (typeof PaddingPolicy)[keyof typeof PaddingPolicy];

/** A box in page pixels; (x, y) is the top-left corner. Values may be fractional. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A box of whole pixels: columns x..x+width-1, rows y..y+height-1. */
export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Pads per side for a box of width `w` and height `h` (already rounded) under `policy`:
 * `[padX, padY]`.
 */
export function paddingFor(policy: PaddingPolicy, w: number, h: number): [number, number] {
  switch (policy) {
    case PaddingPolicy.Train:
      return [roundHalfEven(0.05 * w), roundHalfEven(0.05 * h)];
    case PaddingPolicy.Infer: {
      const pad = roundHalfEven((0.1 * (w + h)) / 2);
      return [pad, pad];
    }
    case PaddingPolicy.Pseudo: {
      const pad = roundHalfEven((0.05 * (w + h)) / 2);
      return [pad, pad];
    }
    default:
      throw new GeometryError('padding', `unknown padding policy ${String(policy)}`);
  }
}

/**
 * Checks a box against the page and rounds it to whole pixels (half to even, as upstream).
 * @throws GeometryError naming `field` for a zero or negative area, a non-finite value or a box
 *   that does not lie on the page.
 */
export function checkBox(box: Box, pageWidth: number, pageHeight: number, field = 'box'): PixelBox {
  const { x, y, width, height } = box;
  if (![x, y, width, height].every(Number.isFinite)) {
    throw new GeometryError(field, `box has a non-finite coordinate: ${JSON.stringify(box)}`);
  }
  const rx = roundHalfEven(x);
  const ry = roundHalfEven(y);
  const rw = roundHalfEven(width);
  const rh = roundHalfEven(height);
  if (rw <= 0 || rh <= 0) {
    throw new GeometryError(field, `box has zero area (${width}x${height} pixels)`);
  }
  if (rx < 0 || ry < 0 || rx + rw > pageWidth || ry + rh > pageHeight) {
    throw new GeometryError(
      field,
      `box [x=${x}, y=${y}, w=${width}, h=${height}] lies outside the ${pageWidth}x${pageHeight} page`,
    );
  }
  return { x: rx, y: ry, width: rw, height: rh };
}

/**
 * The padded box cut for `box` under `policy`, clipped to the page:
 * `[max(x - padX, 0), max(y - padY, 0), min(x + w + padX, W), min(y + h + padY, H))`.
 * @throws GeometryError as {@link checkBox}.
 */
export function paddedBox(
  box: Box,
  policy: PaddingPolicy,
  pageWidth: number,
  pageHeight: number,
  field = 'box',
): PixelBox {
  const b = checkBox(box, pageWidth, pageHeight, field);
  const [padX, padY] = paddingFor(policy, b.width, b.height);
  const x0 = Math.max(b.x - padX, 0);
  const y0 = Math.max(b.y - padY, 0);
  const x1 = Math.min(b.x + b.width + padX, pageWidth);
  const y1 = Math.min(b.y + b.height + padY, pageHeight);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
