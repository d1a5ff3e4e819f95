/** OpenCV border handling (`borderInterpolate`), used by the blur and the denoiser. */

/**
 * Maps a coordinate outside `[0, length)` into it with OpenCV's BORDER_REFLECT_101
 * (`gfedcb|abcdefgh|gfedcba`), the default border of GaussianBlur and copyMakeBorder.
 */
export function reflect101(p: number, length: number): number {
  if (length === 1) return 0;
  let q = p;
  while (q < 0 || q >= length) {
    q = q < 0 ? -q : 2 * (length - 1) - q;
  }
  return q;
}
