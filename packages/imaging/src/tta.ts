/** The TTA "7 crop" views of spec §5.3 (upstream `custom_seven_crop`). */
import { cropRaw } from './crop.js';
import { GeometryError } from './errors.js';
import { toGrayscale } from './grayscale.js';
import { type PixelBox } from './padding.js';
import { type RawImage } from './raw-image.js';
import { resizeBicubic } from './resize.js';
import { roundHalfEven } from './rounding.js';

/** Names of the seven views, in the order {@link ttaSevenCrop} returns them. */
export const TtaView = {
  TopLeft: 'top-left',
  TopRight: 'top-right',
  BottomLeft: 'bottom-left',
  BottomRight: 'bottom-right',
  Center: 'center',
  SemiFull: 'semi-full',
  Full: 'full',
} as const;
/** One of {@link TtaView}. */
export type TtaView = (typeof TtaView)[keyof typeof TtaView];

/** Where one view comes from in the S×S image; `resize` views are resized to C×C (bicubic). */
export interface TtaViewSpec {
  readonly view: TtaView;
  readonly box: PixelBox;
  readonly resize: boolean;
}

/**
 * Geometry of the seven C×C views of an S×S image: four corners, the torchvision centre
 * (offset round((S − C)/2), half to even), "semi-full" (inset k = floor((S − C)/4), resized)
 * and "full" (the whole image, resized).
 */
export function ttaViewSpecs(scaleSize: number, cropSize: number): TtaViewSpec[] {
  const s = scaleSize;
  const c = cropSize;
  if (!Number.isInteger(s) || !Number.isInteger(c) || c <= 0 || c > s) {
    throw new GeometryError('cropSize', `TTA needs integers 0 < C <= S, got S=${s}, C=${c}`);
  }
  const d = s - c;
  const centre = roundHalfEven(d / 2);
  const k = Math.floor(d / 4);
  const sq = (x: number, y: number): PixelBox => ({ x, y, width: c, height: c });
  return [
    { view: TtaView.TopLeft, box: sq(0, 0), resize: false },
    { view: TtaView.TopRight, box: sq(d, 0), resize: false },
    { view: TtaView.BottomLeft, box: sq(0, d), resize: false },
    { view: TtaView.BottomRight, box: sq(d, d), resize: false },
    { view: TtaView.Center, box: sq(centre, centre), resize: false },
    { view: TtaView.SemiFull, box: { x: k, y: k, width: s - 2 * k, height: s - 2 * k }, resize: true },
    { view: TtaView.Full, box: { x: 0, y: 0, width: s, height: s }, resize: true },
  ];
}

/** Cuts the seven C×C views out of an S×S image (in {@link TtaView} order). */
export function ttaSevenCrop(scaled: RawImage, cropSize: number): RawImage[] {
  if (scaled.width !== scaled.height) {
    throw new GeometryError('image', `TTA input must be square, got ${scaled.width}x${scaled.height}`);
  }
  return ttaViewSpecs(scaled.width, cropSize).map((spec) => {
    const isWhole = spec.box.width === scaled.width && spec.box.x === 0 && spec.box.y === 0;
    const part = isWhole ? scaled : cropRaw(scaled, spec.box);
    return spec.resize ? resizeBicubic(part, cropSize, cropSize) : part;
  });
}

/**
 * The centre C×C view of an S×S image alone (the centre of {@link ttaSevenCrop}): the
 * no-TTA view of inference and the view of training validation.
 */
export function ttaCentreCrop(scaled: RawImage, cropSize: number): RawImage {
  const centre = ttaViewSpecs(scaled.width, cropSize).find((v) => v.view === TtaView.Center)!;
  return scaled.width === cropSize && scaled.height === cropSize ? scaled : cropRaw(scaled, centre.box);
}

/** Options of {@link ttaViews}. */
export interface TtaOptions {
  /** S: the square the crop is first resized to (200 or 120 upstream). */
  readonly scaleSize: number;
  /** C: the side of each view (190 or 112 upstream). */
  readonly cropSize: number;
  /** 1: convert to L first (grayscale models); 3: keep RGB. @default 3 */
  readonly channels?: 1 | 3;
}

/**
 * Spec §5.3 steps 1–3 for one character crop: grayscale (1-channel models), bicubic resize to
 * S×S, then the seven C×C views.
 */
export function ttaViews(crop: RawImage, options: TtaOptions): RawImage[] {
  const grey = (options.channels ?? 3) === 1 && crop.channels === 3 ? toGrayscale(crop) : crop;
  return ttaSevenCrop(resizeBicubic(grey, options.scaleSize, options.scaleSize), options.cropSize);
}
