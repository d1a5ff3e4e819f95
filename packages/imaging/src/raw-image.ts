/** Decoded pixels held in memory: the one representation every imaging step works on. */
import { GeometryError } from './errors.js';

/**
 * An 8-bit image in row-major HWC order: `data[(y * width + x) * channels + c]`.
 * Colours are in true order (R, G, B) for 3 channels; 1 channel is grayscale.
 */
export interface RawImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Samples per pixel: 1 (grayscale) or 3 (RGB). */
  readonly channels: number;
  /** `width * height * channels` samples. */
  readonly data: Uint8Array;
}

/** Allocates a zeroed image. */
export function createRawImage(width: number, height: number, channels: number): RawImage {
  checkDimensions(width, height, channels);
  return { width, height, channels, data: new Uint8Array(width * height * channels) };
}

/** Wraps existing samples as an image, checking that their count matches the dimensions. */
export function rawImageFrom(width: number, height: number, channels: number, data: Uint8Array): RawImage {
  checkDimensions(width, height, channels);
  if (data.length !== width * height * channels) {
    throw new GeometryError(
      'data',
      `expected ${width * height * channels} samples for ${width}x${height}x${channels}, got ${data.length}`,
    );
  }
  return { width, height, channels, data };
}

function checkDimensions(width: number, height: number, channels: number): void {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new GeometryError('size', `image size must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new GeometryError('channels', `channels must be 1 or 3, got ${channels}`);
  }
}
