/**
 * Decoder output (planar float in [-1, 1]) → interleaved RGB bytes, the way Wan's
 * `cache_video` saves it: clamp to [-1, 1], torchvision `make_grid(normalize=True,
 * value_range=(-1, 1))` maps to (x + 1) / 2, then `(t * 255).type(torch.uint8)` **truncates**.
 * Every step is a float32 operation there, so each is rounded with Math.fround here to give
 * the same byte for every input (e.g. 0.99999994 → 254, not 255).
 */

/** One float sample in [-1, 1] (clamped) → the byte the official saver writes. */
export function toByte(x: number): number {
  const c = x < -1 ? -1 : x > 1 ? 1 : x; // NaN falls through to the truncation below → 0
  const unit = Math.fround(Math.fround(c + 1) / 2);
  const scaled = Math.fround(unit * 255);
  return scaled > 0 ? Math.trunc(scaled) : 0;
}

/**
 * Planar (3, frames, height, width) float → `frames` buffers of interleaved rgb24
 * (height·width·3 bytes each), the layout ffmpeg's rawvideo rgb24 expects.
 */
export function planarToRgb24(data: Float32Array, frames: number, height: number, width: number): Uint8Array[] {
  const plane = height * width;
  if (data.length !== 3 * frames * plane) throw new RangeError(`planarToRgb24: ${data.length} values do not fill 3×${frames}×${height}×${width}`);
  const out: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    const rgb = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (c * frames + f) * plane;
      for (let p = 0; p < plane; p++) rgb[p * 3 + c] = toByte(data[base + p]);
    }
    out.push(rgb);
  }
  return out;
}
