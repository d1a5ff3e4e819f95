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

/**
 * Copies one channel-interleaved image into a larger buffer with `border` pixels on every side
 * filled by {@link reflect101} (OpenCV `copyMakeBorder(..., BORDER_DEFAULT)`).
 */
export function makeBorderReflect101(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  border: number,
): { data: Uint8Array; width: number; height: number } {
  const ew = width + 2 * border;
  const eh = height + 2 * border;
  const out = new Uint8Array(ew * eh * channels);
  const cols = new Int32Array(ew);
  for (let x = 0; x < ew; x++) cols[x] = reflect101(x - border, width);
  for (let y = 0; y < eh; y++) {
    const sy = reflect101(y - border, height);
    const srcRow = sy * width * channels;
    const dstRow = y * ew * channels;
    out.set(data.subarray(srcRow, srcRow + width * channels), dstRow + border * channels);
    for (let x = 0; x < border; x++) {
      for (let c = 0; c < channels; c++) {
        out[dstRow + x * channels + c] = data[srcRow + cols[x]! * channels + c]!;
        const xr = ew - 1 - x;
        out[dstRow + xr * channels + c] = data[srcRow + cols[xr]! * channels + c]!;
      }
    }
  }
  return { data: out, width: ew, height: eh };
}
